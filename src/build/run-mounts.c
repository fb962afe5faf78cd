/* RUN --mount: see run-mounts.h. */
#include "build/run-mounts.h"

#include "build/copy.h"
#include "error.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

typedef enum
{
  MOUNT_BIND,
  MOUNT_CACHE,
  MOUNT_TMPFS,
  MOUNT_SECRET,
} MountType;

struct RrunRunMount
{
  MountType type;
  char *target;   /* absolute */
  char *source;   /* bind: in the context or the from= image; NULL: "." */
  char *from;
  char *id;
  char *sharing;  /* cache: shared, locked, private */
  gboolean rw, required;
  guint mode;     /* cache: 0755, secret: 0400 */
  char *size;     /* tmpfs */
  RrunCopyPlan *plan; /* bind, after rrun_run_mounts_digest */
  int lock_fd;
};

void
rrun_run_mount_free (RrunRunMount *m)
{
  if (m == NULL)
    return;
  g_free (m->target);
  g_free (m->source);
  g_free (m->from);
  g_free (m->id);
  g_free (m->sharing);
  g_free (m->size);
  rrun_copy_plan_free (m->plan);
  if (m->lock_fd >= 0)
    close (m->lock_fd);
  g_free (m);
}

void
rrun_build_secret_free (RrunBuildSecret *secret)
{
  if (secret == NULL)
    return;
  g_free (secret->id);
  g_free (secret->path);
  if (secret->value)
    memset (secret->value, 0, strlen (secret->value));
  g_free (secret->value);
  g_free (secret);
}

gboolean
rrun_build_secret_parse (const char *arg, RrunBuildSecret **out_secret, GError **error)
{
  g_autoptr(RrunBuildSecret) s = g_new0 (RrunBuildSecret, 1);
  g_auto(GStrv) fields = g_strsplit (arg, ",", -1);
  g_autofree char *type = NULL, *src = NULL, *env = NULL;

  for (guint i = 0; fields[i]; i++)
    {
      const char *eq = strchr (fields[i], '=');
      g_autofree char *key = eq ? g_strndup (fields[i], eq - fields[i]) : g_strdup (fields[i]);
      const char *value = eq ? eq + 1 : NULL;

      if (value == NULL || *value == '\0')
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid --secret \"%s\": \"%s\" needs a value", arg, key);
      if (strcmp (key, "id") == 0)
        g_free (s->id), s->id = g_strdup (value);
      else if (strcmp (key, "src") == 0 || strcmp (key, "source") == 0)
        g_free (src), src = g_strdup (value);
      else if (strcmp (key, "env") == 0)
        g_free (env), env = g_strdup (value);
      else if (strcmp (key, "type") == 0)
        g_free (type), type = g_strdup (value);
      else
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid --secret \"%s\": unknown "
                      "key \"%s\"", arg, key);
          rrun_add_hint (error, "for example: --secret id=token,src=$HOME/.token or "
                                "--secret id=token,env=TOKEN");
          return FALSE;
        }
    }
  if (type && strcmp (type, "file") != 0 && strcmp (type, "env") != 0)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --secret \"%s\": type is file or env", arg);
  if (type && strcmp (type, "env") == 0 && src && env == NULL)
    env = g_steal_pointer (&src);
  if (s->id == NULL)
    {
      const char *named = src ? src : env;
      if (named == NULL)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid --secret \"%s\": expected id=ID with src=FILE or env=VAR",
                           arg);
      s->id = g_path_get_basename (named);
    }
  if (strchr (s->id, '/') || strcmp (s->id, ".") == 0 || strcmp (s->id, "..") == 0)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --secret \"%s\": the id cannot be a path", arg);
  if (src == NULL && env == NULL)
    env = g_strdup (s->id);
  if (src)
    {
      if (access (src, R_OK) < 0)
        return rrun_throw_errno (error, errno, "--secret %s: cannot read \"%s\"", s->id, src);
      s->path = g_canonicalize_filename (src, NULL);
    }
  else
    {
      const char *v = g_getenv (env);
      if (v == NULL)
        return rrun_throw (error, RRUN_ERROR_NOT_FOUND,
                           "--secret %s: the environment variable %s is not set", s->id, env);
      s->value = g_strdup (v);
    }
  *out_secret = g_steal_pointer (&s);
  return TRUE;
}

