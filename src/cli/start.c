/* rrun start CONTAINER...: run stopped containers again, detached, from their stored
   spec and writable layer. */
#include "cli/cli.h"
#include "container/log-reader.h"
#include "container/log-writer.h"
#include "container/stop.h"
#include "error.h"
#include "log.h"

#include <stdio.h>

gboolean
rrun_cmd_start (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help, attach = FALSE;
  const GOptionEntry entries[] = {
    { "attach", 'a', 0, G_OPTION_ARG_NONE, &attach,
      "Print its output until it exits, then exit with its status (one container)", NULL },
    { NULL }
  };
  const RrunCliSpec spec = { "start", "CONTAINER...",
                             "Start stopped containers again, in the background.", 1, -1,
                             "rrun start [-a] CONTAINER... (see rrun ps -a)", NULL, FALSE };
  int failed = 0, last_code = 0;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  if (attach && argc != 2)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "start: -a takes one container");
  if (attach)
    {
      /* docker's start -a: this run's output (the log from now on), then its status. */
      g_autoptr(RrunState) state = NULL;
      g_autofree char *dir = NULL, *path = NULL;
      RrunLogReadOptions o = { .follow = TRUE, .tail = -1 };
      int code = 0;

      o.since_ns = g_get_real_time () * 1000;
      if (!rrun_state_find_any (g->config, argv[1], &state, error))
        return FALSE;
      if (state->live)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "start: container \"%s\" is already running", argv[1]);
      if (!rrun_container_start_again (g->config, state, error))
        return FALSE;
      dir = rrun_record_dir (g->config, state->id);
      path = g_build_filename (dir, RRUN_LOG_FILE, NULL);
      if (!rrun_log_read (path, dir, &o, error)
          || !rrun_container_wait_exit (g->config, state, &code, error))
        return FALSE;
      *out_status = code < 0 ? RRUN_EXIT_FAILED : code;
      return TRUE;
    }
  for (int i = 1; i < argc; i++)
    {
      g_autoptr(GError) local = NULL;
      g_autoptr(RrunState) state = NULL;

      if (!rrun_state_find_any (g->config, argv[i], &state, &local)
          || !rrun_container_start_again (g->config, state, &local))
        {
          last_code = rrun_error_exit_code (local);
          rrun_log_print_error (local);
          failed++;
          continue;
        }
      printf ("%s\n", argv[i]);
      fflush (stdout);
    }
  /* One container: its start error's status (126, 127), as run's. */
  *out_status = failed == 0 ? 0 : argc == 2 ? last_code : RRUN_EXIT_FAILED;
  return TRUE;
}
