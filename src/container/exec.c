/* rrun exec: a new process in a running container. It joins the namespaces of the
   container's PID 1 through a pidfd (checked against the record's start time, so a reused
   PID is never joined) and gets what the container's command got: capabilities, the
   bounding set, no_new_privs, seccomp, the environment, user and working directory
   (these three overridable). As on the start path, the process that joins is not
   dumpable (a container root process cannot open its /proc/PID/exe, which is rrun, the
   user's binary) and keeps none of rrun's fds; its child execs the command through the
   same child code as PID 1 (child/exec.c), with the same error reports. */
#include "container/exec.h"
#include "squashfs/squashfs.h"
#include "child/exec-join.h"
#include "child/exec.h"
#include "child/fd-pass.h"
#include "child/plan.h"
#include "container/namespaces.h"
#include "container/pid1.h"
#include "device/device.h"
#include "error.h"
#include "log.h"
#include "process/caps.h"
#include "process/command.h"
#include "process/relay.h"
#include "process/tty.h"
#include "process/seccomp.h"
#include "storage/store.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

void
rrun_exec_options_clear (RrunExecOptions *o)
{
  g_strfreev (o->argv);
  g_strfreev (o->env);
  g_free (o->user);
  g_free (o->workdir);
  g_strfreev (o->env_files);
}

/* A file of the container as its PID 1 sees it, or NULL. */
static char *
container_file (pid_t pid, const char *rel)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/root/%s", (int) pid, rel);
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return text;
}

/* The namespaces of pid that are not ours: the ones to join. */
static int
namespaces_to_join (pid_t pid)
{
  static const struct
  {
    const char *name;
    int flag;
  } kinds[] = {
    { "user", CLONE_NEWUSER }, { "mnt", CLONE_NEWNS },   { "pid", CLONE_NEWPID },
    { "uts", CLONE_NEWUTS },   { "ipc", CLONE_NEWIPC },  { "net", CLONE_NEWNET },
    { "cgroup", CLONE_NEWCGROUP },
  };
  int flags = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *mine = g_strdup_printf ("/proc/self/ns/%s", kinds[i].name);
      g_autofree char *theirs = g_strdup_printf ("/proc/%d/ns/%s", (int) pid, kinds[i].name);
      struct stat a, b;

      if (stat (theirs, &b) < 0)
        continue;
      if (stat (mine, &a) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
        flags |= kinds[i].flag;
    }
  return flags;
}