static gboolean
parse_bool (const char *key, const char *value, gboolean *out, GError **error)
{
  if (value == NULL || strcmp (value, "true") == 0 || strcmp (value, "1") == 0)
    *out = TRUE;
  else if (strcmp (value, "false") == 0 || strcmp (value, "0") == 0)
    *out = FALSE;
  else
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s=%s: expected true or false", key,
                       value);
  return TRUE;
}

gboolean
rrun_run_mount_parse (const char *value, RrunRunMount **out_mount, GError **error)
{
  g_autoptr(RrunRunMount) m = g_new0 (RrunRunMount, 1);
  g_auto(GStrv) fields = g_strsplit (value, ",", -1);
  g_autofree char *type = NULL, *mode = NULL, *uid = NULL, *gid = NULL;
  gboolean ro = FALSE, ro_given = FALSE;

  m->lock_fd = -1;
  for (guint i = 0; fields[i]; i++)
    {
      const char *eq = strchr (fields[i], '=');
      g_autofree char *key = eq ? g_strndup (fields[i], eq - fields[i]) : g_strdup (fields[i]);
      const char *v = eq ? eq + 1 : NULL;
      gboolean flag = FALSE;

      if (*key == '\0')
        continue;
      if (strcmp (key, "readonly") == 0 || strcmp (key, "ro") == 0)
        {
          if (!parse_bool (key, v, &ro, error))
            goto bad;
          ro_given = TRUE;
          continue;
        }
      if (strcmp (key, "readwrite") == 0 || strcmp (key, "rw") == 0)
        {
          if (!parse_bool (key, v, &flag, error))
            goto bad;
          ro = !flag, ro_given = TRUE;
          continue;
        }
      if (strcmp (key, "required") == 0)
        {
          if (!parse_bool (key, v, &m->required, error))
            goto bad;
          continue;
        }
      if (v == NULL)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "\"%s\" needs a value", key);
          goto bad;
        }
#define SET(field) (g_free (field), field = g_strdup (v))
      if (strcmp (key, "type") == 0)
        SET (type);
      else if (strcmp (key, "target") == 0 || strcmp (key, "dst") == 0
               || strcmp (key, "destination") == 0)
        SET (m->target);
      else if (strcmp (key, "source") == 0 || strcmp (key, "src") == 0)
        SET (m->source);
      else if (strcmp (key, "from") == 0)
        SET (m->from);
      else if (strcmp (key, "id") == 0)
        SET (m->id);
      else if (strcmp (key, "sharing") == 0)
        SET (m->sharing);
      else if (strcmp (key, "mode") == 0)
        SET (mode);
      else if (strcmp (key, "uid") == 0)
        SET (uid);
      else if (strcmp (key, "gid") == 0)
        SET (gid);
      else if (strcmp (key, "size") == 0)
        SET (m->size);
      else
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "unknown key \"%s\"", key);
          goto bad;
        }
