/* The image store: see store.h for the layout. Every change is made in tmp/ and renamed
   into place under the exclusive store lock, held only for the renames; the long work
   (extraction, removal of trees) happens outside it, in a staging directory whose own
   lock tells a live operation from the debris of a killed one. */
#include "storage/store.h"
#include "storage/fsmagic.h"
#include "storage/lock.h"
#include "storage/names.h"
#include "error.h"
#include "layer.h"
#include "log.h"
#include "util/fd.h"
#include "util/json-value.h"
#include "util/path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

struct RrunStore
{
  char *root;
  int lock_fd;
  GStrv ro_roots;           /* additional, read-only image stores */
  GStrv search_registries;  /* for short names */
  /* flock(2) on one fd does not exclude the threads of this process from each other
     (pull extracts several layers at once): they take this first. Recursive, as the
     flock was. */
  GRecMutex thread_lock;
};

/* What images/ID/image.json holds. */
typedef struct
{
  char *id;
  GStrv names;
  char *digest;
  GStrv layers; /* chain ids, bottom first */
  gint64 created;
  gboolean pending_removal; /* rmi -f while in use: delete once no container uses it */
  GPtrArray *layer_blobs;   /* RrunBlobInfo* or NULL per layer; NULL: none recorded */
  RrunBlobInfo *manifest;   /* the kept image manifest, or NULL */
  const char *root;         /* the store it was found in (not owned) */
  gboolean read_only;
  gboolean deleted;         /* deleted in this pass: keeps no blob alive */
} ImageMeta;

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

static void
blob_info_free0 (gpointer p)
{
  rrun_blob_info_free (p);
}

static void
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
  g_free (m);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImageMeta, image_meta_free)

/* ---- small helpers ------------------------------------------------------------------ */

static gboolean
is_hex64 (const char *s)
{
  if (strlen (s) != 64)
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isdigit (*p) && !(*p >= 'a' && *p <= 'f'))
      return FALSE;
  return TRUE;
}

static char *
sha256_hex (const void *data, gsize len)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, len);
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

  if (!g_file_get_contents (path, &text, &len, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot read \"%s\": no such file",
                           path);
      return rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot read \"%s\": %s", path,
                         local->message);
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

/* ---- image.json and layer.json ------------------------------------------------------ */

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

static gboolean
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
static gboolean
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
static gboolean
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

static gboolean
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
static gboolean
read_image_config (const ImageMeta *m, char **out_path, char **out_text, gsize *out_len,
                   RrunJson **out_root, GError **error)
{
  g_autofree char *cpath = g_build_filename (m->root, "images", m->id, "config.json", NULL);
  g_autofree char *text = NULL, *sum = NULL;
  g_autoptr(RrunJson) root = NULL;
  g_autoptr(GError) local = NULL;
  gsize len;

  if (!g_file_get_contents (cpath, &text, &len, &local))
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot read image config: %s",
                       local->message);
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

static gboolean
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

/* All image metas of one store root; unreadable ones are skipped with a warning so one
   broken image does not hide the others. */
static GPtrArray *
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
        {
          rrun_warning ("skipping image %.12s: %s", de->d_name, local->message);
          continue;
        }
      m->read_only = read_only;
      g_ptr_array_add (out, m);
    }
  closedir (d);
  return out;
}

/* ---- locking and staging ------------------------------------------------------------ */

static gboolean
store_lock (RrunStore *store, gboolean exclusive, GError **error)
{
  g_rec_mutex_lock (&store->thread_lock);
  if (rrun_lock_take (store->lock_fd, exclusive, TRUE, "the image store", error))
    return TRUE;
  g_rec_mutex_unlock (&store->thread_lock);
  return FALSE;
}

static void
store_unlock (RrunStore *store)
{
  rrun_lock_release (store->lock_fd);
  g_rec_mutex_unlock (&store->thread_lock);
}

struct RrunStoreTemp
{
  RrunStore *store;
  const RrunIdMap *map;
  char *dir;
  int lock_fd;
};
typedef struct RrunStoreTemp Staging;

/* Remove trees as the user first (cheap: no namespace), then, for what is left because
   files belong to subordinate ids, as root of the user namespace. */
static gboolean
remove_trees (const RrunIdMap *map, const char *const *paths, GError **error)
{
  gboolean need_helper = FALSE;

  for (guint i = 0; paths[i]; i++)
    {
      g_autoptr(GError) local = NULL;
      if (!rrun_path_rm_rf (paths[i], &local))
        {
          g_debug ("removing \"%s\" as the user failed (%s); using the user namespace",
                   paths[i], local->message);
          need_helper = TRUE;
        }
    }
  if (!need_helper)
    return TRUE;
  if (map == NULL)
    return rrun_throw (error, RRUN_ERROR_FAILED, "cannot remove \"%s\": no id map", paths[0]);
  return rrun_layer_remove_trees (map, paths, error);
}

static void
staging_free (Staging *st)
{
  if (st == NULL)
    return;
  if (st->dir)
    {
      const char *paths[] = { st->dir, NULL };
      g_autoptr(GError) local = NULL;

      if (!remove_trees (st->map, paths, &local))
        rrun_warning ("cannot remove staging directory: %s", local->message);
    }
  rrun_close_fdp (&st->lock_fd);
  g_free (st->dir);
  g_free (st);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Staging, staging_free)

/* Whether dir (a staging dir of tmp/ or a container's dir) belongs to nobody: its lock
   file is missing or no process holds it, so the command that made it was killed. The
   probe's own lock goes with its fd. */
static gboolean
owner_is_gone (const char *dir)
{
  g_autofree char *lock = g_build_filename (dir, "lock", NULL);
  rrun_autofd int fd = open (lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);

  return fd < 0 || rrun_lock_try_exclusive (fd);
}

/* Remove tmp/ entries whose lock nobody holds: debris of killed commands.
   Called with the store locked exclusively. Returns the paths to remove once unlocked
   (they are first moved into `into`, which the caller holds locked). */
static void
collect_tmp_garbage (RrunStore *store, const char *into, const char *skip)
{
  g_autofree char *tmp = g_build_filename (store->root, "tmp", NULL);
  DIR *d = opendir (tmp);
  struct dirent *de;

  if (d == NULL)
    return;
  while ((de = readdir (d)) != NULL)
    {
      g_autofree char *path = NULL, *dest = NULL;

      if (de->d_name[0] == '.' || g_strcmp0 (de->d_name, skip) == 0)
        continue;
      path = g_build_filename (tmp, de->d_name, NULL);
      if (!owner_is_gone (path))
        continue; /* a live import, pull or removal */
      dest = g_build_filename (into, de->d_name, NULL);
      if (rename (path, dest) < 0)
        g_debug ("cannot move \"%s\" away: %s", path, g_strerror (errno));
    }
  closedir (d);
}

/* A staging directory tmp/XXXXXX with its lock held. Also sweeps debris of killed
   commands from tmp/ into it, so the caller removes that too. */
