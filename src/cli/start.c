/* rrun start CONTAINER...: run stopped containers again, detached, from their stored
   spec and writable layer; with -a, print its output and wait (with -i, through its
   attach socket: stdin and the terminal too, container/attach.h). */
#include "cli/cli.h"
#include "container/attach.h"
#include "container/pid1.h"
#include "util/fd.h"
#include "container/log-reader.h"
#include "container/log-writer.h"
#include "container/policy.h"
#include "container/stop.h"
#include "error.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

/* Whether s matches every key of --filter (any value of a key). */
static gboolean
filters_match (char **filters, const RrunState *s)
{
  g_autoptr(GHashTable) keys = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter it;
  gpointer key, matched;

  for (guint i = 0; filters && filters[i]; i++)
    {
      const char *eq = strchr (filters[i], '=');
      g_autofree char *k = g_strndup (filters[i], (gsize) (eq - filters[i]));
      const char *v = eq + 1;
      gboolean m;

      if (strcmp (k, "restart-policy") == 0)
        {
          RrunRestartPolicy p = { RRUN_RESTART_NO, 0 };
          rrun_restart_policy_parse (s->restart_policy, &p, NULL);
          m = strcmp (rrun_restart_mode_name (p.mode), v) == 0;
        }
      else
        m = g_strcmp0 (s->name, v) == 0;
      /* Values of one key: any of them. */
      if (!g_hash_table_contains (keys, k) || m)
        g_hash_table_insert (keys, (gpointer) g_intern_string (k), GINT_TO_POINTER (m));
    }
  g_hash_table_iter_init (&it, keys);
  while (g_hash_table_iter_next (&it, &key, &matched))
    if (!GPOINTER_TO_INT (matched))
      return FALSE;
  return TRUE;
}

/* rrun start --all [--filter K=V]: podman's, for starting `--restart always` containers
   at login (rrun generate systemd --all). An unless-stopped container that rrun stop
   stopped stays stopped, as docker leaves it when its daemon starts. */
static gboolean
start_all (RrunGlobal *g, gboolean all, char **filters, int argc, int *out_status,
           GError **error)
{
  g_autoptr(GPtrArray) states = NULL;
  int failed = 0;

  if (!all || argc > 1)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  all ? "start: --all takes no container names" : "start: --filter needs --all");
      rrun_add_hint (error, "usage: rrun start --all [--filter restart-policy=always]");
      return FALSE;
    }
  for (guint i = 0; filters && filters[i]; i++)
    if (!g_str_has_prefix (filters[i], "restart-policy=") && !g_str_has_prefix (filters[i], "name="))
      {
        rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "start: invalid filter \"%s\"",
                    filters[i]);
        rrun_add_hint (error, "filters: restart-policy=no|on-failure|always|unless-stopped, "
                              "name=NAME");
        return FALSE;
      }
  if (!rrun_state_list_all (g->config, TRUE, &states, error))
    return FALSE;
  for (guint i = 0; i < states->len; i++)
    {
      const RrunState *s = states->pdata[i];
      g_autoptr(GError) local = NULL;

      if (s->live || !filters_match (filters, s))
        continue;
      if (s->manually_stopped && g_strcmp0 (s->restart_policy, "unless-stopped") == 0)
        continue;
      if (!rrun_container_start_again (g->config, s, &local))
        {
          rrun_log_print_error (local);
          failed++;
          continue;
        }
      printf ("%s\n", s->name && *s->name ? s->name : s->id);
      fflush (stdout);
    }
  *out_status = failed ? RRUN_EXIT_FAILED : 0;
  return TRUE;
}

static gboolean
start_one (RrunGlobal *g, const char *name, RrunState *state, gpointer data, GError **error)
{
  (void) name;
  (void) data;
  return rrun_container_start_again (g->config, state, error);
}

