/* Resource limits through a cgroup v2 subtree (issue 5, docs/cgroups.md).

   A container gets its own cgroup from the first backend that works:
   1. systemd: a transient scope rrun-<id>.scope with Delegate=yes from the user manager
      on the session bus (StartTransientUnit over rrun's own D-Bus client, dbus.c);
   2. delegated directory: rrun-<id> below the caller's own cgroup v2 directory when the
      user may write it (Slurm job, another container, an administrator's delegation);
   3. none: no cgroup of its own; an error when limits were asked for.

   Use from the runtime:

     g_autoptr(RrunCgroupLimits) limits = rrun_cgroup_limits_new ();
     g_option_context_add_group (ctx, rrun_cgroup_limits_option_group (limits));
     ... parse argv ...
     if (!rrun_cgroup_limits_finish (limits, error)) return FALSE;       // exit 125
     if (!rrun_cgroup_prepare (mode, limits, id, &cg, error)) return FALSE;
     ... clone; the child waits for the go byte ...
     if (!rrun_cgroup_enter (cg, pid, error)) kill, reap, return FALSE;
     ... send go; the child unshares CLONE_NEWCGROUP, mounts cgroup2 ...
     ... wait for the child ...
     if (rrun_cgroup_oom_killed (cg, &limit)) -> RRUN_ERROR_OOM;          // before free
     rrun_cgroup_free (cg);                                             // kills, removes */
#pragma once

#include <glib.h>

#include "util/json-value.h"
#include <sys/types.h>

G_BEGIN_DECLS

/* One device's io.max line; a rate of 0 is not set. */
typedef struct
{
  char *path; /* as given ("/dev/sda"): systemd's IO*Max properties take paths */
  guint32 major;
  guint32 minor;
  guint64 read_bps;
  guint64 write_bps;
  guint64 read_iops;
  guint64 write_iops;
  guint64 weight;   /* --blkio-weight-device, converted to io.weight's 1..10000 */
} RrunCgroupDeviceLimit;

/* Parsed limits; 0 (or NULL, or an empty array) means "not set" in every field. */
typedef struct
{
  guint64 memory;             /* --memory: memory.max, bytes */
  guint64 memory_reservation; /* --memory-reservation: memory.low, bytes */
  gint64 memory_swap;         /* --memory-swap as docker: memory + swap, -1 unlimited */
  guint64 cpu_quota_us;       /* --cpus: cpu.max quota ... */
  guint64 cpu_period_us;      /* ... and period (100000) */
  guint64 cpu_weight;         /* cpu.weight 1..10000, from --cpu-weight or --cpu-shares */
  char *cpuset_cpus;          /* --cpuset-cpus: cpuset.cpus, validated list "0-3,5" */
  char *cpuset_mems;          /* --cpuset-mems: cpuset.mems */
  guint64 pids_limit;         /* --pids-limit: pids.max (-1 and 0 give "not set") */
  guint64 io_weight;          /* --blkio-weight 10..1000 converted to io.weight 1..10000 */
  GArray *devices;            /* of RrunCgroupDeviceLimit: io.max, io.weight */
  char **conf;                /* --cgroup-conf KEY=VALUE: written as given (validated) */
  gboolean oom_kill_disable;  /* --oom-kill-disable: cgroup v2 has no such knob (warned) */

  /* rrun update: only what was given changes (no implied swap), and --memory-swap may
     come without --memory, counted against the memory.max in place (swap_base). */
  gboolean updating;
  guint64 swap_base;

  /* Text as the option group stored it; rrun_cgroup_limits_finish parses it. */
  struct
  {
    char *memory, *memory_reservation, *memory_swap, *cpus, *cpu_shares, *cpu_weight;
    char *cpuset_cpus, *cpuset_mems, *pids_limit, *blkio_weight;
    char **device_read_bps, **device_write_bps, **device_read_iops, **device_write_iops;
    char *cpu_period, *cpu_quota, *cpu_rt_period, *cpu_rt_runtime, *memory_swappiness;
    char *cgroup_parent, *oom_kill_disable;
    char **blkio_weight_device, **cgroup_conf;
  } text;
  /* parsed, combined by rrun_cgroup_limits_finish */
  guint64 period_flag, quota_flag, rt_flag, swappiness_flag;
  gboolean warned;            /* the v1-only flags' warning is given once */
} RrunCgroupLimits;

RrunCgroupLimits *rrun_cgroup_limits_new (void);
void rrun_cgroup_limits_free (RrunCgroupLimits *limits);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunCgroupLimits, rrun_cgroup_limits_free)

/* The docker-compatible flags (--memory/-m, --memory-reservation, --memory-swap, --cpus,
   --cpu-shares/-c, --cpu-weight, --cpuset-cpus, --cpuset-mems, --pids-limit,
   --blkio-weight, --device-{read,write}-{bps,iops}) as a group for the run command's
   GOptionContext. The entries only store text into limits->text, so GOption's error
   rewording never touches our messages; call rrun_cgroup_limits_finish after parsing.
   The context takes ownership of the group; limits must outlive the parse. */
GOptionGroup *rrun_cgroup_limits_option_group (RrunCgroupLimits *limits);

/* Parse one flag ("--memory" or "memory") with its value into limits. Device flags add
   to earlier ones. RRUN_ERROR_INVALID_ARGUMENT naming the flag and the value. */