static gboolean
staging_new (RrunStore *store, const RrunIdMap *map, Staging **out, GError **error)
{
  g_autoptr(Staging) st = g_new0 (Staging, 1);
  g_autofree char *tmpl = g_build_filename (store->root, "tmp", "XXXXXX", NULL);
  g_autofree char *garbage = NULL;
  gboolean ok;

  st->store = store;
  st->map = map;
  st->lock_fd = -1;
  if (!store_lock (store, TRUE, error))
    return FALSE;
  if (g_mkdtemp_full (tmpl, 0700) == NULL)
    {
      store_unlock (store);
      return rrun_throw_errno (error, errno, "cannot create a directory in \"%s/tmp\"",
                               store->root);
    }
  st->dir = g_steal_pointer (&tmpl);
  ok = rrun_lock_open (AT_FDCWD, (garbage = g_build_filename (st->dir, "lock", NULL)),
                       &st->lock_fd, error)
       && rrun_lock_take (st->lock_fd, TRUE, FALSE, "a staging directory", error);
  if (ok)
    {
      g_autofree char *sweep = g_build_filename (st->dir, "garbage", NULL);
      g_autofree char *base = g_path_get_basename (st->dir);

      if (mkdir (sweep, 0700) == 0)
        collect_tmp_garbage (store, sweep, base);
    }
  store_unlock (store);
  if (!ok)
    return FALSE;
  *out = g_steal_pointer (&st);
  return TRUE;
}

gboolean
rrun_store_temp_new (RrunStore *store, const RrunIdMap *map, RrunStoreTemp **out_temp,
                     GError **error)
{
  return staging_new (store, map, out_temp, error);
}

const char *
rrun_store_temp_dir (RrunStoreTemp *temp)
{
  return temp->dir;
}

void
rrun_store_temp_free (RrunStoreTemp *temp)
{
  staging_free (temp);
}

/* ---- open ----------------------------------------------------------------------------- */

gboolean
rrun_store_open (const RrunConfig *config, RrunStore **out_store, GError **error)
{
  g_autoptr(RrunStore) store = g_new0 (RrunStore, 1);
  const char *fs = NULL;
  static const char *const subdirs[] = { "blobs/sha256", "layers", "images", "containers",
                                         "tmp" };

  g_rec_mutex_init (&store->thread_lock);

  store->lock_fd = -1;
  store->root = g_strdup (config->storage_root);
  if (!rrun_fsmagic_network_fs (store->root, &fs, error))
    return FALSE;
  if (fs != NULL)
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                  "cannot use image storage \"%s\": it is on %s, which cannot hold overlay "
                  "layers or files of subordinate IDs",
                  store->root, fs);
      rrun_add_hint (error, "put it on a local disk with --root DIR or, in "
                            "~/.config/rrun/rrun.conf, [storage] root=/local/disk/%s/rrun",
                     g_get_user_name ());
      return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *d = g_build_filename (store->root, subdirs[i], NULL);
      if (g_mkdir_with_parents (d, 0700) < 0)
        return rrun_throw_errno (error, errno, "cannot create image storage \"%s\"", d);
    }
  {
    g_autofree char *lock = g_build_filename (store->root, "lock", NULL);
    if (!rrun_lock_open (AT_FDCWD, lock, &store->lock_fd, error))
      return FALSE;
  }
  store->ro_roots = g_strdupv (config->additional_image_stores);
  store->search_registries = g_strdupv (config->unqualified_search_registries);
  *out_store = g_steal_pointer (&store);
  return TRUE;
}

void
rrun_store_free (RrunStore *store)
{
  if (store == NULL)
    return;
  rrun_close_fdp (&store->lock_fd);
  g_rec_mutex_clear (&store->thread_lock);
  g_free (store->root);
  g_strfreev (store->ro_roots);
  g_strfreev (store->search_registries);
  g_free (store);
}

const char *
rrun_store_root (RrunStore *store)
{
  return store->root;
}

/* ---- lookup --------------------------------------------------------------------------- */

/* All metas: this store first, then the read-only ones. */
static GPtrArray *
all_metas (RrunStore *store, gboolean include_read_only)
{
  GPtrArray *all = scan_metas (store->root, FALSE);

  for (guint i = 0; include_read_only && store->ro_roots && store->ro_roots[i]; i++)
    {
      g_autoptr(GPtrArray) more = scan_metas (store->ro_roots[i], TRUE);
      for (guint j = 0; j < more->len; j++)
        g_ptr_array_add (all, g_steal_pointer (&more->pdata[j]));
    }
  return all;
}

static gboolean
has_name (const ImageMeta *m, const char *name)
{
  return !m->pending_removal && g_strv_contains ((const char *const *) m->names, name);
}

/* Find ref among metas: names (most specific candidate first), then "name@digest",
   then an id or id prefix. *out_by_name tells which matched (rmi untags a name but
   deletes by id). Not found is RRUN_ERROR_NOT_FOUND with a hint. */
static gboolean
find_meta (RrunStore *store, GPtrArray *metas, const char *ref, ImageMeta **out_meta,
           char **out_name, GError **error)
{
  g_autoptr(GError) parse_error = NULL;
  g_auto(GStrv) candidates
      = rrun_names_candidates (ref, (const char *const *) store->search_registries,
                               &parse_error);
  ImageMeta *match = NULL;

  for (guint c = 0; candidates && candidates[c]; c++)
    {
      const char *at = strchr (candidates[c], '@');

      for (guint i = 0; i < metas->len; i++)
        {
          ImageMeta *m = metas->pdata[i];

          if (at == NULL && has_name (m, candidates[c]))
            {
              *out_meta = m;
              *out_name = g_strdup (candidates[c]);
              return TRUE;
            }
          /* repo@digest (or repo:tag@digest): the digest decides, the repository must
             be one of the image's names. */
          if (at != NULL && !m->pending_removal && g_strcmp0 (m->digest, at + 1) == 0)
            {
              g_autofree char *repo = g_strndup (candidates[c], (gsize) (at - candidates[c]));
              g_autofree char *r2 = NULL, *tag = NULL;

              rrun_names_split (repo, &r2, &tag);
              for (guint k = 0; m->names[k]; k++)
                {
                  g_autofree char *nr = NULL, *nt = NULL;
                  rrun_names_split (m->names[k], &nr, &nt);
                  if (strcmp (nr, r2) == 0)
                    {
                      *out_meta = m;
                      *out_name = NULL;
                      return TRUE;
                    }
                }
            }
        }
    }
  if (rrun_names_is_id_prefix (ref))
    {
      const char *hex = g_str_has_prefix (ref, "sha256:") ? ref + 7 : ref;

      for (guint i = 0; i < metas->len; i++)
        {
          ImageMeta *m = metas->pdata[i];

          if (m->pending_removal || !g_str_has_prefix (m->id, hex))
            continue;
          if (match != NULL && strcmp (match->id, m->id) != 0)
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               "image id prefix \"%s\" is ambiguous: %.12s and %.12s", ref,
                               match->id, m->id);
          if (match == NULL)
            match = m;
        }
      if (match)
        {
          *out_meta = match;
          *out_name = NULL;
          return TRUE;
        }
    }
  else if (parse_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&parse_error));
      return FALSE;
    }
  rrun_throw (error, RRUN_ERROR_NOT_FOUND, "image \"%s\" not found", ref);
  if (parse_error != NULL)
    rrun_add_hint (error, "see the images there are with 'rrun images'");
  else
    rrun_add_hint (error, "pull it with 'rrun pull %s' or make it from a root file system "
                          "tarball with 'rrun import ROOTFS.tar %s'",
                   ref, ref);
  return FALSE;
}

