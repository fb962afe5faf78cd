/* The monitor of a detached container (run -d, start): no daemon, one small process per
   container (docs/architecture.md, "Containers: spec, verbs, record"). rrun forks it
   twice (setsid in between, so it has no terminal and survives the shell); it creates
   and starts the container holding the record's lock, owns the container's stdout and
   stderr (pipes) and writes them to the log, waits for PID 1, records the exit status
   and cleans up (--rm included), then exits. Until the command runs, a status pipe
   carries "started" or the start error back to the rrun that forked it, which prints
   the ID or the error and exits as a foreground run would (125, 126, 127). */
#include "container/monitor.h"
#include "container/attach.h"
#include "container/container-private.h"
#include "container/health.h"
#include "container/log-writer.h"
#include "container/policy.h"
#include "container/record.h"
#include "container/stop.h"
#include "error.h"
#include "log.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the status pipe carries: one header, then `len` bytes (the ID, or the error's
   message with its hints). */
typedef struct
{
  int32_t ok;
  int32_t exit_code; /* for an error: 125, 126, 127 or 137 */
  uint32_t len;
} StatusHeader;

static void
send_status (int fd, gboolean ok, int exit_code, const char *text)
{
  StatusHeader h = { ok, exit_code, (uint32_t) strlen (text) };

  rrun_fd_write_all (fd, &h, sizeof h, NULL);
  rrun_fd_write_all (fd, text, h.len, NULL);
}

static void
send_error (int fd, const GError *error)
{
  send_status (fd, FALSE, rrun_error_exit_code (error), error->message);
}

/* Whether rrun stop or rm -f asked the container to end (RRUN_STOPPED_MARKER). */
static gboolean
manually_stopped (const char *record_dir)
{
  g_autofree char *marker = g_build_filename (record_dir, RRUN_STOPPED_MARKER, NULL);

  return g_file_test (marker, G_FILE_TEST_EXISTS);
}

/* The back-off before a restart, cut short when rrun stop or rm -f leaves its marker;
   FALSE then. */
static gboolean
back_off (const char *record_dir, guint delay_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) delay_ms * 1000;

  for (;;)
    {
      gint64 left = end - g_get_monotonic_time ();

      if (manually_stopped (record_dir))
        return FALSE;
      if (left <= 0)
        return TRUE;
      g_usleep (MIN (left, 50000));
    }
}

/* The container's health check timer for this run of it, or NULL. */
static RrunHealthChecker *
start_health (const RrunConfig *config, RrunContainer *c)
{
  g_autoptr(GError) local = NULL;
  RrunHealthConfig *hc = NULL;

  if (!rrun_health_config_resolve (c->spec, c->image->config, &hc, &local))
    {
      g_debug ("health check: %s", local->message);
      return NULL;
    }
  if (hc == NULL)
    return NULL;
  return rrun_health_checker_start (config, c->id, hc, g_get_real_time () * 1000);
}

