/* The delegated-directory backend: the caller's own cgroup v2 directory is writable
   (Slurm job, another container, an administrator's delegation), so rrun makes
   rrun-<id> beside itself and writes the limits there. */
#define G_LOG_DOMAIN "rrun-cgroup"

#include "cgroup/cgroup-private.h"
#include "error.h"
#include "util/fd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Moving processes races with forks in the cgroup: a few passes, then give up. */
#define MOVE_PASSES 8
/* rmdir of a cgroup fails with EBUSY until its killed tasks are gone: 200 x 5 ms. */
#define RMDIR_TRIES 200
#define RMDIR_WAIT_US 5000

char *
rrun_cgroup_fs_base (const char *own)
{
  g_autofree char *name = g_path_get_basename (own);

  /* A previous rrun moved the processes of own into our shared leaf: new leaves go
     beside it, or every run would nest one level deeper. */
  if (strcmp (name, RRUN_CGROUP_HOST_LEAF) == 0)
    return g_path_get_dirname (own);
  return g_strdup (own);
}

static gboolean
read_at (int dirfd, const char *name, char **out, GError **error)
{
  return rrun_fd_read_file_at (dirfd, name, out, NULL, error);
}

/* Move every process of base into base/rrun-host, so base may enable controllers for
   its children (the "no internal processes" rule of cgroup v2). */
static gboolean
move_to_host_leaf (int basefd, const char *base, GError **error)
{
  g_autofree char *host = g_build_filename (base, RRUN_CGROUP_HOST_LEAF, NULL);
  rrun_autofd int hostfd = -1;

  if (mkdirat (basefd, RRUN_CGROUP_HOST_LEAF, 0755) < 0 && errno != EEXIST)
    return rrun_throw_errno (error, errno, "cannot create cgroup \"%s\"", host);
  hostfd = openat (basefd, RRUN_CGROUP_HOST_LEAF, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (hostfd < 0)
    return rrun_throw_errno (error, errno, "cannot open cgroup \"%s\"", host);
  for (int pass = 0; pass < MOVE_PASSES; pass++)
    {
      g_autofree char *procs = NULL;
      g_auto(GStrv) pids = NULL;
      gboolean moved = FALSE;

      if (!read_at (basefd, "cgroup.procs", &procs, error))
        return FALSE;
      pids = g_strsplit (procs, "\n", -1);
      for (char **p = pids; *p; p++)
        {
          rrun_autofd int fd = -1;

          if (**p == '\0')
            continue;
          fd = openat (hostfd, "cgroup.procs", O_WRONLY | O_APPEND | O_CLOEXEC);
          /* ESRCH: the process exited meanwhile. */
          if (fd < 0 || (TEMP_FAILURE_RETRY (write (fd, *p, strlen (*p))) < 0 && errno != ESRCH))
            return rrun_throw_errno (error, errno, "cannot move process %s into cgroup \"%s\"",
                                     *p, host);
          moved = TRUE;
        }
      if (!moved)
        return TRUE;
    }
  return rrun_throw (error, RRUN_ERROR_BUSY,
                     "cannot move the processes of cgroup \"%s\" into \"%s\": they keep "
                     "forking", base, host);
}

/* Enable the controllers the limits need (and, while at it, the others the parent
   offers, for stats and nested tools) in base's cgroup.subtree_control. */
gboolean
rrun_cgroup_fs_enable_controllers (int basefd, const char *base, gboolean is_root,
                                   const RrunCgroupLimits *limits, guint needed,
                                   GError **error)
{
  g_autofree char *available_text = NULL;
  g_autofree char *enabled_text = NULL;
  guint available, enabled, missing;

  if (!read_at (basefd, "cgroup.controllers", &available_text, error))
    return FALSE;
  available = rrun_cgroup_controllers_from_text (available_text);
  if ((missing = needed & ~available) != 0)
    {
      guint bit = missing & -missing;

      rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                  "cannot apply %s: the %s controller is not delegated to cgroup \"%s\"",
                  rrun_cgroup_limits_flag_for (limits, bit), rrun_cgroup_controller_name (bit),
                  base);
      rrun_add_hint (error, "an administrator can delegate it: Delegate=cpu cpuset io memory "
                            "pids for user@.service, or enable it in the parent's "
                            "cgroup.subtree_control");
      if (limits->updating)
        rrun_add_hint (error, "or update without %s", rrun_cgroup_limits_flag_for (limits, bit));
      else
        rrun_add_hint (error, "or run without %s, or with --cgroups=disabled",
                       rrun_cgroup_limits_flag_for (limits, bit));
      return FALSE;
    }
  if (!read_at (basefd, "cgroup.subtree_control", &enabled_text, error))
    return FALSE;
  enabled = rrun_cgroup_controllers_from_text (enabled_text);
  if ((needed & ~enabled) == 0)
    return TRUE;
  if (!is_root && !move_to_host_leaf (basefd, base, error))
    return FALSE;
  for (guint bit = 1; bit <= RRUN_CGROUP_ALL_CONTROLLERS; bit <<= 1)
    {
      g_autofree char *word = NULL;
      g_autoptr(GError) local = NULL;

      if (!(available & bit) || (enabled & bit))
        continue;
      word = g_strconcat ("+", rrun_cgroup_controller_name (bit), NULL);
      if (rrun_cgroup_write_at (basefd, base, "cgroup.subtree_control", word, &local))
        continue;
      if (!(needed & bit))
        {
          g_debug ("not enabling the optional %s controller: %s",
                   rrun_cgroup_controller_name (bit), local->message);
          continue;
        }
      g_propagate_prefixed_error (error, g_steal_pointer (&local),
                                  "cannot enable the %s controller for %s: ",
                                  rrun_cgroup_controller_name (bit),
                                  rrun_cgroup_limits_flag_for (limits, bit));
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_limit (int dirfd, const char *path, const char *name, const char *value,
             guint bit, GError **error)
{
  g_autoptr(GError) local = NULL;

  if (rrun_cgroup_write_at (dirfd, path, name, value, &local))
    return TRUE;
  if (g_error_matches (local, RRUN_ERRNO_ERROR, ENOENT))
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                  "cannot set %s in cgroup \"%s\": the %s controller is not enabled there",
                  name, path, rrun_cgroup_controller_name (bit));
      return FALSE;
    }
  g_propagate_prefixed_error (error, g_steal_pointer (&local), "cannot set %s: ", name);
  return FALSE;
}

