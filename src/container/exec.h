/* rrun exec: a new process in a running container (container/exec.c). */
#pragma once

#include <glib.h>

#include "config.h"
#include "container/record.h"
#include "container/spec.h"

G_BEGIN_DECLS

typedef struct
{
  char **argv;          /* the command (searched in the container's PATH) */
  char **env;           /* -e K=V (or K: the host's value), after the container's */
  char *user;           /* -u; NULL: the container's user */
  char *workdir;        /* -w; NULL: the container's working directory */
  gboolean interactive; /* -i: stdin stays connected; else /dev/null */
  gboolean tty;         /* -t: a terminal in the container's devpts, relayed */
  gboolean privileged;  /* --privileged: every capability, no seccomp filter */
  char **env_files;     /* --env-file, after the container's */
  gboolean detach;      /* -d: stdio on /dev/null, return once the command runs */
} RrunExecOptions;

void rrun_exec_options_clear (RrunExecOptions *o);

/* Run o->argv in the running container s (spec: the container's stored spec) and wait;
   its exit status (128+N for signal N). Start errors as run's (126, 127). With
   o->detach, return 0 as soon as the command runs. */
gboolean rrun_container_exec (const RrunConfig *config, const RrunState *state,
                              const RrunContainerSpec *spec, const RrunExecOptions *o,
                              int *out_status, GError **error);

G_END_DECLS
