/* The image store: see store.h for the layout. Every change is made in tmp/ and renamed
   into place under the exclusive store lock, held only for the renames; the long work
   (extraction, removal of trees) happens outside it, in a staging directory whose own
   lock tells a live operation from the debris of a killed one.
   The work is split by concern: image-meta.c (the metadata files), images.c, layers.c,
   blobs.c, staging.c (tmp/), containers.c, import.c, prune.c; store-private.h is what
   they share. */
#include "storage/store.h"
#include "storage/store-private.h"
#include "storage/fsmagic.h"
#include "storage/lock.h"
#include "error.h"
#include "util/fd.h"

#include <errno.h>
#include <sys/stat.h>
#include <fcntl.h>

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
      {
        struct stat st;

        /* A directory or other non-file there (no fault of rrun's) stops every command
           that uses the store: say what moves it aside. */
        if (lstat (lock, &st) == 0 && !S_ISREG (st.st_mode))
          rrun_add_hint (error, "it is not rrun's lock file; 'rrun system check --repair' "
                                "moves it aside and makes a new one");
        return FALSE;
      }
  }
  store->ro_roots = g_strdupv (config->additional_image_stores);
  /* Read once here, so every lookup of this command and its pull expand short names
     from the same list. */
  if (!rrun_registries_conf_load (config, &store->registries, error))
    return FALSE;
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
  rrun_registries_conf_free (store->registries);
  g_free (store);
}

const char *
rrun_store_root (RrunStore *store)
{
  return store->root;
}

const RrunRegistriesConf *
rrun_store_registries (RrunStore *store)
{
  return store->registries;
}

gboolean
store_lock (RrunStore *store, gboolean exclusive, GError **error)
{
  g_rec_mutex_lock (&store->thread_lock);
  if (rrun_lock_take (store->lock_fd, exclusive, TRUE, "the image store", error))
    return TRUE;
  g_rec_mutex_unlock (&store->thread_lock);
  return FALSE;
}

void
store_unlock (RrunStore *store)
{
  rrun_lock_release (store->lock_fd);
  g_rec_mutex_unlock (&store->thread_lock);
}
