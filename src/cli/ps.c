/* rrun ps [--format json] and rrun port CONTAINER: the running containers. */
#include "cli/cli.h"
#include "error.h"
#include "network.h"
#include "state.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

gboolean
rrun_cmd_ps (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autofree char *format = NULL;
  gboolean quiet = FALSE, all = FALSE;
  GOptionEntry entries[] = {
    { "format", 0, 0, G_OPTION_ARG_STRING, &format, "table (default) or json", "FORMAT" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Only IDs", NULL },
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "Same as without (only running ones are kept)",
      NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr(GPtrArray) states = NULL;

  g_option_context_set_summary (ctx, "List running containers.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rrun_cli_parse (ctx, "ps", &argc, &argv, error))
    return FALSE;
  if (!rrun_cli_check_format ("ps", format, error))
    return FALSE;
  if (!rrun_state_list (g->config, &states, error))
    return FALSE;
  if (g_strcmp0 (format, "json") == 0)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_array (b);
      for (guint i = 0; i < states->len; i++)
        {
          RrunState *s = states->pdata[i];
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "Id");
          json_builder_add_string_value (b, s->id);
          json_builder_set_member_name (b, "Name");
          json_builder_add_string_value (b, s->name);
          json_builder_set_member_name (b, "Image");
          json_builder_add_string_value (b, s->image);
          json_builder_set_member_name (b, "Command");
          json_builder_add_string_value (b, s->command);
          json_builder_set_member_name (b, "Pid");
          json_builder_add_int_value (b, s->pid);
          json_builder_set_member_name (b, "Created");
          json_builder_add_int_value (b, s->created);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      rrun_cli_print_json (b);
    }
  else
    {
      if (!quiet)
        printf ("%-12s  %-30s  %-24s  %-8s  %s\n", "CONTAINER ID", "IMAGE", "COMMAND", "PID",
                "NAMES");
      for (guint i = 0; i < states->len; i++)
        {
          RrunState *s = states->pdata[i];
          if (quiet)
            printf ("%.12s\n", s->id);
          else
            printf ("%-12.12s  %-30s  %-24.24s  %-8d  %s\n", s->id, s->image, s->command,
                    (int) s->pid, s->name);
        }
    }
  *out_status = 0;
  return TRUE;
}

gboolean
rrun_cmd_port (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autoptr(GOptionContext) ctx = g_option_context_new ("CONTAINER");
  g_autoptr(RrunState) state = NULL;
  g_autoptr(GArray) ports = NULL;
  g_autofree char *text = NULL;

  g_option_context_set_summary (ctx, "List the published ports of a running container.");
  if (!rrun_cli_parse (ctx, "port", &argc, &argv, error))
    return FALSE;
  if (argc != 2)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "port: name one container");
      rrun_add_hint (error, "usage: rrun port CONTAINER (see rrun ps)");
      return FALSE;
    }
  if (!rrun_state_find (g->config, argv[1], &state, error)
      || !rrun_network_query_ports (state->run_dir, &ports, error))
    return FALSE;
  text = rrun_network_ports_text (ports);
  fputs (text, stdout);
  *out_status = 0;
  return TRUE;
}
