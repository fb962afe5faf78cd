/* Killing a process with everything it started: its descendants, and the members of the
   sessions and process groups they lead (what a shell's background job or a daemon's
   double fork leaves behind when its parent is gone). */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* SIGKILL root and its tree, found in /proc: each round stops the members it finds
   (SIGSTOP: a stopped process cannot fork), until a round finds none new; then all are
   killed, and those that are this process's children (root, and orphans reparented to
   it as a subreaper) reaped. Returns once no member is alive, or after timeout_ms; the
   number of members still alive then (0: all gone). A process that left the tree by
   starting a session of its own after its parent died escapes, as under docker. */
guint rrun_process_kill_tree (pid_t root, guint timeout_ms);

G_END_DECLS
