/* rrun_push_image: see push.h. Blobs go one at a time in manifest order (layers, then the
   config); the manifest last. */
#include "image/push.h"

#include "error.h"
#include "registry/client.h"
#include "registry/manifest.h"
#include "registry/reference.h"
#include "registry/registries-conf.h"
#include "transport/archive.h"
#include "util/fd.h"
#include "util/json-value.h"
#include "util/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <isa-l/igzip_lib.h>
#include <zlib.h>
#include <zstd.h>

#undef G_LOG_DOMAIN
#define G_LOG_DOMAIN "rrun-push"

#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"

gboolean
rrun_push_format_parse (const char *text, RrunPushFormat *out_format, GError **error)
{
  if (text == NULL)
    *out_format = RRUN_PUSH_FORMAT_KEEP;
  else if (strcmp (text, "oci") == 0)
    *out_format = RRUN_PUSH_FORMAT_OCI;
  else if (strcmp (text, "v2s2") == 0 || strcmp (text, "docker") == 0)
    *out_format = RRUN_PUSH_FORMAT_V2S2;
  else
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "invalid --format \"%s\": expected oci or v2s2", text);
      rrun_add_hint (error, "see: rrun push --help");
      return FALSE;
    }
  return TRUE;
}

/* The layer media type in the manifest format asked for; NULL when it has none. */
static const char *
layer_type (const char *kept, RrunPushFormat format)
{
  gboolean gzip = g_str_has_suffix (kept, "gzip");
  gboolean zstd = g_str_has_suffix (kept, "zstd");

  if (format == RRUN_PUSH_FORMAT_V2S2)
    return zstd ? NULL : gzip ? MT_DOCKER_LAYER ".gzip" : MT_DOCKER_LAYER;
  return zstd ? MT_OCI_LAYER "+zstd" : gzip ? MT_OCI_LAYER "+gzip" : MT_OCI_LAYER;
}

static void
add_descriptor (RrunJsonBuilder *b, const char *media_type, const char *digest, gint64 size)
{
  rrun_json_builder_begin_object (b);
  rrun_json_builder_set_member_name (b, "mediaType");
  rrun_json_builder_add_string_value (b, media_type);
  rrun_json_builder_set_member_name (b, "digest");
  rrun_json_builder_add_string_value (b, digest);
  rrun_json_builder_set_member_name (b, "size");
  rrun_json_builder_add_int_value (b, size);
  rrun_json_builder_end_object (b);
}

static gboolean
make_manifest (const RrunStoreImageBlobs *img, GPtrArray *layers, gboolean recompressed,
               RrunPushFormat format, GBytes **out_manifest, const char **out_media_type,
               GError **error)
{
  g_autoptr(RrunJsonBuilder) b = NULL;
  g_autofree char *config = NULL;
  gboolean docker = format == RRUN_PUSH_FORMAT_V2S2;
  char *text;

  if (!recompressed && rrun_archive_kept_manifest_fits (img, docker ? RRUN_MEDIA_DOCKER_MANIFEST
                                             : format == RRUN_PUSH_FORMAT_OCI
                                               ? RRUN_MEDIA_OCI_MANIFEST : NULL))
    {
      *out_manifest = g_bytes_ref (img->manifest_data);
      *out_media_type = img->manifest->media_type;
      return TRUE;
    }
  b = rrun_json_builder_new ();
  config = g_strconcat ("sha256:", img->id, NULL);
  rrun_json_builder_begin_object (b);
  rrun_json_builder_set_member_name (b, "schemaVersion");
  rrun_json_builder_add_int_value (b, 2);
  rrun_json_builder_set_member_name (b, "mediaType");
  rrun_json_builder_add_string_value (b, docker ? RRUN_MEDIA_DOCKER_MANIFEST
                                                : RRUN_MEDIA_OCI_MANIFEST);
  rrun_json_builder_set_member_name (b, "config");
  add_descriptor (b, docker ? RRUN_MEDIA_DOCKER_CONFIG : RRUN_MEDIA_OCI_CONFIG, config,
                  (gint64) g_bytes_get_size (img->config));
  rrun_json_builder_set_member_name (b, "layers");
  rrun_json_builder_begin_array (b);
  for (guint i = 0; i < layers->len; i++)
    {
      const RrunBlobInfo *l = layers->pdata[i];
      const char *type = layer_type (l->media_type, format);

      if (type == NULL)
        {
          rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                      "layer %s is zstd-compressed, which docker schema 2 cannot describe",
                      l->digest);
          rrun_add_hint (error, "push it with --format oci");
          return FALSE;
        }
      add_descriptor (b, type, l->digest, l->size);
    }
  rrun_json_builder_end_array (b);
  rrun_json_builder_end_object (b);
  text = rrun_json_builder_to_text (b, FALSE);
  *out_manifest = g_bytes_new_take (text, strlen (text));
  *out_media_type = docker ? RRUN_MEDIA_DOCKER_MANIFEST : RRUN_MEDIA_OCI_MANIFEST;
  return TRUE;
}

/* Whether a kept layer blob is a plain tar (what commit and build keep). */
static gboolean
is_uncompressed (const RrunBlobInfo *l)
{
  return !g_str_has_suffix (l->media_type, "gzip") && !g_str_has_suffix (l->media_type, "zstd");
}

