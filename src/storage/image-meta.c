/* The image store's metadata files: images/ID/image.json, images/ID/config.json and
   layers/CHAIN/layer.json, read (checked field by field: they are outside input once on
   disk) and written (store.h has the layout). */
#include "storage/store.h"
#include "util/sha256.h"
#include "storage/store-private.h"
#include "error.h"
#include "log.h"
#include "util/json-value.h"
#include "util/path.h"
#include "util/text-file.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <string.h>

void
image_meta_free (ImageMeta *m)
{
  if (m == NULL)
    return;
  g_free (m->id);
  g_strfreev (m->names);
  g_free (m->digest);
  g_strfreev (m->layers);
  if (m->layer_blobs)
    g_ptr_array_unref (m->layer_blobs);
  rrun_blob_info_free (m->manifest);
  g_free (m->damaged);
  g_free (m);
}

gboolean
is_hex64 (const char *s)
{
  if (strlen (s) != 64)
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isdigit (*p) && !(*p >= 'a' && *p <= 'f'))
      return FALSE;
  return TRUE;
}

char *
sha256_hex (const void *data, gsize len)
{
  return rrun_sha256_data_hex (data, len);
}

static gboolean
write_json (const char *path, RrunJsonBuilder *b, GError **error)
{
  g_autofree char *text = rrun_json_builder_to_text (b, FALSE);

  return rrun_path_write_atomic (path, text, strlen (text), 0644, error);
}

static gboolean
read_json (const char *path, RrunJson **out, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) local = NULL;
  gsize len;

  if (!rrun_text_file_read (path, "store file", RRUN_TEXT_FILE_MAX_CONFIG,
                            RRUN_TEXT_FILE_DEFAULT, &text, &len, &local))
    {
      if (g_error_matches (local, RRUN_ERRNO_ERROR, ENOENT))
        return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot read \"%s\": no such file",
                           path);
      return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s", local->message);
    }
  if ((*out = rrun_json_parse (text, len, RRUN_JSON_DEFAULT, &local)) == NULL)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot read \"%s\": %s", path,
                       local->message);
  return TRUE;
}

static gboolean
corrupt (GError **error, const char *path, const char *field, const char *expected)
{
  rrun_throw (error, RRUN_ERROR_CORRUPT, "invalid store file \"%s\": %s: expected %s", path,
              field, expected);
  rrun_add_hint (error, "remove the image with 'rrun rmi -f' and import or pull it again");
  return FALSE;
}

static gboolean
json_string_field (const RrunJson *o, const char *name, const char *path, gboolean required,
                   char **out, GError **error)
{
  const RrunJson *n = rrun_json_member_value (o, name);

  if (n == NULL)
    return required ? corrupt (error, path, name, "a string") : TRUE;
  if (rrun_json_type (n) != RRUN_JSON_STRING)
    return corrupt (error, path, name, "a string");
  *out = g_strdup (rrun_json_string (n));
  return TRUE;
}

static gboolean
json_strv_field (const RrunJson *o, const char *name, const char *path, GStrv *out,
                 GError **error)
{
  const RrunJson *n = rrun_json_member_value (o, name);
  g_autoptr(GPtrArray) v = g_ptr_array_new_with_free_func (g_free);

  if (n == NULL || rrun_json_type (n) != RRUN_JSON_ARRAY)
    return corrupt (error, path, name, "an array of strings");
  for (guint i = 0; i < rrun_json_size (n); i++)
    {
      const char *e = rrun_json_string (rrun_json_element (n, i));
      if (e == NULL)
        return corrupt (error, path, name, "an array of strings");
      g_ptr_array_add (v, g_strdup (e));
    }
  g_ptr_array_add (v, NULL);
  *out = (GStrv) g_ptr_array_free (g_steal_pointer (&v), FALSE);
  return TRUE;
}

static gboolean
json_int_field (const RrunJson *o, const char *name, const char *path, gint64 *out,
                GError **error)
{
  const RrunJson *n = rrun_json_member_value (o, name);

  if (n == NULL)
    return TRUE;
  if (rrun_json_type (n) != RRUN_JSON_INT)
    return corrupt (error, path, name, "an integer");
  *out = rrun_json_int (n);
  return TRUE;
}

