/* The container log's record parser, --since/--until times, signal names, and the
   record's state round trip (issue 14). */
#include "container/log-reader.h"
#include "container/log-writer.h"
#include "container/record.h"
#include "container/signal-name.h"
#include "error.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static void
test_parse_record (void)
{
  gint64 t = 0;
  gboolean err = TRUE, partial = TRUE;
  const char *text;

  text = rrun_log_parse_record ("2026-12-06T15:46:12.123456789Z stdout F hello world", &t,
                                &err, &partial);
  g_assert_cmpstr (text, ==, "hello world");
  g_assert_false (err);
  g_assert_false (partial);
  g_assert_cmpint (t % 1000000000, ==, 123456789);
  g_assert_cmpint (t / 1000000000, ==, 1796571972);

  text = rrun_log_parse_record ("2026-12-06T15:46:12.5Z stderr P ", &t, &err, &partial);
  g_assert_cmpstr (text, ==, "");
  g_assert_true (err);
  g_assert_true (partial);
  g_assert_cmpint (t % 1000000000, ==, 500000000);

  g_assert_null (rrun_log_parse_record ("garbage", &t, &err, &partial));
  g_assert_null (rrun_log_parse_record ("notatime stdout F x", &t, &err, &partial));
  g_assert_null (rrun_log_parse_record ("2026-12-06T15:46:12Z stdout FF x", &t, &err,
                                        &partial));
}

static void
test_parse_time (void)
{
  const gint64 now = G_GINT64_CONSTANT (1796571972) * 1000000000;
  g_autoptr(GError) error = NULL;
  gint64 t = 0;

  /* A time without a zone is local time (docker's client): UTC here. */
  g_setenv ("TZ", "UTC", TRUE);
  g_assert_true (rrun_log_parse_time ("10m", now, &t, NULL));
  g_assert_cmpint (t, ==, now - G_GINT64_CONSTANT (600) * 1000000000);
  g_assert_true (rrun_log_parse_time ("1h30m", now, &t, NULL));
  g_assert_cmpint (t, ==, now - G_GINT64_CONSTANT (5400) * 1000000000);
  g_assert_true (rrun_log_parse_time ("500ms", now, &t, NULL));
  g_assert_cmpint (t, ==, now - 500000000);
  g_assert_true (rrun_log_parse_time ("1796571972.5", now, &t, NULL));
  g_assert_cmpint (t, ==, now + 500000000);
  g_assert_true (rrun_log_parse_time ("2026-12-06T15:46:12Z", now, &t, NULL));
  g_assert_cmpint (t, ==, now);
  g_assert_true (rrun_log_parse_time ("2026-12-06T15:46:12", now, &t, NULL)); /* local */
  g_assert_cmpint (t, ==, now);
  g_assert_true (rrun_log_parse_time ("2026-12-06", now, &t, NULL));
  g_assert_cmpint (t, ==, now - (15 * 3600 + 46 * 60 + 12) * G_GINT64_CONSTANT (1000000000));
  g_assert_false (rrun_log_parse_time ("yesterday", now, &t, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_assert_true (g_str_has_prefix (error->message, "invalid time \"yesterday\"\nhint: "));
}

static void
test_signal_names (void)
{
  g_autoptr(GError) error = NULL;
  int s = 0;

  g_assert_true (rrun_signal_parse ("TERM", &s, NULL));
  g_assert_cmpint (s, ==, SIGTERM);
  g_assert_true (rrun_signal_parse ("SIGRTMIN+3", &s, NULL));
  g_assert_cmpint (s, ==, SIGRTMIN + 3);
  g_assert_true (rrun_signal_parse ("rtmin", &s, NULL));
  g_assert_cmpint (s, ==, SIGRTMIN);
  g_assert_true (rrun_signal_parse ("RTMAX-1", &s, NULL));
  g_assert_cmpint (s, ==, SIGRTMAX - 1);
  g_assert_true (rrun_signal_parse ("SIGRTMAX", &s, NULL));
  g_assert_cmpint (s, ==, SIGRTMAX);
  g_assert_false (rrun_signal_parse ("RTMIN+99", &s, NULL));
  g_assert_false (rrun_signal_parse ("RTMIN-1", &s, NULL));
  g_assert_false (rrun_signal_parse ("RTMIN+3x", &s, NULL));
  g_assert_true (rrun_signal_parse ("sigusr1", &s, NULL));
  g_assert_cmpint (s, ==, SIGUSR1);
  g_assert_true (rrun_signal_parse ("9", &s, NULL));
  g_assert_cmpint (s, ==, SIGKILL);
  g_assert_false (rrun_signal_parse ("0", &s, NULL));
  g_assert_false (rrun_signal_parse ("-1", &s, NULL));
  g_assert_false (rrun_signal_parse ("SIGNOPE", &s, &error));
  g_assert_cmpstr (error->message, ==,
                   "invalid signal \"SIGNOPE\"\nhint: name a signal as TERM, SIGTERM or 15 "
                   "(see: kill -l)");
}

static void
test_status_names (void)
{
  g_assert_cmpstr (rrun_status_name (RRUN_STATUS_CREATED), ==, "created");
  g_assert_cmpstr (rrun_status_name (RRUN_STATUS_RUNNING), ==, "running");
  g_assert_cmpstr (rrun_status_name (RRUN_STATUS_EXITED), ==, "exited");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/container-log/parse-record", test_parse_record);
  g_test_add_func ("/container-log/parse-time", test_parse_time);
  g_test_add_func ("/container-log/signal-names", test_signal_names);
  g_test_add_func ("/container-log/status-names", test_status_names);
  return g_test_run ();
}
