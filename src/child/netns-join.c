/* Runs between fork and _exit: only syscalls (docs/architecture.md, "Child code"). */
#include "child/netns-join.h"
#include "child/report.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Read a small file into buf; returns its length. */
static size_t
read_small (const char *path, char *buf, size_t size, int sock)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  size_t len = 0;
  ssize_t n;

  if (fd < 0)
    rrun_child_fail (sock, RRUN_STEP_READ, path);
  while (len < size && (n = read (fd, buf + len, size - len)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        rrun_child_fail (sock, RRUN_STEP_READ, path);
      len += (size_t) n;
    }
  close (fd);
  return len;
}

void
rrun_netns_join_read_maps_child (int userns_fd, const char *what, int sock)
{
  static char maps[2 * RRUN_NETNS_JOIN_MAP_MAX + 1];
  size_t ulen, glen;

  /* Inside the namespace, its own maps read relative to its parent: our namespace. */
  if (setns (userns_fd, CLONE_NEWUSER) < 0)
    rrun_child_fail (sock, RRUN_STEP_JOIN_USERNS, what);
  ulen = read_small ("/proc/self/uid_map", maps, RRUN_NETNS_JOIN_MAP_MAX, sock);
  maps[ulen] = '\0';
  glen = read_small ("/proc/self/gid_map", maps + ulen + 1, RRUN_NETNS_JOIN_MAP_MAX, sock);
  rrun_child_send (sock, RRUN_STEP_NONE, 0, "");
  if (send (sock, maps, ulen + 1 + glen, MSG_NOSIGNAL) < 0)
    _exit (RRUN_EXIT_SETUP_FAILED);
  _exit (0);
}
