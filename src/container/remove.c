#include "container/remove.h"
#include "container/pid1.h"
#include "container/stop.h"
#include "network/usernet.h"
#include "error.h"
#include "log.h"
#include "storage/lock.h"
#include "util/fd.h"
#include "util/path.h"
#include "volume/volume.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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

/* A live record whose container.json is damaged names no PID 1: kill the process that
   holds its lock (its rrun or monitor, found in /proc/locks); the namespace holder and
   the container die with it (their parent-death signal), and the lock is let go. */
static gboolean
kill_lock_holder (const RrunConfig *config, const RrunState *s, GError **error)
{
  g_autofree char *dir = rrun_record_dir (config, s->id);
  g_autofree char *path = g_build_filename (dir, "lock", NULL);
  g_autofree char *locks = NULL;
  g_auto(GStrv) lines = NULL;
  struct stat st;

  if (stat (path, &st) < 0)
    return TRUE; /* no lock, nobody to wait for */
  if (!g_file_get_contents ("/proc/locks", &locks, NULL, error))
    return FALSE;
  lines = g_strsplit (locks, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      unsigned int maj, min;
      unsigned long long ino;
      int pid;

      if (sscanf (lines[i], "%*s FLOCK %*s %*s %d %x:%x:%llu", &pid, &maj, &min, &ino) == 4
          && pid > 0 && ino == (unsigned long long) st.st_ino
          && makedev (maj, min) == st.st_dev && pid != getpid ())
        {
          if (kill (pid, SIGKILL) < 0 && errno != ESRCH)
            return rrun_throw_errno (error, errno, "cannot stop the rrun process %d of "
                                     "container %.12s", pid, s->id);
        }
    }
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
                       gboolean volumes, GError **error)
{
  rrun_autofd int lock_fd = -1;
  g_autofree char *run_dir = g_build_filename (config->run_root, "containers", s->id, NULL);
  g_autofree char *record_dir = rrun_record_dir (config, s->id);
  g_auto(GStrv) names = NULL;

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
      if (s->damaged != NULL)
        {
          if (!kill_lock_holder (config, s, error))
            return FALSE;
        }
      /* Its monitor must not restart it (--restart), nor wait out a back-off. */
      else if (!rrun_container_mark_stopped (config, s->id, error))
        return FALSE;
      /* Gone already is fine: its rrun or monitor is finishing. */
      else if (!rrun_container_signal (s, SIGKILL, &local)
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
  /* Addresses on user-defined networks a killed rrun or monitor left (names stop
     resolving now, not at the next allocation). */
  rrun_usernet_leave (config, s->id, NULL);
  /* The volumes it lists, read before its record (mounts.json) goes; removed after, when
     no other record lists them. */
  if (volumes)
    names = rrun_volume_names_of_record (record_dir);
  if (!rrun_store_remove_container_dirs (store, storage_map, s->id, error))
    {
      g_prefix_error (error, "cannot remove container \"%s\": ", shown_name (s));
      return FALSE;
    }
  rrun_volume_remove_unused_anonymous (config, storage_map, names);
  rrun_container_name_release (config, s->name, s->id);
  return TRUE;
}
