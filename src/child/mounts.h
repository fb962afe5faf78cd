/* Executes the mount plan in the container's own mount namespace, then pivot_root.
   Child side: async-signal-safe only. Fails through rrun_child_fail. */
#pragma once

#include "child/plan.h"

void rrun_rootfs_apply_child (const RrunChildPlan *plan);

/* mkdir -p of an absolute path inside the current root (after pivot_root). */
int rrun_rootfs_mkdir_p_child (const char *path, int mode);
