/* The stat cache of a build context: see stat-cache.h. */
#include "build/stat-cache.h"

#include "error.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct
{
  guint64 dev, ino, size;
  gint64 mtime_ns, ctime_ns;
  char digest[65];
  gboolean used;
} Entry;

struct RrunStatCache
{
  char *path;          /* the cache file */
  GHashTable *entries; /* file path -> Entry* */
  gboolean dirty;
  guint reads;
};

static gint64
ns (const struct timespec *t)
{
  return (gint64) t->tv_sec * 1000000000 + t->tv_nsec;
}

/* One line: DEV INO SIZE MTIME_NS CTIME_NS SHA256 PATH (the path last: it may hold spaces;
   a path with a newline is never cached). */
static void
load (RrunStatCache *c)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (c->path, &text, NULL, NULL))
    return;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      Entry e = { 0 };
      int off = -1;
      if (sscanf (lines[i], "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNd64 " %" SCNd64 " %64[0-9a-f] %n",
                  &e.dev, &e.ino, &e.size, &e.mtime_ns, &e.ctime_ns, e.digest, &off) != 6
          || off < 0 || strlen (e.digest) != 64 || lines[i][off] != '/')
        continue;
      g_hash_table_replace (c->entries, g_strdup (lines[i] + off), g_memdup2 (&e, sizeof e));
    }
}

RrunStatCache *
rrun_stat_cache_open (const char *dir, const char *context)
{
  RrunStatCache *c = g_new0 (RrunStatCache, 1);
  g_autofree char *name = g_compute_checksum_for_string (G_CHECKSUM_SHA256, context, -1);

  c->path = g_build_filename (dir, name, NULL);
  c->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  load (c);
  return c;
}

static char *
read_digest (const char *path, GError **error)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guint8 *buf = g_malloc (1 << 16);
  rrun_autofd int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  ssize_t n;

  if (fd < 0)
    {
      rrun_throw_errno (error, errno, "cannot read \"%s\"", path);
      return NULL;
    }
  while ((n = read (fd, buf, 1 << 16)) > 0)
    g_checksum_update (sum, buf, (gsize) n);
  if (n < 0)
    {
      rrun_throw_errno (error, errno, "cannot read \"%s\"", path);
      return NULL;
    }
  return g_strdup (g_checksum_get_string (sum));
}

char *
rrun_stat_cache_digest (RrunStatCache *c, const char *path, const struct stat *st, GError **error)
{
  Entry *e = c ? g_hash_table_lookup (c->entries, path) : NULL;
  g_autofree char *digest = NULL;
  struct timespec now;
  gint64 newest;

  if (e && e->dev == (guint64) st->st_dev && e->ino == (guint64) st->st_ino
      && e->size == (guint64) st->st_size && e->mtime_ns == ns (&st->st_mtim)
      && e->ctime_ns == ns (&st->st_ctim))
    {
      e->used = TRUE;
      return g_strdup (e->digest);
    }
  digest = read_digest (path, error);
  if (digest == NULL || c == NULL)
    return g_steal_pointer (&digest);
  c->reads++;
  clock_gettime (CLOCK_REALTIME, &now);
  newest = MAX (ns (&st->st_mtim), ns (&st->st_ctim));
  if (ns (&now) - newest < (gint64) 2 * 1000000000 || strchr (path, '\n'))
    {
      g_hash_table_remove (c->entries, path);
      return g_steal_pointer (&digest);
    }
  e = g_new0 (Entry, 1);
  e->dev = st->st_dev;
  e->ino = st->st_ino;
  e->size = st->st_size;
  e->mtime_ns = ns (&st->st_mtim);
  e->ctime_ns = ns (&st->st_ctim);
  memcpy (e->digest, digest, 65);
  e->used = TRUE;
  g_hash_table_replace (c->entries, g_strdup (path), e);
  c->dirty = TRUE;
  return g_steal_pointer (&digest);
}

guint
rrun_stat_cache_reads (RrunStatCache *c)
{
  return c ? c->reads : 0;
}

gboolean
rrun_stat_cache_save (RrunStatCache *c, GError **error)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree char *dir = NULL;
  GHashTableIter it;
  gpointer k, v;
  guint unused = 0;

  /* Entries of files this build did not copy stay (another --target uses them), up to a
     bound: past it only this build's are kept. */
  gboolean keep_all = g_hash_table_size (c->entries) <= 200000;

  g_hash_table_iter_init (&it, c->entries);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      Entry *e = v;
      if (!e->used && !keep_all)
        {
          unused++;
          continue;
        }
      g_string_append_printf (out, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                              " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %s %s\n",
                              e->dev, e->ino, e->size, e->mtime_ns, e->ctime_ns, e->digest,
                              (char *) k);
    }
  if (!c->dirty && unused == 0)
    return TRUE;
  dir = g_path_get_dirname (c->path);
  if (g_mkdir_with_parents (dir, 0700) < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", dir);
  /* g_file_set_contents: a temporary file renamed over the old one. */
  return g_file_set_contents_full (c->path, out->str, (gssize) out->len,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

void
rrun_stat_cache_free (RrunStatCache *c)
{
  if (c == NULL)
    return;
  g_free (c->path);
  g_hash_table_unref (c->entries);
  g_free (c);
}
