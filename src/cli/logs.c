/* rrun logs [-f] [-t] [--tail N] [--since T] [--until T] CONTAINER */
#include "cli/cli.h"
#include "container/log-reader.h"
#include "container/log-writer.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>

gboolean
rrun_cmd_logs (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autofree char *tail = NULL, *since = NULL, *until = NULL;
  g_autofree char *dir = NULL, *path = NULL;
  g_autoptr(RrunState) state = NULL;
  RrunLogReadOptions o = { .tail = -1 };
  gboolean help;
  const GOptionEntry entries[] = {
    { "follow", 'f', 0, G_OPTION_ARG_NONE, &o.follow,
      "Go on printing until the container exits", NULL },
    { "timestamps", 't', 0, G_OPTION_ARG_NONE, &o.timestamps, "Show each line's time", NULL },
    { "tail", 'n', 0, G_OPTION_ARG_STRING, &tail, "Only the last N lines (or all)", "N" },
    { "since", 0, 0, G_OPTION_ARG_STRING, &since,
      "Lines since a time (RFC 3339, unix seconds) or a duration ago (10m)", "TIME" },
    { "until", 0, 0, G_OPTION_ARG_STRING, &until, "Lines until a time or a duration ago",
      "TIME" },
    { NULL }
  };
  const RrunCliSpec spec = { "logs", "CONTAINER",
                             "Print the output of a container run with -d (or started).", 1, 1,
                             "rrun logs [OPTIONS] CONTAINER (see rrun ps -a)", NULL, FALSE };
  gint64 now = g_get_real_time () * 1000;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  if (tail != NULL && strcmp (tail, "all") != 0)
    {
      guint64 n;
      if (!g_ascii_string_to_unsigned (tail, 10, 0, G_MAXINT64, &n, NULL))
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "invalid --tail \"%s\": expected a number of lines or all", tail);
          return FALSE;
        }
      o.tail = (gint64) n;
    }
  if ((since && !rrun_log_parse_time (since, now, &o.since_ns, error))
      || (until && !rrun_log_parse_time (until, now, &o.until_ns, error)))
    return FALSE;
  if (!rrun_state_find_any (g->config, argv[1], &state, error))
    return FALSE;
  dir = rrun_record_dir (g->config, state->id);
  path = g_build_filename (dir, RRUN_LOG_FILE, NULL);
  {
    RrunContainerSpec cspec = { 0 };
    gboolean none = FALSE;

    if (rrun_state_read_spec (g->config, state->id, &cspec, NULL))
      {
        none = g_strcmp0 (cspec.log_driver, "none") == 0;
        rrun_container_spec_clear (&cspec);
      }
    if (none)
      {
        rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                    "container \"%s\" has no log: it was run with --log-driver none", argv[1]);
        return FALSE;
      }
  }
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      rrun_throw (error, RRUN_ERROR_NOT_FOUND, "container \"%s\" has no log", argv[1]);
      rrun_add_hint (error, "only containers run with -d (or started with rrun start) keep "
                            "a log; a foreground run's output went to its terminal");
      return FALSE;
    }
  return rrun_log_read (path, dir, &o, error);
}
