/* Run a program as root of a fresh user namespace with rrun's id map: how rrun extracts
   layers (so owners map through the subuid range) and removes trees that hold files owned
   by subordinate ids, which the user cannot delete from outside. */
#pragma once

#include <glib.h>

#include "userns/idmap.h"

G_BEGIN_DECLS

/* Clone with CLONE_NEWUSER, write the maps, then exec argv as uid 0/gid 0 inside.
   argv[0] NULL means "this rrun binary" (exec'd through /proc/self/exe).
   stdin_fd (or -1 for /dev/null) becomes the child's stdin. The child's stderr is
   collected: on failure its last line becomes the error message. out_status gets the
   exit status (0 on success); a non-zero status is an error. */
gboolean rrun_userns_exec (const RrunIdMap *map, const char *const *argv, int stdin_fd,
                           char **out_stdout, GError **error);

/* The error for a failed clone(CLONE_NEWUSER), with the hint that fits errsv. */
gboolean rrun_userns_clone_error (GError **error, int errsv);

G_END_DECLS