static char *
max_or (guint64 v)
{
  return v == G_MAXUINT64 ? g_strdup ("max") : g_strdup_printf ("%" G_GUINT64_FORMAT, v);
}

/* ---- the cgroup files, each described once ------------------------------------------
   One row per file: its controller and the value(s) limits give it (NULL: leave it
   alone). Several values are several writes (io.max takes one device per write). */

static char **
one (char *value)
{
  char **v = g_new0 (char *, 2);

  v[0] = value;
  return v;
}

static char **
cpuset_cpus_value (const RrunCgroupLimits *l, int dirfd)
{
  return l->cpuset_cpus ? one (g_strdup (l->cpuset_cpus)) : NULL;
}

static char **
cpuset_mems_value (const RrunCgroupLimits *l, int dirfd)
{
  return l->cpuset_mems ? one (g_strdup (l->cpuset_mems)) : NULL;
}

static char **
memory_low_value (const RrunCgroupLimits *l, int dirfd)
{
  return l->memory_reservation ? one (max_or (l->memory_reservation)) : NULL;
}

static char **
memory_max_value (const RrunCgroupLimits *l, int dirfd)
{
  return l->memory ? one (max_or (l->memory)) : NULL;
}

static char **
memory_swap_value (const RrunCgroupLimits *l, int dirfd)
{
  guint64 swap;

  if (!rrun_cgroup_limits_swap_max (l, &swap))
    return NULL;
  /* Without swap accounting (swapaccount=0, no swap) memory.swap.max is absent:
     docker's implied swap is then moot, an explicit --memory-swap is an error. */
  if (l->memory_swap == 0 && faccessat (dirfd, "memory.swap.max", F_OK, 0) < 0)
    {
      g_debug ("no memory.swap.max: leaving swap alone");
      return NULL;
    }
  return one (max_or (swap));
}

