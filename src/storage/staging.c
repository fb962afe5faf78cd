/* Staging directories under tmp/: each holds a lock while its command lives, so the debris
   of a killed command (its lock free) is swept by the next one. */
#include "storage/store.h"
#include "storage/store-private.h"
#include "storage/lock.h"
#include "error.h"
#include "image/layer.h"
#include "log.h"
#include "util/fd.h"
#include "util/path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

/* Remove trees as the user first (cheap: no namespace), then, for what is left because
   files belong to subordinate ids, as root of the user namespace. */
gboolean
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

void
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

/* Whether dir (a staging dir of tmp/ or a container's dir) belongs to nobody: its lock
   file is missing or no process holds it, so the command that made it was killed. The
   probe's own lock goes with its fd. */
gboolean
owner_is_gone (const char *dir)
{
  return !rrun_lock_dir_is_held (dir);
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
gboolean
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
