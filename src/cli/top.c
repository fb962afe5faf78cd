/* rrun top CONTAINER: the processes of a running container (host PIDs, as docker's). */
#include "cli/cli.h"
#include "container/processes.h"
#include "error.h"

#include <pwd.h>
#include <stdio.h>

gboolean
rrun_cmd_top (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  const RrunCliSpec spec = { "top", "CONTAINER",
                             "List the processes of a running container.", 1, 1,
                             "rrun top CONTAINER (see rrun ps)", NULL, FALSE };
  g_autoptr(RrunState) state = NULL;
  g_autoptr(GArray) procs = NULL;
  gboolean help;

  if (!rrun_cli_parse_args (&spec, NULL, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  if (!rrun_state_find (g->config, argv[1], &state, error)
      || !rrun_container_list_processes (state, &procs, error))
    return FALSE;
  printf ("%-10s %-8s %-8s %s\n", "UID", "PID", "PPID", "CMD");
  for (guint i = 0; i < procs->len; i++)
    {
      RrunContainerProcessInfo *p = &g_array_index (procs, RrunContainerProcessInfo, i);
      struct passwd *pw = getpwuid (p->uid);
      g_autofree char *uid = pw ? g_strdup (pw->pw_name) : g_strdup_printf ("%u", p->uid);

      printf ("%-10s %-8d %-8d %s\n", uid, (int) p->pid, (int) p->ppid, p->command);
    }
  return TRUE;
}