gboolean
rrun_store_find_image (RrunStore *store, const char *ref, RrunImage **out_image,
                       GError **error)
{
  g_autoptr(GPtrArray) metas = NULL;
  g_autofree char *name = NULL;
  ImageMeta *m = NULL;
  gboolean ok;

  if (!store_lock (store, FALSE, error))
    return FALSE;
  metas = all_metas (store, TRUE);
  ok = find_meta (store, metas, ref, &m, &name, error) && load_image (m, out_image, error);
  store_unlock (store);
  return ok;
}

static gint
newest_first (gconstpointer a, gconstpointer b)
{
  const RrunImage *x = *(RrunImage *const *) a, *y = *(RrunImage *const *) b;

  if (x->created != y->created)
    return x->created < y->created ? 1 : -1;
  return strcmp (x->id, y->id);
}

gboolean
rrun_store_list_images (RrunStore *store, GPtrArray **out_images, GError **error)
{
  g_autoptr(GPtrArray) metas = NULL;
  g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_image_free);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  if (!store_lock (store, FALSE, error))
    return FALSE;
  metas = all_metas (store, TRUE);
  for (guint i = 0; i < metas->len; i++)
    {
      ImageMeta *m = metas->pdata[i];
      g_autoptr(GError) local = NULL;
      RrunImage *img = NULL;

      /* The user's own copy wins over a read-only store's. */
      if (m->pending_removal || g_hash_table_contains (seen, m->id))
        continue;
      if (!load_image (m, &img, &local))
        {
          rrun_warning ("skipping image %.12s: %s", m->id, local->message);
          continue;
        }
      g_hash_table_add (seen, m->id);
      g_ptr_array_add (images, img);
    }
  store_unlock (store);
  g_ptr_array_sort (images, newest_first);
  *out_images = g_steal_pointer (&images);
  return TRUE;
}

/* ---- layers and images ---------------------------------------------------------------- */

char *
rrun_store_chain_id (const char *parent_chain, const char *diff_id)
{
  g_autofree char *text = NULL;

  if (parent_chain == NULL)
    return g_strdup (g_str_has_prefix (diff_id, "sha256:") ? diff_id + 7 : diff_id);
  text = g_strdup_printf ("sha256:%s %s", parent_chain, diff_id);
  return sha256_hex (text, strlen (text));
}

gboolean
rrun_store_has_layer (RrunStore *store, const char *chain_id)
{
  g_autofree char *path = NULL;

  if (!is_hex64 (chain_id))
    return FALSE;
  path = g_build_filename (store->root, "layers", chain_id, "layer.json", NULL);
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static gboolean move_into (RrunStore *store, const char *kind, const char *id, const char *dir,
                           GError **error);

gboolean
rrun_store_add_layer (RrunStore *store, const RrunIdMap *map, int tar_fd,
                      const char *parent_chain, const char *expected_diff_id,
                      char **out_chain_id, char **out_diff_id, gboolean *out_created,
                      GError **error)
{
  g_autoptr(Staging) st = NULL;
  g_autofree char *layer = NULL, *diff = NULL, *diff_id = NULL, *chain = NULL;
  g_autofree char *dest = NULL;
  guint64 size = 0, unmapped = 0;
  gboolean created = FALSE;

  if (parent_chain && !is_hex64 (parent_chain))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid parent chain id \"%s\"",
                       parent_chain);
  if (!staging_new (store, map, &st, error))
    return FALSE;
  layer = g_build_filename (st->dir, "layer", NULL);
  diff = g_build_filename (layer, "diff", NULL);
  if (g_mkdir_with_parents (diff, 0755) < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", diff);
  if (!rrun_layer_extract (map, tar_fd, diff, &diff_id, &size, &unmapped, error))
    return FALSE;
  if (expected_diff_id && strcmp (expected_diff_id, diff_id) != 0)
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "layer content does not match: expected %s, got %s", expected_diff_id,
                       diff_id);
  chain = rrun_store_chain_id (parent_chain, diff_id);
  if (!write_layer_json (layer, chain, diff_id, parent_chain, size, unmapped, error))
    return FALSE;
  dest = g_build_filename (store->root, "layers", chain, NULL);
  if (!store_lock (store, TRUE, error))
    return FALSE;
  /* A layer directory without its layer.json is debris (removed by hand, or by a tool
     that knows nothing of the store): it goes to the staging dir's garbage and the new
     copy takes its place. */
  if (g_file_test (dest, G_FILE_TEST_EXISTS) && !rrun_store_has_layer (store, chain)
      && !move_into (store, "layers", chain, st->dir, error))
    {
      store_unlock (store);
      return FALSE;
    }
  if (!g_file_test (dest, G_FILE_TEST_EXISTS))
    {
      if (rename (layer, dest) < 0)
        {
          int errsv = errno;
          store_unlock (store);
          return rrun_throw_errno (error, errsv, "cannot move layer into \"%s\"", dest);
        }
      created = TRUE;
    }
  store_unlock (store);
  *out_chain_id = g_steal_pointer (&chain);
  if (out_diff_id)
    *out_diff_id = g_steal_pointer (&diff_id);
  if (out_created)
    *out_created = created;
  return TRUE; /* the staging dir (and a duplicate copy) goes with st */
}

/* Move images/ID (or layers/CHAIN) into dir, under the exclusive lock. */
static gboolean
move_into (RrunStore *store, const char *kind, const char *id, const char *dir,
           GError **error)
{
  g_autofree char *src = g_build_filename (store->root, kind, id, NULL);
  g_autofree char *dest = g_strdup_printf ("%s/%s-%s", dir, kind, id);

  if (rename (src, dest) < 0 && errno != ENOENT)
    return rrun_throw_errno (error, errno, "cannot remove \"%s\"", src);
  return TRUE;
}

static gboolean
layer_in_use (GPtrArray *metas, const char *chain, const char *except_id)
{
  for (guint i = 0; i < metas->len; i++)
    {
      ImageMeta *m = metas->pdata[i];
      if (g_strcmp0 (m->id, except_id) != 0
          && g_strv_contains ((const char *const *) m->layers, chain))
        return TRUE;
    }
  return FALSE;
}

gboolean
rrun_store_remove_layer (RrunStore *store, const RrunIdMap *map, const char *chain_id,
                         GError **error)
{
  g_autoptr(Staging) st = NULL;
  g_autoptr(GPtrArray) metas = NULL;
  gboolean ok = TRUE;

  if (!is_hex64 (chain_id))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid layer id \"%s\"",
                       chain_id);
  if (!staging_new (store, map, &st, error) || !store_lock (store, TRUE, error))
    return FALSE;
  metas = scan_metas (store->root, FALSE);
  if (layer_in_use (metas, chain_id, NULL))
    ok = rrun_throw (error, RRUN_ERROR_BUSY, "cannot remove layer %.12s: an image uses it",
                     chain_id);
  else
    ok = move_into (store, "layers", chain_id, st->dir, error);
  store_unlock (store);
  return ok;
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

static gboolean
image_has_all_blobs (const ImageMeta *m)
{
  if (m->layer_blobs == NULL)
    return FALSE;
  for (guint i = 0; i < m->layer_blobs->len; i++)
    if (m->layer_blobs->pdata[i] == NULL)
      return FALSE;
  return TRUE;
}