/* The monitor: runs in the grandchild; returns its exit status. */
static int
monitor_main (const RrunConfig *config, RrunContainerSpec *spec, const char *existing_id,
              int status_fd)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunContainer) c = NULL;
  g_autoptr(RrunLogWriter) writer = NULL;
  g_autoptr(RrunAttachServer) attach = NULL;
  g_autofree char *record_dir = NULL, *log_path = NULL, *id = NULL;
  int out[2] = { -1, -1 }, err[2] = { -1, -1 }, in[2] = { -1, -1 }, devnull, status = 0;
  RrunRestartPolicy policy = { RRUN_RESTART_NO, 0 };
  RrunLogOptions logo = { RRUN_LOG_DRIVER_K8S_FILE, 0, 1 };
  guint restarts = 0, delay_ms = 0;
  /* The stdin pipe's write end (the attach server's; its number stays taken until the
     server is freed), which the namespace holder, a fork, must close. */
  int stdin_w = -1;

  devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0)
    dup2 (devnull, STDIN_FILENO);
  /* Both were checked with the spec (rrun_container_spec_validate). */
  if (!rrun_restart_policy_parse (spec->restart, &policy, &error)
      || !rrun_log_options_parse (spec->log_driver, spec->log_opts, TRUE, &logo, &error))
    goto fail;
  if (!(existing_id ? rrun_container_create_again (config, spec, existing_id, &c, &error)
                    : rrun_container_create (config, spec, &c, &error)))
    goto fail;
  id = g_strdup (c->id);
  record_dir = rrun_record_dir (config, c->id);
  log_path = g_build_filename (record_dir, RRUN_LOG_FILE, NULL);
  /* -i or -t: clients attach through a socket in the run dir (container/attach.h). With
     -i and no terminal, the container's stdin is a pipe whose read end this process
     keeps as its stdin (each run of the container inherits it) and whose write end the
     attach server holds; otherwise stdin is /dev/null (or the pty). */
  if (spec->interactive || spec->tty)
    {
      if (spec->interactive && !spec->tty)
        {
          if (pipe2 (in, O_CLOEXEC) < 0 || dup2 (in[0], STDIN_FILENO) < 0)
            {
              rrun_throw_errno (&error, errno, "cannot create the container's stdin pipe");
              goto fail;
            }
          rrun_close_fdp (&in[0]);
        }
      stdin_w = in[1];
      if (!rrun_attach_server_new (spec->tty, spec->interactive, rrun_steal_fd (&in[1]),
                                   &attach, &error)
          || !rrun_attach_server_listen (attach, c->run_dir, &error))
        goto fail;
    }
  if (logo.driver == RRUN_LOG_DRIVER_NONE && attach == NULL)
    {
      /* --log-driver none: the output goes nowhere. */
      if (devnull < 0 || dup2 (devnull, STDOUT_FILENO) < 0 || dup2 (devnull, STDERR_FILENO) < 0)
        {
          rrun_throw_errno (&error, errno, "cannot redirect the container's output");
          goto fail;
        }
    }
  else
    {
      /* The container's stdout and stderr are pipes whose other ends the log writer
         reads; they become this process's 1 and 2 so that start hands them to the
         container (and to each run of it, when it is restarted). */
      if (pipe2 (out, O_CLOEXEC) < 0 || pipe2 (err, O_CLOEXEC) < 0)
        {
          rrun_throw_errno (&error, errno, "cannot create a pipe");
          goto fail;
        }
      /* --log-driver none with clients to attach: the writer copies to them only. */
      if (!rrun_log_writer_start_tapped (logo.driver == RRUN_LOG_DRIVER_NONE ? NULL : log_path,
                                         out[0], err[0], logo.max_size, logo.max_file,
                                         attach ? rrun_attach_server_output : NULL, attach,
                                         &writer, &error))
        goto fail;
      out[0] = err[0] = -1; /* the writer's now */
      if (dup2 (out[1], STDOUT_FILENO) < 0 || dup2 (err[1], STDERR_FILENO) < 0)
        {
          rrun_throw_errno (&error, errno, "cannot redirect the container's output");
          goto fail;
        }
      rrun_close_fdp (&out[1]);
      rrun_close_fdp (&err[1]);
    }
  c->plan.close_fds[3] = stdin_w;
  if (!rrun_container_start (c, &error))
    goto fail;
  if (attach != NULL && spec->tty)
    rrun_attach_server_set_pty (attach, fcntl (c->proc.pty_master, F_DUPFD_CLOEXEC, 3));
  /* Running: tell rrun, whose caller may be waiting for its exit. */
  send_status (status_fd, TRUE, 0, c->id);
  rrun_close_fdp (&status_fd);
  if (chdir ("/") < 0)
    g_debug ("cannot chdir to /: %s", g_strerror (errno));
  for (;;)
    {
      g_autoptr(RrunHealthChecker) health = start_health (config, c);
      gint64 started = g_get_monotonic_time ();
      int lock_fd;
      int exit_code;

      if (!rrun_container_wait (c, &status, &error))
        {
          /* Out of memory or a relay failure: the record says how it ended (delete). */
          g_debug ("wait: %s", error->message);
          g_clear_error (&error);
        }
      g_clear_pointer (&health, rrun_health_checker_stop);
      if (attach != NULL && spec->tty)
        rrun_attach_server_set_pty (attach, -1);
      exit_code = c->exited ? c->exit_code : status;
      if (!rrun_restart_wanted (&policy, exit_code, restarts, manually_stopped (record_dir)))
        break;
      /* docker's restart policy, carried out here while the monitor lives: the record
         stays locked (live) through the back-off, and says "restarting". */
      lock_fd = c->lock_fd;
      c->lock_fd = -1;
      g_clear_pointer (&c, rrun_container_delete);
      /* For a rrun wait, which returns at each exit as docker's does. */
      rrun_container_publish_exit_code (lock_fd, exit_code);
      rrun_state_write_restarting (config, id, TRUE, NULL);
      delay_ms = rrun_restart_next_delay (delay_ms, (g_get_monotonic_time () - started) / 1000);
      if (!back_off (record_dir, delay_ms))
        {
          rrun_state_write_restarting (config, id, FALSE, NULL);
          close (lock_fd);
          goto done;
        }
      restarts++;
      /* The record's lock passes to the new run; on failure the record keeps the last
         exit. */
      if (!rrun_container_create_again_locked (config, spec, id, lock_fd, &c, &error))
        {
          g_debug ("restart: %s", error->message);
          rrun_state_write_restarting (config, id, FALSE, NULL);
          goto done;
        }
      c->restart_count = restarts;
      if (attach != NULL && !rrun_attach_server_listen (attach, c->run_dir, &error))
        {
          g_debug ("restart: %s", error->message);
          g_clear_error (&error);
        }
      c->plan.close_fds[3] = stdin_w;
      if (!rrun_container_start (c, &error))
        {
          g_debug ("restart: %s", error->message);
          rrun_state_write_restarting (config, id, FALSE, NULL);
          goto done;
        }
      if (attach != NULL && spec->tty)
        rrun_attach_server_set_pty (attach, fcntl (c->proc.pty_master, F_DUPFD_CLOEXEC, 3));
    }
  /* Every byte PID 1 and its descendants wrote is in the pipes by now: the writer
     drains them before the record says exited, so `logs -f` ends with all of it. */
