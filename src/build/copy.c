/* COPY and ADD: see copy.h. */
#include "build/copy.h"

#include "build/config-edit.h"
#include "build/dockerfile.h"
#include "build/fetch-url.h"
#include "build/stat-cache.h"
#include "error.h"
#include "util/fd.h"

#include <stdlib.h>
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

typedef struct
{
  char *dst;     /* relative to the root, no leading '/' */
  char *src;     /* absolute source path, or NULL (a made directory, a heredoc) */
  char *content; /* a heredoc's text */
  char *link;    /* a symlink's target */
  mode_t type;   /* S_IFREG, S_IFDIR, S_IFLNK */
  mode_t perm;
  guint32 uid, gid;
  gint64 mtime;
  gint64 size;
} Entry;

struct RrunCopyPlan
{
  GHashTable *entries; /* dst -> Entry* */
  char *digest;
};

static void
entry_free (gpointer p)
{
  Entry *e = p;
  g_free (e->dst);
  g_free (e->src);
  g_free (e->content);
  g_free (e->link);
  g_free (e);
}

void
rrun_copy_plan_free (RrunCopyPlan *plan)
{
  if (plan == NULL)
    return;
  g_hash_table_unref (plan->entries);
  g_free (plan->digest);
  g_free (plan);
}

/* Whether a directory on the way to rel in the layer dir is a symlink: followed on the
   host, it would leave the layer (a hostile image's "/data -> /home/you/.ssh"), so such
   paths are never read. */
static gboolean
crosses_symlink (const char *dir, const char *rel)
{
  g_auto(GStrv) parts = g_strsplit (rel, "/", -1);
  g_autoptr(GString) p = g_string_new (dir);

  for (guint i = 0; parts[i] && parts[i + 1]; i++)
    {
      struct stat st;
      if (*parts[i] == '\0')
        continue;
      g_string_append_printf (p, "/%s", parts[i]);
      if (lstat (p->str, &st) == 0 && S_ISLNK (st.st_mode))
        return TRUE;
    }
  return FALSE;
}

/* The topmost layer holding rel (lstat), or NULL; a whiteout hides what is below. */
static char *
lower_find (GPtrArray *dirs, const char *rel, struct stat *out_st)
{
  for (guint i = dirs ? dirs->len : 0; i-- > 0;)
    {
      g_autofree char *p = g_build_filename (dirs->pdata[i], rel, NULL);
      struct stat st;
      if (crosses_symlink (dirs->pdata[i], rel))
        return NULL;
      if (lstat (p, &st) == 0)
        {
          if (S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0))
            return NULL;
          *out_st = st;
          return g_steal_pointer (&p);
        }
    }
  return NULL;
}

static guint32
to_container (GArray *mappings, guint32 host)
{
  for (guint i = 0; mappings && i < mappings->len; i++)
    {
      const RrunIdMapping *m = &g_array_index (mappings, RrunIdMapping, i);
      if (host >= m->host_id && host - m->host_id < m->count)
        return m->container_id + (host - m->host_id);
    }
  return 0;
}

/* name in an /etc/passwd or /etc/group of the image: its id (field 3) and, for passwd,
   the primary group (field 4). */
static gboolean
lookup_name (GPtrArray *dirs, const char *file, const char *name, guint32 *out_id,
             guint32 *out_gid)
{
  struct stat st;
  g_autofree char *path = lower_find (dirs, file, &st);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;

  if (path == NULL || !g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], ":", -1);
      if (g_strv_length (f) >= 3 && strcmp (f[0], name) == 0)
        {
          *out_id = (guint32) g_ascii_strtoull (f[2], NULL, 10);
          if (out_gid && g_strv_length (f) >= 4)
            *out_gid = (guint32) g_ascii_strtoull (f[3], NULL, 10);
          return TRUE;
        }
    }
  return FALSE;
}

static gboolean
is_number (const char *s)
{
  if (*s == '\0')
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isdigit (*s))
      return FALSE;
  return TRUE;
}