/* Take name away from every image of this store but keep_id (a name names one image). */
static gboolean
drop_name_elsewhere (RrunStore *store, GPtrArray *metas, const char *name,
                     const char *keep_id, GError **error)
{
  for (guint i = 0; i < metas->len; i++)
    {
      ImageMeta *m = metas->pdata[i];
      g_autoptr(GPtrArray) kept = NULL;

      if (strcmp (m->id, keep_id) == 0
          || !g_strv_contains ((const char *const *) m->names, name))
        continue;
      kept = g_ptr_array_new_with_free_func (g_free);
      for (guint k = 0; m->names[k]; k++)
        if (strcmp (m->names[k], name) != 0)
          g_ptr_array_add (kept, g_strdup (m->names[k]));
      g_ptr_array_add (kept, NULL);
      g_strfreev (m->names);
      m->names = (GStrv) g_ptr_array_free (g_steal_pointer (&kept), FALSE);
      {
        g_autofree char *dir = g_build_filename (store->root, "images", m->id, NULL);
        if (!write_meta (dir, m, error))
          return FALSE;
      }
    }
  return TRUE;
}

/* rrun_path_write_atomic writes blobs/sha256/HEX.tmp-PID, then renames it: a pull killed
   in between leaves that file, which nothing else would remove. Remove those whose PID is
   gone (exclusive lock held; a live writer keeps its own). */
static void
remove_stale_blob_temps (RrunStore *store)
{
  g_autofree char *dir = g_build_filename (store->root, "blobs", "sha256", NULL);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      const char *tail = strstr (name, ".tmp-");
      char *end = NULL;
      guint64 pid;

      if (tail == NULL || tail - name != 64)
        continue;
      pid = g_ascii_strtoull (tail + 5, &end, 10);
      if (end == tail + 5 || *end != '\0' || pid == 0 || pid > G_MAXINT
          || (kill ((pid_t) pid, 0) == 0 || errno != ESRCH))
        continue;
      {
        g_autofree char *path = g_build_filename (dir, name, NULL);

        if (unlink (path) == 0)
          g_debug ("removed %s, left by process %" G_GUINT64_FORMAT, path, pid);
      }
    }
}

/* Put one kept blob into blobs/ (exclusive lock held). *out_created tells whether this
   call made the file (so a later failure unlinks it). */
static gboolean
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

static gboolean
spec_blob_wanted (const RrunStoreBlob *b)
{
  return b && b->digest && (b->path || b->data);
}

gboolean
rrun_store_add_image (RrunStore *store, const char *config, gsize config_len,
                      const char *const *chain_ids, const char *name, const char *digest,
                      char **out_id, GError **error)
{
  RrunStoreImageSpec spec = { config, config_len, chain_ids, name, digest, NULL, NULL };

  return rrun_store_add_image_spec (store, &spec, out_id, error);
}

gboolean
rrun_store_add_image_spec (RrunStore *store, const RrunStoreImageSpec *spec, char **out_id,
                           GError **error)
{
  const char *config = spec->config;
  gsize config_len = spec->config_len;
  const char *const *chain_ids = spec->chain_ids;
  const char *name = spec->name, *digest = spec->digest;
  g_autoptr(GPtrArray) placed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) layer_blobs = NULL;
  g_autoptr(RrunBlobInfo) manifest = NULL;
  guint n_layers = g_strv_length ((GStrv) chain_ids);
  g_autofree char *id = sha256_hex (config, config_len);
  g_autofree char *dest = g_build_filename (store->root, "images", id, NULL);
  g_autofree char *blob = g_build_filename (store->root, "blobs", "sha256", id, NULL);
  g_autofree char *tmpdir = NULL;
  g_autoptr(RrunJson) parsed = NULL;
  g_autoptr(GPtrArray) metas = NULL;
  g_autoptr(ImageMeta) meta = g_new0 (ImageMeta, 1);
  g_autoptr(GError) local = NULL;
  g_auto(GStrv) diff_ids = NULL;
  gint64 created = 0;
  gboolean ok = FALSE;

  /* The config is outside input when pulled: check it before anything is written. */
  if ((parsed = rrun_json_parse (config, config_len, RRUN_JSON_DEFAULT, &local)) == NULL)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "invalid image config: %s", local->message);
  if (!rrun_image_config_parse_meta (parsed, "of the new image", NULL, NULL, &created,
                                     &diff_ids, error))
    return FALSE;
  if (g_strv_length (diff_ids) != g_strv_length ((GStrv) chain_ids))
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "image config lists %u layers but the image has %u",
                       g_strv_length (diff_ids), g_strv_length ((GStrv) chain_ids));
  meta->id = g_strdup (id);
  meta->names = g_new0 (char *, 2);
  meta->names[0] = g_strdup (name);
  meta->digest = g_strdup (digest);
  meta->layers = g_strdupv ((GStrv) chain_ids);
  meta->created = created;
  if (spec->layer_blobs)
    {
      layer_blobs = g_ptr_array_new_with_free_func (blob_info_free0);
      for (guint i = 0; i < n_layers; i++)
        {
          const RrunStoreBlob *b = &spec->layer_blobs[i];
          g_ptr_array_add (layer_blobs, b->digest ? rrun_blob_info_new (b->digest, b->media_type,
                                                                        b->size)
                                                  : NULL);
        }
    }
  if (spec_blob_wanted (spec->manifest))
    manifest = rrun_blob_info_new (spec->manifest->digest, spec->manifest->media_type,
                                   spec->manifest->size);
  if (!store_lock (store, TRUE, error))
    return FALSE;
  for (guint i = 0; chain_ids[i]; i++)
    if (!rrun_store_has_layer (store, chain_ids[i]))
      {
        rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot add image: layer %.12s is missing",
                    chain_ids[i]);
        goto out;
      }
  /* The kept blobs go in first: the image that refers to them appears after. */
  remove_stale_blob_temps (store);
  for (guint i = 0; i <= n_layers; i++)
    {
      const RrunStoreBlob *b = i < n_layers ? (spec->layer_blobs ? &spec->layer_blobs[i] : NULL)
                                            : spec->manifest;
      gboolean made = FALSE;

      if (b && b->digest && !b->path && !b->data)
        {
          /* Not brought along (a layer the store had): recorded when another image kept
             the same blob, else this layer has none. */
          if (i < n_layers && !rrun_store_has_blob (store, b->digest))
            g_clear_pointer (&layer_blobs->pdata[i], rrun_blob_info_free);
          continue;
        }
      if (!spec_blob_wanted (b))
        continue;
      if (!place_blob (store, b, &made, error))
        goto out;
      if (made)
        g_ptr_array_add (placed, g_build_filename (store->root, "blobs", "sha256",
                                                   b->digest + 7, NULL));
    }
  meta->layer_blobs = g_steal_pointer (&layer_blobs);
  meta->manifest = g_steal_pointer (&manifest);
  metas = scan_metas (store->root, FALSE);
  if (g_file_test (dest, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(ImageMeta) old = NULL;

      if (!read_meta (store->root, id, &old, error))
        goto out;
      if (name && !g_strv_contains ((const char *const *) old->names, name))
        {
          guint n = g_strv_length (old->names);
          old->names = g_renew (char *, old->names, n + 2);
          old->names[n] = g_strdup (name);
          old->names[n + 1] = NULL;
        }
      if (digest && old->digest == NULL)
        old->digest = g_strdup (digest);
      /* A store made before blobs were kept: the new copy brings them. */
      if (meta->layer_blobs && !image_has_all_blobs (old))
        {
          if (old->layer_blobs)
            g_ptr_array_unref (old->layer_blobs);
          old->layer_blobs = g_steal_pointer (&meta->layer_blobs);
        }
      if (meta->manifest && old->manifest == NULL)
        old->manifest = g_steal_pointer (&meta->manifest);
      old->pending_removal = FALSE;
      if (!write_meta (dest, old, error))
        goto out;
    }
  else
    {
      g_autofree char *tmpl = g_build_filename (store->root, "tmp", "image-XXXXXX", NULL);
      g_autofree char *cpath = NULL;

      if (g_mkdtemp_full (tmpl, 0755) == NULL)
        {
          rrun_throw_errno (error, errno, "cannot create a directory in \"%s/tmp\"",
                            store->root);
          goto out;
        }
      tmpdir = g_steal_pointer (&tmpl);
      cpath = g_build_filename (tmpdir, "config.json", NULL);
      if (!rrun_path_write_atomic (cpath, config, config_len, 0644, error)
          || !write_meta (tmpdir, meta, error))
        goto out;
      if (rename (tmpdir, dest) < 0)
        {
          rrun_throw_errno (error, errno, "cannot move image into \"%s\"", dest);
          goto out;
        }
      g_clear_pointer (&tmpdir, g_free);
      /* The config blob is the same file (a hard link), content-addressed. */
      {
        g_autofree char *c = g_build_filename (dest, "config.json", NULL);
        if (link (c, blob) < 0 && errno != EEXIST)
          g_debug ("cannot link config blob: %s", g_strerror (errno));
      }
    }
  if (name && !drop_name_elsewhere (store, metas, name, id, error))
    goto out;
  ok = TRUE;
out:
  if (tmpdir)
    rrun_path_rm_rf (tmpdir, NULL);
  if (!ok)
    for (guint i = 0; i < placed->len; i++)
      (void) unlink (placed->pdata[i]);
  store_unlock (store);
  if (ok)
    *out_id = g_steal_pointer (&id);
  return ok;
}

