/* Copy-up: a new, empty volume mounted over a directory that has content in the image
   gets that content first, as docker does (docs/rrun-volume.1.md). The copy is made on the
   host side before clone, from the image's layers (merged as the overlay would show
   them: whiteouts and opaque directories honoured), by `rrun __internal copy-up` running
   as root of a user namespace, so owners of subordinate IDs are kept. Nothing of it runs
   between clone and exec. */
#pragma once

#include <glib.h>

#include "userns/idmap.h"

G_BEGIN_DECLS

/* The directories that make up rel ("var/lib/db", no leading slash) in the merged view of
   layers (bottom first), top first. Empty when rel is absent, whited out or not a
   directory in the image. *out_unsure is set when a path could not be inspected as the
   user (a directory of a subordinate ID closed to others): the helper then decides. */
GPtrArray *rrun_copy_up_sources (const char *const *layers, guint n_layers, const char *rel,
                                 gboolean *out_unsure);

/* Host side: copy the image's rel into the directory dest through the user namespace of
   map (volume: its name, for messages). Does nothing when the image has no directory
   there. */
gboolean rrun_copy_up (const RrunIdMap *map, const char *const *layers, guint n_layers,
                       const char *rel, const char *dest, const char *volume, GError **error);

/* Helper side (root of the user namespace): the copy itself. layers_top_first are the
   layer directories, top first. Owners, modes, times, hard links, symlinks, FIFOs and
   xattrs (where the file system takes them) are kept; devices and sockets are skipped. */
gboolean rrun_copy_up_tree (const char *const *layers_top_first, const char *rel,
                            const char *dest, GError **error);

/* Host side of the U volume option: chown everything below path to uid:gid (ids of the
   container, map being its user namespace map). */
gboolean rrun_chown_tree (const RrunIdMap *map, const char *path, guint32 uid, guint32 gid,
                          GError **error);

/* Helper side of rrun_chown_tree. */
gboolean rrun_chown_tree_helper (const char *path, guint32 uid, guint32 gid, GError **error);

G_END_DECLS
