#include "rootfs/plan.h"
#include "error.h"

#include <fnmatch.h>
#include <string.h>
#include <sys/mount.h>

/* As docker masks them: kernel state a container should neither read nor change. */
const char *const rrun_masked_paths[] = {
  "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
  "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
  "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap", NULL,
};

const char *const rrun_readonly_paths[] = {
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

RrunMountPlan *
rrun_mount_plan_new (void)
{
  RrunMountPlan *plan = g_new0 (RrunMountPlan, 1);

  plan->ops = g_array_new (FALSE, TRUE, sizeof (RrunMountOp));
  plan->strings = g_string_chunk_new (1024);
  return plan;
}

void
rrun_mount_plan_free (RrunMountPlan *plan)
{
  if (plan == NULL)
    return;
  g_array_unref (plan->ops);
  g_string_chunk_free (plan->strings);
  g_free (plan);
}

static const char *
intern (RrunMountPlan *plan, const char *s)
{
  return s ? g_string_chunk_insert_const (plan->strings, s) : NULL;
}

void
rrun_mount_plan_add (RrunMountPlan *plan, RrunMountOpKind kind, const char *source,
                     const char *target, const char *fstype, unsigned long flags,
                     const char *data, int create, int optional)
{
  RrunMountOp op = {
    .kind = kind,
    .source = intern (plan, source),
    .target = intern (plan, target),
    .fstype = intern (plan, fstype),
    .flags = flags,
    .data = intern (plan, data),
    .create = create,
    .optional = optional,
  };

  g_array_append_val (plan->ops, op);
}

/* A mount over /proc would hide the container's procfs (and one into it can mask what
   the kernel protects there); runc refuses both but for the files lxcfs overlays, and so
   do we. parts: the path split at '/'. */
static gboolean
proc_target_allowed (char **parts)
{
  static const char *const lxcfs[] = { "cpuinfo", "diskstats", "meminfo", "stat", "swaps",
                                       "uptime", "loadavg", "slabinfo", "net/dev",
                                       "sys/kernel/ns_last_pid", NULL };
  g_autoptr(GString) rest = g_string_new (NULL);
  gboolean in_proc = FALSE, first = TRUE;

  for (guint i = 0; parts[i]; i++)
    {
      if (*parts[i] == '\0' || strcmp (parts[i], ".") == 0)
        continue;
      if (first)
        {
          if (strcmp (parts[i], "proc") != 0)
            return TRUE;
          in_proc = TRUE;
          first = FALSE;
          continue;
        }
      if (rest->len > 0)
        g_string_append_c (rest, '/');
      g_string_append (rest, parts[i]);
    }
  return !in_proc || g_strv_contains (lxcfs, rest->str);
}

void
rrun_mount_plan_set_bind_options (RrunMountPlan *plan, gboolean nonrecursive,
                                  unsigned long propagation)
{
  RrunMountOp *op;

  g_return_if_fail (plan->ops->len > 0);
  op = &g_array_index (plan->ops, RrunMountOp, plan->ops->len - 1);
  op->nonrecursive = nonrecursive;
  op->propagation = propagation;
}

gboolean
rrun_mount_plan_check_target (const char *path, GError **error)
{
  g_auto(GStrv) parts = NULL;

  if (path == NULL || path[0] != '/')
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid container path \"%s\": it must be absolute", path ? path : "");
  parts = g_strsplit (path, "/", -1);
  for (guint i = 0; parts[i]; i++)
    if (strcmp (parts[i], "..") == 0)
      return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                         "invalid container path \"%s\": \"..\" is not allowed", path);
  if (strspn (path, "/") == strlen (path))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid container path \"%s\": cannot mount over the root", path);
  if (!proc_target_allowed (parts))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "invalid container path \"%s\": cannot mount over or into /proc", path);
      rrun_add_hint (error, "/proc is the container's own; mount the host path elsewhere");
      return FALSE;
    }
  return TRUE;
}

