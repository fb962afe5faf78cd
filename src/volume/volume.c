/* The volume store: volumes/NAME/{volume.json,_data} (volume/volume.h). */
#include "volume/volume.h"
#include "error.h"
#include "image/layer.h"
#include "log.h"
#include "util/path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VOLUME_FILE "volume.json"

void
rrun_volume_info_free (RrunVolumeInfo *v)
{
  if (v == NULL)
    return;
  g_free (v->name);
  g_free (v->driver);
  g_free (v->mountpoint);
  g_free (v->created_at);
  g_strfreev (v->labels);
  g_strfreev (v->options);
  g_free (v);
}

gboolean
rrun_volume_name_valid (const char *name)
{
  if (name == NULL || !g_ascii_isalnum (name[0]) || name[1] == '\0' || strlen (name) > 255)
    return FALSE;
  for (const char *p = name + 1; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '.' && *p != '-')
      return FALSE;
  return TRUE;
}

const char *
rrun_volume_option (char *const *options, const char *key)
{
  gsize n = strlen (key);

  for (guint i = 0; options && options[i]; i++)
    if (strncmp (options[i], key, n) == 0 && options[i][n] == '=')
      return options[i] + n + 1;
  return NULL;
}

static gboolean
needs_root (GError **error, const char *what)
{
  rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
              "cannot use volume option %s: rootless containers cannot mount it (only root "
              "may mount that file system)",
              what);
  rrun_add_hint (error, "mount it on the host (or ask an administrator to), then bind the "
                        "mounted directory: -v /mnt/data:/data or --mount "
                        "type=bind,source=/mnt/data,target=/data");
  return FALSE;
}

gboolean
rrun_volume_check_options (char **options, GError **error)
{
  const char *type, *device, *o;

  for (guint i = 0; options && options[i]; i++)
    {
      const char *eq = strchr (options[i], '=');
      g_autofree char *key = eq ? g_strndup (options[i], (gsize) (eq - options[i])) : NULL;

      if (key == NULL || (strcmp (key, "type") != 0 && strcmp (key, "o") != 0
                          && strcmp (key, "device") != 0))
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "invalid volume option \"%s\": expected type=, o= or device=",
                      options[i]);
          rrun_add_hint (error, "for example: --opt type=tmpfs --opt device=tmpfs --opt "
                                "o=size=100m");
          return FALSE;
        }
    }
  type = rrun_volume_option (options, "type");
  device = rrun_volume_option (options, "device");
  o = rrun_volume_option (options, "o");
  if (type == NULL)
    {
      if (device != NULL || o != NULL)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid volume options: o= and device= need type= (tmpfs or "
                           "bind)");
      return TRUE;
    }
  if (strcmp (type, "tmpfs") == 0)
    {
      static const char *const allowed[] = { "size=", "mode=", "nr_inodes=", "uid=", "gid=",
                                             NULL };
      g_auto(GStrv) parts = g_strsplit (o ? o : "", ",", -1);

      for (guint i = 0; parts[i]; i++)
        {
          gboolean ok = *parts[i] == '\0' || strcmp (parts[i], "ro") == 0
                        || strcmp (parts[i], "rw") == 0 || strcmp (parts[i], "noexec") == 0
                        || strcmp (parts[i], "exec") == 0;
          for (guint j = 0; !ok && allowed[j]; j++)
            ok = g_str_has_prefix (parts[i], allowed[j]);
          if (!ok)
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               "invalid volume option o=%s: \"%s\" is not a tmpfs option "
                               "(size, mode, nr_inodes, uid, gid, ro, noexec)",
                               o, parts[i]);
        }
      return TRUE;
    }
  if (strcmp (type, "bind") == 0 || strcmp (type, "none") == 0)
    {
      g_auto(GStrv) parts = g_strsplit (o ? o : "", ",", -1);
      gboolean bind = strcmp (type, "bind") == 0;
      struct stat st;

      for (guint i = 0; parts[i]; i++)
        {
          if (strcmp (parts[i], "bind") == 0 || strcmp (parts[i], "rbind") == 0)
            bind = TRUE;
          else if (*parts[i] != '\0' && strcmp (parts[i], "ro") != 0
                   && strcmp (parts[i], "rw") != 0)
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               "invalid volume option o=%s: \"%s\" is not a bind option "
                               "(bind, rbind, ro, rw)",
                               o, parts[i]);
        }
      if (!bind)
        {
          g_autofree char *what = g_strdup_printf ("type=%s without o=bind", type);
          return needs_root (error, what);
        }
      if (device == NULL || device[0] != '/')
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid volume options: a bind needs device=/absolute/host/path");
      if (stat (device, &st) < 0)
        return rrun_throw_errno (error, errno, "cannot use volume device \"%s\"", device);
      if (S_ISBLK (st.st_mode))
        {
          g_autofree char *what = g_strdup_printf ("device=%s (a block device)", device);
          return needs_root (error, what);
        }
      return TRUE;
    }
  {
    g_autofree char *what = g_strdup_printf ("type=%s", type);
    return needs_root (error, what);
  }
}

