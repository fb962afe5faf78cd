/* The container record (docs/architecture.md, "Containers: spec, verbs, record"): one
   directory per container in the store, STORAGE/containers/ID/, holding the writable
   layer (upper, work), the image id, the lock its rrun holds while the container exists,
   and container.json (the spec and the state). The run dir RUN_ROOT/containers/ID holds
   only what lives while it runs (the root's mount point, /etc files, the network
   helper's socket). A record whose lock nobody holds is stale: rrun_container_gc removes
   it and its run dir. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "config.h"
#include "container/spec.h"
#include "storage/store.h"
#include "userns/idmap.h"

G_BEGIN_DECLS

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
  char **tmpfs;    /* --tmpfs as given */
  char *userns;    /* its --userns mode as run ("auto", "keep-id", "single"), or NULL */
} RrunState;

void rrun_state_free (RrunState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunState, rrun_state_free)

#define RRUN_RECORD_FILE "container.json"

/* STORAGE/containers/ID */
char *rrun_record_dir (const RrunConfig *config, const char *id);

/* Write container.json (state and spec) into the record, atomically. */
gboolean rrun_state_write (const RrunConfig *config, const RrunState *state,
                           const RrunContainerSpec *spec, GError **error);

/* Remove stale records (their writable layers) and run dirs without a record. */
gboolean rrun_container_gc (const RrunConfig *config, RrunStore *store,
                            const RrunIdMap *storage_map, GError **error);

/* Running containers (a state whose PID 1 no longer exists is skipped), oldest first. */
gboolean rrun_state_list (const RrunConfig *config, GPtrArray **out_states, GError **error);

/* By full id, unique id prefix or name; RRUN_ERROR_NOT_FOUND otherwise. */
gboolean rrun_state_find (const RrunConfig *config, const char *what, RrunState **out_state,
                          GError **error);

G_END_DECLS
