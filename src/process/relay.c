#include "process/relay.h"
#include "process/tty.h"
#include "error.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

void
rrun_relay_signal_set (sigset_t *set)
{
  sigemptyset (set);
  sigaddset (set, SIGINT);
  sigaddset (set, SIGTERM);
  sigaddset (set, SIGHUP);
  sigaddset (set, SIGQUIT);
  sigaddset (set, SIGUSR1);
  sigaddset (set, SIGUSR2);
  sigaddset (set, SIGWINCH);
  sigaddset (set, SIGCHLD);
}

/* Copy what is readable on from to to; FALSE at EOF or error of from. */
static gboolean
pump (int from, int to)
{
  char buf[65536];
  ssize_t n = read (from, buf, sizeof buf);

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return TRUE;
  if (n <= 0)
    return FALSE; /* EOF, or EIO from a master whose other end is closed */
  for (ssize_t off = 0; off < n;)
    {
      ssize_t w = write (to, buf + off, (size_t) (n - off));
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0 && errno == EAGAIN)
        {
          struct pollfd p = { to, POLLOUT, 0 };
          poll (&p, 1, 1000);
          continue;
        }
      if (w < 0)
        return TRUE; /* our stdout went away: drop output, keep waiting */
      off += w;
    }
  return TRUE;
}

/* The hook once; later calls do nothing. */
static void
run_exit_hook (RrunRelayExitHook *hook, gpointer user_data, int *pid1_fd)
{
  rrun_close_fdp (pid1_fd);
  if (*hook != NULL)
    (*hook) (user_data);
  *hook = NULL;
}

gboolean
rrun_relay_run (RrunContainerProcess *proc, int sigfd, RrunRelayExitHook on_exit,
                gpointer user_data, int *out_status, GError **error)
{
  gboolean stdin_open = proc->pty_master >= 0;
  gboolean master_open = proc->pty_master >= 0;
  int status = 0;
  gboolean exited = FALSE;
  /* PID 1 is the holder's child, not ours: its exit is seen on a pidfd. Without one (it
     is gone already, or no pidfds) the hook runs now or when the holder exits. */
  int pid1_fd = -1;

  if (on_exit != NULL && proc->pid1 > 0)
    {
      pid1_fd = (int) syscall (SYS_pidfd_open, proc->pid1, 0);
      if (pid1_fd < 0 && errno == ESRCH)
        run_exit_hook (&on_exit, user_data, &pid1_fd);
    }
  if (proc->pty_master >= 0)
    fcntl (proc->pty_master, F_SETFL, fcntl (proc->pty_master, F_GETFL) | O_NONBLOCK);

  gint64 deadline = proc->timeout_s > 0
                       ? g_get_monotonic_time () + (gint64) proc->timeout_s * G_USEC_PER_SEC
                       : 0;

  while (!exited || master_open)
    {
      int wait_ms = exited ? 0 : -1;
      struct pollfd fds[4];
      int n = 0, i_sig, i_stdin = -1, i_master = -1, i_pid1 = -1;

      fds[n] = (struct pollfd){ sigfd, POLLIN, 0 };
      i_sig = n++;
      if (pid1_fd >= 0)
        {
          fds[n] = (struct pollfd){ pid1_fd, POLLIN, 0 };
          i_pid1 = n++;
        }
      if (stdin_open && !exited)
        {
          fds[n] = (struct pollfd){ STDIN_FILENO, POLLIN, 0 };
          i_stdin = n++;
        }
      if (master_open)
        {
          fds[n] = (struct pollfd){ proc->pty_master, POLLIN, 0 };
          i_master = n++;
        }
      /* Once the command is gone, only drain what the pty still holds. */
      if (!exited && deadline > 0 && !proc->timed_out)
        {
          gint64 left = deadline - g_get_monotonic_time ();

          if (left <= 0)
            {
              /* --timeout: kill, as podman's conmon does; the holder's exit ends the loop */
              proc->timed_out = TRUE;
              if (proc->pid1 > 0)
                kill (proc->pid1, SIGKILL);
            }
          else
            wait_ms = (int) MIN (left / 1000 + 1, G_MAXINT);
        }
      if (poll (fds, (nfds_t) n, wait_ms) < 0)
        {
          if (errno == EINTR)
            continue;
          return rrun_throw_errno (error, errno, "poll");
        }
      if (exited && !(i_master >= 0 && (fds[i_master].revents & (POLLIN | POLLHUP))))
        break;
      if (i_pid1 >= 0 && (fds[i_pid1].revents & (POLLIN | POLLHUP | POLLERR)))
        run_exit_hook (&on_exit, user_data, &pid1_fd);
      if (fds[i_sig].revents & POLLIN)
        {
          struct signalfd_siginfo si;

          if (read (sigfd, &si, sizeof si) == (ssize_t) sizeof si)
            {
              if (si.ssi_signo == SIGCHLD)
                {
                  pid_t p = waitpid (proc->holder, &status, WNOHANG);
                  if (p == proc->holder)
                    {
                      exited = TRUE;
                      proc->holder = -1;
                    }
                }
              else if (si.ssi_signo == SIGWINCH && proc->pty_master >= 0)
                rrun_tty_copy_winsize (STDIN_FILENO, proc->pty_master);
              else if (si.ssi_signo == SIGHUP && proc->pty_master >= 0)
                {
                  /* Our terminal hung up: hang up the container's too. Closing the
                     master is what a terminal going away does; the shell then reads EOF
                     and its session gets SIGHUP, which PID 1 alone would ignore. */
                  if (proc->pid1 > 0)
                    kill (proc->pid1, SIGHUP);
                  rrun_close_fdp (&proc->pty_master);
                  master_open = FALSE;
                  stdin_open = FALSE;
                }
              else if (proc->pid1 > 0 && !proc->no_sig_proxy)
                kill (proc->pid1, (int) si.ssi_signo);
            }
        }
      if (i_stdin >= 0 && (fds[i_stdin].revents & (POLLIN | POLLHUP | POLLERR)))
        if (!pump (STDIN_FILENO, proc->pty_master))
          stdin_open = FALSE;
      if (i_master >= 0 && (fds[i_master].revents & (POLLIN | POLLHUP | POLLERR)))
        if (!pump (proc->pty_master, STDOUT_FILENO))
          master_open = FALSE;
    }
  run_exit_hook (&on_exit, user_data, &pid1_fd);
  if (proc->timed_out)
    *out_status = 255;
  else if (WIFEXITED (status))
    *out_status = WEXITSTATUS (status);
  else if (WIFSIGNALED (status))
    *out_status = 128 + WTERMSIG (status);
  else
    *out_status = RRUN_EXIT_FAILED;
  return TRUE;
}
