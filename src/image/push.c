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
#include <string.h>
#include <unistd.h>
#include <zlib.h>

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

/* gzip the plain tar on in_fd into an unlinked temporary file: *out_fd (at offset 0) and
   its blob info (digest and size of the compressed bytes, the gzip media type). The
   gzip header carries no time or name, so the same layer always gives the same blob and
   a second push finds it on the registry. */
static gboolean
gzip_layer (int in_fd, const char *diff_id, int *out_fd, RrunBlobInfo **out_info,
            GError **error)
{
  g_autofree char *path = NULL;
  g_autofree guint8 *in = g_malloc (1 << 20), *out = g_malloc (1 << 20);
  g_autoptr(RrunSha256) sum = rrun_sha256_new ();
  z_stream z = { 0 };
  gint64 size = 0;
  off_t off = 0;
  int fd, flush = Z_NO_FLUSH;

  fd = g_file_open_tmp ("rrun-push-XXXXXX", &path, error);
  if (fd < 0)
    return FALSE;
  unlink (path);
  if (deflateInit2 (&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY)
      != Z_OK)
    {
      close (fd);
      return rrun_throw (error, RRUN_ERROR_FAILED, "cannot compress layer %s: %s", diff_id,
                         "zlib cannot start");
    }
  while (flush != Z_FINISH)
    {
      ssize_t n = pread (in_fd, in, 1 << 20, off);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int e = errno;
          deflateEnd (&z);
          close (fd);
          return rrun_throw_errno (error, e, "cannot read layer %s", diff_id);
        }
      off += n;
      flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
      z.next_in = in;
      z.avail_in = (uInt) n;
      do
        {
          gsize have;

          z.next_out = out;
          z.avail_out = 1 << 20;
          deflate (&z, flush);
          have = (1 << 20) - z.avail_out;
          rrun_sha256_update (sum, out, have);
          if (have > 0 && !rrun_fd_write_all (fd, out, have, error))
            {
              deflateEnd (&z);
              close (fd);
              g_prefix_error (error, "cannot compress layer %s: ", diff_id);
              return FALSE;
            }
          size += (gint64) have;
        }
      while (z.avail_out == 0);
    }
  deflateEnd (&z);
  {
    g_autofree char *digest = g_strconcat ("sha256:", rrun_sha256_hex (sum), NULL);
    *out_info = rrun_blob_info_new (digest, MT_OCI_LAYER "+gzip", size);
  }
  *out_fd = fd;
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
  g_autoptr(RrunStoreImageBlobs) img = NULL;
  g_autoptr(RrunReference) ref = NULL;
  g_autoptr(RrunRegistryClient) client = NULL;
  g_autoptr(GPtrArray) sources = NULL;
  g_autoptr(GBytes) manifest = NULL;
  g_autoptr(GPtrArray) layers = NULL;
  g_autoptr(GArray) fds = NULL;
  gboolean recompressed = FALSE;
  g_autofree char *what = NULL, *config_digest = NULL, *digest = NULL, *url = NULL;
  const char *media_type = NULL;
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
  if (!rrun_store_open_image_blobs (store, image, &img, error))
    return FALSE;
  for (guint k = 0; k < img->layer_blobs->len; k++)
    if (img->layer_blobs->pdata[k] == NULL)
      {
        rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                    "image \"%s\" has no kept blob for its layer %u (%s); an older rrun "
                    "pulled or imported it",
                    image, k + 1, img->diff_ids[k]);
        rrun_add_hint (error, "remove it and pull or import it again: rrun rmi %s && rrun "
                              "pull %s",
                       image, image);
        return FALSE;
      }
  /* Layers kept as plain tars (commit and build keep them so) go out gzip-compressed, as
     docker and podman push them: registries and engines expect compressed layers. */
  layers = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_blob_info_free);
  fds = g_array_new (FALSE, FALSE, sizeof (int));
  g_array_set_clear_func (fds, (GDestroyNotify) rrun_close_fdp);
  for (guint k = 0; k < img->layer_blobs->len; k++)
    {
      const RrunBlobInfo *l = img->layer_blobs->pdata[k];
      int fd = -1;
      RrunBlobInfo *info = NULL;

      if (is_uncompressed (l))
        {
          if (!gzip_layer (g_array_index (img->layer_fds, int, k), img->diff_ids[k], &fd,
                           &info, error))
            return FALSE;
          recompressed = TRUE;
        }
      else
        {
          fd = dup (g_array_index (img->layer_fds, int, k));
          if (fd < 0)
            return rrun_throw_errno (error, errno, "cannot push layer %s", l->digest);
          info = rrun_blob_info_new (l->digest, l->media_type, l->size);
        }
      g_array_append_val (fds, fd);
      g_ptr_array_add (layers, info);
    }
  if (!make_manifest (img, layers, recompressed, options->format, &manifest, &media_type,
                      error))
    return FALSE;

  what = rrun_reference_to_string (ref);
  ro.tls_verify = options->tls_verify;
  ro.insecure = rrun_registries_conf_is_insecure (rrun_store_registries (store), ref->domain);
  ro.credentials = options->credentials;
  client = rrun_registry_client_new (ref->domain, &ro);
  sources = mount_sources (img, ref);
  p.client = client;
  p.repository = ref->path;
  p.what = what;
  p.opts = options;
  p.mount_sources = sources;

  for (guint k = 0; k < layers->len; k++)
    {
      const RrunBlobInfo *l = layers->pdata[k];
      if (!push_blob (&p, l->digest, g_array_index (fds, int, k), NULL,
                      (guint64) l->size, error))
        return FALSE;
    }
  config_digest = g_strconcat ("sha256:", img->id, NULL);
  if (!push_blob (&p, config_digest, -1, g_bytes_get_data (img->config, NULL),
                  g_bytes_get_size (img->config), error))
    return FALSE;

  {
    g_autofree char *hex = rrun_sha256_data_hex (g_bytes_get_data (manifest, NULL),
                                                 g_bytes_get_size (manifest));
    digest = g_strconcat ("sha256:", hex, NULL);
  }
  url = g_strdup_printf ("/v2/%s/manifests/%s", ref->path, ref->tag);
  req.fd = -1;
  req.method = "PUT";
  req.url = url;
  req.content_type = media_type;
  req.data = g_bytes_get_data (manifest, NULL);
  req.len = g_bytes_get_size (manifest);
  if (!rrun_registry_client_send (client, ref->path, &req, what, &resp, error))
    return FALSE;
  if (resp.docker_content_digest && strcmp (resp.docker_content_digest, digest) != 0)
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "cannot push \"%s\": the registry stored its manifest as %s, not %s",
                       what, resp.docker_content_digest, digest);
  if (out_dest)
    *out_dest = g_steal_pointer (&what);
  *out_digest = g_steal_pointer (&digest);
  return TRUE;
}