gboolean
rrun_push_compression_parse (const char *format, const char *level,
                             RrunPushCompression *out_compression, int *out_level,
                             GError **error)
{
  int max;
  gint64 n;

  if (format == NULL)
    *out_compression = RRUN_PUSH_COMPRESSION_KEEP;
  else if (strcmp (format, "gzip") == 0)
    *out_compression = RRUN_PUSH_COMPRESSION_GZIP;
  else if (strcmp (format, "zstd") == 0)
    *out_compression = RRUN_PUSH_COMPRESSION_ZSTD;
  else
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "invalid --compression-format \"%s\": expected gzip or zstd", format);
      rrun_add_hint (error, "see: rrun push --help");
      return FALSE;
    }
  *out_level = 0;
  if (level == NULL)
    return TRUE;
  /* zstd's levels above 19 need far more memory to read back: docker and podman stop
     there too. */
  max = *out_compression == RRUN_PUSH_COMPRESSION_ZSTD ? 19 : 9;
  if (!g_ascii_string_to_signed (level, 10, 1, max, &n, NULL))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "invalid --compression-level \"%s\": expected 1 to %d for %s", level, max,
                  max == 19 ? "zstd" : "gzip");
      rrun_add_hint (error, "see: rrun push --help");
      return FALSE;
    }
  *out_level = (int) n;
  return TRUE;
}

/* A layer compressed into an unlinked temporary file as it is fed. gzip without a
   --compression-level is ISA-L's deflate at its level 3: on /usr/bin (472 MB) 12 times
   zlib's level 6 in speed (1.7 s against 20.6 s) for 11% more bytes, the ratio of zlib's
   level 1 at 4 times its speed (docs/performance.md); zlib made push twice as slow as
   skopeo, whose Go deflate is faster. With a level it is zlib's. Neither
   gzip (no time, no name in its header: ISA-L's generic header has neither) nor zstd (multithreaded output does not depend on the number of
   threads) puts anything in but the data, so the same layer always gives the same blob
   and a second push finds it on the registry. */
typedef struct
{
  gboolean zstd;
  gboolean isal;
  struct isal_zstream iz;
  guint8 *isal_buf;
  z_stream z;
  ZSTD_CCtx *zc;
  int fd;
  RrunSha256 *sum;
  gint64 size;
  guint8 *out;
  const char *diff_id; /* for messages */
} Compressor;

#define COMPRESS_OUT_SIZE (1 << 20)

static void
compressor_clear (Compressor *c)
{
  if (c->zstd)
    ZSTD_freeCCtx (c->zc);
  else if (!c->isal)
    deflateEnd (&c->z);
  g_clear_pointer (&c->isal_buf, g_free);
  g_clear_pointer (&c->sum, rrun_sha256_free);
  g_clear_pointer (&c->out, g_free);
  rrun_close_fdp (&c->fd);
}

