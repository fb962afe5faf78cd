/* rrun pause CONTAINER... and rrun unpause CONTAINER... */
#include "cli/cli.h"
#include "container/pause.h"
#include "error.h"
#include "log.h"

#include <stdio.h>

static gboolean
freeze_one (RrunGlobal *g, const char *name, RrunState *state, gpointer data, GError **error)
{
  (void) g;
  (void) name;
  return rrun_container_freeze (state, GPOINTER_TO_INT (data), error);
}

static gboolean
pause_or_unpause (const char *command, gboolean freeze, RrunGlobal *g, int argc, char **argv,
                  int *out_status, GError **error)
{
  g_autofree char *usage = g_strdup_printf ("rrun %s CONTAINER... (see rrun ps)", command);
  const RrunCliSpec spec = { command, "CONTAINER...",
                             freeze ? "Freeze every process of running containers."
                                    : "Thaw paused containers.",
                             1, -1, usage, NULL, FALSE };
  gboolean help;
  int failed = 0;

  if (!rrun_cli_parse_args (&spec, NULL, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  failed = rrun_cli_for_each_container (g, argc, argv, freeze_one, GINT_TO_POINTER (freeze),
                                        TRUE, NULL);
  *out_status = failed ? RRUN_EXIT_FAILED : 0;
  return TRUE;
}

gboolean
rrun_cmd_pause (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return pause_or_unpause ("pause", TRUE, g, argc, argv, out_status, error);
}

gboolean
rrun_cmd_unpause (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return pause_or_unpause ("unpause", FALSE, g, argc, argv, out_status, error);
}