static char *
volume_dir (const RrunConfig *config, const char *name)
{
  return g_build_filename (config->volume_path, name, NULL);
}

static void
add_kv_object (RrunJsonBuilder *b, const char *member, char **kv)
{
  rrun_json_builder_set_member_name (b, member);
  rrun_json_builder_begin_object (b);
  for (guint i = 0; kv && kv[i]; i++)
    {
      const char *eq = strchr (kv[i], '=');
      g_autofree char *key = eq ? g_strndup (kv[i], (gsize) (eq - kv[i])) : g_strdup (kv[i]);

      rrun_json_builder_member_string (b, key, eq ? eq + 1 : "");
    }
  rrun_json_builder_end_object (b);
}

void
rrun_volume_info_to_json (const RrunVolumeInfo *v, RrunJsonBuilder *b)
{
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "CreatedAt", v->created_at);
  rrun_json_builder_member_string (b, "Driver", v->driver);
  add_kv_object (b, "Labels", v->labels);
  rrun_json_builder_member_string (b, "Mountpoint", v->mountpoint);
  rrun_json_builder_member_string (b, "Name", v->name);
  add_kv_object (b, "Options", v->options);
  rrun_json_builder_member_string (b, "Scope", "local");
  rrun_json_builder_member_bool (b, "Anonymous", v->anonymous);
  rrun_json_builder_end_object (b);
}

static char **
kv_from_object (const RrunJson *o)
{
  GPtrArray *a = g_ptr_array_new ();

  for (guint i = 0; o && rrun_json_type (o) == RRUN_JSON_OBJECT && i < rrun_json_size (o); i++)
    {
      const char *value = rrun_json_string (rrun_json_element (o, i));
      g_ptr_array_add (a, g_strdup_printf ("%s=%s", rrun_json_member_name (o, i),
                                           value ? value : ""));
    }
  g_ptr_array_add (a, NULL);
  return (char **) g_ptr_array_free (a, FALSE);
}

static gboolean
read_volume (const RrunConfig *config, const char *name, RrunVolumeInfo **out_info,
             GError **error)
{
  g_autofree char *dir = volume_dir (config, name);
  g_autofree char *path = g_build_filename (dir, VOLUME_FILE, NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(RrunJson) o = NULL;
  g_autoptr(RrunVolumeInfo) v = NULL;
  gsize len;

  if (!g_file_get_contents (path, &text, &len, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          rrun_throw (error, RRUN_ERROR_NOT_FOUND, "no such volume \"%s\"", name);
          rrun_add_hint (error, "list volumes with: rrun volume ls");
          return FALSE;
        }
      return rrun_throw (error, RRUN_ERROR_FAILED, "cannot read volume \"%s\": %s", name,
                         local->message);
    }
  o = rrun_json_parse (text, len, RRUN_JSON_DEFAULT, &local);
  if (o == NULL || rrun_json_member_string (o, "Name") == NULL
      || rrun_json_member_string (o, "Driver") == NULL)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot read volume \"%s\": %s: %s", name,
                       path, local ? local->message : "Name or Driver missing");
  v = g_new0 (RrunVolumeInfo, 1);
  v->name = g_strdup (name);
  v->driver = g_strdup (rrun_json_member_string (o, "Driver"));
  v->created_at = g_strdup (rrun_json_member_string (o, "CreatedAt"));
  if (v->created_at == NULL)
    v->created_at = g_strdup ("");
  v->mountpoint = g_build_filename (dir, "_data", NULL);
  v->labels = kv_from_object (rrun_json_member (o, "Labels"));
  v->options = kv_from_object (rrun_json_member (o, "Options"));
  v->anonymous = rrun_json_member (o, "Anonymous") != NULL
                 && rrun_json_int (rrun_json_member (o, "Anonymous")) != 0;
  *out_info = g_steal_pointer (&v);
  return TRUE;
}

