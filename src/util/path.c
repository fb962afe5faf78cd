#include "util/path.h"
#include "util/fd.h"
#include "error.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

gboolean
rrun_path_mkdir_p (const char *path, mode_t mode, GError **error)
{
  if (g_mkdir_with_parents (path, (int) mode) < 0)
    return rrun_throw_errno (error, errno, "create directory \"%s\"", path);
  return TRUE;
}

/* Remove everything below dirfd (already open on a directory), not crossing devices. */
static gboolean
rm_contents_at (int dirfd, dev_t dev, const char *display, GError **error)
{
  DIR *dir = fdopendir (dirfd);
  struct dirent *de;
  gboolean ok = TRUE;

  if (dir == NULL)
    {
      int errsv = errno;
      close (dirfd);
      return rrun_throw_errno (error, errsv, "open directory \"%s\"", display);
    }
  while (ok && (de = readdir (dir)) != NULL)
    {
      struct stat st;

      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (fstatat (dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        {
          if (errno == ENOENT)
            continue;
          ok = rrun_throw_errno (error, errno, "stat \"%s/%s\"", display, de->d_name);
          break;
        }
      if (S_ISDIR (st.st_mode))
        {
          int sub;

          if (st.st_dev != dev)
            {
              ok = rrun_throw (error, RRUN_ERROR_BUSY,
                               "cannot remove \"%s/%s\": a file system is mounted there",
                               display, de->d_name);
              break;
            }
          /* Make sure we may enter and empty it (a layer may hold a 0500 dir). */
          if ((st.st_mode & 0700) != 0700)
            (void) fchmodat (dirfd, de->d_name, st.st_mode | 0700, 0);
          sub = openat (dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub < 0)
            {
              ok = rrun_throw_errno (error, errno, "open \"%s/%s\"", display, de->d_name);
              break;
            }
          {
            g_autofree char *child = g_strconcat (display, "/", de->d_name, NULL);
            ok = rm_contents_at (sub, dev, child, error);
          }
          if (ok && unlinkat (dirfd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
            ok = rrun_throw_errno (error, errno, "remove \"%s/%s\"", display, de->d_name);
        }
      else if (unlinkat (dirfd, de->d_name, 0) < 0 && errno != ENOENT)
        ok = rrun_throw_errno (error, errno, "remove \"%s/%s\"", display, de->d_name);
    }
  closedir (dir);
  return ok;
}

gboolean
rrun_path_rm_rf (const char *path, GError **error)
{
  struct stat st;
  int fd;

  if (lstat (path, &st) < 0)
    {
      if (errno == ENOENT)
        return TRUE;
      return rrun_throw_errno (error, errno, "stat \"%s\"", path);
    }
  if (!S_ISDIR (st.st_mode))
    {
      if (unlink (path) < 0 && errno != ENOENT)
        return rrun_throw_errno (error, errno, "remove \"%s\"", path);
      return TRUE;
    }
  if ((st.st_mode & 0700) != 0700)
    (void) chmod (path, st.st_mode | 0700);
  fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return rrun_throw_errno (error, errno, "open \"%s\"", path);
  if (!rm_contents_at (fd, st.st_dev, path, error))
    return FALSE;
  if (rmdir (path) < 0 && errno != ENOENT)
    return rrun_throw_errno (error, errno, "remove \"%s\"", path);
  return TRUE;
}

gboolean
rrun_path_write_atomic (const char *path, const void *data, gsize len, mode_t mode,
                        GError **error)
{
  g_autofree char *tmp = g_strdup_printf ("%s.tmp-%d", path, (int) getpid ());
  rrun_autofd int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

  if (fd < 0)
    return rrun_throw_errno (error, errno, "create \"%s\"", tmp);
  if (!rrun_fd_write_all (fd, data, len, error))
    {
      unlink (tmp);
      g_prefix_error (error, "\"%s\": ", tmp);
      return FALSE;
    }
  if (rename (tmp, path) < 0)
    {
      int errsv = errno;
      unlink (tmp);
      return rrun_throw_errno (error, errsv, "rename \"%s\"", tmp);
    }
  return TRUE;
}

char *
rrun_path_random_hex (guint nbytes)
{
  GString *s = g_string_sized_new (nbytes * 2);

  for (guint i = 0; i < nbytes; i++)
    g_string_append_printf (s, "%02x", g_random_int_range (0, 256));
  return g_string_free (s, FALSE);
}
