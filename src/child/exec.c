/* Runs between clone and exec: only syscalls and async-signal-safe functions. */
#include "child/exec.h"
#include "child/sys.h"
#include "child/report.h"
#include "child/mounts.h"
#include "child/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO ('T', 0x41)
#endif

static void
reset_signals (const RrunChildPlan *p)
{
  sigset_t none;
  struct sigaction sa;

  memset (&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++)
    sigaction (s, &sa, NULL); /* fails harmlessly for SIGKILL, SIGSTOP, RT internals */
  sigemptyset (&none);
  if (sigprocmask (SIG_SETMASK, &none, NULL) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_SIGMASK, p->argv[0]);
}

/* Allocate the pty in the container's own devpts, hand the master to the host, and make
   the other end this process's controlling terminal and stdio. */
static void
setup_tty (const RrunChildPlan *p)
{
  int master, slave, unlock = 0;

  master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_TTY, "/dev/ptmx");
  if (ioctl (master, TIOCSPTLCK, &unlock) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_TTY, "/dev/ptmx");
  slave = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_TTY, "/dev/pts");
  if (rrun_child_send_fd (p->report_fd, master) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_TTY, "send the terminal");
  close (master);
  if (ioctl (slave, TIOCSCTTY, 0) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_TTY, "controlling terminal");
  if (dup2 (slave, 0) < 0 || dup2 (slave, 1) < 0 || dup2 (slave, 2) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_TTY, "stdio");
  if (slave > 2)
    close (slave);
}

/* --ulimit, --umask, --oom-score-adj, --personality: while still root of the user
   namespace (the process's /proc files are its own). */
