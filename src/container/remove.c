#include "container/remove.h"
#include "container/pid1.h"
#include "error.h"
#include "log.h"
#include "storage/lock.h"
#include "util/fd.h"
#include "util/path.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

static const char *
shown_name (const RrunState *s)
{
  return s->name && *s->name ? s->name : s->id;
}

gboolean
rrun_container_lock_record (const RrunConfig *config, const RrunState *s, int timeout_ms,
                            int *out_fd, GError **error)
{
  g_autofree char *dir = rrun_record_dir (config, s->id);
  g_autofree char *path = g_build_filename (dir, "lock", NULL);
  rrun_autofd int fd = open (path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  if (fd < 0 && errno == ENOENT)
    return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "no container \"%s\"", shown_name (s));
  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot open \"%s\"", path);
  while (flock (fd, LOCK_EX | LOCK_NB) < 0)
    {
      if (errno != EWOULDBLOCK && errno != EINTR)
        return rrun_throw_errno (error, errno, "cannot lock \"%s\"", path);
      if (g_get_monotonic_time () >= end)
        return rrun_throw (error, RRUN_ERROR_BUSY, "container \"%s\" is still running",
                           shown_name (s));
      g_usleep (10000);
    }
  *out_fd = rrun_steal_fd (&fd);
  return TRUE;
}

gboolean
rrun_container_signal (const RrunState *s, int signo, GError **error)
{
  rrun_autofd int pidfd = -1;

  return rrun_pid1_open (s, &pidfd, error) && rrun_pid1_signal (pidfd, signo, error);
}

gboolean
rrun_container_remove (const RrunConfig *config, RrunStore *store,
                       const RrunIdMap *storage_map, const RrunState *s, gboolean force,
                       GError **error)
{
  rrun_autofd int lock_fd = -1;
  g_autofree char *run_dir = g_build_filename (config->run_root, "containers", s->id, NULL);

  if (s->live)
    {
      g_autoptr(GError) local = NULL;

      if (!force)
        {
          rrun_throw (error, RRUN_ERROR_BUSY, "cannot remove container \"%s\": it is running",
                      shown_name (s));
          rrun_add_hint (error, "stop it first (rrun stop %s), or kill and remove it with: "
                                "rrun rm -f %s",
                         shown_name (s), shown_name (s));
          return FALSE;
        }
      /* Gone already is fine: its rrun or monitor is finishing. */
      if (!rrun_container_signal (s, SIGKILL, &local)
          && !g_error_matches (local, RRUN_ERROR, RRUN_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
    }
  /* The lock: nobody starts it meanwhile; a killed one's rrun or monitor lets go once
     it has cleaned up. */
  if (!rrun_container_lock_record (config, s, force ? 30000 : 0, &lock_fd, error))
    {
      if (error && g_error_matches (*error, RRUN_ERROR, RRUN_ERROR_BUSY) && !force)
        rrun_add_hint (error, "stop it first (rrun stop %s), or kill and remove it with: "
                              "rrun rm -f %s",
                       shown_name (s), shown_name (s));
      return FALSE;
    }
  rrun_path_rm_rf (run_dir, NULL);
  if (!rrun_store_remove_container_dirs (store, storage_map, s->id, error))
    {
      g_prefix_error (error, "cannot remove container \"%s\": ", shown_name (s));
      return FALSE;
    }
  rrun_container_name_release (config, s->name, s->id);
  return TRUE;
}
