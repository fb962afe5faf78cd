/* Passing one file descriptor over a unix socket (SCM_RIGHTS), with a small payload in the
   same message. Async-signal-safe: used between clone and exec (the pty master, the tap
   device) and on the host side alike; rrun-net builds this file too. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* One message of len bytes from data, carrying fd unless fd < 0. 0, or -1 with errno. */
int rrun_fd_send (int sock, const void *data, size_t len, int fd);

/* One message into data (at most len bytes); *out_fd is the fd that came along (close on
   exec) or -1. flags add to recvmsg's (MSG_DONTWAIT). Returns the bytes read: 0 at end
   of file, -1 with errno. */
ssize_t rrun_fd_recv (int sock, void *data, size_t len, int *out_fd, int flags);
