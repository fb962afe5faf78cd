/* rrun exec's joining process (its host side is src/container/exec.c): between fork and
   exec, so async-signal-safe only (no GLib, no malloc): syscalls and the child report. */
#include "child/exec-join.h"
#include "child/exec.h"
#include "child/report.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The joining process: runs in a fork of single-threaded rrun (setns into a user
   namespace requires one thread). Never returns. */
void
rrun_exec_join_child (int pidfd, int ns_flags, const char *cgroup_procs, RrunChildPlan *plan)
{
  int status;
  pid_t child;

  /* Before it is in the container's user namespace: from there on, processes of the
     container could otherwise open /proc/PID/exe (rrun) or its fds. */
  if (prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    rrun_child_fail (plan->report_fd, RRUN_STEP_PRCTL, "dumpable");
  /* Into the container's cgroup while still on the host side, where its path is. */
  if (cgroup_procs != NULL)
    {
      int fd = open (cgroup_procs, O_WRONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          (void) !write (fd, "0", 1);
          close (fd);
        }
    }
  if (setns (pidfd, ns_flags) < 0)
    rrun_child_fail (plan->report_fd, RRUN_STEP_JOIN_USERNS, "the container's namespaces");
  close (pidfd);
  /* Only stdio and the report socket stay open (the rest is closed, not left to exec). */
  if (plan->report_fd != 3 && dup3 (plan->report_fd, 3, O_CLOEXEC) >= 0)
    plan->report_fd = 3;
  syscall (SYS_close_range, 4, ~0U, 0);
  /* The new PID namespace applies to children only. */
  child = (pid_t) syscall (SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
  if (child < 0)
    rrun_child_fail (plan->report_fd, RRUN_STEP_FORK, "exec");
  if (child == 0)
    rrun_process_exec_child (plan);
  close (plan->report_fd);
  while (waitpid (child, &status, 0) < 0)
    if (errno != EINTR)
      _exit (RRUN_EXIT_FAILED);
  if (WIFSIGNALED (status))
    _exit (128 + WTERMSIG (status));
  _exit (WEXITSTATUS (status));
}