static gboolean
parse_chown (const RrunCopyOptions *o, guint32 *uid, guint32 *gid, GError **error)
{
  g_auto(GStrv) parts = NULL;
  guint32 primary = 0;

  *uid = *gid = 0;
  if (o->chown == NULL || *o->chown == '\0')
    return TRUE;
  parts = g_strsplit (o->chown, ":", 2);
  if (is_number (parts[0]))
    *uid = primary = (guint32) g_ascii_strtoull (parts[0], NULL, 10);
  else if (!lookup_name (o->lower_dirs, "etc/passwd", parts[0], uid, &primary))
    return rrun_throw (error, RRUN_ERROR_NOT_FOUND,
                       "--chown: no user \"%s\" in the image's /etc/passwd", parts[0]);
  if (parts[1] == NULL)
    *gid = primary;
  else if (is_number (parts[1]))
    *gid = (guint32) g_ascii_strtoull (parts[1], NULL, 10);
  else if (!lookup_name (o->lower_dirs, "etc/group", parts[1], gid, NULL))
    return rrun_throw (error, RRUN_ERROR_NOT_FOUND,
                       "--chown: no group \"%s\" in the image's /etc/group", parts[1]);
  return TRUE;
}

typedef struct
{
  RrunCopyPlan *plan;
  const RrunCopySource *src;
  const RrunCopyOptions *o;
  guint32 uid, gid;
  gboolean chmod;
  mode_t mode;
} Planner;

static void
add_entry (Planner *p, const char *dst, const char *src, const struct stat *st)
{
  Entry *e = g_new0 (Entry, 1);

  e->dst = g_strdup (dst);
  e->src = g_strdup (src);
  e->type = st->st_mode & S_IFMT;
  e->perm = p->chmod ? p->mode : st->st_mode & 07777;
  e->uid = p->uid;
  e->gid = p->gid;
  e->mtime = st->st_mtime;
  e->size = S_ISREG (st->st_mode) ? st->st_size : 0;
  if (S_ISLNK (st->st_mode))
    {
      char target[PATH_MAX + 1];
      ssize_t n = readlink (src, target, PATH_MAX);
      target[n > 0 ? n : 0] = '\0';
      e->link = g_strdup (target);
      e->perm = 0777;
    }
  g_hash_table_replace (p->plan->entries, e->dst, e);
}

/* Copy the tree at src (relative path rel in the context, for .dockerignore) to dst. */
static gboolean
add_tree_full (Planner *p, const char *src, const char *rel, const char *dst,
               gboolean excluded, GError **error);

static gboolean
add_tree (Planner *p, const char *src, const char *rel, const char *dst, GError **error)
{
  return add_tree_full (p, src, rel, dst, FALSE, error);
}

/* excluded: the directory itself is excluded, but an exception may bring back what is
   in it (its entry is made, if needed, as a parent of what is). */
static gboolean
add_tree_full (Planner *p, const char *src, const char *rel, const char *dst,
               gboolean excluded, GError **error)
{
  struct stat st;
  DIR *d;
  struct dirent *de;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  if (lstat (src, &st) < 0)
    return rrun_throw_errno (error, errno, "cannot read \"%s\"", rel ? rel : src);
  if (!S_ISDIR (st.st_mode))
    {
      if (S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0))
        {
          /* An overlay whiteout in a layer of a --from image: what is below is gone. */
          g_autofree char *prefix = g_strconcat (dst, "/", NULL);
          GHashTableIter it;
          gpointer k;
          g_hash_table_remove (p->plan->entries, dst);
          g_hash_table_iter_init (&it, p->plan->entries);
          while (g_hash_table_iter_next (&it, &k, NULL))
            if (g_str_has_prefix (k, prefix))
              g_hash_table_iter_remove (&it);
          return TRUE;
        }
      if (!S_ISREG (st.st_mode) && !S_ISLNK (st.st_mode))
        return TRUE; /* sockets, fifos, devices: not copied */
      add_entry (p, dst, src, &st);
      return TRUE;
    }
  if (*dst && !excluded)
    add_entry (p, dst, src, &st);
  d = opendir (src);
  if (d == NULL)
    return rrun_throw_errno (error, errno, "cannot read directory \"%s\"", rel ? rel : src);
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, ".."))
      g_ptr_array_add (names, g_strdup (de->d_name));
  closedir (d);
  for (guint i = 0; i < names->len; i++)
    {
      const char *n = names->pdata[i];
      g_autofree char *s = g_build_filename (src, n, NULL);
      g_autofree char *r = rel ? (*rel && strcmp (rel, ".") ? g_strconcat (rel, "/", n, NULL) : g_strdup (n)) : NULL;
      g_autofree char *t = *dst ? g_strconcat (dst, "/", n, NULL) : g_strdup (n);
      gboolean out = r && rrun_ignore_matches (p->src->ignore, r);
      struct stat cst;
      if (out && !(rrun_ignore_has_exceptions (p->src->ignore) && lstat (s, &cst) == 0
                   && S_ISDIR (cst.st_mode)))
        continue;
      if (!add_tree_full (p, s, r, t, out, error))
        return FALSE;
    }
  return TRUE;
}