gboolean
rrun_container_exec (const RrunConfig *config, const RrunState *s,
                     const RrunContainerSpec *spec, const RrunExecOptions *o, int *out_status,
                     GError **error)
{
  g_autoptr(RrunStore) store = NULL;
  g_autoptr(RrunImage) image = NULL;
  g_autoptr(RrunUser) user = NULL;
  g_autoptr(RrunCaps) caps = NULL;
  g_autoptr(GBytes) seccomp = NULL;
  g_auto(GStrv) envp = NULL;
  g_auto(GStrv) host_env = g_get_environ ();
  g_autoptr(GPtrArray) env = g_ptr_array_new ();
  g_autoptr(GPtrArray) env_files = g_ptr_array_new ();
  g_autofree char *passwd = NULL, *group = NULL, *hostname = NULL, *cgroup_procs = NULL;
  rrun_autofd int pidfd = -1;
  rrun_autofd int host_fd = -1;
  RrunChildPlan plan = { 0 };
  gboolean privileged = spec->privileged || o->privileged;
  gboolean single = g_strcmp0 (s->userns, "single") == 0;
  RrunRootEmulation emulate_root;
  g_autofree char *seccomp_cache = NULL;
  const char *workdir;
  int sv[2], ns_flags, status = 0, sigfd = -1, master = -1, saved_out = -1, saved_err = -1;
  gboolean failed = FALSE, ok = FALSE, signals_blocked = FALSE;
  sigset_t old_mask;
  RrunTty tty = { 0 };
  pid_t pid;

  if (!rrun_store_open (config, &store, error)
      || !rrun_squashfs_find_image (store, s->image_id, &image, error))
    return FALSE;
  if (!rrun_pid1_open (s, &pidfd, error))
    return FALSE;
  passwd = container_file (s->pid, "etc/passwd");
  group = container_file (s->pid, "etc/group");
  hostname = container_file (s->pid, "etc/hostname");
  if (hostname != NULL)
    g_strstrip (hostname);
  if (!rrun_user_resolve (o->user ? o->user : spec->user ? spec->user : image->config->user,
                          passwd, group, &user, error))
    return FALSE;
  /* The container's -e first, then exec's: a later one of a name wins. */
  for (guint i = 0; spec->env && spec->env[i]; i++)
    g_ptr_array_add (env, spec->env[i]);
  for (guint i = 0; o->env && o->env[i]; i++)
    g_ptr_array_add (env, o->env[i]);
  g_ptr_array_add (env, NULL);
  /* The container's --env-file, then exec's. */
  for (guint i = 0; spec->env_files && spec->env_files[i]; i++)
    g_ptr_array_add (env_files, spec->env_files[i]);
  for (guint i = 0; o->env_files && o->env_files[i]; i++)
    g_ptr_array_add (env_files, o->env_files[i]);
  g_ptr_array_add (env_files, NULL);
  if (!rrun_spec_build_env (image->config->env, (char **) env_files->pdata, (char **) env->pdata,
                            host_env, hostname ? hostname : "", user->home, o->tty, &envp,
                            error))
    return FALSE;
  /* --device and --gpus: their variables (PATH and LD_LIBRARY_PATH to the driver's tools
     and libraries, CDI's env) as the container's command got them. Resolved again, quietly:
     the binds are in place already. */
  if (spec->devices != NULL || spec->gpus != NULL)
    {
      g_autoptr(RrunDeviceEdits) edits = NULL;

      if (rrun_device_resolve (config, spec->devices, spec->gpus, NULL, &edits, NULL))
        rrun_device_edits_apply_env (edits, &envp);
    }
  if (!rrun_caps_compute (spec->cap_add, spec->cap_drop, privileged, &caps, error))
    return FALSE;
  emulate_root = rrun_seccomp_root_emulation (spec->root_emulation, single);
  /* The container's filter (its profile, or unconfined), for the exec's capabilities. */
  seccomp_cache = g_build_filename (config->run_root, "seccomp", NULL);
  if (!rrun_seccomp_build (spec->seccomp, !privileged && !spec->seccomp_unconfined,
                          caps->set, emulate_root, seccomp_cache, &seccomp, error))
    return FALSE;
  workdir = o->workdir ? o->workdir
            : spec->workdir ? spec->workdir
            : image->config->working_dir && *image->config->working_dir ? image->config->working_dir
                                                                        : "/";
  if (workdir[0] != '/')
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid working directory \"%s\": it must be absolute", workdir);
  ns_flags = namespaces_to_join (s->pid);
  if (s->cgroup != NULL)
    cgroup_procs = g_build_filename (s->cgroup, "cgroup.procs", NULL);

  plan.keep_stdin = o->interactive;
  plan.tty = o->tty;
  plan.workdir = workdir;
  plan.argv = o->argv;
  plan.envp = envp;
  plan.path = rrun_spec_env_get (envp, "PATH");
  plan.uid = user->uid;
  plan.gid = user->gid;
  plan.groups = (const gid_t *) user->groups->data;
  plan.n_groups = user->groups->len;
  plan.set_groups = !single;
  plan.caps = caps->caps;
  plan.drop_bounding = (const int *) caps->drop->data;
  plan.n_drop_bounding = caps->drop->len;
  plan.no_new_privs = !privileged;
  if (seccomp != NULL)
    {
      gsize len;
      plan.seccomp_bpf = g_bytes_get_data (seccomp, &len);
      plan.seccomp_len = len / 8; /* sizeof (struct sock_filter) */
    }
  plan.join_userns_fd = plan.join_netns_fd = plan.join_pidns_fd = plan.join_ipcns_fd = -1;
  for (int i = 0; i < 4; i++)
    plan.close_fds[i] = -1;

  if (o->tty)
    {
      /* With a terminal rrun relays it, and the window size and signals with it: the
         relay's signals are blocked before the fork, so none is lost (the command's
         process unblocks them before exec). */
      sigset_t fwd;

      rrun_relay_signal_set (&fwd);
      sigprocmask (SIG_BLOCK, &fwd, &old_mask);
      signals_blocked = TRUE;
      sigfd = signalfd (-1, &fwd, SFD_CLOEXEC);
      if (sigfd < 0)
        {
          rrun_throw_errno (error, errno, "cannot create a signalfd");
          goto out;
        }
    }
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    {
      rrun_throw_errno (error, errno, "cannot create the exec channel");
      goto out;
    }
  host_fd = sv[0];
  plan.report_fd = sv[1];
  fflush (stdout);
  fflush (stderr);
  if (o->detach)
    {
      /* -d: the command's stdout and stderr are /dev/null (its stdin is, without -i);
         rrun's own come back after the clone, for its messages. */
      int devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);

      saved_out = fcntl (STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
      saved_err = fcntl (STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
      if (devnull < 0 || saved_out < 0 || saved_err < 0 || dup2 (devnull, STDOUT_FILENO) < 0
          || dup2 (devnull, STDERR_FILENO) < 0)
        {
          rrun_throw_errno (error, errno, "cannot redirect the command's output");
          if (devnull >= 0)
            close (devnull);
          goto out;
        }
      close (devnull);
    }
  pid = (pid_t) syscall (SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid == 0)
    {
      close (host_fd);
      rrun_exec_join_child (pidfd, ns_flags, cgroup_procs, &plan);
    }
  if (o->detach)
    {
      dup2 (saved_out, STDOUT_FILENO);
      dup2 (saved_err, STDERR_FILENO);
      rrun_close_fdp (&saved_out);
      rrun_close_fdp (&saved_err);
    }
  close (sv[1]);
  if (pid < 0)
    {
      rrun_throw_errno (error, errno, "cannot fork");
      goto out;
    }
  /* Go at once: there is no network or terminal to set up first. */
  (void) send (host_fd, "g", 1, MSG_NOSIGNAL);
  for (;;)
    {
      RrunChildReport r;
      int fd = -1;
      gssize n = rrun_fd_recv (host_fd, &r, sizeof r, &fd, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n == 0)
        break; /* the command was executed */
      if (fd >= 0)
        {
          /* The master of the terminal the command's process opened in the container's
             devpts. */
          rrun_close_fdp (&master);
          master = fd;
          continue;
        }
      if (n != (gssize) sizeof r)
        {
          rrun_throw (error, RRUN_ERROR_CORRUPT, "short exec report (%zd bytes)", n);
          failed = TRUE;
          break;
        }
      if (r.step == RRUN_STEP_WARNING)
        continue;
      r.subject[sizeof r.subject - 1] = '\0';
      rrun_child_report_to_error (&r, NULL, error);
      failed = TRUE;
      break;
    }
  if (!failed && o->tty)
    {
      RrunContainerProcess proc;

      rrun_container_process_init (&proc);
      proc.holder = pid;
      proc.pty_master = master;
      master = -1;
      rrun_tty_copy_winsize (STDIN_FILENO, proc.pty_master);
      /* Raw only now: an error before this point leaves the terminal as it was. */
      ok = rrun_tty_make_raw (&tty, STDIN_FILENO, error)
           && rrun_relay_run (&proc, sigfd, NULL, NULL, out_status, error);
      rrun_tty_restore (&tty);
      if (proc.holder > 0)
        {
          kill (proc.holder, SIGKILL);
          waitpid (proc.holder, NULL, 0);
        }
      rrun_close_fdp (&proc.pty_master);
      goto out;
    }
  if (!failed && o->detach)
    {
      /* Running: its joining process, no longer waited for, is reaped by whoever
         adopts it. */
      *out_status = 0;
      ok = TRUE;
      goto out;
    }
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!failed)
    {
      *out_status = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
      ok = TRUE;
    }
out:
  if (saved_out >= 0)
    {
      dup2 (saved_out, STDOUT_FILENO);
      dup2 (saved_err, STDERR_FILENO);
      rrun_close_fdp (&saved_out);
      rrun_close_fdp (&saved_err);
    }
  rrun_close_fdp (&master);
  rrun_close_fdp (&sigfd);
  if (signals_blocked)
    sigprocmask (SIG_SETMASK, &old_mask, NULL);
  return ok;
}
