/* -v, --mount and --tmpfs parsed into RrunMountSpec (rootfs/mount-args.h). */
#include "rootfs/mount-args.h"
#include "error.h"
#include "util/size.h"
#include "volume/volume.h"

#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

void
rrun_mount_spec_free (RrunMountSpec *m)
{
  if (m == NULL)
    return;
  g_free (m->source);
  g_free (m->target);
  g_free (m->mode);
  g_strfreev (m->volume_opts);
  g_free (m->tmpfs_data);
  g_free (m);
}

static const char *const propagations[] = { "rprivate", "private", "rshared", "shared",
                                            "rslave", "slave", NULL };

unsigned long
rrun_mount_propagation_flags (const char *name)
{
  unsigned long rec = name[0] == 'r' ? MS_REC : 0;
  const char *base = name[0] == 'r' ? name + 1 : name;

  if (!g_strv_contains (propagations, name))
    return 0;
  if (strcmp (base, "private") == 0)
    return rec | MS_PRIVATE;
  if (strcmp (base, "shared") == 0)
    return rec | MS_SHARED;
  return rec | MS_SLAVE;
}

static const char *
propagation_name (const char *word)
{
  for (guint i = 0; propagations[i]; i++)
    if (strcmp (propagations[i], word) == 0)
      return propagations[i];
  return NULL;
}

/* A bind's host path: absolute (checked by the caller) and existing. */
static gboolean
check_bind_source (RrunMountSpec *m, GError **error)
{
  struct stat st;

  if (stat (m->source, &st) < 0)
    {
      int errsv = errno;
      rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot mount volume \"%s\": %s", m->source,
                  g_strerror (errsv));
      if (errsv == ENOENT)
        rrun_add_hint (error, "create it first (rrun does not create missing host paths): "
                              "mkdir -p %s",
                       m->source);
      return FALSE;
    }
  m->is_dir = S_ISDIR (st.st_mode);
  return TRUE;
}

/* -v's options (after the second colon, or after the first for an anonymous volume). */
static gboolean
parse_volume_options (const char *arg, const char *text, RrunMountSpec *m, GError **error)
{
  g_auto(GStrv) opts = g_strsplit (text, ",", -1);

  for (guint i = 0; opts[i]; i++)
    {
      const char *o = opts[i];

      if (strcmp (o, "ro") == 0)
        m->read_only = TRUE;
      else if (strcmp (o, "rw") == 0)
        m->read_only = FALSE;
      else if (strcmp (o, "z") == 0 || strcmp (o, "Z") == 0)
        ; /* SELinux relabelling: nothing to do without SELinux */
      else if (strcmp (o, "U") == 0)
        m->chown_to_user = TRUE;
      else if (strcmp (o, "nocopy") == 0 && m->type == RRUN_MOUNT_TYPE_VOLUME)
        m->nocopy = TRUE;
      else if (strcmp (o, "copy") == 0 && m->type == RRUN_MOUNT_TYPE_VOLUME)
        m->nocopy = FALSE;
      else if (propagation_name (o) != NULL && m->type == RRUN_MOUNT_TYPE_BIND)
        m->propagation = propagation_name (o);
      else if (strcmp (o, "nocopy") == 0)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid volume \"%s\": nocopy applies to volumes, not to a host "
                           "path", arg);
      else
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid volume \"%s\": unknown option \"%s\" (ro, rw, z, Z, U, "
                           "nocopy%s)",
                           arg, o, m->type == RRUN_MOUNT_TYPE_BIND ? " or a propagation" : "");
    }
  m->mode = g_strdup (text);
  return TRUE;
}

