#include "config.h"
#include "error.h"
#include "util/keyfile.h"
#include "util/text-file.h"
#include "log.h"
#include "storage/fsmagic.h"
#include "util/path.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

void
rrun_config_free (RrunConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->storage_root);
  g_free (config->run_root);
  g_free (config->storage_driver);
  g_free (config->userns);
  g_free (config->cgroups);
  g_free (config->network);
  g_free (config->pull_policy);
  g_strfreev (config->additional_image_stores);
  g_strfreev (config->cdi_spec_dirs);
  g_strfreev (config->unqualified_search_registries);
  g_strfreev (config->insecure_registries);
  g_free (config->dns_upstream);
  g_free (config->storage_relocated_from);
  g_free (config->storage_relocated_fs);
  g_free (config->volume_path);
  g_free (config->volume_relocated_from);
  g_free (config->volume_relocated_fs);
  if (config->files_read)
    g_ptr_array_unref (config->files_read);
  g_free (config);
}

static char *
default_run_root (void)
{
  const char *xdg = g_getenv ("XDG_RUNTIME_DIR");

  if (xdg != NULL && *xdg == '/')
    return g_build_filename (xdg, "rrun", NULL);
  /* su, ssh without pam_systemd and batch jobs have no XDG_RUNTIME_DIR. */
  return g_strdup_printf ("%s/rrun-%u", g_get_tmp_dir (), (unsigned) getuid ());
}

RrunConfig *
rrun_config_new_defaults (void)
{
  RrunConfig *c = g_new0 (RrunConfig, 1);

  c->storage_root = g_build_filename (g_get_user_data_dir (), "rrun", "storage", NULL);
  c->run_root = default_run_root ();
  c->volume_path = g_build_filename (g_get_user_data_dir (), "rrun", "volumes", NULL);
  c->storage_driver = g_strdup ("auto");
  c->userns = g_strdup ("auto");
  c->cgroups = g_strdup ("enabled");
  c->network = g_strdup ("slirp");
  c->pull_policy = g_strdup ("missing");
  c->additional_image_stores = g_new0 (char *, 1);
  c->unqualified_search_registries = g_strsplit ("docker.io", ",", -1);
  c->insecure_registries = g_new0 (char *, 1);
  c->files_read = g_ptr_array_new_with_free_func (g_free);
  return c;
}

/* Whether a getter's error only says that the key (or its group) is not there. */
static gboolean
is_absent (const GError *local)
{
  return g_error_matches (local, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND)
         || g_error_matches (local, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND);
}

static gboolean
throw_invalid (const char *source, const char *group, const char *key, const GError *local,
               GError **error)
{
  rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s: invalid value for %s.%s: %s", source,
              group, key, local->message);
  rrun_add_hint (error, "a backslash starts an escape: \\s, \\n, \\t, \\r or \\\\ "
                        "(and \\; in a list)");
  return FALSE;
}

static gboolean
take_string (GKeyFile *kf, const char *group, const char *key, char **field,
             const char *const *allowed, const char *source, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *value = g_key_file_get_string (kf, group, key, &local);

  /* GLib returns the raw value and an error for a bad escape: the error decides. */
  if (local != NULL && is_absent (local))
    return TRUE; /* keep the earlier value */
  if (local != NULL)
    return throw_invalid (source, group, key, local, error);
  g_strstrip (value);
  if (allowed != NULL && !g_strv_contains (allowed, value))
    {
      g_autofree char *list = g_strjoinv (", ", (char **) allowed);
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "%s: invalid value \"%s\" for %s.%s: expected one of %s", source, value,
                  group, key, list);
      return FALSE;
    }
  g_free (*field);
  *field = g_steal_pointer (&value);
  return TRUE;
}

static gboolean
take_list (GKeyFile *kf, const char *group, const char *key, char ***field,
           const char *source, GError **error)
{
  g_autoptr(GError) local = NULL;
  gsize n = 0;
  g_auto(GStrv) value = g_key_file_get_string_list (kf, group, key, &n, &local);

  if (local != NULL && is_absent (local))
    return TRUE;
  if (local != NULL)
    return throw_invalid (source, group, key, local, error);
  for (gsize i = 0; i < n; i++)
    g_strstrip (value[i]);
  g_strfreev (*field);
  *field = g_steal_pointer (&value);
  return TRUE;
}

static gboolean
take_bool (GKeyFile *kf, const char *group, const char *key, gboolean *field,
           const char *source, GError **error)
{
  g_autoptr(GError) local = NULL;
  gboolean value;

  if (!g_key_file_has_key (kf, group, key, NULL))
    return TRUE;
  value = g_key_file_get_boolean (kf, group, key, &local);
  if (local != NULL)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "%s: invalid value for %s.%s: expected true or false", source, group,
                       key);
  *field = value;
  return TRUE;
}

