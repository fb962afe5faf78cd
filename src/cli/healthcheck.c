/* rrun healthcheck run CONTAINER: podman's; run the container's health check once now,
   record the result as the monitor's timer does, exit 0 when healthy, 1 when not. */
#include "cli/cli.h"
#include "container/health.h"
#include "container/record.h"
#include "error.h"

#include <stdio.h>
#include <string.h>

static gboolean
healthcheck_run (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help;
  const RrunCliSpec spec = { "healthcheck run", "CONTAINER",
                             "Run a container's health check now; exit 0 when it is healthy, 1 "
                             "when not.", 1, 1, "rrun healthcheck run CONTAINER", NULL, FALSE };
  g_autoptr(RrunState) state = NULL;
  RrunHealthStatus status = RRUN_HEALTH_STARTING;

  if (!rrun_cli_parse_args (&spec, NULL, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  if (!rrun_state_find_any (g->config, argv[1], &state, error))
    return FALSE;
  if (!state->live || state->status != RRUN_STATUS_RUNNING)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "cannot check the health of container \"%s\": it is not running", argv[1]);
      rrun_add_hint (error, "start it first: rrun start %s", argv[1]);
      return FALSE;
    }
  if (!rrun_health_run_once (g->config, state->id, &status, error))
    {
      if (error && g_error_matches (*error, RRUN_ERROR, RRUN_ERROR_NOT_FOUND))
        {
          g_clear_error (error);
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "container \"%s\" has no health check", argv[1]);
          rrun_add_hint (error, "give it one with --health-cmd when it is created");
        }
      return FALSE;
    }
  /* podman: nothing when healthy, "unhealthy" and status 1 otherwise. */
  if (status != RRUN_HEALTH_HEALTHY)
    {
      printf ("%s\n", rrun_health_status_name (status));
      *out_status = 1;
    }
  return TRUE;
}

static const RrunCommand healthcheck_commands[] = {
  { "run", healthcheck_run, "run a container's health check now", FALSE },
  { NULL, NULL, NULL, FALSE },
};

gboolean
rrun_cmd_healthcheck (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return rrun_cli_run_group ("healthcheck", healthcheck_commands, "run CONTAINER", g, argc,
                             argv, out_status, error);
}
