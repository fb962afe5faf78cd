#include "container/namespaces.h"
#include "container/hooks.h"
#include "child/fd-pass.h"
#include "userns/exec.h"
#include "userns/keeper.h"
#include "child/container.h"
#include "error.h"
#include "log.h"
#include "util/fd.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

void
rrun_container_process_init (RrunContainerProcess *proc)
{
  /* Every member: a new one (timed_out, no_sig_proxy, ...) is never stack garbage. */
  *proc = (RrunContainerProcess){ .holder = -1, .pid1 = -1, .pty_master = -1,
                                  .fuse_stderr_fd = -1 };
}

void
rrun_container_process_destroy (RrunContainerProcess *proc)
{
  if (proc->holder > 0)
    {
      /* The holder's death takes PID 1 (PDEATHSIG) and with it the PID namespace, and
         fuse-overlayfs (PDEATHSIG): nothing is left behind. */
      kill (proc->holder, SIGKILL);
      while (waitpid (proc->holder, NULL, 0) < 0 && errno == EINTR)
        ;
      proc->holder = -1;
    }
  rrun_close_fdp (&proc->pty_master);
  rrun_close_fdp (&proc->fuse_stderr_fd);
}

static const char *
step_verb (int step)
{
  switch (step)
    {
    case RRUN_STEP_SETID: return "become";
    case RRUN_STEP_UNSHARE: return "create";
    case RRUN_STEP_MOUNT_PRIVATE: return "make private";
    case RRUN_STEP_OVERLAY: return "mount kernel overlay on";
    case RRUN_STEP_FUSE_START: return "start";
    case RRUN_STEP_FORK: return "start";
    case RRUN_STEP_MOUNT: return "mount";
    case RRUN_STEP_MKDIR: return "create";
    case RRUN_STEP_PIVOT: return "change root to";
    case RRUN_STEP_HOSTNAME: return "set hostname";
    case RRUN_STEP_LOOPBACK: return "bring up";
    case RRUN_STEP_TTY: return "set up the terminal at";
    case RRUN_STEP_WORKDIR: return "change to working directory";
    case RRUN_STEP_CAPS: return "set";
    case RRUN_STEP_USER: return "switch to the";
    case RRUN_STEP_SECCOMP: return "install the seccomp";
    case RRUN_STEP_EXEC: return "execute";
    case RRUN_STEP_JOIN_USERNS: return "enter the user namespace of";
    case RRUN_STEP_JOIN_NETNS: return "join the network namespace of";
    case RRUN_STEP_JOIN_PIDNS: return "join the PID namespace of";
    case RRUN_STEP_JOIN_IPCNS: return "join the IPC namespace of";
    case RRUN_STEP_PRCTL: return "set the process attribute";
    case RRUN_STEP_SETSID: return "start a session for";
    case RRUN_STEP_REDIRECT: return "redirect";
    case RRUN_STEP_SIGMASK: return "unblock the signals of";
    case RRUN_STEP_READ: return "read";
    case RRUN_STEP_INIT: return "start the init process";
    case RRUN_STEP_SETTING: return "apply";
    default: return "set up";
    }
}

