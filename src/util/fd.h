/* File descriptor helpers that know nothing of containers. */
#pragma once

#include <errno.h>
#include <glib.h>
#include <unistd.h>

G_BEGIN_DECLS

static inline void
rrun_close_fdp (int *fdp)
{
  int errsv = errno;

  if (*fdp >= 0)
    close (*fdp);
  *fdp = -1;
  errno = errsv;
}

/* GLib 2.74 (Debian 12) has no g_autofd; the name makes the later switch a rename. */
#define rrun_autofd __attribute__ ((cleanup (rrun_close_fdp)))

static inline int
rrun_steal_fd (int *fdp)
{
  int fd = *fdp;

  *fdp = -1;
  return fd;
}

/* Write all of buf, retrying on EINTR and short writes. */
gboolean rrun_fd_write_all (int fd, const void *buf, gsize len, GError **error);

/* An exclusive flock(2) on path (created 0600 if missing, not through a symbolic link),
   blocking; *out_fd holds it until closed. */
gboolean rrun_fd_lock_path (const char *path, int *out_fd, GError **error);

/* Read a whole (small) file below dirfd into a NUL-terminated string. */
gboolean rrun_fd_read_file_at (int dirfd, const char *path, char **out_text, gsize *out_len,
                               GError **error);

G_END_DECLS
