/* rrun rename CONTAINER NEW-NAME */
#include "cli/cli.h"
#include "error.h"

gboolean
rrun_cmd_rename (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  const RrunCliSpec spec = { "rename", "CONTAINER NEW-NAME", "Give a container a new name.",
                             2, 2, "rrun rename CONTAINER NEW-NAME (see rrun ps -a)", NULL,
                             FALSE };
  g_autoptr(RrunState) state = NULL;
  gboolean help;

  if (!rrun_cli_parse_args (&spec, NULL, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  return rrun_state_find_any (g->config, argv[1], &state, error)
         && rrun_state_rename (g->config, state, argv[2], error);
}