static void
apply_settings (const RrunChildPlan *p)
{
  for (size_t i = 0; i < p->n_rlimits; i++)
    {
      struct rlimit lim = { (rlim_t) p->rlimits[i].soft, (rlim_t) p->rlimits[i].hard };

      if (setrlimit (p->rlimits[i].resource, &lim) < 0)
        rrun_child_fail (p->report_fd, RRUN_STEP_SETTING, p->rlimits[i].what);
    }
  if (p->oom_score_adj != NULL)
    {
      int fd = open ("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
      size_t len = strlen (p->oom_score_adj);

      if (fd < 0 || write (fd, p->oom_score_adj, len) != (ssize_t) len)
        rrun_child_fail (p->report_fd, RRUN_STEP_SETTING, "--oom-score-adj");
      close (fd);
    }
  if (p->set_personality && personality (p->personality) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_SETTING, "--personality");
  if (p->set_umask)
    umask ((mode_t) p->umask);
}

static void
exec_command (const RrunChildPlan *p)
{
  const char *cmd = p->argv[0];
  const char *dir = p->path;
  char buf[4096];
  int saw_eacces = 0;

  if (strchr (cmd, '/') != NULL)
    {
      execve (cmd, p->argv, p->envp);
      rrun_child_fail (p->report_fd, RRUN_STEP_EXEC, cmd);
    }
  /* execvp allocates; walk PATH into a stack buffer instead. Entries the host side found
     without the command in any layer fail with ENOENT here too: skip them. */
  for (unsigned i = 0, skip; dir != NULL && *dir != '\0'; i++)
    {
      const char *end = strchr (dir, ':');
      size_t len = end ? (size_t) (end - dir) : strlen (dir);
      size_t clen = strlen (cmd);

      skip = i < 64 && (p->path_absent >> i) & 1;
      if (!skip && len + 1 + clen + 1 <= sizeof buf)
        {
          memcpy (buf, len ? dir : ".", len ? len : 1);
          if (!len)
            len = 1;
          buf[len] = '/';
          memcpy (buf + len + 1, cmd, clen + 1);
          execve (buf, p->argv, p->envp);
          if (errno == EACCES)
            saw_eacces = 1;
          else if (errno != ENOENT && errno != ENOTDIR)
            rrun_child_fail (p->report_fd, RRUN_STEP_EXEC, cmd);
        }
      dir = end ? end + 1 : NULL;
    }
  rrun_child_fail_errno (p->report_fd, RRUN_STEP_EXEC, saw_eacces ? EACCES : ENOENT, cmd);
}

void
rrun_process_exec_child (const RrunChildPlan *p)
{
  /* Out of the caller's session: terminal signals reach the container only through
     rrun's forwarding (or its own pty), as with docker. */
  if (setsid () < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_SETSID, p->argv[0]);
  if (p->tty)
    setup_tty (p);
  else if (!p->keep_stdin)
    {
      int null = open ("/dev/null", O_RDONLY | O_CLOEXEC);
      if (null < 0 || dup2 (null, 0) < 0)
        rrun_child_fail (p->report_fd, RRUN_STEP_TTY, "/dev/null");
      close (null);
    }

  /* The host side starts networking and sets the window size, then says go. */
  if (rrun_child_wait_byte (p->report_fd) < 0)
    _exit (RRUN_EXIT_SETUP_FAILED);

  if (p->workdir != NULL)
    {
      if (p->create_workdir && rrun_rootfs_mkdir_p_child (p->workdir, 0755) < 0
          && errno != ENOTDIR)
        rrun_child_fail (p->report_fd, RRUN_STEP_WORKDIR, p->workdir);
      if (chdir (p->workdir) < 0)
        rrun_child_fail (p->report_fd, RRUN_STEP_WORKDIR, p->workdir);
    }

  /* Nothing of rrun's reaches the command but stdio, the fds --preserve-fds names (the
     caller's, open before rrun opened any of its own) and, until exec, the report
     socket. */
  for (int fd = 3; fd < 3 + p->preserve_fds; fd++)
    fcntl (fd, F_SETFD, 0);
  if (syscall (SYS_close_range, 3 + p->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    {
      for (int fd = 3 + p->preserve_fds; fd < 1024; fd++)
        if (fd != p->report_fd)
          fcntl (fd, F_SETFD, FD_CLOEXEC);
    }
  /* OCI startContainer hooks: in the container, as its root, before the command's own
     settings, user and capabilities apply. */
  rrun_child_run_hooks (p, p->start_container_hooks, p->n_start_container_hooks);
  apply_settings (p);

  for (size_t i = 0; i < p->n_drop_bounding; i++)
    if (prctl (PR_CAPBSET_DROP, p->drop_bounding[i], 0, 0, 0) < 0 && errno != EINVAL)
      rrun_child_fail (p->report_fd, RRUN_STEP_CAPS, "bounding set");
  if (p->set_groups && rrun_child_setgroups (p->n_groups, p->groups) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_USER, "supplementary groups");
  if (rrun_child_setresgid (p->gid, p->gid, p->gid) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_USER, "group");
  if (rrun_child_setresuid (p->uid, p->uid, p->uid) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_USER, "user");
  /* For root the kernel keeps permitted = inheritable | bounding across exec; setting the
     sets here makes them exact. Other users lose everything at exec, as with docker. */
  if (p->uid == 0 && p->caps != NULL && cap_set_proc (p->caps) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_CAPS, "capabilities");
  if (p->no_new_privs && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_CAPS, "no_new_privs");
  if (p->seccomp_bpf != NULL)
    {
      struct sock_fprog prog = { (unsigned short) p->seccomp_len,
                                 (struct sock_filter *) p->seccomp_bpf };
      if (prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
        rrun_child_fail (p->report_fd, RRUN_STEP_SECCOMP, "filter");
    }
  reset_signals (p);
  exec_command (p);
  _exit (RRUN_EXIT_SETUP_FAILED);
}

/* PID 1 becomes rrun-init (helpers/init/rrun-init.c), exec'd from the sealed memfd the
   host side made (process/init-program.c): afterwards PID 1 holds none of rrun's memory,
   fds or environment, and its exe is a file nobody can write. */
__attribute__ ((noreturn)) static void
exec_init (const RrunChildPlan *p, pid_t command)
{
  char pid_text[16], digits[16];
  char *argv[] = { (char *) "rrun-init", pid_text, NULL };
  size_t n = 0, i = 0;
  int null;

  do
    digits[n++] = (char) ('0' + command % 10);
  while ((command /= 10) > 0 && n < sizeof digits);
  while (n > 0)
    pid_text[i++] = digits[--n];
  pid_text[i] = '\0';

  /* Not even the caller's terminal or pipes: the command has its own copies. */
  null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0 || dup2 (null, 0) < 0 || dup2 (null, 1) < 0 || dup2 (null, 2) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_INIT, "/dev/null");
  if (null > 2)
    close (null);
  /* Everything else (the report socket and the memfd included) goes at exec. */
  if (syscall (SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    {
      for (int fd = 3; fd < 1024; fd++)
        fcntl (fd, F_SETFD, FD_CLOEXEC);
    }
  syscall (SYS_execveat, p->init_fd, "", argv, p->envp, AT_EMPTY_PATH);
  rrun_child_fail (p->report_fd, RRUN_STEP_INIT, "rrun-init");
}

void
rrun_process_init_child (const RrunChildPlan *p)
{
  sigset_t all;
  pid_t child;

  /* Blocked signals are not dropped for PID 1 the way unhandled ones are, so blocking
     and sigwaitinfo receive everything the host forwards. The mask and the pending
     signals (a SIGCHLD included) carry over into rrun-init. */
  sigfillset (&all);
  sigprocmask (SIG_BLOCK, &all, NULL);
  child = (pid_t) syscall (SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
  if (child < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_FORK, "init");
  if (child == 0)
    rrun_process_exec_child (p);
  exec_init (p, child);
}
