/* rrun wait [--condition=stopped|healthy|unhealthy|running] CONTAINER...: block until
   each exits (and print its exit code), or until it reaches the condition. */
#include "cli/cli.h"
#include "container/stop.h"
#include "error.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

/* Poll the record every 100 ms until the container is running (and, for a health
   condition, its health says so); an error once it cannot get there. */
static gboolean
wait_condition (const RrunConfig *config, const char *what, const char *condition,
                GError **error)
{
  gboolean running = strcmp (condition, "running") == 0;

  for (;;)
    {
      g_autoptr(RrunState) s = NULL;

      if (!rrun_state_find_any (config, what, &s, error))
        return FALSE;
      if (s->live && s->status == RRUN_STATUS_RUNNING
          && (running || g_strcmp0 (s->health, condition) == 0))
        return TRUE;
      if (!running && s->live && s->status == RRUN_STATUS_RUNNING && s->health == NULL)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "cannot wait for container \"%s\" to be %s: it has no health check",
                      what, condition);
          rrun_add_hint (error, "give it one with --health-cmd when it is created");
          return FALSE;
        }
      if (!s->live && s->status != RRUN_STATUS_CREATED)
        return rrun_throw (error, RRUN_ERROR_FAILED,
                           "container \"%s\" exited before it was %s", what, condition);
      g_usleep (100000);
    }
}

typedef struct
{
  const char *condition;
  gboolean stop_condition;
} WaitRequest;

static gboolean
wait_one (RrunGlobal *g, const char *name, RrunState *state, gpointer data, GError **error)
{
  const WaitRequest *r = data;
  int code = 0;

  if (r->stop_condition ? !rrun_container_wait_exit (g->config, state, &code, error)
                        : !wait_condition (g->config, name, r->condition, error))
    return FALSE;
  /* podman prints -1 for a condition that is no exit. */
  printf ("%d\n", r->stop_condition ? code : -1);
  fflush (stdout);
  return TRUE;
}

gboolean
rrun_cmd_wait (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  static const char *const conditions[] = { "stopped", "exited", "not-running", "healthy",
                                            "unhealthy", "running", NULL };
  gboolean help;
  g_autofree char *condition = NULL;
  const GOptionEntry entries[] = {
    { "condition", 0, 0, G_OPTION_ARG_STRING, &condition,
      "Wait until it is stopped (default), running, healthy or unhealthy", "STATE" },
    { NULL }
  };
  const RrunCliSpec spec = { "wait", "CONTAINER...",
                             "Wait until containers exit, then print their exit codes.", 1, -1,
                             "rrun wait [--condition=STATE] CONTAINER... (see rrun ps -a)", NULL,
                             FALSE };
  gboolean stop_condition;
  int failed = 0;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  if (condition != NULL && !g_strv_contains (conditions, condition))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "wait: invalid condition \"%s\"",
                  condition);
      rrun_add_hint (error, "use --condition=stopped, running, healthy or unhealthy");
      return FALSE;
    }
  stop_condition = condition == NULL || strcmp (condition, "stopped") == 0
                   || strcmp (condition, "exited") == 0
                   || strcmp (condition, "not-running") == 0;
  {
    WaitRequest r = { condition, stop_condition };

    failed = rrun_cli_for_each_container (g, argc, argv, wait_one, &r, FALSE, NULL);
  }
  *out_status = failed ? RRUN_EXIT_FAILED : 0;
  return TRUE;
}
