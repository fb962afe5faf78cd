/* rrun stop, wait, start and restart of a container another rrun (or a monitor) runs. */
#pragma once

#include <glib.h>

#include "config.h"
#include "container/record.h"

G_BEGIN_DECLS

/* Send the container's stop signal (--stop-signal, the image's STOPSIGNAL, SIGTERM),
   SIGKILL after timeout seconds (< 0: its --stop-timeout, 10 by default), and return once
   its exit is recorded. A container that is not running is no error. */
gboolean rrun_container_stop (const RrunConfig *config, const RrunState *state, int timeout,
                              GError **error);

/* Leave the marker that keeps the container's monitor from restarting it (rrun stop,
   rm -f; docker's "manually stopped"); the next start removes it. */
gboolean rrun_container_mark_stopped (const RrunConfig *config, const char *id,
                                      GError **error);

/* Block until the container has exited and its exit is recorded; its exit code. */
gboolean rrun_container_wait_exit (const RrunConfig *config, const RrunState *state,
                                   int *out_exit_code, GError **error);

/* Start a stopped container again from its stored spec, under a new monitor. */
gboolean rrun_container_start_again (const RrunConfig *config, const RrunState *state,
                                     GError **error);

/* --requires: start each named container that exists and is stopped (as rrun start does),
   before the container that names them; missing ones are left to create's check. */
gboolean rrun_container_start_requires (const RrunConfig *config, char **requires,
                                        GError **error);

G_END_DECLS
