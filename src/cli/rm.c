/* rrun rm [-f] CONTAINER...: remove stopped containers (running ones with -f). */
#include "cli/cli.h"
#include "cli/common.h"
#include "container/remove.h"
#include "error.h"
#include "log.h"

#include <stdio.h>

gboolean
rrun_cmd_rm (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean force = FALSE, volumes = FALSE, help;
  const GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Kill a running container first", NULL },
    { "volumes", 'v', 0, G_OPTION_ARG_NONE, &volumes,
      "Remove its anonymous volumes too (named volumes stay)", NULL },
    { NULL }
  };
  const RrunCliSpec spec = { "rm", "CONTAINER...",
                             "Remove containers: their record, writable layer and log.", 1, -1,
                             "rrun rm [-f] [-v] CONTAINER... (see rrun ps -a)", NULL, FALSE };
  g_autoptr(RrunStore) store = NULL;
  g_autoptr(RrunIdMap) map = NULL;
  int failed = 0;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  if (!rrun_store_open (g->config, &store, error) || !rrun_cli_storage_idmap (g, &map, error))
    return FALSE;
  /* As docker: go on with the others when one fails, exit 125 at the end. */
  for (int i = 1; i < argc; i++)
    {
      g_autoptr(GError) local = NULL;
      g_autoptr(RrunState) state = NULL;

      if (!rrun_state_find_for_removal (g->config, argv[i], &state, &local)
          || !rrun_container_remove (g->config, store, map, state, force, volumes, &local))
        {
          rrun_log_print_error (local);
          failed++;
          continue;
        }
      printf ("%s\n", argv[i]);
      fflush (stdout);
    }
  *out_status = failed ? RRUN_EXIT_FAILED : 0;
  return TRUE;
}