/* {"digest": "sha256:...", "mediaType": "...", "size": N} */
static gboolean
read_blob_info (const RrunJson *n, const char *path, const char *field, RrunBlobInfo **out,
                GError **error)
{
  g_autoptr(RrunBlobInfo) info = g_new0 (RrunBlobInfo, 1);

  if (rrun_json_type (n) != RRUN_JSON_OBJECT)
    return corrupt (error, path, field, "an object");
  if (!json_string_field (n, "digest", path, TRUE, &info->digest, error)
      || !json_string_field (n, "mediaType", path, TRUE, &info->media_type, error)
      || !json_int_field (n, "size", path, &info->size, error))
    return FALSE;
  if (!g_str_has_prefix (info->digest, "sha256:") || !is_hex64 (info->digest + 7))
    return corrupt (error, path, field, "a sha256 digest");
  *out = g_steal_pointer (&info);
  return TRUE;
}

/* The object read_blob_info reads, or null. */
static void
add_blob_info (RrunJsonBuilder *b, const RrunBlobInfo *info)
{
  if (info == NULL)
    {
      rrun_json_builder_add_null_value (b);
      return;
    }
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "digest", info->digest);
  rrun_json_builder_member_string (b, "mediaType", info->media_type);
  rrun_json_builder_member_int (b, "size", info->size);
  rrun_json_builder_end_object (b);
}

gboolean
read_meta (const char *root, const char *id, ImageMeta **out, GError **error)
{
  g_autofree char *path = g_build_filename (root, "images", id, "image.json", NULL);
  g_autoptr(RrunJson) o = NULL;
  g_autoptr(ImageMeta) m = g_new0 (ImageMeta, 1);
  const RrunJson *n;

  if (!read_json (path, &o, error))
    return FALSE;
  if (rrun_json_type (o) != RRUN_JSON_OBJECT)
    return corrupt (error, path, "the file", "a JSON object");
  if (!json_string_field (o, "id", path, TRUE, &m->id, error)
      || !json_strv_field (o, "names", path, &m->names, error)
      || !json_string_field (o, "digest", path, FALSE, &m->digest, error)
      || !json_strv_field (o, "layers", path, &m->layers, error)
      || !json_int_field (o, "created", path, &m->created, error))
    return FALSE;
  if (strcmp (m->id, id) != 0)
    return corrupt (error, path, "id", "the directory's name");
  for (guint i = 0; m->layers[i]; i++)
    if (!is_hex64 (m->layers[i]))
      return corrupt (error, path, "layers", "chain ids of 64 hex digits");
  if ((n = rrun_json_member_value (o, "pending_removal")) != NULL)
    {
      if (rrun_json_type (n) != RRUN_JSON_BOOL)
        return corrupt (error, path, "pending_removal", "a boolean");
      m->pending_removal = rrun_json_int (n) != 0;
    }
  if ((n = rrun_json_member_value (o, "layer_blobs")) != NULL)
    {
      if (rrun_json_type (n) != RRUN_JSON_ARRAY
          || rrun_json_size (n) != g_strv_length (m->layers))
        return corrupt (error, path, "layer_blobs", "an array as long as layers");
      m->layer_blobs = g_ptr_array_new_with_free_func (blob_info_free0);
      for (guint i = 0; i < rrun_json_size (n); i++)
        {
          const RrunJson *e = rrun_json_element (n, i);
          RrunBlobInfo *info = NULL;

          if (rrun_json_type (e) != RRUN_JSON_NULL
              && !read_blob_info (e, path, "layer_blobs", &info, error))
            return FALSE;
          g_ptr_array_add (m->layer_blobs, info);
        }
    }
  if ((n = rrun_json_member_value (o, "manifest")) != NULL
      && !read_blob_info (n, path, "manifest", &m->manifest, error))
    return FALSE;
  m->root = root;
  *out = g_steal_pointer (&m);
  return TRUE;
}

