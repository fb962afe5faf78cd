/* rrun port CONTAINER: the published ports of a running container. */
#include "cli/cli.h"
#include "container/record.h"
#include "network/network.h"

#include <stdio.h>

gboolean
rrun_cmd_port (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  const RrunCliSpec spec = { "port", "CONTAINER",
                             "List the published ports of a running container.", 1, 1,
                             "rrun port CONTAINER (see rrun ps)", NULL, FALSE };
  g_autoptr(RrunState) state = NULL;
  g_autoptr(GArray) ports = NULL;
  g_autofree char *text = NULL;
  gboolean help;

  if (!rrun_cli_parse_args (&spec, NULL, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  if (!rrun_state_find (g->config, argv[1], &state, error))
    return FALSE;
  /* Only rrun-net publishes ports (slirp, or a user-defined network's container with -p):
     other modes have none, which is no error. */
  if (state->network != NULL && !g_str_has_prefix (state->network, "slirp"))
    {
      g_autofree char *sock = g_build_filename (state->run_dir, "net.sock", NULL);

      if (!g_file_test (sock, G_FILE_TEST_EXISTS))
        return TRUE;
    }
  if (!rrun_network_query_ports (state->run_dir, &ports, error))
    return FALSE;
  text = rrun_network_ports_text (ports);
  fputs (text, stdout);
  return TRUE;
}
