/* What a detached container's monitor carries out (issue 14): restart policies and their
   back-off, log driver options and rotation, durations and sizes, health check rules and
   their record. */
#include "container/health.h"
#include "container/log-writer.h"
#include "container/policy.h"
#include "error.h"
#include "util/path.h"
#include "util/size.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <unistd.h>

#define S G_GINT64_CONSTANT (1000000000)

static void
test_restart_parse (void)
{
  g_autoptr(GError) error = NULL;
  RrunRestartPolicy p;

  g_assert_true (rrun_restart_policy_parse (NULL, &p, NULL));
  g_assert_cmpint (p.mode, ==, RRUN_RESTART_NO);
  g_assert_true (rrun_restart_policy_parse ("no", &p, NULL));
  g_assert_cmpint (p.mode, ==, RRUN_RESTART_NO);
  g_assert_true (rrun_restart_policy_parse ("always", &p, NULL));
  g_assert_cmpint (p.mode, ==, RRUN_RESTART_ALWAYS);
  g_assert_true (rrun_restart_policy_parse ("unless-stopped", &p, NULL));
  g_assert_cmpint (p.mode, ==, RRUN_RESTART_UNLESS_STOPPED);
  g_assert_true (rrun_restart_policy_parse ("on-failure", &p, NULL));
  g_assert_cmpint (p.mode, ==, RRUN_RESTART_ON_FAILURE);
  g_assert_cmpuint (p.max_retries, ==, 0);
  g_assert_true (rrun_restart_policy_parse ("on-failure:3", &p, NULL));
  g_assert_cmpuint (p.max_retries, ==, 3);
  g_assert_cmpstr (rrun_restart_mode_name (p.mode), ==, "on-failure");

  g_assert_false (rrun_restart_policy_parse ("sometimes", &p, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==,
                   "invalid --restart \"sometimes\"\nhint: use no, on-failure[:N], always or "
                   "unless-stopped");
  g_clear_error (&error);
  g_assert_false (rrun_restart_policy_parse ("on-failure:x", &p, &error));
  g_clear_error (&error);
  g_assert_false (rrun_restart_policy_parse ("on-failure:-1", &p, &error));
  g_clear_error (&error);
  g_assert_false (rrun_restart_policy_parse ("always:3", &p, &error));
}

static void
test_restart_wanted (void)
{
  RrunRestartPolicy no = { RRUN_RESTART_NO, 0 }, always = { RRUN_RESTART_ALWAYS, 0 };
  RrunRestartPolicy fail2 = { RRUN_RESTART_ON_FAILURE, 2 }, fail = { RRUN_RESTART_ON_FAILURE, 0 };
  RrunRestartPolicy unless = { RRUN_RESTART_UNLESS_STOPPED, 0 };

  g_assert_false (rrun_restart_wanted (&no, 1, 0, FALSE));
  g_assert_true (rrun_restart_wanted (&always, 0, 100, FALSE));
  g_assert_false (rrun_restart_wanted (&always, 0, 0, TRUE));
  g_assert_true (rrun_restart_wanted (&unless, 0, 0, FALSE));
  g_assert_false (rrun_restart_wanted (&unless, 1, 0, TRUE));
  g_assert_false (rrun_restart_wanted (&fail, 0, 0, FALSE));
  g_assert_true (rrun_restart_wanted (&fail, 3, 1000, FALSE));
  g_assert_true (rrun_restart_wanted (&fail2, 3, 0, FALSE));
  g_assert_true (rrun_restart_wanted (&fail2, 3, 1, FALSE));
  g_assert_false (rrun_restart_wanted (&fail2, 3, 2, FALSE));
  g_assert_false (rrun_restart_wanted (&fail2, 137, 0, TRUE));
}

static void
test_restart_backoff (void)
{
  guint d = 0;

  /* 100, 200, 400, ... ms, at most a minute */
  d = rrun_restart_next_delay (d, 0);
  g_assert_cmpuint (d, ==, 100);
  d = rrun_restart_next_delay (d, 50);
  g_assert_cmpuint (d, ==, 200);
  d = rrun_restart_next_delay (d, 50);
  g_assert_cmpuint (d, ==, 400);
  for (int i = 0; i < 20; i++)
    d = rrun_restart_next_delay (d, 9999);
  g_assert_cmpuint (d, ==, 60000);
  /* a run of 10 s or more starts over */
  d = rrun_restart_next_delay (d, 10000);
  g_assert_cmpuint (d, ==, 100);
}

static void
test_log_options (void)
{
  g_autoptr(GError) error = NULL;
  RrunLogOptions o;
  char *rot[] = { "max-size=10k", "max-file=3", NULL };
  char *bad_size[] = { "max-size=ten", NULL };
  char *bad_file[] = { "max-size=1m", "max-file=0", NULL };
  char *unknown[] = { "compress=true", NULL };
  char *file_only[] = { "max-file=2", NULL };

  g_assert_true (rrun_log_options_parse (NULL, NULL, TRUE, &o, NULL));
  g_assert_cmpint (o.driver, ==, RRUN_LOG_DRIVER_K8S_FILE);
  g_assert_cmpuint (o.max_size, ==, 0);
  g_assert_true (rrun_log_options_parse ("json-file", rot, TRUE, &o, NULL));
  g_assert_cmpint (o.driver, ==, RRUN_LOG_DRIVER_K8S_FILE);
  g_assert_cmpuint (o.max_size, ==, 10240);
  g_assert_cmpuint (o.max_file, ==, 3);
  g_assert_true (rrun_log_options_parse ("none", NULL, TRUE, &o, NULL));
  g_assert_cmpint (o.driver, ==, RRUN_LOG_DRIVER_NONE);
  g_assert_true (rrun_log_options_parse ("passthrough", NULL, FALSE, &o, NULL));
  g_assert_cmpint (o.driver, ==, RRUN_LOG_DRIVER_PASSTHROUGH);

  g_assert_false (rrun_log_options_parse ("passthrough", NULL, TRUE, &o, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (rrun_log_options_parse ("journald", NULL, TRUE, &o, &error));
  g_assert_cmpstr (error->message, ==, "unsupported --log-driver \"journald\"\nhint: use "
                                       "k8s-file (the default), none or passthrough");
  g_clear_error (&error);
  g_assert_false (rrun_log_options_parse (NULL, bad_size, TRUE, &o, &error));
  g_clear_error (&error);
  g_assert_false (rrun_log_options_parse (NULL, bad_file, TRUE, &o, &error));
  g_clear_error (&error);
  g_assert_false (rrun_log_options_parse (NULL, unknown, TRUE, &o, &error));
  g_assert_true (g_str_has_prefix (error->message, "unknown --log-opt \"compress=true\""));
  g_clear_error (&error);
  g_assert_false (rrun_log_options_parse (NULL, file_only, TRUE, &o, &error));
  g_clear_error (&error);
  g_assert_false (rrun_log_options_parse ("none", rot, TRUE, &o, &error));
}

static void
test_sizes_and_durations (void)
{
  guint64 b;
  gint64 ns;

  g_assert_true (rrun_size_parse ("100", &b));
  g_assert_cmpuint (b, ==, 100);
  g_assert_true (rrun_size_parse ("2k", &b));
  g_assert_cmpuint (b, ==, 2048);
  g_assert_true (rrun_size_parse ("10MB", &b));
  g_assert_cmpuint (b, ==, 10 << 20);
  g_assert_true (rrun_size_parse ("1g", &b));
  g_assert_cmpuint (b, ==, 1 << 30);
  g_assert_false (rrun_size_parse ("", &b));
  g_assert_false (rrun_size_parse ("-1", &b));
  g_assert_false (rrun_size_parse ("1t", &b));
  g_assert_false (rrun_size_parse ("k", &b));

  g_assert_true (rrun_duration_parse ("30s", &ns));
  g_assert_cmpint (ns, ==, 30 * S);
  g_assert_true (rrun_duration_parse ("1m30s", &ns));
  g_assert_cmpint (ns, ==, 90 * S);
  g_assert_true (rrun_duration_parse ("500ms", &ns));
  g_assert_cmpint (ns, ==, S / 2);
  g_assert_true (rrun_duration_parse ("1.5h", &ns));
  g_assert_cmpint (ns, ==, 5400 * S);
  g_assert_true (rrun_duration_parse ("0", &ns));
  g_assert_cmpint (ns, ==, 0);
  g_assert_false (rrun_duration_parse ("30", &ns));
  g_assert_false (rrun_duration_parse ("-1s", &ns));
  g_assert_false (rrun_duration_parse ("1x", &ns));
  g_assert_false (rrun_duration_parse ("", &ns));
}

static RrunHealthConfig *
config_with (guint retries, gint64 start_period)
{
  RrunHealthConfig *hc = g_new0 (RrunHealthConfig, 1);
  const char *test[] = { "true", NULL };

  hc->test = g_strdupv ((char **) test);
  hc->interval_ns = S;
  hc->timeout_ns = S;
  hc->retries = retries;
  hc->start_period_ns = start_period;
  return hc;
}

static void
test_health_rules (void)
{
  g_autoptr(RrunHealth) h = rrun_health_new (config_with (2, 0), 0);

  g_assert_cmpint (h->status, ==, RRUN_HEALTH_STARTING);
  rrun_health_add_result (h, 1, 2, 1, g_strdup ("no"));
  g_assert_cmpint (h->status, ==, RRUN_HEALTH_STARTING);
  g_assert_cmpuint (h->failing_streak, ==, 1);
  rrun_health_add_result (h, 3, 4, 0, NULL);
  g_assert_cmpint (h->status, ==, RRUN_HEALTH_HEALTHY);
  g_assert_cmpuint (h->failing_streak, ==, 0);
  rrun_health_add_result (h, 5, 6, 1, NULL);
  g_assert_cmpint (h->status, ==, RRUN_HEALTH_HEALTHY);
  rrun_health_add_result (h, 7, 8, -1, g_strdup ("Health check exceeded timeout (1s)"));
  g_assert_cmpint (h->status, ==, RRUN_HEALTH_UNHEALTHY);
  g_assert_cmpuint (h->failing_streak, ==, 2);
  /* the last five only */
  for (int i = 0; i < 10; i++)
    rrun_health_add_result (h, 10 + i, 11 + i, 0, g_strdup_printf ("%d", i));
  g_assert_cmpuint (h->log->len, ==, RRUN_HEALTH_LOG_ENTRIES);
  g_assert_cmpstr (((RrunHealthResult *) h->log->pdata[0])->output, ==, "5");
  g_assert_cmpint (h->status, ==, RRUN_HEALTH_HEALTHY);
}

static void
test_health_start_period (void)
{
  g_autoptr(RrunHealth) h = rrun_health_new (config_with (1, 10 * S), 100 * S);

  /* failures in the start period do not count... */
  rrun_health_add_result (h, 101 * S, 101 * S, 1, NULL);
  rrun_health_add_result (h, 102 * S, 102 * S, 1, NULL);
  g_assert_cmpint (h->status, ==, RRUN_HEALTH_STARTING);
  g_assert_cmpuint (h->failing_streak, ==, 0);
  /* ...after it they do */
  rrun_health_add_result (h, 111 * S, 111 * S, 1, NULL);
  g_assert_cmpint (h->status, ==, RRUN_HEALTH_UNHEALTHY);

  /* once healthy, a failure in the start period counts */
  g_clear_pointer (&h, rrun_health_free);
  h = rrun_health_new (config_with (1, 10 * S), 100 * S);
  rrun_health_add_result (h, 101 * S, 101 * S, 0, NULL);
  rrun_health_add_result (h, 102 * S, 102 * S, 1, NULL);
  g_assert_cmpint (h->status, ==, RRUN_HEALTH_UNHEALTHY);
}

static void
test_health_json (void)
{
  g_autoptr(RrunHealth) h = rrun_health_new (config_with (3, 5 * S), 1796571972 * S);
  g_autoptr(RrunHealth) back = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL, *again = NULL;

  rrun_health_add_result (h, 1796571973 * S + 123456789, 1796571974 * S, 1,
                          g_strdup ("line \"one\"\n"));
  text = rrun_health_to_json (h);
  g_assert_nonnull (strstr (text, "\"Start\":\"2026-12-06T15:46:13.123456789Z\""));
  g_assert_nonnull (strstr (text, "\"Status\":\"starting\",\"FailingStreak\":0"));
  g_assert_true (rrun_health_from_json (text, strlen (text), &back, &error));
  g_assert_no_error (error);
  again = rrun_health_to_json (back);
  g_assert_cmpstr (text, ==, again);
  g_assert_cmpuint (back->config->retries, ==, 3);
  g_assert_cmpstr (back->config->test[0], ==, "true");

  g_assert_false (rrun_health_from_json ("[]", 2, &back, &error));
}

/* A health.json with no results yet, in a new directory. */
static char *
health_dir_new (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rrun-health-XXXXXX", NULL);
  g_autoptr(RrunHealth) h = rrun_health_new (config_with (1, 0), 0);

  g_assert_nonnull (dir);
  g_assert_true (rrun_health_write (dir, h, NULL));
  return g_steal_pointer (&dir);
}

static guint
health_results (const char *dir)
{
  g_autoptr(RrunHealth) h = NULL;

  g_assert_true (rrun_health_read (dir, &h, NULL));
  g_assert_nonnull (h);
  return h->log->len;
}

static gpointer
record_thread (gpointer dir)
{
  return GINT_TO_POINTER (rrun_health_record_result (dir, 1, 2, 0, g_strdup ("ok"), NULL,
                                                     NULL));
}

/* Two writers do not interleave: a result waits for health.lock, then is recorded. */
static void
test_health_record_waits_for_lock (void)
{
  g_autofree char *dir = health_dir_new ();
  g_autofree char *lock = g_build_filename (dir, "health.lock", NULL);
  int fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  GThread *t;

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (flock (fd, LOCK_EX), ==, 0);
  t = g_thread_new ("record", record_thread, dir);
  g_usleep (200 * 1000);
  g_assert_cmpuint (health_results (dir), ==, 0);
  close (fd);
  g_assert_true (GPOINTER_TO_INT (g_thread_join (t)));
  g_assert_cmpuint (health_results (dir), ==, 1);
  rrun_path_rm_rf (dir, NULL);
}

/* When health.lock cannot be locked (flock fails with ENOLCK, as on a file system without
   a lock manager), nothing is written unlocked: the caller gets the error. */
static void
test_health_record_lock_fails (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *dir = health_dir_new ();
      scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);
      g_autoptr(GError) error = NULL;
      g_autofree char *want = NULL;
      RrunHealthStatus status = RRUN_HEALTH_STARTING;

      g_assert_nonnull (ctx);
      g_assert_cmpint (seccomp_rule_add (ctx, SCMP_ACT_ERRNO (ENOLCK), SCMP_SYS (flock), 0),
                       ==, 0);
      g_assert_cmpint (seccomp_load (ctx), ==, 0);
      seccomp_release (ctx);
      g_assert_false (rrun_health_record_result (dir, 1, 2, 0, g_strdup ("ok"), &status,
                                                 &error));
      want = g_strdup_printf ("cannot lock \"%s/health.lock\": %s", dir, g_strerror (ENOLCK));
      g_assert_nonnull (error);
      g_assert_cmpstr (error->message, ==, want);
      g_assert_cmpint (status, ==, RRUN_HEALTH_STARTING);
      g_assert_cmpuint (health_results (dir), ==, 0);
      rrun_path_rm_rf (dir, NULL);
      return;
    }
  if (prctl (PR_GET_SECCOMP) < 0)
    {
      g_test_skip ("the kernel has no seccomp filters to make flock fail");
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_health_resolve (void)
{
  RrunContainerSpec o = { 0 };
  RrunImageConfig image = { 0 };
  g_autoptr(RrunHealthConfig) hc = NULL;
  g_autoptr(GError) error = NULL;
  const char *shell[] = { "CMD-SHELL", "test -f /ready", NULL };
  const char *none[] = { "NONE", NULL };

  /* nothing anywhere: no check */
  g_assert_true (rrun_health_config_resolve (&o, &image, &hc, NULL));
  g_assert_null (hc);
  /* the image's, with docker's defaults for what it leaves out */
  image.health_test = (char **) shell;
  image.health_interval = 5 * S;
  g_assert_true (rrun_health_config_resolve (&o, &image, &hc, NULL));
  g_assert_cmpstr (hc->test[0], ==, "/bin/sh");
  g_assert_cmpstr (hc->test[2], ==, "test -f /ready");
  g_assert_cmpint (hc->interval_ns, ==, 5 * S);
  g_assert_cmpint (hc->timeout_ns, ==, 30 * S);
  g_assert_cmpuint (hc->retries, ==, 3);
  g_clear_pointer (&hc, rrun_health_config_free);
  /* flags over the image */
  o.health_cmd = "[\"CMD\", \"cat\", \"/ok\"]";
  o.health_interval = "1s";
  o.health_retries = "5";
  g_assert_true (rrun_health_config_resolve (&o, &image, &hc, NULL));
  g_assert_cmpstr (hc->test[0], ==, "cat");
  g_assert_cmpstr (hc->test[1], ==, "/ok");
  g_assert_cmpint (hc->interval_ns, ==, S);
  g_assert_cmpuint (hc->retries, ==, 5);
  g_clear_pointer (&hc, rrun_health_config_free);
  /* --no-healthcheck, and the image's NONE */
  o = (RrunContainerSpec){ .no_healthcheck = TRUE };
  g_assert_true (rrun_health_config_resolve (&o, &image, &hc, NULL));
  g_assert_null (hc);
  o = (RrunContainerSpec){ 0 };
  image.health_test = (char **) none;
  g_assert_true (rrun_health_config_resolve (&o, &image, &hc, NULL));
  g_assert_null (hc);
  /* bad flags */
  o = (RrunContainerSpec){ .no_healthcheck = TRUE, .health_cmd = "true" };
  g_assert_false (rrun_health_check_flags (&o, &error));
  g_assert_cmpstr (error->message, ==, "--no-healthcheck conflicts with the --health-* "
                                       "options\nhint: give one or the other");
  g_clear_error (&error);
  o = (RrunContainerSpec){ .health_interval = "0s" };
  g_assert_false (rrun_health_check_flags (&o, &error));
  g_clear_error (&error);
  o = (RrunContainerSpec){ .health_retries = "0" };
  g_assert_false (rrun_health_check_flags (&o, &error));
  g_clear_error (&error);
  o = (RrunContainerSpec){ .health_cmd = "[1, 2]" };
  g_assert_false (rrun_health_check_flags (&o, &error));
}

/* The writer rotates by rename: every line lands in one of the files, in order. */
static void
test_log_rotation (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rrun-log-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "ctr.log", NULL);
  g_autoptr(GString) all = g_string_new (NULL);
  RrunLogWriter *w = NULL;
  int out[2], err[2];
  guint files = 0, next = 1;

  g_assert_true (pipe (out) == 0 && pipe (err) == 0);
  close (err[1]);
  g_assert_true (rrun_log_writer_start (path, out[0], err[0], 4096, 1000, &w, NULL));
  for (int i = 1; i <= 5000; i++)
    {
      g_autofree char *line = g_strdup_printf ("%d\n", i);
      g_assert_cmpint (write (out[1], line, strlen (line)), ==, (gssize) strlen (line));
    }
  close (out[1]);
  rrun_log_writer_finish (w);
  /* oldest first: path.N ... path.1, path */
  while (TRUE)
    {
      g_autofree char *p = NULL;
      rrun_log_rotated_path (path, files + 1, &p);
      if (!g_file_test (p, G_FILE_TEST_EXISTS))
        break;
      files++;
    }
  /* a rotation happens after each read of the pipe that takes the file past max-size */
  g_assert_cmpuint (files, >=, 1);
  for (guint i = files + 1; i-- > 0;)
    {
      g_autofree char *p = NULL, *text = NULL;
      g_auto(GStrv) lines = NULL;

      rrun_log_rotated_path (path, i, &p);
      g_assert_true (g_file_get_contents (p, &text, NULL, NULL));
      if (i > 0)
        g_assert_cmpuint (strlen (text), >=, 4096);
      lines = g_strsplit (text, "\n", -1);
      for (guint k = 0; lines[k] && *lines[k]; k++)
        {
          gint64 t;
          gboolean e, partial;
          const char *rest = rrun_log_parse_record (lines[k], &t, &e, &partial);

          g_assert_nonnull (rest);
          g_string_append (all, rest);
          if (!partial)
            g_string_append_c (all, '\n');
        }
    }
  {
    g_auto(GStrv) nums = g_strsplit (all->str, "\n", -1);
    for (guint k = 0; nums[k] && *nums[k]; k++, next++)
      g_assert_cmpint (atoi (nums[k]), ==, next);
    g_assert_cmpuint (next, ==, 5001);
  }
  rrun_path_rm_rf (dir, NULL);
}

/* max-file: the oldest files go, what is kept is the newest output, whole. */
static void
test_log_rotation_max_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rrun-log-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "ctr.log", NULL);
  g_autofree char *p2 = NULL, *p3 = NULL;
  RrunLogWriter *w = NULL;
  int out[2], err[2];

  g_assert_true (pipe (out) == 0 && pipe (err) == 0);
  close (err[1]);
  g_assert_true (rrun_log_writer_start (path, out[0], err[0], 1024, 3, &w, NULL));
  for (int i = 1; i <= 3000; i++)
    {
      g_autofree char *line = g_strdup_printf ("%d\n", i);
      g_assert_cmpint (write (out[1], line, strlen (line)), ==, (gssize) strlen (line));
    }
  close (out[1]);
  rrun_log_writer_finish (w);
  rrun_log_rotated_path (path, 2, &p2);
  rrun_log_rotated_path (path, 3, &p3);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (p2, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (p3, G_FILE_TEST_EXISTS));
  rrun_path_rm_rf (dir, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/container-policy/restart-parse", test_restart_parse);
  g_test_add_func ("/container-policy/restart-wanted", test_restart_wanted);
  g_test_add_func ("/container-policy/restart-backoff", test_restart_backoff);
  g_test_add_func ("/container-policy/log-options", test_log_options);
  g_test_add_func ("/container-policy/sizes-and-durations", test_sizes_and_durations);
  g_test_add_func ("/container-policy/health-rules", test_health_rules);
  g_test_add_func ("/container-policy/health-start-period", test_health_start_period);
  g_test_add_func ("/container-policy/health-json", test_health_json);
  g_test_add_func ("/container-policy/health-resolve", test_health_resolve);
  g_test_add_func ("/container-policy/health-record-waits-for-lock",
                   test_health_record_waits_for_lock);
  g_test_add_func ("/container-policy/health-record-lock-fails",
                   test_health_record_lock_fails);
  g_test_add_func ("/container-policy/log-rotation", test_log_rotation);
  g_test_add_func ("/container-policy/log-rotation-max-file", test_log_rotation_max_file);
  return g_test_run ();
}
