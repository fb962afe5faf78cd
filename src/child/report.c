/* Runs between clone and exec: only syscalls and async-signal-safe functions. */
#include "child/report.h"
#include "child/fd-pass.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void
rrun_child_send (int report_fd, int32_t step, int32_t errsv, const char *subject)
{
  RrunChildReport r;
  size_t n = subject ? strlen (subject) : 0;

  memset (&r, 0, sizeof r);
  r.step = step;
  r.errsv = errsv;
  if (n >= sizeof r.subject)
    n = sizeof r.subject - 1;
  if (n)
    memcpy (r.subject, subject, n);
  /* One message on a SOCK_SEQPACKET socket: atomic, never interleaved. */
  while (send (report_fd, &r, sizeof r, MSG_NOSIGNAL) < 0 && errno == EINTR)
    ;
}

void
rrun_child_fail_errno (int report_fd, int32_t step, int errsv, const char *subject)
{
  rrun_child_send (report_fd, step, errsv, subject);
  _exit (RRUN_EXIT_SETUP_FAILED);
}

void
rrun_child_fail (int report_fd, int32_t step, const char *subject)
{
  rrun_child_fail_errno (report_fd, step, errno, subject); /* errno read first */
}

int
rrun_child_send_fd (int sock, int fd)
{
  char data = 'F';

  return rrun_fd_send (sock, &data, 1, fd);
}

int
rrun_child_wait_byte (int fd)
{
  char byte;

  for (;;)
    {
      ssize_t n = recv (fd, &byte, 1, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n == 1)
        return 0;
      if (n == 0)
        errno = EPIPE;
      return -1;
    }
}

int
rrun_child_concat (char *buf, size_t n, const char *a, const char *b, const char *c)
{
  size_t la = a ? strlen (a) : 0, lb = b ? strlen (b) : 0, lc = c ? strlen (c) : 0;

  if (la + lb + lc + 1 > n)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  if (la)
    memcpy (buf, a, la);
  if (lb)
    memcpy (buf + la, b, lb);
  if (lc)
    memcpy (buf + la + lb, c, lc);
  buf[la + lb + lc] = '\0';
  return 0;
}

size_t
rrun_child_format_uint (char *buf, size_t n, unsigned long v)
{
  char digits[24];
  size_t i = 0, len = 0;

  do
    digits[i++] = (char) ('0' + v % 10);
  while ((v /= 10) > 0);
  while (i > 0 && len + 1 < n)
    buf[len++] = digits[--i];
  if (n > 0)
    buf[len] = '\0';
  return len;
}

void
rrun_child_fd_path (char *buf, size_t n, int fd)
{
  char num[24];

  rrun_child_format_uint (num, sizeof num, (unsigned long) fd);
  rrun_child_concat (buf, n, "/proc/self/fd/", num, NULL);
}