gboolean
rrun_volume_lookup (const RrunConfig *config, const char *name, RrunVolumeInfo **out_info,
                    GError **error)
{
  if (!rrun_volume_name_valid (name))
    {
      rrun_throw (error, RRUN_ERROR_NOT_FOUND, "no such volume \"%s\"", name);
      rrun_add_hint (error, "list volumes with: rrun volume ls");
      return FALSE;
    }
  return read_volume (config, name, out_info, error);
}

static char *
now_rfc3339 (void)
{
  g_autoptr(GDateTime) dt = g_date_time_new_now_local ();
  return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S%:z");
}

/* The volume path, made 0700 when missing. It must be ours and closed to others: the
   relocated one sits in /var/tmp, where anyone could have made it first. */
static gboolean
ensure_volume_path (const RrunConfig *config, GError **error)
{
  struct stat st;
  gboolean existed = g_file_test (config->volume_path, G_FILE_TEST_IS_DIR);

  if (!existed && !rrun_path_mkdir_p (config->volume_path, 0700, error))
    return FALSE;
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *dir = i == 0 ? g_strdup (config->volume_path)
                                    : g_path_get_dirname (config->volume_path);
      if (i == 1 && config->volume_relocated_from == NULL)
        break;
      if (lstat (dir, &st) < 0)
        return rrun_throw_errno (error, errno, "cannot use volume directory \"%s\"", dir);
      if (!S_ISDIR (st.st_mode) || st.st_uid != getuid () || (st.st_mode & 0022) != 0)
        {
          rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                      "cannot use volume directory \"%s\": it is not a directory owned by "
                      "uid %u and closed to others",
                      dir, (unsigned) getuid ());
          rrun_add_hint (error, "set [storage] volume_path in ~/.config/rrun/rrun.conf to a "
                                "directory of your own");
          return FALSE;
        }
    }
  if (!existed && config->volume_relocated_from != NULL)
    rrun_warning ("volume directory \"%s\" is on %s, which cannot hold files of subordinate "
                  "IDs: using \"%s\" on this machine instead (set [storage] volume_path in "
                  "~/.config/rrun/rrun.conf to choose another)",
                  config->volume_relocated_from, config->volume_relocated_fs,
                  config->volume_path);
  return TRUE;
}