void
rrun_mount_plan_add_defaults (RrunMountPlan *plan, const RrunMountPlanOptions *o)
{
  static const char *const devices[] = { "null", "zero", "full", "random", "urandom", "tty",
                                         NULL };
  const unsigned long nsd = MS_NOSUID | MS_NODEV | MS_NOEXEC;

  if (o->host_proc)
    rrun_mount_plan_add (plan, RRUN_MOUNT_OP_BIND, "/proc", "/proc", NULL, 0, NULL, 1, 0);
  else
    rrun_mount_plan_add (plan, RRUN_MOUNT_OP_MOUNT, "proc", "/proc", "proc", nsd, NULL, 1, 0);

  /* /dev: a small tmpfs with the harmless host devices bound in (mknod is not allowed
     in a user namespace), a private devpts instance, shm and mqueue. */
  rrun_mount_plan_add (plan, RRUN_MOUNT_OP_MOUNT, "tmpfs", "/dev", "tmpfs",
                       MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k", 1, 0);
  for (guint i = 0; devices[i]; i++)
    {
      g_autofree char *src = g_strconcat ("/dev/", devices[i], NULL);
      rrun_mount_plan_add (plan, RRUN_MOUNT_OP_BIND, src, src, NULL, 0, NULL, 2, 0);
    }
  rrun_mount_plan_add (plan, RRUN_MOUNT_OP_MOUNT, "devpts", "/dev/pts", "devpts",
                       MS_NOSUID | MS_NOEXEC,
                       o->gid5_mapped ? "newinstance,ptmxmode=0666,mode=0620,gid=5"
                                      : "newinstance,ptmxmode=0666,mode=0620",
                       1, 0);
  rrun_mount_plan_add (plan, RRUN_MOUNT_OP_SYMLINK, "pts/ptmx", "/dev/ptmx", NULL, 0, NULL, 0,
                       0);
  if (!o->no_shm)
    rrun_mount_plan_add (plan, RRUN_MOUNT_OP_MOUNT, "shm", "/dev/shm", "tmpfs", nsd,
                         o->shm_data ? o->shm_data : "mode=1777,size=65536k", 1, 0);
  rrun_mount_plan_add (plan, RRUN_MOUNT_OP_MOUNT, "mqueue", "/dev/mqueue", "mqueue", nsd,
                       NULL, 1, 1);
  rrun_mount_plan_add (plan, RRUN_MOUNT_OP_SYMLINK, "/proc/self/fd", "/dev/fd", NULL, 0, NULL,
                       0, 0);
  rrun_mount_plan_add (plan, RRUN_MOUNT_OP_SYMLINK, "/proc/self/fd/0", "/dev/stdin", NULL, 0,
                       NULL, 0, 0);
  rrun_mount_plan_add (plan, RRUN_MOUNT_OP_SYMLINK, "/proc/self/fd/1", "/dev/stdout", NULL, 0,
                       NULL, 0, 0);
  rrun_mount_plan_add (plan, RRUN_MOUNT_OP_SYMLINK, "/proc/self/fd/2", "/dev/stderr", NULL, 0,
                       NULL, 0, 0);
  rrun_mount_plan_add (plan, RRUN_MOUNT_OP_SYMLINK, "/proc/kcore", "/dev/core", NULL, 0, NULL,
                       0, 0);

  /* A fresh sysfs shows the container's own network devices, but only the owner of the
     network namespace may mount one; with the host's network, bind the host's. */
  if (o->new_netns)
    rrun_mount_plan_add (plan, RRUN_MOUNT_OP_MOUNT, "sysfs", "/sys", "sysfs", nsd | MS_RDONLY,
                         NULL, 1, 0);
  else
    rrun_mount_plan_add (plan, RRUN_MOUNT_OP_BIND, "/sys", "/sys", NULL, nsd | MS_RDONLY, NULL,
                         1, 0);
  if (o->host_cgroupns)
    rrun_mount_plan_add (plan, RRUN_MOUNT_OP_BIND, "/sys/fs/cgroup", "/sys/fs/cgroup", NULL,
                         nsd | MS_RDONLY, NULL, 0, 1);
  else if (o->new_cgroupns)
    rrun_mount_plan_add (plan, RRUN_MOUNT_OP_MOUNT, "cgroup2", "/sys/fs/cgroup", "cgroup2",
                         nsd | (o->cgroup_writable ? 0 : MS_RDONLY), NULL, 0, 1);

  if (o->etc_hostname)
    rrun_mount_plan_add (plan, RRUN_MOUNT_OP_BIND, o->etc_hostname, "/etc/hostname", NULL, 0,
                         NULL, 2, 0);
  if (o->etc_hosts)
    rrun_mount_plan_add (plan, RRUN_MOUNT_OP_BIND, o->etc_hosts, "/etc/hosts", NULL, 0, NULL,
                         2, 0);
  if (o->etc_resolv)
    rrun_mount_plan_add (plan, RRUN_MOUNT_OP_BIND, o->etc_resolv, "/etc/resolv.conf", NULL, 0,
                         NULL, 2, 0);
  /* Optional: a volume may hide /etc/apt. */
  if (o->etc_apt_conf)
    rrun_mount_plan_add (plan, RRUN_MOUNT_OP_BIND, o->etc_apt_conf, RRUN_APT_SINGLE_ID_CONF,
                         NULL, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 2, 1);
}

/* podman's --security-opt unmask=: "ALL", a path, or a glob (/sys/firmware/[a-z]*). */
static gboolean
unmasked (const char *path, const char *const *unmask)
{
  for (guint i = 0; unmask && unmask[i]; i++)
    if (strcmp (unmask[i], "ALL") == 0 || fnmatch (unmask[i], path, FNM_PATHNAME) == 0)
      return TRUE;
  return FALSE;
}

void
rrun_mount_plan_add_protections (RrunMountPlan *plan, gboolean privileged,
                                 const char *const *mask, const char *const *unmask)
{
  for (guint i = 0; !privileged && rrun_masked_paths[i]; i++)
    if (!unmasked (rrun_masked_paths[i], unmask))
      rrun_mount_plan_add (plan, RRUN_MOUNT_OP_MASK, NULL, rrun_masked_paths[i], NULL, 0, NULL,
                           0, 1);
  for (guint i = 0; !privileged && rrun_readonly_paths[i]; i++)
    if (!unmasked (rrun_readonly_paths[i], unmask))
      rrun_mount_plan_add (plan, RRUN_MOUNT_OP_REMOUNT, NULL, rrun_readonly_paths[i], NULL,
                           MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 0, 1);
  /* --security-opt mask=: asked for by name, so even with --privileged. */
  for (guint i = 0; mask && mask[i]; i++)
    rrun_mount_plan_add (plan, RRUN_MOUNT_OP_MASK, NULL, mask[i], NULL, 0, NULL, 0, 1);
}