gboolean
rrun_mount_parse_volume (const char *arg, RrunMountSpec **out_mount, GError **error)
{
  g_autoptr(RrunMountSpec) m = g_new0 (RrunMountSpec, 1);
  g_auto(GStrv) parts = g_strsplit (arg, ":", -1);
  guint n = g_strv_length (parts);
  const char *opts = NULL;

  m->type = RRUN_MOUNT_TYPE_VOLUME;
  if (n == 0 || n > 3 || *parts[0] == '\0' || (n >= 2 && *parts[1] == '\0'))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "invalid volume \"%s\": expected HOST-PATH:CONTAINER-PATH[:OPTIONS], "
                  "NAME:CONTAINER-PATH[:OPTIONS] or CONTAINER-PATH",
                  arg);
      rrun_add_hint (error, "for example: -v \"$PWD/data:/data:ro\" or -v mydata:/data");
      return FALSE;
    }
  if (n == 1 || (n == 2 && parts[1][0] != '/'))
    {
      /* -v /data or -v /data:ro: an anonymous volume */
      m->target = g_strdup (parts[0]);
      opts = n == 2 ? parts[1] : NULL;
      if (parts[0][0] != '/')
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "invalid volume \"%s\": the container path \"%s\" is not absolute", arg,
                      parts[0]);
          rrun_add_hint (error, "for example: -v /data (an anonymous volume), -v "
                                "mydata:/data or -v \"$PWD/data:/data\"");
          return FALSE;
        }
    }
  else
    {
      m->target = g_strdup (parts[1]);
      opts = n == 3 ? parts[2] : NULL;
      if (parts[0][0] == '/')
        m->type = RRUN_MOUNT_TYPE_BIND;
      else if (!rrun_volume_name_valid (parts[0]))
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "invalid volume \"%s\": \"%s\" is neither an absolute host path nor a "
                      "volume name",
                      arg, parts[0]);
          rrun_add_hint (error, "write a host path in full, e.g. -v \"$PWD/%s:%s\"; a volume "
                                "name has letters, digits, '_', '.' and '-'",
                         parts[0], parts[1]);
          return FALSE;
        }
      m->source = g_strdup (parts[0]);
    }
  if (!rrun_mount_plan_check_target (m->target, error))
    {
      g_prefix_error (error, "invalid volume \"%s\": ", arg);
      return FALSE;
    }
  if (opts != NULL && !parse_volume_options (arg, opts, m, error))
    return FALSE;
  if (m->type == RRUN_MOUNT_TYPE_BIND && !check_bind_source (m, error))
    return FALSE;
  *out_mount = g_steal_pointer (&m);
  return TRUE;
}

/* docker reads --mount as one CSV record: fields split at commas, a field in double
   quotes may hold commas ("volume-opt=o=size=1m,uid=1000"). */
static char **
split_csv (const char *text)
{
  GPtrArray *fields = g_ptr_array_new ();
  GString *f = g_string_new (NULL);
  gboolean quoted = FALSE;

  for (const char *p = text;; p++)
    {
      if (*p == '"')
        {
          if (quoted && p[1] == '"')
            g_string_append_c (f, '"'), p++;
          else
            quoted = !quoted;
          continue;
        }
      if (*p == '\0' || (*p == ',' && !quoted))
        {
          g_ptr_array_add (fields, g_string_free (f, FALSE));
          if (*p == '\0')
            break;
          f = g_string_new (NULL);
          continue;
        }
      g_string_append_c (f, *p);
    }
  g_ptr_array_add (fields, NULL);
  return (char **) g_ptr_array_free (fields, FALSE);
}

static gboolean
parse_bool (const char *arg, const char *key, const char *value, gboolean *out, GError **error)
{
  if (value == NULL || g_ascii_strcasecmp (value, "true") == 0 || strcmp (value, "1") == 0)
    *out = TRUE;
  else if (g_ascii_strcasecmp (value, "false") == 0 || strcmp (value, "0") == 0)
    *out = FALSE;
  else
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --mount \"%s\": %s=%s: expected true or false", arg, key,
                       value);
  return TRUE;
}

/* docker's tmpfs-size (util/size.h). */
static gboolean
parse_size (const char *arg, const char *value, guint64 *out, GError **error)
{
  if (rrun_size_parse (value, out))
    return TRUE;
  return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                     "invalid --mount \"%s\": tmpfs-size=%s: expected bytes, or a number "
                     "with k, m or g",
                     arg, value);
}

