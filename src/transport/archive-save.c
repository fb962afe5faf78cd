/* rrun save: docker-archive or OCI archive, written with libarchive from the blobs the
   store kept for each layer.

   docker-archive holds uncompressed layers named DIFFHEX.tar (as podman and skopeo write
   it), so a compressed kept blob is decompressed twice: once to check its diff ID and
   learn the size a tar header needs before the data, once into the archive (checked
   again). The OCI archive holds the kept blobs as they are, and the kept manifest when it
   still describes them, so the manifest digest survives a save and load.

   Every blob was opened under the store's shared lock (rrun_store_open_image_blobs), so
   an rmi meanwhile cannot take it away. A file is written under a temporary name in its
   own directory and renamed over the target at the end; a failure removes it. */
#include "error.h"
#include "registry/manifest.h"
#include "transport/archive-manifest.h"
#include "transport/archive.h"
#include "util/fd.h"
#include "util/sha256.h"
#include "util/json-value.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"

gboolean
rrun_archive_format_parse (const char *text, RrunArchiveFormat *out_format, GError **error)
{
  if (text == NULL || strcmp (text, "docker-archive") == 0)
    *out_format = RRUN_ARCHIVE_DOCKER;
  else if (strcmp (text, "oci-archive") == 0)
    *out_format = RRUN_ARCHIVE_OCI;
  else
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "invalid --format \"%s\": expected docker-archive or oci-archive", text);
      rrun_add_hint (error, "see: rrun save --help");
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  struct archive *w;
  GHashTable *written; /* member paths already in the archive */
} Writer;

static gboolean
archive_fail (Writer *wr, GError **error)
{
  return rrun_throw (error, RRUN_ERROR_FAILED, "%s", archive_error_string (wr->w));
}

static gboolean
write_header (Writer *wr, const char *name, mode_t type, gint64 size, GError **error)
{
  struct archive_entry *e = archive_entry_new ();
  int r;

  archive_entry_set_pathname (e, name);
  archive_entry_set_filetype (e, type);
  archive_entry_set_perm (e, type == AE_IFDIR ? 0755 : 0644);
  archive_entry_set_size (e, type == AE_IFDIR ? 0 : size);
  archive_entry_set_uid (e, 0);
  archive_entry_set_gid (e, 0);
  archive_entry_set_mtime (e, 0, 0);
  r = archive_write_header (wr->w, e);
  archive_entry_free (e);
  if (r != ARCHIVE_OK)
    return archive_fail (wr, error);
  g_hash_table_add (wr->written, g_strdup (name));
  return TRUE;
}

static gboolean
write_data (const guint8 *data, gsize len, gpointer user_data, GError **error)
{
  Writer *wr = user_data;

  while (len > 0)
    {
      la_ssize_t n = archive_write_data (wr->w, data, len);
      if (n <= 0)
        return archive_fail (wr, error);
      data += n;
      len -= (gsize)n;
    }
  return TRUE;
}

static gboolean
write_bytes (Writer *wr, const char *name, const void *data, gsize len, GError **error)
{
  return write_header (wr, name, AE_IFREG, (gint64)len, error) && write_data (data, len, wr, error);
}

/* Compact, as json-glib's generator wrote it: same bytes for the same images. */
static gboolean
write_json (Writer *wr, const char *name, RrunJsonBuilder *b, GError **error)
{
  g_autofree char *text = rrun_json_builder_to_text (b, FALSE);

  return write_bytes (wr, name, text, strlen (text), error);
}

