/* Host side of container start-up: clone with CLONE_NEWUSER only, write the id maps,
   let the child build the other namespaces, read its reports (docs/architecture.md, "Child code"). */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "child/report-record.h"
#include "child/plan.h"
#include "userns/idmap.h"
#include "userns/keeper.h"

G_BEGIN_DECLS

typedef struct
{
  /* After clone, before the child may go on: e.g. move it into its cgroup. */
  gboolean (*after_clone) (pid_t holder, gpointer user_data, GError **error);
  /* Once the holder has its namespaces (network included), while it mounts the root file
     system: start whatever may join them. */
  void (*namespaces_ready) (pid_t holder, gpointer user_data);
  /* Once PID 1 exists, before it pivots its root (OCI createRuntime hooks); when the plan
     has createContainer hooks, PID 1 waits for the byte sent after this. May be NULL. */
  gboolean (*pid1_created) (pid_t pid1, gpointer user_data, GError **error);
  /* Once PID 1 exists (and the pty, with -t), before the command runs: networking,
     window size. */
  gboolean (*before_exec) (pid_t pid1, int pty_master, gpointer user_data, GError **error);
  gpointer user_data;
} RrunStartHooks;

/* The running container's processes, owned by the host side. */
typedef struct
{
  pid_t holder;       /* namespace holder: our child; its exit status is the command's */
  pid_t pid1;         /* the container's PID 1 as the host sees it */
  int pty_master;     /* with -t; else -1 */
  int fuse_stderr_fd; /* memfd fuse-overlayfs writes its errors to; -1 when unused */
  int timeout_s;      /* --timeout: the relay kills PID 1 after this many seconds (0: none) */
  gboolean timed_out; /* ... and did: the status is 255, as podman's */
  gboolean no_sig_proxy; /* --sig-proxy=false: signals to rrun are not forwarded */
  gboolean fuse_fallback; /* kernel overlay failed: fuse-overlayfs mounted the root */
} RrunContainerProcess;

void rrun_container_process_init (RrunContainerProcess *proc);
/* Kill (SIGKILL) and reap whatever is still running; close fds. Safe to call twice. */
void rrun_container_process_destroy (RrunContainerProcess *proc);

/* Start the container described by plan (its report_fd is filled in here). Returns when
   the command has been exec'd, or with the error the child reported. early, when not
   NULL, is the namespace plan->join_userns_fd names: its maps are finished here, once the
   holder is cloned, instead of mapping a new one. */
gboolean rrun_namespaces_start (RrunChildPlan *plan, const RrunIdMap *map,
                                RrunEarlyUserns *early, const RrunStartHooks *hooks,
                                RrunContainerProcess *proc, GError **error);

/* Turn a child's report into the error the user sees (exposed for unit tests).
   fuse_stderr: what fuse-overlayfs printed, or NULL. */
void rrun_child_report_to_error (const RrunChildReport *report, const char *fuse_stderr,
                                 GError **error);

G_END_DECLS
