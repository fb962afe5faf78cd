/* The container's process: terminal, user, capabilities, then execve; and rrun's init.
   Child side: async-signal-safe only. */
#pragma once

#include "child/plan.h"

/* Prepare the process and exec the command; never returns (reports and _exits). */
__attribute__ ((noreturn)) void rrun_process_exec_child (const RrunChildPlan *plan);

/* --init: fork the command, then exec rrun-init from plan->init_fd, which forwards
   signals to it and reaps every child until it exits, and exits with its status (128+N
   for signal N). */
__attribute__ ((noreturn)) void rrun_process_init_child (const RrunChildPlan *plan);
