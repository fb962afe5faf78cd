/* rrun start CONTAINER...: run stopped containers again, detached, from their stored
   spec and writable layer. */
#include "cli/cli.h"
#include "container/stop.h"
#include "error.h"
#include "log.h"

#include <stdio.h>

gboolean
rrun_cmd_start (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help;
  const RrunCliSpec spec = { "start", "CONTAINER...",
                             "Start stopped containers again, in the background.", 1, -1,
                             "rrun start CONTAINER... (see rrun ps -a)", NULL, FALSE };
  int failed = 0, last_code = 0;

  if (!rrun_cli_parse_args (&spec, NULL, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
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
