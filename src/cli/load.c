/* rrun load [-i FILE] [-q]: images from a docker-archive, an OCI archive or an OCI
   layout directory (standard input when no file is named, as docker does). */
#include "cli/cli.h"
#include "cli/common.h"
#include "error.h"
#include "log.h"
#include "transport/archive.h"

#include <stdio.h>

gboolean
rrun_cmd_load (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean quiet = FALSE, help = FALSE;
  g_autofree char *input = NULL;
  GOptionEntry entries[]
      = { { "input", 'i', 0, G_OPTION_ARG_FILENAME, &input,
            "Read from FILE (an archive or an OCI layout directory) instead of standard input",
            "FILE" },
          { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print nothing but errors", NULL },
          { "help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show this help", NULL },
          { NULL } };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("");
  g_autoptr (RrunStore) store = NULL;
  g_autoptr (RrunIdMap) map = NULL;
  g_autoptr (GPtrArray) loaded = NULL;
  const char *what;

  g_option_context_set_help_enabled (ctx, FALSE);
  g_option_context_set_summary (
      ctx, "Load images from a docker-archive (as 'docker save', 'podman save' or skopeo's\n"
           "docker-archive: write it), an OCI archive or an OCI layout directory. Every\n"
           "blob is checked against its digest; names come from the archive, and an\n"
           "image without one loads untagged.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rrun_cli_parse (ctx, "load", &argc, &argv, error))
    return FALSE;
  if (help)
    {
      rrun_cli_print_help (ctx, "load");
      *out_status = 0;
      return TRUE;
    }
  if (argc != 1)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "load: unexpected argument \"%s\"", argv[1]);
      rrun_add_hint (error, "usage: rrun load -i FILE (or: rrun load < FILE)");
      return FALSE;
    }
  if (quiet)
    rrun_log_set_level (RRUN_LOG_ERROR);
  what = input && g_strcmp0 (input, "-") != 0 ? input : "standard input";
  if (!rrun_store_open (g->config, &store, error) || !rrun_cli_storage_idmap (g, &map, error))
    return FALSE;
  if (!rrun_archive_load (store, map, input ? input : "-", &loaded, error))
    {
      if (input && g_strcmp0 (input, "-") != 0)
        g_prefix_error (error, "cannot load \"%s\": ", what);
      else
        g_prefix_error (error, "cannot load from %s: ", what);
      return FALSE;
    }
  for (guint i = 0; i < loaded->len && !quiet; i++)
    printf ("%s\n", (char *)loaded->pdata[i]);
  *out_status = 0;
  return TRUE;
}
