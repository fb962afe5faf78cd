/* Runs between clone and exec: only syscalls and async-signal-safe functions.
   Every target is opened with openat2(RESOLVE_IN_ROOT) below the new root, so a symlink
   planted in an image (/proc -> /home/user) cannot redirect a mount outside it; the mount
   then goes onto /proc/self/fd/N, as crun does. */
#include "child/mounts.h"
#include "child/hooks.h"
#include "child/report.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PATHBUF 4096

static int
open_in_root (int rootfd, const char *path, int flags)
{
  struct open_how how;
  const char *rel = path;

  while (*rel == '/')
    rel++;
  if (*rel == '\0')
    rel = ".";
  memset (&how, 0, sizeof how);
  how.flags = (unsigned long long) (flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return (int) syscall (SYS_openat2, rootfd, rel, &how, sizeof how);
}

/* Split "/a/b/c" into parent "/a/b" (in buf) and leaf "c". */
static const char *
split_parent (const char *path, char *buf, size_t n)
{
  const char *slash = strrchr (path, '/');
  size_t len = slash ? (size_t) (slash - path) : 0;

  if (len + 1 > n)
    len = n - 1;
  memcpy (buf, path, len);
  buf[len] = '\0';
  if (len == 0)
    {
      buf[0] = '/';
      buf[1] = '\0';
    }
  return slash ? slash + 1 : path;
}

/* mkdir -p of a path below root, each component resolved inside it. A directory that
   exists already is found with one lookup, from the dentry cache: a mkdir of an existing
   name is an exclusive lookup, which a FUSE file system must answer afresh (ten LOOKUP
   round trips to fuse-overlayfs for "dev" alone, one per mount below /dev). */
static int
mkdir_p_in_root (int rootfd, const char *path)
{
  char buf[PATHBUF];
  size_t len = strlen (path);
  int existing = open_in_root (rootfd, path, O_PATH | O_DIRECTORY);

  if (existing >= 0)
    {
      close (existing);
      return 0;
    }

  if (len + 1 > sizeof buf)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  memcpy (buf, path, len + 1);
  for (char *p = buf + 1;; p++)
    if (*p == '/' || *p == '\0')
      {
        char saved = *p;
        char parent[PATHBUF];
        const char *leaf;
        int pfd;

        *p = '\0';
        leaf = split_parent (buf, parent, sizeof parent);
        pfd = open_in_root (rootfd, parent, O_PATH | O_DIRECTORY);
        if (pfd < 0)
          return -1;
        if (*leaf && mkdirat (pfd, leaf, 0755) < 0 && errno != EEXIST)
          {
            int errsv = errno;
            close (pfd);
            errno = errsv;
            return -1;
          }
        close (pfd);
        *p = saved;
        if (saved == '\0')
          return 0;
      }
}

/* Create the target (dir or empty file, with missing parents) below root. */
static int
create_target (int rootfd, const char *target, int create)
{
  char parent[PATHBUF];
  const char *leaf = split_parent (target, parent, sizeof parent);
  int pfd, rc = 0;

  if (create == 1)
    return mkdir_p_in_root (rootfd, target);
  if (mkdir_p_in_root (rootfd, parent) < 0)
    return -1;
  pfd = open_in_root (rootfd, parent, O_PATH | O_DIRECTORY);
  if (pfd < 0)
    return -1;
  {
    struct stat st;
    int fd;

    /* A dangling symlink (resolv.conf -> ../run/...) is replaced by a plain file. */
    if (fstatat (pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK (st.st_mode))
      {
        int probe = open_in_root (rootfd, target, O_PATH);
        if (probe >= 0)
          close (probe);
        else
          unlinkat (pfd, leaf, 0);
      }
    fd = openat (pfd, leaf, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd >= 0)
      close (fd);
    else if (errno != EEXIST && errno != ELOOP && errno != EISDIR)
      rc = -1;
  }
  {
    int errsv = errno;
    close (pfd);
    errno = errsv;
  }
  return rc;
}

/* Flags locked by the kernel on a mount made in a less privileged namespace must be kept
   on a remount, or it fails with EPERM. */
static unsigned long
locked_flags (int fd)
{
  struct statfs sf;
  unsigned long flags = 0;

  if (fstatfs (fd, &sf) < 0)
    return 0;
  if (sf.f_flags & ST_NOSUID)
    flags |= MS_NOSUID;
  if (sf.f_flags & ST_NODEV)
    flags |= MS_NODEV;
  if (sf.f_flags & ST_NOEXEC)
    flags |= MS_NOEXEC;
  if (sf.f_flags & ST_RDONLY)
    flags |= MS_RDONLY;
  if (sf.f_flags & ST_NOATIME)
    flags |= MS_NOATIME;
  if (sf.f_flags & ST_NODIRATIME)
    flags |= MS_NODIRATIME;
  if (sf.f_flags & ST_RELATIME)
    flags |= MS_RELATIME;
  return flags;
}

/* Remount the bind mount now at op->target with op->flags (re-opened: the mount is new). */
static void
remount_bind (int rootfd, const RrunMountOp *op, int report_fd)
{
  int mfd = open_in_root (rootfd, op->target, O_PATH);
  char mpath[64];

  if (mfd < 0)
    rrun_child_fail (report_fd, RRUN_STEP_MOUNT, op->target);
  rrun_child_fd_path (mpath, sizeof mpath, mfd);
  if (mount (NULL, mpath, NULL, MS_BIND | MS_REMOUNT | op->flags | locked_flags (mfd), NULL) < 0)
    rrun_child_fail (report_fd, RRUN_STEP_MOUNT, op->target);
  close (mfd);
}

static void
apply_op (int rootfd, const RrunMountOp *op, int report_fd)
{
  char fdpath[64];
  int fd;
  struct stat st;

  if (op->kind == RRUN_MOUNT_OP_SYMLINK)
    {
      char parent[PATHBUF];
      const char *leaf = split_parent (op->target, parent, sizeof parent);
      int pfd = open_in_root (rootfd, parent, O_PATH | O_DIRECTORY);

      if (pfd < 0 || (symlinkat (op->source, pfd, leaf) < 0 && errno != EEXIST))
        rrun_child_fail (report_fd, RRUN_STEP_MOUNT, op->target);
      close (pfd);
      return;
    }
  if (op->create && create_target (rootfd, op->target, op->create) < 0 && !op->optional)
    rrun_child_fail (report_fd, RRUN_STEP_MKDIR, op->target);
  if (op->kind == RRUN_MOUNT_OP_MKDIR)
    return;
  fd = open_in_root (rootfd, op->target, O_PATH);
  if (fd < 0)
    {
      if (op->optional && (errno == ENOENT || errno == ENOTDIR))
        return;
      rrun_child_fail (report_fd, RRUN_STEP_MOUNT, op->target);
    }
  rrun_child_fd_path (fdpath, sizeof fdpath, fd);
  switch (op->kind)
    {
    case RRUN_MOUNT_OP_MOUNT:
      if (mount (op->source, fdpath, op->fstype, op->flags, op->data) < 0)
        {
          if (op->optional)
            break;
          rrun_child_fail (report_fd, RRUN_STEP_MOUNT, op->target);
        }
      break;
    case RRUN_MOUNT_OP_BIND:
      if (mount (op->source, fdpath, NULL, MS_BIND | (op->nonrecursive ? 0 : MS_REC), NULL)
          < 0)
        {
          if (op->optional && errno == ENOENT)
            break;
          rrun_child_fail (report_fd, RRUN_STEP_MOUNT, op->target);
        }
      if (op->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC))
        remount_bind (rootfd, op, report_fd);
      if (op->propagation != 0)
        {
          int mfd = open_in_root (rootfd, op->target, O_PATH);
          char mpath[64];

          if (mfd < 0)
            rrun_child_fail (report_fd, RRUN_STEP_MOUNT, op->target);
          rrun_child_fd_path (mpath, sizeof mpath, mfd);
          if (mount (NULL, mpath, NULL, op->propagation, NULL) < 0)
            rrun_child_fail (report_fd, RRUN_STEP_MOUNT, op->target);
          close (mfd);
        }
      break;
    case RRUN_MOUNT_OP_REMOUNT:
      {
        /* Bind the path onto itself so that only it becomes read-only. */
        if (mount (fdpath, fdpath, NULL, MS_BIND | MS_REC, NULL) < 0)
          {
            if (op->optional)
              break;
            rrun_child_fail (report_fd, RRUN_STEP_MOUNT, op->target);
          }
        remount_bind (rootfd, op, report_fd);
        break;
      }
    case RRUN_MOUNT_OP_MASK:
      if (fstat (fd, &st) < 0)
        break;
      if (S_ISDIR (st.st_mode))
        {
          if (mount ("tmpfs", fdpath, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                     "mode=555")
              < 0)
            rrun_child_fail (report_fd, RRUN_STEP_MOUNT, op->target);
        }
      else if (mount ("/dev/null", fdpath, NULL, MS_BIND, NULL) < 0)
        rrun_child_fail (report_fd, RRUN_STEP_MOUNT, op->target);
      break;
    default:
      break;
    }
  close (fd);
}

void
rrun_rootfs_apply_child (const RrunChildPlan *p)
{
  int rootfd;

  /* A mount namespace of the container's own: pivot_root below must not move the root
     of the namespace holder and of fuse-overlayfs, which stay in the parent one. */
  if (unshare (CLONE_NEWNS) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_UNSHARE, "mount namespace");
  /* The root file system unbindable, in this namespace (a copy of a namespace loses the
     flag): a volume whose source holds the run root (-v /tmp:/x, the run root
     /tmp/rrun-UID) is bound recursively, as docker does, and a recursive bind prunes an
     unbindable mount with everything below it. So no volume brings in this container's
     own root tree, with its /proc and /sys unmasked and the copies of earlier volumes
     (the mount table grew exponentially: 13 such volumes exhausted fs.mount-max). Other
     containers' mounts live in their own namespaces, never in this one. */
  if (mount (NULL, p->rootfs, NULL, MS_UNBINDABLE, NULL) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_MOUNT, p->rootfs);
  rootfd = open (p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_MOUNT, p->rootfs);
  for (size_t i = 0; i < p->n_mounts; i++)
    apply_op (rootfd, &p->mounts[i], p->report_fd);
  /* OCI createContainer hooks: in the container's namespaces, its root file system
     mounted, before pivot_root (their paths are the host's), and after the host's
     createRuntime hooks, whose end the host says with one byte. */
  if (p->n_create_container_hooks > 0)
    {
      if (rrun_child_wait_byte (p->report_fd) < 0)
        _exit (RRUN_EXIT_SETUP_FAILED); /* the host failed and says why itself */
      rrun_child_run_hooks (p, p->create_container_hooks, p->n_create_container_hooks);
    }
  /* --read-only: the root itself; mounts below it (/dev, /proc, volumes) keep theirs. */
  if (p->readonly_root
      && mount (NULL, p->rootfs, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags (rootfd),
                NULL)
             < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_MOUNT, "/");
  close (rootfd);

  /* pivot_root(".", ".") then detach the old root: no temporary directory needed. */
  if (chdir (p->rootfs) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_PIVOT, p->rootfs);
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_PIVOT, p->rootfs);
  if (umount2 (".", MNT_DETACH) < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_PIVOT, "old root");
  if (chdir ("/") < 0)
    rrun_child_fail (p->report_fd, RRUN_STEP_PIVOT, "/");
}

int
rrun_rootfs_mkdir_p_child (const char *path, int mode)
{
  char buf[PATHBUF];
  size_t len = strlen (path);

  if (len + 1 > sizeof buf)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  memcpy (buf, path, len + 1);
  for (char *p = buf + 1; *p; p++)
    if (*p == '/')
      {
        *p = '\0';
        if (mkdir (buf, (mode_t) mode) < 0 && errno != EEXIST)
          return -1;
        *p = '/';
      }
  if (mkdir (buf, (mode_t) mode) < 0 && errno != EEXIST)
    return -1;
  return 0;
}
