#include "cli/cli.h"
#include "error.h"

#include <stdio.h>
#include <string.h>

static const RrunCommand commands[] = {
  { "run", rrun_cmd_run, "run a command in a new container", FALSE },
  { "pull", rrun_cmd_pull, "pull an image from a registry", FALSE },
  { "tag", rrun_cmd_tag, "add a name to an image", FALSE },
  { "import", rrun_cmd_import, "make an image from a root file system tarball", FALSE },
  { "load", rrun_cmd_load, "load images from a docker-archive or OCI archive", FALSE },
  { "save", rrun_cmd_save, "save images to a docker-archive or OCI archive", FALSE },
  { "images", rrun_cmd_images, "list images", FALSE },
  { "rmi", rrun_cmd_rmi, "remove images", FALSE },
  { "login", rrun_cmd_login, "log in to a registry", FALSE },
  { "logout", rrun_cmd_logout, "log out of a registry", FALSE },
  { "ps", rrun_cmd_ps, "list running containers", FALSE },
  { "stats", rrun_cmd_stats, "show resource use of running containers", FALSE },
  { "port", rrun_cmd_port, "list a container's published ports", FALSE },
  { "info", rrun_cmd_info, "show what rrun uses on this machine and why", FALSE },
  { "system", rrun_cmd_system, "check the machine for rootless containers (system check)",
    FALSE },
  { "version", rrun_cmd_version, "print the version", FALSE },
  { "help", rrun_cmd_help, "show help for rrun or a command", FALSE },
  { "__internal", rrun_cmd_internal, "helpers rrun runs inside its user namespace", TRUE },
  { "__fetch", rrun_cmd_fetch_internal, "fetch an image's blobs into a directory", TRUE },
  { NULL, NULL, NULL, FALSE },
};

const RrunCommand *
rrun_cli_commands (void)
{
  return commands;
}

const RrunCommand *
rrun_cli_find_command (const char *name)
{
  for (const RrunCommand *c = commands; c->name != NULL; c++)
    if (strcmp (c->name, name) == 0)
      return c;
  return NULL;
}

gboolean
rrun_cli_parse (GOptionContext *ctx, const char *command, int *argc, char ***argv,
                GError **error)
{
  g_autoptr(GError) local = NULL;

  g_option_context_set_strict_posix (ctx, TRUE);
  if (g_option_context_parse (ctx, argc, argv, &local))
    return TRUE;
  rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s: %s", command,
              g_utf8_strdown (local->message, -1));
  rrun_add_hint (error, "see: rrun %s --help", command);
  return FALSE;
}

gboolean
rrun_cli_check_format (const char *command, const char *format, GError **error)
{
  if (format == NULL || strcmp (format, "json") == 0 || strcmp (format, "table") == 0)
    return TRUE;
  rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
              "invalid --format \"%s\": expected table or json", format);
  rrun_add_hint (error, "see: rrun %s --help", command);
  return FALSE;
}

void
rrun_cli_print_json (JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = NULL;

  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  printf ("%s\n", text);
}
