/* Async-signal-safe: no malloc, no stdio, no GLib (docs/architecture.md, "Child code"). */
#include "child/fd-pass.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

typedef union
{
  char buf[CMSG_SPACE (sizeof (int))];
  struct cmsghdr align;
} FdControl;

int
rrun_fd_send (int sock, const void *data, size_t len, int fd)
{
  struct iovec iov = { .iov_base = (void *) data, .iov_len = len };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  FdControl u;

  if (fd >= 0)
    {
      struct cmsghdr *c;

      memset (&u, 0, sizeof u);
      msg.msg_control = u.buf;
      msg.msg_controllen = sizeof u.buf;
      c = CMSG_FIRSTHDR (&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (sizeof (int));
      memcpy (CMSG_DATA (c), &fd, sizeof fd);
    }
  while (sendmsg (sock, &msg, MSG_NOSIGNAL) < 0)
    if (errno != EINTR)
      return -1;
  return 0;
}

ssize_t
rrun_fd_recv (int sock, void *data, size_t len, int *out_fd, int flags)
{
  struct iovec iov = { .iov_base = data, .iov_len = len };
  FdControl u;
  struct msghdr msg = { .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf };
  ssize_t n;

  *out_fd = -1;
  do
    n = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC | flags);
  while (n < 0 && errno == EINTR);
  if (n > 0)
    for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c != NULL; c = CMSG_NXTHDR (&msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        memcpy (out_fd, CMSG_DATA (c), sizeof (int));
  return n;
}
