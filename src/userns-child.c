/* Runs between clone and exec: only syscalls and async-signal-safe functions. */
#include "userns-child.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
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
  if (read (p->sync_fd, &byte, 1) != 1)
    _exit (125); /* the parent failed to map ids and said why itself */
  if (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0)
    {
      say (p->stderr_fd, "become root in the user namespace");
      _exit (125);
    }
  if (dup2 (p->stdin_fd, 0) < 0 || dup2 (p->stdout_fd, 1) < 0 || dup2 (p->stderr_fd, 2) < 0)
    _exit (125);
  execve (p->exe, p->argv, p->envp);
  say (2, p->exe);
  _exit (127);
}
