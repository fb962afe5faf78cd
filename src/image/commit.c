/* rrun_image_commit: see commit.h. */
#include "image/commit.h"

#include "error.h"
#include "image/layer.h"
#include "squashfs/squashfs.h"
#include "util/fd.h"
#include "util/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *
rrun_image_commit_time (gint64 unix_seconds)
{
  g_autoptr(GDateTime) t = unix_seconds > 0 ? g_date_time_new_from_unix_utc (unix_seconds)
                                            : g_date_time_new_now_utc ();
  g_autofree char *base = g_date_time_format (t, "%Y-%m-%dT%H:%M:%S");

  return g_strdup_printf ("%s.%09dZ", base, unix_seconds > 0 ? 0 : g_date_time_get_microsecond (t) * 1000);
}

gboolean
rrun_image_commit_base (RrunStore *store, const char *base_id, RrunJson **out_config,
                        GStrv *out_chain_ids, GError **error)
{
  g_autoptr(RrunImage) img = NULL;
  g_autoptr(RrunJson) root = NULL;
  g_autoptr(GPtrArray) chains = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) local = NULL;

  if (base_id == NULL)
    {
      root = rrun_json_new_object ();
      rrun_json_object_set (root, "architecture",
                            rrun_json_new_string (rrun_store_host_architecture ()));
      rrun_json_object_set (root, "os", rrun_json_new_string ("linux"));
      rrun_json_object_set (root, "config", rrun_json_new_object ());
      {
        RrunJson *rootfs = rrun_json_new_object ();
        rrun_json_object_set (rootfs, "type", rrun_json_new_string ("layers"));
        rrun_json_object_set (rootfs, "diff_ids", rrun_json_new_array ());
        rrun_json_object_set (root, "rootfs", rootfs);
      }
      *out_config = g_steal_pointer (&root);
      *out_chain_ids = g_new0 (char *, 1);
      return TRUE;
    }
  if (!rrun_squashfs_check_stored (base_id, NULL, error)
      || !rrun_store_find_image (store, base_id, &img, error))
    return FALSE;
  {
    /* The config file alone: opening every kept blob (rrun_store_open_image_blobs) would
       cost a cached build step more than the rest of it. */
    g_autofree char *text = NULL;
    gsize len = 0;
    if (img->config_path == NULL)
      return rrun_throw (error, RRUN_ERROR_CORRUPT, "image %.12s has no config", img->id);
    if (!g_file_get_contents (img->config_path, &text, &len, error))
      return FALSE;
    root = rrun_json_parse (text, len, RRUN_JSON_DEFAULT, &local);
  }
  if (root == NULL || rrun_json_type (root) != RRUN_JSON_OBJECT)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "the config of image %.12s is not a JSON "
                       "object", img->id);
  for (guint i = 0; i < img->layer_ids->len; i++)
    g_ptr_array_add (chains, g_strdup (img->layer_ids->pdata[i]));
  g_ptr_array_add (chains, NULL);
  *out_config = g_steal_pointer (&root);
  *out_chain_ids = (GStrv) g_ptr_array_free (g_steal_pointer (&chains), FALSE);
  return TRUE;
}

/* sha256 of a file as "sha256:HEX", and its size. */
static gboolean
digest_file (int fd, char **out_digest, gint64 *out_size, GError **error)
{
  g_autoptr(RrunSha256) sum = rrun_sha256_new ();
  g_autofree guint8 *buf = g_malloc (1 << 16);
  gint64 total = 0;

  if (lseek (fd, 0, SEEK_SET) < 0)
    return rrun_throw_errno (error, errno, "cannot read the layer");
  for (;;)
    {
      ssize_t n = read (fd, buf, 1 << 16);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return rrun_throw_errno (error, errno, "cannot read the layer");
      if (n == 0)
        break;
      rrun_sha256_update (sum, buf, (gsize) n);
      total += n;
    }
  *out_digest = g_strconcat ("sha256:", rrun_sha256_hex (sum), NULL);
  *out_size = total;
  return lseek (fd, 0, SEEK_SET) == 0 || rrun_throw_errno (error, errno, "cannot read the layer");
}

static void
add_history (RrunJson *root, const char *created, const RrunCommitOptions *o, gboolean empty)
{
  RrunJson *old = rrun_json_member (root, "history");
  RrunJson *h = old && rrun_json_type (old) == RRUN_JSON_ARRAY ? rrun_json_copy (old)
                                                               : rrun_json_new_array ();
  RrunJson *e = rrun_json_new_object ();

  rrun_json_object_set (e, "created", rrun_json_new_string (created));
  if (o->created_by)
    rrun_json_object_set (e, "created_by", rrun_json_new_string (o->created_by));
  if (o->author)
    rrun_json_object_set (e, "author", rrun_json_new_string (o->author));
  if (o->comment)
    rrun_json_object_set (e, "comment", rrun_json_new_string (o->comment));
  if (empty)
    rrun_json_object_set (e, "empty_layer", rrun_json_new_bool (TRUE));
  rrun_json_array_add (h, e);
  rrun_json_object_set (root, "history", h);
}