#undef SET
    }
  if (type == NULL || strcmp (type, "bind") == 0)
    m->type = MOUNT_BIND;
  else if (strcmp (type, "cache") == 0)
    m->type = MOUNT_CACHE;
  else if (strcmp (type, "tmpfs") == 0)
    m->type = MOUNT_TMPFS;
  else if (strcmp (type, "secret") == 0)
    m->type = MOUNT_SECRET;
  else if (strcmp (type, "ssh") == 0)
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED, "type=ssh is not supported: rrun build "
                  "forwards no SSH agent");
      rrun_add_hint (error, "pass a deploy key with --secret and RUN --mount=type=secret");
      goto bad;
    }
  else
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "unknown type \"%s\": expected bind, cache, tmpfs or secret", type);
      goto bad;
    }
  if (m->type == MOUNT_SECRET && m->target == NULL && m->id)
    m->target = g_strconcat ("/run/secrets/", m->id, NULL);
  if (m->type == MOUNT_SECRET && m->id == NULL && m->target)
    m->id = g_path_get_basename (m->target);
  if (m->target == NULL || *m->target == '\0')
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "a target is needed (target=PATH)");
      goto bad;
    }
  if (m->target[0] != '/')
    {
      g_autofree char *abs = g_strconcat ("/", m->target, NULL);
      g_free (m->target);
      m->target = g_steal_pointer (&abs);
    }
  {
    g_autofree char *canon = g_canonicalize_filename (m->target, "/");
    if (strcmp (canon, "/") == 0)
      {
        rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "the target cannot be /");
        goto bad;
      }
    g_free (m->target);
    m->target = g_steal_pointer (&canon);
  }
  if ((uid && strcmp (uid, "0") != 0) || (gid && strcmp (gid, "0") != 0))
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED, "uid=/gid= other than 0 are not supported: "
                  "the mount belongs to the container's root");
      rrun_add_hint (error, "make the files readable with mode=, or chown inside RUN");
      goto bad;
    }
  m->mode = m->type == MOUNT_SECRET ? 0400 : 0755;
  if (mode)
    {
      char *end;
      guint64 v = g_ascii_strtoull (mode, &end, 8);
      if (*mode == '\0' || *end || v > 0777 || (m->type != MOUNT_CACHE && m->type != MOUNT_SECRET))
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "mode=%s: expected an octal mode of a "
                      "cache or secret mount", mode);
          goto bad;
        }
      m->mode = (guint) v;
    }
  if (m->sharing && (m->type != MOUNT_CACHE || (strcmp (m->sharing, "shared") != 0
                                                && strcmp (m->sharing, "private") != 0
                                                && strcmp (m->sharing, "locked") != 0)))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "sharing=%s: expected shared, private or locked, on a cache mount", m->sharing);
      goto bad;
    }
  if (m->from && m->type != MOUNT_BIND)
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED, "from= is supported on bind mounts only");
      goto bad;
    }
  if (m->size && m->type != MOUNT_TMPFS)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "size= applies to type=tmpfs");
      goto bad;
    }
  if (m->source && m->type != MOUNT_BIND)
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED, "source= is supported on bind mounts only");
      goto bad;
    }
  /* bind: read only unless rw; cache: writable unless ro. */
  m->rw = m->type == MOUNT_BIND ? (ro_given && !ro) : m->type == MOUNT_CACHE ? !ro : TRUE;
  *out_mount = g_steal_pointer (&m);
  return TRUE;
bad:
  g_prefix_error (error, "invalid --mount=%s: ", value);
  return FALSE;
}

gboolean
rrun_run_mounts_digest (GPtrArray *mounts, const RrunRunMountContext *ctx, char **out_digest,
                        GError **error)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  gboolean any = FALSE;

  for (guint i = 0; i < mounts->len; i++)
    {
      RrunRunMount *m = mounts->pdata[i];
      RrunCopySource src = { 0 };
      RrunCopyOptions co = { 0 };
      g_autofree char *args = NULL;
      g_autofree char *quoted = NULL;

      if (m->type != MOUNT_BIND)
        continue;
      if (m->from)
        {
          src.layer_dirs = ctx->layers (m->from, ctx->layers_data, error);
          if (src.layer_dirs == NULL)
            return FALSE;
        }
      else
        {
          src.context = ctx->context;
          src.ignore = ctx->ignore;
        }
      /* The source's files as a copy to "/m" would make them: "m" is the source itself
         (a file, or a directory with its contents). */
      co.stat_cache = ctx->stat_cache;
      quoted = g_strescape (m->source ? m->source : ".", NULL);
      args = g_strdup_printf ("[\"%s\", \"/m\"]", quoted);
      rrun_copy_plan_free (m->plan);
      m->plan = NULL;
      if (!rrun_copy_plan (&src, args, &co, &m->plan, error))
        {
          g_prefix_error (error, "--mount=type=bind,source=%s: ", m->source ? m->source : ".");
          return FALSE;
        }
      g_checksum_update (sum, (const guchar *) m->target, -1);
      g_checksum_update (sum, (const guchar *) rrun_copy_plan_digest (m->plan), -1);
      any = TRUE;
    }
  *out_digest = g_strdup (any ? g_checksum_get_string (sum) : "");
  return TRUE;
}

