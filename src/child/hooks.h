/* OCI hooks run in the container's namespaces (createContainer, startContainer). Child
   side: async-signal-safe only. */
#pragma once

#include "child/plan.h"

/* Run each hook in turn, waiting for it (bounded by its timeout); the first that cannot
   be executed, fails or times out is reported (rrun_child_fail). */
void rrun_child_run_hooks (const RrunChildPlan *plan, const RrunChildHook *hooks, size_t n);
