/* rrun push [-q] [--tls-verify=false] [--creds USER:PASS] [--format oci|v2s2]
   [--compression-format gzip|zstd] [--compression-level N] [--digestfile FILE] IMAGE
   [DEST]: an image of the store to a registry, to an OCI layout directory (oci:DIR[:TAG]),
   or, with a docker-archive: or oci-archive: destination, to an archive file, as save
   writes it.
   stderr gets a line per blob; stdout the manifest digest alone. */
#include "cli/cli.h"
#include "cli/common.h"
#include "error.h"
#include "image/push.h"
#include "log.h"
#include "transport/archive.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct
{
  gboolean tty;
  gboolean drawn; /* a progress line waits to be finished */
} Progress;

static void
on_progress (const char *digest, RrunPushBlobState state, guint64 done, guint64 total,
             const char *from, gpointer user_data)
{
  Progress *p = user_data;
  const char *hex = digest + strlen ("sha256:");

  switch (state)
    {
    case RRUN_PUSH_BLOB_EXISTS:
      fprintf (stderr, "Copying blob %.12s skipped: already exists\n", hex);
      break;
    case RRUN_PUSH_BLOB_MOUNTED:
      fprintf (stderr, "Copying blob %.12s mounted from %s\n", hex, from);
      break;
    case RRUN_PUSH_BLOB_UPLOADING:
      if (p->tty)
        {
          g_autofree char *d = rrun_cli_human_size (done), *t = rrun_cli_human_size (total);
          fprintf (stderr, "\rCopying blob %.12s %s / %s\033[K", hex, d, t);
          p->drawn = TRUE;
        }
      break;
    case RRUN_PUSH_BLOB_DONE:
      {
        g_autofree char *t = rrun_cli_human_size (total);
        fprintf (stderr, "%sCopying blob %.12s done (%s)\n", p->drawn ? "\r\033[K" : "", hex,
                 t);
        p->drawn = FALSE;
      }
      break;
    }
}

static gboolean
write_digestfile (const char *path, const char *digest, GError **error)
{
  return g_file_set_contents (path, digest, -1, error);
}

