/* Records the container's setup processes send to the host side over the report socket
   (docs/architecture.md, "Child code"). Shared by both sides: no GLib types. A successful execve closes the
   last copy of the socket, so EOF tells the host the command is running. */
#pragma once

#include <stdint.h>

typedef enum
{
  RRUN_STEP_NONE,
  RRUN_STEP_PID,          /* not an error: errsv holds the container's PID 1 (host pid) */
  RRUN_STEP_WARNING,      /* not an error: subject is a warning to print */
  RRUN_STEP_SYNC,         /* waiting for the host side */
  RRUN_STEP_NAMESPACES,   /* not an error: the holder's namespaces exist (network helper may join) */
  RRUN_STEP_SETID,        /* becoming root of the user namespace */
  RRUN_STEP_UNSHARE,
  RRUN_STEP_MOUNT_PRIVATE,
  RRUN_STEP_OVERLAY,      /* kernel overlay mount */
  RRUN_STEP_FUSE_START,   /* starting fuse-overlayfs */
  RRUN_STEP_FUSE_MOUNT,   /* fuse-overlayfs did not mount in time or exited */
  RRUN_STEP_FORK,
  RRUN_STEP_MOUNT,
  RRUN_STEP_MKDIR,
  RRUN_STEP_PIVOT,
  RRUN_STEP_HOSTNAME,
  RRUN_STEP_LOOPBACK,
  RRUN_STEP_TTY,
  RRUN_STEP_WORKDIR,
  RRUN_STEP_CAPS,
  RRUN_STEP_USER,
  RRUN_STEP_SECCOMP,
  RRUN_STEP_EXEC,
  RRUN_STEP_JOIN_USERNS,  /* --network container:/ns: entering the owner's user namespace */
  RRUN_STEP_JOIN_NETNS,   /* ... and then its network namespace */
  RRUN_STEP_JOIN_PIDNS,   /* --pid container: its PID namespace */
  RRUN_STEP_JOIN_IPCNS,   /* --ipc container: its IPC namespace */
  RRUN_STEP_PRCTL,        /* prctl: subject names the attribute (death signal, dumpable) */
  RRUN_STEP_SETSID,       /* a session of its own */
  RRUN_STEP_REDIRECT,     /* dup2 of a standard stream: subject names it */
  RRUN_STEP_SIGMASK,      /* unblocking signals before exec */
  RRUN_STEP_READ,         /* reading a file: subject is its path */
  RRUN_STEP_INIT,         /* --init: PID 1 execs rrun-init */
  RRUN_STEP_SQUASH_MOUNT, /* squashfuse did not mount an image file in time or exited */
  RRUN_STEP_SETTING,      /* --ulimit, --sysctl, --umask, --oom-score-adj, ...: subject is
                             the flag as given */
  RRUN_STEP_HOOK,         /* an OCI hook could not be executed: subject "PHASE PATH" */
  RRUN_STEP_HOOK_STATUS,  /* ... exited with status errsv (-N: killed by signal N) */
  RRUN_STEP_HOOK_TIMEOUT, /* ... was killed after its timeout of errsv seconds */
} RrunChildStep;

typedef struct
{
  int32_t step;
  int32_t errsv;
  char subject[256];  /* the path or name the step was working on */
} RrunChildReport;

/* Exit status of a setup process that failed after reporting why. */
#define RRUN_EXIT_SETUP_FAILED 125
