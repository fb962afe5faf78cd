/* rrun container SUBCOMMAND: docker's container group (ls, rm, prune, and the commands
   that take a container), and `container prune`. */
#include "cli/cli.h"
#include "cli/common.h"
#include "container/log-reader.h"
#include "container/remove.h"
#include "error.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

/* label=KEY or label=KEY=VALUE: the container has the label (with that value). */
static gboolean
has_label (const RrunState *s, const char *v)
{
  const char *eq = strchr (v, '=');
  gsize klen = eq ? (gsize) (eq - v) : strlen (v);

  for (guint i = 0; s->labels && s->labels[i]; i++)
    {
      const char *l = s->labels[i];
      const char *leq = strchr (l, '=');
      gsize llen = leq ? (gsize) (leq - l) : strlen (l);

      if (llen == klen && strncmp (l, v, klen) == 0
          && (eq == NULL || strcmp (leq ? leq + 1 : "", eq + 1) == 0))
        return TRUE;
    }
  return FALSE;
}

/* docker's container prune filters: until=TIME (created before it), label=KEY[=VALUE]
   and label!=KEY[=VALUE]; each given filter must hold. */
typedef struct
{
  gint64 until_s; /* 0: none */
  GPtrArray *labels, *not_labels;
} PruneFilters;

static gboolean
parse_prune_filters (char **filters, PruneFilters *f, GError **error)
{
  for (guint i = 0; filters && filters[i]; i++)
    {
      const char *v = filters[i];
      gint64 ns;

      if (g_str_has_prefix (v, "until="))
        {
          if (!rrun_log_parse_time (v + 6, g_get_real_time () * 1000, &ns, error))
            {
              g_prefix_error (error, "container prune: invalid filter \"%s\": ", v);
              return FALSE;
            }
          f->until_s = ns / 1000000000;
        }
      else if (g_str_has_prefix (v, "label!=") && v[7] != '\0')
        g_ptr_array_add (f->not_labels, (char *) v + 7);
      else if (g_str_has_prefix (v, "label=") && v[6] != '\0')
        g_ptr_array_add (f->labels, (char *) v + 6);
      else
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "container prune: invalid filter \"%s\"", v);
          rrun_add_hint (error, "filters: until=TIME, label=KEY[=VALUE], label!=KEY[=VALUE]");
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
prune_filters_match (const PruneFilters *f, const RrunState *s)
{
  if (f->until_s != 0 && s->created >= f->until_s)
    return FALSE;
  for (guint i = 0; i < f->labels->len; i++)
    if (!has_label (s, f->labels->pdata[i]))
      return FALSE;
  for (guint i = 0; i < f->not_labels->len; i++)
    if (has_label (s, f->not_labels->pdata[i]))
      return FALSE;
  return TRUE;
}

static gboolean
container_prune (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean force = FALSE, help;
  g_auto(GStrv) filter_args = NULL;
  g_autoptr(GPtrArray) labels = g_ptr_array_new ();
  g_autoptr(GPtrArray) not_labels = g_ptr_array_new ();
  PruneFilters filters = { 0, labels, not_labels };
  const GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Do not ask for confirmation", NULL },
    { "filter", 0, 0, G_OPTION_ARG_STRING_ARRAY, &filter_args,
      "Only containers created before until=TIME, with label=KEY[=VALUE], without "
      "label!=KEY[=VALUE]", "FILTER" },
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
  if (!parse_prune_filters (filter_args, &filters, error))
    return FALSE;
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

      if (s->live || !prune_filters_match (&filters, s))
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
