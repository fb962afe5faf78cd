/* Runs between clone and exec: only syscalls and async-signal-safe functions. */
#include "child/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <signal.h>

static void
say (int fd, const char *what)
{
  const char *why = errno == ENOENT ? ": No such file or directory" : ": failed";

  (void) !write (fd, what, strlen (what));
  (void) !write (fd, why, strlen (why));
  (void) !write (fd, "\n", 1);
}

void
rrun_userns_child_main (const RrunUsernsChildPlan *p)
{
  char byte;

  /* Die with the parent: a killed rrun leaves no helper behind. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  /* Keep only our own descriptors before waiting: in a process with threads (a pull
     extracts several layers at once) this child also got the other threads' pipes, and
     holding their write ends while it waits would keep their readers (another helper's
     stdin, newuidmap's output) from ever seeing end-of-file. */
  if (dup2 (p->stdin_fd, 0) < 0 || dup2 (p->stdout_fd, 1) < 0 || dup2 (p->stderr_fd, 2) < 0
      || (p->sync_fd == 3 ? fcntl (3, F_SETFD, FD_CLOEXEC) : dup3 (p->sync_fd, 3, O_CLOEXEC)) < 0)
    _exit (125);
  (void) close_range (4, ~0U, 0);
  if (read (3, &byte, 1) != 1)
    _exit (125); /* the parent failed to map ids and said why itself */
  /* Raw syscalls: glibc's setresuid/setresgid in a process that had threads (a pull
     extracts layers from several) broadcast to every thread glibc knows of, and in this
     raw-clone child those threads do not exist: the call would wait forever. */
  if (syscall (SYS_setresgid, 0, 0, 0) < 0 || syscall (SYS_setresuid, 0, 0, 0) < 0)
    {
      say (2, "become root in the user namespace");
      _exit (125);
    }
  execve (p->exe, p->argv, p->envp);
  say (2, p->exe);
  _exit (127);
}