/* ADD of a local tar archive (plain, gzip, bzip2, xz or zstd): its members go into the
   directory dst, with the archive's modes and owners (--chown, when given, wins) and mtimes.
   Member files are written under the options' temp_dir, as heredocs are. *out_is_archive
   is FALSE (and nothing is added) for a file libarchive does not read as a tar. Member
   names are cleaned as layer paths are: no absolute path and no ".." leave dst. */
static gboolean
add_archive (Planner *p, const char *path, const char *dst, gboolean *out_is_archive,
             GError **error)
{
  struct archive *a = archive_read_new ();
  struct archive_entry *ae;
  g_autofree char *dir = NULL;
  g_autofree guint8 *buf = NULL;
  guint n = 0;
  int r;
  gboolean ok = FALSE;

  *out_is_archive = FALSE;
  archive_read_support_filter_all (a);
  archive_read_support_format_tar (a);
  if (archive_read_open_filename (a, path, 1 << 16) != ARCHIVE_OK
      || (r = archive_read_next_header (a, &ae)) == ARCHIVE_FATAL)
    {
      archive_read_free (a);
      return TRUE; /* not an archive: copied as a file */
    }
  *out_is_archive = TRUE;
  dir = g_build_filename (p->o->temp_dir, "add-XXXXXX", NULL);
  if (g_mkdtemp (dir) == NULL)
    {
      rrun_throw_errno (error, errno, "cannot create a directory in \"%s\"", p->o->temp_dir);
      goto out;
    }
  buf = g_malloc (1 << 16);
  for (; r != ARCHIVE_EOF; r = archive_read_next_header (a, &ae))
    {
      const char *name;
      g_autofree char *clean = NULL, *target = NULL;
      mode_t type;
      Entry *e;

      if (r < ARCHIVE_WARN)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "cannot read the archive \"%s\": %s",
                      path, archive_error_string (a));
          goto out;
        }
      name = archive_entry_pathname (ae);
      if (name == NULL)
        continue;
      {
        g_autofree char *abs = g_canonicalize_filename (name, "/");
        g_auto(GStrv) parts = g_strsplit (name, "/", -1);
        for (guint i = 0; parts[i]; i++)
          if (strcmp (parts[i], "..") == 0)
            {
              rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                          "the archive \"%s\" has a member \"%s\" outside its root", path,
                          name);
              goto out;
            }
        if (strcmp (abs, "/") == 0)
          continue; /* "./" */
        clean = *dst ? g_strconcat (dst, abs, NULL) : g_strdup (abs + 1);
      }
      type = archive_entry_filetype (ae);
      if (archive_entry_hardlink (ae))
        {
          /* A hard link: a copy of the member it names (already read: tar order). */
          g_autofree char *la = g_canonicalize_filename (archive_entry_hardlink (ae), "/");
          g_autofree char *ldst = *dst ? g_strconcat (dst, la, NULL) : g_strdup (la + 1);
          Entry *from = g_hash_table_lookup (p->plan->entries, ldst);
          if (from == NULL || from->type != S_IFREG)
            continue;
          e = g_new0 (Entry, 1);
          e->src = g_strdup (from->src);
          e->size = from->size;
          type = S_IFREG;
        }
      else if (type == AE_IFREG)
        {
          g_autofree char *file = g_strdup_printf ("%s/%u", dir, n++);
          rrun_autofd int fd = open (file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
          la_ssize_t got;
          if (fd < 0)
            {
              rrun_throw_errno (error, errno, "cannot create \"%s\"", file);
              goto out;
            }
          while ((got = archive_read_data (a, buf, 1 << 16)) > 0)
            if (!rrun_fd_write_all (fd, buf, (gsize) got, error))
              goto out;
          if (got < 0)
            {
              rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "cannot read \"%s\" in the "
                          "archive \"%s\": %s", name, path, archive_error_string (a));
              goto out;
            }
          e = g_new0 (Entry, 1);
          e->src = g_steal_pointer (&file);
          e->size = archive_entry_size (ae);
        }
      else if (type == AE_IFDIR || type == AE_IFLNK)
        {
          e = g_new0 (Entry, 1);
          if (type == AE_IFLNK)
            e->link = g_strdup (archive_entry_symlink (ae));
        }
      else
        continue; /* devices, fifos, sockets: not made by a rootless build */
      e->dst = g_steal_pointer (&clean);
      e->type = type == AE_IFLNK ? S_IFLNK : type == AE_IFDIR ? S_IFDIR : S_IFREG;
      e->perm = type == AE_IFLNK ? 0777
                : p->chmod ? p->mode : archive_entry_perm (ae) & 07777;
      e->uid = p->o->chown ? p->uid : (guint32) archive_entry_uid (ae);
      e->gid = p->o->chown ? p->gid : (guint32) archive_entry_gid (ae);
      e->mtime = archive_entry_mtime (ae);
      g_hash_table_replace (p->plan->entries, e->dst, e);
    }
  ok = TRUE;