done:
  if (devnull >= 0)
    {
      dup2 (devnull, STDOUT_FILENO);
      dup2 (devnull, STDERR_FILENO);
    }
  g_clear_pointer (&writer, rrun_log_writer_finish);
  /* After the writer: attached clients get all the output, then EOF. */
  g_clear_pointer (&attach, rrun_attach_server_free);
  g_clear_pointer (&c, rrun_container_delete);
  return status;

fail:
  if (devnull >= 0)
    {
      dup2 (devnull, STDOUT_FILENO);
      dup2 (devnull, STDERR_FILENO);
    }
  if (status_fd >= 0)
    send_error (status_fd, error);
  g_clear_pointer (&writer, rrun_log_writer_finish);
  g_clear_pointer (&attach, rrun_attach_server_free);
  g_clear_pointer (&c, rrun_container_delete);
  rrun_close_fdp (&in[0]);
  rrun_close_fdp (&in[1]);
  rrun_close_fdp (&out[0]);
  rrun_close_fdp (&out[1]);
  rrun_close_fdp (&err[0]);
  rrun_close_fdp (&err[1]);
  return RRUN_EXIT_FAILED;
}

/* Read the monitor's report: TRUE with the ID, or FALSE with its error. */
static gboolean
read_status (int fd, char **out_id, GError **error)
{
  StatusHeader h;
  g_autofree char *text = NULL;
  gsize got = 0;
  ssize_t n;

  while (got < sizeof h)
    {
      n = read (fd, (char *) &h + got, sizeof h - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return rrun_throw (error, RRUN_ERROR_FAILED,
                           "the container's monitor exited before the command started");
      got += (gsize) n;
    }
  if (h.len > 1 << 20)
    return rrun_throw (error, RRUN_ERROR_FAILED, "the container's monitor sent a bad report");
  text = g_malloc0 (h.len + 1);
  for (got = 0; got < h.len;)
    {
      n = read (fd, text + got, h.len - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return rrun_throw (error, RRUN_ERROR_FAILED, "the container's monitor sent a bad report");
      got += (gsize) n;
    }
  if (h.ok)
    {
      *out_id = g_steal_pointer (&text);
      return TRUE;
    }
  /* The error as the monitor had it: its exit status picks the code back. */
  rrun_throw (error,
              h.exit_code == RRUN_EXIT_NOT_FOUND      ? RRUN_ERROR_EXEC_NOT_FOUND
              : h.exit_code == RRUN_EXIT_CANNOT_EXEC  ? RRUN_ERROR_EXEC_FAILED
              : h.exit_code == 137                    ? RRUN_ERROR_OOM
                                                      : RRUN_ERROR_FAILED,
              "%s", text);
  return FALSE;
}

gboolean
rrun_container_run_detached (const RrunConfig *config, RrunContainerSpec *spec,
                             const char *existing_id, char **out_id, GError **error)
{
  int pipefd[2];
  pid_t child;
  gboolean ok;

  spec->detach = TRUE;
  /* Started from here, by rrun itself: a monitor is a subreaper, which would adopt theirs. */
  if (!rrun_container_start_requires (config, spec->requires, error))
    return FALSE;
  if (existing_id != NULL)
    {
      /* A start by the user: restart policies apply again (rrun stop's marker goes). */
      g_autofree char *dir = rrun_record_dir (config, existing_id);
      g_autofree char *marker = g_build_filename (dir, RRUN_STOPPED_MARKER, NULL);
      unlink (marker);
    }
  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    return rrun_throw_errno (error, errno, "cannot create a pipe");
  fflush (stdout);
  fflush (stderr);
  child = fork ();
  if (child < 0)
    {
      int errsv = errno;
      close (pipefd[0]);
      close (pipefd[1]);
      return rrun_throw_errno (error, errsv, "cannot fork the container's monitor");
    }
  if (child == 0)
    {
      pid_t monitor;

      close (pipefd[0]);
      /* Its own session and process group: no terminal, no SIGHUP or job control
         signals from the shell that ran rrun. */
      setsid ();
      monitor = fork ();
      if (monitor != 0)
        _exit (monitor < 0 ? 1 : 0);
      /* Only the status pipe of rrun's fds: a caller's fd (a test runner's, a pipe
         someone reads to its end) must not stay open for the container's life. */
      if (pipefd[1] != 3)
        {
          dup3 (pipefd[1], 3, O_CLOEXEC);
          pipefd[1] = 3;
        }
      syscall (SYS_close_range, 4, ~0U, 0);
      /* Setup processes orphaned by a failure come back to it to be reaped. */
      prctl (PR_SET_CHILD_SUBREAPER, 1);
      _exit (monitor_main (config, spec, existing_id, pipefd[1]));
    }
  close (pipefd[1]);
  while (waitpid (child, NULL, 0) < 0 && errno == EINTR)
    ;
  ok = read_status (pipefd[0], out_id, error);
  close (pipefd[0]);
  return ok;
}
