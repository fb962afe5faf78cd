#include "storage/image.h"
#include "error.h"
#include "util/text-file.h"

#include <sys/stat.h>

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

void
rrun_image_config_free (RrunImageConfig *config)
{
  if (config == NULL)
    return;
  g_strfreev (config->env);
  g_strfreev (config->entrypoint);
  g_strfreev (config->cmd);
  g_free (config->working_dir);
  g_free (config->user);
  g_strfreev (config->exposed_ports);
  g_free (config->stop_signal);
  g_strfreev (config->volumes);
  g_free (config->hostname);
  g_strfreev (config->health_test);
  g_free (config);
}

void
rrun_image_free (RrunImage *image)
{
  if (image == NULL)
    return;
  g_free (image->id);
  g_strfreev (image->names);
  g_free (image->digest);
  if (image->layer_dirs)
    g_ptr_array_unref (image->layer_dirs);
  if (image->layer_ids)
    g_ptr_array_unref (image->layer_ids);
  rrun_image_config_free (image->config);
  g_free (image->os);
  g_free (image->architecture);
  if (image->layer_sizes)
    g_array_unref (image->layer_sizes);
  g_free (image->config_path);
  g_free (image->damaged);
  g_free (image);
}

static gboolean
bad_field (GError **error, const char *source, const char *field, const char *expected)
{
  return rrun_throw (error, RRUN_ERROR_CORRUPT, "invalid image config %s: %s: expected %s",
                     source, field, expected);
}

static gboolean
get_string (const RrunJson *obj, const char *name, const char *field, const char *source,
            char **out, GError **error)
{
  const RrunJson *n = rrun_json_member_value (obj, name);

  if (n == NULL)
    return TRUE;
  if (rrun_json_type (n) != RRUN_JSON_STRING)
    return bad_field (error, source, field, "a string");
  *out = g_strdup (rrun_json_string (n));
  return TRUE;
}

static gboolean
get_strv (const RrunJson *obj, const char *name, const char *field, const char *source,
          char ***out, GError **error)
{
  const RrunJson *n = rrun_json_member_value (obj, name);
  g_autoptr(GPtrArray) v = NULL;

  if (n == NULL)
    return TRUE;
  if (rrun_json_type (n) != RRUN_JSON_ARRAY)
    return bad_field (error, source, field, "an array of strings");
  v = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < rrun_json_size (n); i++)
    {
      const char *e = rrun_json_string (rrun_json_element (n, i));

      if (e == NULL)
        return bad_field (error, source, field, "an array of strings");
      g_ptr_array_add (v, g_strdup (e));
    }
  g_ptr_array_add (v, NULL);
  *out = (char **) g_ptr_array_free (g_steal_pointer (&v), FALSE);
  return TRUE;
}

/* {"80/tcp": {}, ...}: docker's set-as-object; the keys are the values. */
static gboolean
get_key_set (const RrunJson *obj, const char *name, const char *field, const char *source,
             char ***out, GError **error)
{
  const RrunJson *n = rrun_json_member_value (obj, name);
  g_autoptr(GPtrArray) v = NULL;

  if (n == NULL)
    return TRUE;
  if (rrun_json_type (n) != RRUN_JSON_OBJECT)
    return bad_field (error, source, field, "an object");
  v = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < rrun_json_size (n); i++)
    {
      RrunJsonType t = rrun_json_type (rrun_json_element (n, i));

      if (t != RRUN_JSON_OBJECT && t != RRUN_JSON_NULL)
        return bad_field (error, source, field, "an object of objects");
      g_ptr_array_add (v, g_strdup (rrun_json_member_name (n, i)));
    }
  g_ptr_array_add (v, NULL);
  *out = (char **) g_ptr_array_free (g_steal_pointer (&v), FALSE);
  return TRUE;
}