out:
  archive_read_free (a);
  return ok;
}

/* ADD https://...: the download becomes dst (or dst/NAME for a directory destination),
   mode 0600 unless --chmod, not extracted. */
static gboolean
add_url (Planner *p, const char *url, const char *dest, gboolean dest_dir, GError **error)
{
  g_autofree char *name = rrun_build_url_file_name (url);
  g_autofree char *dir = g_build_filename (p->o->temp_dir, "url-XXXXXX", NULL);
  g_autofree char *file = NULL;
  gint64 mtime = 0;
  Entry *e;

  if (g_mkdtemp (dir) == NULL)
    return rrun_throw_errno (error, errno, "cannot create a directory in \"%s\"",
                             p->o->temp_dir);
  file = g_build_filename (dir, "download", NULL);
  if (!rrun_build_fetch_url (url, file, p->o->checksum, &mtime, error))
    return FALSE;
  e = g_new0 (Entry, 1);
  e->dst = dest_dir ? (*dest ? g_strconcat (dest, "/", name, NULL) : g_strdup (name))
                    : g_strdup (dest);
  e->src = g_steal_pointer (&file);
  e->type = S_IFREG;
  e->perm = p->chmod ? p->mode : 0600;
  e->uid = p->uid;
  e->gid = p->gid;
  e->mtime = mtime;
  g_hash_table_replace (p->plan->entries, e->dst, e);
  return TRUE;
}

/* Go's filepath.Clean of a context path, no leading '/'; ".." cannot leave the context. */
static char *
clean_rel (const char *path)
{
  g_autofree char *abs = g_canonicalize_filename (path, "/");
  return g_strdup (strcmp (abs, "/") == 0 ? "." : abs + 1);
}

/* Context paths matching pattern (wildcards per path segment), sorted. */
static void
glob_context (const char *context, const char *dir, char **segs, GPtrArray *out)
{
  g_autofree char *abs = g_build_filename (context, dir, NULL);
  DIR *d = opendir (abs);
  struct dirent *de;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  if (d == NULL)
    return;
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, ".."))
      g_ptr_array_add (names, g_strdup (de->d_name));
  closedir (d);
  g_ptr_array_sort (names, (GCompareFunc) g_ascii_strcasecmp);
  for (guint i = 0; i < names->len; i++)
    {
      const char *n = names->pdata[i];
      g_autofree char *rel = strcmp (dir, ".") ? g_strconcat (dir, "/", n, NULL) : g_strdup (n);
      if (!rrun_build_glob_match (segs[0], n))
        continue;
      if (segs[1] == NULL)
        g_ptr_array_add (out, g_steal_pointer (&rel));
      else
        glob_context (context, rel, segs + 1, out);
    }
}

static gboolean
add_parents (Planner *p, const char *dst)
{
  g_autofree char *dir = g_path_get_dirname (dst);

  while (strcmp (dir, ".") != 0 && strcmp (dir, "/") != 0)
    {
      struct stat st;
      g_autofree char *found = NULL;
      g_autofree char *up = NULL;

      if (!g_hash_table_contains (p->plan->entries, dir))
        {
          Entry *e = g_new0 (Entry, 1);
          e->dst = g_strdup (dir);
          e->type = S_IFDIR;
          found = lower_find (p->o->lower_dirs, dir, &st);
          if (found && S_ISDIR (st.st_mode))
            {
              /* The image's own directory: as it is (its owner read back through the map). */
              e->perm = st.st_mode & 07777;
              e->uid = p->o->map ? to_container (p->o->map->uid_map, st.st_uid) : 0;
              e->gid = p->o->map ? to_container (p->o->map->gid_map, st.st_gid) : 0;
              e->mtime = st.st_mtime;
            }
          else
            e->perm = 0755;
          g_hash_table_replace (p->plan->entries, e->dst, e);
        }
      up = g_path_get_dirname (dir);
      g_free (dir);
      dir = g_steal_pointer (&up);
    }
  return TRUE;
}

