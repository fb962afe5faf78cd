/* rrun image export --format squashfs IMAGE -o FILE: an image as one squashfs file that
   `rrun run FILE` runs (docs/rrun-image.1.md). */
#include "cli/cli.h"
#include "error.h"
#include "squashfs/squashfs.h"
#include "storage/store.h"

#include <string.h>

gboolean
rrun_cmd_image_export (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autofree char *format = NULL, *output = NULL, *compression = NULL;
  gboolean help = FALSE;
  GOptionEntry entries[] = {
    { "format", 0, 0, G_OPTION_ARG_STRING, &format, "File format: squashfs (the default)",
      "squashfs" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write the image to FILE", "FILE" },
    { "compression", 0, 0, G_OPTION_ARG_STRING, &compression,
      "mksquashfs's compressor: lz4 (default: fastest to start), gzip, zstd, xz, lzo",
      "lz4|gzip|zstd|xz|lzo" },
    { NULL },
  };
  const RrunCliSpec spec = {
    .command = "image export",
    .params = "IMAGE",
    .summary = "Write an image as one squashfs file: its layers applied, owners as the\n"
               "container sees them, the image config in /.rrun/config.json. `rrun run FILE`\n"
               "runs it without unpacking; many users and jobs can share one file.",
    .min_args = 1,
    .max_args = 1,
    .usage = "rrun image export --format squashfs IMAGE -o FILE",
  };
  g_autoptr(RrunStore) store = NULL;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    {
      *out_status = 0;
      return TRUE;
    }
  if (format != NULL && strcmp (format, "squashfs") != 0)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid --format \"%s\": expected squashfs",
                  format);
      rrun_add_hint (error, "rrun save writes docker-archive and OCI archives");
      return FALSE;
    }
  if (compression != NULL && strcmp (compression, "lz4") != 0 && strcmp (compression, "gzip") != 0
      && strcmp (compression, "zstd") != 0 && strcmp (compression, "xz") != 0
      && strcmp (compression, "lzo") != 0)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --compression \"%s\": expected lz4, gzip, zstd, xz or lzo",
                       compression);
  if (output == NULL)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "image export: -o FILE is required");
      rrun_add_hint (error, "usage: %s", spec.usage);
      return FALSE;
    }
  if (!rrun_store_open (g->config, &store, error)
      || !rrun_squashfs_export (g->config, store, argv[1], output, compression, error))
    return FALSE;
  *out_status = 0;
  return TRUE;
}
