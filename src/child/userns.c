/* Runs between clone and exec: only syscalls and async-signal-safe functions
   (docs/architecture.md, "Child code"). */
#include "child/userns.h"
#include "child/report.h"
#include "child/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sys/prctl.h>

/* Where the report socket sits once the standard streams are in place. */
#define REPORT_FD 3

void
rrun_userns_child_main (const RrunUsernsChildPlan *p)
{
  /* Die with the parent: a killed rrun leaves no helper behind. */
  if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_PRCTL, "death signal");
  /* Keep only our own descriptors before waiting: in a process with threads (a pull
     extracts several layers at once) this child also got the other threads' pipes, and
     holding their write ends while it waits would keep their readers (another helper's
     stdin, newuidmap's output) from ever seeing end-of-file. */
  /* stdio first: one of them may be fd 3 (REPORT_FD), which the report socket then
     takes over (the socket is never 0, 1 or 2: those are open in rrun). */
  if (dup2 (p->stdin_fd, 0) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_REDIRECT, "stdin");
  if (dup2 (p->stdout_fd, 1) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_REDIRECT, "stdout");
  if (dup2 (p->stderr_fd, 2) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_REDIRECT, "stderr");
  if ((p->report_fd == REPORT_FD ? fcntl (REPORT_FD, F_SETFD, FD_CLOEXEC)
                                 : dup3 (p->report_fd, REPORT_FD, O_CLOEXEC)) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_REDIRECT, "the report socket");
  (void) close_range (REPORT_FD + 1, ~0U, 0);
  if (rrun_child_wait_byte (REPORT_FD) < 0)
    _exit (RRUN_EXIT_SETUP_FAILED); /* the parent failed to map ids and says why itself */
  if (rrun_child_setresgid (0, 0, 0) < 0 || rrun_child_setresuid (0, 0, 0) < 0)
    rrun_child_fail (REPORT_FD, RRUN_STEP_SETID, "root of the user namespace");
  execve (p->exe, p->argv, p->envp);
  rrun_child_fail (REPORT_FD, RRUN_STEP_EXEC, p->exe);
}