/* Copy a kept blob as it is, checking its digest and size on the way. */
static gboolean
write_blob (Writer *wr, const char *name, int fd, const RrunBlobInfo *info, GError **error)
{
  g_autoptr (RrunSha256) sum = rrun_sha256_new ();
  g_autofree guint8 *buf = g_malloc (1 << 16);
  struct stat st;
  gint64 total = 0;

  if (fstat (fd, &st) < 0)
    return rrun_throw_errno (error, errno, "cannot stat blob %s", info->digest);
  if (lseek (fd, 0, SEEK_SET) < 0)
    return rrun_throw_errno (error, errno, "cannot read blob %s", info->digest);
  if (!write_header (wr, name, AE_IFREG, st.st_size, error))
    return FALSE;
  for (;;)
    {
      ssize_t n = read (fd, buf, 1 << 16);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return rrun_throw_errno (error, errno, "cannot read blob %s", info->digest);
      if (n == 0)
        break;
      rrun_sha256_update (sum, buf, (gsize)n);
      total += n;
      if (total > st.st_size || !write_data (buf, (gsize)n, wr, error))
        return rrun_throw (error, RRUN_ERROR_CORRUPT, "blob %s changed while it was saved",
                           info->digest);
    }
  if (total != st.st_size || strcmp (rrun_sha256_hex (sum), info->digest + 7) != 0)
    {
      rrun_throw (error, RRUN_ERROR_CORRUPT, "kept blob %s does not match its digest",
                  info->digest);
      rrun_add_hint (error, "the store is damaged: remove the image with 'rrun rmi' and pull "
                            "or load it again");
      return FALSE;
    }
  return TRUE;
}

/* The uncompressed layer, named by its diff ID, for docker-archive. */
static gboolean
write_layer_tar (Writer *wr, const char *name, int fd, const char *diff_id, GError **error)
{
  g_autofree char *digest = NULL, *again = NULL;
  gint64 size = 0, size2 = 0;

  if (lseek (fd, 0, SEEK_SET) < 0)
    return rrun_throw_errno (error, errno, "cannot read layer %s", diff_id);
  if (!rrun_archive_uncompressed_digest (fd, -1, &digest, &size, error))
    return FALSE;
  if (strcmp (digest, diff_id) != 0)
    {
      rrun_throw (error, RRUN_ERROR_CORRUPT, "the kept blob of layer %s does not match it: got %s",
                  diff_id, digest);
      rrun_add_hint (error, "the store is damaged: remove the image with 'rrun rmi' and pull "
                            "or load it again");
      return FALSE;
    }
  if (lseek (fd, 0, SEEK_SET) < 0)
    return rrun_throw_errno (error, errno, "cannot read layer %s", diff_id);
  if (!write_header (wr, name, AE_IFREG, size, error)
      || !rrun_archive_uncompressed_stream (fd, write_data, wr, &again, &size2, error))
    return FALSE;
  if (size2 != size || strcmp (again, digest) != 0)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "layer %s changed while it was saved", diff_id);
  return TRUE;
}

/* ---- docker-archive ------------------------------------------------------------------- */

static gboolean
save_docker (Writer *wr, GPtrArray *images, GError **error)
{
  g_autoptr (RrunJsonBuilder) b = rrun_json_builder_new ();

  rrun_json_builder_begin_array (b);
  for (guint i = 0; i < images->len; i++)
    {
      RrunStoreImageBlobs *img = images->pdata[i];
      g_autofree char *config_name = g_strconcat (img->id, ".json", NULL);

      if (!g_hash_table_contains (wr->written, config_name)
          && !write_bytes (wr, config_name, g_bytes_get_data (img->config, NULL),
                           g_bytes_get_size (img->config), error))
        return FALSE;
      rrun_json_builder_begin_object (b);
      rrun_json_builder_set_member_name (b, "Config");
      rrun_json_builder_add_string_value (b, config_name);
      rrun_json_builder_set_member_name (b, "RepoTags");
      rrun_json_builder_begin_array (b);
      for (guint k = 0; img->names[k]; k++)
        rrun_json_builder_add_string_value (b, img->names[k]);
      rrun_json_builder_end_array (b);
      rrun_json_builder_set_member_name (b, "Layers");
      rrun_json_builder_begin_array (b);
      for (guint k = 0; img->diff_ids[k]; k++)
        {
          g_autofree char *name = g_strconcat (img->diff_ids[k] + 7, ".tar", NULL);

          if (!g_hash_table_contains (wr->written, name)
              && !write_layer_tar (wr, name, g_array_index (img->layer_fds, int, k),
                                   img->diff_ids[k], error))
            return FALSE;
          rrun_json_builder_add_string_value (b, name);
        }
      rrun_json_builder_end_array (b);
      rrun_json_builder_end_object (b);
    }
  rrun_json_builder_end_array (b);
  return write_json (wr, "manifest.json", b, error);
}

