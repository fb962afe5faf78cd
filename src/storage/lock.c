#include "storage/lock.h"
#include "error.h"
#include "log.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

gboolean
rrun_lock_open (int dirfd, const char *path, int *out_fd, GError **error)
{
  int fd = openat (dirfd, path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot open lock file \"%s\"", path);
  *out_fd = fd;
  return TRUE;
}

gboolean
rrun_lock_take (int fd, gboolean exclusive, gboolean wait, const char *what, GError **error)
{
  int op = exclusive ? LOCK_EX : LOCK_SH;

  if (flock (fd, op | LOCK_NB) == 0)
    return TRUE;
  if (errno != EWOULDBLOCK)
    return rrun_throw_errno (error, errno, "cannot lock %s", what);
  if (!wait)
    return rrun_throw (error, RRUN_ERROR_BUSY, "cannot lock %s: another rrun holds it", what);
  rrun_info ("waiting for the lock on %s", what);
  while (flock (fd, op) < 0)
    if (errno != EINTR)
      return rrun_throw_errno (error, errno, "cannot lock %s", what);
  return TRUE;
}

gboolean
rrun_lock_try_exclusive (int fd)
{
  return flock (fd, LOCK_EX | LOCK_NB) == 0;
}

void
rrun_lock_release (int fd)
{
  if (fd >= 0)
    (void) flock (fd, LOCK_UN);
}

gboolean
rrun_lock_dir_is_held (const char *dir)
{
  g_autofree char *lock = g_build_filename (dir, "lock", NULL);
  rrun_autofd int fd = open (lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);

  return fd >= 0 && !rrun_lock_try_exclusive (fd);
}
