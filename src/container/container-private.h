/* Inside src/container/: what a container owns between create and delete. Freeing it
   (rrun_container_delete) undoes every step taken, on any path. */
#pragma once

#include "child/plan.h"
#include "container/container.h"
#include "container/namespaces.h"
#include "container/record.h"
#include "network/join.h"
#include "network/network.h"
#include "overlay/overlay.h"
#include "process/caps.h"
#include "process/command.h"
#include "process/tty.h"
#include "rootfs/plan.h"
#include "rootfs/volumes.h"
#include "squashfs/squashfs.h"
#include "device/device.h"
#include "storage/image.h"
#include "storage/store.h"
#include "userns/idmap.h"
#include "userns/keeper.h"

#include <signal.h>

struct _RrunContainer
{
  const RrunConfig *config;
  RrunContainerSpec *spec;  /* the caller's; its net options move into net_opts */
  RrunStore *store;
  RrunIdMap *map;
  RrunIdMap *storage_map;  /* how layers are stored: for removals */
  char *id;
  char *run_dir;
  gboolean remove_layer;   /* --rm */
  gboolean layer_created;
  int lock_fd;             /* the record's lock: held while the container exists */
  int init_fd;             /* --init: the sealed memfd of rrun-init, until PID 1 execs it */
  gboolean state_written;  /* container.json says running: a kept record is marked
                              exited when it ends, an unstarted one goes */
  gboolean exited;         /* wait saw PID 1 exit with exit_code */
  int exit_code;
  gboolean oom_killed;
  gboolean restart;        /* start of a stopped container: the record and layer exist */
  gint64 created;          /* with restart: when the container was created (unix s) */
  gboolean created_only;   /* rrun create: the record says "created", nothing ran */
  guint restart_count;     /* the monitor's restarts so far (--restart) */
  RrunContainerProcess proc;
  RrunTty tty;
  RrunNetworkOptions *net_opts;
  RrunNetnsJoin *join;     /* --network container:/ns: */
  RrunNsJoin *ns_join;     /* --pid/--ipc container: */
  RrunEarlyUserns *early;  /* the user namespace, made and mapped ahead of the rest */
  GPtrArray *usernet_links; /* RrunUserNetLink: its addresses on user-defined networks */
  pid_t usernet_holder;    /* the network holder whose user namespace it enters */
  int usernet_userns_fd;   /* that namespace (-1) */
  RrunNetwork *net;
  RrunCgroup *cgroup;
  int sigfd;
  gboolean signals_blocked;
  sigset_t old_mask;

  /* Made by create, read by start: the child plan points into all of these. */
  RrunImage *image;
  RrunUser *user;
  RrunCaps *caps;
  RrunMountPlan *mounts;
  RrunContainerMounts *volumes; /* -v, --mount, --tmpfs and the image's VOLUMEs, resolved */
  RrunDeviceEdits *devices;     /* --device, --gpus: resolved against the host */
  GArray *create_hooks;         /* RrunChildHook: CDI's createContainer hooks ... */
  GArray *start_hooks;          /* ... and startContainer hooks, for the plan */
  int hook_state_fd;            /* memfd: the state JSON the child's hooks read; -1 */
  gboolean hooks_started;       /* createRuntime hooks ran: poststop hooks run at delete */
  RrunOverlaySetup *overlay;
  char *passwd, *group;
  char *upper, *work, *merged, *hostname;
  char *fuse_uidmap, *fuse_gidmap, *keep_id_user;
  char *recorded_driver; /* start of a stopped container: the driver its layer has */
  GBytes *seccomp;
  char *etc_hostname, *etc_hosts, *etc_resolv, *etc_apt_conf;
  char *inner_uid, *inner_gid;
  char **argv, **envp;
  GArray *rlimits;         /* RrunChildRlimit (--ulimit) */
  GArray *sysctls;         /* RrunChildSysctl (--sysctl) */
  GStringChunk *strings;   /* what rlimits, sysctls and mo point to */
  RrunMountPlanOptions mo;
  RrunOverlayLayers layers;
  RrunChildPlan plan;

  /* An image file (squashfs/squashfs.h): its trailer, where squashfuse mounts it, and
     squashfuse's command line. */
  RrunSquashfsImage *squash;
  char *squash_dir;
  char *squash_exe;
  char **squash_argv;
};

/* create_again for the monitor's restart: lock_fd is the record's lock, held already (taken
   by the container; closed on failure). */
gboolean rrun_container_create_again_locked (const RrunConfig *config, RrunContainerSpec *spec,
                                             const char *id, int lock_fd,
                                             RrunContainer **out_container, GError **error);

/* "exit N" written into the record's lock file: what a rrun wait that has the file open
   reads when the record is gone (--rm) or already says the next run (--restart). */
void rrun_container_publish_exit_code (int lock_fd, int exit_code);

/* container.json for status (running: after start; created: rrun create), and the keep
   marker of a container without --rm (start.c). */
gboolean rrun_container_write_state (RrunContainer *c, RrunStatus status, GError **error);
