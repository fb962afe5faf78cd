/* rrun save [-o FILE] [--format docker-archive|oci-archive] IMAGE...: images to an archive
   (standard output when no file is named and it is not a terminal, as docker does). */
#include "cli/cli.h"
#include "cli/common.h"
#include "error.h"
#include "log.h"
#include "transport/archive.h"

gboolean
rrun_cmd_save (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean quiet = FALSE, help = FALSE;
  g_autofree char *output = NULL, *format_text = NULL;
  GOptionEntry entries[]
      = { { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
            "Write to FILE instead of standard output", "FILE" },
          { "format", 0, 0, G_OPTION_ARG_STRING, &format_text,
            "docker-archive (default) or oci-archive", "FORMAT" },
          { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print nothing but errors", NULL },
          { "help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show this help", NULL },
          { NULL } };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("IMAGE...");
  g_autoptr (RrunStore) store = NULL;
  RrunArchiveFormat format;

  g_option_context_set_help_enabled (ctx, FALSE);
  g_option_context_set_summary (
      ctx, "Save images to a docker-archive (uncompressed layers, what 'docker load' and\n"
           "'podman load' read) or an OCI archive (the layer blobs as pulled). The image\n"
           "IDs stay the same when the archive is loaded again.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rrun_cli_parse (ctx, "save", &argc, &argv, error))
    return FALSE;
  if (help)
    {
      rrun_cli_print_help (ctx, "save");
      *out_status = 0;
      return TRUE;
    }
  if (!rrun_archive_format_parse (format_text, &format, error))
    return FALSE;
  if (argc < 2)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "save: expected at least one image");
      rrun_add_hint (error, "usage: rrun save -o FILE IMAGE...");
      return FALSE;
    }
  if (quiet)
    rrun_log_set_level (RRUN_LOG_ERROR);
  if (!rrun_store_open (g->config, &store, error))
    return FALSE;
  if (!rrun_archive_save (store, (const char *const *)argv + 1, format, output ? output : "-",
                          error))
    {
      if (output && g_strcmp0 (output, "-") != 0)
        g_prefix_error (error, "cannot save \"%s\": ", output);
      else
        g_prefix_error (error, "cannot save to standard output: ");
      return FALSE;
    }
  *out_status = 0;
  return TRUE;
}
