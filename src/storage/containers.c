/* The image store's containers/CID directories: a container's writable layer, its lock,
   and the garbage collection of those whose rrun was killed (store.h). */
#include "storage/store.h"
#include "storage/store-private.h"
#include "storage/lock.h"
#include "error.h"
#include "log.h"
#include "util/fd.h"
#include "util/path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

gboolean
rrun_store_container_is_kept (const char *cdir)
{
  g_autofree char *keep = g_build_filename (cdir, RRUN_STORE_KEEP_FILE, NULL);

  return access (keep, F_OK) == 0;
}

gboolean
rrun_store_container_is_debris (const char *cdir)
{
  return owner_is_gone (cdir) && !rrun_store_container_is_kept (cdir);
}

/* Containers of this store using image id: those that are no debris (live, or stopped
   and kept; only live ones unless with_kept) go to *out_live; debris is moved into `into`
   when set. Exclusive lock held. */
static void
scan_containers (RrunStore *store, const char *image_id, GPtrArray *out_live,
                 const char *into, gboolean with_kept)
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
      if (!rrun_store_container_is_debris (cdir))
        {
          if (out_live && (with_kept || !owner_is_gone (cdir)))
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
  if (!g_str_has_prefix (image_id, "squashfs:") && !g_str_has_prefix (image_id, "rootfs:")
      && image_id[0] != '/' /* a --rootfs directory */ && !image_exists (store, image_id))
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
  /* The state (with its summary) and the log of a kept container, its marker, its mounts
     (rootfs/volumes.h), then the lock: a kill before the lock is gone leaves debris (no
     marker), which the next gc removes. */
  static const char *const files[] = { "container.json", "summary", "ctr.log",
                                       RRUN_STORE_KEEP_FILE, "mounts.json", "image",
                                       "state.lock", "lock" };

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
   staging dirs under tmp/, writable layers under containers/ (there, stopped containers
   that are kept are no debris). */
static gboolean
has_unlocked_entry (const char *dir, gboolean containers)
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
      found = containers ? rrun_store_container_is_debris (path) : owner_is_gone (path);
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

  if (has_unlocked_entry (tmp, FALSE) || has_unlocked_entry (containers, TRUE))
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
  scan_containers (store, NULL, NULL, st->dir, TRUE);
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
      scan_containers (store, m->id, live, NULL, TRUE);
      if (live->len == 0 && !delete_image_locked (store, metas, m, st->dir, &local))
        rrun_warning ("cannot delete image %.12s: %s", m->id, local->message);
    }
  store_unlock (store);
  return TRUE; /* st's destructor removes the debris */
}

/* scan_containers for rmi, prune and reset. */
void
store_scan_containers (RrunStore *store, const char *image_id, GPtrArray *out_live,
                       const char *into, gboolean with_kept)
{
  scan_containers (store, image_id, out_live, into, with_kept);
}
