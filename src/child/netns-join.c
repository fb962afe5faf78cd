/* Runs between fork and _exit: only syscalls (docs/architecture.md, "Child code"). */
#include "child/netns-join.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

static void
fail (int out_fd, int32_t step)
{
  RrunNetnsJoinReply r = { errno, step };

  (void) !write (out_fd, &r, sizeof r);
  _exit (1);
}

/* Read a small file into buf; returns its length. */
static size_t
read_small (const char *path, char *buf, size_t size, int out_fd)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  size_t len = 0;
  ssize_t n;

  if (fd < 0)
    fail (out_fd, 2);
  while (len < size && (n = read (fd, buf + len, size - len)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        fail (out_fd, 2);
      len += (size_t) n;
    }
  close (fd);
  return len;
}

void
rrun_netns_join_read_maps_child (int userns_fd, int out_fd)
{
  RrunNetnsJoinReply ok = { 0, 0 };
  char uid_map[4096], gid_map[4096];
  size_t ulen, glen;

  /* Inside the namespace, its own maps read relative to its parent: our namespace. */
  if (setns (userns_fd, CLONE_NEWUSER) < 0)
    fail (out_fd, 1);
  ulen = read_small ("/proc/self/uid_map", uid_map, sizeof uid_map, out_fd);
  glen = read_small ("/proc/self/gid_map", gid_map, sizeof gid_map, out_fd);
  if (write (out_fd, &ok, sizeof ok) != sizeof ok
      || write (out_fd, uid_map, ulen) != (ssize_t) ulen || write (out_fd, "", 1) != 1
      || write (out_fd, gid_map, glen) != (ssize_t) glen)
    _exit (1);
  _exit (0);
}
