/* Blobs under blobs/sha256/: kept layer blobs, image manifests and configs, checked against
   their digests on the way in; which image keeps which is recorded in image.json. */
#include "storage/store.h"
#include "storage/store-private.h"
#include "error.h"
#include "util/text-file.h"
#include "log.h"
#include "util/fd.h"
#include "util/path.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

void
rrun_blob_info_free (RrunBlobInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->digest);
  g_free (info->media_type);
  g_free (info);
}

RrunBlobInfo *
rrun_blob_info_new (const char *digest, const char *media_type, gint64 size)
{
  RrunBlobInfo *info = g_new0 (RrunBlobInfo, 1);

  info->digest = g_strdup (digest);
  info->media_type = g_strdup (media_type);
  info->size = size;
  return info;
}

void
blob_info_free0 (gpointer p)
{
  rrun_blob_info_free (p);
}

gboolean
rrun_store_put_blob (RrunStore *store, const char *digest, const void *data, gsize len,
                     GError **error)
{
  g_autofree char *sum = sha256_hex (data, len);
  g_autofree char *path = NULL;

  if (!g_str_has_prefix (digest, "sha256:") || !is_hex64 (digest + 7))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid digest \"%s\"", digest);
  if (strcmp (sum, digest + 7) != 0)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "blob does not match its digest %s: got "
                       "sha256:%s", digest, sum);
  path = g_build_filename (store->root, "blobs", "sha256", digest + 7, NULL);
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  return rrun_path_write_atomic (path, data, len, 0644, error);
}

gboolean
rrun_store_has_blob (RrunStore *store, const char *digest)
{
  g_autofree char *path = NULL;

  if (!g_str_has_prefix (digest, "sha256:") || !is_hex64 (digest + 7))
    return FALSE;
  path = g_build_filename (store->root, "blobs", "sha256", digest + 7, NULL);
  return g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

/* Put one kept blob into blobs/ (exclusive lock held). *out_created tells whether this
   call made the file (so a later failure unlinks it). */
gboolean
place_blob (RrunStore *store, const RrunStoreBlob *b, gboolean *out_created, GError **error)
{
  g_autofree char *path = NULL;

  *out_created = FALSE;
  if (!g_str_has_prefix (b->digest, "sha256:") || !is_hex64 (b->digest + 7))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid digest \"%s\"", b->digest);
  path = g_build_filename (store->root, "blobs", "sha256", b->digest + 7, NULL);
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  if (b->path)
    {
      if (link (b->path, path) < 0)
        return rrun_throw_errno (error, errno, "cannot keep blob %s", b->digest);
    }
  else if (b->data)
    {
      if (!rrun_store_put_blob (store, b->digest, b->data, b->len, error))
        return FALSE;
    }
  else
    return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot keep blob %s: no data for it",
                       b->digest);
  *out_created = TRUE;
  return TRUE;
}

gboolean
spec_blob_wanted (const RrunStoreBlob *b)
{
  return b && b->digest && (b->path || b->data);
}

/* Whether an image of metas other than except_id (and not deleted) keeps the blob
   "sha256:HEX": as its config, a layer blob or its manifest. */
static gboolean
blob_in_use (GPtrArray *metas, const char *digest, const char *except_id)
{
  for (guint i = 0; i < metas->len; i++)
    {
      ImageMeta *m = metas->pdata[i];

      if (m->deleted || g_strcmp0 (m->id, except_id) == 0)
        continue;
      if (strcmp (digest + 7, m->id) == 0
          || (m->manifest && strcmp (m->manifest->digest, digest) == 0))
        return TRUE;
      for (guint k = 0; m->layer_blobs && k < m->layer_blobs->len; k++)
        {
          RrunBlobInfo *b = m->layer_blobs->pdata[k];
          if (b && strcmp (b->digest, digest) == 0)
            return TRUE;
        }
    }
  return FALSE;
}

void
unlink_blob_unless_used (RrunStore *store, GPtrArray *metas, const char *digest,
                         const char *except_id)
{
  g_autofree char *path = NULL;

  if (blob_in_use (metas, digest, except_id))
    return;
  path = g_build_filename (store->root, "blobs", "sha256", digest + 7, NULL);
  if (unlink (path) < 0 && errno != ENOENT)
    rrun_warning ("cannot remove blob \"%s\": %s", path, g_strerror (errno));
}