gboolean
rrun_volume_create (const RrunConfig *config, const char *name, const char *driver,
                    char **labels, char **options, gboolean anonymous, gboolean *out_created,
                    RrunVolumeInfo **out_info, GError **error)
{
  g_autofree char *random_name = NULL, *tmp = NULL, *data = NULL, *json = NULL, *dest = NULL;
  g_autofree char *suffix = NULL;
  g_autofree char *created = now_rfc3339 ();
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();
  g_autoptr(RrunVolumeInfo) v = g_new0 (RrunVolumeInfo, 1);
  g_autofree char *text = NULL;
  g_autoptr(GError) local = NULL;

  if (driver != NULL && strcmp (driver, "local") != 0)
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                  "driver \"%s\" is not available", driver);
      rrun_add_hint (error, "rrun has the local driver only (--driver local)");
      return FALSE;
    }
  if (name == NULL)
    name = random_name = rrun_path_random_hex (32);
  else if (!rrun_volume_name_valid (name))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid volume name \"%s\"", name);
      rrun_add_hint (error, "a volume name has at least two characters: a letter or digit, "
                            "then letters, digits, '_', '.' or '-' (as with docker)");
      return FALSE;
    }
  if (!rrun_volume_check_options (options, error))
    return FALSE;
  for (guint i = 0; labels && labels[i]; i++)
    if (labels[i][0] == '=')
      return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid label \"%s\"",
                         labels[i]);
  /* An existing volume is the answer (docker: create is idempotent). */
  if (read_volume (config, name, out_info, &local))
    {
      *out_created = FALSE;
      return TRUE;
    }
  if (!g_error_matches (local, RRUN_ERROR, RRUN_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (!ensure_volume_path (config, error))
    return FALSE;
  suffix = rrun_path_random_hex (8);
  tmp = g_strdup_printf ("%s/.tmp-%s", config->volume_path, suffix);
  data = g_build_filename (tmp, "_data", NULL);
  if (mkdir (tmp, 0700) < 0)
    return rrun_throw_errno (error, errno, "cannot create volume \"%s\"", name);
  if (mkdir (data, 0755) < 0)
    {
      rrun_throw_errno (error, errno, "cannot create volume \"%s\"", name);
      goto fail;
    }
  v->name = g_strdup (name);
  v->driver = g_strdup ("local");
  v->created_at = g_strdup (created);
  v->labels = g_strdupv (labels ? labels : (char *[]){ NULL });
  v->options = g_strdupv (options ? options : (char *[]){ NULL });
  v->anonymous = anonymous;
  rrun_volume_info_to_json (v, b);
  text = rrun_json_builder_to_text (b, TRUE);
  json = g_build_filename (tmp, VOLUME_FILE, NULL);
  if (!g_file_set_contents (json, text, -1, error))
    goto fail;
  dest = volume_dir (config, name);
  /* rename(2) onto an existing (non-empty) directory fails: a volume made meanwhile by
     another rrun wins, and is the answer. */
  if (rename (tmp, dest) < 0)
    {
      int errsv = errno;
      rrun_path_rm_rf (tmp, NULL);
      if ((errsv == EEXIST || errsv == ENOTEMPTY) && read_volume (config, name, out_info, NULL))
        {
          *out_created = FALSE;
          return TRUE;
        }
      return rrun_throw_errno (error, errsv, "cannot create volume \"%s\"", name);
    }
  g_free (v->mountpoint);
  v->mountpoint = g_build_filename (dest, "_data", NULL);
  *out_created = TRUE;
  *out_info = g_steal_pointer (&v);
  return TRUE;

fail:
  rrun_path_rm_rf (tmp, NULL);
  return FALSE;
}

static gint
by_name (gconstpointer a, gconstpointer b)
{
  const RrunVolumeInfo *x = *(RrunVolumeInfo *const *) a, *y = *(RrunVolumeInfo *const *) b;
  return strcmp (x->name, y->name);
}

gboolean
rrun_volume_list (const RrunConfig *config, GPtrArray **out_infos, GError **error)
{
  g_autoptr(GPtrArray) infos
      = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_volume_info_free);
  g_autoptr(GDir) d = NULL;
  g_autoptr(GError) local = NULL;
  const char *name;

  d = g_dir_open (config->volume_path, 0, &local);
  if (d == NULL && !g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    return rrun_throw (error, RRUN_ERROR_FAILED, "cannot list volumes: %s", local->message);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      RrunVolumeInfo *v = NULL;
      g_autoptr(GError) bad = NULL;

      if (!rrun_volume_name_valid (name))
        continue; /* .tmp-* of a create in progress, .rm-* of a removal */
      if (!read_volume (config, name, &v, &bad))
        {
          if (!g_error_matches (bad, RRUN_ERROR, RRUN_ERROR_NOT_FOUND))
            rrun_warning ("%s", bad->message);
          continue;
        }
      g_ptr_array_add (infos, v);
    }
  g_ptr_array_sort (infos, by_name);
  *out_infos = g_steal_pointer (&infos);
  return TRUE;
}

/* The volume names in a mounts.json (inspect's Mounts form), or NULL when unreadable. */
static GPtrArray *
record_volume_names (const char *path)
{
  g_autofree char *text = NULL;
  g_autoptr(RrunJson) mounts = NULL;
  GPtrArray *names;
  gsize len;

  if (!g_file_get_contents (path, &text, &len, NULL)
      || (mounts = rrun_json_parse (text, len, RRUN_JSON_DEFAULT, NULL)) == NULL
      || rrun_json_type (mounts) != RRUN_JSON_ARRAY)
    return NULL;
  names = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < rrun_json_size (mounts); i++)
    {
      RrunJson *m = rrun_json_element (mounts, i);
      const char *name = rrun_json_member_string (m, "Name");

      if (g_strcmp0 (rrun_json_member_string (m, "Type"), "volume") == 0 && name != NULL)
        g_ptr_array_add (names, g_strdup (name));
    }
  return names;
}

