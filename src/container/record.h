/* The container record (docs/architecture.md, "Containers: spec, verbs, record"): one
   directory per container in the store, STORAGE/containers/ID/, holding the writable
   layer (upper, work), the image id, the lock its rrun holds while the container exists,
   and container.json (the spec and the state). The run dir RUN_ROOT/containers/ID holds
   only what lives while it runs (the root's mount point, /etc files, the network
   helper's socket). A record whose lock is held is live. One whose lock nobody holds is
   a stopped container when it is kept (run without --rm: the store's "keep" marker) and
   debris otherwise, which rrun_container_gc removes with its run dir; a kept record that
   still says "running" belongs to a killed rrun or monitor and reads as exited with an
   unknown status (rrun_state_settle). */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "config.h"
#include "container/spec.h"
#include "storage/store.h"
#include "userns/idmap.h"

G_BEGIN_DECLS

typedef enum
{
  RRUN_STATUS_CREATED,
  RRUN_STATUS_RUNNING,
  RRUN_STATUS_EXITED,
} RrunStatus;

/* "created", "running", "exited" */
const char *rrun_status_name (RrunStatus status);

/* The exit code of a container whose rrun or monitor was killed: nobody saw it exit. */
#define RRUN_EXIT_CODE_UNKNOWN (-1)

typedef struct
{
  char *id;
  char *name;      /* --name, or NULL */
  char *image;
  char *command;   /* argv joined with spaces */
  pid_t pid;       /* the container's PID 1 as the host sees it */
  gint64 created;  /* unix seconds */
  char *cgroup;    /* the container's cgroup v2 directory, or NULL */
  char *run_dir;   /* RUN_ROOT/containers/ID */
  /* For inspect (NULL in state files written before they were added): */
  char **args;     /* the command's argv */
  char *image_id;  /* hex config digest */
  char *network;   /* --network as given, or the config default; NULL: slirp */
  char **volumes;  /* -v as given */
  char **volumes_from; /* --volumes-from as given */
  char **tmpfs;    /* --tmpfs as given */
  char *userns;    /* its --userns mode as run ("auto", "keep-id", "single"), or NULL */
  char *storage_driver; /* "overlay" or "fuse-overlayfs": the driver its writable layer
                           is written with (NULL in records written before it was added) */
  /* The life cycle (records written before they were added read as running): */
  RrunStatus status;
  int exit_code;       /* when exited: 0-255, or RRUN_EXIT_CODE_UNKNOWN */
  gboolean oom_killed;
  gint64 started;      /* unix nanoseconds; 0: never started */
  gint64 finished;     /* unix nanoseconds; 0: not yet */
  guint64 pid_start;   /* PID 1's start time (/proc/PID/stat field 22): tells it from a
                          reused PID */
  gboolean rm;         /* --rm: the record goes when the container does */
  gboolean detached;   /* run -d or start: a monitor holds the lock and writes the log */
  int stop_signal;     /* --stop-signal or the image's STOPSIGNAL (SIGTERM by default) */
  int stop_timeout;    /* seconds stop waits before SIGKILL (10 by default) */
  guint restart_count; /* times its monitor started it again (--restart) */
  gboolean restarting; /* its monitor waits to start it again: exited, and live */
  /* Read, not written: */
  char **labels;       /* the spec's --label K=V */
  char **annotations;  /* the spec's --annotation K=V */
  char *restart_policy; /* the spec's --restart, or NULL */
  char **devices;      /* the spec's --device (paths and CDI names) */
  char *gpus;          /* the spec's --gpus, or NULL */
  gboolean no_sig_proxy; /* the spec's --sig-proxy=false */
  gboolean manually_stopped; /* rrun stop or rm -f asked it to end (RRUN_STOPPED_MARKER) */
  char *health;        /* "starting", "healthy", "unhealthy" (health.json), or NULL */
  gboolean live;       /* the record's lock is held */
  gboolean paused;     /* running with its cgroup frozen (rrun pause) */
  /* Why container.json cannot be read (NULL: it can). A damaged record has its id only:
     listed by ps (-a when not live) as damaged, removable with rm -f, nothing else. */
  char *damaged;
  /* Read from the record's summary (rrun_state_list_brief): only what ps shows is set. */
  gboolean brief;
} RrunState;

void rrun_state_free (RrunState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunState, rrun_state_free)