gboolean
rrun_mount_parse_mount (const char *arg, RrunMountSpec **out_mount, GError **error)
{
  g_autoptr(RrunMountSpec) m = g_new0 (RrunMountSpec, 1);
  g_auto(GStrv) fields = split_csv (arg);
  g_autoptr(GPtrArray) vopts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) tmpfs = g_string_new (NULL);
  const char *type = "volume", *bind_key = NULL, *volume_key = NULL, *tmpfs_key = NULL;

  for (guint i = 0; fields[i]; i++)
    {
      const char *eq = strchr (fields[i], '=');
      g_autofree char *key = eq ? g_strndup (fields[i], (gsize) (eq - fields[i]))
                                : g_strdup (fields[i]);
      const char *value = eq ? eq + 1 : NULL;

      g_strstrip (key);
      if (*key == '\0')
        continue;
      if (value == NULL && strcmp (key, "readonly") != 0 && strcmp (key, "ro") != 0
          && strcmp (key, "bind-nonrecursive") != 0 && strcmp (key, "volume-nocopy") != 0)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid --mount \"%s\": \"%s\" needs a value (%s=...)", arg, key,
                           key);
      if (strcmp (key, "type") == 0)
        {
          if (strcmp (value, "bind") == 0)
            type = "bind";
          else if (strcmp (value, "volume") == 0)
            type = "volume";
          else if (strcmp (value, "tmpfs") == 0)
            type = "tmpfs";
          else
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               "invalid --mount \"%s\": unknown type \"%s\" (bind, volume or "
                               "tmpfs)",
                               arg, value);
        }
      else if (strcmp (key, "source") == 0 || strcmp (key, "src") == 0)
        g_free (m->source), m->source = *value ? g_strdup (value) : NULL;
      else if (strcmp (key, "target") == 0 || strcmp (key, "destination") == 0
               || strcmp (key, "dst") == 0)
        g_free (m->target), m->target = g_strdup (value);
      else if (strcmp (key, "readonly") == 0 || strcmp (key, "ro") == 0)
        {
          if (!parse_bool (arg, key, value, &m->read_only, error))
            return FALSE;
        }
      else if (strcmp (key, "consistency") == 0)
        ; /* docker on macOS only: accepted and ignored, as docker on Linux does */
      else if (strcmp (key, "bind-propagation") == 0)
        {
          if ((m->propagation = propagation_name (value)) == NULL)
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               "invalid --mount \"%s\": bind-propagation=%s: expected "
                               "rprivate, private, rshared, shared, rslave or slave",
                               arg, value);
          bind_key = "bind-propagation";
        }
      else if (strcmp (key, "bind-nonrecursive") == 0)
        {
          if (!parse_bool (arg, key, value, &m->nonrecursive, error))
            return FALSE;
          bind_key = "bind-nonrecursive";
        }
      else if (strcmp (key, "volume-nocopy") == 0)
        {
          if (!parse_bool (arg, key, value, &m->nocopy, error))
            return FALSE;
          volume_key = "volume-nocopy";
        }
      else if (strcmp (key, "volume-opt") == 0)
        {
          if (strchr (value, '=') == NULL)
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               "invalid --mount \"%s\": volume-opt=%s: expected "
                               "volume-opt=KEY=VALUE",
                               arg, value);
          g_ptr_array_add (vopts, g_strdup (value));
          volume_key = "volume-opt";
        }
      else if (strcmp (key, "volume-driver") == 0)
        {
          if (strcmp (value, "local") != 0)
            return rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                               "invalid --mount \"%s\": volume driver \"%s\" is not available "
                               "(rrun has the local driver only)",
                               arg, value);
          volume_key = "volume-driver";
        }
      else if (strcmp (key, "tmpfs-size") == 0)
        {
          guint64 bytes = 0;
          if (!parse_size (arg, value, &bytes, error))
            return FALSE;
          g_string_append_printf (tmpfs, "%ssize=%" G_GUINT64_FORMAT, tmpfs->len ? "," : "",
                                  bytes);
          tmpfs_key = "tmpfs-size";
        }
      else if (strcmp (key, "tmpfs-mode") == 0)
        {
          char *end = NULL;
          guint64 mode = g_ascii_strtoull (value, &end, 8);
          if (*value == '\0' || *end != '\0' || mode > 07777)
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               "invalid --mount \"%s\": tmpfs-mode=%s: expected an octal mode "
                               "such as 1777",
                               arg, value);
          g_string_append_printf (tmpfs, "%smode=%o", tmpfs->len ? "," : "", (unsigned) mode);
          tmpfs_key = "tmpfs-mode";
        }
      else
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "invalid --mount \"%s\": unknown key \"%s\"", arg, key);
          rrun_add_hint (error, "keys: type, source (src), target (destination, dst), "
                                "readonly (ro), bind-propagation, bind-nonrecursive, "
                                "volume-nocopy, volume-opt, tmpfs-size, tmpfs-mode");
          return FALSE;
        }
    }
  if (m->target == NULL)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid --mount \"%s\": no target",
                  arg);
      rrun_add_hint (error, "for example: --mount source=mydata,target=/data");
      return FALSE;
    }
  if (!rrun_mount_plan_check_target (m->target, error))
    {
      g_prefix_error (error, "invalid --mount \"%s\": ", arg);
      return FALSE;
    }
  {
    const char *misplaced = strcmp (type, "bind") != 0 && bind_key ? bind_key
                            : strcmp (type, "volume") != 0 && volume_key ? volume_key
                            : strcmp (type, "tmpfs") != 0 && tmpfs_key ? tmpfs_key
                                                                     : NULL;
    if (misplaced != NULL)
      return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                         "invalid --mount \"%s\": %s does not apply to type=%s", arg,
                         misplaced, type);
  }
  if (strcmp (type, "bind") == 0)
    {
      m->type = RRUN_MOUNT_TYPE_BIND;
      if (m->source == NULL || m->source[0] != '/')
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "invalid --mount \"%s\": a bind needs an absolute source", arg);
          rrun_add_hint (error, "for example: --mount type=bind,source=\"$PWD/data\","
                                "target=/data");
          return FALSE;
        }
      if (!check_bind_source (m, error))
        return FALSE;
    }
  else if (strcmp (type, "tmpfs") == 0)
    {
      m->type = RRUN_MOUNT_TYPE_TMPFS;
      if (m->source != NULL)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid --mount \"%s\": a tmpfs takes no source", arg);
      if (strstr (tmpfs->str, "mode=") == NULL)
        g_string_append (tmpfs, tmpfs->len ? ",mode=1777" : "mode=1777");
      m->tmpfs_data = g_strdup (tmpfs->str);
      m->tmpfs_flags = MS_NOSUID | MS_NODEV | (m->read_only ? MS_RDONLY : 0);
    }
  else
    {
      m->type = RRUN_MOUNT_TYPE_VOLUME;
      if (m->source != NULL && !rrun_volume_name_valid (m->source))
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "invalid --mount \"%s\": \"%s\" is not a volume name", arg, m->source);
          if (m->source[0] == '/')
            rrun_add_hint (error, "to mount a host path, add type=bind");
          return FALSE;
        }
      g_ptr_array_add (vopts, NULL);
      m->volume_opts = (char **) g_ptr_array_free (g_steal_pointer (&vopts), FALSE);
      if (!rrun_volume_check_options (m->volume_opts, error))
        {
          g_prefix_error (error, "invalid --mount \"%s\": ", arg);
          return FALSE;
        }
    }
  *out_mount = g_steal_pointer (&m);
  return TRUE;
}