/* The plan's digest; a file's content enters as its own sha256, which the stat cache
   keeps for files that did not change (downloads and archive members, under temp_dir,
   are always read). */
static gboolean
compute_digest (RrunCopyPlan *plan, const RrunCopyOptions *o, GError **error)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(GList) keys = g_list_sort (g_hash_table_get_keys (plan->entries), (GCompareFunc) strcmp);

  for (GList *l = keys; l; l = l->next)
    {
      Entry *e = g_hash_table_lookup (plan->entries, l->data);
      g_autofree char *head = g_strdup_printf ("%s\n%o %o %u %u %s\n", e->dst, e->type, e->perm,
                                               e->uid, e->gid, e->link ? e->link : "");
      g_checksum_update (sum, (const guchar *) head, -1);
      if (e->content)
        g_checksum_update (sum, (const guchar *) e->content, -1);
      else if (e->type == S_IFREG && e->src)
        {
          gboolean temp = o->temp_dir && g_str_has_prefix (e->src, o->temp_dir);
          g_autofree char *digest = NULL;
          struct stat st;
          if (lstat (e->src, &st) < 0)
            return rrun_throw_errno (error, errno, "cannot read \"%s\"", e->src);
          digest = rrun_stat_cache_digest (temp ? NULL : o->stat_cache, e->src, &st, error);
          if (digest == NULL)
            return FALSE;
          g_checksum_update (sum, (const guchar *) digest, -1);
        }
    }
  plan->digest = g_strdup (g_checksum_get_string (sum));
  return TRUE;
}