gboolean
rrun_cmd_start (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help, attach = FALSE, all = FALSE, interactive = FALSE;
  g_autofree char *detach_keys = NULL;
  g_autoptr(GByteArray) keys = NULL;
  g_auto(GStrv) filters = NULL;
  const GOptionEntry entries[] = {
    { "attach", 'a', 0, G_OPTION_ARG_NONE, &attach,
      "Print its output until it exits, then exit with its status (one container)", NULL },
    { "interactive", 'i', 0, G_OPTION_ARG_NONE, &interactive,
      "Attach stdin too (and the terminal of a container created with -t); implies -a",
      NULL },
    { "detach-keys", 0, 0, G_OPTION_ARG_STRING, &detach_keys,
      "With -i and a terminal: the keys that detach (default ctrl-p,ctrl-q; \"\" for none)",
      "KEYS" },
    { "all", 0, 0, G_OPTION_ARG_NONE, &all,
      "Start every stopped container (that --filter selects)", NULL },
    { "filter", 'f', 0, G_OPTION_ARG_STRING_ARRAY, &filters,
      "With --all: restart-policy=POLICY or name=NAME (values of one key: any of them)",
      "K=V" },
    { NULL }
  };
  const RrunCliSpec spec = { "start", "CONTAINER...",
                             "Start stopped containers again, in the background.", 0, -1,
                             "rrun start [-a [-i]] CONTAINER... or rrun start --all [--filter K=V] "
                             "(see rrun ps -a)", NULL, FALSE };
  int failed = 0, last_code = 0;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  if (interactive)
    attach = TRUE;
  if (!rrun_attach_parse_detach_keys (detach_keys ? detach_keys : "ctrl-p,ctrl-q", &keys,
                                      error))
    return FALSE;
  if (all || filters)
    return start_all (g, all, filters, argc, out_status, error);
  if (argc < 2)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "start: no container given");
      rrun_add_hint (error, "usage: rrun start [-a] CONTAINER... or rrun start --all");
      return FALSE;
    }
  if (attach && argc != 2)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "start: -a takes one container");
  if (attach)
    {
      /* docker's start -a: this run's output (the log from now on), then its status. */
      g_autoptr(RrunState) state = NULL;
      g_autofree char *dir = NULL, *path = NULL;
      RrunLogReadOptions o = { .follow = TRUE, .tail = -1 };
      int code = 0;

      o.since_ns = g_get_real_time () * 1000;
      if (!rrun_state_find_any (g->config, argv[1], &state, error))
        return FALSE;
      if (state->live)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "start: container \"%s\" is already running", argv[1]);
      if (!rrun_container_start_again (g->config, state, error))
        return FALSE;
      if (interactive)
        {
          g_autoptr(RrunState) now = NULL;
          g_autoptr(GError) local = NULL;
          rrun_autofd int sock = -1;
          rrun_autofd int pidfd = -1;

          /* Created with -i or -t: stdin (and the terminal) through the attach socket,
             with the output this run wrote before we connected replayed first. Gone
             already, or neither: the log as below. */
          if (rrun_state_find_any (g->config, state->id, &now, NULL) && now->live
              && now->run_dir != NULL && rrun_attach_connect (now->run_dir, &sock, &local))
            {
              RrunAttachOptions ao = { FALSE, TRUE, -1, keys };
              RrunAttachEnd end;

              /* --sig-proxy=false, given to run or create, holds here too. */
              if (!now->no_sig_proxy && rrun_pid1_open (now, &pidfd, NULL))
                ao.sig_proxy_pidfd = pidfd;
              if (!rrun_attach_run (sock, &ao, &end, error))
                return FALSE;
              if (end == RRUN_ATTACH_DETACHED)
                fputs ("read escape sequence\n", stderr);
              if (end != RRUN_ATTACH_ENDED)
                return TRUE;
              if (!rrun_container_wait_exit (g->config, state, &code, error))
                return FALSE;
              *out_status = code < 0 ? RRUN_EXIT_FAILED : code;
              return TRUE;
            }
        }
      dir = rrun_record_dir (g->config, state->id);
      path = g_build_filename (dir, RRUN_LOG_FILE, NULL);
      if (!rrun_log_read (path, dir, &o, error)
          || !rrun_container_wait_exit (g->config, state, &code, error))
        return FALSE;
      *out_status = code < 0 ? RRUN_EXIT_FAILED : code;
      return TRUE;
    }
  failed = rrun_cli_for_each_container (g, argc, argv, start_one, NULL, TRUE, &last_code);
  /* One container: its start error's status (126, 127), as run's. */
  *out_status = failed == 0 ? 0 : argc == 2 ? last_code : RRUN_EXIT_FAILED;
  return TRUE;
}