static gboolean
compressor_init (Compressor *c, gboolean zstd, int level, const char *diff_id, GError **error)
{
  g_autofree char *path = NULL;

  *c = (Compressor){ 0 };
  c->zstd = zstd;
  c->fd = -1;
  c->diff_id = diff_id;
  if (zstd)
    {
      c->zc = ZSTD_createCCtx ();
      if (c->zc == NULL
          || ZSTD_isError (ZSTD_CCtx_setParameter (c->zc, ZSTD_c_compressionLevel,
                                                   level ? level : ZSTD_CLEVEL_DEFAULT)))
        return rrun_throw (error, RRUN_ERROR_FAILED, "cannot compress layer %s: %s", diff_id,
                           "zstd cannot start");
      /* Threads where libzstd has them; at least one, so the output is the same on every
         machine. */
      (void) ZSTD_CCtx_setParameter (c->zc, ZSTD_c_nbWorkers,
                                     (int) MAX (1, g_get_num_processors ()));
    }
  else if (level == 0)
    {
      c->isal = TRUE;
      isal_deflate_init (&c->iz);
      c->iz.gzip_flag = IGZIP_GZIP;
      c->iz.level = 3;
      c->isal_buf = g_malloc (ISAL_DEF_LVL3_DEFAULT);
      c->iz.level_buf = c->isal_buf;
      c->iz.level_buf_size = ISAL_DEF_LVL3_DEFAULT;
    }
  else if (deflateInit2 (&c->z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return rrun_throw (error, RRUN_ERROR_FAILED, "cannot compress layer %s: %s", diff_id,
                       "zlib cannot start");
  c->sum = rrun_sha256_new ();
  c->out = g_malloc (COMPRESS_OUT_SIZE);
  c->fd = g_file_open_tmp ("rrun-push-XXXXXX", &path, error);
  if (c->fd < 0)
    return FALSE;
  unlink (path);
  return TRUE;
}

static gboolean
compressor_emit (Compressor *c, gsize have, GError **error)
{
  rrun_sha256_update (c->sum, c->out, have);
  if (have > 0 && !rrun_fd_write_all (c->fd, c->out, have, error))
    {
      g_prefix_error (error, "cannot compress layer %s: ", c->diff_id);
      return FALSE;
    }
  c->size += (gint64) have;
  return TRUE;
}

/* Compress len bytes of data; finish: the end of the stream (data may be empty). */
static gboolean
compressor_feed (Compressor *c, const guint8 *data, gsize len, gboolean finish, GError **error)
{
  if (c->zstd)
    {
      ZSTD_inBuffer in = { data, len, 0 };
      ZSTD_EndDirective mode = finish ? ZSTD_e_end : ZSTD_e_continue;

      for (;;)
        {
          ZSTD_outBuffer out = { c->out, COMPRESS_OUT_SIZE, 0 };
          size_t left = ZSTD_compressStream2 (c->zc, &out, &in, mode);

          if (ZSTD_isError (left))
            return rrun_throw (error, RRUN_ERROR_FAILED, "cannot compress layer %s: %s",
                               c->diff_id, ZSTD_getErrorName (left));
          if (!compressor_emit (c, out.pos, error))
            return FALSE;
          if (finish ? left == 0 : in.pos == in.size)
            return TRUE;
        }
    }
  if (c->isal)
    {
      c->iz.next_in = (guint8 *) data;
      c->iz.avail_in = (guint32) len;
      c->iz.end_of_stream = finish;
      for (;;)
        {
          int r;

          c->iz.next_out = c->out;
          c->iz.avail_out = COMPRESS_OUT_SIZE;
          r = isal_deflate (&c->iz);
          if (r != COMP_OK)
            return rrun_throw (error, RRUN_ERROR_FAILED, "cannot compress layer %s: %s %d",
                               c->diff_id, "ISA-L deflate failed with", r);
          if (!compressor_emit (c, COMPRESS_OUT_SIZE - c->iz.avail_out, error))
            return FALSE;
          if (finish ? c->iz.internal_state.state == ZSTATE_END
                     : c->iz.avail_in == 0 && c->iz.avail_out > 0)
            return TRUE;
        }
    }
  c->z.next_in = (Bytef *) data;
  c->z.avail_in = (uInt) len;
  do
    {
      c->z.next_out = c->out;
      c->z.avail_out = COMPRESS_OUT_SIZE;
      deflate (&c->z, finish ? Z_FINISH : Z_NO_FLUSH);
      if (!compressor_emit (c, COMPRESS_OUT_SIZE - c->z.avail_out, error))
        return FALSE;
    }
  while (c->z.avail_out == 0);
  return TRUE;
}

static gboolean
compressor_write (const guint8 *data, gsize len, gpointer user_data, GError **error)
{
  return compressor_feed (user_data, data, len, FALSE, error);
}

/* Compress the kept layer blob on in_fd (plain, or in another compression: it is
   decompressed and its diff ID checked on the way) into an unlinked temporary file:
   *out_fd and its blob info (digest and size of the compressed bytes, the OCI media
   type). */
static gboolean
compress_layer (int in_fd, const RrunBlobInfo *kept, const char *diff_id, gboolean zstd,
                int level, int *out_fd, RrunBlobInfo **out_info, GError **error)
{
  Compressor c;
  gboolean ok = FALSE;

  if (!compressor_init (&c, zstd, level, diff_id, error))
    goto out;
  if (is_uncompressed (kept))
    {
      /* A plain tar: read as it is (no second digest pass). */
      g_autofree guint8 *in = g_malloc (COMPRESS_OUT_SIZE);
      off_t off = 0;

      for (;;)
        {
          ssize_t n = pread (in_fd, in, COMPRESS_OUT_SIZE, off);

          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            {
              rrun_throw_errno (error, errno, "cannot read layer %s", diff_id);
              goto out;
            }
          if (n == 0)
            break;
          off += n;
          if (!compressor_feed (&c, in, (gsize) n, FALSE, error))
            goto out;
        }
    }
  else
    {
      g_autofree char *got = NULL;

      if (lseek (in_fd, 0, SEEK_SET) < 0)
        {
          rrun_throw_errno (error, errno, "cannot read layer %s", diff_id);
          goto out;
        }
      if (!rrun_archive_uncompressed_stream (in_fd, compressor_write, &c, &got, NULL, error))
        goto out;
      if (strcmp (got, diff_id) != 0)
        {
          rrun_throw (error, RRUN_ERROR_CORRUPT,
                      "the kept blob of layer %s does not match it: got %s", diff_id, got);
          rrun_add_hint (error, "the store is damaged: remove the image with 'rrun rmi' and "
                                "pull or load it again");
          goto out;
        }
    }
  if (!compressor_feed (&c, NULL, 0, TRUE, error))
    goto out;
  {
    g_autofree char *digest = g_strconcat ("sha256:", rrun_sha256_hex (c.sum), NULL);
    *out_info = rrun_blob_info_new (digest, zstd ? MT_OCI_LAYER "+zstd" : MT_OCI_LAYER "+gzip",
                                    c.size);
  }
  *out_fd = c.fd;
  c.fd = -1;
  ok = TRUE;
out:
  compressor_clear (&c);
  return ok;
}

/* One layer to compress, on a thread of the pool. */
typedef struct
{
  int in_fd;
  const RrunBlobInfo *kept;
  const char *diff_id;
  gboolean zstd;
  int level;
  int fd;             /* out */
  RrunBlobInfo *info; /* out; NULL: the layer goes as kept */
  GError *error;      /* out */
} CompressJob;

static void
compress_job (gpointer data, gpointer user_data)
{
  CompressJob *j = data;

  (void) compress_layer (j->in_fd, j->kept, j->diff_id, j->zstd, j->level, &j->fd, &j->info,
                         &j->error);
}

/* What push sends, wherever to: the image's blobs (each layer as an fd at any offset,
   compressed as asked) and the manifest that lists them. */
typedef struct
{
  RrunStoreImageBlobs *img;
  GPtrArray *layers; /* RrunBlobInfo* */
  GArray *fds;       /* int, per layer */
  GBytes *manifest;
  const char *media_type;
  char *digest; /* the manifest's */
} Prepared;

static void
prepared_clear (Prepared *p)
{
  g_clear_pointer (&p->img, rrun_store_image_blobs_free);
  g_clear_pointer (&p->layers, g_ptr_array_unref);
  g_clear_pointer (&p->fds, g_array_unref);
  g_clear_pointer (&p->manifest, g_bytes_unref);
  g_clear_pointer (&p->digest, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Prepared, prepared_clear)

/* Whether a kept layer goes out as it is. */
static gboolean
keeps_layer (const RrunBlobInfo *l, RrunPushCompression compression)
{
  switch (compression)
    {
    case RRUN_PUSH_COMPRESSION_GZIP:
      return g_str_has_suffix (l->media_type, "gzip");
    case RRUN_PUSH_COMPRESSION_ZSTD:
      return g_str_has_suffix (l->media_type, "zstd");
    case RRUN_PUSH_COMPRESSION_KEEP:
    default:
      return !is_uncompressed (l);
    }
}

static gboolean
prepare (RrunStore *store, const char *image, const RrunPushOptions *options, Prepared *out,
         GError **error)
{
  gboolean recompressed = FALSE;

  if (options->compression == RRUN_PUSH_COMPRESSION_ZSTD
      && options->format == RRUN_PUSH_FORMAT_V2S2)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "--compression-format zstd needs an OCI manifest: docker schema 2 (--format "
                  "v2s2) cannot describe zstd layers");
      rrun_add_hint (error, "push with --format oci, or with --compression-format gzip");
      return FALSE;
    }
  if (!rrun_store_open_image_blobs (store, image, &out->img, error))
    return FALSE;
  for (guint k = 0; k < out->img->layer_blobs->len; k++)
    if (out->img->layer_blobs->pdata[k] == NULL)
      {
        rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                    "image \"%s\" has no kept blob for its layer %u (%s); an older rrun "
                    "pulled or imported it",
                    image, k + 1, out->img->diff_ids[k]);
        rrun_add_hint (error, "remove it and pull or import it again: rrun rmi %s && rrun "
                              "pull %s",
                       image, image);
        return FALSE;
      }
  /* Layers kept as plain tars (commit and build keep them so) go out compressed, gzip
     unless asked otherwise, as docker and podman push them: registries and engines expect
     compressed layers. */
  out->layers = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_blob_info_free);
  out->fds = g_array_new (FALSE, FALSE, sizeof (int));
  g_array_set_clear_func (out->fds, (GDestroyNotify) rrun_close_fdp);
  {
    guint n = out->img->layer_blobs->len;
    g_autofree CompressJob *jobs = g_new0 (CompressJob, n);
    GThreadPool *pool = NULL;
    gboolean ok = TRUE;

    for (guint k = 0; k < n; k++)
      {
        const RrunBlobInfo *l = out->img->layer_blobs->pdata[k];
        CompressJob *j = &jobs[k];

        j->in_fd = g_array_index (out->img->layer_fds, int, k);
        j->kept = l;
        j->diff_id = out->img->diff_ids[k];
        j->zstd = options->compression == RRUN_PUSH_COMPRESSION_ZSTD;
        j->level = options->compression_level;
        j->fd = -1;
        if (keeps_layer (l, options->compression))
          continue;
        recompressed = TRUE;
        /* Layers compress side by side, one per CPU: a layer's compression is the
           longest part of pushing a built image. */
        if (pool == NULL)
          pool = g_thread_pool_new (compress_job, NULL, (int) MAX (1, g_get_num_processors ()),
                                    FALSE, NULL);
        if (pool == NULL || !g_thread_pool_push (pool, j, NULL))
          compress_job (j, NULL);
      }
    /* waits for every job */
    if (pool)
      g_thread_pool_free (pool, FALSE, TRUE);
    for (guint k = 0; k < n; k++)
      {
        CompressJob *j = &jobs[k];
        const RrunBlobInfo *l = j->kept;

        if (ok && j->error)
          {
            g_propagate_error (error, g_steal_pointer (&j->error));
            ok = FALSE;
          }
        g_clear_error (&j->error);
        if (!ok)
          {
            rrun_close_fdp (&j->fd);
            g_clear_pointer (&j->info, rrun_blob_info_free);
            continue;
          }
        if (j->info == NULL)
          {
            j->fd = dup (j->in_fd);
            if (j->fd < 0)
              {
                rrun_throw_errno (error, errno, "cannot push layer %s", l->digest);
                ok = FALSE;
                continue;
              }
            j->info = rrun_blob_info_new (l->digest, l->media_type, l->size);
          }
        g_array_append_val (out->fds, j->fd);
        g_ptr_array_add (out->layers, g_steal_pointer (&j->info));
      }
    if (!ok)
      return FALSE;
  }
  if (!make_manifest (out->img, out->layers, recompressed, options->format, &out->manifest,
                      &out->media_type, error))
    return FALSE;
  {
    g_autofree char *hex = rrun_sha256_data_hex (g_bytes_get_data (out->manifest, NULL),
                                                 g_bytes_get_size (out->manifest));
    out->digest = g_strconcat ("sha256:", hex, NULL);
  }
  return TRUE;
}

