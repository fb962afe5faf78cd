/* Copy-up of image content into a new volume (volume/copy-up.h). */
#include "volume/copy-up.h"
#include "error.h"
#include "log.h"
#include "userns/exec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* The overlay drivers' own markers (image/layer-extract.c writes both). */
#define OVL_OPAQUE_XATTR "user.overlay.opaque"
#define FUSE_OVL_OPAQUE_XATTR "user.fuseoverlayfs.opaque"

static gboolean
is_whiteout (const struct stat *st)
{
  return S_ISCHR (st->st_mode) && st->st_rdev == makedev (0, 0);
}

static gboolean
is_opaque_at (int dirfd, const char *name)
{
  char value[4];
  g_autofree char *path = NULL;
  ssize_t n;

  if (dirfd >= 0)
    path = g_strdup_printf ("/proc/self/fd/%d/%s", dirfd, name);
  n = lgetxattr (path ? path : name, OVL_OPAQUE_XATTR, value, sizeof value);
  if (n <= 0)
    n = lgetxattr (path ? path : name, FUSE_OVL_OPAQUE_XATTR, value, sizeof value);
  return n > 0 && value[0] == 'y';
}

/* ---- resolving rel in the layers ------------------------------------------------------- */

static GPtrArray *
sources (const char *const *top_first, guint n, const char *rel, gboolean *out_unsure)
{
  GPtrArray *dirs = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) parts = g_strsplit (rel, "/", -1);

  *out_unsure = FALSE;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GString) path = g_string_new (top_first[i]);
      gboolean stop = FALSE;

      for (guint k = 0; parts[k]; k++)
        {
          struct stat st;
          gboolean last;

          if (*parts[k] == '\0')
            continue;
          last = TRUE;
          for (guint l = k + 1; parts[l]; l++)
            if (*parts[l] != '\0')
              last = FALSE;
          g_string_append_c (path, '/');
          g_string_append (path, parts[k]);
          if (lstat (path->str, &st) < 0)
            {
              if (errno != ENOENT && errno != ENOTDIR)
                *out_unsure = TRUE;
              break; /* this layer has nothing there; lower ones may */
            }
          if (is_whiteout (&st) || !S_ISDIR (st.st_mode))
            {
              stop = TRUE; /* hides what lower layers have */
              break;
            }
          if (last)
            g_ptr_array_add (dirs, g_strdup (path->str));
          if (is_opaque_at (-1, path->str))
            stop = TRUE; /* after this layer's part */
        }
      if (stop)
        break;
    }
  return dirs;
}

GPtrArray *
rrun_copy_up_sources (const char *const *layers, guint n_layers, const char *rel,
                      gboolean *out_unsure)
{
  g_autofree const char **top_first = g_new0 (const char *, n_layers + 1);

  for (guint i = 0; i < n_layers; i++)
    top_first[i] = layers[n_layers - 1 - i];
  return sources (top_first, n_layers, rel, out_unsure);
}

/* ---- host side ------------------------------------------------------------------------- */

gboolean
rrun_copy_up (const RrunIdMap *map, const char *const *layers, guint n_layers,
              const char *rel, const char *dest, const char *volume, GError **error)
{
  g_autoptr(GPtrArray) dirs = NULL;
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  gboolean unsure;
  const char *log = rrun_log_level_option ();

  dirs = rrun_copy_up_sources (layers, n_layers, rel, &unsure);
  if (dirs->len == 0 && !unsure)
    return TRUE;
  g_ptr_array_add (args, NULL); /* this rrun */
  if (log != NULL)
    g_ptr_array_add (args, (gpointer) log);
  g_ptr_array_add (args, (gpointer) "__internal");
  g_ptr_array_add (args, (gpointer) "copy-up");
  g_ptr_array_add (args, (gpointer) dest);
  g_ptr_array_add (args, (gpointer) rel);
  for (guint i = n_layers; i > 0; i--)
    g_ptr_array_add (args, (gpointer) layers[i - 1]);
  g_ptr_array_add (args, NULL);
  if (!rrun_userns_exec (map, (const char *const *) args->pdata, -1, NULL, error))
    {
      g_prefix_error (error, "cannot copy the image's /%s into volume \"%.12s\": ", rel,
                      volume);
      return FALSE;
    }
  return TRUE;
}

gboolean
rrun_chown_tree (const RrunIdMap *map, const char *path, guint32 uid, guint32 gid,
                 GError **error)
{
  g_autofree char *u = g_strdup_printf ("%u", uid), *g = g_strdup_printf ("%u", gid);
  const char *argv[] = { NULL, "__internal", "chown-tree", u, g, path, NULL };

  if (!rrun_userns_exec (map, argv, -1, NULL, error))
    {
      g_prefix_error (error, "cannot chown \"%s\" to %s:%s: ", path, u, g);
      return FALSE;
    }
  return TRUE;
}

