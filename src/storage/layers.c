/* Extracted layers under layers/CHAIN/: added through a staging directory and renamed
   into place, removed once no image uses them. */
#include "storage/store.h"
#include "storage/store-private.h"
#include "error.h"
#include "image/layer.h"
#include "util/path.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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
gboolean
move_into (RrunStore *store, const char *kind, const char *id, const char *dir,
           GError **error)
{
  g_autofree char *src = g_build_filename (store->root, kind, id, NULL);
  g_autofree char *dest = g_strdup_printf ("%s/%s-%s", dir, kind, id);

  if (rename (src, dest) < 0 && errno != ENOENT)
    return rrun_throw_errno (error, errno, "cannot remove \"%s\"", src);
  return TRUE;
}

gboolean
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
