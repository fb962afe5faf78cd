/* rrun system check [--format table|json]: the machine's readiness for rootless
   containers, one line per check with the fix for each that is not PASS.
   rrun system reset [-f]: empty the image store. */
#include "cli/cli.h"
#include "cli/common.h"
#include "error.h"
#include "container/record.h"
#include "storage/store.h"
#include "system/check.h"
#include "util/json-value.h"

#include <stdio.h>
#include <string.h>

static void
print_json (GPtrArray *checks, int status)
{
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();

  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_bool (b, "ok", status == 0);
  rrun_json_builder_set_member_name (b, "checks");
  rrun_json_builder_begin_array (b);
  for (guint i = 0; i < checks->len; i++)
    {
      RrunCheck *c = checks->pdata[i];

      rrun_json_builder_begin_object (b);
      rrun_json_builder_member_string (b, "name", c->name);
      rrun_json_builder_member_string (b, "status", rrun_check_status_name (c->status));
      rrun_json_builder_member_string (b, "detail", c->detail);
      rrun_json_builder_member_string (b, "fix", c->fix);
      rrun_json_builder_end_object (b);
    }
  rrun_json_builder_end_array (b);
  rrun_json_builder_end_object (b);
  rrun_cli_print_json_builder (b);
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

/* rrun system reset [-f]: podman's; every image and layer of the store goes. */
static gboolean
system_reset (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean force = FALSE, help;
  const GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Do not ask for confirmation", NULL },
    { NULL }
  };
  const RrunCliSpec spec = { "system reset", "",
                             "Remove every image, layer and container layer of the image "
                             "store (files of subordinate IDs included). Read-only image "
                             "stores are not touched. Refused while a container runs.",
                             0, 0, "rrun system reset [-f]", NULL, FALSE };
  g_autoptr(RrunStore) store = NULL;
  g_autoptr(RrunIdMap) map = NULL;
  g_autoptr(GPtrArray) running = NULL;
  g_autofree char *what = NULL;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  if (!rrun_state_list (g->config, &running, error))
    return FALSE;
  if (running->len > 0)
    {
      rrun_throw (error, RRUN_ERROR_BUSY, "cannot reset: %u container%s running",
                  running->len, running->len == 1 ? " is" : "s are");
      rrun_add_hint (error, "stop them first (rrun ps lists them)");
      return FALSE;
    }
  what = g_strdup_printf ("all images, layers and container layers in %s",
                          g->config->storage_root);
  if (!force && !rrun_cli_confirm (what))
    return rrun_throw (error, RRUN_ERROR_FAILED, "system reset cancelled: not confirmed");
  if (!rrun_store_open (g->config, &store, error) || !rrun_cli_storage_idmap (g, &map, error)
      || !rrun_store_reset (store, map, error))
    return FALSE;
  printf ("Removed the image store %s\n", g->config->storage_root);
  return TRUE;
}

static const RrunCommand system_commands[] = {
  { "check", system_check, "check the machine for rootless containers, with fixes", FALSE },
  { "reset", system_reset, "remove every image and layer of the store", FALSE },
  { NULL, NULL, NULL, FALSE },
};

gboolean
rrun_cmd_system (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return rrun_cli_run_group ("system", system_commands, "check", g, argc, argv, out_status,
                             error);
}
