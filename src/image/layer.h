/* Layer tarballs: extraction with libarchive inside the user namespace (so owners map
   through the subuid range), OCI whiteouts turned into overlay whiteouts, and path
   confinement against hostile layers. */
#pragma once

#include <glib.h>

#include "userns/idmap.h"

G_BEGIN_DECLS

typedef struct
{
  char *diff_id;            /* "sha256:<hex>" of the uncompressed tar stream */
  guint64 size;             /* bytes of regular file content */
  guint64 entries;          /* entries written */
  guint64 chown_failures;   /* owners outside the mapped range: left to the user */
  guint32 max_unmapped_id;  /* the largest such uid or gid */
  guint64 devices_skipped;  /* character and block devices (cannot be created) */
  char *first_device;       /* the first one skipped, for the warning */
} RrunLayerStats;

void rrun_layer_stats_clear (RrunLayerStats *stats);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RrunLayerStats, rrun_layer_stats_clear)

/* Host side: extract the (plain, gzip, zstd, xz, bzip2) tar stream on tar_fd into the
   existing empty directory dest by running `rrun __internal extract-layer DEST` as root of
   a user namespace with map. Hostile or corrupt archives are RRUN_ERROR_CORRUPT. Warnings
   of the helper (skipped devices, unmapped owners) reach stderr as they are.
   out_unmapped (may be NULL): how many files could not get their owner (the map lacked
   it) and belong to the user instead. */
gboolean rrun_layer_extract (const RrunIdMap *map, int tar_fd, const char *dest,
                             char **out_diff_id, guint64 *out_size, guint64 *out_unmapped,
                             GError **error);

/* Host side: remove trees that may hold files of subordinate ids (`rrun __internal
   rm-tree PATH...` in the user namespace). Missing paths are success. */
gboolean rrun_layer_remove_trees (const RrunIdMap *map, const char *const *paths,
                                  GError **error);

/* Helper side (runs as root of the user namespace): extract the tar stream on tar_fd into
   the directory dest_dir, filling stats. Refuses absolute paths, "..", hard links out of
   the layer and writes through symlinks (RRUN_ERROR_CORRUPT). */
gboolean rrun_layer_extract_stream (int tar_fd, const char *dest_dir, RrunLayerStats *stats,
                                    GError **error);

/* Host side: write the upper directory of a container's overlay as an OCI layer tar to
   the new file out_path (`rrun __internal diff-layer UPPER OUT` as root of a user
   namespace with map; layer-diff.c tells how whiteouts and owners are written). */
gboolean rrun_layer_diff (const RrunIdMap *map, const char *upper, const char *out_path,
                          GError **error);

/* Helper side: the tar of upper on out_fd; out_entries (may be NULL) counts entries. */
gboolean rrun_layer_diff_write (const char *upper, int out_fd, guint64 *out_entries,
                                GError **error);

/* Helpers for the whiteout conventions (exposed for tests): TRUE when base names an
   OCI whiteout; *out_opaque tells the opaque marker ".wh..wh..opq" from ".wh.NAME", whose
   NAME goes to *out_target (not owned). */
gboolean rrun_layer_is_whiteout (const char *base, gboolean *out_opaque,
                                 const char **out_target);

/* Normalise a tar member path: strip leading "./" and trailing "/", collapse "//";
   NULL (with error) for absolute paths and ".." components. "" means the layer root. */
char *rrun_layer_clean_path (const char *path, GError **error);

G_END_DECLS
