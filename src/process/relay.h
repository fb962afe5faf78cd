/* The host side while the container runs: forwards signals to its PID 1, copies the
   terminal both ways with -t, and waits for the exit status. */
#pragma once

#include <glib.h>
#include <signal.h>

#include "namespaces.h"

G_BEGIN_DECLS

/* The signals rrun forwards (plus SIGCHLD, which it handles). */
void rrun_relay_signal_set (sigset_t *set);

/* Run until the namespace holder exits; out_status is the command's exit status
   (128+N for signal N). sigfd is a signalfd for rrun_relay_signal_set, blocked since
   before clone so that nothing is lost. */
gboolean rrun_relay_run (RrunContainerProcess *proc, int sigfd, int *out_status,
                         GError **error);

G_END_DECLS