const char *
rrun_store_host_architecture (void)
{
  static const struct
  {
    const char *uname;
    const char *oci;
  } arches[] = {
    { "x86_64", "amd64" }, { "aarch64", "arm64" }, { "armv7l", "arm" }, { "armv6l", "arm" },
    { "i686", "386" },     { "i386", "386" },      { "ppc64le", "ppc64le" },
    { "s390x", "s390x" },  { "riscv64", "riscv64" }, { "mips64", "mips64le" },
    { "loongarch64", "loong64" },
  };
  static char machine[65];
  struct utsname u;

  if (uname (&u) < 0)
    return "amd64";
  for (guint i = 0; i < G_N_ELEMENTS (arches); i++)
    if (strcmp (u.machine, arches[i].uname) == 0)
      return arches[i].oci;
  g_strlcpy (machine, u.machine, sizeof machine);
  return machine;
}

/* The config of an imported image: like `docker import`/`podman import`, no Cmd or
   Entrypoint (the user names the command: `rrun run IMG sh`); PATH is set because a
   bare rootfs has no other way to say it and every runtime would default to it. */
static char *
import_config (const char *diff_id, const char *source, gsize *out_len)
{
  static const char *const env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL
  };
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *created = g_date_time_format_iso8601 (now);
  g_autofree char *comment = g_strdup_printf ("imported from %s", source);
  const char *const diff_ids[] = { diff_id, NULL };
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();
  char *text;

  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "created", created);
  rrun_json_builder_member_string (b, "architecture", rrun_store_host_architecture ());
  rrun_json_builder_member_string (b, "os", "linux");
  rrun_json_builder_set_member_name (b, "config");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_strv (b, "Env", env);
  rrun_json_builder_end_object (b);
  rrun_json_builder_set_member_name (b, "rootfs");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "type", "layers");
  rrun_json_builder_member_strv (b, "diff_ids", diff_ids);
  rrun_json_builder_end_object (b);
  rrun_json_builder_set_member_name (b, "history");
  rrun_json_builder_begin_array (b);
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "created", created);
  rrun_json_builder_member_string (b, "created_by", "rrun import");
  rrun_json_builder_member_string (b, "comment", comment);
  rrun_json_builder_end_object (b);
  rrun_json_builder_end_array (b);
  rrun_json_builder_end_object (b);
  text = rrun_json_builder_to_text (b, FALSE);
  *out_len = strlen (text);
  return text;
}

/* The OCI layer media type of a blob from its first bytes; NULL for compressions OCI has
   no media type for (xz, bzip2): such a blob is not kept. */
static const char *
layer_media_type (const guint8 *head, gsize len)
{
  if (len >= 2 && head[0] == 0x1f && head[1] == 0x8b)
    return "application/vnd.oci.image.layer.v1.tar+gzip";
  if (len >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd)
    return "application/vnd.oci.image.layer.v1.tar+zstd";
  if ((len >= 6 && memcmp (head, "\xfd" "7zXZ", 5) == 0) || (len >= 3 && memcmp (head, "BZh", 3) == 0))
    return NULL;
  return "application/vnd.oci.image.layer.v1.tar";
}

/* Copy in_fd into a new file path, returning its sha256 digest, size and first bytes. */
static gboolean
spool_fd (int in_fd, const char *path, char **out_digest, gint64 *out_size, guint8 *head,
          gsize *head_len, GError **error)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guint8 *buf = g_malloc (1 << 16);
  rrun_autofd int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  gint64 total = 0;

  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", path);
  *head_len = 0;
  for (;;)
    {
      ssize_t n = read (in_fd, buf, 1 << 16);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return rrun_throw_errno (error, errno, "cannot read");
      if (n == 0)
        break;
      if (*head_len < 8)
        {
          gsize k = MIN ((gsize) n, 8 - *head_len);
          memcpy (head + *head_len, buf, k);
          *head_len += k;
        }
      g_checksum_update (sum, buf, (gssize) n);
      if (!rrun_fd_write_all (fd, buf, (gsize) n, error))
        return FALSE;
      total += n;
    }
  *out_digest = g_strconcat ("sha256:", g_checksum_get_string (sum), NULL);
  *out_size = total;
  return TRUE;
}

