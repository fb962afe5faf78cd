#include "container/stop.h"
#include "container/monitor.h"
#include "container/pause.h"
#include "container/pid1.h"
#include "container/policy.h"
#include "container/remove.h"
#include "error.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <unistd.h>

static const char *
shown_name (const RrunState *s)
{
  return s->name && *s->name ? s->name : s->id;
}

/* Wait for whoever holds the record's lock (the container's rrun or monitor) to let go:
   it does once the exit is recorded. */
static gboolean
wait_unlocked (const RrunConfig *config, const RrunState *s, int timeout_ms, GError **error)
{
  rrun_autofd int fd = -1;

  if (!rrun_container_lock_record (config, s, timeout_ms, &fd, error))
    return FALSE;
  return TRUE; /* the fd's close lets go again */
}

gboolean
rrun_container_mark_stopped (const RrunConfig *config, const char *id, GError **error)
{
  g_autofree char *dir = rrun_record_dir (config, id);
  g_autofree char *path = g_build_filename (dir, RRUN_STOPPED_MARKER, NULL);
  int fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", path);
  close (fd);
  return TRUE;
}

gboolean
rrun_container_stop (const RrunConfig *config, const RrunState *s, int timeout,
                     GError **error)
{
  rrun_autofd int pidfd = -1;
  g_autoptr(GError) local = NULL;

  if (!s->live)
    return TRUE;
  /* Its monitor must not start it again (--restart), now or after a back-off it is in. */
  if (!rrun_container_mark_stopped (config, s->id, error))
    return FALSE;
  if (s->status != RRUN_STATUS_RUNNING)
    return wait_unlocked (config, s, 30000, error);
  if (timeout < 0)
    timeout = s->stop_timeout;
  if (!rrun_pid1_open (s, &pidfd, &local))
    {
      if (!g_error_matches (local, RRUN_ERROR, RRUN_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      /* PID 1 is gone: its rrun is recording the exit. */
      return wait_unlocked (config, s, 30000, error);
    }
  /* A paused container is thawed first, as docker does: its processes must run to
     handle the stop signal. */
  if (s->paused && !rrun_container_freeze (s, FALSE, error))
    return FALSE;
  if (!rrun_pid1_signal (pidfd, s->stop_signal, error))
    return FALSE;
  if (!rrun_pid1_wait_exit (pidfd, timeout * 1000)
      && !rrun_pid1_signal (pidfd, SIGKILL, error))
    return FALSE;
  if (!rrun_pid1_wait_exit (pidfd, 30000))
    return rrun_throw (error, RRUN_ERROR_BUSY, "container \"%s\" did not exit after SIGKILL",
                       shown_name (s));
  return wait_unlocked (config, s, 30000, error);
}

/* The exit code the container's rrun or monitor wrote into the lock file before letting
   go of it (container/delete.c): what a waiter has when the record went with --rm. */
static gboolean
read_published_exit_code (int fd, int *out_exit_code)
{
  char text[32] = { 0 };
  ssize_t n = pread (fd, text, sizeof text - 1, 0);
  char *end;
  long v;

  if (n <= 5 || strncmp (text, "exit ", 5) != 0)
    return FALSE;
  v = strtol (text + 5, &end, 10);
  if (end == text + 5 || *end != '\n')
    return FALSE;
  *out_exit_code = (int) v;
  return TRUE;
}

/* A container with a restart policy: its monitor holds the record's lock across its
   runs, but docker's wait returns when the current run ends (a container in its back-off
   before a restart: when the next one ends). TRUE with the exit code once a run after s
   has ended; FALSE when the lock was let go meanwhile (the monitor gave up: the caller
   reads the record as for any container). Watches the record directory (container.json
   is replaced by rename at each change, the lock file written at each exit), re-reading
   it at least every 200 ms. */
static gboolean
wait_next_exit (const RrunConfig *config, const RrunState *s, const char *dir, int lock_fd,
                int *out_exit_code)
{
  guint runs = s->restart_count + (s->restarting ? 1 : 0);
  gint64 finished = s->status == RRUN_STATUS_EXITED ? s->finished : 0;
  rrun_autofd int in = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);

  if (in >= 0)
    inotify_add_watch (in, dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF);
  for (;;)
    {
      g_autoptr(RrunState) now = NULL;
      struct pollfd p = { in, POLLIN, 0 };
      char buf[4096];

      if (flock (lock_fd, LOCK_SH | LOCK_NB) == 0)
        {
          flock (lock_fd, LOCK_UN);
          return FALSE;
        }
      if (!rrun_state_find_any (config, s->id, &now, NULL))
        return FALSE;
      /* Exited (in the back-off, or for good) after the run that was going on... */
      if (now->status == RRUN_STATUS_EXITED && now->finished != finished)
        {
          *out_exit_code = now->exit_code;
          return TRUE;
        }
      /* ...or started again since: that run's exit code is in the lock file. */
      if (now->restart_count > runs)
        {
          if (!read_published_exit_code (lock_fd, out_exit_code))
            *out_exit_code = RRUN_EXIT_CODE_UNKNOWN;
          return TRUE;
        }
      if (in < 0)
        {
          g_usleep (200000);
          continue;
        }
      if (poll (&p, 1, 200) > 0)
        while (read (in, buf, sizeof buf) > 0)
          ;
    }
}

gboolean
rrun_container_wait_exit (const RrunConfig *config, const RrunState *s, int *out_exit_code,
                          GError **error)
{
  g_autofree char *dir = rrun_record_dir (config, s->id);
  g_autofree char *path = g_build_filename (dir, "lock", NULL);
  rrun_autofd int fd = open (path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  g_autoptr(RrunState) after = NULL;
  g_autoptr(GError) local = NULL;

  if (fd >= 0 && s->live && s->restart_policy != NULL && *s->restart_policy != '\0'
      && strcmp (s->restart_policy, "no") != 0
      && wait_next_exit (config, s, dir, fd, out_exit_code))
    return TRUE;
  if (fd >= 0)
    {
      while (flock (fd, LOCK_SH) < 0 && errno == EINTR)
        ;
      /* Let go, but keep the file open: the listing below tests the lock. */
      flock (fd, LOCK_UN);
    }
  if (!rrun_state_find_any (config, s->id, &after, &local))
    {
      /* Gone with --rm: the waiter that was here before has its exit code still. */
      if (fd >= 0 && read_published_exit_code (fd, out_exit_code))
        return TRUE;
      rrun_throw (error, RRUN_ERROR_NOT_FOUND,
                  "container \"%s\" was removed when it exited (--rm): its exit code is gone",
                  shown_name (s));
      return FALSE;
    }
  *out_exit_code = after->exit_code;
  return TRUE;
}

gboolean
rrun_container_start_again (const RrunConfig *config, const RrunState *s, GError **error)
{
  RrunContainerSpec spec = { 0 };
  g_autofree char *id = NULL;
  gboolean ok;

  if (s->live)
    return TRUE; /* running: docker's start does nothing */
  if (!rrun_state_read_spec (config, s->id, &spec, error))
    return FALSE;
  spec.quiet_pull = TRUE;
  ok = rrun_container_run_detached (config, &spec, s->id, &id, error);
  rrun_container_spec_clear (&spec);
  return ok;
}

gboolean
rrun_container_start_requires (const RrunConfig *config, char **requires, GError **error)
{
  /* A cycle (a requires b, b requires a) would start forever: a bound, as a check. */
  static int depth = 0;
  gboolean ok = TRUE;

  if (depth > 16)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "--requires: the required containers require each other in a cycle");
  depth++;
  for (guint i = 0; ok && requires && requires[i]; i++)
    {
      g_auto(GStrv) names = g_strsplit (requires[i], ",", -1);

      for (guint k = 0; ok && names[k]; k++)
        {
          g_autoptr(RrunState) s = NULL;
          g_autoptr(GError) local = NULL;

          if (*names[k] == '\0' || !rrun_state_find_any (config, names[k], &s, NULL)
              || s->live)
            continue;
          if (!rrun_container_start_again (config, s, &local))
            {
              g_propagate_prefixed_error (error, g_steal_pointer (&local),
                                          "--requires: cannot start container \"%s\": ",
                                          names[k]);
              ok = FALSE;
            }
        }
    }
  depth--;
  return ok;
}