/* Write image.json into dir (images/ID or a staging copy). */
gboolean
write_meta (const char *dir, const ImageMeta *m, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "image.json", NULL);
  g_autofree char *config_digest = g_strconcat ("sha256:", m->id, NULL);
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();

  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "id", m->id);
  rrun_json_builder_member_strv (b, "names", (const char *const *) m->names);
  rrun_json_builder_member_string (b, "digest", m->digest);
  rrun_json_builder_member_strv (b, "layers", (const char *const *) m->layers);
  rrun_json_builder_member_string (b, "config_digest", config_digest);
  rrun_json_builder_member_int (b, "created", m->created);
  rrun_json_builder_member_bool (b, "pending_removal", m->pending_removal);
  if (m->layer_blobs)
    {
      rrun_json_builder_set_member_name (b, "layer_blobs");
      rrun_json_builder_begin_array (b);
      for (guint i = 0; i < m->layer_blobs->len; i++)
        add_blob_info (b, m->layer_blobs->pdata[i]);
      rrun_json_builder_end_array (b);
    }
  rrun_json_builder_set_member_name (b, "manifest");
  add_blob_info (b, m->manifest);
  rrun_json_builder_end_object (b);
  return write_json (path, b, error);
}

/* layer.json's size, and how many files lost their owner when it was extracted
   ("unmapped_owners", absent when none). */
gboolean
read_layer_info (const char *root, const char *chain, guint64 *out_size,
                 guint64 *out_unmapped, GError **error)
{
  g_autofree char *path = g_build_filename (root, "layers", chain, "layer.json", NULL);
  g_autoptr(RrunJson) o = NULL;
  const RrunJson *n;
  gint64 size = 0;

  if (!read_json (path, &o, error))
    return FALSE;
  if (rrun_json_type (o) != RRUN_JSON_OBJECT)
    return corrupt (error, path, "the file", "a JSON object");
  if (!json_int_field (o, "size", path, &size, error))
    return FALSE;
  *out_size = (guint64) MAX (size, 0);
  *out_unmapped = 0;
  if ((n = rrun_json_member_value (o, "unmapped_owners")) != NULL)
    {
      if (rrun_json_type (n) != RRUN_JSON_INT || rrun_json_int (n) < 0)
        return corrupt (error, path, "unmapped_owners", "a count");
      *out_unmapped = (guint64) rrun_json_int (n);
    }
  return TRUE;
}

gboolean
write_layer_json (const char *dir, const char *chain, const char *diff_id,
                  const char *parent, guint64 size, guint64 unmapped, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "layer.json", NULL);
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();

  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "id", chain);
  rrun_json_builder_member_string (b, "diff_id", diff_id);
  rrun_json_builder_member_string (b, "parent", parent);
  rrun_json_builder_member_int (b, "size", (gint64) size);
  /* Extracted with a map that lacked these owners (no subordinate range): they belong to
     the user; a run with a range says so (load_image's callers). */
  if (unmapped > 0)
    rrun_json_builder_member_int (b, "unmapped_owners", (gint64) unmapped);
  rrun_json_builder_end_object (b);
  return write_json (path, b, error);
}

/* The full image: meta plus its checked config and layer paths. */
/* An image's config.json, checked against its id (the config digest) and parsed. */
gboolean
read_image_config (const ImageMeta *m, char **out_path, char **out_text, gsize *out_len,
                   RrunJson **out_root, GError **error)
{
  g_autofree char *cpath = g_build_filename (m->root, "images", m->id, "config.json", NULL);
  g_autofree char *text = NULL, *sum = NULL;
  g_autoptr(RrunJson) root = NULL;
  g_autoptr(GError) local = NULL;
  gsize len;

  if (m->damaged != NULL)
    {
      rrun_throw (error, RRUN_ERROR_CORRUPT, "image %.12s is damaged: %s", m->id, m->damaged);
      rrun_add_hint (error, "remove it with 'rrun rmi -f %.12s' (or every damaged record with "
                            "'rrun system check --repair') and pull or import it again",
                     m->id);
      return FALSE;
    }
  if (!rrun_text_file_read (cpath, "image config", RRUN_TEXT_FILE_MAX_CONFIG,
                            RRUN_TEXT_FILE_DEFAULT, &text, &len, &local))
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s", local->message);
  sum = sha256_hex (text, len);
  if (strcmp (sum, m->id) != 0)
    {
      rrun_throw (error, RRUN_ERROR_CORRUPT,
                  "image %.12s is corrupt: its config does not match its id", m->id);
      rrun_add_hint (error, "remove it with 'rrun rmi -f %.12s' and import or pull it again",
                     m->id);
      return FALSE;
    }
  if ((root = rrun_json_parse (text, len, RRUN_JSON_DEFAULT, &local)) == NULL)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "invalid image config \"%s\": %s", cpath,
                       local->message);
  *out_path = g_steal_pointer (&cpath);
  if (out_text)
    *out_text = g_steal_pointer (&text);
  if (out_len)
    *out_len = len;
  *out_root = g_steal_pointer (&root);
  return TRUE;
}

