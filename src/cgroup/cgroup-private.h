/* Inside the cgroup module: the backend ops table and the pure helpers the unit tests
   call directly. Not for use outside src/cgroup/ and tests/unit/test-cgroup.c. */
#pragma once

#include "cgroup/cgroup.h"
#include "cgroup/dbus.h"

G_BEGIN_DECLS

/* Controllers a set of limits needs, as bits. */
enum
{
  RRUN_CGROUP_CPU = 1 << 0,
  RRUN_CGROUP_CPUSET = 1 << 1,
  RRUN_CGROUP_IO = 1 << 2,
  RRUN_CGROUP_MEMORY = 1 << 3,
  RRUN_CGROUP_PIDS = 1 << 4,
};
#define RRUN_CGROUP_ALL_CONTROLLERS 0x1f

typedef struct
{
  const char *name;
  /* After clone: put pid into the cgroup. */
  gboolean (*enter) (RrunCgroup *cg, pid_t pid, GError **error);
  /* Kill what is left and give the cgroup back; never fails loudly. */
  void (*destroy) (RrunCgroup *cg);
} RrunCgroupOps;

struct _RrunCgroup
{
  const RrunCgroupOps *ops;
  char *id;
  char *mount;      /* the cgroup2 mount point ("/sys/fs/cgroup") */
  char *path;       /* the container's cgroup directory, absolute */
  int lock_fd;      /* delegated: the leaf, flock'ed so that gc leaves it alone */
  guint needed;     /* RRUN_CGROUP_* the limits need */
  RrunCgroupLimits *limits; /* systemd: a copy, written into the leaf after enter */
  RrunDbus *bus;            /* systemd */
  GPtrArray *v1_paths;      /* cgroup v1 in a Slurm step: the child of each hierarchy */
  char *slice;              /* systemd: --cgroup-parent NAME.slice, the scope's Slice= */
};

extern const RrunCgroupOps rrun_cgroup_none_ops;
extern const RrunCgroupOps rrun_cgroup_fs_ops;
extern const RrunCgroupOps rrun_cgroup_systemd_ops;
extern const RrunCgroupOps rrun_cgroup_v1_ops;

/* cgroup v1 in a Slurm step: the step's directory of controller's hierarchy (root is
   where the hierarchies are mounted, /sys/fs/cgroup, named as in /proc/self/cgroup),
   from /proc/self/cgroup text; NULL outside a step. */
char *rrun_cgroup_v1_step_dir (const char *proc_text, const char *root,
                               const char *controller);
/* Where the step's directories of every hierarchy limits need (memory, cpu, pids) are
   the user's: a child rrun-ID of each with the limits in it, cg's ops then put the
   container there (TRUE). FALSE without an error when they are not the user's, with
   one when the children cannot be made. */
gboolean rrun_cgroup_v1_slurm_prepare (RrunCgroup *cg, const char *proc_text,
                                       const char *root, const RrunCgroupLimits *limits,
                                       GError **error);

/* Controller bit from its name and back; 0 / NULL if not one of ours. */
guint rrun_cgroup_controller_bit (const char *name);
const char *rrun_cgroup_controller_name (guint bit);
/* Bits from a space-separated list ("cpuset cpu io memory pids"). */
guint rrun_cgroup_controllers_from_text (const char *text);
/* The controllers limits need, and the flag that asked for one of them. */
guint rrun_cgroup_limits_controllers (const RrunCgroupLimits *limits);
const char *rrun_cgroup_limits_flag_for (const RrunCgroupLimits *limits, guint bit);

/* The "0::/path" line of /proc/<pid>/cgroup text; FALSE without one (pure v1). */
gboolean rrun_cgroup_parse_proc_cgroup (const char *text, char **out_path);

/* From /proc/self/mountinfo text: the cgroup2 mount point and the root of the mount
   inside the hierarchy; *out_v1 is TRUE when cgroup v1 controllers are mounted too. */
gboolean rrun_cgroup_parse_mountinfo (const char *text, char **out_mount, char **out_root,
                                      gboolean *out_v1);

/* The directory of a cgroup path ("/a/b" from /proc/self/cgroup) under mount, whose
   root in the hierarchy is mount_root. NULL when the path is not below it. */
char *rrun_cgroup_dir_for (const char *mount, const char *mount_root, const char *path);

/* A "key value" line from memory.events, cpu.stat and the like. */
gboolean rrun_cgroup_parse_keyed (const char *text, const char *key, guint64 *out);

/* The a(sv) properties for StartTransientUnit, floating: an envelope with Delegate=yes
   (the limits go into the leaf below the scope). */
GVariant *rrun_cgroup_systemd_properties (const char *id, pid_t pid, const char *slice);
/* The whole (ssa(sv)a(sa(sv))) parameter tuple for StartTransientUnit, floating. slice:
   --cgroup-parent's NAME.slice, or NULL (the manager's default, app.slice). */
GVariant *rrun_cgroup_systemd_start_parameters (const char *id, pid_t pid, const char *slice);

/* Delegated directory backend, with its inputs explicit so tests can use a temp tree.
   own: the caller's cgroup directory; is_root: own is the top of the mount (no
   internal-process rule there); subpath: --cgroup-parent, relative to the directory new
   leaves go into (made if missing), or NULL. */
gboolean rrun_cgroup_fs_prepare (RrunCgroup *cg, const char *own, gboolean is_root,
                                 const char *subpath, const RrunCgroupLimits *limits,
                                 GError **error);
/* Enable in base's cgroup.subtree_control the controllers needed (an error naming the flag
   when base does not have one) and the others base offers; unless is_root, the
   processes of base move into its rrun-host leaf first (no internal processes). */
gboolean rrun_cgroup_fs_enable_controllers (int basefd, const char *base, gboolean is_root,
                                            const RrunCgroupLimits *limits, guint needed,
                                            GError **error);
/* Write limits into an open cgroup directory. */
gboolean rrun_cgroup_fs_write_limits (int dirfd, const char *path,
                                      const RrunCgroupLimits *limits, GError **error);
/* The directory new leaves go into: own, or its parent when own is our rrun-host. */
char *rrun_cgroup_fs_base (const char *own);
/* Remove stale leaves below base. */
gboolean rrun_cgroup_fs_gc (const char *base, GError **error);

/* The systemd backend, when the session bus has org.freedesktop.systemd1. */
gboolean rrun_cgroup_systemd_connect (RrunDbus **out_bus, char **out_why);
/* Start the scope on bus and wait for its job (timeout_ms), exposed for a fake manager. */
gboolean rrun_cgroup_systemd_start (RrunDbus *bus, const char *id, pid_t pid,
                                    const char *slice, guint timeout_ms, GError **error);

/* Write one value to a cgroup file below dirfd; the error names path/name. */
gboolean rrun_cgroup_write_at (int dirfd, const char *path, const char *name,
                               const char *value, GError **error);

/* --cgroup-parent's syntax (limits.c); names: refuse rrun-* and the kernel's file names. */
gboolean rrun_cgroup_parent_check (const char *value, gboolean names, GError **error);

#define RRUN_CGROUP_HOST_LEAF "rrun-host"

G_END_DECLS
