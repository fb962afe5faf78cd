/* flock(2) locks on files: the store's `lock` (shared for readers, exclusive for writers)
   and the per-container and per-staging locks that tell live from stale. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Open (creating, mode 0600) a lock file; the fd is O_CLOEXEC so helpers rrun starts
   (fuse-overlayfs, the network helper) never keep a lock alive after rrun dies. */
gboolean rrun_lock_open (int dirfd, const char *path, int *out_fd, GError **error);

/* Take (or convert to) a shared or exclusive lock. With wait FALSE a held lock is
   RRUN_ERROR_BUSY naming what. Waiting is announced once at info level. */
gboolean rrun_lock_take (int fd, gboolean exclusive, gboolean wait, const char *what,
                         GError **error);

/* Try an exclusive lock without waiting: TRUE when we got it (nobody else holds it). */
gboolean rrun_lock_try_exclusive (int fd);

void rrun_lock_release (int fd);

/* Whether dir/lock is held by a live process: the one test of "live or stale" for a
   container (its rrun or monitor holds it while the container exists) and a staging
   directory. A missing or unopenable lock file is not held. */
gboolean rrun_lock_dir_is_held (const char *dir);

G_END_DECLS