gboolean
rrun_image_config_parse (const RrunJson *root, const char *source,
                         RrunImageConfig **out_config, GError **error)
{
  g_autoptr(RrunImageConfig) c = g_new0 (RrunImageConfig, 1);
  g_autofree char *os = NULL, *arch = NULL, *created = NULL;
  g_auto(GStrv) diff_ids = NULL;
  const RrunJson *top = root, *cfg = NULL, *n;

  if (root == NULL || rrun_json_type (root) != RRUN_JSON_OBJECT)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "invalid image config %s: not a JSON object",
                       source);
  /* The outer fields are checked here too, so a caller may trust their types. */
  if (!get_string (top, "os", "os", source, &os, error)
      || !get_string (top, "architecture", "architecture", source, &arch, error)
      || !get_string (top, "created", "created", source, &created, error))
    return FALSE;
  if ((n = rrun_json_member_value (top, "rootfs")) != NULL)
    {
      g_autofree char *type = NULL;

      if (rrun_json_type (n) != RRUN_JSON_OBJECT)
        return bad_field (error, source, "rootfs", "an object");
      if (!get_string (n, "type", "rootfs.type", source, &type, error)
          || !get_strv (n, "diff_ids", "rootfs.diff_ids", source, &diff_ids, error))
        return FALSE;
    }
  if ((n = rrun_json_member_value (top, "config")) != NULL)
    {
      if (rrun_json_type (n) != RRUN_JSON_OBJECT)
        return bad_field (error, source, "config", "an object");
      cfg = n;
    }
  if (!get_strv (cfg, "Env", "config.Env", source, &c->env, error)
      || !get_strv (cfg, "Entrypoint", "config.Entrypoint", source, &c->entrypoint, error)
      || !get_strv (cfg, "Cmd", "config.Cmd", source, &c->cmd, error)
      || !get_string (cfg, "WorkingDir", "config.WorkingDir", source, &c->working_dir, error)
      || !get_string (cfg, "User", "config.User", source, &c->user, error)
      || !get_key_set (cfg, "ExposedPorts", "config.ExposedPorts", source, &c->exposed_ports,
                       error)
      || !get_string (cfg, "StopSignal", "config.StopSignal", source, &c->stop_signal, error)
      || !get_key_set (cfg, "Volumes", "config.Volumes", source, &c->volumes, error)
      || !get_string (cfg, "Hostname", "config.Hostname", source, &c->hostname, error))
    return FALSE;
  if ((n = rrun_json_member_value (cfg, "Healthcheck")) != NULL)
    {
      static const char *const times[] = { "Interval", "Timeout", "StartPeriod", "Retries" };
      gint64 *dest[] = { &c->health_interval, &c->health_timeout, &c->health_start_period,
                         &c->health_retries };

      if (rrun_json_type (n) != RRUN_JSON_OBJECT)
        return bad_field (error, source, "config.Healthcheck", "an object");
      if (!get_strv (n, "Test", "config.Healthcheck.Test", source, &c->health_test, error))
        return FALSE;
      for (guint i = 0; i < G_N_ELEMENTS (times); i++)
        {
          const RrunJson *t = rrun_json_member_value (n, times[i]);

          if (t == NULL)
            continue;
          if (rrun_json_type (t) != RRUN_JSON_INT || rrun_json_int (t) < 0)
            {
              g_autofree char *field = g_strconcat ("config.Healthcheck.", times[i], NULL);
              return bad_field (error, source, field, "a non-negative integer");
            }
          *dest[i] = rrun_json_int (t);
        }
    }
  if (c->env)
    for (guint i = 0; c->env[i]; i++)
      if (strchr (c->env[i], '=') == NULL || c->env[i][0] == '=')
        return bad_field (error, source, "config.Env", "\"NAME=VALUE\" strings");
  /* Empty strings mean unset, as docker reads them. */
  if (c->working_dir && *c->working_dir == '\0')
    g_clear_pointer (&c->working_dir, g_free);
  if (c->user && *c->user == '\0')
    g_clear_pointer (&c->user, g_free);
  *out_config = g_steal_pointer (&c);
  return TRUE;
}

gboolean
rrun_image_config_parse_meta (const RrunJson *root, const char *source, char **out_os,
                              char **out_architecture, gint64 *out_created,
                              GStrv *out_diff_ids, GError **error)
{
  g_autoptr(RrunImageConfig) unused = NULL;
  g_autofree char *os = NULL, *arch = NULL, *created = NULL;
  g_auto(GStrv) diff_ids = NULL;
  const RrunJson *rootfs;
  gint64 when = 0;

  /* Type-check everything first (one place that knows the rules). */
  if (!rrun_image_config_parse (root, source, &unused, error))
    return FALSE;
  get_string (root, "os", "os", source, &os, NULL);
  get_string (root, "architecture", "architecture", source, &arch, NULL);
  get_string (root, "created", "created", source, &created, NULL);
  rootfs = rrun_json_member_value (root, "rootfs");
  if (rootfs)
    get_strv (rootfs, "diff_ids", "rootfs.diff_ids", source, &diff_ids, NULL);
  if (created != NULL)
    {
      g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601 (created, NULL);

      if (dt == NULL)
        return bad_field (error, source, "created", "an RFC 3339 time");
      when = g_date_time_to_unix (dt);
    }
  if (diff_ids == NULL)
    diff_ids = g_new0 (char *, 1);
  for (guint i = 0; diff_ids[i]; i++)
    {
      const char *hex = diff_ids[i] + strlen ("sha256:");

      if (!g_str_has_prefix (diff_ids[i], "sha256:") || strlen (hex) != 64
          || strspn (hex, "0123456789abcdef") != 64)
        return bad_field (error, source, "rootfs.diff_ids", "sha256 digests");
    }
  if (out_os)
    *out_os = g_steal_pointer (&os);
  if (out_architecture)
    *out_architecture = g_steal_pointer (&arch);
  if (out_created)
    *out_created = when;
  if (out_diff_ids)
    *out_diff_ids = g_steal_pointer (&diff_ids);
  return TRUE;
}