void
rrun_store_image_blobs_free (RrunStoreImageBlobs *blobs)
{
  if (blobs == NULL)
    return;
  g_free (blobs->id);
  g_strfreev (blobs->names);
  if (blobs->config)
    g_bytes_unref (blobs->config);
  g_strfreev (blobs->diff_ids);
  if (blobs->layer_blobs)
    g_ptr_array_unref (blobs->layer_blobs);
  if (blobs->layer_fds)
    {
      for (guint i = 0; i < blobs->layer_fds->len; i++)
        rrun_close_fdp (&g_array_index (blobs->layer_fds, int, i));
      g_array_unref (blobs->layer_fds);
    }
  rrun_blob_info_free (blobs->manifest);
  if (blobs->manifest_data)
    g_bytes_unref (blobs->manifest_data);
  g_free (blobs);
}

static gboolean
open_image_blobs_locked (const ImageMeta *m, RrunStoreImageBlobs *out, GError **error)
{
  g_autofree char *cpath = NULL, *text = NULL;
  g_autoptr(RrunJson) config = NULL;
  gsize len = 0;

  if (!read_image_config (m, &cpath, &text, &len, &config, error))
    return FALSE;
  if (!rrun_image_config_parse_meta (config, cpath, NULL, NULL, NULL, &out->diff_ids, error))
    return FALSE;
  if (g_strv_length (out->diff_ids) != g_strv_length (m->layers))
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "image %.12s is corrupt: its config lists %u layers, the store %u",
                       m->id, g_strv_length (out->diff_ids), g_strv_length (m->layers));
  out->id = g_strdup (m->id);
  out->names = g_strdupv (m->names);
  out->config = g_bytes_new_take (g_steal_pointer (&text), len);
  out->layer_blobs = g_ptr_array_new_with_free_func (blob_info_free0);
  out->layer_fds = g_array_new (FALSE, FALSE, sizeof (int));
  for (guint i = 0; m->layers[i]; i++)
    {
      RrunBlobInfo *b = m->layer_blobs ? m->layer_blobs->pdata[i] : NULL;
      int fd = -1;

      if (b)
        {
          g_autofree char *path = g_build_filename (m->root, "blobs", "sha256", b->digest + 7,
                                                    NULL);
          fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
          if (fd < 0 && errno != ENOENT)
            return rrun_throw_errno (error, errno, "cannot open \"%s\"", path);
        }
      g_ptr_array_add (out->layer_blobs,
                       fd >= 0 ? rrun_blob_info_new (b->digest, b->media_type, b->size) : NULL);
      g_array_append_val (out->layer_fds, fd);
    }
  if (m->manifest)
    {
      g_autofree char *path = g_build_filename (m->root, "blobs", "sha256",
                                                m->manifest->digest + 7, NULL);
      g_autofree char *mtext = NULL;
      gsize mlen;

      /* Optional: without it save writes a manifest of its own. */
      if (rrun_text_file_read (path, "image manifest", RRUN_TEXT_FILE_MAX_CONFIG,
                               RRUN_TEXT_FILE_DEFAULT, &mtext, &mlen, NULL))
        {
          g_autofree char *msum = sha256_hex (mtext, mlen);
          if (strcmp (msum, m->manifest->digest + 7) == 0)
            {
              out->manifest = rrun_blob_info_new (m->manifest->digest, m->manifest->media_type,
                                                  (gint64) mlen);
              out->manifest_data = g_bytes_new_take (g_steal_pointer (&mtext), mlen);
            }
        }
    }
  return TRUE;
}

gboolean
rrun_store_open_image_blobs (RrunStore *store, const char *ref,
                             RrunStoreImageBlobs **out_blobs, GError **error)
{
  g_autoptr(GPtrArray) metas = NULL;
  g_autoptr(RrunStoreImageBlobs) blobs = g_new0 (RrunStoreImageBlobs, 1);
  g_autofree char *name = NULL;
  ImageMeta *m = NULL;
  gboolean ok;

  if (!store_lock (store, FALSE, error))
    return FALSE;
  metas = all_metas (store, TRUE);
  ok = find_meta (store, metas, ref, &m, &name, error)
       && open_image_blobs_locked (m, blobs, error);
  store_unlock (store);
  if (!ok)
    return FALSE;
  *out_blobs = g_steal_pointer (&blobs);
  return TRUE;
}
