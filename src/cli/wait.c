/* rrun wait CONTAINER...: block until each exits; print its exit code. */
#include "cli/cli.h"
#include "container/stop.h"
#include "error.h"
#include "log.h"

#include <stdio.h>

gboolean
rrun_cmd_wait (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help;
  const RrunCliSpec spec = { "wait", "CONTAINER...",
                             "Wait until containers exit, then print their exit codes.", 1, -1,
                             "rrun wait CONTAINER... (see rrun ps -a)", NULL, FALSE };
  int failed = 0;

  if (!rrun_cli_parse_args (&spec, NULL, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  for (int i = 1; i < argc; i++)
    {
      g_autoptr(GError) local = NULL;
      g_autoptr(RrunState) state = NULL;
      int code = 0;

      if (!rrun_state_find_any (g->config, argv[i], &state, &local)
          || !rrun_container_wait_exit (g->config, state, &code, &local))
        {
          rrun_log_print_error (local);
          failed++;
          continue;
        }
      printf ("%d\n", code);
      fflush (stdout);
    }
  *out_status = failed ? RRUN_EXIT_FAILED : 0;
  return TRUE;
}