gboolean
rrun_tmpfs_parse (const char *spec, char **out_target, char **out_data, unsigned long *out_flags,
                  GError **error)
{
  static const char *const allowed[] = { "size=", "mode=", "nr_inodes=", "uid=", "gid=", NULL };
  const char *colon = strchr (spec, ':');
  g_autofree char *target = colon ? g_strndup (spec, (gsize) (colon - spec)) : g_strdup (spec);
  g_autoptr(GString) data = g_string_new (NULL);
  unsigned long flags = MS_NOSUID | MS_NODEV;

  if (!rrun_mount_plan_check_target (target, error))
    {
      g_prefix_error (error, "invalid --tmpfs \"%s\": ", spec);
      return FALSE;
    }
  if (colon)
    {
      g_auto(GStrv) opts = g_strsplit (colon + 1, ",", -1);
      for (guint i = 0; opts[i]; i++)
        {
          gboolean ok = FALSE;

          if (strcmp (opts[i], "ro") == 0)
            flags |= MS_RDONLY, ok = TRUE;
          else if (strcmp (opts[i], "rw") == 0)
            flags &= ~(unsigned long) MS_RDONLY, ok = TRUE;
          else if (strcmp (opts[i], "noexec") == 0)
            flags |= MS_NOEXEC, ok = TRUE;
          else if (strcmp (opts[i], "exec") == 0)
            flags &= ~(unsigned long) MS_NOEXEC, ok = TRUE;
          else
            for (guint j = 0; allowed[j]; j++)
              if (g_str_has_prefix (opts[i], allowed[j]) && opts[i][strlen (allowed[j])] != '\0')
                {
                  if (data->len)
                    g_string_append_c (data, ',');
                  g_string_append (data, opts[i]);
                  ok = TRUE;
                }
          if (!ok)
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               "invalid --tmpfs \"%s\": unknown option \"%s\"", spec, opts[i]);
        }
    }
  if (strstr (data->str, "mode=") == NULL)
    g_string_append (data, data->len ? ",mode=1777" : "mode=1777");
  *out_target = g_steal_pointer (&target);
  *out_data = g_string_free (g_steal_pointer (&data), FALSE);
  *out_flags = flags;
  return TRUE;
}