gboolean
rrun_copy_plan (const RrunCopySource *src, const char *args, const RrunCopyOptions *o,
                RrunCopyPlan **out_plan, GError **error)
{
  g_autoptr(RrunCopyPlan) plan = g_new0 (RrunCopyPlan, 1);
  g_auto(GStrv) words = rrun_build_parse_exec_form (args);
  g_autofree char *dest = NULL;
  guint n;
  gboolean dest_dir;
  Planner p = { 0 };

  plan->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, entry_free);
  p.plan = plan;
  p.src = src;
  p.o = o;
  if (!parse_chown (o, &p.uid, &p.gid, error))
    return FALSE;
  if (o->chmod)
    {
      char *end;
      guint64 m = g_ascii_strtoull (o->chmod, &end, 8);
      if (*o->chmod == '\0' || *end || m > 07777)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid --chmod \"%s\"", o->chmod);
      p.chmod = TRUE;
      p.mode = (mode_t) m;
    }
  if (words == NULL)
    words = rrun_build_split_words (args);
  n = g_strv_length (words);
  if (n < 2)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "expected SOURCE... DESTINATION");
  {
    const char *d = words[n - 1];
    g_autofree char *abs = d[0] == '/' ? g_strdup (d)
                           : g_build_filename (o->workdir && *o->workdir ? o->workdir : "/", d, NULL);
    g_autofree char *canon = g_canonicalize_filename (abs, "/");
    struct stat st;
    g_autofree char *found = NULL;
    dest = g_strdup (canon + 1);
    found = *dest ? lower_find (o->lower_dirs, dest, &st) : NULL;
    dest_dir = g_str_has_suffix (d, "/") || n > 2 || *dest == '\0'
               || (found && S_ISDIR (st.st_mode));
  }
  for (guint i = 0; i + 1 < n; i++)
    {
      const char *s = words[i];
      g_autoptr(GPtrArray) matches = g_ptr_array_new_with_free_func (g_free);

      if (g_str_has_prefix (s, "<<"))
        {
          const char *name = s + 2 + (s[2] == '-');
          RrunHeredoc *doc = NULL;
          Entry *e;
          g_autofree char *dst = NULL;
          char q = *name;
          g_autofree char *bare = (q == '"' || q == '\'') ? g_strndup (name + 1, strlen (name) - 2)
                                                           : g_strdup (name);
          for (guint h = 0; src->heredocs && h < src->heredocs->len; h++)
            if (strcmp (((RrunHeredoc *) src->heredocs->pdata[h])->name, bare) == 0)
              doc = src->heredocs->pdata[h];
          if (doc == NULL)
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "no heredoc \"%s\"", bare);
          dst = dest_dir ? g_build_filename (dest, bare, NULL) : g_strdup (dest);
          e = g_new0 (Entry, 1);
          e->dst = g_strdup (dst[0] == '/' ? dst + 1 : dst);
          e->content = g_strdup (doc->content);
          e->type = S_IFREG;
          e->perm = p.chmod ? p.mode : 0644;
          e->uid = p.uid;
          e->gid = p.gid;
          e->size = (gint64) strlen (doc->content);
          g_hash_table_replace (plan->entries, e->dst, e);
          add_parents (&p, e->dst);
          continue;
        }
      if ((g_str_has_prefix (s, "http://") || g_str_has_prefix (s, "https://"))
          && o->is_add && src->context)
        {
          if (!add_url (&p, s, dest, dest_dir, error))
            return FALSE;
          continue;
        }
      if (g_str_has_prefix (s, "http://") || g_str_has_prefix (s, "https://")
          || g_str_has_prefix (s, "git@"))
        return rrun_throw (error, RRUN_ERROR_UNSUPPORTED, o->is_add
                           ? "git sources (\"%s\") are not supported"
                           : "COPY cannot fetch \"%s\": use ADD for a URL", s);
      if (o->checksum && !o->is_add)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "--checksum is ADD's");
      if (src->layer_dirs)
        {
          g_autofree char *rel = clean_rel (s);
          g_autofree char *base = g_path_get_basename (rel);
          struct stat st;
          g_autofree char *found = strcmp (rel, ".") ? lower_find (src->layer_dirs, rel, &st)
                                                     : NULL;
          g_autofree char *dst = NULL;
          if (strcmp (rel, ".") == 0 || found == NULL)
            return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "\"%s\" not found in the --from "
                               "image", s);
          dst = S_ISDIR (st.st_mode) ? g_strdup (dest)
                : dest_dir ? (*dest ? g_strconcat (dest, "/", base, NULL) : g_strdup (base))
                           : g_strdup (dest);
          if (!S_ISDIR (st.st_mode))
            {
              if (!add_tree (&p, found, NULL, dst, error))
                return FALSE;
              continue;
            }
          /* A directory: merged from every layer that has it, bottom first; a whiteout
             of a later layer removes what an earlier one gave. */
          for (guint l = 0; l < src->layer_dirs->len; l++)
            {
              g_autofree char *dir = g_build_filename (src->layer_dirs->pdata[l], rel, NULL);
              struct stat dst_st;
              if (crosses_symlink (src->layer_dirs->pdata[l], rel) || lstat (dir, &dst_st) < 0
                  || !S_ISDIR (dst_st.st_mode))
                continue;
              if (!add_tree (&p, dir, NULL, dst, error))
                return FALSE;
            }
          continue;
        }
      {
        g_autofree char *rel = clean_rel (s);
        if (strpbrk (rel, "*?["))
          {
            g_auto(GStrv) segs = g_strsplit (rel, "/", -1);
            glob_context (src->context, ".", segs, matches);
            for (guint m = 0; m < matches->len;)
              if (rrun_ignore_matches (src->ignore, matches->pdata[m]))
                g_ptr_array_remove_index (matches, m);
              else
                m++;
            if (matches->len == 0)
              return rrun_throw (error, RRUN_ERROR_NOT_FOUND,
                                 "no source files were specified: \"%s\" matches nothing in "
                                 "the build context", s);
            dest_dir = TRUE;
          }
        else
          {
            g_autofree char *abs = g_build_filename (src->context, rel, NULL);
            if (crosses_symlink (src->context, rel))
              {
                /* docker resolves such links inside the context; rrun does not follow them
                   out of it. */
                g_autofree char *real = realpath (abs, NULL);
                g_autofree char *root = realpath (src->context, NULL);
                if (real && root && !(g_str_has_prefix (real, root)
                                      && (real[strlen (root)] == '/' || real[strlen (root)] == '\0')))
                  return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                                     "\"%s\" leads out of the build context through a symlink",
                                     s);
              }
            if (strcmp (rel, ".") != 0 && rrun_ignore_matches (src->ignore, rel))
              return rrun_throw (error, RRUN_ERROR_NOT_FOUND,
                                 "\"%s\" not found: it is excluded by .dockerignore", s);
            if (access (abs, F_OK) < 0 && errno == ENOENT)
              return rrun_throw (error, RRUN_ERROR_NOT_FOUND,
                                 "\"%s\" not found in the build context", s);
            g_ptr_array_add (matches, g_strdup (rel));
          }
        for (guint m = 0; m < matches->len; m++)
          {
            const char *r = matches->pdata[m];
            g_autofree char *abs = g_build_filename (src->context, r, NULL);
            g_autofree char *base = g_path_get_basename (r);
            struct stat st;
            g_autofree char *dst = NULL;
            if (lstat (abs, &st) < 0)
              return rrun_throw_errno (error, errno, "cannot read \"%s\"", r);
            if (S_ISDIR (st.st_mode))
              dst = g_strdup (dest);
            else if (dest_dir)
              dst = *dest ? g_strconcat (dest, "/", base, NULL) : g_strdup (base);
            else
              dst = g_strdup (dest);
            if (S_ISDIR (st.st_mode))
              {
                /* A directory's contents go into the destination (which is made). */
                if (!add_tree (&p, abs, r, dst, error))
                  return FALSE;
                if (*dst)
                  {
                    Entry *e = g_hash_table_lookup (plan->entries, dst);
                    if (e && !p.chmod)
                      {
                        struct stat dst_st;
                        g_autofree char *lf = lower_find (o->lower_dirs, dst, &dst_st);
                        e->perm = lf && S_ISDIR (dst_st.st_mode) ? dst_st.st_mode & 07777 : 0755;
                      }
                  }
              }
            else
              {
                gboolean was_archive = FALSE;
                if (o->is_add && S_ISREG (st.st_mode)
                    && !add_archive (&p, abs, dest, &was_archive, error))
                  return FALSE;
                if (!was_archive && !add_tree (&p, abs, r, dst, error))
                  return FALSE;
                if (was_archive)
                  dest_dir = TRUE;
              }
          }
      }
    }
  {
    g_autoptr(GList) keys = g_hash_table_get_keys (plan->entries);
    for (GList *l = keys; l; l = l->next)
      add_parents (&p, l->data);
  }
  if (*dest && dest_dir && !g_hash_table_contains (plan->entries, dest))
    {
      Entry *e = g_new0 (Entry, 1);
      struct stat st;
      g_autofree char *lf = lower_find (o->lower_dirs, dest, &st);
      e->dst = g_strdup (dest);
      e->type = S_IFDIR;
      e->perm = lf && S_ISDIR (st.st_mode) ? st.st_mode & 07777 : 0755;
      if (lf && o->map)
        {
          e->uid = to_container (o->map->uid_map, st.st_uid);
          e->gid = to_container (o->map->gid_map, st.st_gid);
        }
      g_hash_table_replace (plan->entries, e->dst, e);
      add_parents (&p, dest);
    }
  if (!compute_digest (plan, o, error))
    return FALSE;
  *out_plan = g_steal_pointer (&plan);
  return TRUE;
}