#define RRUN_RECORD_FILE "container.json"
/* What ps reads of a record, beside container.json (record.c) */
#define RRUN_RECORD_SUMMARY_FILE "summary"

/* STORAGE/containers/ID */
char *rrun_record_dir (const RrunConfig *config, const char *id);

/* Write container.json (state and spec) into the record, atomically. */
gboolean rrun_state_write (const RrunConfig *config, const RrunState *state,
                           const RrunContainerSpec *spec, GError **error);

/* Remove stale records (their writable layers) and run dirs without a record. */
gboolean rrun_container_gc (const RrunConfig *config, RrunStore *store,
                            const RrunIdMap *storage_map, GError **error);

/* Make the record kept once it stops (the store's marker, RRUN_STORE_KEEP_FILE). */
gboolean rrun_container_mark_kept (const RrunConfig *config, const char *id, GError **error);

/* Mark a kept record exited with the exit code (or RRUN_EXIT_CODE_UNKNOWN) at `finished`
   (unix ns): rewrites container.json, keeping its spec. The caller holds the lock, or
   knows nobody does. */
gboolean rrun_state_write_exited (const RrunConfig *config, const char *id, int exit_code,
                                  gboolean oom_killed, gint64 finished, GError **error);

/* The monitor waits to restart the container: the record says so (exited, restarting)
   until the next start rewrites it. */
gboolean rrun_state_write_restarting (const RrunConfig *config, const char *id,
                                      gboolean restarting, GError **error);

/* Running containers (a state whose PID 1 no longer exists is skipped), oldest first. */
gboolean rrun_state_list (const RrunConfig *config, GPtrArray **out_states, GError **error);

/* With all: every container, running or stopped, oldest first (docker's ps -a). */
gboolean rrun_state_list_all (const RrunConfig *config, gboolean all, GPtrArray **out_states,
                              GError **error);

/* As rrun_state_list_all, for ps and lookups: a stopped record (exited or created, kept)
   is read from its summary (RRUN_RECORD_SUMMARY_FILE) when it has a current one, and has
   then only what ps shows (id, name, image, image_id, command, pid, created, cgroup, the
   life cycle, rm, labels) with brief set; every other record is read in full. */
gboolean rrun_state_list_brief (const RrunConfig *config, gboolean all, GPtrArray **out_states,
                                GError **error);

/* A running container by full id, unique id prefix or name; RRUN_ERROR_NOT_FOUND
   otherwise. */
gboolean rrun_state_find (const RrunConfig *config, const char *what, RrunState **out_state,
                          GError **error);

/* Any container, running or stopped, as rrun_state_find. */
gboolean rrun_state_find_any (const RrunConfig *config, const char *what,
                              RrunState **out_state, GError **error);

/* As rrun_state_find_any, and a damaged record too (rm). */
gboolean rrun_state_find_for_removal (const RrunConfig *config, const char *what,
                                      RrunState **out_state, GError **error);

/* The container using name (running or stopped), or NULL. */
RrunState *rrun_state_find_name (const RrunConfig *config, const char *name);

/* The ID of the container using name, or NULL: as rrun_state_find_name, with the listing
   of ps (rrun_state_list_brief). */
char *rrun_state_find_name_id (const RrunConfig *config, const char *name);

/* docker's rename: the record's name (and its spec's), unique among all containers.
   The record is rewritten in place: a running container's exit, recorded later, keeps
   it. */
gboolean rrun_state_rename (const RrunConfig *config, const RrunState *state,
                            const char *name, GError **error);

/* Names are unique among all containers: STORAGE/names/NAME is a symbolic link to the ID
   of the container that holds it, made under the lock STORAGE/names/.lock, so two
   concurrent creates (or a create and a rename) cannot both take one name. An entry
   whose container is gone or debris is stale and taken over. Reserve after the record's
   directory exists with its lock held (a record being set up is not debris). On a name
   in use: RRUN_ERROR_BUSY, and with out_other its holder's ID. */
gboolean rrun_container_name_reserve (const RrunConfig *config, const char *name,
                                      const char *id, char **out_other, GError **error);

/* Free a name if id holds it (rm, rename, a create that failed). */
void rrun_container_name_release (const RrunConfig *config, const char *name, const char *id);

/* The spec stored in a record (rrun start runs it again). */
gboolean rrun_state_read_spec (const RrunConfig *config, const char *id,
                               RrunContainerSpec *out_spec, GError **error);

G_END_DECLS
