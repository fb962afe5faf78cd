/* rrun exec's joining process (container/exec.c): async-signal-safe only. */
#pragma once

#include "child/plan.h"

/* In a fork of single-threaded rrun: not dumpable, into the container's cgroup
   (cgroup_procs, may be NULL), setns(pidfd, ns_flags), rrun's fds closed, then a child
   in the container's PID namespace runs the plan (rrun_process_exec_child); exits with
   its status. */
__attribute__ ((noreturn)) void rrun_exec_join_child (int pidfd, int ns_flags,
                                                      const char *cgroup_procs,
                                                      RrunChildPlan *plan);