char **
rrun_volume_names_of_record (const char *record_dir)
{
  g_autofree char *path = g_build_filename (record_dir, RRUN_MOUNTS_FILE, NULL);
  GPtrArray *names = record_volume_names (path);

  if (names == NULL)
    names = g_ptr_array_new ();
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}

gboolean
rrun_volume_users (const RrunConfig *config, const char *name, char ***out_ids, GError **error)
{
  g_autofree char *dir = g_build_filename (config->storage_root, "containers", NULL);
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *cid;

  (void) error;
  while (d != NULL && (cid = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, cid, RRUN_MOUNTS_FILE, NULL);
      g_autoptr(GPtrArray) names = record_volume_names (path);

      for (guint i = 0; names != NULL && i < names->len; i++)
        if (strcmp (names->pdata[i], name) == 0)
          {
            g_ptr_array_add (ids, g_strdup (cid));
            break;
          }
    }
  g_ptr_array_add (ids, NULL);
  *out_ids = (char **) g_ptr_array_free (g_steal_pointer (&ids), FALSE);
  return TRUE;
}

void
rrun_volume_remove_unused_anonymous (const RrunConfig *config, const RrunIdMap *map,
                                     char *const *names)
{
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      g_autoptr(RrunVolumeInfo) v = NULL;
      g_autoptr(GError) local = NULL;
      g_auto(GStrv) users = NULL;

      /* Gone already (another container's rm -v) is fine. */
      if (!rrun_volume_lookup (config, names[i], &v, NULL) || !v->anonymous
          || !rrun_volume_users (config, names[i], &users, NULL) || users[0] != NULL)
        continue;
      if (!rrun_volume_remove (config, map, names[i], &local)
          && !g_error_matches (local, RRUN_ERROR, RRUN_ERROR_NOT_FOUND))
        rrun_warning ("cannot remove anonymous volume %s: %s", names[i], local->message);
    }
}

gboolean
rrun_volume_dir_is_empty (const char *path, gboolean *out_empty, GError **error)
{
  DIR *d = opendir (path);
  struct dirent *de;
  gboolean empty = TRUE;

  if (d == NULL)
    return rrun_throw_errno (error, errno, "cannot open \"%s\"", path);
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
      {
        empty = FALSE;
        break;
      }
  closedir (d);
  *out_empty = empty;
  return TRUE;
}

gboolean
rrun_volume_remove (const RrunConfig *config, const RrunIdMap *map, const char *name,
                    GError **error)
{
  g_autoptr(RrunVolumeInfo) v = NULL;
  g_autofree char *dir = NULL, *gone = NULL, *suffix = rrun_path_random_hex (8);
  g_autofree char *data = NULL;
  g_autoptr(GError) local = NULL;
  gboolean empty = FALSE;

  if (!rrun_volume_lookup (config, name, &v, error))
    return FALSE;
  dir = volume_dir (config, name);
  /* Out of the name space first: the name is free at once, and a removal cut short
     leaves a .rm-* directory that the next removal or prune finishes. */
  gone = g_strdup_printf ("%s/.rm-%s-%s", config->volume_path, name, suffix);
  if (rename (dir, gone) < 0)
    return rrun_throw_errno (error, errno, "cannot remove volume \"%s\"", name);
  data = g_build_filename (gone, "_data", NULL);
  /* An empty volume goes with a few unlinks; one with data is removed as root of the
     user namespace when there are subordinate IDs (its files may be theirs), which
     costs one process but never a failed walk as the user first. */
  if (rrun_volume_dir_is_empty (data, &empty, NULL) && empty)
    {
      g_autofree char *json = g_build_filename (gone, VOLUME_FILE, NULL);
      if (rmdir (data) == 0 && unlink (json) == 0 && rmdir (gone) == 0)
        return TRUE;
    }
  if (map != NULL && !map->single)
    {
      const char *paths[] = { gone, NULL };
      return rrun_layer_remove_trees (map, paths, error);
    }
  if (!rrun_path_rm_rf (gone, &local))
    {
      rrun_throw (error, RRUN_ERROR_FAILED, "cannot remove volume \"%s\": %s", name,
                  local->message);
      return FALSE;
    }
  return TRUE;
}
