/* A container's writable layer as an OCI layer tar (commit and build): walks the upper
   directory of the overlay as root of the user namespace, so owners read as the
   container sees them (subordinate IDs are stored as the in-container IDs) and files of
   any mode can be read. Overlay's markers become OCI whiteouts:

     character device 0/0 (kernel overlay, fuse-overlayfs)  -> .wh.NAME
     user.overlay.whiteout xattr on an empty file (Linux 6.7 xattr whiteouts)
                                                           -> .wh.NAME
     directory with user.overlay.opaque, trusted.overlay.opaque or
     user.fuseoverlayfs.opaque = "y"                        -> DIR/.wh..wh..opq
     fuse-overlayfs' own .wh.NAME files                     -> kept as they are
     its opaque markers (.wh..wh..opq file, .wh..opq device)  -> one DIR/.wh..wh..opq

   Entries are written in name order with hard links kept, so the same tree gives the
   same tar; the overlay drivers' own xattrs (user.overlay.*, trusted.overlay.*,
   user.fuseoverlayfs.*) are never copied, other user.* and security.capability are. */
#include "image/layer.h"
#include "error.h"
#include "rootfs/plan.h"
#include "util/fd.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

typedef struct
{
  struct archive *w;
  struct archive_entry_linkresolver *links;
  guint64 entries;
} Diff;

static gboolean
archive_fail (Diff *d, const char *path, GError **error)
{
  return rrun_throw (error, RRUN_ERROR_FAILED, "cannot write \"%s\" to the layer: %s", path,
                     archive_error_string (d->w));
}

static gboolean
is_yes_xattr (int fd, const char *name)
{
  char v[4];
  ssize_t n = fgetxattr (fd, name, v, sizeof v);
  return n == 1 && v[0] == 'y';
}

static gboolean
is_opaque (int dfd)
{
  return is_yes_xattr (dfd, "user.overlay.opaque") || is_yes_xattr (dfd, "trusted.overlay.opaque")
         || is_yes_xattr (dfd, "user.fuseoverlayfs.opaque");
}

static gboolean
keep_xattr (const char *name)
{
  if (g_str_has_prefix (name, "user.overlay.") || g_str_has_prefix (name, "user.fuseoverlayfs."))
    return FALSE;
  return g_str_has_prefix (name, "user.") || strcmp (name, "security.capability") == 0;
}

static void
add_xattrs (int fd, struct archive_entry *e)
{
  char names[4096];
  ssize_t len = flistxattr (fd, names, sizeof names);

  for (ssize_t i = 0; i < len; i += (ssize_t) strlen (names + i) + 1)
    {
      char value[4096];
      ssize_t n;
      if (!keep_xattr (names + i))
        continue;
      n = fgetxattr (fd, names + i, value, sizeof value);
      if (n >= 0)
        archive_entry_xattr_add_entry (e, names + i, value, (size_t) n);
    }
}

static gboolean
write_plain (Diff *d, const char *path, mode_t mode, GError **error)
{
  struct archive_entry *e = archive_entry_new ();
  int r;

  archive_entry_set_pathname (e, path);
  archive_entry_set_filetype (e, mode & S_IFMT);
  archive_entry_set_perm (e, mode & 07777);
  archive_entry_set_size (e, 0);
  r = archive_write_header (d->w, e);
  archive_entry_free (e);
  if (r != ARCHIVE_OK)
    return archive_fail (d, path, error);
  d->entries++;
  return TRUE;
}

static gboolean
copy_file (Diff *d, int fd, const char *path, GError **error)
{
  g_autofree guint8 *buf = g_malloc (1 << 16);

  for (;;)
    {
      ssize_t n = read (fd, buf, 1 << 16);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return rrun_throw_errno (error, errno, "cannot read \"%s\"", path);
      if (n == 0)
        return TRUE;
      if (archive_write_data (d->w, buf, (size_t) n) != n)
        return archive_fail (d, path, error);
    }
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static gboolean walk_dir (Diff *d, int dfd, const char *prefix, gboolean opaque_written,
                          GError **error);

/* One entry of the upper directory: name in dfd, path its tar name. */
static gboolean
write_entry (Diff *d, int dfd, const char *name, const char *path, GError **error)
{
  struct stat st;
  struct archive_entry *e, *sparse = NULL;
  rrun_autofd int fd = -1;
  gboolean ok;
  int r;

  if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return rrun_throw_errno (error, errno, "cannot stat \"%s\"", path);
  if (S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0))
    {
      g_autofree char *dir = g_path_get_dirname (path);
      g_autofree char *wh = g_strdup_printf ("%s%s.wh.%s", strcmp (dir, ".") ? dir : "",
                                             strcmp (dir, ".") ? "/" : "", name);
      return write_plain (d, wh, S_IFREG | 0, error);
    }
  if (S_ISREG (st.st_mode) || S_ISDIR (st.st_mode))
    {
      fd = openat (dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (S_ISDIR (st.st_mode) ? O_DIRECTORY : 0));
      if (fd < 0)
        return rrun_throw_errno (error, errno, "cannot open \"%s\"", path);
      if (S_ISREG (st.st_mode) && st.st_size == 0 && is_yes_xattr (fd, "user.overlay.whiteout"))
        {
          g_autofree char *dir = g_path_get_dirname (path);
          g_autofree char *wh = g_strdup_printf ("%s%s.wh.%s", strcmp (dir, ".") ? dir : "",
                                                 strcmp (dir, ".") ? "/" : "", name);
          return write_plain (d, wh, S_IFREG | 0, error);
        }
    }
  e = archive_entry_new ();
  archive_entry_copy_stat (e, &st);
  archive_entry_set_pathname (e, path);
  archive_entry_set_uname (e, NULL);
  archive_entry_set_gname (e, NULL);
  /* No atime or ctime: they change on every read and would change the digest. */
  archive_entry_unset_atime (e);
  archive_entry_unset_ctime (e);
  archive_entry_unset_birthtime (e);
  if (S_ISLNK (st.st_mode))
    {
      char target[PATH_MAX + 1];
      ssize_t n = readlinkat (dfd, name, target, PATH_MAX);
      if (n < 0)
        {
          archive_entry_free (e);
          return rrun_throw_errno (error, errno, "cannot read link \"%s\"", path);
        }
      target[n] = '\0';
      archive_entry_set_symlink (e, target);
    }
  if (fd >= 0)
    add_xattrs (fd, e);
  if (S_ISREG (st.st_mode) && st.st_nlink > 1)
    {
      /* The first of a set of hard links carries the data; later ones name it. */
      archive_entry_linkify (d->links, &e, &sparse);
    }
  r = archive_write_header (d->w, e);
  if (r != ARCHIVE_OK)
    {
      archive_entry_free (e);
      return archive_fail (d, path, error);
    }
  d->entries++;
  ok = TRUE;
  if (S_ISREG (st.st_mode) && archive_entry_size (e) > 0)
    ok = copy_file (d, fd, path, error);
  archive_entry_free (e);
  if (!ok)
    return FALSE;
  if (S_ISDIR (st.st_mode))
    {
      gboolean opaque = is_opaque (fd);
      if (opaque)
        {
          g_autofree char *opq = g_strconcat (path, "/.wh..wh..opq", NULL);
          if (!write_plain (d, opq, S_IFREG | 0, error))
            return FALSE;
        }
      return walk_dir (d, g_steal_fd (&fd), path, opaque, error);
    }
  return TRUE;
}

