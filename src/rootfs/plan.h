/* Builds the container's mount plan on the host side (may allocate); the child executes
   it with rrun_rootfs_apply_child. */
#pragma once

#include <glib.h>

#include "child/plan.h"

G_BEGIN_DECLS

typedef struct
{
  GArray *ops;           /* RrunMountOp; strings point into `strings` */
  GStringChunk *strings;
} RrunMountPlan;

RrunMountPlan *rrun_mount_plan_new (void);
void rrun_mount_plan_free (RrunMountPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunMountPlan, rrun_mount_plan_free)

void rrun_mount_plan_add (RrunMountPlan *plan, RrunMountOpKind kind, const char *source,
                          const char *target, const char *fstype, unsigned long flags,
                          const char *data, int create, int optional);

/* The last op added (a bind): bind without submounts, then set its propagation (0: keep). */
void rrun_mount_plan_set_bind_options (RrunMountPlan *plan, gboolean nonrecursive,
                                       unsigned long propagation);

typedef struct
{
  gboolean new_netns;       /* sysfs can be mounted fresh only in our own netns */
  gboolean new_cgroupns;    /* mount the cgroup2 subtree at /sys/fs/cgroup */
  gboolean cgroup_writable; /* a delegated subtree: nested tools may write it */
  gboolean gid5_mapped;     /* devpts gid=5 (tty) needs gid 5 mapped */
  gboolean privileged;      /* no masked or read-only paths */
  const char *etc_hostname; /* host files bound over the container's /etc files */
  const char *etc_hosts;
  const char *etc_resolv;
  const char *etc_apt_conf; /* single-ID mode: bound read-only at RRUN_APT_SINGLE_ID_CONF */
  const char *shm_data;     /* /dev/shm's tmpfs data (--shm-size); NULL: 64 MiB */
  gboolean no_shm;          /* --ipc none: no /dev/shm */
  gboolean host_proc;       /* --pid host: the host's /proc, bound (a new one is refused) */
  gboolean host_cgroupns;   /* --cgroupns host: the host's /sys/fs/cgroup, bound read-only */
} RrunMountPlanOptions;

/* Where single-ID mode's apt configuration is bound (docs/hpc.md). */
#define RRUN_APT_SINGLE_ID_CONF "/etc/apt/apt.conf.d/99rrun-single-id"

/* /proc, /dev, /sys, masked and read-only paths, generated /etc files. */
void rrun_mount_plan_add_defaults (RrunMountPlan *plan, const RrunMountPlanOptions *o);

/* Masked and read-only paths: added last, after volumes, so nothing re-exposes them. */
/* mask: more paths to hide (--security-opt mask=); unmask: paths (globs, or "ALL") of the
   default masked and read-only ones to leave as they are (unmask=), as podman. */
void rrun_mount_plan_add_protections (RrunMountPlan *plan, gboolean privileged,
                                      const char *const *mask, const char *const *unmask);

/* Paths docker masks and makes read-only (exposed for tests and docs). */
extern const char *const rrun_masked_paths[];
extern const char *const rrun_readonly_paths[];

/* A container path is acceptable as a mount target: absolute, no "..", not "/". */
gboolean rrun_mount_plan_check_target (const char *path, GError **error);

G_END_DECLS
