/* Which PATH directories surely lack the command, judged from the image's layers before
   the container starts, so that the container's PATH search can skip them.

   Why: fuse-overlayfs answers the first lookup in a directory by reading all of it, in
   every layer (one statx, whiteout and opaque check per entry). A PATH search for `true`
   in busybox makes it read /usr/sbin, /usr/bin and /sbin whole before /bin, ~1000 system
   calls, on every start with --userns=keep-id. */
#pragma once

#include <glib.h>

#include "child/plan.h"

G_BEGIN_DECLS

/* Bit i set: the i-th entry of path (0-based, at most 64) cannot hold cmd in the
   container, so an execve there would fail with ENOENT. Conservative: an entry is set
   only when it is absolute and plain (no "." or ".." component), no mount of the plan is
   at, above or below it, and in every layer dir/cmd is missing (ENOENT, found without
   following any symlink). Anything else (a symlink on the way, a whiteout, a file where a
   directory should be) leaves the bit clear, and the container tries the entry as
   execvp would. */
guint64 rrun_path_probe_absent (const char *path, const char *cmd,
                                const char *const *layer_dirs, guint n_layers,
                                const RrunMountOp *mounts, gsize n_mounts);

G_END_DECLS
