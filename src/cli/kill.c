/* rrun kill [-s SIGNAL] CONTAINER... */
#include "cli/cli.h"
#include "container/remove.h"
#include "container/stop.h"
#include "container/signal-name.h"
#include "error.h"
#include "log.h"

#include <signal.h>
#include <stdio.h>

static gboolean
kill_one (RrunGlobal *g, const char *name, RrunState *state, gpointer data, GError **error)
{
  int signo = *(const int *) data;

  if (!state->live || state->status != RRUN_STATUS_RUNNING)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "cannot kill container \"%s\": it is not running", name);
      rrun_add_hint (error, "start it first: rrun start %s", name);
      return FALSE;
    }
  /* docker: a container killed by hand is not restarted by its policy (a signal that
     asks it to end; one such as SIGHUP or SIGUSR1 may mean reload). */
  if ((signo == SIGKILL || signo == SIGTERM || signo == SIGINT || signo == SIGQUIT
       || signo == state->stop_signal)
      && !rrun_container_mark_stopped (g->config, state->id, error))
    return FALSE;
  return rrun_container_signal (state, signo, error);
}

gboolean
rrun_cmd_kill (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autofree char *signal_text = NULL;
  int signo = SIGKILL, failed = 0;
  gboolean help;
  const GOptionEntry entries[] = {
    { "signal", 's', 0, G_OPTION_ARG_STRING, &signal_text,
      "The signal to send (default KILL): a name or a number", "SIGNAL" },
    { NULL }
  };
  const RrunCliSpec spec = { "kill", "CONTAINER...",
                             "Send a signal to the PID 1 of running containers.", 1, -1,
                             "rrun kill [-s SIGNAL] CONTAINER... (see rrun ps)", NULL, FALSE };

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  if (signal_text != NULL && !rrun_signal_parse (signal_text, &signo, error))
    return FALSE;
  failed = rrun_cli_for_each_container (g, argc, argv, kill_one, &signo, TRUE, NULL);
  *out_status = failed ? RRUN_EXIT_FAILED : 0;
  return TRUE;
}