gboolean rrun_cgroup_limits_add_option (RrunCgroupLimits *limits, const char *flag,
                                        const char *value, GError **error);

/* Parse what the option group stored, then the checks that span flags (reservation
   against memory, swap against memory, shares with weight). */
gboolean rrun_cgroup_limits_finish (RrunCgroupLimits *limits, GError **error);

/* The JSON form stored in a container's spec: {"memory": "512m", "device-read-bps":
   ["/dev/sda:1mb"], ...}, the flags' text as given. Reading parses it as the command line
   does (the same messages) and finishes it. */
void rrun_cgroup_limits_to_json (const RrunCgroupLimits *limits, RrunJsonBuilder *b);
gboolean rrun_cgroup_limits_from_json (const RrunJson *object, RrunCgroupLimits **out_limits,
                                       GError **error);

/* TRUE when any limit is set (so a cgroup is required). */
gboolean rrun_cgroup_limits_any (const RrunCgroupLimits *limits);

/* docker's conversions, exposed for tests and for `rrun update`. */
guint64 rrun_cgroup_shares_to_weight (guint64 shares);    /* runc/crun: 2..262144 -> 1..10000 */
guint64 rrun_cgroup_blkio_to_io_weight (guint64 weight);  /* runc: 10..1000 -> 1..10000 */
/* memory.swap.max from docker's --memory-swap: G_MAXUINT64 for "max"; FALSE if not set */
gboolean rrun_cgroup_limits_swap_max (const RrunCgroupLimits *limits, guint64 *out_swap);

/* rrun update: write limits (parsed with limits->updating set before
   rrun_cgroup_limits_finish, so only what was given changes) into the container's cgroup
   directory as the container record (container.json) names it, enabling controllers the container was started
   without. The same messages as run for a controller that is not delegated. */
gboolean rrun_cgroup_update (const char *path, RrunCgroupLimits *limits, GError **error);

typedef struct _RrunCgroup RrunCgroup;

/* Before clone: pick a backend for mode ("enabled" or "disabled"; NULL is "enabled"),
   check the controllers the limits need, and (delegated directory) create and lock the
   leaf and write the limits into it. With "disabled", limits are ignored with a warning.
   With no backend and limits: RRUN_ERROR_UNSUPPORTED saying what is missing and how to
   get it. *out is never NULL on success (the "none" backend has a NULL path). */
gboolean rrun_cgroup_prepare (const char *mode, const RrunCgroupLimits *limits,
                              const char *container_id, RrunCgroup **out, GError **error);

/* TRUE inside a Slurm job's cgroup (SLURM_JOB_ID, and /proc/self/cgroup names job_ID):
   rrun_cgroup_prepare then never starts a systemd scope, uses a child of the step's
   cgroup only where it is delegated (v2), and otherwise runs without a cgroup of its own,
   warning when limits were asked for. *out_job (may be NULL) gets the job id. */
gboolean rrun_cgroup_in_slurm_job (char **out_job);

/* After clone, before the child unshares CLONE_NEWCGROUP and runs anything: move pid in
   (systemd: start the scope with PIDs=[pid] and wait for its job, bounded). */
gboolean rrun_cgroup_enter (RrunCgroup *cg, pid_t pid, GError **error);

/* The container's cgroup directory on the host (absolute path under the cgroup2 mount),
   NULL for the none backend or before enter for systemd. */
const char *rrun_cgroup_path (RrunCgroup *cg);

/* "systemd", "delegated" or "none": for `rrun info` and -v. */
const char *rrun_cgroup_backend_name (RrunCgroup *cg);

/* TRUE when memory.events counts an oom_kill; *out_limit (if not NULL) gets memory.max
   in bytes (0 when "max"). Call before rrun_cgroup_free. */
gboolean rrun_cgroup_oom_killed (RrunCgroup *cg, guint64 *out_limit);

/* Kill what is left (cgroup.kill, else SIGKILL to each pid in cgroup.procs), remove the
   leaf (delegated directory; systemd removes its scope itself), free. NULL is fine. */
void rrun_cgroup_free (RrunCgroup *cg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunCgroup, rrun_cgroup_free)

/* Remove stale rrun-<id> leaves next to where a new one would go: those that no rrun
   holds locked and that hold no process (rrun was SIGKILLed). Cheap; TRUE when there
   is nothing to do (no cgroup v2, not delegated). rrun_cgroup_prepare does it too. */
gboolean rrun_cgroup_gc (GError **error);

/* Stats from a cgroup directory; fields whose file is absent (controller not enabled)
   have their has_* FALSE. */
typedef struct
{
  gboolean has_cpu;
  guint64 cpu_usage_usec; /* cpu.stat usage_usec */
  gboolean has_memory;
  guint64 memory_current; /* memory.current */
  guint64 memory_max;     /* memory.max; G_MAXUINT64 for "max" */
  gboolean has_pids;
  guint64 pids_current;   /* pids.current */
  guint64 pids_max;       /* pids.max; G_MAXUINT64 for "max" */
  gboolean has_io;
  guint64 io_read_bytes;  /* io.stat rbytes, all devices */
  guint64 io_write_bytes; /* io.stat wbytes, all devices */
} RrunCgroupStats;

gboolean rrun_cgroup_read_stats (const char *path, RrunCgroupStats *out, GError **error);

G_END_DECLS