static char **
cpu_max_value (const RrunCgroupLimits *l, int dirfd)
{
  if (l->cpu_quota_us == 0)
    return NULL;
  /* --cpu-period alone: no quota ("max"), the period as given */
  {
    g_autofree char *quota = max_or (l->cpu_quota_us);
    return one (g_strdup_printf ("%s %" G_GUINT64_FORMAT, quota, l->cpu_period_us));
  }
}

static char **
cpu_weight_value (const RrunCgroupLimits *l, int dirfd)
{
  return l->cpu_weight ? one (g_strdup_printf ("%" G_GUINT64_FORMAT, l->cpu_weight)) : NULL;
}

static char **
pids_max_value (const RrunCgroupLimits *l, int dirfd)
{
  return l->pids_limit ? one (max_or (l->pids_limit)) : NULL;
}

static char **
io_weight_value (const RrunCgroupLimits *l, int dirfd)
{
  GPtrArray *lines = g_ptr_array_new ();

  if (l->io_weight)
    g_ptr_array_add (lines, g_strdup_printf ("default %" G_GUINT64_FORMAT, l->io_weight));
  /* --blkio-weight-device: one "MAJ:MIN WEIGHT" line per device */
  for (guint i = 0; i < l->devices->len; i++)
    {
      const RrunCgroupDeviceLimit *d = &g_array_index (l->devices, RrunCgroupDeviceLimit, i);

      if (d->weight)
        g_ptr_array_add (lines, g_strdup_printf ("%u:%u %" G_GUINT64_FORMAT, d->major,
                                                 d->minor, d->weight));
    }
  if (lines->len == 0)
    {
      g_ptr_array_free (lines, TRUE);
      return NULL;
    }
  g_ptr_array_add (lines, NULL);
  return (char **) g_ptr_array_free (lines, FALSE);
}

static char **
io_max_value (const RrunCgroupLimits *l, int dirfd)
{
  GPtrArray *lines;

  if (l->devices->len == 0)
    return NULL;
  lines = g_ptr_array_new ();
  for (guint i = 0; i < l->devices->len; i++)
    {
      const RrunCgroupDeviceLimit *d = &g_array_index (l->devices, RrunCgroupDeviceLimit, i);
      GString *v;

      if (!(d->read_bps || d->write_bps || d->read_iops || d->write_iops))
        continue; /* a weight only */
      v = g_string_new (NULL);
      g_string_printf (v, "%u:%u", d->major, d->minor);
      if (d->read_bps)
        g_string_append_printf (v, " rbps=%" G_GUINT64_FORMAT, d->read_bps);
      if (d->write_bps)
        g_string_append_printf (v, " wbps=%" G_GUINT64_FORMAT, d->write_bps);
      if (d->read_iops)
        g_string_append_printf (v, " riops=%" G_GUINT64_FORMAT, d->read_iops);
      if (d->write_iops)
        g_string_append_printf (v, " wiops=%" G_GUINT64_FORMAT, d->write_iops);
      g_ptr_array_add (lines, g_string_free (v, FALSE));
    }
  g_ptr_array_add (lines, NULL);
  return (char **) g_ptr_array_free (lines, FALSE);
}

