#include "container/health.h"
#include "container/policy.h"
#include "container/record.h"
#include "error.h"
#include "process/kill-tree.h"
#include "util/fd.h"
#include "util/json-value.h"
#include "util/path.h"
#include "util/text-file.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define NS_PER_S G_GINT64_CONSTANT (1000000000)

void
rrun_health_config_free (RrunHealthConfig *hc)
{
  if (hc == NULL)
    return;
  g_strfreev (hc->test);
  g_free (hc);
}

/* --health-cmd: a JSON array is docker's exec form (["CMD", "arg", ...] or ["CMD-SHELL",
   "text"]), anything else a shell command. */
static gboolean
parse_health_cmd (const char *text, char ***out_test, GError **error)
{
  g_autoptr(RrunJson) v = NULL;
  g_autoptr(GPtrArray) test = g_ptr_array_new_with_free_func (g_free);

  if (*text != '[')
    {
      g_ptr_array_add (test, g_strdup ("CMD-SHELL"));
      g_ptr_array_add (test, g_strdup (text));
    }
  else
    {
      v = rrun_json_parse (text, strlen (text), RRUN_JSON_DEFAULT, NULL);
      if (v == NULL || rrun_json_type (v) != RRUN_JSON_ARRAY || rrun_json_size (v) == 0)
        goto bad;
      for (guint i = 0; i < rrun_json_size (v); i++)
        {
          const char *s = rrun_json_string (rrun_json_element (v, i));
          if (s == NULL)
            goto bad;
          g_ptr_array_add (test, g_strdup (s));
        }
      if (strcmp (test->pdata[0], "CMD") != 0 && strcmp (test->pdata[0], "CMD-SHELL") != 0)
        g_ptr_array_insert (test, 0, g_strdup ("CMD"));
    }
  if (test->len < 2 || *(char *) test->pdata[1] == '\0')
    goto bad;
  g_ptr_array_add (test, NULL);
  *out_test = (char **) g_ptr_array_free (g_steal_pointer (&test), FALSE);
  return TRUE;
bad:
  rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid --health-cmd \"%s\"", text);
  rrun_add_hint (error, "give a shell command, or a JSON array such as '[\"CMD\", \"test\", "
                        "\"-f\", \"/ready\"]'");
  return FALSE;
}

static gboolean
parse_flag_duration (const char *flag, const char *text, gboolean allow_zero, gint64 *out_ns,
                     GError **error)
{
  if (!rrun_duration_parse (text, out_ns) || (!allow_zero && *out_ns < 1000000))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid %s \"%s\": expected a duration%s",
                  flag, text, allow_zero ? "" : " of at least 1ms");
      rrun_add_hint (error, "durations are written as 30s, 1m30s or 500ms");
      return FALSE;
    }
  return TRUE;
}

gboolean
rrun_health_check_flags (const RrunContainerSpec *o, GError **error)
{
  g_auto(GStrv) test = NULL;
  gint64 ns;
  guint64 n;

  if (o->no_healthcheck
      && (o->health_cmd || o->health_interval || o->health_timeout || o->health_retries
          || o->health_start_period))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "--no-healthcheck conflicts with the --health-* options");
      rrun_add_hint (error, "give one or the other");
      return FALSE;
    }
  if ((o->health_cmd && !parse_health_cmd (o->health_cmd, &test, error))
      || (o->health_interval
          && !parse_flag_duration ("--health-interval", o->health_interval, FALSE, &ns, error))
      || (o->health_timeout
          && !parse_flag_duration ("--health-timeout", o->health_timeout, FALSE, &ns, error))
      || (o->health_start_period
          && !parse_flag_duration ("--health-start-period", o->health_start_period, TRUE, &ns,
                                   error)))
    return FALSE;
  if (o->health_retries
      && !g_ascii_string_to_unsigned (o->health_retries, 10, 1, G_MAXINT, &n, NULL))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --health-retries \"%s\": expected a number of at least 1",
                       o->health_retries);
  return TRUE;
}

