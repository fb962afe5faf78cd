#include "util/fd.h"
#include "error.h"

#include <fcntl.h>
#include <sys/file.h>

gboolean
rrun_fd_write_all (int fd, const void *buf, gsize len, GError **error)
{
  const char *p = buf;

  while (len > 0)
    {
      ssize_t n = write (fd, p, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return rrun_throw_errno (error, errno, "write");
      p += n;
      len -= (gsize) n;
    }
  return TRUE;
}

gboolean
rrun_fd_read_file_at (int dirfd, const char *path, char **out_text, gsize *out_len,
                      GError **error)
{
  rrun_autofd int fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  g_autoptr(GByteArray) buf = NULL;
  char chunk[8192];

  if (fd < 0)
    return rrun_throw_errno (error, errno, "open \"%s\"", path);
  buf = g_byte_array_new ();
  for (;;)
    {
      ssize_t n = read (fd, chunk, sizeof chunk);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return rrun_throw_errno (error, errno, "read \"%s\"", path);
      if (n == 0)
        break;
      g_byte_array_append (buf, (const guint8 *) chunk, (guint) n);
    }
  if (out_len)
    *out_len = buf->len;
  g_byte_array_append (buf, (const guint8 *) "", 1);
  *out_text = (char *) g_byte_array_free (g_steal_pointer (&buf), FALSE);
  return TRUE;
}

gboolean
rrun_fd_lock_path (const char *path, int *out_fd, GError **error)
{
  rrun_autofd int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot open \"%s\"", path);
  while (flock (fd, LOCK_EX) < 0)
    if (errno != EINTR)
      return rrun_throw_errno (error, errno, "cannot lock \"%s\"", path);
  *out_fd = rrun_steal_fd (&fd);
  return TRUE;
}