gboolean
rrun_image_commit (RrunStore *store, const RrunIdMap *map, const char *base_id,
                   RrunJson *config, const char *const *base_chain_ids, const char *upper,
                   const RrunCommitOptions *o, char **out_id, GStrv *out_chain_ids,
                   GError **error)
{
  g_autoptr(RrunStoreTemp) temp = NULL;
  g_autoptr(RrunStoreImageBlobs) base = NULL;
  g_autoptr(GPtrArray) chains = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) blobs = g_array_new (FALSE, TRUE, sizeof (RrunStoreBlob));
  g_autofree char *tar_path = NULL, *diff_id = NULL, *chain = NULL, *created = NULL;
  g_autofree char *text = NULL;
  rrun_autofd int fd = -1;
  gint64 size = 0;
  guint n_base = base_chain_ids ? g_strv_length ((GStrv) base_chain_ids) : 0;
  RrunStoreImageSpec spec = { 0 };
  RrunStoreBlob layer = { 0 };
  gboolean created_layer = FALSE;

  if (base_id && !rrun_store_open_image_blobs (store, base_id, &base, error))
    return FALSE;
  for (guint i = 0; i < n_base; i++)
    {
      RrunStoreBlob b = { 0 };
      const RrunBlobInfo *info = base && i < base->layer_blobs->len ? base->layer_blobs->pdata[i]
                                                                    : NULL;
      if (info)
        {
          b.digest = info->digest;
          b.media_type = info->media_type;
          b.size = info->size;
        }
      g_array_append_val (blobs, b);
      g_ptr_array_add (chains, g_strdup (base_chain_ids[i]));
    }
  created = rrun_image_commit_time (o->created);
  if (upper || o->layer_tar)
    {
      g_autofree char *got = NULL;

      if (upper)
        {
          if (!rrun_store_temp_new (store, map, &temp, error))
            return FALSE;
          tar_path = g_build_filename (rrun_store_temp_dir (temp), "layer.tar", NULL);
          if (!rrun_layer_diff (map, upper, tar_path, error))
            {
              g_prefix_error (error, "cannot make a layer of \"%s\": ", upper);
              return FALSE;
            }
        }
      else
        tar_path = g_strdup (o->layer_tar);
      fd = open (tar_path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return rrun_throw_errno (error, errno, "cannot open \"%s\"", tar_path);
      if (!digest_file (fd, &diff_id, &size, error))
        return FALSE;
      if (!rrun_store_add_layer (store, map, fd, n_base ? base_chain_ids[n_base - 1] : NULL,
                                 diff_id, &chain, &got, &created_layer, error))
        return FALSE;
      layer.digest = diff_id;
      layer.media_type = RRUN_MEDIA_OCI_LAYER_TAR;
      layer.size = size;
      layer.path = tar_path;
      g_array_append_val (blobs, layer);
      g_ptr_array_add (chains, g_strdup (chain));
      {
        RrunJson *rootfs = rrun_json_member (config, "rootfs");
        RrunJson *ids;
        if (rootfs == NULL || rrun_json_type (rootfs) != RRUN_JSON_OBJECT)
          {
            rrun_json_object_set (config, "rootfs", rrun_json_new_object ());
            rootfs = rrun_json_member (config, "rootfs");
            rrun_json_object_set (rootfs, "type", rrun_json_new_string ("layers"));
          }
        ids = rrun_json_member (rootfs, "diff_ids");
        if (ids == NULL || rrun_json_type (ids) != RRUN_JSON_ARRAY)
          {
            rrun_json_object_set (rootfs, "diff_ids", rrun_json_new_array ());
            ids = rrun_json_member (rootfs, "diff_ids");
          }
        rrun_json_array_add (ids, rrun_json_new_string (diff_id));
      }
    }
  if (upper || o->layer_tar || o->created_by)
    add_history (config, created, o, upper == NULL && o->layer_tar == NULL);
  rrun_json_object_set (config, "created", rrun_json_new_string (created));
  if (o->author)
    rrun_json_object_set (config, "author", rrun_json_new_string (o->author));
  g_ptr_array_add (chains, NULL);
  text = rrun_json_value_to_text (config, FALSE);
  spec.config = text;
  spec.config_len = strlen (text);
  spec.chain_ids = (const char *const *) chains->pdata;
  spec.name = o->name;
  spec.layer_blobs = (const RrunStoreBlob *) blobs->data;
  if (!rrun_store_add_image_spec (store, &spec, out_id, error))
    {
      if (created_layer)
        (void) rrun_store_remove_layer (store, map, chain, NULL);
      return FALSE;
    }
  if (out_chain_ids)
    *out_chain_ids = g_strdupv ((GStrv) chains->pdata);
  return TRUE;
}