/* ---- oci-archive ---------------------------------------------------------------------- */

/* The OCI media type for a kept layer blob (docker's name the same bytes differently). */
static const char *
oci_layer_type (const char *media_type)
{
  if (strcmp (media_type, "application/vnd.docker.image.rootfs.diff.tar.gzip") == 0)
    return MT_OCI_LAYER "+gzip";
  if (strcmp (media_type, "application/vnd.docker.image.rootfs.diff.tar") == 0)
    return MT_OCI_LAYER;
  return media_type;
}

gboolean
rrun_archive_kept_manifest_fits (const RrunStoreImageBlobs *img, const char *media_type)
{
  g_autoptr (RrunManifest) m = NULL;
  g_autofree char *config = g_strconcat ("sha256:", img->id, NULL);

  if (img->manifest_data == NULL
      || !rrun_manifest_parse (g_bytes_get_data (img->manifest_data, NULL),
                               g_bytes_get_size (img->manifest_data), img->manifest->media_type,
                               img->manifest->digest, &m, NULL)
      || m->kind != RRUN_MANIFEST_KIND_IMAGE || strcmp (m->config->digest, config) != 0
      || m->layers->len != img->layer_blobs->len
      || (media_type != NULL && strcmp (m->media_type, media_type) != 0))
    return FALSE;
  for (guint i = 0; i < m->layers->len; i++)
    {
      const RrunDescriptor *d = m->layers->pdata[i];
      const RrunBlobInfo *b = img->layer_blobs->pdata[i];
      if (strcmp (d->digest, b->digest) != 0)
        return FALSE;
    }
  return TRUE;
}

static GBytes *
make_manifest (RrunStoreImageBlobs *img)
{
  g_autoptr (RrunJsonBuilder) b = rrun_json_builder_new ();
  g_autofree char *config = g_strconcat ("sha256:", img->id, NULL);
  char *text;

  rrun_json_builder_begin_object (b);
  rrun_json_builder_set_member_name (b, "schemaVersion");
  rrun_json_builder_add_int_value (b, 2);
  rrun_json_builder_set_member_name (b, "mediaType");
  rrun_json_builder_add_string_value (b, RRUN_MEDIA_OCI_MANIFEST);
  rrun_json_builder_set_member_name (b, "config");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_set_member_name (b, "mediaType");
  rrun_json_builder_add_string_value (b, RRUN_MEDIA_OCI_CONFIG);
  rrun_json_builder_set_member_name (b, "digest");
  rrun_json_builder_add_string_value (b, config);
  rrun_json_builder_set_member_name (b, "size");
  rrun_json_builder_add_int_value (b, (gint64)g_bytes_get_size (img->config));
  rrun_json_builder_end_object (b);
  rrun_json_builder_set_member_name (b, "layers");
  rrun_json_builder_begin_array (b);
  for (guint i = 0; i < img->layer_blobs->len; i++)
    {
      const RrunBlobInfo *l = img->layer_blobs->pdata[i];

      rrun_json_builder_begin_object (b);
      rrun_json_builder_set_member_name (b, "mediaType");
      rrun_json_builder_add_string_value (b, oci_layer_type (l->media_type));
      rrun_json_builder_set_member_name (b, "digest");
      rrun_json_builder_add_string_value (b, l->digest);
      rrun_json_builder_set_member_name (b, "size");
      rrun_json_builder_add_int_value (b, l->size);
      rrun_json_builder_end_object (b);
    }
  rrun_json_builder_end_array (b);
  rrun_json_builder_end_object (b);
  /* Its digest names the image in the archive: compact, members in this order, as
     json-glib's generator wrote it before, so a saved archive keeps its manifest digest. */
  text = rrun_json_builder_to_text (b, FALSE);
  return g_bytes_new_take (text, strlen (text));
}