gboolean
rrun_health_config_resolve (const RrunContainerSpec *o, const RrunImageConfig *image,
                            RrunHealthConfig **out_config, GError **error)
{
  g_autoptr(RrunHealthConfig) hc = g_new0 (RrunHealthConfig, 1);
  g_auto(GStrv) test = NULL;
  guint64 n;

  *out_config = NULL;
  if (!rrun_health_check_flags (o, error))
    return FALSE;
  if (o->no_healthcheck)
    return TRUE;
  if (o->health_cmd)
    parse_health_cmd (o->health_cmd, &test, NULL);
  else if (image && image->health_test)
    test = g_strdupv (image->health_test);
  if (test == NULL || test[0] == NULL || strcmp (test[0], "NONE") == 0)
    return TRUE;
  if (strcmp (test[0], "CMD-SHELL") == 0 && test[1] != NULL)
    {
      const char *sh[] = { "/bin/sh", "-c", test[1], NULL };
      hc->test = g_strdupv ((char **) sh);
    }
  else if (strcmp (test[0], "CMD") == 0 && test[1] != NULL)
    hc->test = g_strdupv (test + 1);
  else
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "invalid health check: its test must start with CMD, CMD-SHELL or NONE");
  hc->interval_ns = image && image->health_interval ? image->health_interval : 30 * NS_PER_S;
  hc->timeout_ns = image && image->health_timeout ? image->health_timeout : 30 * NS_PER_S;
  hc->start_period_ns = image ? image->health_start_period : 0;
  hc->retries = image && image->health_retries > 0 ? (guint) image->health_retries : 3;
  if (o->health_interval)
    rrun_duration_parse (o->health_interval, &hc->interval_ns);
  if (o->health_timeout)
    rrun_duration_parse (o->health_timeout, &hc->timeout_ns);
  if (o->health_start_period)
    rrun_duration_parse (o->health_start_period, &hc->start_period_ns);
  if (o->health_retries && g_ascii_string_to_unsigned (o->health_retries, 10, 1, G_MAXINT, &n,
                                                       NULL))
    hc->retries = (guint) n;
  *out_config = g_steal_pointer (&hc);
  return TRUE;
}

const char *
rrun_health_status_name (RrunHealthStatus status)
{
  switch (status)
    {
    case RRUN_HEALTH_HEALTHY:
      return "healthy";
    case RRUN_HEALTH_UNHEALTHY:
      return "unhealthy";
    case RRUN_HEALTH_STARTING:
      break;
    }
  return "starting";
}

static void
result_free (gpointer p)
{
  RrunHealthResult *r = p;

  g_free (r->output);
  g_free (r);
}

RrunHealth *
rrun_health_new (RrunHealthConfig *config, gint64 started_ns)
{
  RrunHealth *h = g_new0 (RrunHealth, 1);

  h->log = g_ptr_array_new_with_free_func (result_free);
  h->config = config;
  h->started_ns = started_ns;
  return h;
}

void
rrun_health_free (RrunHealth *h)
{
  if (h == NULL)
    return;
  g_ptr_array_unref (h->log);
  rrun_health_config_free (h->config);
  g_free (h);
}

void
rrun_health_add_result (RrunHealth *h, gint64 start_ns, gint64 end_ns, int exit_code,
                        char *output)
{
  RrunHealthResult *r = g_new0 (RrunHealthResult, 1);
  gboolean in_start_period = h->config != NULL
                             && start_ns - h->started_ns < h->config->start_period_ns;

  r->start_ns = start_ns;
  r->end_ns = end_ns;
  r->exit_code = exit_code;
  r->output = output ? output : g_strdup ("");
  g_ptr_array_add (h->log, r);
  while (h->log->len > RRUN_HEALTH_LOG_ENTRIES)
    g_ptr_array_remove_index (h->log, 0);
  if (exit_code == 0)
    {
      h->status = RRUN_HEALTH_HEALTHY;
      h->failing_streak = 0;
      return;
    }
  /* Failures in the start period of a container that was never healthy do not count. */
  if (in_start_period && h->status == RRUN_HEALTH_STARTING)
    return;
  h->failing_streak++;
  if (h->failing_streak >= (h->config ? h->config->retries : 3))
    h->status = RRUN_HEALTH_UNHEALTHY;
}

