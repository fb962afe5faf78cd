/* rrun __fetch [--platform P] [--tls-verify=false] [--jobs N] [--progress] REF DIR: resolve REF like a
   pull, then write the manifest(s), config and layers, verified, to DIR/blobs/sha256/HEX
   (a temp name until verified). Prints what it fetched. A hidden tool for tests and the
   groundwork of `rrun pull`. */
#include "cli/cli.h"
#include "error.h"
#include "registry/registries-conf.h"
#include "registry/resolve.h"
#include "util/fd.h"
#include "util/path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct
{
  int fd;
  char *tmp;
  char *final;
} BlobFile;

static gboolean
file_write (const guint8 *data, gsize len, gpointer user_data, GError **error)
{
  BlobFile *f = user_data;
  return rrun_fd_write_all (f->fd, data, len, error);
}

static gboolean show_progress;

static void
on_progress (const RrunDescriptor *desc, guint64 done, guint64 total, gpointer user_data)
{
  if (show_progress && done == total)
    fprintf (stderr, "fetched %s %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT "\n", desc->digest,
             done, total);
}

static gboolean
blob_file_open (const char *dir, const char *digest, BlobFile *f, GError **error)
{
  const char *hex = digest + strlen ("sha256:");

  f->final = g_build_filename (dir, "blobs", "sha256", hex, NULL);
  f->tmp = g_strdup_printf ("%s/blobs/sha256/.tmp-%s", dir, hex);
  f->fd = open (f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (f->fd < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", f->tmp);
  return TRUE;
}

/* Rename when ok, else remove: a blob that did not verify leaves nothing behind. */
static gboolean
blob_file_close (BlobFile *f, gboolean ok, GError **error)
{
  gboolean ret = ok;

  if (f->fd >= 0 && close (f->fd) < 0 && ok)
    ret = rrun_throw_errno (error, errno, "cannot write \"%s\"", f->tmp);
  f->fd = -1;
  if (ret && rename (f->tmp, f->final) < 0)
    ret = rrun_throw_errno (error, errno, "cannot rename \"%s\"", f->tmp);
  if (!ret && f->tmp)
    unlink (f->tmp);
  g_clear_pointer (&f->tmp, g_free);
  g_clear_pointer (&f->final, g_free);
  return ret;
}

static gboolean
write_bytes_blob (const char *dir, const char *digest, GBytes *bytes, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "blobs", "sha256", digest + 7, NULL);
  gsize len;
  const void *data = g_bytes_get_data (bytes, &len);

  return rrun_path_write_atomic (path, data, len, 0644, error);
}

gboolean
rrun_cmd_fetch_internal (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autofree char *platform_text = NULL, *tls = NULL;
  int jobs_n = 3;
  GOptionEntry entries[] = {
    { "platform", 0, 0, G_OPTION_ARG_STRING, &platform_text, "os/arch[/variant]", "P" },
    { "tls-verify", 0, 0, G_OPTION_ARG_STRING, &tls, "Verify TLS (default true)", "BOOL" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &jobs_n, "Parallel layer downloads (default 3)", "N" },
    { "progress", 0, 0, G_OPTION_ARG_NONE, &show_progress, "Say on stderr when a layer is done",
      NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("REF DIR");
  g_autoptr(RrunRegistriesConf) conf = NULL;
  g_autoptr(RrunPlatform) platform = NULL;
  g_autoptr(RrunRemoteImage) img = NULL;
  g_autofree char *blobdir = NULL;
  g_autofree char *ref_text = NULL;
  g_autofree RrunBlobJob *jobs = NULL;
  g_autofree BlobFile *files = NULL;
  RrunPullOptions opts = { TRUE, NULL };
  BlobFile cfg = { -1 };
  GPtrArray *layers;
  const char *dir;
  gboolean ok;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rrun_cli_parse (ctx, "__fetch", &argc, &argv, error)
      || !rrun_cli_parse_tls_verify (tls, &opts.tls_verify, error))
    return FALSE;
  if (argc != 3)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "__fetch: expected REF DIR");
  dir = argv[2];
  if (platform_text && !rrun_platform_parse (platform_text, &platform, error))
    return FALSE;
  opts.platform = platform;
  blobdir = g_build_filename (dir, "blobs", "sha256", NULL);
  if (!rrun_path_mkdir_p (blobdir, 0755, error)
      || !rrun_registries_conf_load (g->config, &conf, error)
      || !rrun_registry_resolve (conf, argv[1], &opts, &img, error))
    return FALSE;
  ref_text = rrun_reference_to_string (img->ref);

  if (img->index && !write_bytes_blob (dir, img->index_digest, img->index, error))
    return FALSE;
  if (!write_bytes_blob (dir, img->manifest_digest, img->manifest, error))
    return FALSE;

  if (!blob_file_open (dir, img->image->config->digest, &cfg, error))
    return FALSE;
  ok = rrun_registry_fetch_blob (img->client, img->repository, img->image->config, ref_text,
                                 file_write, NULL, &cfg, error);
  if (!blob_file_close (&cfg, ok, ok ? error : NULL))
    return FALSE;

  layers = img->image->layers;
  jobs = g_new0 (RrunBlobJob, layers->len);
  files = g_new0 (BlobFile, layers->len);
  ok = TRUE;
  for (guint i = 0; i < layers->len; i++)
    {
      const RrunDescriptor *d = g_ptr_array_index (layers, i);
      files[i].fd = -1;
      jobs[i].desc = d;
      jobs[i].write = file_write;
      jobs[i].user_data = &files[i];
      if (ok && !blob_file_open (dir, d->digest, &files[i], error))
        ok = FALSE;
    }
  if (ok)
    ok = rrun_registry_fetch_blobs (img->client, img->repository, ref_text, jobs, layers->len,
                                    (guint) MAX (jobs_n, 1), on_progress, error);
  for (guint i = 0; i < layers->len; i++)
    {
      if (!blob_file_close (&files[i], ok, ok ? error : NULL))
        ok = FALSE;
      g_clear_error (&jobs[i].error);
    }
  if (!ok)
    return FALSE;

  printf ("name %s\n", ref_text);
  printf ("from %s/%s\n", img->endpoint_domain, img->repository);
  if (img->index_digest)
    printf ("index %s\n", img->index_digest);
  printf ("manifest %s %s\n", img->manifest_digest, img->image->media_type);
  printf ("config %s %" G_GINT64_FORMAT "\n", img->image->config->digest,
          img->image->config->size);
  for (guint i = 0; i < layers->len; i++)
    {
      const RrunDescriptor *d = g_ptr_array_index (layers, i);
      printf ("layer %s %" G_GINT64_FORMAT " %s\n", d->digest, d->size, d->media_type);
    }
  *out_status = 0;
  return TRUE;
}