static void
add_descriptor (RrunJsonBuilder *b, const char *media_type, const char *digest, gint64 size,
                const char *name)
{
  rrun_json_builder_begin_object (b);
  rrun_json_builder_set_member_name (b, "mediaType");
  rrun_json_builder_add_string_value (b, media_type);
  rrun_json_builder_set_member_name (b, "digest");
  rrun_json_builder_add_string_value (b, digest);
  rrun_json_builder_set_member_name (b, "size");
  rrun_json_builder_add_int_value (b, size);
  if (name)
    {
      /* containerd reads the first, podman and skopeo the second. */
      rrun_json_builder_set_member_name (b, "annotations");
      rrun_json_builder_begin_object (b);
      rrun_json_builder_set_member_name (b, "io.containerd.image.name");
      rrun_json_builder_add_string_value (b, name);
      rrun_json_builder_set_member_name (b, "org.opencontainers.image.ref.name");
      rrun_json_builder_add_string_value (b, name);
      rrun_json_builder_end_object (b);
    }
  rrun_json_builder_end_object (b);
}

static gboolean
save_oci (Writer *wr, GPtrArray *images, GError **error)
{
  static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
  g_autoptr (RrunJsonBuilder) index = rrun_json_builder_new ();

  if (!write_bytes (wr, "oci-layout", layout, strlen (layout), error)
      || !write_header (wr, "blobs", AE_IFDIR, 0, error)
      || !write_header (wr, "blobs/sha256", AE_IFDIR, 0, error))
    return FALSE;
  rrun_json_builder_begin_object (index);
  rrun_json_builder_set_member_name (index, "schemaVersion");
  rrun_json_builder_add_int_value (index, 2);
  rrun_json_builder_set_member_name (index, "mediaType");
  rrun_json_builder_add_string_value (index, RRUN_MEDIA_OCI_INDEX);
  rrun_json_builder_set_member_name (index, "manifests");
  rrun_json_builder_begin_array (index);
  for (guint i = 0; i < images->len; i++)
    {
      RrunStoreImageBlobs *img = images->pdata[i];
      g_autofree char *config_digest = g_strconcat ("sha256:", img->id, NULL);
      g_autofree char *config_name = rrun_oci_blob_path (config_digest);
      g_autoptr (GBytes) manifest = NULL;
      g_autofree char *mdigest = NULL, *mname = NULL;
      const char *mtype;

      if (!g_hash_table_contains (wr->written, config_name)
          && !write_bytes (wr, config_name, g_bytes_get_data (img->config, NULL),
                           g_bytes_get_size (img->config), error))
        return FALSE;
      for (guint k = 0; k < img->layer_blobs->len; k++)
        {
          const RrunBlobInfo *l = img->layer_blobs->pdata[k];
          g_autofree char *name = rrun_oci_blob_path (l->digest);

          if (!g_hash_table_contains (wr->written, name)
              && !write_blob (wr, name, g_array_index (img->layer_fds, int, k), l, error))
            return FALSE;
        }
      if (rrun_archive_kept_manifest_fits (img, NULL))
        {
          manifest = g_bytes_ref (img->manifest_data);
          mtype = img->manifest->media_type;
        }
      else
        {
          manifest = make_manifest (img);
          mtype = RRUN_MEDIA_OCI_MANIFEST;
        }
      {
        g_autofree char *hex = rrun_sha256_data_hex (g_bytes_get_data (manifest, NULL),
                                                     g_bytes_get_size (manifest));
        mdigest = g_strconcat ("sha256:", hex, NULL);
      }
      mname = rrun_oci_blob_path (mdigest);
      if (!g_hash_table_contains (wr->written, mname)
          && !write_bytes (wr, mname, g_bytes_get_data (manifest, NULL),
                           g_bytes_get_size (manifest), error))
        return FALSE;
      if (img->names[0] == NULL)
        add_descriptor (index, mtype, mdigest, (gint64)g_bytes_get_size (manifest), NULL);
      for (guint k = 0; img->names[k]; k++)
        add_descriptor (index, mtype, mdigest, (gint64)g_bytes_get_size (manifest), img->names[k]);
    }
  rrun_json_builder_end_array (index);
  rrun_json_builder_end_object (index);
  return write_json (wr, "index.json", index, error);
}

/* ---- the save ------------------------------------------------------------------------- */