void
rrun_child_report_to_error (const RrunChildReport *r, const char *fuse_stderr, GError **error)
{
  int e = r->errsv;
  const char *subject = r->subject;

  switch (r->step)
    {
    case RRUN_STEP_EXEC:
      if (e == ENOENT && strchr (subject, '/') == NULL)
        rrun_throw (error, RRUN_ERROR_EXEC_NOT_FOUND,
                    "cannot execute \"%s\": executable file not found in $PATH", subject);
      else if (e == ENOENT)
        rrun_throw (error, RRUN_ERROR_EXEC_NOT_FOUND, "cannot execute \"%s\": %s", subject,
                    g_strerror (e));
      else
        rrun_throw (error, RRUN_ERROR_EXEC_FAILED, "cannot execute \"%s\": %s", subject,
                    g_strerror (e));
      return;
    case RRUN_STEP_HOOK:
    case RRUN_STEP_HOOK_STATUS:
    case RRUN_STEP_HOOK_TIMEOUT:
      {
        const char *sp = strchr (subject, ' ');
        g_autofree char *phase = g_strndup (subject, sp ? (gsize) (sp - subject) : 0);

        rrun_hooks_failure_error (phase, sp ? sp + 1 : subject, r->step, e, error);
        return;
      }
    case RRUN_STEP_SQUASH_MOUNT:
    case RRUN_STEP_FUSE_MOUNT:
      {
        const char *prog = r->step == RRUN_STEP_SQUASH_MOUNT ? "squashfuse" : "fuse-overlayfs";
        g_autofree char *text = g_strstrip (g_strdup (fuse_stderr ? fuse_stderr : ""));
        char *nl = strrchr (text, '\n');
        const char *last = nl ? nl + 1 : text;

        if (e == ETIMEDOUT)
          rrun_throw (error, RRUN_ERROR_CHILD_SETUP,
                      "cannot mount the image with %s: no mount after 10 s", prog);
        else
          rrun_throw (error, RRUN_ERROR_CHILD_SETUP,
                      "cannot mount the image with %s: %s", prog,
                      *last ? last : "it exited without a message");
        if (strstr (text, "/dev/fuse") != NULL)
          rrun_add_hint (error, "/dev/fuse must be usable by you; an administrator can run: "
                                "sudo subuid-setup.sh --fix");
        else if (r->step == RRUN_STEP_FUSE_MOUNT)
          rrun_add_hint (error, "try --storage-driver overlay, or run with --log-level=debug");
        else
          rrun_add_hint (error, "check the file with: unsquashfs -s FILE");
        return;
      }
    default:
      break;
    }
  rrun_throw (error, RRUN_ERROR_CHILD_SETUP, "cannot %s \"%s\": %s", step_verb (r->step),
              subject, g_strerror (e));
  if (r->step == RRUN_STEP_UNSHARE && e == ENOSPC)
    rrun_add_hint (error, "a namespace limit is exhausted: see /proc/sys/user/max_*_namespaces");
  else if (r->step == RRUN_STEP_MOUNT && e == ENOSPC)
    rrun_add_hint (error, "the mount limit is reached: an administrator can raise fs.mount-max");
  else if (r->step == RRUN_STEP_MOUNT && e == EPERM && g_str_has_prefix (subject, "/proc"))
    rrun_add_hint (error, "the host's /proc has hidden entries (as inside another container), "
                          "so the kernel refuses a new one; run rrun on the host");
  else if (r->step == RRUN_STEP_SETTING && (e == EPERM || e == EACCES))
    rrun_add_hint (error, "a rootless container may lower its limits and priorities but not "
                          "raise them above the host's");
  else if (r->step == RRUN_STEP_OVERLAY)
    rrun_add_hint (error, "use --storage-driver fuse-overlayfs");
  else if (r->step == RRUN_STEP_WORKDIR)
    rrun_add_hint (error, "pass a directory with -w, or none to use the image's");
  else if (r->step == RRUN_STEP_INIT && (e == EACCES || e == EPERM))
    rrun_add_hint (error, "the kernel may refuse to execute memfds (sysctl vm.memfd_noexec); "
                          "run without --init");
}

/* Receive one message: a report record, or a one-byte message carrying a pty fd. */
static gssize
recv_message (int fd, RrunChildReport *r, int *out_fd, int flags)
{
  return rrun_fd_recv (fd, r, sizeof *r, out_fd, flags);
}

static char *
read_memfd (int fd)
{
  g_autofree char *path = NULL;
  char *text = NULL;

  if (fd < 0)
    return NULL;
  path = g_strdup_printf ("/proc/self/fd/%d", fd);
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return text;
}

static void
print_child_warning (const RrunChildReport *r)
{
  if (g_strcmp0 (r->subject, "kernel overlay") == 0)
    rrun_warning ("cannot use kernel overlay: %s; using fuse-overlayfs", g_strerror (r->errsv));
  else
    rrun_warning ("%s: %s", r->subject, g_strerror (r->errsv));
}

/* A setup process that failed wrote its report before it exited, but a failure the host
   side sees first (the network helper finds PID 1 gone, the "go" byte meets a closed
   socket) would hide it. Read what is queued, without waiting: when a setup process
   reported an error, that error replaces *error, as the cause. */
static void
prefer_queued_report (int host_fd, RrunContainerProcess *proc, GError **error)
{
  for (;;)
    {
      RrunChildReport r;
      int fd = -1;
      gssize n = recv_message (host_fd, &r, &fd, MSG_DONTWAIT);

      if (n < 0 && errno == ECONNRESET)
        continue; /* reported once, before the queued records: see the loop below */
      if (n <= 0)
        return;
      if (fd >= 0)
        {
          close (fd);
          continue;
        }
      if (n != (gssize) sizeof r || r.step == RRUN_STEP_PID || r.step == RRUN_STEP_NAMESPACES
          || r.step == RRUN_STEP_WARNING)
        continue;
      {
        g_autofree char *fuse_text = read_memfd (proc->fuse_stderr_fd);

        r.subject[sizeof r.subject - 1] = '\0';
        g_clear_error (error);
        rrun_child_report_to_error (&r, fuse_text, error);
        return;
      }
    }
}