static char *
format_time (gint64 ns)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (ns / NS_PER_S);
  g_autofree char *base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");

  return g_strdup_printf ("%s.%09" G_GINT64_FORMAT "Z", base, ns % NS_PER_S);
}

static gint64
parse_time (const char *text)
{
  gint64 ns = 0;
  const char *dot;
  g_autoptr(GDateTime) dt = text ? g_date_time_new_from_iso8601 (text, NULL) : NULL;

  if (dt == NULL)
    return 0;
  if ((dot = strchr (text, '.')) != NULL)
    {
      int digits = 0;
      for (const char *p = dot + 1; g_ascii_isdigit (*p) && digits < 9; p++, digits++)
        ns = ns * 10 + (*p - '0');
      for (; digits < 9; digits++)
        ns *= 10;
    }
  return g_date_time_to_unix (dt) * NS_PER_S + ns;
}

char *
rrun_health_to_json (const RrunHealth *h)
{
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();

  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "Status", rrun_health_status_name (h->status));
  rrun_json_builder_member_int (b, "FailingStreak", h->failing_streak);
  rrun_json_builder_set_member_name (b, "Log");
  rrun_json_builder_begin_array (b);
  for (guint i = 0; i < h->log->len; i++)
    {
      const RrunHealthResult *r = h->log->pdata[i];
      g_autofree char *start = format_time (r->start_ns), *end = format_time (r->end_ns);

      rrun_json_builder_begin_object (b);
      rrun_json_builder_member_string (b, "Start", start);
      rrun_json_builder_member_string (b, "End", end);
      rrun_json_builder_member_int (b, "ExitCode", r->exit_code);
      rrun_json_builder_member_string (b, "Output", r->output);
      rrun_json_builder_end_object (b);
    }
  rrun_json_builder_end_array (b);
  if (h->config != NULL)
    {
      rrun_json_builder_set_member_name (b, "config");
      rrun_json_builder_begin_object (b);
      rrun_json_builder_member_strv (b, "test", (const char *const *) h->config->test);
      rrun_json_builder_member_int (b, "interval", h->config->interval_ns);
      rrun_json_builder_member_int (b, "timeout", h->config->timeout_ns);
      rrun_json_builder_member_int (b, "start_period", h->config->start_period_ns);
      rrun_json_builder_member_int (b, "retries", h->config->retries);
      rrun_json_builder_end_object (b);
    }
  rrun_json_builder_member_int (b, "started", h->started_ns);
  rrun_json_builder_end_object (b);
  return rrun_json_builder_to_text (b, FALSE);
}

static gint64
int_or (const RrunJson *o, const char *name, gint64 fallback)
{
  RrunJson *v = rrun_json_member (o, name);

  return v != NULL && rrun_json_type (v) == RRUN_JSON_INT ? rrun_json_int (v) : fallback;
}