typedef struct
{
  RrunRegistryClient *client;
  const char *repository;
  const char *what; /* the destination, for messages */
  const RrunPushOptions *opts;
  GPtrArray *mount_sources; /* repositories of the same registry the image came from */
} Push;

typedef struct
{
  Push *push;
  const char *digest;
  guint64 base; /* bytes of earlier chunks */
  guint64 total;
} Progress;

static void
on_sent (guint64 sent, gpointer user_data)
{
  Progress *p = user_data;
  const RrunPushOptions *o = p->push->opts;

  o->progress (p->digest, RRUN_PUSH_BLOB_UPLOADING, p->base + sent, p->total, NULL,
               o->progress_data);
}

static void
report (Push *p, const char *digest, RrunPushBlobState state, guint64 done, guint64 total,
        const char *from)
{
  if (p->opts->progress)
    p->opts->progress (digest, state, done, total, from, p->opts->progress_data);
}

/* An upload's Location, checked. */
static gboolean
take_location (Push *p, RrunRegistryResponse *resp, const char *digest, char **out,
               GError **error)
{
  if (resp->location == NULL || *resp->location == '\0')
    return rrun_throw (error, RRUN_ERROR_REGISTRY,
                       "cannot push blob %s to %s: the registry gave no upload location",
                       digest, rrun_registry_client_domain (p->client));
  g_free (*out);
  *out = g_steal_pointer (&resp->location);
  return TRUE;
}