gboolean
load_image (const ImageMeta *m, RrunImage **out_image, GError **error)
{
  g_autoptr(RrunImage) img = g_new0 (RrunImage, 1);
  g_autofree char *cpath = NULL;
  g_autoptr(RrunJson) config = NULL;

  if (!read_image_config (m, &cpath, NULL, NULL, &config, error))
    return FALSE;
  if (!rrun_image_config_parse (config, cpath, &img->config, error)
      || !rrun_image_config_parse_meta (config, cpath, &img->os, &img->architecture, NULL,
                                        NULL, error))
    return FALSE;
  img->id = g_strdup (m->id);
  img->names = g_strdupv (m->names);
  img->digest = g_strdup (m->digest);
  img->created = m->created;
  img->read_only_store = m->read_only;
  img->layer_dirs = g_ptr_array_new_with_free_func (g_free);
  img->layer_ids = g_ptr_array_new_with_free_func (g_free);
  img->layer_sizes = g_array_new (FALSE, TRUE, sizeof (guint64));
  for (guint i = 0; m->layers[i]; i++)
    {
      guint64 size = 0, unmapped = 0;

      if (!read_layer_info (m->root, m->layers[i], &size, &unmapped, error))
        {
          g_prefix_error (error, "image %.12s: ", m->id);
          return FALSE;
        }
      img->size += size;
      img->unmapped_owners += unmapped;
      g_array_append_val (img->layer_sizes, size);
      g_ptr_array_add (img->layer_dirs,
                       g_build_filename (m->root, "layers", m->layers[i], "diff", NULL));
      g_ptr_array_add (img->layer_ids, g_strdup (m->layers[i]));
    }
  img->config_path = g_steal_pointer (&cpath);
  *out_image = g_steal_pointer (&img);
  return TRUE;
}

/* The meta of an image whose image.json cannot be read: its id, why, and nothing else. */
static ImageMeta *
damaged_meta (const char *root, const char *id, const char *why)
{
  ImageMeta *m = g_new0 (ImageMeta, 1);
  g_autofree char *dir = g_build_filename (root, "images", id, NULL);
  const char *nl = strchr (why, '\n');
  struct stat st;

  m->id = g_strdup (id);
  m->root = root;
  m->names = g_new0 (char *, 1);
  m->layers = g_new0 (char *, 1);
  m->damaged = nl ? g_strndup (why, (gsize) (nl - why)) : g_strdup (why);
  if (stat (dir, &st) == 0)
    m->created = st.st_mtime;
  return m;
}

/* All image metas of one store root. One whose image.json cannot be read is kept as
   damaged (damaged_meta): listed as such and removable by id, rather than vanishing with
   a warning on every command. */
GPtrArray *
scan_metas (const char *root, gboolean read_only)
{
  g_autofree char *dir = g_build_filename (root, "images", NULL);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) image_meta_free);
  DIR *d = opendir (dir);
  struct dirent *de;

  if (d == NULL)
    return out;
  while ((de = readdir (d)) != NULL)
    {
      g_autoptr(GError) local = NULL;
      ImageMeta *m = NULL;

      if (!is_hex64 (de->d_name))
        continue;
      if (!read_meta (root, de->d_name, &m, &local))
        m = damaged_meta (root, de->d_name, local->message);
      m->read_only = read_only;
      g_ptr_array_add (out, m);
    }
  closedir (d);
  return out;
}
