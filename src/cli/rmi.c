/* rrun rmi [-f] REF...: untag names and delete images nothing else names. */
#include "cli/cli.h"
#include "cli/common.h"
#include "error.h"
#include "log.h"

#include <stdio.h>

gboolean
rrun_cmd_rmi (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean force = FALSE, help = FALSE;
  GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Untag even while a container uses it; "
      "delete it when the container ends", NULL },
    { "help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show this help", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("IMAGE...");
  g_autoptr(RrunStore) store = NULL;
  g_autoptr(RrunIdMap) map = NULL;
  int failed = 0;

  g_option_context_set_help_enabled (ctx, FALSE);
  g_option_context_set_summary (ctx, "Remove images by name or (short) ID. A name is untagged; "
                                     "the image is deleted\nonce no name refers to it, with "
                                     "the layers no other image uses.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rrun_cli_parse (ctx, "rmi", &argc, &argv, error))
    return FALSE;
  if (help)
    {
      rrun_cli_print_help (ctx, "rmi");
      *out_status = 0;
      return TRUE;
    }
  if (argc < 2)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "rmi: no image given");
      rrun_add_hint (error, "usage: rrun rmi [-f] IMAGE...");
      return FALSE;
    }
  if (!rrun_store_open (g->config, &store, error) || !rrun_cli_storage_idmap (g, &map, error))
    return FALSE;
  /* Like docker and podman: go on with the others when one fails, exit non-zero. */
  for (int i = 1; i < argc; i++)
    {
      g_autoptr(GError) local = NULL;
      g_auto(GStrv) untagged = NULL;
      g_autofree char *deleted = NULL;

      if (!rrun_store_remove_image_full (store, map, argv[i], force, &untagged, &deleted,
                                         &local))
        {
          rrun_log_print_error (local);
          failed++;
          continue;
        }
      for (guint k = 0; untagged[k]; k++)
        printf ("Untagged: %s\n", untagged[k]);
      if (deleted)
        printf ("Deleted: %s\n", deleted);
      fflush (stdout);
    }
  *out_status = failed ? RRUN_EXIT_FAILED : 0;
  return TRUE;
}
