/* The container's user namespace, created and mapped before the rest of the set-up.

   newuidmap and newgidmap are setuid programs: together they are the largest single cost
   of a container's start (~10 ms on a small VM). Creating the namespace first, with a tiny
   keeper process, lets them run while rrun opens the store, reads the image and plans the
   mounts; the holder (namespaces.c) then enters the namespace with setns instead of
   creating it. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "userns/idmap.h"

G_BEGIN_DECLS

typedef struct _RrunEarlyUserns RrunEarlyUserns;

/* Clone the keeper (CLONE_NEWUSER, sharing this process's memory: no page-table copy)
   and start writing map into its namespace. Returns without waiting for the helpers. */
gboolean rrun_early_userns_start (const RrunIdMap *map, RrunEarlyUserns **out, GError **error);

/* An fd of the namespace (O_CLOEXEC), for setns; valid until the object is freed. */
int rrun_early_userns_fd (const RrunEarlyUserns *early);

/* Wait until the maps are written (a helper's failure becomes the error), then let the
   keeper go: the fd (and whoever entered the namespace) keeps the namespace alive. */
gboolean rrun_early_userns_finish (RrunEarlyUserns *early, GError **error);

/* Reap everything still running (helpers, keeper) and close the fd. NULL is fine. */
void rrun_early_userns_free (RrunEarlyUserns *early);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunEarlyUserns, rrun_early_userns_free)

G_END_DECLS
