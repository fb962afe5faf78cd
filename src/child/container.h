/* The container's setup processes. The first child (clone with CLONE_NEWUSER) holds the
   namespaces: it becomes root of the user namespace once the host wrote the id maps,
   unshares the others, mounts the layered root file system, forks the container's PID 1
   and waits for it. Async-signal-safe only. */
#pragma once

#include "child/plan.h"

__attribute__ ((noreturn)) void rrun_container_child_main (const RrunChildPlan *plan);