/* Open every image; refuse layers without a kept blob. The same image named twice is
   saved once, with both names. */
static gboolean
collect_images (RrunStore *store, const char *const *refs, GPtrArray *images, GError **error)
{
  for (guint i = 0; refs[i]; i++)
    {
      g_autoptr (RrunStoreImageBlobs) img = NULL;
      RrunStoreImageBlobs *same = NULL;

      if (!rrun_store_open_image_blobs (store, refs[i], &img, error))
        return FALSE;
      for (guint k = 0; k < img->layer_blobs->len; k++)
        if (img->layer_blobs->pdata[k] == NULL)
          {
            rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                        "image \"%s\" has no kept blob for its layer %u (%s); an older "
                        "rrun pulled or imported it",
                        refs[i], k + 1, img->diff_ids[k]);
            rrun_add_hint (error,
                           "remove it and pull or import it again: rrun rmi %s && "
                           "rrun pull %s",
                           refs[i], refs[i]);
            return FALSE;
          }
      for (guint k = 0; k < images->len; k++)
        if (strcmp (((RrunStoreImageBlobs *)images->pdata[k])->id, img->id) == 0)
          same = images->pdata[k];
      if (same == NULL)
        g_ptr_array_add (images, g_steal_pointer (&img));
    }
  return TRUE;
}

gboolean
rrun_archive_save (RrunStore *store, const char *const *refs, RrunArchiveFormat format,
                   const char *path, GError **error)
{
  g_autoptr (GPtrArray) images
      = g_ptr_array_new_with_free_func ((GDestroyNotify)rrun_store_image_blobs_free);
  g_autoptr (GHashTable) written = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *tmp = NULL;
  rrun_autofd int fd = -1;
  Writer wr = { NULL, written };
  gboolean to_stdout = path == NULL || strcmp (path, "-") == 0;
  gboolean ok = FALSE;

  if (refs == NULL || refs[0] == NULL)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "no image to save");
  if (to_stdout && isatty (STDOUT_FILENO))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "cannot write an archive to a terminal");
      rrun_add_hint (error,
                     "name a file with -o FILE, or redirect the output: rrun save %s > "
                     "FILE",
                     refs[0]);
      return FALSE;
    }
  if (!collect_images (store, refs, images, error))
    return FALSE;
  if (to_stdout)
    fd = fcntl (STDOUT_FILENO, F_DUPFD_CLOEXEC, 0);
  else
    {
      g_autofree char *dir = g_path_get_dirname (path);
      g_autofree char *base = g_path_get_basename (path);

      tmp = g_strdup_printf ("%s/.%s.XXXXXX", dir, base);
      fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0644);
      if (fd < 0)
        {
          int errsv = errno;
          g_clear_pointer (&tmp, g_free);
          return rrun_throw_errno (error, errsv, "cannot create a file in \"%s\"", dir);
        }
    }
  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot write to standard output");
  wr.w = archive_write_new ();
  /* pax keeps long names and large sizes exact; docker and podman read it. */
  archive_write_set_format_pax_restricted (wr.w);
  archive_write_set_bytes_in_last_block (wr.w, 1);
  if (archive_write_open_fd (wr.w, fd) != ARCHIVE_OK)
    {
      archive_fail (&wr, error);
      goto out;
    }
  if (!(format == RRUN_ARCHIVE_OCI ? save_oci (&wr, images, error)
                                   : save_docker (&wr, images, error)))
    goto out;
  if (archive_write_close (wr.w) != ARCHIVE_OK)
    {
      archive_fail (&wr, error);
      goto out;
    }
  if (tmp)
    {
      if (fsync (fd) < 0)
        {
          rrun_throw_errno (error, errno, "cannot write \"%s\"", tmp);
          goto out;
        }
      if (rename (tmp, path) < 0)
        {
          rrun_throw_errno (error, errno, "cannot rename \"%s\" to \"%s\"", tmp, path);
          goto out;
        }
      g_clear_pointer (&tmp, g_free);
    }
  ok = TRUE;
out:
  archive_write_free (wr.w);
  if (tmp)
    (void)unlink (tmp);
  return ok;
}
