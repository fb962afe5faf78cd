/* rrun tag SRC NEW...: give an image more names ("localhost/NAME:latest" for a bare
   NAME). A name another image had moves to this one. */
#include "cli/cli.h"
#include "cli/common.h"
#include "error.h"
#include "util/text-file.h"
#include "storage/names.h"

#include <stdio.h>

gboolean
rrun_cmd_tag (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help = FALSE;
  GOptionEntry entries[]
      = { { "help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show this help", NULL }, { NULL } };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("IMAGE NAME...");
  g_autoptr (RrunStore) store = NULL;
  g_autoptr (RrunImage) image = NULL;
  g_autofree char *config_path = NULL, *config = NULL;
  gsize config_len = 0;
  g_autoptr (GError) local = NULL;

  g_option_context_set_help_enabled (ctx, FALSE);
  g_option_context_set_summary (
      ctx, "Add names to an image. A NAME without a registry becomes localhost/NAME,\n"
           "without a tag NAME:latest. A name held by another image moves to this one.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rrun_cli_parse (ctx, "tag", &argc, &argv, error))
    return FALSE;
  if (help)
    {
      rrun_cli_print_help (ctx, "tag");
      *out_status = 0;
      return TRUE;
    }
  if (argc < 3)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "tag: expected an image and a new name");
      rrun_add_hint (error, "usage: rrun tag IMAGE NAME...");
      return FALSE;
    }
  if (!rrun_store_open (g->config, &store, error)
      || !rrun_store_find_image (store, argv[1], &image, error))
    return FALSE;
  if (image->read_only_store)
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                  "cannot tag %.12s: it is in a read-only "
                  "image store",
                  image->id);
      return FALSE;
    }
  config_path
      = g_build_filename (rrun_store_root (store), "images", image->id, "config.json", NULL);
  if (!rrun_text_file_read (config_path, "image config", RRUN_TEXT_FILE_MAX_CONFIG,
                            RRUN_TEXT_FILE_DEFAULT, &config, &config_len, &local))
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s", local->message);
  g_ptr_array_add (image->layer_ids, NULL);
  for (int i = 2; i < argc; i++)
    {
      g_autofree char *name = NULL, *id = NULL;

      if (!rrun_names_normalize (argv[i], &name, error))
        return FALSE;
      if (!rrun_store_add_image (store, config, config_len,
                                 (const char *const *)image->layer_ids->pdata, name, image->digest,
                                 &id, error))
        {
          g_prefix_error (error, "cannot tag %.12s as \"%s\": ", image->id, name);
          return FALSE;
        }
    }
  *out_status = 0;
  return TRUE;
}
