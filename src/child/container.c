/* Runs between clone and exec: only syscalls and async-signal-safe functions. */
#include "child/container.h"
#include "child/sys.h"
#include "child/exec.h"
#include "child/report.h"
#include "child/mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

static pid_t
raw_fork (void)
{
  /* No glibc fork handlers: they may take locks another thread of rrun held. */
  return (pid_t) syscall (SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
}

/* --userns=nomap, the supervisor's side: "/proc/PID/name" as text, no printf. */
static void
proc_path (char *buf, size_t size, pid_t pid, const char *name)
{
  char num[24];
  size_t len;

  rrun_child_format_uint (num, sizeof num, (unsigned long) pid);

  rrun_child_concat (buf, size, "/proc/", num, "/");
  len = strlen (buf);
  rrun_child_concat (buf + len, size - len, name, NULL, NULL);
}

/* The supervisor stays in the outer namespace, whose root may write any map of its ids
   for a namespace nested in it. It waits for the container's process to unshare, writes
   the maps, and lets it go on. The paths are made before the container pivots its root
   away from the host's /proc (which moves the supervisor's root too). */
static int
write_all_at (int dirfd, const char *name, const char *text)
{
  int fd = openat (dirfd, name, O_WRONLY | O_CLOEXEC);
  ssize_t n;

  if (fd < 0)
    return -1;
  n = write (fd, text, strlen (text));
  close (fd);
  return n == (ssize_t) strlen (text) ? 0 : -1;
}

static void
write_inner_maps (const RrunChildPlan *p, pid_t container, int up, int down)
{
  char dir[48];
  char c;
  int dirfd;

  /* Hold /proc/PID across the pivot: a directory fd, names relative to it. */
  proc_path (dir, sizeof dir, container, "");
  dirfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_SYNC, dir);
  (void) !write (down, "o", 1); /* the container may pivot now */
  if (read (up, &c, 1) != 1)
    {
      close (dirfd);
      return; /* it failed, and reports why itself */
    }
  if (write_all_at (dirfd, "uid_map", p->inner_uid_map) < 0
      || write_all_at (dirfd, "gid_map", p->inner_gid_map) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_SETID, "the maps of the nomap user namespace");
  close (dirfd);
  (void) !write (down, "m", 1);
}

/* The container's side: wait until the supervisor holds our /proc entry, set up the root
   file system (outside), then leave the user's own id behind. */
static void
wait_byte (const RrunChildPlan *p, int fd, const char *what)
{
  char c;

  if (read (fd, &c, 1) != 1)
    rrun_child_fail (p->report_fd, RRUN_STEP_SYNC, what);
}

static void
enter_inner_userns (const RrunChildPlan *p, int up, int down)
{
  if (unshare (CLONE_NEWUSER) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_UNSHARE, "user namespace of --userns=nomap");
  (void) !write (up, "u", 1);
  wait_byte (p, down, "uid_map of the nomap namespace");
  if (rrun_child_setresgid (0, 0, 0) < 0 || rrun_child_setresuid (0, 0, 0) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_SETID, "root of the nomap user namespace");
  if (prctl (PR_SET_DUMPABLE, 1) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_PRCTL, "dumpable");
}

static void
sleep_ms (long ms)
{
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  nanosleep (&ts, NULL);
}

static void
loopback_up (int report_fd)
{
  struct ifreq ifr;
  int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  if (s < 0)
    rrun_child_fail (report_fd, RRUN_STEP_LOOPBACK, "lo");
  memset (&ifr, 0, sizeof ifr);
  memcpy (ifr.ifr_name, "lo", 3);
  if (ioctl (s, SIOCGIFFLAGS, &ifr) < 0)
    rrun_child_fail (report_fd, RRUN_STEP_LOOPBACK, "lo");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl (s, SIOCSIFFLAGS, &ifr) < 0)
    rrun_child_fail (report_fd, RRUN_STEP_LOOPBACK, "lo");
  close (s);
}

/* fuse-overlayfs' side of start_fuse: runs in the holder's memory until execve (no
   allocation, no state of the holder touched but errno, while the holder waits). */
typedef struct
{
  const RrunChildPlan *p;
  const char *exe;           /* fuse-overlayfs, or squashfuse for an image file */
  char *const *argv;
} FuseStart;