/* fuse-overlayfs marks a directory opaque three ways at once (its xattr, a
   .wh..wh..opq file, a 0/0 device named .wh..opq): one marker goes in the layer. Two
   entries of one path make the tar one that podman's and docker's layer appliers refuse
   ("duplicates of file paths not supported"). */
static gboolean
is_opaque_marker (int dfd, const char *name)
{
  struct stat st;

  if (strcmp (name, ".wh..wh..opq") == 0)
    return TRUE;
  return strcmp (name, ".wh..opq") == 0 && fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
         && S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0);
}

/* The empty file single-ID mode's apt configuration is bound onto (container/create.c):
   rrun's, not the container's, so it is no part of a layer. */
static gboolean
is_mount_stub (int dfd, const char *name, const char *path)
{
  struct stat st;

  return strcmp (path, RRUN_APT_SINGLE_ID_CONF + 1) == 0
         && fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode)
         && st.st_size == 0;
}

/* Takes dfd. opaque_written: the directory's opaque marker is in the layer already. */
static gboolean
walk_dir (Diff *d, int dfd, const char *prefix, gboolean opaque_written, GError **error)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  DIR *dir = fdopendir (dfd);
  struct dirent *de;
  gboolean ok = TRUE;

  if (dir == NULL)
    {
      int errsv = errno;
      close (dfd);
      return rrun_throw_errno (error, errsv, "cannot read directory \"%s\"", prefix ? prefix : "/");
    }
  while ((de = readdir (dir)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      g_ptr_array_add (names, g_strdup (de->d_name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; ok && i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *path = prefix ? g_strconcat (prefix, "/", name, NULL) : g_strdup (name);
      if (is_mount_stub (dirfd (dir), name, path))
        continue;
      if (is_opaque_marker (dirfd (dir), name))
        {
          g_autofree char *opq = prefix ? g_strconcat (prefix, "/.wh..wh..opq", NULL)
                                        : g_strdup (".wh..wh..opq");
          if (!opaque_written)
            ok = write_plain (d, opq, S_IFREG | 0, error);
          opaque_written = TRUE;
          continue;
        }
      ok = write_entry (d, dirfd (dir), name, path, error);
    }
  closedir (dir);
  return ok;
}

gboolean
rrun_layer_diff_write (const char *upper, int out_fd, guint64 *out_entries, GError **error)
{
  Diff d = { 0 };
  int dfd = open (upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  gboolean ok = FALSE;

  if (dfd < 0)
    return rrun_throw_errno (error, errno, "cannot open \"%s\"", upper);
  d.w = archive_write_new ();
  /* pax keeps long names, large ids and xattrs exact; every engine reads it. */
  archive_write_set_format_pax_restricted (d.w);
  archive_write_set_bytes_in_last_block (d.w, 1);
  d.links = archive_entry_linkresolver_new ();
  archive_entry_linkresolver_set_strategy (d.links, archive_format (d.w));
  if (archive_write_open_fd (d.w, out_fd) != ARCHIVE_OK)
    {
      close (dfd);
      archive_fail (&d, upper, error);
      goto out;
    }
  if (!walk_dir (&d, dfd, NULL, FALSE, error))
    goto out;
  if (archive_write_close (d.w) != ARCHIVE_OK)
    {
      archive_fail (&d, upper, error);
      goto out;
    }
  if (out_entries)
    *out_entries = d.entries;
  ok = TRUE;
out:
  archive_entry_linkresolver_free (d.links);
  archive_write_free (d.w);
  return ok;
}