gboolean
rrun_health_from_json (const char *text, gsize len, RrunHealth **out_health, GError **error)
{
  g_autoptr(RrunJson) o = rrun_json_parse (text, len, RRUN_JSON_DEFAULT, error);
  g_autoptr(RrunHealth) h = NULL;
  RrunJson *cfg, *log;
  const char *status;

  if (o == NULL)
    return FALSE;
  if (rrun_json_type (o) != RRUN_JSON_OBJECT
      || (status = rrun_json_member_string (o, "Status")) == NULL)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "health.json: expected an object with Status");
  h = rrun_health_new (NULL, int_or (o, "started", 0));
  h->status = strcmp (status, "healthy") == 0     ? RRUN_HEALTH_HEALTHY
              : strcmp (status, "unhealthy") == 0 ? RRUN_HEALTH_UNHEALTHY
                                                  : RRUN_HEALTH_STARTING;
  h->failing_streak = (guint) int_or (o, "FailingStreak", 0);
  if ((cfg = rrun_json_member_value (o, "config")) != NULL
      && rrun_json_type (cfg) == RRUN_JSON_OBJECT)
    {
      RrunJson *test = rrun_json_member_value (cfg, "test");
      GPtrArray *argv = g_ptr_array_new ();

      for (guint i = 0; test && rrun_json_type (test) == RRUN_JSON_ARRAY
                        && i < rrun_json_size (test); i++)
        if (rrun_json_string (rrun_json_element (test, i)))
          g_ptr_array_add (argv, g_strdup (rrun_json_string (rrun_json_element (test, i))));
      g_ptr_array_add (argv, NULL);
      h->config = g_new0 (RrunHealthConfig, 1);
      h->config->test = (char **) g_ptr_array_free (argv, FALSE);
      h->config->interval_ns = int_or (cfg, "interval", 30 * NS_PER_S);
      h->config->timeout_ns = int_or (cfg, "timeout", 30 * NS_PER_S);
      h->config->start_period_ns = int_or (cfg, "start_period", 0);
      h->config->retries = (guint) int_or (cfg, "retries", 3);
    }
  if ((log = rrun_json_member_value (o, "Log")) != NULL && rrun_json_type (log) == RRUN_JSON_ARRAY)
    for (guint i = 0; i < rrun_json_size (log); i++)
      {
        RrunJson *e = rrun_json_element (log, i);
        RrunHealthResult *r = g_new0 (RrunHealthResult, 1);
        const char *out = rrun_json_member_string (e, "Output");

        r->start_ns = parse_time (rrun_json_member_string (e, "Start"));
        r->end_ns = parse_time (rrun_json_member_string (e, "End"));
        r->exit_code = (int) int_or (e, "ExitCode", -1);
        r->output = g_strdup (out ? out : "");
        g_ptr_array_add (h->log, r);
      }
  *out_health = g_steal_pointer (&h);
  return TRUE;
}