gboolean
rrun_mount_parse_tmpfs_arg (const char *arg, RrunMountSpec **out_mount, GError **error)
{
  g_autoptr(RrunMountSpec) m = g_new0 (RrunMountSpec, 1);
  const char *colon = strchr (arg, ':');

  m->type = RRUN_MOUNT_TYPE_TMPFS;
  if (!rrun_tmpfs_parse (arg, &m->target, &m->tmpfs_data, &m->tmpfs_flags, error))
    return FALSE;
  m->read_only = (m->tmpfs_flags & MS_RDONLY) != 0;
  m->mode = g_strdup (colon ? colon + 1 : "");
  *out_mount = g_steal_pointer (&m);
  return TRUE;
}

/* "/data/" and "/data" are one mount point. */
static char *
normal_target (const char *target)
{
  char *t = g_strdup (target);
  gsize n = strlen (t);

  while (n > 1 && t[n - 1] == '/')
    t[--n] = '\0';
  return t;
}

gboolean
rrun_mount_parse_volumes_from (const char *arg, char **out_container, char **out_mode,
                               GError **error)
{
  const char *colon = strchr (arg, ':');
  g_autofree char *container = g_strndup (arg, colon ? (gsize) (colon - arg) : strlen (arg));
  const char *mode = colon ? colon + 1 : NULL;

  if (*container == '\0')
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --volumes-from \"%s\": no container", arg);
  if (mode != NULL && strcmp (mode, "ro") != 0 && strcmp (mode, "rw") != 0)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "invalid --volumes-from \"%s\": unknown mode \"%s\"", arg, mode);
      rrun_add_hint (error, "the form is CONTAINER, CONTAINER:ro or CONTAINER:rw");
      return FALSE;
    }
  if (out_container)
    *out_container = g_steal_pointer (&container);
  if (out_mode)
    *out_mode = g_strdup (mode);
  return TRUE;
}

gboolean
rrun_mount_spec_inherit (RrunMountType type, const char *source, const char *target,
                         gboolean rw, const char *propagation, const char *mode,
                         RrunMountSpec **out_mount, GError **error)
{
  g_autoptr(RrunMountSpec) m = g_new0 (RrunMountSpec, 1);

  g_return_val_if_fail (type != RRUN_MOUNT_TYPE_TMPFS, FALSE);
  m->type = type;
  m->source = g_strdup (source);
  m->target = g_strdup (target);
  m->read_only = mode ? strcmp (mode, "ro") == 0 : !rw;
  m->mode = g_strdup (m->read_only ? "ro" : "rw");
  /* Its content is the other container's: never filled again from this image. */
  m->nocopy = TRUE;
  if (type == RRUN_MOUNT_TYPE_BIND)
    {
      if (propagation && *propagation && strcmp (propagation, "rprivate") != 0)
        m->propagation = propagation_name (propagation);
      if (!check_bind_source (m, error))
        return FALSE;
    }
  *out_mount = g_steal_pointer (&m);
  return TRUE;
}

gboolean
rrun_mount_parse_all (char **volumes, char **mounts, char **tmpfs, GPtrArray **out_mounts,
                      GError **error)
{
  g_autoptr(GPtrArray) all
      = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_mount_spec_free);
  g_autoptr(GHashTable) targets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; volumes && volumes[i]; i++)
    {
      RrunMountSpec *m = NULL;
      if (!rrun_mount_parse_volume (volumes[i], &m, error))
        return FALSE;
      g_ptr_array_add (all, m);
    }
  for (guint i = 0; mounts && mounts[i]; i++)
    {
      RrunMountSpec *m = NULL;
      if (!rrun_mount_parse_mount (mounts[i], &m, error))
        return FALSE;
      g_ptr_array_add (all, m);
    }
  for (guint i = 0; tmpfs && tmpfs[i]; i++)
    {
      RrunMountSpec *m = NULL;
      if (!rrun_mount_parse_tmpfs_arg (tmpfs[i], &m, error))
        return FALSE;
      g_ptr_array_add (all, m);
    }
  for (guint i = 0; i < all->len; i++)
    {
      const RrunMountSpec *m = all->pdata[i];
      char *t = normal_target (m->target);

      if (!g_hash_table_add (targets, t))
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "duplicate mount point \"%s\"",
                           m->target);
    }
  *out_mounts = g_steal_pointer (&all);
  return TRUE;
}
