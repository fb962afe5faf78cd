/* rrun stop [-t N] CONTAINER... and rrun restart [-t N] CONTAINER... */
#include "cli/cli.h"
#include "container/stop.h"
#include "error.h"
#include "log.h"

#include <stdio.h>

typedef struct
{
  int timeout;
  gboolean restart;
} StopRequest;

static gboolean
stop_one (RrunGlobal *g, const char *name, RrunState *state, gpointer data, GError **error)
{
  const StopRequest *r = data;
  g_autoptr(RrunState) stopped = NULL;

  (void) name;
  if (!rrun_container_stop (g->config, state, r->timeout, error))
    return FALSE;
  return !r->restart
         || (rrun_state_find_any (g->config, state->id, &stopped, error)
             && rrun_container_start_again (g->config, stopped, error));
}

static gboolean
stop_or_restart (const char *command, gboolean restart, RrunGlobal *g, int argc, char **argv,
                 int *out_status, GError **error)
{
  int timeout = -1;
  gboolean help;
  const GOptionEntry entries[] = {
    { "time", 't', 0, G_OPTION_ARG_INT, &timeout,
      "Seconds to wait before SIGKILL (default: its --stop-timeout, else 10)", "N" },
    { NULL }
  };
  g_autofree char *usage = g_strdup_printf ("rrun %s [-t N] CONTAINER... (see rrun ps%s)",
                                            command, restart ? " -a" : "");
  const RrunCliSpec spec = { command, "CONTAINER...",
                             restart ? "Stop containers (if running) and start them again."
                                     : "Stop running containers: the stop signal, then "
                                       "SIGKILL after the timeout.",
                             1, -1, usage, NULL, FALSE };
  int failed = 0;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  {
    StopRequest r = { timeout, restart };

    failed = rrun_cli_for_each_container (g, argc, argv, stop_one, &r, TRUE, NULL);
  }
  *out_status = failed ? RRUN_EXIT_FAILED : 0;
  return TRUE;
}

gboolean
rrun_cmd_stop (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return stop_or_restart ("stop", FALSE, g, argc, argv, out_status, error);
}

gboolean
rrun_cmd_restart (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return stop_or_restart ("restart", TRUE, g, argc, argv, out_status, error);
}
