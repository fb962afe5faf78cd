/* rrun healthcheck run CONTAINER: podman's; run the container's health check once now,
   record the result as the monitor's timer does, exit 0 when healthy, 1 when not. */
#include "cli/cli.h"
#include "container/health.h"
#include "container/record.h"
#include "error.h"

#include <stdio.h>
#include <string.h>

gboolean
rrun_cmd_healthcheck (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help;
  const RrunCliSpec spec = { "healthcheck run", "CONTAINER",
                             "Run a container's health check now; exit 0 when it is healthy, 1 "
                             "when not.", 1, 1, "rrun healthcheck run CONTAINER", NULL, FALSE };
  g_autoptr(RrunState) state = NULL;
  RrunHealthStatus status = RRUN_HEALTH_STARTING;

  if (argc < 2 || (strcmp (argv[1], "run") != 0 && strcmp (argv[1], "--help") != 0
                   && strcmp (argv[1], "-h") != 0))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "healthcheck: %s%s%s",
                  argc < 2 ? "no subcommand given" : "unknown subcommand \"",
                  argc < 2 ? "" : argv[1], argc < 2 ? "" : "\"");
      rrun_add_hint (error, "usage: rrun healthcheck run CONTAINER");
      return FALSE;
    }
  if (strcmp (argv[1], "run") == 0)
    {
      argc--;
      argv++;
    }
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
