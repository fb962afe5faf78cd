/* image prune and system reset: removals of many images, layers and blobs at once. */
#include "storage/store.h"
#include "storage/store-private.h"
#include "error.h"

#include <sys/stat.h>

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

  /* A damaged image's layers are unknown: any orphan may be one of them. They wait until
     the damaged record is removed (rmi -f ID, system check --repair). */
  for (guint i = 0; i < metas->len; i++)
    if (((ImageMeta *) metas->pdata[i])->damaged != NULL)
      return TRUE;
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
      store_scan_containers (store, m->id, live, NULL, TRUE);
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

gboolean
rrun_store_reset (RrunStore *store, const RrunIdMap *map, GError **error)
{
  static const char *const subdirs[] = { "blobs", "layers", "images", "containers", "tmp" };
  g_autoptr(GPtrArray) live = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  gboolean ok;

  if (!store_lock (store, TRUE, error))
    return FALSE;
  store_scan_containers (store, NULL, live, NULL, FALSE);
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
