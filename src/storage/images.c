/* Images of the store: lookup by name, digest or id, listing, adding (with the blobs they
   keep) and removal (rmi). */
#include "storage/store.h"
#include "storage/store-private.h"
#include "storage/names.h"
#include "error.h"
#include "log.h"
#include "util/json-value.h"
#include "util/path.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* All metas: this store first, then the read-only ones. */
GPtrArray *
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
gboolean
find_meta (RrunStore *store, GPtrArray *metas, const char *ref, ImageMeta **out_meta,
           char **out_name, GError **error)
{
  g_autoptr(GError) parse_error = NULL;
  g_auto(GStrv) candidates
      = rrun_names_candidates (ref, store->registries, &parse_error);
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

/* ref as a full id ("sha256:" optional) of an image in this store or a read-only one,
   the user's own copy first: into *out_metas (one meta), or FALSE to search them all. */
static gboolean
find_full_id (RrunStore *store, const char *ref, GPtrArray **out_metas, ImageMeta **out_meta)
{
  const char *hex = g_str_has_prefix (ref, "sha256:") ? ref + 7 : ref;
  ImageMeta *m = NULL;

  if (!is_hex64 (hex))
    return FALSE;
  if (!read_meta (store->root, hex, &m, NULL))
    for (guint i = 0; m == NULL && store->ro_roots && store->ro_roots[i]; i++)
      if (read_meta (store->ro_roots[i], hex, &m, NULL))
        m->read_only = TRUE;
  if (m == NULL)
    return FALSE;
  if (m->pending_removal)
    {
      image_meta_free (m);
      return FALSE;
    }
  *out_metas = g_ptr_array_new_with_free_func ((GDestroyNotify) image_meta_free);
  g_ptr_array_add (*out_metas, m);
  *out_meta = m;
  return TRUE;
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
  /* A full id (what a container's record holds: exec, start, cp) names one directory:
     read that meta alone rather than every image's (no name can be 64 hex digits). */
  if (find_full_id (store, ref, &metas, &m))
    {
      ok = load_image (m, out_image, error);
      store_unlock (store);
      return ok;
    }
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
      /* A damaged record (or one whose config or layers cannot be read) is listed as
         such, not skipped: the user sees it and can remove it by id. */
      if (m->damaged != NULL || !load_image (m, &img, &local))
        {
          const char *why = m->damaged ? m->damaged : local->message;
          const char *nl = strchr (why, '\n');

          img = g_new0 (RrunImage, 1);
          img->id = g_strdup (m->id);
          img->names = g_strdupv (m->names);
          img->digest = g_strdup (m->digest);
          img->created = m->created;
          img->read_only_store = m->read_only;
          img->layer_dirs = g_ptr_array_new_with_free_func (g_free);
          img->layer_ids = g_ptr_array_new_with_free_func (g_free);
          img->layer_sizes = g_array_new (FALSE, TRUE, sizeof (guint64));
          img->damaged = nl ? g_strndup (why, (gsize) (nl - why)) : g_strdup (why);
        }
      g_hash_table_add (seen, m->id);
      g_ptr_array_add (images, img);
    }
  store_unlock (store);
  g_ptr_array_sort (images, newest_first);
  *out_images = g_steal_pointer (&images);
  return TRUE;
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

gboolean
rrun_store_add_image (RrunStore *store, const char *config, gsize config_len,
                      const char *const *chain_ids, const char *name, const char *digest,
                      char **out_id, GError **error)
{
  RrunStoreImageSpec spec = { config, config_len, chain_ids, name, digest, NULL, NULL };

  return rrun_store_add_image_spec (store, &spec, out_id, error);
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

/* Delete image m (exclusive lock held): its dir and the layers no other image uses go
   into `into`; its config, layer and manifest blobs that no other image keeps are
   unlinked. metas must be this store's images (including m). */
gboolean
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
  store_scan_containers (store, m->id, live, st->dir, TRUE);
  if (live->len > 0 && !force)
    {
      rrun_throw (error, RRUN_ERROR_BUSY,
                  "cannot remove image \"%s\": container %.12s is using it", ref,
                  (char *) live->pdata[0]);
      rrun_add_hint (error, "remove the container first (rrun rm -f %.12s), or use 'rrun rmi -f "
                            "%s' to untag it now and delete it once no container uses it",
                     (char *) live->pdata[0], ref);
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

gboolean
rrun_store_find_container_image (RrunStore *store, const char *id, RrunImage **out_image,
                                 GError **error)
{
  if (id[0] == '/')
    return (*out_image = rrun_image_new_rootfs (id, error)) != NULL;
  return rrun_store_find_image (store, id, out_image, error);
}