gboolean
rrun_health_read (const char *record_dir, RrunHealth **out_health, GError **error)
{
  g_autofree char *path = g_build_filename (record_dir, RRUN_HEALTH_FILE, NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) local = NULL;
  gsize len;

  *out_health = NULL;
  if (!rrun_text_file_read (path, "health state", RRUN_TEXT_FILE_MAX_CONFIG,
                            RRUN_TEXT_FILE_DEFAULT, &text, &len, &local))
    {
      if (g_error_matches (local, RRUN_ERRNO_ERROR, ENOENT))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (!rrun_health_from_json (text, len, out_health, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  return TRUE;
}

gboolean
rrun_health_write (const char *record_dir, const RrunHealth *h, GError **error)
{
  g_autofree char *path = g_build_filename (record_dir, RRUN_HEALTH_FILE, NULL);
  g_autofree char *text = rrun_health_to_json (h);

  return rrun_path_write_atomic (path, text, strlen (text), 0600, error);
}

/* rrun exec ID TEST... run by the rrun binary itself, with this process's store; its
   output (stdout and stderr together) kept up to RRUN_HEALTH_OUTPUT_MAX bytes. Killed at
   the timeout or when stop_fd becomes readable. */
static gboolean
probe (const RrunConfig *config, const char *id, const RrunHealthConfig *hc, int stop_fd,
       int *out_exit, char **out_output, GError **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GString) out = g_string_new (NULL);
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t none, all;
  int pipefd[2], status = 0, err;
  rrun_autofd int pidfd = -1;
  rrun_autofd int rd = -1;
  pid_t pid;
  gint64 deadline = g_get_monotonic_time () + hc->timeout_ns / 1000;
  gboolean timed_out = FALSE, stopped = FALSE;

  g_ptr_array_add (argv, "rrun");
  g_ptr_array_add (argv, "--root");
  g_ptr_array_add (argv, config->storage_root);
  g_ptr_array_add (argv, "--runroot");
  g_ptr_array_add (argv, config->run_root);
  if (config->storage_driver)
    {
      g_ptr_array_add (argv, "--storage-driver");
      g_ptr_array_add (argv, config->storage_driver);
    }
  g_ptr_array_add (argv, "exec");
  g_ptr_array_add (argv, (char *) id);
  for (guint i = 0; hc->test[i]; i++)
    g_ptr_array_add (argv, hc->test[i]);
  g_ptr_array_add (argv, NULL);

  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    return rrun_throw_errno (error, errno, "cannot create a pipe");
  rd = pipefd[0];
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_addopen (&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2 (&fa, pipefd[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2 (&fa, pipefd[1], STDERR_FILENO);
  posix_spawnattr_init (&attr);
  sigemptyset (&none);
  sigfillset (&all);
  posix_spawnattr_setsigmask (&attr, &none);
  posix_spawnattr_setsigdefault (&attr, &all);
  posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  err = posix_spawn (&pid, "/proc/self/exe", &fa, &attr, (char **) argv->pdata, environ);
  posix_spawn_file_actions_destroy (&fa);
  posix_spawnattr_destroy (&attr);
  close (pipefd[1]);
  if (err != 0)
    return rrun_throw_errno (error, err, "cannot run the health check");
  pidfd = (int) syscall (SYS_pidfd_open, pid, 0);

  for (;;)
    {
      struct pollfd p[3] = { { rd, POLLIN, 0 }, { pidfd, POLLIN, 0 }, { stop_fd, POLLIN, 0 } };
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      int n;

      if (left <= 0)
        {
          timed_out = TRUE;
          break;
        }
      n = poll (p, stop_fd >= 0 ? 3 : 2, (int) MIN (left, G_MAXINT));
      if (n < 0 && errno == EINTR)
        continue;
      if (stop_fd >= 0 && (p[2].revents & POLLIN))
        {
          stopped = TRUE;
          break;
        }
      if (p[0].revents & (POLLIN | POLLHUP))
        {
          char buf[4096];
          ssize_t got = read (rd, buf, sizeof buf);

          if (got > 0)
            {
              if (out->len < RRUN_HEALTH_OUTPUT_MAX)
                g_string_append_len (out, buf, MIN ((gsize) got,
                                                    RRUN_HEALTH_OUTPUT_MAX - out->len));
              continue;
            }
          if (got == 0)
            {
              rrun_close_fdp (&rd);
              break; /* every writer gone: the exec has ended */
            }
        }
      if (p[1].revents & POLLIN)
        {
          /* exited; read what is left without waiting for processes it left behind */
          fcntl (rd, F_SETFL, O_NONBLOCK);
          break;
        }
    }
  /* rrun exec's joining process and the command it forked in the container (a session
     of its own) outlive a kill of rrun exec: the whole tree goes, or a check past its
     timeout runs on in the container. The command, orphaned to this monitor (a
     subreaper), is reaped here too: left a zombie, it would keep the container's PID 1
     from exiting (its namespace waits for every process in it to be reaped). */
  if ((timed_out || stopped) && rrun_process_kill_tree (pid, 5000) > 0)
    g_debug ("health check: some of its processes outlived SIGKILL");
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (stopped)
    return rrun_throw (error, RRUN_ERROR_CANCELLED, "the health check was stopped");
  if (rd >= 0 && !timed_out)
    {
      char buf[4096];
      ssize_t got;

      while ((got = read (rd, buf, sizeof buf)) > 0)
        if (out->len < RRUN_HEALTH_OUTPUT_MAX)
          g_string_append_len (out, buf, MIN ((gsize) got, RRUN_HEALTH_OUTPUT_MAX - out->len));
    }
  if (timed_out)
    {
      *out_exit = -1;
      *out_output = g_strdup_printf ("Health check exceeded timeout (%gs)",
                                     (double) hc->timeout_ns / 1e9);
      return TRUE;
    }
  *out_exit = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
  *out_output = g_string_free (g_steal_pointer (&out), FALSE);
  return TRUE;
}

gboolean
rrun_health_record_result (const char *record_dir, gint64 start, gint64 end, int exit_code,
                           char *output, RrunHealthStatus *out_status, GError **error)
{
  g_autofree char *lock = g_build_filename (record_dir, "health.lock", NULL);
  rrun_autofd int fd = -1;
  g_autoptr(RrunHealth) h = NULL;

  /* Unlocked, a second writer's read-modify-write could drop this result or the other's
     (and miscount the failing streak): a lock that cannot be taken is an error. */
  if (!rrun_fd_lock_path (lock, &fd, error))
    {
      g_free (output);
      return FALSE;
    }
  if (!rrun_health_read (record_dir, &h, error) || h == NULL)
    {
      g_free (output);
      return h != NULL || rrun_throw (error, RRUN_ERROR_NOT_FOUND, "it has no health check");
    }
  rrun_health_add_result (h, start, end, exit_code, output);
  if (out_status)
    *out_status = h->status;
  return rrun_health_write (record_dir, h, error);
}

static gboolean
run_once (const RrunConfig *config, const char *id, const RrunHealthConfig *hc, int stop_fd,
          RrunHealthStatus *out_status, GError **error)
{
  g_autofree char *record_dir = rrun_record_dir (config, id);
  gint64 start = g_get_real_time () * 1000, end;
  int exit_code = -1;
  char *output = NULL;

  if (!probe (config, id, hc, stop_fd, &exit_code, &output, error))
    return FALSE;
  end = g_get_real_time () * 1000;
  return rrun_health_record_result (record_dir, start, end, exit_code, output, out_status,
                                    error);
}

gboolean
rrun_health_run_once (const RrunConfig *config, const char *id, RrunHealthStatus *out_status,
                      GError **error)
{
  g_autofree char *record_dir = rrun_record_dir (config, id);
  g_autoptr(RrunHealth) h = NULL;

  if (!rrun_health_read (record_dir, &h, error))
    return FALSE;
  if (h == NULL || h->config == NULL || h->config->test == NULL || h->config->test[0] == NULL)
    return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "it has no health check");
  return run_once (config, id, h->config, -1, out_status, error);
}

struct _RrunHealthChecker
{
  const RrunConfig *config;
  char *id;
  RrunHealthConfig *hc;
  int stop_fd;
  GThread *thread;
};

static gpointer
checker_thread (gpointer data)
{
  RrunHealthChecker *k = data;

  for (;;)
    {
      struct pollfd p = { k->stop_fd, POLLIN, 0 };
      g_autoptr(GError) local = NULL;
      int n = poll (&p, 1, (int) MIN (k->hc->interval_ns / 1000000, G_MAXINT));

      if (n < 0 && errno == EINTR)
        continue;
      if (n != 0)
        break;
      if (!run_once (k->config, k->id, k->hc, k->stop_fd, NULL, &local))
        {
          if (g_error_matches (local, RRUN_ERROR, RRUN_ERROR_CANCELLED))
            break;
          g_debug ("health check: %s", local->message);
        }
    }
  return NULL;
}

RrunHealthChecker *
rrun_health_checker_start (const RrunConfig *config, const char *id, RrunHealthConfig *hc,
                           gint64 started_ns)
{
  RrunHealthChecker *k = g_new0 (RrunHealthChecker, 1);
  g_autofree char *record_dir = rrun_record_dir (config, id);
  g_autoptr(GError) local = NULL;
  RrunHealth *h;
  sigset_t all, old;

  k->config = config;
  k->id = g_strdup (id);
  k->hc = hc;
  k->stop_fd = eventfd (0, EFD_CLOEXEC);
  /* "starting" from each start on, with the config that healthcheck run reads. */
  h = rrun_health_new (NULL, started_ns);
  h->config = hc;
  if (!rrun_health_write (record_dir, h, &local))
    g_debug ("health.json: %s", local->message);
  h->config = NULL;
  rrun_health_free (h);
  /* The monitor reads its signals from a signalfd: none may land in this thread. */
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  k->thread = g_thread_new ("health", checker_thread, k);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  return k;
}

void
rrun_health_checker_stop (RrunHealthChecker *k)
{
  if (k == NULL)
    return;
  if (k->thread)
    {
      guint64 one = 1;
      (void) !write (k->stop_fd, &one, sizeof one);
      g_thread_join (k->thread);
    }
  rrun_close_fdp (&k->stop_fd);
  rrun_health_config_free (k->hc);
  g_free (k->id);
  g_free (k);
}
