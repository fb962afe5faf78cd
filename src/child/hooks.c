/* OCI hooks run by the container's setup processes (createContainer, startContainer):
   between clone and exec, so only syscalls and async-signal-safe calls (docs/architecture.md,
   "Child code"). The host side planned path, argv, envp and the state JSON's memfd. */
#include "child/hooks.h"
#include "child/report.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The hook's process: stdin the state, the caller's stdout and stderr, nothing else of
   rrun's; default signals, none blocked (the setup processes block the forwarded ones). */
__attribute__ ((noreturn)) static void
hook_exec (const RrunChildPlan *p, const RrunChildHook *h, int err_fd)
{
  struct sigaction sa;
  sigset_t none;
  int errsv;

  memset (&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++)
    sigaction (s, &sa, NULL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  /* A process group of its own: a timeout kills what the hook started too. */
  setpgid (0, 0);
  if (lseek (p->hook_state_fd, 0, SEEK_SET) < 0 || dup2 (p->hook_state_fd, 0) < 0)
    goto fail;
  if (syscall (SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    for (int fd = 3; fd < 1024; fd++)
      if (fd != err_fd)
        fcntl (fd, F_SETFD, FD_CLOEXEC);
  execve (h->path, h->argv, h->envp);
fail:
  errsv = errno;
  (void) !write (err_fd, &errsv, sizeof errsv);
  _exit (127);
}

static void
sleep_ms (long ms)
{
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  nanosleep (&ts, NULL);
}

/* Wait for pid, at most timeout_s seconds (0: no limit); 1 when it timed out (then it is
   killed and reaped). The wait sleeps on a pidfd; without pidfds, polls every 10 ms. */
static int
wait_hook (pid_t pid, int timeout_s, int *status)
{
  int pidfd;

  if (timeout_s > 0)
    {
      pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
      if (pidfd >= 0)
        {
          struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
          int n;

          while ((n = poll (&pfd, 1, timeout_s * 1000)) < 0 && errno == EINTR)
            ;
          close (pidfd);
          if (n == 0)
            {
              kill (-pid, SIGKILL);
              kill (pid, SIGKILL);
              while (waitpid (pid, status, 0) < 0 && errno == EINTR)
                ;
              return 1;
            }
        }
      else
        for (long waited = 0; waitpid (pid, status, WNOHANG) == 0; waited += 10)
          {
            if (waited >= timeout_s * 1000L)
              {
                kill (-pid, SIGKILL);
                kill (pid, SIGKILL);
                while (waitpid (pid, status, 0) < 0 && errno == EINTR)
                  ;
                return 1;
              }
            sleep_ms (10);
          }
    }
  while (waitpid (pid, status, 0) < 0)
    if (errno != EINTR)
      {
        *status = 0;
        break;
      }
  return 0;
}

void
rrun_child_run_hooks (const RrunChildPlan *p, const RrunChildHook *hooks, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      const RrunChildHook *h = &hooks[i];
      int err[2], errsv = 0, status = 0;
      pid_t pid;
      ssize_t got;

      if (pipe2 (err, O_CLOEXEC) < 0)
        rrun_child_fail (p->report_fd, RRUN_STEP_HOOK, h->subject);
      /* No glibc fork handlers: they may take locks another thread of rrun held. */
      pid = (pid_t) syscall (SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
      if (pid < 0)
        rrun_child_fail (p->report_fd, RRUN_STEP_HOOK, h->subject);
      if (pid == 0)
        {
          close (err[0]);
          hook_exec (p, h, err[1]);
        }
      close (err[1]);
      while ((got = read (err[0], &errsv, sizeof errsv)) < 0 && errno == EINTR)
        ;
      close (err[0]);
      if (wait_hook (pid, h->timeout_s, &status))
        rrun_child_fail_errno (p->report_fd, RRUN_STEP_HOOK_TIMEOUT, h->timeout_s, h->subject);
      if (got == (ssize_t) sizeof errsv)
        rrun_child_fail_errno (p->report_fd, RRUN_STEP_HOOK, errsv, h->subject);
      if (WIFSIGNALED (status))
        rrun_child_fail_errno (p->report_fd, RRUN_STEP_HOOK_STATUS, -WTERMSIG (status),
                               h->subject);
      if (WIFEXITED (status) && WEXITSTATUS (status) != 0)
        rrun_child_fail_errno (p->report_fd, RRUN_STEP_HOOK_STATUS, WEXITSTATUS (status),
                               h->subject);
    }
}
