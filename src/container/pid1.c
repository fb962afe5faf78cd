#include "container/pid1.h"
#include "error.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

guint64
rrun_pid1_start_time (pid_t pid)
{
  char path[64], buf[1024];
  rrun_autofd int fd = -1;
  ssize_t n;
  char *p;
  guint64 start = 0;

  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || (n = read (fd, buf, sizeof buf - 1)) <= 0)
    return 0;
  buf[n] = '\0';
  /* The command name (field 2) may hold spaces and parentheses: count from its end. */
  p = strrchr (buf, ')');
  if (p == NULL)
    return 0;
  /* Field 3 is the state; starttime is field 22, 19 fields further. */
  for (int field = 2; field < 22 && p != NULL; field++)
    p = strchr (p + 1, ' ');
  if (p == NULL || sscanf (p + 1, "%" G_GUINT64_FORMAT, &start) != 1)
    return 0;
  return start;
}

gboolean
rrun_pid1_open (const RrunState *s, int *out_pidfd, GError **error)
{
  rrun_autofd int fd = -1;
  const char *what = s->name && *s->name ? s->name : s->id;

  if (s->pid <= 0)
    return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "container \"%s\" is not running", what);
  fd = (int) syscall (SYS_pidfd_open, s->pid, 0);
  if (fd < 0 && errno == ESRCH)
    return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "container \"%s\" is not running", what);
  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot open process %d", (int) s->pid);
  /* After the pidfd: the process it names cannot be replaced any more, so a start time
     that matches now is that process's. */
  if (s->pid_start != 0 && rrun_pid1_start_time (s->pid) != s->pid_start)
    return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "container \"%s\" is not running", what);
  *out_pidfd = rrun_steal_fd (&fd);
  return TRUE;
}

gboolean
rrun_pid1_signal (int pidfd, int signo, GError **error)
{
  if (syscall (SYS_pidfd_send_signal, pidfd, signo, NULL, 0) < 0 && errno != ESRCH)
    return rrun_throw_errno (error, errno, "cannot send signal %d", signo);
  return TRUE;
}

gboolean
rrun_pid1_wait_exit (int pidfd, int timeout_ms)
{
  struct pollfd p = { pidfd, POLLIN, 0 };
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;)
    {
      int left = timeout_ms < 0 ? -1 : (int) MAX (0, (end - g_get_monotonic_time ()) / 1000);
      int r = poll (&p, 1, left);

      if (r > 0)
        return TRUE;
      if (r == 0)
        return FALSE;
      if (errno != EINTR)
        return FALSE;
    }
}
