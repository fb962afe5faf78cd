/* The host side while the container runs: forwards signals to its PID 1, copies the
   terminal both ways with -t, and waits for the exit status. */
#pragma once

#include <glib.h>
#include <signal.h>

#include "container/namespaces.h"

G_BEGIN_DECLS

/* The signals rrun forwards (plus SIGCHLD, which it handles). */
void rrun_relay_signal_set (sigset_t *set);

/* Called once when the container's PID 1 has exited, while its namespace holder still
   unmounts and empties the writable layer: what rrun can clean up meanwhile. */
typedef void (*RrunRelayExitHook) (gpointer user_data);

/* Run until the namespace holder exits; out_status is the command's exit status
   (128+N for signal N). sigfd is a signalfd for rrun_relay_signal_set, blocked since
   before clone so that nothing is lost. on_exit (may be NULL) is called when PID 1 is
   seen to exit, at the latest when the holder has. */
gboolean rrun_relay_run (RrunContainerProcess *proc, int sigfd, RrunRelayExitHook on_exit,
                         gpointer user_data, int *out_status, GError **error);

G_END_DECLS