/* Send len bytes (of fd, or data) to the upload at location, then close it with the
   digest. */
static gboolean
upload (Push *p, char *location, const char *digest, int fd, const void *data, guint64 len,
        GError **error)
{
  g_autofree char *loc = location;
  g_autofree char *final = NULL;
  g_autofree char *what = g_strdup_printf ("%s (blob %s)", p->what, digest);
  g_autofree char *escaped = g_uri_escape_string (digest, NULL, FALSE);
  guint64 chunk = p->opts->chunk_size ? p->opts->chunk_size : RRUN_PUSH_DEFAULT_CHUNK_SIZE;
  Progress prog = { p, digest, 0, len };
  RrunRegistryRequest put = { 0 };
  g_auto(RrunRegistryResponse) resp = { 0 };

  put.fd = -1;
  if (p->opts->progress)
    {
      put.progress = on_sent;
      put.progress_data = &prog;
    }
  put.content_type = "application/octet-stream";
  if (len > chunk)
    {
      /* Chunked: PATCH each piece to the current location; each answer moves it on. */
      for (guint64 off = 0; off < len; off += chunk)
        {
          RrunRegistryRequest patch = put;
          g_autofree char *range = NULL;
          guint64 n = MIN (chunk, len - off);

          range = g_strdup_printf ("%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, off,
                                   off + n - 1);
          patch.method = "PATCH";
          patch.url = loc;
          patch.content_range = range;
          patch.fd = fd;
          patch.data = data ? (const guint8 *) data + off : NULL;
          patch.offset = data ? 0 : off;
          patch.len = n;
          prog.base = off;
          if (!rrun_registry_client_send (p->client, p->repository, &patch, what, &resp,
                                          error)
              || !take_location (p, &resp, digest, &loc, error))
            return FALSE;
        }
      put.len = 0;
    }
  else
    {
      put.fd = fd;
      put.data = data;
      put.len = len;
    }
  final = g_strdup_printf ("%s%cdigest=%s", loc, strchr (loc, '?') ? '&' : '?', escaped);
  put.method = "PUT";
  put.url = final;
  if (!rrun_registry_client_send (p->client, p->repository, &put, what, &resp, error))
    return FALSE;
  if (resp.docker_content_digest && strcmp (resp.docker_content_digest, digest) != 0)
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "cannot push blob %s to %s: the registry stored it as %s", digest,
                       rrun_registry_client_domain (p->client), resp.docker_content_digest);
  report (p, digest, RRUN_PUSH_BLOB_DONE, len, len, NULL);
  return TRUE;
}

static gboolean
push_blob (Push *p, const char *digest, int fd, const void *data, guint64 len, GError **error)
{
  g_autofree char *subpath = g_strdup_printf ("/v2/%s/blobs/%s", p->repository, digest);
  g_autofree char *what = g_strdup_printf ("%s (blob %s)", p->what, digest);
  g_autofree char *escaped = g_uri_escape_string (digest, NULL, FALSE);
  g_autofree char *location = NULL;
  RrunRegistryRequest req = { 0 };
  g_auto(RrunRegistryResponse) resp = { 0 };

  req.fd = -1;
  req.method = "HEAD";
  req.url = subpath;
  if (!rrun_registry_client_send (p->client, p->repository, &req, what, &resp, error))
    return FALSE;
  if (resp.status == 200)
    {
      report (p, digest, RRUN_PUSH_BLOB_EXISTS, len, len, NULL);
      return TRUE;
    }
  for (guint i = 0; i < p->mount_sources->len; i++)
    {
      const char *from = p->mount_sources->pdata[i];
      g_autofree char *escaped_from = g_uri_escape_string (from, NULL, FALSE);
      g_autofree char *url = g_strdup_printf ("/v2/%s/blobs/uploads/?mount=%s&from=%s",
                                              p->repository, escaped, escaped_from);
      g_autoptr(GError) local = NULL;

      req.method = "POST";
      req.url = url;
      req.mount_from = from;
      if (!rrun_registry_client_send (p->client, p->repository, &req, what, &resp, &local))
        {
          /* A source we may not read is no reason to fail: upload instead. */
          g_debug ("mount from %s: %s", from, local->message);
          continue;
        }
      if (resp.status == 201)
        {
          report (p, digest, RRUN_PUSH_BLOB_MOUNTED, len, len, from);
          return TRUE;
        }
      /* 202: the registry could not mount and opened an upload instead. */
      if (!take_location (p, &resp, digest, &location, error))
        return FALSE;
      return upload (p, g_steal_pointer (&location), digest, fd, data, len, error);
    }
  {
    g_autofree char *url = g_strdup_printf ("/v2/%s/blobs/uploads/", p->repository);
    req.method = "POST";
    req.url = url;
    req.mount_from = NULL;
    if (!rrun_registry_client_send (p->client, p->repository, &req, what, &resp, error)
        || !take_location (p, &resp, digest, &location, error))
      return FALSE;
  }
  return upload (p, g_steal_pointer (&location), digest, fd, data, len, error);
}