static const struct
{
  const char *file;
  guint controller;
  char **(*values) (const RrunCgroupLimits *l, int dirfd);
} limit_files[] = {
  /* cpuset first: the kernel checks cpus against the parent's effective set. */
  { "cpuset.cpus", RRUN_CGROUP_CPUSET, cpuset_cpus_value },
  { "cpuset.mems", RRUN_CGROUP_CPUSET, cpuset_mems_value },
  { "memory.low", RRUN_CGROUP_MEMORY, memory_low_value },
  { "memory.max", RRUN_CGROUP_MEMORY, memory_max_value },
  { "memory.swap.max", RRUN_CGROUP_MEMORY, memory_swap_value },
  { "cpu.max", RRUN_CGROUP_CPU, cpu_max_value },
  { "cpu.weight", RRUN_CGROUP_CPU, cpu_weight_value },
  { "pids.max", RRUN_CGROUP_PIDS, pids_max_value },
  { "io.weight", RRUN_CGROUP_IO, io_weight_value },
  { "io.max", RRUN_CGROUP_IO, io_max_value },
};

gboolean
rrun_cgroup_fs_write_limits (int dirfd, const char *path, const RrunCgroupLimits *l,
                             GError **error)
{
  if (l == NULL)
    return TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS (limit_files); i++)
    {
      g_auto(GStrv) values = limit_files[i].values (l, dirfd);

      for (char **v = values; v && *v; v++)
        if (!write_limit (dirfd, path, limit_files[i].file, *v, limit_files[i].controller,
                          error))
          return FALSE;
    }
  /* --cgroup-conf: last, so that it can refine what the flags above set */
  for (char **c = l->conf; c && *c; c++)
    {
      const char *eq = strchr (*c, '=');
      g_autofree char *key = g_strndup (*c, (gsize) (eq - *c));
      g_autofree char *controller = g_strndup (key, strcspn (key, "."));

      if (!write_limit (dirfd, path, key, eq + 1, rrun_cgroup_controller_bit (controller),
                        error))
        return FALSE;
    }
  return TRUE;
}

