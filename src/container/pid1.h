/* A running container's PID 1 from another rrun (stop, kill, exec): opened as a pidfd
   and checked against the start time in the record, so that a PID the kernel reused for
   another process is never signalled or joined. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "container/record.h"

G_BEGIN_DECLS

/* Field 22 of /proc/PID/stat (clock ticks after boot); 0 when pid is gone. */
guint64 rrun_pid1_start_time (pid_t pid);

/* A pidfd of state's PID 1 (O_CLOEXEC), after checking that it is the process the
   record names; RRUN_ERROR_NOT_FOUND when it has exited. */
gboolean rrun_pid1_open (const RrunState *state, int *out_pidfd, GError **error);

/* pidfd_send_signal. */
gboolean rrun_pid1_signal (int pidfd, int signo, GError **error);

/* Wait up to timeout_ms (-1: no limit) for the process to exit: TRUE when it has. */
gboolean rrun_pid1_wait_exit (int pidfd, int timeout_ms);

G_END_DECLS