/* Repositories of dest's registry that the image was pulled from under another name. */
static GPtrArray *
mount_sources (const RrunStoreImageBlobs *img, const RrunReference *dest)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; img->names[i]; i++)
    {
      g_autoptr(RrunReference) r = NULL;

      if (!rrun_reference_parse (img->names[i], &r, NULL) || r->domain == NULL
          || strcmp (r->domain, dest->domain) != 0 || strcmp (r->path, dest->path) == 0
          || g_ptr_array_find_with_equal_func (out, r->path, g_str_equal, NULL))
        continue;
      g_ptr_array_add (out, g_strdup (r->path));
    }
  return out;
}

gboolean
rrun_push_image (RrunStore *store, const char *image, const char *dest,
                 const RrunPushOptions *options, char **out_dest, char **out_digest,
                 GError **error)
{
  g_auto(Prepared) prep = { 0 };
  g_autoptr(RrunReference) ref = NULL;
  g_autoptr(RrunRegistryClient) client = NULL;
  g_autoptr(GPtrArray) sources = NULL;
  g_autofree char *what = NULL, *config_digest = NULL, *url = NULL;
  const char *text = dest ? dest : image;
  RrunRegistryOptions ro = { 0 };
  RrunRegistryRequest req = { 0 };
  g_auto(RrunRegistryResponse) resp = { 0 };
  Push p = { 0 };

  if (g_str_has_prefix (text, "docker://"))
    text += strlen ("docker://");
  if (!rrun_reference_parse (text, &ref, error))
    return FALSE;
  if (ref->domain == NULL)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "\"%s\" names no registry to push to", text);
      rrun_add_hint (error, "name one: rrun push %s REGISTRY/%s", image, text);
      return FALSE;
    }
  if (ref->digest != NULL)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "cannot push to \"%s\": a destination is a tag, not a digest", text);
  if (strcmp (ref->domain, "localhost") == 0 && dest == NULL)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "\"%s\" is a local name: it names no registry to push to", text);
      rrun_add_hint (error, "name a destination: rrun push %s REGISTRY/NAME[:TAG]", image);
      return FALSE;
    }
  if (!prepare (store, image, options, &prep, error))
    return FALSE;

  what = rrun_reference_to_string (ref);
  ro.tls_verify = options->tls_verify;
  ro.insecure = rrun_registries_conf_is_insecure (rrun_store_registries (store), ref->domain);
  ro.credentials = options->credentials;
  client = rrun_registry_client_new (ref->domain, &ro);
  sources = mount_sources (prep.img, ref);
  p.client = client;
  p.repository = ref->path;
  p.what = what;
  p.opts = options;
  p.mount_sources = sources;

  for (guint k = 0; k < prep.layers->len; k++)
    {
      const RrunBlobInfo *l = prep.layers->pdata[k];
      if (!push_blob (&p, l->digest, g_array_index (prep.fds, int, k), NULL,
                      (guint64) l->size, error))
        return FALSE;
    }
  config_digest = g_strconcat ("sha256:", prep.img->id, NULL);
  if (!push_blob (&p, config_digest, -1, g_bytes_get_data (prep.img->config, NULL),
                  g_bytes_get_size (prep.img->config), error))
    return FALSE;

  url = g_strdup_printf ("/v2/%s/manifests/%s", ref->path, ref->tag);
  req.fd = -1;
  req.method = "PUT";
  req.url = url;
  req.content_type = prep.media_type;
  req.data = g_bytes_get_data (prep.manifest, NULL);
  req.len = g_bytes_get_size (prep.manifest);
  if (!rrun_registry_client_send (client, ref->path, &req, what, &resp, error))
    return FALSE;
  if (resp.docker_content_digest && strcmp (resp.docker_content_digest, prep.digest) != 0)
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "cannot push \"%s\": the registry stored its manifest as %s, not %s",
                       what, resp.docker_content_digest, prep.digest);
  if (out_dest)
    *out_dest = g_steal_pointer (&what);
  *out_digest = g_steal_pointer (&prep.digest);
  return TRUE;
}

/* ---- oci:DIR[:TAG] ------------------------------------------------------------------- */

gboolean
rrun_oci_ref_name_is_valid (const char *tag)
{
  /* ref ::= component ("/" component)*; component ::= alphanum (separator alphanum)*;
     separator ::= [-._:@+] | "--" (the image-spec's annotations.md) */
  gboolean after_alnum = FALSE;
  guint seps = 0;

  if (tag == NULL || *tag == '\0' || strlen (tag) > 255)
    return FALSE;
  for (const char *c = tag; *c; c++)
    {
      if (g_ascii_isalnum (*c))
        {
          after_alnum = TRUE;
          seps = 0;
        }
      else if (*c == '/')
        {
          if (!after_alnum)
            return FALSE;
          after_alnum = FALSE;
          seps = 0;
        }
      else if (strchr ("-._:@+", *c))
        {
          if (!after_alnum && !(*c == '-' && seps == 1 && c[-1] == '-'))
            return FALSE;
          after_alnum = FALSE;
          seps++;
        }
      else
        return FALSE;
    }
  return after_alnum;
}