gboolean
rrun_store_import_tarball (RrunStore *store, const RrunIdMap *map, const char *tar_path,
                           const char *name, char **out_id, GError **error)
{
  g_autofree char *norm = NULL, *chain = NULL, *diff_id = NULL, *config = NULL;
  g_autofree char *blob_path = NULL, *blob_digest = NULL;
  g_autoptr(RrunStoreTemp) temp = NULL;
  rrun_autofd int fd = -1;
  rrun_autofd int blob_fd = -1;
  gboolean created = FALSE;
  gsize config_len, head_len = 0;
  gint64 blob_size = 0;
  guint8 head[8];
  const char *layers[2] = { NULL, NULL };
  RrunStoreBlob blob = { 0 };
  RrunStoreImageSpec spec = { 0 };

  if (!rrun_names_normalize (name, &norm, error))
    return FALSE;
  if (strcmp (tar_path, "-") == 0)
    fd = fcntl (STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
  else
    fd = open (tar_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot open \"%s\"", tar_path);
  /* The tarball as given is the layer's blob (what `save` writes back): copy it into the
     store's staging area first, then extract from the copy. */
  if (!rrun_store_temp_new (store, map, &temp, error))
    return FALSE;
  blob_path = g_build_filename (rrun_store_temp_dir (temp), "blob", NULL);
  if (!spool_fd (fd, blob_path, &blob_digest, &blob_size, head, &head_len, error))
    return FALSE;
  blob_fd = open (blob_path, O_RDONLY | O_CLOEXEC);
  if (blob_fd < 0)
    return rrun_throw_errno (error, errno, "cannot open \"%s\"", blob_path);
  if (!rrun_store_add_layer (store, map, blob_fd, NULL, NULL, &chain, &diff_id, &created, error))
    return FALSE;
  config = import_config (diff_id, strcmp (tar_path, "-") == 0 ? "stdin" : tar_path,
                          &config_len);
  layers[0] = chain;
  blob = (RrunStoreBlob){ blob_digest, layer_media_type (head, head_len), blob_size, blob_path,
                          NULL, 0 };
  if (blob.media_type == NULL)
    blob.digest = NULL;
  spec = (RrunStoreImageSpec){ config, config_len, layers, norm, NULL, &blob, NULL };
  if (!rrun_store_add_image_spec (store, &spec, out_id, error))
    {
      if (created)
        {
          g_autoptr(GError) local = NULL;
          if (!rrun_store_remove_layer (store, map, chain, &local))
            rrun_warning ("cannot remove layer %.12s: %s", chain, local->message);
        }
      return FALSE;
    }
  return TRUE;
}

/* ---- removal -------------------------------------------------------------------------- */

/* Containers of this store using image id: the live ones (their lock is held) go to
   *out_live; stale ones are moved into `into` when set. Exclusive lock held. */
static void
scan_containers (RrunStore *store, const char *image_id, GPtrArray *out_live,
                 const char *into)
{
  g_autofree char *dir = g_build_filename (store->root, "containers", NULL);
  DIR *d = opendir (dir);
  struct dirent *de;

  if (d == NULL)
    return;
  while ((de = readdir (d)) != NULL)
    {
      g_autofree char *cdir = NULL, *img = NULL;

      if (de->d_name[0] == '.')
        continue;
      cdir = g_build_filename (dir, de->d_name, NULL);
      {
        g_autofree char *ipath = g_build_filename (cdir, "image", NULL);
        if (!g_file_get_contents (ipath, &img, NULL, NULL))
          img = g_strdup ("");
        g_strstrip (img);
      }
      if (image_id && strcmp (img, image_id) != 0)
        continue;
      if (!owner_is_gone (cdir))
        {
          if (out_live)
            g_ptr_array_add (out_live, g_strdup (de->d_name));
          continue;
        }
      if (into)
        {
          g_autofree char *dest = g_strdup_printf ("%s/container-%s", into, de->d_name);
          if (rename (cdir, dest) < 0)
            g_debug ("cannot move \"%s\": %s", cdir, g_strerror (errno));
        }
    }
  closedir (d);
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

static void
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

/* Delete image m (exclusive lock held): its dir and the layers no other image uses go
   into `into`; its config, layer and manifest blobs that no other image keeps are
   unlinked. metas must be this store's images (including m). */
static gboolean
delete_image_locked (RrunStore *store, GPtrArray *metas, ImageMeta *m, const char *into,
                     GError **error)
{
  g_autofree char *config = g_strconcat ("sha256:", m->id, NULL);

  if (!move_into (store, "images", m->id, into, error))
    return FALSE;
  for (guint i = 0; m->layers[i]; i++)
    if (!layer_in_use (metas, m->layers[i], m->id)
        && !move_into (store, "layers", m->layers[i], into, error))
      return FALSE;
  unlink_blob_unless_used (store, metas, config, m->id);
  if (m->manifest)
    unlink_blob_unless_used (store, metas, m->manifest->digest, m->id);
  for (guint k = 0; m->layer_blobs && k < m->layer_blobs->len; k++)
    {
      RrunBlobInfo *b = m->layer_blobs->pdata[k];
      if (b)
        unlink_blob_unless_used (store, metas, b->digest, m->id);
    }
  /* Gone: it no longer keeps layers or blobs alive for the next deletion in this pass. */
  g_strfreev (m->layers);
  m->layers = g_new0 (char *, 1);
  m->deleted = TRUE;
  return TRUE;
}

gboolean
rrun_store_remove_image_full (RrunStore *store, const RrunIdMap *map, const char *ref,
                              gboolean force, GStrv *out_untagged, char **out_deleted_id,
                              GError **error)
{
  g_autoptr(Staging) st = NULL;
  g_autoptr(GPtrArray) metas = NULL;
  g_autoptr(GPtrArray) live = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) untagged = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *name = NULL, *deleted = NULL;
  g_autofree char *idir = NULL;
  ImageMeta *m = NULL;
  gboolean ok = FALSE;

  if (!staging_new (store, map, &st, error))
    return FALSE;
  if (!store_lock (store, TRUE, error))
    return FALSE;
  metas = all_metas (store, TRUE);
  if (!find_meta (store, metas, ref, &m, &name, error))
    {
      /* Pulling is no advice for removing. */
      if (error != NULL && g_error_matches (*error, RRUN_ERROR, RRUN_ERROR_NOT_FOUND))
        {
          rrun_clear_hints (error);
          rrun_add_hint (error, "see the images there are with 'rrun images'");
        }
      goto out;
    }
  if (m->read_only)
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                  "cannot remove image \"%s\": it is in the read-only image store \"%s\"", ref,
                  m->root);
      goto out;
    }
  /* Only this store's images matter from here on (layers are per store). */
  for (guint i = metas->len; i > 0; i--)
    if (((ImageMeta *) metas->pdata[i - 1])->read_only)
      g_ptr_array_remove_index (metas, i - 1);
  idir = g_build_filename (store->root, "images", m->id, NULL);
  if (name != NULL && g_strv_length (m->names) > 1)
    {
      /* Untag one name of several: the image stays. */
      g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func (g_free);

      for (guint k = 0; m->names[k]; k++)
        if (strcmp (m->names[k], name) != 0)
          g_ptr_array_add (kept, g_strdup (m->names[k]));
      g_ptr_array_add (kept, NULL);
      g_strfreev (m->names);
      m->names = (GStrv) g_ptr_array_free (g_steal_pointer (&kept), FALSE);
      if (!write_meta (idir, m, error))
        goto out;
      g_ptr_array_add (untagged, g_steal_pointer (&name));
      ok = TRUE;
      goto out;
    }
  if (name == NULL && g_strv_length (m->names) > 1 && !force)
    {
      /* By ID an image with several names: docker refuses rather than drop them all. */
      g_autofree char *names = g_strjoinv (", ", m->names);

      rrun_throw (error, RRUN_ERROR_BUSY,
                  "cannot remove image \"%s\": it has %u names (%s)", ref,
                  g_strv_length (m->names), names);
      rrun_add_hint (error, "remove the names one by one (rrun rmi NAME), or all at once with "
                            "rrun rmi -f %s",
                     ref);
      goto out;
    }
  scan_containers (store, m->id, live, st->dir);
  if (live->len > 0 && !force)
    {
      rrun_throw (error, RRUN_ERROR_BUSY,
                  "cannot remove image \"%s\": container %s is using it", ref,
                  (char *) live->pdata[0]);
      rrun_add_hint (error, "stop the container first, or use 'rrun rmi -f %s' to untag it now "
                            "and delete it once no container uses it",
                     ref);
      goto out;
    }
  for (guint k = 0; m->names[k]; k++)
    g_ptr_array_add (untagged, g_strdup (m->names[k]));
  if (live->len > 0)
    {
      /* rmi -f while running: deleting lower layers under a mounted overlay would break
         the container, so the image disappears from view now and from disk at the next
         garbage collection after its containers end. */
      g_strfreev (m->names);
      m->names = g_new0 (char *, 1);
      m->pending_removal = TRUE;
      if (!write_meta (idir, m, error))
        goto out;
      rrun_warning ("image %.12s is in use by container %s; it will be deleted when no "
                    "container uses it",
                    m->id, (char *) live->pdata[0]);
      ok = TRUE;
      goto out;
    }
  if (!delete_image_locked (store, metas, m, st->dir, error))
    goto out;
  deleted = g_strdup (m->id);
  ok = TRUE;