gboolean
rrun_cmd_push (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean quiet = FALSE, help = FALSE;
  g_autofree char *tls = NULL, *creds_text = NULL, *format_text = NULL, *digestfile = NULL;
  g_autofree char *compression = NULL, *level = NULL;
  GOptionEntry entries[]
      = { { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print nothing but the digest (and errors)",
            NULL },
          { "tls-verify", 0, 0, G_OPTION_ARG_STRING, &tls,
            "Verify the registry's TLS certificate (default true)", "BOOL" },
          { "creds", 0, 0, G_OPTION_ARG_STRING, &creds_text,
            "Credentials to push with instead of those of rrun login", "USER:PASSWORD" },
          { "format", 'f', 0, G_OPTION_ARG_STRING, &format_text,
            "Manifest format: oci or v2s2 (default: the image's own, else oci)", "FORMAT" },
          { "compression-format", 0, 0, G_OPTION_ARG_STRING, &compression,
            "Compress every layer with gzip or zstd (zstd needs an OCI manifest; default: "
            "layers compressed as they are kept, plain ones with gzip)", "FORMAT" },
          { "compression-level", 0, 0, G_OPTION_ARG_STRING, &level,
            "Compression level: gzip 1-9 (default 6), zstd 1-19 (default 3)", "N" },
          { "digestfile", 0, 0, G_OPTION_ARG_FILENAME, &digestfile,
            "Write the manifest digest to FILE", "FILE" },
          { "help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show this help", NULL },
          { NULL } };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("IMAGE [DEST]");
  g_autoptr (RrunStore) store = NULL;
  g_autofree char *digest = NULL, *pushed = NULL, *user = NULL;
  RrunCredentials creds = { 0 };
  RrunPushOptions opts = { 0 };
  Progress progress = { isatty (STDERR_FILENO), FALSE };
  const char *dest;
  const char *chunk;

  g_option_context_set_help_enabled (ctx, FALSE);
  g_option_context_set_summary (
      ctx, "Push an image to a registry. DEST is a registry reference\n"
           "(\"registry.example.com/org/img:tag\", \"docker://\" allowed), or\n"
           "oci:DIR[:TAG] (an OCI image layout directory, made when missing; other\n"
           "images in it are kept), docker-archive:PATH or oci-archive:PATH; without\n"
           "DEST the image's own name is the destination. Layers kept uncompressed\n"
           "(built, committed) go out gzip-compressed unless --compression-format says\n"
           "otherwise. Blobs the registry has are not sent again; blobs of an\n"
           "image pulled from another repository of the same registry are mounted from\n"
           "there. Credentials come from rrun login (auth.json) unless --creds is given.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rrun_cli_parse (ctx, "push", &argc, &argv, error))
    return FALSE;
  if (help)
    {
      rrun_cli_print_help (ctx, "push");
      *out_status = 0;
      return TRUE;
    }
  if (argc != 2 && argc != 3)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "push: expected an image and at most one destination, got %d arguments",
                  argc - 1);
      rrun_add_hint (error, "usage: rrun push [--tls-verify=false] IMAGE [REGISTRY/NAME:TAG]");
      return FALSE;
    }
  dest = argc == 3 ? argv[2] : NULL;
  opts.tls_verify = TRUE;
  if (!rrun_cli_parse_tls_verify (tls, &opts.tls_verify, error)
      || !rrun_push_format_parse (format_text, &opts.format, error)
      || !rrun_push_compression_parse (compression, level, &opts.compression,
                                       &opts.compression_level, error))
    return FALSE;
  if (creds_text)
    {
      const char *colon = strchr (creds_text, ':');
      if (colon == NULL || colon == creds_text || colon[1] == '\0')
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "invalid --creds: expected USER:PASSWORD");
          return FALSE;
        }
      user = g_strndup (creds_text, colon - creds_text);
      creds.username = user;
      creds.password = (char *) colon + 1;
      creds.source = (char *) "--creds";
      opts.credentials = &creds;
    }
  /* For tests and slow links: the size above which blobs go in chunks. */
  chunk = g_getenv ("RRUN_PUSH_CHUNK_SIZE");
  if (chunk)
    opts.chunk_size = g_ascii_strtoull (chunk, NULL, 10);
  if (quiet || g->quiet)
    rrun_log_set_level (RRUN_LOG_ERROR);
  else
    {
      opts.progress = on_progress;
      opts.progress_data = &progress;
    }
  if (!rrun_store_open (g->config, &store, error))
    return FALSE;

  if (dest && (g_str_has_prefix (dest, "docker-archive:") || g_str_has_prefix (dest, "oci-archive:")))
    {
      const char *path = strchr (dest, ':') + 1;
      const char *refs[] = { argv[1], NULL };
      RrunArchiveFormat format = g_str_has_prefix (dest, "oci") ? RRUN_ARCHIVE_OCI
                                                                : RRUN_ARCHIVE_DOCKER;
      if (*path == '\0')
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid destination \"%s\": no file named", dest);
      if (compression || level)
        {
          /* save writes them: docker-archive's layers are plain tars, an OCI archive's
             the blobs as kept */
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "--compression-format and --compression-level do not apply to \"%.*s\"",
                      (int) (path - dest - 1), dest);
          rrun_add_hint (error, "push to oci:DIR[:TAG] or to a registry to choose the "
                                "compression");
          return FALSE;
        }
      if (!rrun_archive_save (store, refs, format, path, error))
        {
          g_prefix_error (error, "cannot push \"%s\" to \"%s\": ", argv[1], dest);
          return FALSE;
        }
      *out_status = 0;
      return TRUE;
    }

  if (dest && g_str_has_prefix (dest, "oci:"))
    {
      /* oci:DIR[:TAG], split at the first colon as skopeo and podman do */
      const char *path = dest + strlen ("oci:");
      const char *colon = strchr (path, ':');
      g_autofree char *dir = colon ? g_strndup (path, colon - path) : g_strdup (path);

      if (*dir == '\0')
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "invalid destination \"%s\": no directory named", dest);
          rrun_add_hint (error, "e.g.: rrun push %s oci:./layout:latest", argv[1]);
          return FALSE;
        }
      if (!rrun_push_image_to_layout (store, argv[1], dir, colon ? colon + 1 : NULL, &opts,
                                      &digest, error))
        {
          g_prefix_error (error, "cannot push \"%s\" to \"%s\": ", argv[1], dest);
          return FALSE;
        }
      pushed = g_strdup (dest);
    }
  else if (!rrun_push_image (store, argv[1], dest, &opts, &pushed, &digest, error))
    {
      if (progress.drawn)
        fputc ('\n', stderr);
      if (!g_str_has_prefix ((*error)->message, "cannot push"))
        g_prefix_error (error, "cannot push \"%s\": ", argv[1]);
      return FALSE;
    }
  if (!quiet && !g->quiet)
    fprintf (stderr, "Pushed %s@%s\n", pushed, digest);
  if (digestfile && !write_digestfile (digestfile, digest, error))
    return FALSE;
  printf ("%s\n", digest);
  *out_status = 0;
  return TRUE;
}
