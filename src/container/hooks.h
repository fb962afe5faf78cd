/* OCI hooks of CDI specs at the runtime spec's hook points (container/hooks.c). */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "container/container.h"

G_BEGIN_DECLS

/* create: the child's createContainer and startContainer hooks into the plan, and the
   memfd their state JSON goes into. */
gboolean rrun_container_hooks_prepare (RrunContainer *c, GError **error);
/* start, once PID 1 exists: the state for the child's hooks, then the createRuntime (and
   prestart) hooks on the host; an error stops the start. */
gboolean rrun_container_hooks_created (RrunContainer *c, pid_t pid1, GError **error);
/* Once the command runs, and once the container is gone (delete): failures are warnings. */
void rrun_container_hooks_poststart (RrunContainer *c);
void rrun_container_hooks_poststop (RrunContainer *c);

/* The error of a failed hook: step RRUN_STEP_HOOK (value: errno), RRUN_STEP_HOOK_STATUS
   (exit status, -N for signal N) or RRUN_STEP_HOOK_TIMEOUT (value: seconds). */
void rrun_hooks_failure_error (const char *phase, const char *path, int step, int value,
                               GError **error);

G_END_DECLS