out:
  store_unlock (store);
  if (!ok)
    return FALSE;
  /* st's destructor removes what was moved into it, outside the lock. */
  g_ptr_array_add (untagged, NULL);
  if (out_untagged)
    *out_untagged = (GStrv) g_ptr_array_free (g_steal_pointer (&untagged), FALSE);
  if (out_deleted_id)
    *out_deleted_id = g_steal_pointer (&deleted);
  return TRUE;
}

gboolean
rrun_store_remove_image (RrunStore *store, const RrunIdMap *map, const char *ref,
                         gboolean force, char **out_removed_id, GError **error)
{
  g_auto(GStrv) untagged = NULL;
  g_autofree char *deleted = NULL;

  if (!rrun_store_remove_image_full (store, map, ref, force, &untagged, &deleted, error))
    return FALSE;
  *out_removed_id = g_steal_pointer (&deleted);
  return TRUE;
}

/* ---- containers ----------------------------------------------------------------------- */

/* In this store (and not pending removal) or in a read-only one. */
static gboolean
image_exists (RrunStore *store, const char *id)
{
  g_autoptr(ImageMeta) m = NULL;

  if (!is_hex64 (id))
    return FALSE;
  if (read_meta (store->root, id, &m, NULL))
    return !m->pending_removal;
  for (guint i = 0; store->ro_roots && store->ro_roots[i]; i++)
    {
      g_autofree char *d = g_build_filename (store->ro_roots[i], "images", id, NULL);
      if (g_file_test (d, G_FILE_TEST_IS_DIR))
        return TRUE;
    }
  return FALSE;
}

static gboolean
valid_cid (const char *cid)
{
  if (*cid == '\0' || strlen (cid) > 128 || cid[0] == '.')
    return FALSE;
  for (const char *p = cid; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-' && *p != '.')
      return FALSE;
  return TRUE;
}

gboolean
rrun_store_create_container_dirs (RrunStore *store, const char *cid, const char *image_id,
                                  char **out_upper, char **out_work, int *out_lock_fd,
                                  GError **error)
{
  g_autofree char *cdir = NULL, *upper = NULL, *work = NULL, *ipath = NULL;
  g_autofree char *text = NULL, *lock_path = NULL;
  rrun_autofd int lock_fd = -1;
  gboolean made = FALSE;

  if (!valid_cid (cid))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid container id \"%s\"",
                       cid);
  cdir = g_build_filename (store->root, "containers", cid, NULL);
  upper = g_build_filename (cdir, "upper", NULL);
  work = g_build_filename (cdir, "work", NULL);
  ipath = g_build_filename (cdir, "image", NULL);
  if (!store_lock (store, TRUE, error))
    return FALSE;
  /* The image must still be there: an rmi may have run since the lookup. */
  if (!image_exists (store, image_id))
    {
      rrun_throw (error, RRUN_ERROR_NOT_FOUND, "image %.12s was removed", image_id);
      goto fail;
    }
  if (mkdir (cdir, 0700) < 0)
    {
      int errsv = errno;
      if (errsv == EEXIST)
        rrun_throw (error, RRUN_ERROR_BUSY, "container \"%s\" already exists", cid);
      else
        rrun_throw_errno (error, errsv, "cannot create \"%s\"", cdir);
      goto fail;
    }
  made = TRUE;
  text = g_strconcat (image_id, "\n", NULL);
  if (!rrun_lock_open (AT_FDCWD, (lock_path = g_build_filename (cdir, "lock", NULL)),
                       &lock_fd, error)
      || !rrun_lock_take (lock_fd, TRUE, FALSE, "the container", error))
    goto fail;
  if (mkdir (upper, 0755) < 0 || mkdir (work, 0700) < 0)
    {
      rrun_throw_errno (error, errno, "cannot create the writable layer in \"%s\"", cdir);
      goto fail;
    }
  if (!rrun_path_write_atomic (ipath, text, strlen (text), 0644, error))
    goto fail;
  store_unlock (store);
  *out_upper = g_steal_pointer (&upper);
  *out_work = g_steal_pointer (&work);
  *out_lock_fd = rrun_steal_fd (&lock_fd);
  return TRUE;

fail:
  if (made)
    rrun_path_rm_rf (cdir, NULL);
  store_unlock (store);
  return FALSE;
}

/* The common end of a --rm container, whose namespace holder emptied upper/ and work/:
   a few removals in place, without a staging directory (two directories fewer to make and
   delete on every run; on a disk mounted with discard each freed block is a synchronous
   discard). FALSE, with the directory whole, when the layer is not empty: the caller
   then stages it. A kill after the lock file is gone leaves a directory whose owner is
   gone, which the next gc removes. */
static gboolean
remove_container_in_place (const char *cdir)
{
  static const char *const layer[] = { "upper", "work" };
  static const char *const files[] = { "image", "lock" };

  for (guint i = 0; i < G_N_ELEMENTS (layer); i++)
    {
      g_autofree char *path = g_build_filename (cdir, layer[i], NULL);
      if (rmdir (path) < 0 && errno != ENOENT)
        return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (cdir, files[i], NULL);
      if (unlink (path) < 0 && errno != ENOENT)
        return FALSE;
    }
  return rmdir (cdir) == 0 || errno == ENOENT;
}

gboolean
rrun_store_remove_container_dirs (RrunStore *store, const RrunIdMap *map, const char *cid,
                                  GError **error)
{
  g_autoptr(Staging) st = NULL;
  g_autofree char *cdir = NULL, *dest = NULL;

  if (!valid_cid (cid))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid container id \"%s\"",
                       cid);
  cdir = g_build_filename (store->root, "containers", cid, NULL);
  if (!g_file_test (cdir, G_FILE_TEST_EXISTS) || remove_container_in_place (cdir))
    return TRUE;
  if (!staging_new (store, map, &st, error))
    return FALSE;
  dest = g_strdup_printf ("%s/container-%s", st->dir, cid);
  /* A rename is atomic and needs no lock: the name is the container's own. */
  if (rename (cdir, dest) < 0 && errno != ENOENT)
    return rrun_throw_errno (error, errno, "cannot remove \"%s\"", cdir);
  {
    const char *paths[] = { st->dir, NULL };
    if (!remove_trees (map, paths, error))
      return FALSE;
  }
  return TRUE;
}

/* Whether a directory below dir has a lock file nobody holds (debris of a killed rrun):
   staging dirs under tmp/, writable layers under containers/. */