gboolean
rrun_namespaces_start (RrunChildPlan *plan, const RrunIdMap *map, RrunEarlyUserns *early,
                       const RrunStartHooks *hooks, RrunContainerProcess *proc, GError **error)
{
  int sv[2];
  rrun_autofd int host_fd = -1;
  gboolean went = FALSE, failed = FALSE, reset_seen = FALSE;
  int go_errno = 0;
  pid_t pid;

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return rrun_throw_errno (error, errno, "cannot create the setup channel");
  host_fd = sv[0];
  plan->report_fd = sv[1];

  /* Joining another network namespace means entering its owner, an existing user namespace,
     as does an early one (setns in the child, which is single-threaded as setns requires);
     else a new one. */
  pid = (pid_t) syscall (SYS_clone, (plan->join_userns_fd >= 0 ? 0 : CLONE_NEWUSER) | SIGCHLD,
                         NULL, NULL, NULL, NULL);
  if (pid == 0)
    {
      close (host_fd);
      rrun_container_child_main (plan);
    }
  if (pid < 0)
    {
      int errsv = errno;
      close (sv[1]);
      return rrun_userns_clone_error (error, errsv);
    }
  close (sv[1]);
  plan->report_fd = -1;
  proc->holder = pid;
  rrun_debug_phase ("holder cloned");

  if ((early != NULL && !rrun_early_userns_finish (early, error))
      || (early == NULL && !plan->join_netns && !plan->join_mapped
          && !rrun_idmap_write_maps (map, pid, error))
      || (hooks && hooks->after_clone && !hooks->after_clone (pid, hooks->user_data, error)))
    {
      rrun_container_process_destroy (proc);
      return FALSE;
    }
  rrun_debug_phase ("id maps written");
  /* The holder may have failed already (it mounts before the maps exist): then this send
     fails, and its report, read below, says why. */
  (void) send (host_fd, "m", 1, MSG_NOSIGNAL);

  /* Records until EOF: EOF means the last setup process exec'd the command. */
  for (;;)
    {
      RrunChildReport r;
      int fd = -1;
      gssize n = recv_message (host_fd, &r, &fd, 0);

      if (n == 0)
        break;
      /* A setup process that exited with our "m" or "g" unread makes the kernel return
         ECONNRESET once (AF_UNIX sets it on the peer), before the records still queued,
         its report among them: read on. */
      if (n < 0 && errno == ECONNRESET && !reset_seen)
        {
          reset_seen = TRUE;
          continue;
        }
      if (n < 0)
        {
          rrun_throw_errno (error, errno, "cannot read the container's setup report");
          failed = TRUE;
          break;
        }
      if (fd >= 0)
        {
          rrun_close_fdp (&proc->pty_master);
          proc->pty_master = fd;
        }
      else if (n != (gssize) sizeof r)
        {
          rrun_throw (error, RRUN_ERROR_CORRUPT, "short setup report (%zd bytes)", n);
          failed = TRUE;
          break;
        }
      else if (r.step == RRUN_STEP_PID)
        {
          proc->pid1 = r.errsv;
          if (hooks && hooks->pid1_created
              && !hooks->pid1_created (proc->pid1, hooks->user_data, error))
            {
              prefer_queued_report (host_fd, proc, error);
              failed = TRUE;
              break;
            }
          /* PID 1 waits before its createContainer hooks (child/mounts.c). */
          if (plan->n_create_container_hooks > 0)
            (void) send (host_fd, "h", 1, MSG_NOSIGNAL);
        }
      else if (r.step == RRUN_STEP_NAMESPACES)
        {
          if (hooks && hooks->namespaces_ready)
            hooks->namespaces_ready (proc->holder, hooks->user_data);
        }
      else if (r.step == RRUN_STEP_WARNING)
        {
          r.subject[sizeof r.subject - 1] = '\0';
          if (strcmp (r.subject, "kernel overlay") == 0)
            proc->fuse_fallback = TRUE;
          print_child_warning (&r);
        }
      else
        {
          g_autofree char *fuse_text = read_memfd (proc->fuse_stderr_fd);
          r.subject[sizeof r.subject - 1] = '\0';
          rrun_child_report_to_error (&r, fuse_text, error);
          failed = TRUE;
          break;
        }
      if (!went && proc->pid1 > 0 && (!plan->tty || proc->pty_master >= 0))
        {
          rrun_debug_phase ("container PID 1 started");
          if (hooks && hooks->before_exec
              && !hooks->before_exec (proc->pid1, proc->pty_master, hooks->user_data, error))
            {
              prefer_queued_report (host_fd, proc, error);
              failed = TRUE;
              break;
            }
          /* EPIPE: every setup process is gone, so whatever failed has reported why;
             the loop reads it, up to EOF. */
          if (send (host_fd, "g", 1, MSG_NOSIGNAL) != 1)
            go_errno = errno;
          went = TRUE;
        }
    }
  if (!failed && (!went || go_errno != 0))
    {
      /* EOF before the command could run: the holder died without a report. */
      int status = 0;
      waitpid (proc->holder, &status, 0);
      proc->holder = -1;
      return rrun_throw (error, RRUN_ERROR_CHILD_SETUP,
                         "cannot start the container: its setup process exited (status %d)",
                         WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status));
    }
  if (failed)
    {
      rrun_container_process_destroy (proc);
      return FALSE;
    }
  return TRUE;
}