/* The layout a push writes into, opened and locked (flock on the directory: two pushes
   into one layout do not lose each other's entries). */
typedef struct
{
  const char *dir;
  int dirfd;
  int blobsfd; /* blobs/sha256 */
} Layout;

static void
layout_clear (Layout *l)
{
  rrun_close_fdp (&l->blobsfd);
  rrun_close_fdp (&l->dirfd);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Layout, layout_clear)

/* Write a file under dfd: a temporary name, renamed over name once complete (and
   synced), removed on failure. Its content: len bytes of data, or of fd from offset 0. */
static gboolean
write_file_at (int dfd, const char *dir, const char *name, int fd, const void *data,
               gsize len, GError **error)
{
  g_autofree char *tmp = g_strdup_printf (".tmp-%s-XXXXXX", name);
  g_autofree char *path = NULL;
  g_autofree guint8 *buf = NULL;
  rrun_autofd int out = -1;
  gboolean ok = FALSE;

  /* mkstemp's pattern, made by hand under a directory fd */
  for (guint tries = 0; out < 0 && tries < 100; tries++)
    {
      static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
      char *x = tmp + strlen (tmp) - 6;

      for (guint i = 0; i < 6; i++)
        x[i] = chars[g_random_int_range (0, sizeof chars - 1)];
      out = openat (dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
      if (out < 0 && errno != EEXIST)
        break;
    }
  path = g_build_filename (dir, tmp, NULL);
  if (out < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", path);
  if (data != NULL || fd < 0)
    ok = rrun_fd_write_all (out, data, len, error);
  else
    {
      buf = g_malloc (COMPRESS_OUT_SIZE);
      ok = TRUE;
      for (off_t off = 0; ok && (gsize) off < len;)
        {
          ssize_t n = pread (fd, buf, MIN (COMPRESS_OUT_SIZE, len - (gsize) off), off);

          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            ok = rrun_throw_errno (error, n < 0 ? errno : EIO, "cannot read blob for \"%s\"",
                                   name);
          else
            {
              ok = rrun_fd_write_all (out, buf, (gsize) n, error);
              off += n;
            }
        }
    }
  if (ok && fsync (out) < 0)
    ok = rrun_throw_errno (error, errno, "cannot write \"%s\"", path);
  if (ok && renameat (dfd, tmp, dfd, name) < 0)
    ok = rrun_throw_errno (error, errno, "cannot rename \"%s\"", path);
  if (!ok)
    (void) unlinkat (dfd, tmp, 0);
  return ok;
}

/* A blob into blobs/sha256, unless the layout has it already. */
static gboolean
layout_blob (Layout *l, const char *digest, int fd, const void *data, gsize len,
             GError **error)
{
  const char *hex = digest + strlen ("sha256:");
  struct stat st;
  g_autofree char *dir = g_build_filename (l->dir, "blobs", "sha256", NULL);

  if (fstatat (l->blobsfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode)
      && (gsize) st.st_size == len)
    return TRUE;
  return write_file_at (l->blobsfd, dir, hex, fd, data, len, error);
}

static gboolean
open_subdir (int dfd, const char *name, const char *path, int *out, GError **error)
{
  if (mkdirat (dfd, name, 0755) < 0 && errno != EEXIST)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", path);
  *out = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (*out < 0)
    return rrun_throw_errno (error, errno, "cannot open \"%s\"", path);
  return TRUE;
}

/* The layout's index.json (NULL when it has none), checked to be an index. */
static gboolean
read_index (Layout *l, RrunJson **out_index, GError **error)
{
  g_autofree char *path = g_build_filename (l->dir, "index.json", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) local = NULL;
  RrunJson *manifests;
  gsize len;

  *out_index = NULL;
  if (faccessat (l->dirfd, "index.json", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT)
        return TRUE;
      return rrun_throw_errno (error, errno, "cannot read \"%s\"", path);
    }
  if (!g_file_get_contents (path, &text, &len, error))
    return FALSE;
  *out_index = rrun_json_parse (text, len, 0, &local);
  if (*out_index == NULL || rrun_json_type (*out_index) != RRUN_JSON_OBJECT
      || (manifests = rrun_json_member_value (*out_index, "manifests")) == NULL
      || rrun_json_type (manifests) != RRUN_JSON_ARRAY)
    {
      g_clear_pointer (out_index, rrun_json_free);
      rrun_throw (error, RRUN_ERROR_CORRUPT, "\"%s\" is not an OCI image index%s%s", path,
                  local ? ": " : "", local ? local->message : "");
      rrun_add_hint (error, "push to another directory, or remove \"%s\"", l->dir);
      return FALSE;
    }
  return TRUE;
}

/* The new index: the old one's members and entries, less the one this push replaces
   (the same name; without a name, the same manifest without a name), then ours. */
static char *
new_index (const RrunJson *old, const char *tag, const Prepared *prep)
{
  g_autoptr(RrunJson) index = rrun_json_new_object ();
  RrunJson *manifests = rrun_json_new_array ();
  RrunJson *entry = rrun_json_new_object ();

  if (old == NULL)
    {
      rrun_json_object_set (index, "schemaVersion", rrun_json_new_int (2));
      rrun_json_object_set (index, "mediaType", rrun_json_new_string (RRUN_MEDIA_OCI_INDEX));
    }
  for (guint i = 0; old && i < rrun_json_size (old); i++)
    {
      const char *name = rrun_json_member_name (old, i);
      RrunJson *v = rrun_json_element (old, i);

      if (strcmp (name, "manifests") != 0)
        {
          rrun_json_object_set (index, name, rrun_json_copy (v));
          continue;
        }
      for (guint k = 0; rrun_json_type (v) == RRUN_JSON_ARRAY && k < rrun_json_size (v); k++)
        {
          RrunJson *e = rrun_json_element (v, k);
          RrunJson *ann = rrun_json_type (e) == RRUN_JSON_OBJECT
                              ? rrun_json_member_value (e, "annotations") : NULL;
          const char *ename = ann && rrun_json_type (ann) == RRUN_JSON_OBJECT
                                  ? rrun_json_member_string (ann, "org.opencontainers.image.ref.name")
                                  : NULL;
          const char *edigest = rrun_json_type (e) == RRUN_JSON_OBJECT
                                    ? rrun_json_member_string (e, "digest") : NULL;

          if (tag ? g_strcmp0 (ename, tag) == 0
                  : ename == NULL && g_strcmp0 (edigest, prep->digest) == 0)
            continue;
          rrun_json_array_add (manifests, rrun_json_copy (e));
        }
    }
  rrun_json_object_set (entry, "mediaType", rrun_json_new_string (prep->media_type));
  rrun_json_object_set (entry, "digest", rrun_json_new_string (prep->digest));
  rrun_json_object_set (entry, "size",
                        rrun_json_new_int ((gint64) g_bytes_get_size (prep->manifest)));
  if (tag)
    {
      RrunJson *ann = rrun_json_new_object ();
      rrun_json_object_set (ann, "org.opencontainers.image.ref.name", rrun_json_new_string (tag));
      rrun_json_object_set (entry, "annotations", ann);
    }
  rrun_json_array_add (manifests, entry);
  rrun_json_object_set (index, "manifests", manifests);
  return rrun_json_value_to_text (index, FALSE);
}

gboolean
rrun_push_image_to_layout (RrunStore *store, const char *image, const char *dir,
                           const char *tag, const RrunPushOptions *options,
                           char **out_digest, GError **error)
{
  static const char layout_text[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
  g_auto(Prepared) prep = { 0 };
  g_auto(Layout) l = { dir, -1, -1 };
  g_autoptr(RrunJson) old = NULL;
  g_autofree char *config_digest = NULL, *blobs = NULL, *sha = NULL, *index = NULL;
  int blobsdir = -1;
  gboolean ok;

  if (tag != NULL && !rrun_oci_ref_name_is_valid (tag))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "invalid name \"%s\" in an OCI layout: expected letters and digits joined "
                  "by \"-._:@+\" or \"/\"",
                  tag);
      rrun_add_hint (error, "e.g.: rrun push %s oci:%s:latest", image, dir);
      return FALSE;
    }
  /* Nothing is written before the image is ready: a missing image or a bad option leaves
     no directory behind. */
  if (!prepare (store, image, options, &prep, error))
    return FALSE;
  if (g_mkdir_with_parents (dir, 0755) < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", dir);
  l.dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (l.dirfd < 0)
    return rrun_throw_errno (error, errno, "cannot open \"%s\"", dir);
  if (flock (l.dirfd, LOCK_EX) < 0)
    return rrun_throw_errno (error, errno, "cannot lock \"%s\"", dir);
  if (!read_index (&l, &old, error))
    return FALSE;
  blobs = g_build_filename (dir, "blobs", NULL);
  sha = g_build_filename (dir, "blobs", "sha256", NULL);
  ok = open_subdir (l.dirfd, "blobs", blobs, &blobsdir, error)
       && open_subdir (blobsdir, "sha256", sha, &l.blobsfd, error);
  rrun_close_fdp (&blobsdir);
  if (!ok)
    return FALSE;
  for (guint k = 0; k < prep.layers->len; k++)
    {
      const RrunBlobInfo *b = prep.layers->pdata[k];

      if (!layout_blob (&l, b->digest, g_array_index (prep.fds, int, k), NULL,
                        (gsize) b->size, error))
        return FALSE;
    }
  config_digest = g_strconcat ("sha256:", prep.img->id, NULL);
  if (!layout_blob (&l, config_digest, -1, g_bytes_get_data (prep.img->config, NULL),
                    g_bytes_get_size (prep.img->config), error)
      || !layout_blob (&l, prep.digest, -1, g_bytes_get_data (prep.manifest, NULL),
                       g_bytes_get_size (prep.manifest), error))
    return FALSE;
  if (faccessat (l.dirfd, "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW) < 0
      && !write_file_at (l.dirfd, dir, "oci-layout", -1, layout_text, strlen (layout_text),
                         error))
    return FALSE;
  /* Last: until index.json is replaced, the layout lists what it listed before. */
  index = new_index (old, tag, &prep);
  if (!write_file_at (l.dirfd, dir, "index.json", -1, index, strlen (index), error))
    return FALSE;
  (void) fsync (l.dirfd);
  *out_digest = g_steal_pointer (&prep.digest);
  return TRUE;
}
