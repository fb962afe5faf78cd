/* rrun system check [--format table|json]: the machine's readiness for rootless
   containers, one line per check with the fix for each that is not PASS. */
#include "cli/cli.h"
#include "system/check.h"
#include "util/json.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

static void
print_json (GPtrArray *checks, int status)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  rrun_json_add_bool (b, "ok", status == 0);
  json_builder_set_member_name (b, "checks");
  json_builder_begin_array (b);
  for (guint i = 0; i < checks->len; i++)
    {
      RrunCheck *c = checks->pdata[i];

      json_builder_begin_object (b);
      rrun_json_add_string (b, "name", c->name);
      rrun_json_add_string (b, "status", rrun_check_status_name (c->status));
      rrun_json_add_string (b, "detail", c->detail);
      rrun_json_add_string (b, "fix", c->fix);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  rrun_cli_print_json (b);
}

static gboolean
system_check (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autofree char *format = NULL;
  const RrunCliSpec spec = { "system check", "",
                             "Check what this machine provides for rootless containers and "
                             "print the fix for each problem.\n"
                             "Exit status 0 when every check is PASS or WARN, else 1.",
                             0, 0, NULL, &format, FALSE };
  g_autoptr(GPtrArray) checks = NULL;
  gboolean help;

  if (!rrun_cli_parse_args (&spec, NULL, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  checks = rrun_check_all (g->config);
  *out_status = rrun_check_exit_status (checks);
  if (rrun_cli_format_is_json (format))
    print_json (checks, *out_status);
  else
    for (guint i = 0; i < checks->len; i++)
      {
        g_autofree char *line = rrun_check_format (checks->pdata[i]);
        fputs (line, stdout);
      }
  return TRUE;
}

static const RrunCommand system_commands[] = {
  { "check", system_check, "check the machine for rootless containers, with fixes", FALSE },
  { NULL, NULL, NULL, FALSE },
};

gboolean
rrun_cmd_system (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return rrun_cli_run_group ("system", system_commands, "check", g, argc, argv, out_status,
                             error);
}