static gboolean
setup_cache (RrunRunMount *m, const RrunRunMountContext *ctx, const char *temp_dir,
             char **out_dir, GError **error)
{
  g_autofree char *id_sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256,
                                                           m->id ? m->id : m->target, -1);
  g_autofree char *dir = g_build_filename (ctx->cache_root, id_sum, NULL);
  g_autofree char *lock = g_strconcat (dir, ".lock", NULL);
  const char *sharing = m->sharing ? m->sharing : "shared";

  if (g_mkdir_with_parents (ctx->cache_root, 0700) < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", ctx->cache_root);
  if (mkdir (dir, m->mode) == 0)
    (void) chmod (dir, m->mode); /* not the umask's */
  else if (errno != EEXIST)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", dir);
  if (strcmp (sharing, "shared") != 0)
    {
      m->lock_fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (m->lock_fd < 0)
        return rrun_throw_errno (error, errno, "cannot open \"%s\"", lock);
      if (flock (m->lock_fd, LOCK_EX | (strcmp (sharing, "private") == 0 ? LOCK_NB : 0)) < 0)
        {
          if (errno != EWOULDBLOCK)
            return rrun_throw_errno (error, errno, "cannot lock \"%s\"", lock);
          /* private: another build uses it; this RUN gets a new, empty one. */
          close (m->lock_fd);
          m->lock_fd = -1;
          g_free (dir);
          dir = g_build_filename (temp_dir, "cache-XXXXXX", NULL);
          if (g_mkdtemp_full (dir, m->mode) == NULL)
            return rrun_throw_errno (error, errno, "cannot create a directory in \"%s\"",
                                     temp_dir);
        }
    }
  *out_dir = g_steal_pointer (&dir);
  return TRUE;
}

static gboolean
setup_secret (RrunRunMount *m, const RrunRunMountContext *ctx, const char *temp_dir,
              char **out_path, GError **error)
{
  RrunBuildSecret *s = ctx->secrets ? g_hash_table_lookup (ctx->secrets, m->id) : NULL;
  g_autofree char *path = NULL;
  g_autofree char *content = NULL;
  gsize len = 0;
  rrun_autofd int fd = -1;

  *out_path = NULL;
  if (s == NULL)
    {
      if (!m->required)
        return TRUE; /* docker: an optional secret not given is not mounted */
      rrun_throw (error, RRUN_ERROR_NOT_FOUND, "secret \"%s\" is required but was not given",
                  m->id);
      rrun_add_hint (error, "pass it: rrun build --secret id=%s,src=FILE ...", m->id);
      return FALSE;
    }
  if (s->path && !g_file_get_contents (s->path, &content, &len, error))
    return FALSE;
  path = g_build_filename (temp_dir, "secret-XXXXXX", NULL);
  fd = g_mkstemp_full (path, O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot create a file in \"%s\"", temp_dir);
  if (!rrun_fd_write_all (fd, s->path ? content : s->value,
                          s->path ? len : strlen (s->value), error))
    return FALSE;
  if (content)
    memset (content, 0, len);
  if (fchmod (fd, m->mode) < 0)
    return rrun_throw_errno (error, errno, "cannot change the mode of \"%s\"", path);
  *out_path = g_steal_pointer (&path);
  return TRUE;
}

/* A --mount value of `rrun run` for a bind of host path src. */
static char *
bind_value (const char *src, const char *target, gboolean rw)
{
  return g_strdup_printf ("type=bind,source=%s,target=%s%s", src, target, rw ? "" : ",readonly");
}

