/* The context's stat cache of `rrun build`: the sha256 of a file's content, kept with the
   file's device, inode, size, mtime and ctime (nanoseconds), so that digesting the files a
   COPY copies (the step's cache key) does not read a file that did not change since the
   last build. One file per context directory under STORAGE/build-stat-cache, written
   to a temporary file and renamed; a damaged one is ignored. A file changed in the last
   two seconds is read every time: a change within the time stamps' granularity could
   otherwise keep its old digest (git's "racy" files). */
#pragma once

#include <glib.h>
#include <sys/stat.h>

G_BEGIN_DECLS

typedef struct RrunStatCache RrunStatCache;

/* The cache of the context directory context, kept under dir (made when saved). */
RrunStatCache *rrun_stat_cache_open (const char *dir, const char *context);

/* The hex sha256 of the regular file at path (st: its lstat). Reads the file only when the
   cache has no entry that matches st. NULL with *error when the file cannot be read. A
   NULL cache reads every time. */
char *rrun_stat_cache_digest (RrunStatCache *cache, const char *path, const struct stat *st,
                              GError **error);

/* How many digests were computed by reading (for tests and the bench). */
guint rrun_stat_cache_reads (RrunStatCache *cache);

/* Write the cache when an entry changed (past 200,000 entries, only the ones this build
   used are kept). */
gboolean rrun_stat_cache_save (RrunStatCache *cache, GError **error);

void rrun_stat_cache_free (RrunStatCache *cache);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunStatCache, rrun_stat_cache_free)

G_END_DECLS
