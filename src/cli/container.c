/* rrun container SUBCOMMAND: docker's container group (ls, rm, prune, and the commands
   that take a container), and `container prune`. */
#include "cli/cli.h"
#include "cli/common.h"
#include "container/remove.h"
#include "error.h"
#include "log.h"

#include <stdio.h>

static gboolean
container_prune (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean force = FALSE, help;
  const GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Do not ask for confirmation", NULL },
    { NULL }
  };
  const RrunCliSpec spec = { "container prune", "", "Remove every stopped container.", 0, 0,
                             NULL, NULL, FALSE };
  g_autoptr(RrunStore) store = NULL;
  g_autoptr(RrunIdMap) map = NULL;
  g_autoptr(GPtrArray) states = NULL;
  int failed = 0;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  if (!force && !rrun_cli_confirm ("all stopped containers"))
    return TRUE;
  if (!rrun_store_open (g->config, &store, error) || !rrun_cli_storage_idmap (g, &map, error)
      || !rrun_state_list_all (g->config, TRUE, &states, error))
    return FALSE;
  printf ("Deleted Containers:\n");
  for (guint i = 0; i < states->len; i++)
    {
      RrunState *s = states->pdata[i];
      g_autoptr(GError) local = NULL;

      if (s->live)
        continue;
      if (!rrun_container_remove (g->config, store, map, s, FALSE, FALSE, &local))
        {
          /* Started again meanwhile: it is no longer stopped. */
          if (!g_error_matches (local, RRUN_ERROR, RRUN_ERROR_BUSY))
            {
              rrun_log_print_error (local);
              failed++;
            }
          continue;
        }
      printf ("%s\n", s->id);
    }
  *out_status = failed ? RRUN_EXIT_FAILED : 0;
  return TRUE;
}

static const RrunCommand container_commands[] = {
  { "ls", rrun_cmd_ps, "list containers (same as rrun ps)", FALSE },
  { "list", rrun_cmd_ps, "list containers", TRUE },
  { "ps", rrun_cmd_ps, "list containers", TRUE },
  { "rm", rrun_cmd_rm, "remove containers", FALSE },
  { "remove", rrun_cmd_rm, "remove containers", TRUE },
  { "prune", container_prune, "remove every stopped container", FALSE },
  { "rename", rrun_cmd_rename, "give a container a new name", FALSE },
  { "top", rrun_cmd_top, "list the processes of a running container", FALSE },
  { "pause", rrun_cmd_pause, "freeze running containers", FALSE },
  { "unpause", rrun_cmd_unpause, "thaw paused containers", FALSE },
  { "create", rrun_cmd_create, "create a container to run with rrun start", FALSE },
  { "exec", rrun_cmd_exec, "run a command in a running container", FALSE },
  { "logs", rrun_cmd_logs, "print a detached container's output", FALSE },
  { "stop", rrun_cmd_stop, "stop running containers", FALSE },
  { "kill", rrun_cmd_kill, "send a signal to running containers", FALSE },
  { "wait", rrun_cmd_wait, "wait for containers to exit", FALSE },
  { "start", rrun_cmd_start, "start stopped containers again", FALSE },
  { "restart", rrun_cmd_restart, "stop and start containers", FALSE },
  { "run", rrun_cmd_run, "run a command in a new container", FALSE },
  { "inspect", rrun_cmd_inspect, "show containers as JSON", FALSE },
  { "port", rrun_cmd_port, "list a container's published ports", FALSE },
  { "stats", rrun_cmd_stats, "resource use of running containers", FALSE },
  { "update", rrun_cmd_update, "change a running container's limits", FALSE },
  { NULL, NULL, NULL, FALSE },
};

gboolean
rrun_cmd_container (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return rrun_cli_run_group ("container", container_commands, "ls", g, argc, argv,
                             out_status, error);
}
