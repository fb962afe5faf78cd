/* rrun update: new limits for a running container, written where `rrun run` wrote its
   limits: the container's own leaf (rrun-<id> in a delegated directory, or the
   "container" leaf below a systemd scope), never systemd's own scope files. */
#define G_LOG_DOMAIN "rrun-cgroup"

#include "cgroup/cgroup-private.h"
#include "error.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* No process in the directory (or no such file, as in a test tree): enabling
   controllers there needs no move into rrun-host. */
static gboolean
holds_no_process (int dirfd)
{
  g_autofree char *procs = NULL;

  if (!rrun_fd_read_file_at (dirfd, "cgroup.procs", &procs, NULL, NULL))
    return TRUE;
  return procs[strspn (procs, "\n")] == '\0';
}

/* A container started without limits may lack the controllers now asked for: its
   parent enables them, as `run` would have. */
static gboolean
enable_missing (int fd, const char *path, const RrunCgroupLimits *l, guint needed,
                GError **error)
{
  g_autofree char *text = NULL;
  g_autofree char *parent = NULL;
  rrun_autofd int parentfd = -1;
  guint missing;

  if (needed == 0)
    return TRUE;
  if (!rrun_fd_read_file_at (fd, "cgroup.controllers", &text, NULL, NULL))
    text = g_strdup ("");
  missing = needed & ~rrun_cgroup_controllers_from_text (text);
  if (missing == 0)
    return TRUE;
  parent = g_path_get_dirname (path);
  parentfd = open (parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (parentfd < 0)
    return rrun_throw_errno (error, errno, "cannot open cgroup \"%s\"", parent);
  return rrun_cgroup_fs_enable_controllers (parentfd, parent, holds_no_process (parentfd), l,
                                            missing, error);
}

/* --memory-swap without --memory counts against the memory.max in place. */
static gboolean
swap_base (int fd, const char *path, RrunCgroupLimits *l, GError **error)
{
  g_autofree char *max = NULL;
  guint64 base;

  if (l->memory_swap <= 0 || l->memory != 0)
    return TRUE;
  if (!rrun_fd_read_file_at (fd, "memory.max", &max, NULL, NULL))
    return rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                       "cannot set --memory-swap: cgroup \"%s\" has no memory.max (the memory "
                       "controller is not enabled there)",
                       path);
  g_strstrip (max);
  if (strcmp (max, "max") == 0
      || !g_ascii_string_to_unsigned (max, 10, 1, G_MAXUINT64, &base, NULL))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "invalid value \"%s\" for --memory-swap: it needs --memory as well (the "
                  "container has no memory limit)",
                  l->text.memory_swap ? l->text.memory_swap : "?");
      rrun_add_hint (error, "give both: rrun update --memory SIZE --memory-swap SIZE");
      return FALSE;
    }
  if ((guint64) l->memory_swap < base)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid value \"%s\" for --memory-swap: it counts memory plus swap "
                       "and must not be below the memory limit (%" G_GUINT64_FORMAT " bytes)",
                       l->text.memory_swap ? l->text.memory_swap : "?", base);
  l->swap_base = base;
  return TRUE;
}

gboolean
rrun_cgroup_update (const char *path, RrunCgroupLimits *limits, GError **error)
{
  rrun_autofd int fd = -1;

  g_return_val_if_fail (limits->updating, FALSE);
  fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      int errsv = errno;

      if (errsv == ENOENT)
        return rrun_throw (error, RRUN_ERROR_NOT_FOUND,
                           "cannot open cgroup \"%s\": it is gone (the container ended)", path);
      return rrun_throw_errno (error, errsv, "cannot open cgroup \"%s\"", path);
    }
  if (!enable_missing (fd, path, limits, rrun_cgroup_limits_controllers (limits), error)
      || !swap_base (fd, path, limits, error))
    return FALSE;
  return rrun_cgroup_fs_write_limits (fd, path, limits, error);
}
