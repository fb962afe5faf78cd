/* Path and directory helpers that know nothing of containers. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* mkdir -p with mode for the directories it creates. */
gboolean rrun_path_mkdir_p (const char *path, mode_t mode, GError **error);

/* rm -rf that does not follow symlinks and stays on one file system; ENOENT is success. */
gboolean rrun_path_rm_rf (const char *path, GError **error);

/* Write a file atomically: a temporary file in the same directory, fsync optional, rename. */
gboolean rrun_path_write_atomic (const char *path, const void *data, gsize len, mode_t mode,
                                 GError **error);

/* A fresh random hex id of nbytes*2 characters. */
char *rrun_path_random_hex (guint nbytes);

G_END_DECLS