__attribute__ ((no_sanitize_address)) static int
exec_fuse (void *arg)
{
  const FuseStart *f = arg;
  const RrunChildPlan *p = f->p;
  char *const empty_env[] = { NULL };
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  sigset_t none;

  /* It dies with the namespace holder, so a killed rrun leaves no daemon behind. A
     failure here is reported as the fuse-overlayfs start: the holder then sees the
     process gone rather than a mount. */
  if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_PRCTL, "death signal of fuse-overlayfs");
  sigemptyset (&none);
  if (sigprocmask (SIG_SETMASK, &none, NULL) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_SIGMASK, "fuse-overlayfs");
  if (null < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_REDIRECT, "/dev/null");
  if (dup2 (null, 0) < 0 || dup2 (null, 1) < 0 || dup2 (p->fuse_stderr_fd, 2) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_REDIRECT, "fuse-overlayfs' standard streams");
  execve (f->exe, f->argv, empty_env);
  rrun_child_fail (p->report_fd, RRUN_STEP_FUSE_START, f->exe);
}

/* Start fuse-overlayfs in the foreground and wait (bounded) until its mount appears.
   The wait sleeps in poll(): the mount table signals POLLPRI on every change and the
   pidfd POLLIN when fuse-overlayfs exits, so no CPU is spent polling while it starts
   (on a small machine, that CPU is what it needs). */
static pid_t
start_fuse (const RrunChildPlan *p, const char *exe, char *const *argv, const char *target,
            int mount_step, const char *what)
{
  FuseStart f = { p, exe, argv };
  struct stat before, now;
  pid_t pid;
  char fuse_stack[16384] __attribute__ ((aligned (16)));
  struct pollfd fds[2];
  struct timespec start, t;
  int mounts, pidfd, status;

  if (stat (target, &before) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_FUSE_START, target);
  mounts = open ("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  /* vfork-style: the holder's pages are not copied only to be dropped by the exec (a
     fork of this process costs ~1 ms of page-table work on a small VM); the holder waits
     on its own stack, which the child borrows, until the exec. */
  pid = clone (exec_fuse, fuse_stack + sizeof fuse_stack, CLONE_VM | CLONE_VFORK | SIGCHLD,
               &f);
  if (pid < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_FUSE_START, what);
  pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  fds[0] = (struct pollfd) { .fd = mounts, .events = POLLPRI };
  fds[1] = (struct pollfd) { .fd = pidfd, .events = POLLIN };
  clock_gettime (CLOCK_MONOTONIC, &start);
  /* 10 s at most: fuse-overlayfs opens every layer before it mounts. Without a mount
     table or pidfd to watch (neither should happen), poll every millisecond. */
  for (;;)
    {
      long elapsed_ms;

      if (stat (target, &now) == 0 && now.st_dev != before.st_dev)
        break;
      if (waitpid (pid, &status, WNOHANG) == pid)
        rrun_child_fail_errno (p->report_fd, mount_step,
                               WIFEXITED (status) ? WEXITSTATUS (status)
                                                  : 128 + WTERMSIG (status),
                               what);
      clock_gettime (CLOCK_MONOTONIC, &t);
      elapsed_ms = (t.tv_sec - start.tv_sec) * 1000 + (t.tv_nsec - start.tv_nsec) / 1000000;
      if (elapsed_ms >= 10000)
        {
          kill (pid, SIGKILL);
          rrun_child_fail_errno (p->report_fd, mount_step, ETIMEDOUT, what);
        }
      if (mounts < 0 || pidfd < 0)
        sleep_ms (1);
      else
        poll (fds, 2, (int) (10000 - elapsed_ms));
    }
  if (mounts >= 0)
    close (mounts);
  if (pidfd >= 0)
    close (pidfd);
  return pid;
}

/* Whether the root file system is a kernel overlay, now mounted; 0: fuse-overlayfs
   mounts it. */
static int
mount_kernel_overlay (const RrunChildPlan *p)
{
  if (p->rootfs_kind != RRUN_ROOTFS_KERNEL_OVERLAY)
    return 0;
  /* Layer paths are relative to the storage root, so the mount data stays below a page
     even with many layers. */
  if (chdir (p->overlay_cwd) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_OVERLAY, p->overlay_cwd);
  if (mount ("overlay", p->rootfs, "overlay", 0, p->overlay_data) == 0)
    return 1;
  if (!p->overlay_fallback_fuse || p->fuse_exe == NULL)
    rrun_child_fail (p->report_fd, RRUN_STEP_OVERLAY, p->rootfs);
  rrun_child_send (p->report_fd, RRUN_STEP_WARNING, errno, "kernel overlay");
  return 0;
}

/* Delete everything below dirfd (syscalls only, a stack buffer per level); depth-bounded.
   Entries are re-read after each batch, since deleting while reading may skip some. */