gboolean
rrun_image_config_diff_ids (const char *config, gsize len, guint n_layers, const char *source,
                            GStrv *out, GError **error)
{
  g_autoptr (RrunJson) root = NULL;
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) ids = NULL;

  if ((root = rrun_json_parse (config, len, RRUN_JSON_DEFAULT, &local)) == NULL)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "image config %s: %s", source, local->message);
  if (!rrun_image_config_parse_meta (root, source, NULL, NULL, NULL, &ids, error))
    return FALSE;
  if (g_strv_length (ids) != n_layers)
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "image config %s lists %u layer%s but the manifest %u", source,
                       g_strv_length (ids), g_strv_length (ids) == 1 ? "" : "s", n_layers);
  *out = g_steal_pointer (&ids);
  return TRUE;
}

/* A file of the image's root file system, read from the topmost layer that has it (NULL
   in *out when absent or deleted by a whiteout). Bounded: a hostile image's /etc/passwd
   may be a device node, a gigabyte, or binary. */
gboolean
rrun_image_read_file (RrunImage *image, const char *rel, char **out, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (rel);
  g_autofree char *base = g_path_get_basename (rel);
  g_autofree char *wh = g_strconcat (dir, "/.wh.", base, NULL);
  g_autofree char *what = g_strconcat ("the image's /", rel, NULL);

  *out = NULL;
  for (guint i = image->layer_dirs->len; i > 0; i--)
    {
      const char *layer = image->layer_dirs->pdata[i - 1];
      g_autofree char *path = g_build_filename (layer, rel, NULL);
      g_autofree char *whpath = g_build_filename (layer, wh, NULL);
      struct stat st;

      if (lstat (path, &st) == 0)
        {
          if (S_ISCHR (st.st_mode) && st.st_rdev == 0)
            return TRUE; /* an overlay whiteout */
          if (S_ISLNK (st.st_mode))
            return TRUE; /* not followed: it would resolve on the host */
          return rrun_text_file_read (path, what, RRUN_TEXT_FILE_MAX_CONFIG,
                                      RRUN_TEXT_FILE_ANY_BYTES, out, NULL, error);
        }
      if (lstat (whpath, &st) == 0)
        return TRUE;
    }
  return TRUE;
}

RrunImage *
rrun_image_new_rootfs (const char *dir, GError **error)
{
  RrunImage *image;
  struct stat st;
  guint64 zero = 0;

  if (stat (dir, &st) < 0)
    {
      int errsv = errno;

      rrun_throw (error, errsv == ENOENT ? RRUN_ERROR_NOT_FOUND : RRUN_ERROR_FAILED,
                  "cannot use --rootfs \"%s\": %s", dir, g_strerror (errsv));
      return NULL;
    }
  if (!S_ISDIR (st.st_mode))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "cannot use --rootfs \"%s\": not a directory", dir);
      rrun_add_hint (error, "--rootfs runs an unpacked root file system; import an archive "
                            "with rrun import");
      return NULL;
    }
  image = g_new0 (RrunImage, 1);
  image->id = g_strdup (dir);
  image->names = g_new0 (char *, 2);
  image->names[0] = g_strdup (dir);
  image->layer_dirs = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (image->layer_dirs, g_strdup (dir));
  image->layer_ids = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (image->layer_ids, g_strdup ("rootfs"));
  image->layer_sizes = g_array_new (FALSE, TRUE, sizeof (guint64));
  g_array_append_val (image->layer_sizes, zero);
  image->config = g_new0 (RrunImageConfig, 1);
  image->os = g_strdup ("linux");
  return image;
}