gboolean
rrun_config_apply_keyfile (RrunConfig *c, GKeyFile *kf, const char *source, GError **error)
{
  static const char *drivers[] = { "auto", "overlay", "fuse-overlayfs", NULL };
  static const char *userns[] = { "auto", "keep-id", "nomap", "single", NULL };
  static const char *onoff[] = { "enabled", "disabled", NULL };
  static const char *pulls[] = { "missing", "always", "never", NULL };
  g_autofree char *root_before = g_strdup (c->storage_root);
  g_autofree char *volumes_before = g_strdup (c->volume_path);

  if (!rrun_key_file_check_escapes (kf, source, error)
      || !take_string (kf, "storage", "root", &c->storage_root, NULL, source, error)
      || !take_string (kf, "storage", "volume_path", &c->volume_path, NULL, source, error)
      || !take_string (kf, "storage", "driver", &c->storage_driver, drivers, source, error)
      || !take_string (kf, "engine", "runroot", &c->run_root, NULL, source, error)
      || !take_string (kf, "engine", "userns", &c->userns, userns, source, error)
      || !take_string (kf, "engine", "cgroups", &c->cgroups, onoff, source, error)
      || !take_string (kf, "engine", "pull", &c->pull_policy, pulls, source, error)
      || !take_string (kf, "network", "default", &c->network, NULL, source, error)
      || !take_string (kf, "network", "dns_upstream", &c->dns_upstream, NULL, source, error)
      || !take_bool (kf, "network", "allow_host_loopback", &c->allow_host_loopback, source,
                     error)
      || !take_bool (kf, "storage", "fuse_acl", &c->fuse_acl, source, error)
      || !take_list (kf, "storage", "additional_image_stores", &c->additional_image_stores,
                     source, error)
      || !take_list (kf, "engine", "cdi_spec_dirs", &c->cdi_spec_dirs, source, error)
      || !take_list (kf, "registries", "unqualified_search_registries",
                     &c->unqualified_search_registries, source, error)
      || !take_list (kf, "registries", "insecure", &c->insecure_registries, source, error))
    return FALSE;
  if (g_strcmp0 (root_before, c->storage_root) != 0)
    c->storage_root_from_config = TRUE;
  if (g_strcmp0 (volumes_before, c->volume_path) != 0)
    c->volume_path_from_config = TRUE;
  return TRUE;
}

static gboolean
load_file (RrunConfig *c, const char *path, GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) local = NULL;
  g_autofree char *text = NULL;
  gsize len;

  if (!rrun_text_file_read (path, "config", RRUN_TEXT_FILE_MAX_CONFIG, RRUN_TEXT_FILE_DEFAULT,
                            &text, &len, &local))
    {
      if (g_error_matches (local, RRUN_ERRNO_ERROR, ENOENT))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (!g_key_file_load_from_data (kf, text, len, G_KEY_FILE_NONE, &local))
    {
      g_autofree char *shown = rrun_text_escape (local->message, -1);
      g_autofree char *epath = rrun_text_escape (path, -1);

      return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "cannot read config \"%s\": %s",
                         epath, shown);
    }
  if (!rrun_config_apply_keyfile (c, kf, path, error))
    return FALSE;
  g_ptr_array_add (c->files_read, g_strdup (path));
  return TRUE;
}

gboolean
rrun_config_load (const char *root_override, const char *runroot_override,
                  RrunConfig **out_config, GError **error)
{
  g_autoptr(RrunConfig) c = rrun_config_new_defaults ();
  const char *system = g_getenv ("RRUN_SYSTEM_CONFIG");
  g_autofree char *user = g_build_filename (g_get_user_config_dir (), "rrun", "rrun.conf",
                                            NULL);

  if (!load_file (c, system ? system : "/etc/rrun/rrun.conf", error)
      || !load_file (c, user, error))
    return FALSE;
  if (root_override != NULL)
    {
      g_free (c->storage_root);
      c->storage_root = g_strdup (root_override);
      c->storage_root_from_config = TRUE;
    }
  if (runroot_override != NULL)
    {
      g_free (c->run_root);
      c->run_root = g_strdup (runroot_override);
    }
  if (!g_path_is_absolute (c->volume_path))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "volume path \"%s\" must be an absolute path", c->volume_path);
  if (!g_path_is_absolute (c->storage_root) || !g_path_is_absolute (c->run_root))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "storage root \"%s\" and run root \"%s\" must be absolute paths",
                       c->storage_root, c->run_root);
  *out_config = g_steal_pointer (&c);
  return TRUE;
}

