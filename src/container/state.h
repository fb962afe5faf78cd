/* Running containers on disk: RUN_ROOT/containers/ID/state.json, written once the command
   runs and removed with the run dir when it ends. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "config.h"

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
  char *run_dir;
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

gboolean rrun_state_write (const RrunState *state, GError **error);

/* Running containers (a state whose PID 1 no longer exists is skipped), oldest first. */
gboolean rrun_state_list (const RrunConfig *config, GPtrArray **out_states, GError **error);

/* By full id, unique id prefix or name; RRUN_ERROR_NOT_FOUND otherwise. */
gboolean rrun_state_find (const RrunConfig *config, const char *what, RrunState **out_state,
                          GError **error);

G_END_DECLS