/* ---- helper side ----------------------------------------------------------------------- */

typedef struct
{
  int root_fd;           /* dest */
  GHashTable *links;     /* "dev:ino" -> path below dest, for files with several links */
  guint64 files, skipped;
} Copy;

static gboolean
skip_xattr (const char *name)
{
  return g_str_has_prefix (name, "user.overlay.") || g_str_has_prefix (name, "user.fuseoverlayfs.")
         || g_str_has_prefix (name, "trusted.");
}

/* xattrs where the destination takes them: an unsupported one is not an error (tmpfs
   without user xattrs, security.* the namespace may not set). */
static void
copy_xattrs (int src_fd, int dst_fd)
{
  char list[8192], value[65536];
  ssize_t n = flistxattr (src_fd, list, sizeof list);

  for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t) strlen (list + off) + 1)
    {
      const char *name = list + off;
      ssize_t len;

      if (skip_xattr (name))
        continue;
      len = fgetxattr (src_fd, name, value, sizeof value);
      if (len >= 0 && fsetxattr (dst_fd, name, value, (size_t) len, 0) < 0)
        g_debug ("cannot copy xattr %s: %s", name, g_strerror (errno));
    }
}

/* As root of the user namespace only a file system that refuses owners other than the
   user's (NFS, Lustre, a FUSE file system run by the user) answers EPERM. */
static gboolean
owner_refused (GError **error, const char *rel, const struct stat *st)
{
  rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
              "cannot give \"%s\" its owner %u:%u: Operation not permitted", *rel ? rel : "/",
              (unsigned) st->st_uid, (unsigned) st->st_gid);
  rrun_add_hint (error, "the volume is on a file system that cannot hold files of "
                        "subordinate IDs: set [storage] volume_path in "
                        "~/.config/rrun/rrun.conf to a directory on a local disk, or mount "
                        "the volume with nocopy");
  return FALSE;
}

/* Owner, then mode (chown clears set-ID bits), then times. An owner outside the map
   (EINVAL: single-ID mode) stays root, as layer extraction leaves it. */
static gboolean
copy_attrs (int fd, const struct stat *st, const char *rel, GError **error)
{
  struct timespec times[2] = { st->st_atim, st->st_mtim };

  if (fchown (fd, st->st_uid, st->st_gid) < 0)
    {
      if (errno == EPERM)
        return owner_refused (error, rel, st);
      g_debug ("cannot chown \"%s\": %s", rel, g_strerror (errno));
    }
  fchmod (fd, st->st_mode & 07777);
  futimens (fd, times);
  return TRUE;
}

static gboolean
copy_data (int in, int out, const char *path, GError **error)
{
  char buf[65536];

  if (ioctl (out, FICLONE, in) == 0)
    return TRUE;
  for (;;)
    {
      ssize_t n = copy_file_range (in, NULL, out, NULL, 1 << 30, 0);
      if (n == 0)
        return TRUE;
      if (n < 0)
        break;
    }
  if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
    return rrun_throw_errno (error, errno, "cannot copy \"%s\"", path);
  /* copy_file_range may have written part before failing: start again from the top. */
  if (lseek (in, 0, SEEK_SET) < 0 || ftruncate (out, 0) < 0 || lseek (out, 0, SEEK_SET) < 0)
    return rrun_throw_errno (error, errno, "cannot copy \"%s\"", path);
  for (;;)
    {
      ssize_t n = read (in, buf, sizeof buf);
      if (n == 0)
        return TRUE;
      if (n < 0 || write (out, buf, (size_t) n) != n)
        return rrun_throw_errno (error, errno ? errno : EIO, "cannot copy \"%s\"", path);
    }
}

static gboolean copy_dir (Copy *c, GPtrArray *srcs, int dst_fd, const char *rel,
                          GError **error);