const char *
rrun_copy_plan_digest (RrunCopyPlan *plan)
{
  return plan->digest;
}

gboolean
rrun_copy_plan_write_tar (RrunCopyPlan *plan, const char *path, GError **error)
{
  g_autoptr(GList) keys = g_list_sort (g_hash_table_get_keys (plan->entries), (GCompareFunc) strcmp);
  struct archive *w = archive_write_new ();
  g_autofree guint8 *buf = g_malloc (1 << 16);
  gboolean ok = FALSE;

  archive_write_set_format_pax_restricted (w);
  archive_write_set_bytes_in_last_block (w, 1);
  if (archive_write_open_filename (w, path) != ARCHIVE_OK)
    {
      rrun_throw (error, RRUN_ERROR_FAILED, "cannot write \"%s\": %s", path, archive_error_string (w));
      goto out;
    }
  for (GList *l = keys; l; l = l->next)
    {
      Entry *e = g_hash_table_lookup (plan->entries, l->data);
      struct archive_entry *ae = archive_entry_new ();
      rrun_autofd int fd = -1;
      int r;

      archive_entry_set_pathname (ae, e->dst);
      archive_entry_set_filetype (ae, e->type);
      archive_entry_set_perm (ae, e->perm);
      archive_entry_set_uid (ae, e->uid);
      archive_entry_set_gid (ae, e->gid);
      archive_entry_set_mtime (ae, e->mtime, 0);
      if (e->link)
        archive_entry_set_symlink (ae, e->link);
      if (e->type == S_IFREG && e->src)
        {
          struct stat st;
          fd = open (e->src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
          if (fd < 0 || fstat (fd, &st) < 0)
            {
              archive_entry_free (ae);
              rrun_throw_errno (error, errno, "cannot read \"%s\"", e->src);
              goto out;
            }
          archive_entry_set_size (ae, st.st_size);
        }
      else
        archive_entry_set_size (ae, e->type == S_IFREG && e->content ? (la_int64_t) strlen (e->content) : 0);
      r = archive_write_header (w, ae);
      archive_entry_free (ae);
      if (r != ARCHIVE_OK)
        {
          rrun_throw (error, RRUN_ERROR_FAILED, "cannot write \"%s\": %s", e->dst, archive_error_string (w));
          goto out;
        }
      if (e->content && archive_write_data (w, e->content, strlen (e->content)) < 0)
        {
          rrun_throw (error, RRUN_ERROR_FAILED, "cannot write \"%s\": %s", e->dst, archive_error_string (w));
          goto out;
        }
      if (fd >= 0)
        {
          ssize_t n;
          while ((n = read (fd, buf, 1 << 16)) > 0)
            if (archive_write_data (w, buf, (size_t) n) != n)
              {
                rrun_throw (error, RRUN_ERROR_FAILED, "cannot write \"%s\": %s", e->dst,
                            archive_error_string (w));
                goto out;
              }
          if (n < 0)
            {
              rrun_throw_errno (error, errno, "cannot read \"%s\"", e->src);
              goto out;
            }
        }
    }
  if (archive_write_close (w) != ARCHIVE_OK)
    {
      rrun_throw (error, RRUN_ERROR_FAILED, "cannot write \"%s\": %s", path, archive_error_string (w));
      goto out;
    }
  ok = TRUE;
out:
  archive_write_free (w);
  return ok;
}

gboolean
rrun_copy_plan_extract (RrunCopyPlan *plan, const char *dir, GError **error)
{
  g_autoptr(GList) keys = g_list_sort (g_hash_table_get_keys (plan->entries), (GCompareFunc) strcmp);
  g_autoptr(GPtrArray) dirs = g_ptr_array_new ();

  /* Sorted: a directory comes before what is in it. Directories are writable until the
     end, then take their modes. */
  for (GList *l = keys; l; l = l->next)
    {
      Entry *e = g_hash_table_lookup (plan->entries, l->data);
      g_autofree char *path = g_build_filename (dir, e->dst, NULL);

      if (e->type == S_IFDIR)
        {
          if (mkdir (path, 0700) < 0 && errno != EEXIST)
            return rrun_throw_errno (error, errno, "cannot create \"%s\"", path);
          g_ptr_array_add (dirs, e);
        }
      else if (e->type == S_IFLNK)
        {
          if (symlink (e->link, path) < 0)
            return rrun_throw_errno (error, errno, "cannot create \"%s\"", path);
        }
      else
        {
          rrun_autofd int out = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                                      0600);
          if (out < 0)
            return rrun_throw_errno (error, errno, "cannot create \"%s\"", path);
          if (e->content)
            {
              if (!rrun_fd_write_all (out, e->content, strlen (e->content), error))
                return FALSE;
            }
          else if (e->src)
            {
              g_autofree guint8 *buf = g_malloc (1 << 16);
              rrun_autofd int in = open (e->src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
              ssize_t n;
              if (in < 0)
                return rrun_throw_errno (error, errno, "cannot read \"%s\"", e->src);
              while ((n = read (in, buf, 1 << 16)) > 0)
                if (!rrun_fd_write_all (out, buf, (gsize) n, error))
                  return FALSE;
              if (n < 0)
                return rrun_throw_errno (error, errno, "cannot read \"%s\"", e->src);
            }
          if (fchmod (out, e->perm & 0777) < 0)
            return rrun_throw_errno (error, errno, "cannot change the mode of \"%s\"", path);
        }
    }
  for (guint i = dirs->len; i-- > 0;)
    {
      Entry *e = dirs->pdata[i];
      g_autofree char *path = g_build_filename (dir, e->dst, NULL);
      if (chmod (path, (e->perm & 0777) | 0700) < 0)
        return rrun_throw_errno (error, errno, "cannot change the mode of \"%s\"", path);
    }
  return TRUE;
}
