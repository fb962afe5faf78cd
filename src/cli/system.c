/* rrun system check [--format table|json]: the machine's readiness for rootless
   containers, one line per check with the fix for each that is not PASS. */
#include "cli/cli.h"
#include "cli/common-store.h"
#include "error.h"
#include "system/check.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

static void
print_json (GPtrArray *checks, int status)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ok");
  json_builder_add_boolean_value (b, status == 0);
  json_builder_set_member_name (b, "checks");
  json_builder_begin_array (b);
  for (guint i = 0; i < checks->len; i++)
    {
      RrunCheck *c = checks->pdata[i];

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, c->name);
      json_builder_set_member_name (b, "status");
      json_builder_add_string_value (b, rrun_check_status_name (c->status));
      json_builder_set_member_name (b, "detail");
      json_builder_add_string_value (b, c->detail);
      json_builder_set_member_name (b, "fix");
      if (c->fix)
        json_builder_add_string_value (b, c->fix);
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  rrun_cli_print_json (b);
}

static gboolean
system_check (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help = FALSE;
  g_autofree char *format = NULL;
  GOptionEntry entries[] = {
    { "format", 0, 0, G_OPTION_ARG_STRING, &format, "Output format: table (default) or json",
      "FORMAT" },
    { "help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show this help", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("");
  g_autoptr(GPtrArray) checks = NULL;
  int status;

  g_option_context_set_help_enabled (ctx, FALSE);
  g_option_context_set_summary (ctx, "Check what this machine provides for rootless "
                                     "containers and print the fix for each problem.\n"
                                     "Exit status 0 when every check is PASS or WARN, else 1.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rrun_cli_parse (ctx, "system check", &argc, &argv, error))
    return FALSE;
  if (help)
    {
      rrun_cli_print_help (ctx, "system check");
      *out_status = 0;
      return TRUE;
    }
  if (argc > 1)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "system check: unexpected argument \"%s\"", argv[1]);
      rrun_add_hint (error, "see: rrun system check --help");
      return FALSE;
    }
  if (!rrun_cli_check_format ("system", format, error))
    return FALSE;
  checks = rrun_check_all (g->config);
  status = rrun_check_exit_status (checks);
  if (g_strcmp0 (format, "json") == 0)
    print_json (checks, status);
  else
    for (guint i = 0; i < checks->len; i++)
      {
        g_autofree char *line = rrun_check_format (checks->pdata[i]);
        fputs (line, stdout);
      }
  *out_status = status;
  return TRUE;
}

gboolean
rrun_cmd_system (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  if (argc < 2)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "system: missing subcommand");
      rrun_add_hint (error, "for example: rrun system check");
      return FALSE;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      printf ("Usage: rrun system SUBCOMMAND\n\n"
              "Subcommands:\n"
              "  check      check the machine for rootless containers, with fixes\n");
      *out_status = 0;
      return TRUE;
    }
  if (strcmp (argv[1], "check") == 0)
    return system_check (g, argc - 1, argv + 1, out_status, error);
  rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "system: unknown subcommand \"%s\"", argv[1]);
  rrun_add_hint (error, "see: rrun system --help");
  return FALSE;
}