/* One entry (not a directory) from src_dir_fd/name to dst_fd/name. */
static gboolean
copy_entry (Copy *c, int src_dir_fd, const char *name, const struct stat *st, int dst_fd,
            const char *rel, GError **error)
{
  g_autofree char *key = NULL;

  if (st->st_nlink > 1 && !S_ISDIR (st->st_mode))
    {
      const char *first;
      key = g_strdup_printf ("%lu:%lu", (unsigned long) st->st_dev, (unsigned long) st->st_ino);
      first = g_hash_table_lookup (c->links, key);
      if (first != NULL && linkat (c->root_fd, first, dst_fd, name, 0) == 0)
        return TRUE;
    }
  if (S_ISREG (st->st_mode))
    {
      int in = openat (src_dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      int out;
      gboolean ok;

      if (in < 0)
        return rrun_throw_errno (error, errno, "cannot read \"%s\"", rel);
      out = openat (dst_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (out < 0)
        {
          int errsv = errno;
          close (in);
          return rrun_throw_errno (error, errsv, "cannot create \"%s\"", rel);
        }
      ok = copy_data (in, out, rel, error);
      if (ok)
        {
          copy_xattrs (in, out);
          ok = copy_attrs (out, st, rel, error);
        }
      close (in);
      close (out);
      if (!ok)
        return FALSE;
    }
  else if (S_ISLNK (st->st_mode))
    {
      char target[PATH_MAX + 1];
      ssize_t n = readlinkat (src_dir_fd, name, target, sizeof target - 1);
      struct timespec times[2] = { st->st_atim, st->st_mtim };

      if (n < 0)
        return rrun_throw_errno (error, errno, "cannot read link \"%s\"", rel);
      target[n] = '\0';
      if (symlinkat (target, dst_fd, name) < 0)
        return rrun_throw_errno (error, errno, "cannot create \"%s\"", rel);
      if (fchownat (dst_fd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0
          && errno == EPERM)
        return owner_refused (error, rel, st);
      utimensat (dst_fd, name, times, AT_SYMLINK_NOFOLLOW);
    }
  else if (S_ISFIFO (st->st_mode))
    {
      struct timespec times[2] = { st->st_atim, st->st_mtim };
      if (mkfifoat (dst_fd, name, st->st_mode & 07777) < 0)
        return rrun_throw_errno (error, errno, "cannot create \"%s\"", rel);
      fchownat (dst_fd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
      fchmodat (dst_fd, name, st->st_mode & 07777, 0);
      utimensat (dst_fd, name, times, AT_SYMLINK_NOFOLLOW);
    }
  else
    {
      c->skipped++; /* devices and sockets cannot be made here */
      return TRUE;
    }
  c->files++;
  if (key != NULL)
    g_hash_table_insert (c->links, g_steal_pointer (&key), g_strdup (rel));
  return TRUE;
}

static int
open_dir (int at, const char *name)
{
  return openat (at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* A directory of the merged view: srcs are its parts, top first (fds, owned). */
static gboolean
copy_dir (Copy *c, GPtrArray *srcs, int dst_fd, const char *rel, GError **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint j = 0; j < srcs->len; j++)
    {
      int src_fd = GPOINTER_TO_INT (srcs->pdata[j]);
      int dup_fd = dup (src_fd);
      DIR *d = dup_fd >= 0 ? fdopendir (dup_fd) : NULL;
      struct dirent *de;

      if (d == NULL)
        return rrun_throw_errno (error, errno, "cannot read \"%s\"", *rel ? rel : "/");
      while ((de = readdir (d)) != NULL)
        {
          const char *name = de->d_name;
          g_autofree char *sub = NULL;
          struct stat st;

          if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0
              || g_hash_table_contains (seen, name))
            continue;
          g_hash_table_add (seen, g_strdup (name));
          if (fstatat (src_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            {
              closedir (d);
              return rrun_throw_errno (error, errno, "cannot read \"%s/%s\"", rel, name);
            }
          if (is_whiteout (&st))
            continue;
          sub = *rel ? g_strconcat (rel, "/", name, NULL) : g_strdup (name);
          if (S_ISDIR (st.st_mode))
            {
              g_autoptr(GPtrArray) parts = g_ptr_array_new ();
              int fd = open_dir (src_fd, name), out;
              gboolean ok;

              if (fd < 0)
                {
                  closedir (d);
                  return rrun_throw_errno (error, errno, "cannot read \"%s\"", sub);
                }
              g_ptr_array_add (parts, GINT_TO_POINTER (fd));
              /* Lower layers' parts, unless this one is opaque or one below hides them. */
              if (!is_opaque_at (src_fd, name))
                for (guint l = j + 1; l < srcs->len; l++)
                  {
                    int lower = GPOINTER_TO_INT (srcs->pdata[l]);
                    struct stat ls;
                    int lfd;

                    if (fstatat (lower, name, &ls, AT_SYMLINK_NOFOLLOW) < 0)
                      continue;
                    if (!S_ISDIR (ls.st_mode) || (lfd = open_dir (lower, name)) < 0)
                      break;
                    g_ptr_array_add (parts, GINT_TO_POINTER (lfd));
                    if (is_opaque_at (lower, name))
                      break;
                  }
              if (mkdirat (dst_fd, name, 0700) < 0 || (out = open_dir (dst_fd, name)) < 0)
                {
                  int errsv = errno;
                  for (guint k = 0; k < parts->len; k++)
                    close (GPOINTER_TO_INT (parts->pdata[k]));
                  closedir (d);
                  return rrun_throw_errno (error, errsv, "cannot create \"%s\"", sub);
                }
              ok = copy_dir (c, parts, out, sub, error);
              if (ok)
                {
                  copy_xattrs (fd, out);
                  ok = copy_attrs (out, &st, sub, error);
                }
              for (guint k = 0; k < parts->len; k++)
                close (GPOINTER_TO_INT (parts->pdata[k]));
              close (out);
              if (!ok)
                {
                  closedir (d);
                  return FALSE;
                }
              c->files++;
            }
          else if (!copy_entry (c, src_fd, name, &st, dst_fd, sub, error))
            {
              closedir (d);
              return FALSE;
            }
        }
      closedir (d);
    }
  return TRUE;
}

gboolean
rrun_copy_up_tree (const char *const *layers_top_first, const char *rel, const char *dest,
                   GError **error)
{
  g_autoptr(GPtrArray) dirs = NULL;
  g_autoptr(GPtrArray) fds = g_ptr_array_new ();
  Copy c = { .root_fd = -1 };
  gboolean unsure, ok;
  struct stat st;

  dirs = sources (layers_top_first, g_strv_length ((char **) layers_top_first), rel, &unsure);
  if (dirs->len == 0)
    return TRUE;
  c.root_fd = open (dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (c.root_fd < 0)
    return rrun_throw_errno (error, errno, "cannot open \"%s\"", dest);
  for (guint i = 0; i < dirs->len; i++)
    {
      int fd = open (dirs->pdata[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        {
          int errsv = errno;
          for (guint k = 0; k < fds->len; k++)
            close (GPOINTER_TO_INT (fds->pdata[k]));
          close (c.root_fd);
          return rrun_throw_errno (error, errsv, "cannot read \"%s\"", (char *) dirs->pdata[i]);
        }
      g_ptr_array_add (fds, GINT_TO_POINTER (fd));
    }
  c.links = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  ok = copy_dir (&c, fds, c.root_fd, "", error);
  /* The volume's root takes the image directory's owner and mode (docker's
     copyOwnership), so a service that owns /var/lib/db in the image owns its volume. */
  if (ok && fstat (GPOINTER_TO_INT (fds->pdata[0]), &st) == 0)
    {
      copy_xattrs (GPOINTER_TO_INT (fds->pdata[0]), c.root_fd);
      ok = copy_attrs (c.root_fd, &st, "", error);
    }
  g_debug ("copied %" G_GUINT64_FORMAT " entries of /%s (%" G_GUINT64_FORMAT " skipped)",
           c.files, rel, c.skipped);
  for (guint k = 0; k < fds->len; k++)
    close (GPOINTER_TO_INT (fds->pdata[k]));
  close (c.root_fd);
  g_hash_table_unref (c.links);
  return ok;
}

static gboolean
chown_at (int dirfd, guint32 uid, guint32 gid, const char *path, GError **error)
{
  DIR *d;
  struct dirent *de;
  int dup_fd = dup (dirfd);

  if (dup_fd < 0 || (d = fdopendir (dup_fd)) == NULL)
    return rrun_throw_errno (error, errno, "cannot read \"%s\"", path);
  while ((de = readdir (d)) != NULL)
    {
      struct stat st;

      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (fstatat (dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0
          || fchownat (dirfd, de->d_name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
        {
          int errsv = errno;
          closedir (d);
          return rrun_throw_errno (error, errsv, "cannot chown \"%s/%s\"", path, de->d_name);
        }
      /* chown clears set-ID bits of files: put them back */
      if (S_ISREG (st.st_mode) && (st.st_mode & 06000))
        fchmodat (dirfd, de->d_name, st.st_mode & 07777, 0);
      if (S_ISDIR (st.st_mode))
        {
          int fd = open_dir (dirfd, de->d_name);
          g_autofree char *sub = g_build_filename (path, de->d_name, NULL);
          gboolean ok = fd >= 0 && chown_at (fd, uid, gid, sub, error);

          if (fd < 0)
            rrun_throw_errno (error, errno, "cannot read \"%s\"", sub);
          if (fd >= 0)
            close (fd);
          if (!ok)
            {
              closedir (d);
              return FALSE;
            }
        }
    }
  closedir (d);
  return TRUE;
}

gboolean
rrun_chown_tree_helper (const char *path, guint32 uid, guint32 gid, GError **error)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  gboolean ok;

  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot open \"%s\"", path);
  if (fchown (fd, uid, gid) < 0)
    {
      int errsv = errno;
      close (fd);
      return rrun_throw_errno (error, errsv, "cannot chown \"%s\"", path);
    }
  ok = chown_at (fd, uid, gid, path, error);
  close (fd);
  return ok;
}
