/* Everything the container's setup processes need, prepared by the host side before
   clone so that the child only reads it and makes syscalls (docs/architecture.md, "Child code"). */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <sys/capability.h>

typedef enum
{
  RRUN_MOUNT_OP_MOUNT,     /* mount(source, target, fstype, flags, data) */
  RRUN_MOUNT_OP_BIND,      /* bind source (host path) onto target; flags may add MS_RDONLY */
  RRUN_MOUNT_OP_REMOUNT,   /* remount target with flags (bind remount, e.g. read-only) */
  RRUN_MOUNT_OP_MKDIR,     /* create target directory (mode in flags) */
  RRUN_MOUNT_OP_SYMLINK,   /* symlink source -> target */
  RRUN_MOUNT_OP_MASK,      /* hide target: /dev/null over a file, empty ro tmpfs over a dir */
} RrunMountOpKind;

typedef struct
{
  RrunMountOpKind kind;
  const char *source;
  const char *target;      /* path inside the container, absolute ("/proc") */
  const char *fstype;
  unsigned long flags;
  const char *data;
  int create;              /* 0: target must exist, 1: create a dir, 2: create a file */
  int optional;            /* a missing target (or ENOENT source) is skipped */
  int nonrecursive;        /* BIND: without the source's submounts (no MS_REC) */
  unsigned long propagation; /* BIND: MS_SHARED, MS_SLAVE or MS_PRIVATE (| MS_REC) after */
} RrunMountOp;

/* --ulimit and --sysctl, prepared on the host side; what: the flag as given, for errors. */
typedef struct
{
  int resource;
  unsigned long long soft, hard;
  const char *what;
} RrunChildRlimit;

typedef struct
{
  const char *path;        /* /proc/sys/... */
  const char *value;
  const char *what;
} RrunChildSysctl;

/* An OCI hook run by a setup process (child/hooks.c): createContainer, startContainer. */
typedef struct
{
  const char *path;
  char *const *argv;
  char *const *envp;
  int timeout_s;           /* 0: none */
  const char *subject;     /* "PHASE PATH", for the report */
} RrunChildHook;

typedef enum
{
  RRUN_ROOTFS_KERNEL_OVERLAY,
  RRUN_ROOTFS_FUSE_OVERLAYFS,
} RrunRootfsKind;

typedef struct
{
  /* Root file system (mounted by the namespace holder before the container forks). */
  RrunRootfsKind rootfs_kind;
  const char *rootfs;          /* the merged directory, absolute on the host */
  const char *overlay_cwd;     /* kernel overlay: chdir here, lowerdir paths are relative */
  const char *overlay_data;    /* kernel overlay mount data */
  int overlay_fallback_fuse;   /* auto mode: on kernel overlay failure try fuse-overlayfs */
  const char *fuse_exe;        /* absolute path of fuse-overlayfs */
  char *const *fuse_argv;
  int fuse_stderr_fd;          /* memfd: fuse-overlayfs's stderr, read by the host */
  /* An image file (squashfs/squashfs.h): squashfuse, started in the foreground on
     squash_dir before the overlay, whose only lower layer squash_dir is; NULL: none. */
  const char *squash_exe;
  char *const *squash_argv;
  const char *squash_dir;

  /* --rm: directories the namespace holder empties once the command has exited (it is
     still root of the user namespace then, so files of subordinate ids go too). */
  const char *empty_after[2];

  /* Instead of a new user namespace, enter join_userns_fd (-1: none): the owner of
     join_netns_fd (--network container:/ns:, already mapped), then join join_netns_fd;
     or the namespace rrun created and mapped early (userns-early.h). */
  int join_netns;
  int join_userns_fd;
  int join_netns_fd;
  const char *join_what;       /* for messages: the container's name or the path */
  /* --pid/--ipc container:NAME: that container's PID and IPC namespaces (-1: none), entered
     after join_userns_fd, whose maps exist already (join_mapped). */
  int join_pidns_fd;
  int join_ipcns_fd;
  int join_mapped;

  /* Namespaces after the user namespace. */
  int unshare_flags;           /* CLONE_NEWNS always; UTS, IPC, NET, CGROUP, PID */
  int loopback_up;             /* a new network namespace: bring lo up */
  const char *hostname;

  /* Mounts in the container's root, in order, then pivot_root. */
  const RrunMountOp *mounts;
  size_t n_mounts;
  int readonly_root;           /* --read-only */

  /* The process. */
  int init;                    /* --init: PID 1 is rrun-init, the command PID 2 */
  int init_fd;                 /* --init: sealed memfd of rrun-init (init-program.h) */
  int tty;                     /* allocate a pty in the container's devpts */
  int keep_stdin;              /* -i: stdin stays the caller's; else /dev/null */
  const char *workdir;
  int create_workdir;          /* docker creates a missing working directory */
  char *const *argv;           /* argv[0] as given: searched in path when it has no '/' */
  char *const *envp;
  const char *path;            /* PATH from the final environment, for the search */
  uint64_t path_absent;        /* PATH entries surely without argv[0]: skipped (bit i) */
  uid_t uid;
  gid_t gid;
  const gid_t *groups;
  size_t n_groups;
  int set_groups;              /* setgroups is denied in single-ID mode */
  cap_t caps;                  /* permitted/effective for the command (root) */
  const int *drop_bounding;    /* capabilities to drop from the bounding set */
  size_t n_drop_bounding;
  int no_new_privs;
  /* docker's process settings (container/spec-flags.c): applied just before exec. */
  const RrunChildRlimit *rlimits;  /* --ulimit */
  size_t n_rlimits;
  int set_umask;               /* --umask ... */
  unsigned int umask;          /* ... the mask */
  const char *oom_score_adj;   /* --oom-score-adj as text; NULL: leave */
  int set_personality;         /* --personality ... */
  unsigned long personality;   /* ... PER_LINUX or PER_LINUX32 */
  int preserve_fds;            /* --preserve-fds: fds 3 .. 2+N reach the command */
  /* --sysctl: written by the namespace holder once it is root of the user namespace (the
     files of /proc/sys belong to the namespaces of the process that opens them). */
  const RrunChildSysctl *sysctls;
  size_t n_sysctls;
  const void *seccomp_bpf;     /* struct sock_filter[], or NULL */
  size_t seccomp_len;          /* number of filter instructions */

  /* --userns=nomap: after the root file system is ready, the command's process enters a
     user namespace nested in the outer one, with these maps in the outer one's ids
     ("0 1 65536\n": the subordinate range only, the user's own id left out). NULL
     otherwise. */
  const char *inner_uid_map;
  const char *inner_gid_map;
  /* rrun's own fds the setup processes must not keep (-1: none): the network helper's
     exit, pid and ready pipes, whose hang-up must mean rrun is gone, and a detached -i
     container's stdin write end (its monitor's), whose close must mean EOF. */
  int close_fds[4];

  /* CDI's OCI hooks run in the container (container/hooks.c): createContainer hooks after
     the mounts, before pivot_root, once the host has sent a byte (its createRuntime hooks
     are done, hook_state_fd written); startContainer hooks just before exec. Their stdin
     is hook_state_fd, a memfd holding the container's state JSON. */
  const RrunChildHook *create_container_hooks;
  size_t n_create_container_hooks;
  const RrunChildHook *start_container_hooks;
  size_t n_start_container_hooks;
  int hook_state_fd;           /* -1: no hooks */

  /* Channel to the host: records (child-report.h), the pty master, sync bytes. */
  int report_fd;
} RrunChildPlan;