gboolean
rrun_config_ensure_run_root (const RrunConfig *config, GError **error)
{
  struct stat st;

  if (mkdir (config->run_root, 0700) < 0 && errno != EEXIST)
    {
      if (errno == ENOENT && rrun_path_mkdir_p (config->run_root, 0700, NULL))
        return rrun_config_ensure_run_root (config, error);
      return rrun_throw_errno (error, errno, "cannot create run directory \"%s\"",
                               config->run_root);
    }
  if (lstat (config->run_root, &st) < 0)
    return rrun_throw_errno (error, errno, "cannot use run directory \"%s\"", config->run_root);
  if (!S_ISDIR (st.st_mode) || st.st_uid != getuid () || (st.st_mode & 0022) != 0)
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                  "cannot use run directory \"%s\": it is not a directory owned by uid %u "
                  "and closed to others",
                  config->run_root, (unsigned) getuid ());
      rrun_add_hint (error, "someone else may have created it; set XDG_RUNTIME_DIR to a "
                            "directory of your own, or pass --runroot DIR");
      return FALSE;
    }
  return TRUE;
}

/* A directory of ours, closed to others (mkdir 0700 when missing). */
static gboolean
ensure_private_dir (const char *path, gboolean *out_created, GError **error)
{
  struct stat st;

  *out_created = FALSE;
  if (mkdir (path, 0700) == 0)
    *out_created = TRUE;
  else if (errno != EEXIST)
    return rrun_throw_errno (error, errno, "cannot create directory \"%s\"", path);
  if (lstat (path, &st) < 0)
    return rrun_throw_errno (error, errno, "cannot use directory \"%s\"", path);
  if (!S_ISDIR (st.st_mode) || st.st_uid != getuid () || (st.st_mode & 0022) != 0)
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                  "cannot use directory \"%s\": it is not a directory owned by uid %u "
                  "and closed to others",
                  path, (unsigned) getuid ());
      rrun_add_hint (error, "someone else may have created it; pass --root DIR, or set "
                            "[storage] root in ~/.config/rrun/rrun.conf");
      return FALSE;
    }
  return TRUE;
}

/* The volume path's part of rrun_config_relocate_storage: volumes hold files of
   subordinate IDs and their xattrs, which NFS, Lustre, GPFS and BeeGFS refuse. Nothing
   is made here: the first volume creates the directory. */
static void
relocate_volumes (RrunConfig *config, const char *base)
{
  const char *name = NULL;

  if (config->volume_path_from_config
      || !rrun_fsmagic_network_fs (config->volume_path, &name, NULL) || name == NULL)
    return;
  config->volume_relocated_fs = g_strdup (name);
  config->volume_relocated_from = g_steal_pointer (&config->volume_path);
  config->volume_path = g_build_filename (base, "volumes", NULL);
}

gboolean
rrun_config_relocate_storage (RrunConfig *config, GError **error)
{
  const char *base_env = g_getenv ("RRUN_TEST_LOCAL_BASE");
  g_autofree char *base = g_strdup_printf ("%s/rrun-%u", base_env ? base_env : "/var/tmp",
                                           (unsigned) getuid ());
  g_autofree char *storage = g_build_filename (base, "storage", NULL);
  g_autofree char *fs = NULL;
  const char *name = NULL;
  const char *local = NULL;
  gboolean created_base, created;

  {
    const char *local_fs = NULL;
    /* Volumes move where the local base is local, whatever the image store does. */
    if (rrun_fsmagic_network_fs (base, &local_fs, NULL) && local_fs == NULL)
      relocate_volumes (config, base);
  }
  if (config->storage_root_from_config)
    return TRUE;
  /* An uninspectable root is left to the store, which says what is wrong with it. */
  if (!rrun_fsmagic_network_fs (config->storage_root, &name, NULL) || name == NULL)
    return TRUE;
  fs = g_strdup (name);
  if (!rrun_fsmagic_network_fs (base, &local, NULL) || local != NULL)
    return TRUE;
  if (!ensure_private_dir (base, &created_base, error)
      || !ensure_private_dir (storage, &created, error))
    {
      g_prefix_error (error, "cannot move image storage off %s: ", fs);
      return FALSE;
    }
  if (created)
    rrun_warning ("image storage \"%s\" is on %s, which cannot hold overlay layers or files "
                  "of subordinate IDs: using \"%s\" on this machine instead (set [storage] "
                  "root in ~/.config/rrun/rrun.conf to choose another)",
                  config->storage_root, fs, storage);
  config->storage_relocated_from = g_steal_pointer (&config->storage_root);
  config->storage_relocated_fs = g_steal_pointer (&fs);
  config->storage_root = g_steal_pointer (&storage);
  return TRUE;
}