static gboolean
has_unlocked_entry (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  gboolean found = FALSE;

  if (d == NULL)
    return FALSE;
  while (!found && (de = readdir (d)) != NULL)
    {
      g_autofree char *path = NULL;

      if (de->d_name[0] == '.')
        continue;
      path = g_build_filename (dir, de->d_name, NULL);
      found = owner_is_gone (path);
    }
  closedir (d);
  return found;
}

static gboolean
gc_has_work (RrunStore *store)
{
  g_autofree char *tmp = g_build_filename (store->root, "tmp", NULL);
  g_autofree char *containers = g_build_filename (store->root, "containers", NULL);
  g_autoptr(GPtrArray) metas = NULL;

  if (has_unlocked_entry (tmp) || has_unlocked_entry (containers))
    return TRUE;
  metas = scan_metas (store->root, FALSE);
  for (guint i = 0; i < metas->len; i++)
    if (((ImageMeta *) metas->pdata[i])->pending_removal)
      return TRUE;
  return FALSE;
}

gboolean
rrun_store_gc_containers (RrunStore *store, const RrunIdMap *map, GError **error)
{
  g_autoptr(Staging) st = NULL;
  g_autoptr(GPtrArray) metas = NULL;

  /* Every run calls this; making a staging dir costs a few file system writes, so first
     look, without the exclusive lock, whether there is anything to collect. A
     container appearing meanwhile only makes the locked pass below run for nothing. */
  if (!gc_has_work (store))
    return TRUE;
  /* staging_new also sweeps tmp/ debris into the staging dir. */
  if (!staging_new (store, map, &st, error))
    return FALSE;
  if (!store_lock (store, TRUE, error))
    return FALSE;
  scan_containers (store, NULL, NULL, st->dir);
  /* Images rmi -f left for later: delete those no live container uses now. */
  metas = scan_metas (store->root, FALSE);
  for (guint i = 0; i < metas->len; i++)
    {
      ImageMeta *m = metas->pdata[i];
      g_autoptr(GPtrArray) live = NULL;
      g_autoptr(GError) local = NULL;

      if (!m->pending_removal)
        continue;
      live = g_ptr_array_new_with_free_func (g_free);
      scan_containers (store, m->id, live, NULL);
      if (live->len == 0 && !delete_image_locked (store, metas, m, st->dir, &local))
        rrun_warning ("cannot delete image %.12s: %s", m->id, local->message);
    }
  store_unlock (store);
  return TRUE; /* st's destructor removes the debris */
}

/* ---- prune ---------------------------------------------------------------------------- */

/* A layer no image names is debris of a killed pull or import, or one a pull running now
   has extracted but not yet recorded in its image: only layers older than this go. */
#define ORPHAN_LAYER_MIN_AGE_S (60 * 60)

static guint64
layer_size_or_zero (const char *root, const char *chain)
{
  guint64 size = 0, unmapped = 0;

  return read_layer_info (root, chain, &size, &unmapped, NULL) ? size : 0;
}

/* Move layers/CHAIN no image of metas uses and older than the grace time into dir. */
static gboolean
prune_orphan_layers (RrunStore *store, GPtrArray *metas, const char *dir,
                     guint64 *reclaimed, GError **error)
{
  g_autofree char *layers = g_build_filename (store->root, "layers", NULL);
  g_autoptr(GDir) d = g_dir_open (layers, 0, NULL);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  const char *name;

  while (d && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *json = NULL;
      struct stat sb;

      if (!is_hex64 (name) || layer_in_use (metas, name, NULL))
        continue;
      json = g_build_filename (layers, name, "layer.json", NULL);
      if (stat (json, &sb) == 0 && now - sb.st_mtime < ORPHAN_LAYER_MIN_AGE_S)
        continue;
      *reclaimed += layer_size_or_zero (store->root, name);
      if (!move_into (store, "layers", name, dir, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
rrun_store_prune_images (RrunStore *store, const RrunIdMap *map, gboolean all,
                         GStrv *out_untagged, GStrv *out_deleted, guint64 *out_reclaimed,
                         GError **error)
{
  g_autoptr(Staging) st = NULL;
  g_autoptr(GPtrArray) metas = NULL;
  g_autoptr(GPtrArray) untagged = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) deleted = g_ptr_array_new_with_free_func (g_free);
  guint64 reclaimed = 0;
  gboolean ok = TRUE;

  if (!staging_new (store, map, &st, error))
    return FALSE;
  if (!store_lock (store, TRUE, error))
    return FALSE;
  /* Only this store: read-only stores are not ours to change, and layers are per store. */
  metas = scan_metas (store->root, FALSE);
  for (guint i = 0; ok && i < metas->len; i++)
    {
      ImageMeta *m = metas->pdata[i];
      g_autoptr(GPtrArray) live = g_ptr_array_new_with_free_func (g_free);

      /* Dangling: no name (rmi -f's pending removals have none either). */
      if (!all && m->names[0] != NULL && !m->pending_removal)
        continue;
      scan_containers (store, m->id, live, NULL);
      if (live->len > 0)
        continue;
      for (guint k = 0; m->layers[k]; k++)
        if (!layer_in_use (metas, m->layers[k], m->id))
          reclaimed += layer_size_or_zero (store->root, m->layers[k]);
      for (guint k = 0; m->names[k]; k++)
        g_ptr_array_add (untagged, g_strdup (m->names[k]));
      if (!(ok = delete_image_locked (store, metas, m, st->dir, error)))
        break;
      g_ptr_array_add (deleted, g_strconcat ("sha256:", m->id, NULL));
    }
  /* Deleted images have no layers left in metas, so their shared ones count as unused. */
  if (ok)
    ok = prune_orphan_layers (store, metas, st->dir, &reclaimed, error);
  store_unlock (store);
  if (!ok)
    return FALSE;
  /* st's destructor removes what was moved into it, outside the lock. */
  g_ptr_array_add (untagged, NULL);
  g_ptr_array_add (deleted, NULL);
  *out_untagged = (GStrv) g_ptr_array_free (g_steal_pointer (&untagged), FALSE);
  *out_deleted = (GStrv) g_ptr_array_free (g_steal_pointer (&deleted), FALSE);
  *out_reclaimed = reclaimed;
  return TRUE;
}

/* ---- kept blobs for save -------------------------------------------------------------- */

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
      if (g_file_get_contents (path, &mtext, &mlen, NULL))
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

gboolean
rrun_store_reset (RrunStore *store, const RrunIdMap *map, GError **error)
{
  static const char *const subdirs[] = { "blobs", "layers", "images", "containers", "tmp" };
  g_autoptr(GPtrArray) live = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  gboolean ok;

  if (!store_lock (store, TRUE, error))
    return FALSE;
  scan_containers (store, NULL, live, NULL);
  if (live->len > 0)
    {
      store_unlock (store);
      rrun_throw (error, RRUN_ERROR_BUSY, "cannot reset the image store \"%s\": container %s "
                  "is running", store->root, (char *) live->pdata[0]);
      rrun_add_hint (error, "stop the running containers first (rrun ps lists them)");
      return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    g_ptr_array_add (paths, g_build_filename (store->root, subdirs[i], NULL));
  g_ptr_array_add (paths, NULL);
  /* As the user where it can, through the user namespace for files of subordinate ids. */
  ok = remove_trees (map, (const char *const *) paths->pdata, error);
  store_unlock (store);
  return ok;
}