static void
empty_dir_at (int dirfd, int depth)
{
  char buf[2048];

  if (depth > 64)
    return;
  for (int rounds = 0; rounds < 100000; rounds++)
    {
      long n;
      int removed = 0;

      lseek (dirfd, 0, SEEK_SET);
      n = syscall (SYS_getdents64, dirfd, buf, sizeof buf);
      if (n <= 0)
        return;
      for (long off = 0; off < n;)
        {
          struct linux_dirent64
          {
            unsigned long long d_ino;
            long long d_off;
            unsigned short d_reclen;
            unsigned char d_type;
            char d_name[];
          } *d = (void *) (buf + off);

          off += d->d_reclen;
          if (d->d_name[0] == '.'
              && (d->d_name[1] == '\0' || (d->d_name[1] == '.' && d->d_name[2] == '\0')))
            continue;
          if (d->d_type == DT_DIR)
            {
              int sub = openat (dirfd, d->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
              if (sub < 0)
                {
                  /* A directory we may not read (mode 000): make it ours to empty. */
                  fchmodat (dirfd, d->d_name, 0700, 0);
                  sub = openat (dirfd, d->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
              if (sub >= 0)
                {
                  empty_dir_at (sub, depth + 1);
                  close (sub);
                }
              if (unlinkat (dirfd, d->d_name, AT_REMOVEDIR) == 0)
                removed++;
            }
          else if (unlinkat (dirfd, d->d_name, 0) == 0)
            removed++;
        }
      if (removed == 0)
        return; /* only entries we cannot delete are left: the host side reports them */
    }
}

static void
empty_layer (const RrunChildPlan *p)
{
  for (int i = 0; i < 2; i++)
    if (p->empty_after[i] != NULL)
      {
        int fd = open (p->empty_after[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
          {
            empty_dir_at (fd, 0);
            close (fd);
          }
      }
}

static int
exit_code_of (int status)
{
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return RRUN_EXIT_SETUP_FAILED;
}

/* SIGTERM, then wait (1 s at most) for fuse-overlayfs to unmount and exit. The wait sleeps
   on a pidfd, which wakes the moment it exits (polling in 1 ms steps added ~0.5 ms to every
   fuse-overlayfs run); without pidfds, poll in 1 ms steps. */
static void
stop_fuse (pid_t fuse)
{
  int status, pidfd;

  if (fuse <= 0)
    return;
  pidfd = (int) syscall (SYS_pidfd_open, fuse, 0);
  kill (fuse, SIGTERM);
  if (pidfd >= 0)
    {
      struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

      while (poll (&pfd, 1, 1000) < 0 && errno == EINTR)
        ;
      close (pidfd);
    }
  for (int i = 0; i < 1000; i++)
    {
      if (waitpid (fuse, &status, WNOHANG) == fuse)
        return;
      sleep_ms (1);
    }
  kill (fuse, SIGKILL);
  waitpid (fuse, &status, 0);
}

void
rrun_container_child_main (const RrunChildPlan *p)
{
  pid_t container, fuse, squash = 0, parent = getppid ();
  int status;
  int up[2] = { -1, -1 }, down[2] = { -1, -1 }; /* --userns=nomap handshake */

  /* Die with rrun; detach from its terminal so Ctrl-C reaches the container only through
     rrun's forwarding. */
  if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_PRCTL, "death signal");
  if (setsid () < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_SETSID, "the namespace holder");
  for (int i = 0; i < 4; i++)
    if (p->close_fds[i] >= 0)
      close (p->close_fds[i]);
  /* Until rrun has written the id maps (newuidmap and newgidmap: the longest step of a
     start), do what needs no mapped id: enter the namespace and make the others (but the
     cgroup one, whose root is the cgroup rrun moves us into once the maps are written).
     Holding every capability of a user namespace does not need a map; creating a file,
     mounting an overlay (EACCES) or becoming root there does. */
  if (p->join_userns_fd >= 0 && setns (p->join_userns_fd, CLONE_NEWUSER) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_JOIN_USERNS, p->join_what);
  /* The PID namespace comes after the root file system: fuse-overlayfs, forked here, must
     stay outside it, so that the command is PID 1 and `ps` inside does not list it. */
  if (unshare (p->unshare_flags & ~(CLONE_NEWPID | CLONE_NEWCGROUP)) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_UNSHARE, "namespaces");
  if (p->join_netns && setns (p->join_netns_fd, CLONE_NEWNET) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_JOIN_NETNS, p->join_what);
  if (p->join_ipcns_fd >= 0 && setns (p->join_ipcns_fd, CLONE_NEWIPC) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_JOIN_IPCNS, p->join_what);
  /* Nothing mounted from here on may propagate to the host, nor the reverse. */
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_MOUNT_PRIVATE, "/");
  if (p->hostname != NULL && sethostname (p->hostname, strlen (p->hostname)) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_HOSTNAME, p->hostname);
  if (p->loopback_up)
    loopback_up (p->report_fd);

  if (rrun_child_wait_byte (p->report_fd) < 0)
    _exit (RRUN_EXIT_SETUP_FAILED); /* the host failed to map ids and says why itself */
  /* We are the namespace's creator's uid (or entered it), so we have every capability
     there; now that the maps exist, become its root. */
  if (rrun_child_setresgid (0, 0, 0) < 0 || rrun_child_setresuid (0, 0, 0) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_SETID, "root of the user namespace");
  /* An euid change (container root is a subordinate id with keep-id) clears the death
     signal: set it again, and catch a parent that died meanwhile. */
  if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_PRCTL, "death signal");
  if (getppid () != parent)
    _exit (RRUN_EXIT_SETUP_FAILED);
  /* When container root is a subordinate id (keep-id), the id change above made us
     non-dumpable, which hides /proc/PID/ns from rrun-net and the host side. The execve
     of the command sets dumpable again from the file, as for any process. */
  if (prctl (PR_SET_DUMPABLE, 1) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_PRCTL, "dumpable");
  if ((p->unshare_flags & CLONE_NEWCGROUP) && unshare (CLONE_NEWCGROUP) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_UNSHARE, "cgroup namespace");
  for (size_t i = 0; i < p->n_sysctls; i++)
    {
      int fd = open (p->sysctls[i].path, O_WRONLY | O_CLOEXEC);
      size_t len = strlen (p->sysctls[i].value);

      if (fd < 0 || write (fd, p->sysctls[i].value, len) != (ssize_t) len)
        rrun_child_fail (p->report_fd, RRUN_STEP_SETTING, p->sysctls[i].what);
      close (fd);
    }
  /* rrun may now let the network helper make tap0 here while the mounts below go on. */
  rrun_child_send (p->report_fd, RRUN_STEP_NAMESPACES, 0, "");
  /* An image file: squashfuse first, the lower layer of the overlay below. */
  if (p->squash_exe != NULL)
    squash = start_fuse (p, p->squash_exe, p->squash_argv, p->squash_dir,
                         RRUN_STEP_SQUASH_MOUNT, "squashfuse");
  fuse = mount_kernel_overlay (p) ? 0
         : start_fuse (p, p->fuse_exe, p->fuse_argv, p->rootfs, RRUN_STEP_FUSE_MOUNT,
                       "fuse-overlayfs");
  if ((p->unshare_flags & CLONE_NEWPID) && unshare (CLONE_NEWPID) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_UNSHARE, "PID namespace");
  /* --pid container: the command's children-to-be go into that namespace instead. */
  if (p->join_pidns_fd >= 0 && setns (p->join_pidns_fd, CLONE_NEWPID) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_JOIN_PIDNS, p->join_what);

  if (p->inner_uid_map != NULL && (pipe2 (up, O_CLOEXEC) < 0 || pipe2 (down, O_CLOEXEC) < 0))
    rrun_child_fail (p->report_fd, RRUN_STEP_SYNC, "pipe");
  container = raw_fork ();
  if (container < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_FORK, "container");
  if (container == 0)
    {
      /* PID 1 of the new PID namespace. */
      if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0)
        rrun_child_fail (p->report_fd, RRUN_STEP_PRCTL, "death signal of PID 1");
      if (p->inner_uid_map != NULL)
        wait_byte (p, down[0], "the supervisor");
      rrun_rootfs_apply_child (p);
      if (p->inner_uid_map != NULL)
        enter_inner_userns (p, up[1], down[0]);
      if (p->init)
        rrun_process_init_child (p);
      rrun_process_exec_child (p);
    }
  if (p->inner_uid_map != NULL)
    {
      close (up[1]);
      close (down[0]);
      write_inner_maps (p, container, up[0], down[1]);
    }
  rrun_child_send (p->report_fd, RRUN_STEP_PID, container, "");
  close (p->report_fd);
  while (waitpid (container, &status, 0) < 0)
    if (errno != EINTR)
      _exit (RRUN_EXIT_SETUP_FAILED);
  stop_fuse (fuse);
  /* squashfuse serves a read-only file: nothing to write back, so no SIGTERM and a wait
     of up to 1 s; it would die with this namespace anyway. */
  if (squash > 0)
    {
      int squash_status;

      kill (squash, SIGKILL);
      waitpid (squash, &squash_status, 0);
    }
  if (p->empty_after[0] != NULL)
    {
      /* Unmount first: the layer must not change under a mounted overlay. Then empty it
         as root of the user namespace, so that rrun, as the user, can remove what is left
         without starting a user-namespace helper (~30 ms of every --rm). */
      umount2 (p->rootfs, MNT_DETACH);
      empty_layer (p);
    }
  _exit (exit_code_of (status));
}