/* Remove a cgroup and the ones the container made below it, deepest first. */
static gboolean
remove_tree_at (int parentfd, const char *name, const char *path, GError **error)
{
  rrun_autofd int fd = openat (parentfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir;
  struct dirent *de;

  if (fd < 0)
    return errno == ENOENT ? TRUE : rrun_throw_errno (error, errno, "open \"%s\"", path);
  dir = fdopendir (dup (fd));
  if (dir == NULL)
    return rrun_throw_errno (error, errno, "open \"%s\"", path);
  while ((de = readdir (dir)) != NULL)
    {
      g_autofree char *sub = NULL;

      if (de->d_type != DT_DIR || strcmp (de->d_name, ".") == 0
          || strcmp (de->d_name, "..") == 0)
        continue;
      sub = g_build_filename (path, de->d_name, NULL);
      if (!remove_tree_at (fd, de->d_name, sub, error))
        {
          closedir (dir);
          return FALSE;
        }
    }
  closedir (dir);
  for (int i = 0; i < RMDIR_TRIES; i++)
    {
      if (unlinkat (parentfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
        return TRUE;
      if (errno != EBUSY)
        break;
      g_usleep (RMDIR_WAIT_US);
    }
  return rrun_throw_errno (error, errno, "cannot remove cgroup \"%s\"", path);
}

/* SIGKILL everything in the subtree: cgroup.kill (5.14) when there is one, else each
   pid of cgroup.procs, depth first. */
static void
kill_tree (int dirfd, const char *path)
{
  g_autofree char *procs = NULL;
  DIR *dir;
  struct dirent *de;

  if (rrun_cgroup_write_at (dirfd, path, "cgroup.kill", "1", NULL))
    return;
  if (read_at (dirfd, "cgroup.procs", &procs, NULL))
    {
      g_auto(GStrv) pids = g_strsplit (procs, "\n", -1);
      for (char **p = pids; *p; p++)
        {
          gint64 pid;
          if (g_ascii_string_to_signed (*p, 10, 1, G_MAXINT32, &pid, NULL))
            kill ((pid_t) pid, SIGKILL);
        }
    }
  dir = fdopendir (dup (dirfd));
  if (dir == NULL)
    return;
  while ((de = readdir (dir)) != NULL)
    {
      rrun_autofd int sub = -1;
      g_autofree char *subpath = NULL;

      if (de->d_type != DT_DIR || de->d_name[0] == '.')
        continue;
      sub = openat (dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      subpath = g_build_filename (path, de->d_name, NULL);
      if (sub >= 0)
        kill_tree (sub, subpath);
    }
  closedir (dir);
}

static gboolean
fs_enter (RrunCgroup *cg, pid_t pid, GError **error)
{
  char buf[32];

  g_snprintf (buf, sizeof buf, "%d", (int) pid);
  if (!rrun_cgroup_write_at (cg->lock_fd, cg->path, "cgroup.procs", buf, error))
    {
      g_prefix_error (error, "cannot move the container into its cgroup: ");
      return FALSE;
    }
  return TRUE;
}

static void
fs_destroy (RrunCgroup *cg)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *parent = NULL;
  g_autofree char *name = NULL;
  rrun_autofd int parentfd = -1;

  if (cg->path == NULL || cg->lock_fd < 0)
    return;
  kill_tree (cg->lock_fd, cg->path);
  parent = g_path_get_dirname (cg->path);
  name = g_path_get_basename (cg->path);
  parentfd = open (parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (parentfd < 0 || !remove_tree_at (parentfd, name, cg->path, &local))
    g_debug ("leaving cgroup \"%s\" for the next rrun to remove: %s", cg->path,
             local ? local->message : g_strerror (errno));
}

const RrunCgroupOps rrun_cgroup_fs_ops = { "delegated", fs_enter, fs_destroy };

/* Create and lock base/rrun-<id>. gc skips leaves it cannot lock, and after the lock we
   check that the directory we locked is still the one named there (gc may have removed
   an empty leaf between our mkdir and our flock). */
static gboolean
create_leaf (int basefd, const char *base, const char *name, char **out_path, int *out_fd,
             GError **error)
{
  g_autofree char *path = g_build_filename (base, name, NULL);

  for (int attempt = 0; attempt < 3; attempt++)
    {
      rrun_autofd int fd = -1;
      struct stat a, b;

      if (mkdirat (basefd, name, 0755) < 0)
        {
          if (errno == EEXIST && attempt == 0)
            return rrun_throw (error, RRUN_ERROR_BUSY,
                               "cannot create cgroup \"%s\": it exists already", path);
          if (errno != EEXIST)
            {
              rrun_throw_errno (error, errno, "cannot create cgroup \"%s\"", path);
              if (errno == EAGAIN || errno == ENOSPC)
                rrun_add_hint (error, "cgroup.max.descendants or cgroup.max.depth of a "
                                      "parent cgroup is reached");
              return FALSE;
            }
        }
      fd = openat (basefd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        continue;
      if (flock (fd, LOCK_EX | LOCK_NB) < 0)
        return rrun_throw_errno (error, errno, "cannot lock cgroup \"%s\"", path);
      if (fstat (fd, &a) == 0 && fstatat (basefd, name, &b, AT_SYMLINK_NOFOLLOW) == 0
          && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
        {
          *out_fd = rrun_steal_fd (&fd);
          *out_path = g_steal_pointer (&path);
          return TRUE;
        }
    }
  return rrun_throw (error, RRUN_ERROR_BUSY,
                     "cannot create cgroup \"%s\": it keeps being removed", path);
}

gboolean
rrun_cgroup_fs_prepare (RrunCgroup *cg, const char *own, gboolean is_root,
                        const char *subpath, const RrunCgroupLimits *limits, GError **error)
{
  g_autofree char *base = rrun_cgroup_fs_base (own);
  g_autofree char *name = g_strconcat ("rrun-", cg->id, NULL);
  g_autofree char *path = NULL;
  rrun_autofd int basefd = open (base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  rrun_autofd int fd = -1;

  if (basefd < 0)
    return rrun_throw_errno (error, errno, "cannot open cgroup \"%s\"", base);
  if (strcmp (base, own) != 0)
    is_root = FALSE;
  if (cg->needed != 0
      && !rrun_cgroup_fs_enable_controllers (basefd, base, is_root, limits, cg->needed, error))
    return FALSE;
  /* --cgroup-parent: each level below base, made if missing (the user's, as anything
     made in a delegated subtree), with the controllers passed down. A level rrun made
     holds no process; one that exists and holds some cannot have children with
     controllers (cgroup v2's "no internal processes"): enabling them then fails, said. */
  if (subpath != NULL && *subpath != '\0')
    {
      g_auto(GStrv) parts = g_strsplit (subpath, "/", -1);

      for (guint i = 0; parts[i] != NULL; i++)
        {
          g_autofree char *next = g_build_filename (base, parts[i], NULL);
          int nextfd;

          if (mkdirat (basefd, parts[i], 0755) < 0 && errno != EEXIST)
            {
              rrun_throw_errno (error, errno, "cannot use --cgroup-parent \"%s\": cannot "
                                "create cgroup \"%s\"", subpath, next);
              return FALSE;
            }
          nextfd = openat (basefd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (nextfd < 0)
            return rrun_throw_errno (error, errno, "cannot open cgroup \"%s\"", next);
          close (basefd);
          basefd = nextfd;
          g_free (base);
          base = g_steal_pointer (&next);
          if (cg->needed != 0
              && !rrun_cgroup_fs_enable_controllers (basefd, base, TRUE, limits, cg->needed,
                                                     error))
            return FALSE;
        }
      /* Stale leaves of killed containers there: the gc of every start looks only in the
         delegated directory itself. */
      rrun_cgroup_fs_gc (base, NULL);
    }
  if (!create_leaf (basefd, base, name, &path, &fd, error))
    return FALSE;
  cg->path = g_steal_pointer (&path);
  cg->lock_fd = rrun_steal_fd (&fd);
  cg->ops = &rrun_cgroup_fs_ops;
  /* Limits go in before any process does, so nothing runs unlimited for a moment. */
  if (!rrun_cgroup_fs_write_limits (cg->lock_fd, cg->path, limits, error))
    {
      fs_destroy (cg);
      cg->ops = &rrun_cgroup_none_ops;
      g_clear_pointer (&cg->path, g_free);
      return FALSE;
    }
  return TRUE;
}

static gboolean
is_empty (int fd)
{
  g_autofree char *text = NULL;
  guint64 populated = 1;

  if (read_at (fd, "cgroup.events", &text, NULL)
      && rrun_cgroup_parse_keyed (text, "populated", &populated))
    return populated == 0;
  g_clear_pointer (&text, g_free);
  /* A real cgroup always has cgroup.procs; a test tree's empty directory is empty. */
  if (faccessat (fd, "cgroup.procs", F_OK, 0) < 0 && errno == ENOENT)
    return TRUE;
  return read_at (fd, "cgroup.procs", &text, NULL) && text[strspn (text, "\n")] == '\0';
}

gboolean
rrun_cgroup_fs_gc (const char *base, GError **error)
{
  rrun_autofd int basefd = open (base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *dir;
  struct dirent *de;
  gboolean ok = TRUE;

  if (basefd < 0)
    return TRUE;
  dir = fdopendir (dup (basefd));
  if (dir == NULL)
    return TRUE;
  while ((de = readdir (dir)) != NULL && ok)
    {
      rrun_autofd int fd = -1;
      g_autofree char *path = NULL;

      if (de->d_type != DT_DIR || !g_str_has_prefix (de->d_name, "rrun-")
          || strcmp (de->d_name, RRUN_CGROUP_HOST_LEAF) == 0)
        continue;
      fd = openat (basefd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      /* Held by a running rrun, or still holding processes: not stale. */
      if (fd < 0 || flock (fd, LOCK_EX | LOCK_NB) < 0 || !is_empty (fd))
        continue;
      path = g_build_filename (base, de->d_name, NULL);
      g_debug ("removing stale cgroup \"%s\"", path);
      ok = remove_tree_at (basefd, de->d_name, path, error);
    }
  closedir (dir);
  return ok;
}
