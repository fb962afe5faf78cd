/* rrun import [--quiet] TAR NAME: a root file system tarball becomes a one-layer image. */
#include "cli/cli.h"
#include "cli/common.h"
#include "error.h"
#include "log.h"

#include <stdio.h>

gboolean
rrun_cmd_import (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean quiet = FALSE, help = FALSE;
  GOptionEntry entries[] = {
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Hide warnings (stdout holds only the image ID either way)", NULL },
    { "help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show this help", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("TAR NAME");
  g_autoptr(RrunStore) store = NULL;
  g_autoptr(RrunIdMap) map = NULL;
  g_autofree char *id = NULL;

  g_option_context_set_help_enabled (ctx, FALSE);
  g_option_context_set_summary (
      ctx, "Make a one-layer image from a root file system tarball (plain, gzip, zstd, xz\n"
           "or bzip2; '-' reads standard input). Files keep their owners through the\n"
           "subordinate ID range. Like 'docker import', the image has no command: name\n"
           "one when running it. NAME without a registry becomes localhost/NAME:latest.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rrun_cli_parse (ctx, "import", &argc, &argv, error))
    return FALSE;
  if (help)
    {
      rrun_cli_print_help (ctx, "import");
      *out_status = 0;
      return TRUE;
    }
  if (argc != 3)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "import: expected a tarball and a name, got %d argument%s", argc - 1,
                  argc == 2 ? "" : "s");
      rrun_add_hint (error, "usage: rrun import ROOTFS.tar NAME");
      return FALSE;
    }
  if (quiet)
    rrun_log_set_level (RRUN_LOG_ERROR);
  if (!rrun_store_open (g->config, &store, error) || !rrun_cli_storage_idmap (g, &map, error))
    return FALSE;
  if (!rrun_store_import_tarball (store, map, argv[1], argv[2], &id, error))
    {
      g_prefix_error (error, "cannot import \"%s\": ", argv[1]);
      return FALSE;
    }
  printf ("%s\n", id);
  *out_status = 0;
  return TRUE;
}