gboolean
rrun_run_mounts_setup (GPtrArray *mounts, const RrunRunMountContext *ctx, const char *temp_dir,
                       GPtrArray *out_mounts, GPtrArray *out_tmpfs, GError **error)
{
  for (guint i = 0; i < mounts->len; i++)
    {
      RrunRunMount *m = mounts->pdata[i];
      g_autofree char *path = NULL;

      if (strchr (m->target, ',') || (m->source && strchr (m->source, ',')))
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "--mount target=%s: a path with a comma cannot be mounted", m->target);
      switch (m->type)
        {
        case MOUNT_BIND:
          {
            g_autofree char *dir = g_build_filename (temp_dir, "bind-XXXXXX", NULL);
            g_return_val_if_fail (m->plan != NULL, FALSE);
            if (g_mkdtemp (dir) == NULL)
              return rrun_throw_errno (error, errno, "cannot create a directory in \"%s\"",
                                       temp_dir);
            if (!rrun_copy_plan_extract (m->plan, dir, error))
              return FALSE;
            path = g_build_filename (dir, "m", NULL);
            if (!g_file_test (path, G_FILE_TEST_EXISTS) && mkdir (path, 0755) < 0)
              return rrun_throw_errno (error, errno, "cannot create \"%s\"", path);
            g_ptr_array_add (out_mounts, bind_value (path, m->target, m->rw));
            break;
          }
        case MOUNT_CACHE:
          if (!setup_cache (m, ctx, temp_dir, &path, error))
            return FALSE;
          g_ptr_array_add (out_mounts, bind_value (path, m->target, m->rw));
          break;
        case MOUNT_TMPFS:
          g_ptr_array_add (out_tmpfs, m->size ? g_strdup_printf ("%s:size=%s", m->target, m->size)
                                              : g_strdup (m->target));
          break;
        case MOUNT_SECRET:
          if (!setup_secret (m, ctx, temp_dir, &path, error))
            return FALSE;
          if (path)
            g_ptr_array_add (out_mounts, bind_value (path, m->target, FALSE));
          break;
        }
    }
  return TRUE;
}

/* Whether rel is in a lower layer (the topmost that has it decides; a whiteout hides). */
static gboolean
in_lower (GPtrArray *lower_dirs, const char *rel)
{
  for (guint i = lower_dirs ? lower_dirs->len : 0; i-- > 0;)
    {
      g_autofree char *p = g_build_filename (lower_dirs->pdata[i], rel, NULL);
      struct stat st;
      if (lstat (p, &st) == 0)
        return !(S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0));
    }
  return FALSE;
}

/* rmdir of a directory the container made: fuse-overlayfs marks a new directory opaque
   with .wh..wh..opq (and .wh..opq) files, which alone do not make it non-empty. */
static gboolean
rmdir_new (const char *path)
{
  static const char *const markers[] = { ".wh..wh..opq", ".wh..opq", NULL };
  g_autoptr(GDir) d = NULL;
  const char *name;

  if (rmdir (path) == 0)
    return TRUE;
  if (errno != ENOTEMPTY || (d = g_dir_open (path, 0, NULL)) == NULL)
    return FALSE;
  while ((name = g_dir_read_name (d)) != NULL)
    if (!g_strv_contains (markers, name))
      return FALSE;
  for (guint i = 0; markers[i]; i++)
    {
      g_autofree char *m = g_build_filename (path, markers[i], NULL);
      (void) unlink (m);
    }
  return rmdir (path) == 0;
}

void
rrun_run_mounts_clean_upper (GPtrArray *mounts, const char *upper, GPtrArray *lower_dirs)
{
  for (guint i = 0; i < mounts->len; i++)
    {
      RrunRunMount *m = mounts->pdata[i];
      g_autofree char *rel = g_strdup (m->target + 1);

      /* The target, then each parent the mount made, while empty and new. */
      while (*rel && strcmp (rel, ".") != 0)
        {
          g_autofree char *p = g_build_filename (upper, rel, NULL);
          g_autofree char *up = NULL;
          struct stat st;

          if (in_lower (lower_dirs, rel))
            break;
          /* Absent (fuse-overlayfs may not have written the mount point itself): its
             parents may still be new. */
          if (lstat (p, &st) == 0
              && (S_ISDIR (st.st_mode) ? !rmdir_new (p)
                                       : !(S_ISREG (st.st_mode) && st.st_size == 0) || unlink (p) < 0))
            break;
          up = g_path_get_dirname (rel);
          g_free (rel);
          rel = g_steal_pointer (&up);
        }
    }
}
