/* OCI runtime bundles: config.json to a container spec, and an image to config.json. */
#include "container/oci-bundle.h"
#include "error.h"
#include "process/command.h"
#include "util/json-value.h"
#include "util/text-file.h"

#include <string.h>

typedef struct
{
  const char *file;   /* for messages: BUNDLE/config.json */
} Ctx;

static gboolean
bad (const Ctx *x, GError **error, const char *field, const char *what)
{
  rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid %s: %s %s", x->file, field, what);
  rrun_add_hint (error, "see the OCI runtime spec's config.json; rrun bundle IMAGE DIR "
                        "writes one");
  return FALSE;
}

/* member of type, or NULL when absent (an error when required or mistyped). */
static gboolean
member (const Ctx *x, const RrunJson *o, const char *name, const char *path,
        RrunJsonType type, gboolean required, RrunJson **out, GError **error)
{
  RrunJson *v = o ? rrun_json_member (o, name) : NULL;
  static const char *const names[] = { "null", "a boolean", "an integer", "a number",
                                       "a string", "an array", "an object" };

  *out = NULL;
  if (v == NULL || rrun_json_type (v) == RRUN_JSON_NULL)
    return required ? bad (x, error, path, "is missing") : TRUE;
  if (rrun_json_type (v) != type)
    {
      g_autofree char *what = g_strdup_printf ("must be %s", names[type]);
      return bad (x, error, path, what);
    }
  *out = v;
  return TRUE;
}

static gboolean
string_array (const Ctx *x, const RrunJson *a, const char *path, char ***out, GError **error)
{
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < rrun_json_size (a); i++)
    {
      RrunJson *e = rrun_json_element (a, i);

      if (rrun_json_type (e) != RRUN_JSON_STRING)
        return bad (x, error, path, "must hold strings only");
      g_ptr_array_add (items, g_strdup (rrun_json_string (e)));
    }
  g_ptr_array_add (items, NULL);
  *out = (char **) g_ptr_array_free (g_steal_pointer (&items), FALSE);
  return TRUE;
}

static gboolean
has_option (char **options, const char *name)
{
  return options != NULL && g_strv_contains ((const char *const *) options, name);
}

/* The file systems rrun mounts itself, where runc's default config puts them. */
static gboolean
rrun_provides (const char *destination, const char *type)
{
  static const char *const paths[] = { "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue",
                                       "/sys", "/sys/fs/cgroup", NULL };

  if (type != NULL && strcmp (type, "bind") == 0)
    return FALSE;
  return g_strv_contains (paths, destination);
}

static gboolean
add_mounts (const Ctx *x, const RrunJson *mounts, const char *bundle, GPtrArray *binds,
            GPtrArray *tmpfs, GError **error)
{
  for (guint i = 0; mounts && i < rrun_json_size (mounts); i++)
    {
      RrunJson *m = rrun_json_element (mounts, i);
      RrunJson *dst = NULL, *type = NULL, *src = NULL, *opts = NULL;
      g_auto(GStrv) options = NULL;
      g_autofree char *path = g_strdup_printf ("mounts[%u]", i);
      g_autofree char *p_dst = g_strconcat (path, ".destination", NULL);
      g_autofree char *p_type = g_strconcat (path, ".type", NULL);
      g_autofree char *p_src = g_strconcat (path, ".source", NULL);
      g_autofree char *p_opts = g_strconcat (path, ".options", NULL);
      const char *t, *d;

      if (rrun_json_type (m) != RRUN_JSON_OBJECT)
        return bad (x, error, path, "must be an object");
      if (!member (x, m, "destination", p_dst, RRUN_JSON_STRING, TRUE, &dst, error)
          || !member (x, m, "type", p_type, RRUN_JSON_STRING, FALSE, &type, error)
          || !member (x, m, "source", p_src, RRUN_JSON_STRING, FALSE, &src, error)
          || !member (x, m, "options", p_opts, RRUN_JSON_ARRAY, FALSE, &opts, error))
        return FALSE;
      if (opts != NULL && !string_array (x, opts, p_opts, &options, error))
        return FALSE;
      d = rrun_json_string (dst);
      t = type ? rrun_json_string (type) : NULL;
      if (d[0] != '/')
        return bad (x, error, p_dst, "must be an absolute path");
      if (has_option (options, "bind") || has_option (options, "rbind")
          || g_strcmp0 (t, "bind") == 0)
        {
          g_autofree char *source = NULL;

          if (src == NULL)
            return bad (x, error, p_src, "is missing (a bind mount needs one)");
          source = g_path_is_absolute (rrun_json_string (src))
                       ? g_strdup (rrun_json_string (src))
                       : g_build_filename (bundle, rrun_json_string (src), NULL);
          if (strchr (source, ',') != NULL || strchr (d, ',') != NULL)
            return bad (x, error, path, "holds a ',' in a path, which rrun cannot pass on");
          g_ptr_array_add (binds, g_strdup_printf ("type=bind,source=%s,target=%s%s", source, d,
                                                   has_option (options, "ro") ? ",readonly"
                                                                              : ""));
          continue;
        }
      if (rrun_provides (d, t))
        continue;
      if (g_strcmp0 (t, "tmpfs") == 0)
        {
          g_autoptr(GString) spec = g_string_new (d);
          gboolean first = TRUE;

          for (guint k = 0; options && options[k]; k++)
            if (g_str_has_prefix (options[k], "size=") || g_str_has_prefix (options[k], "mode="))
              {
                g_string_append_c (spec, first ? ':' : ',');
                g_string_append (spec, options[k]);
                first = FALSE;
              }
          g_ptr_array_add (tmpfs, g_string_free (g_steal_pointer (&spec), FALSE));
          continue;
        }
      {
        g_autofree char *what = g_strdup_printf ("has type \"%s\", which rrun does not mount "
                                                 "(bind and tmpfs only)",
                                                 t ? t : "");
        return bad (x, error, path, what);
      }
    }
  return TRUE;
}

static gboolean
namespaces (const Ctx *x, const RrunJson *lnx, RrunContainerSpec *o, GError **error)
{
  RrunJson *ns = NULL, *umaps = NULL;
  gboolean net = FALSE, ipc = FALSE;

  if (!member (x, lnx, "namespaces", "linux.namespaces", RRUN_JSON_ARRAY, FALSE, &ns, error)
      || !member (x, lnx, "uidMappings", "linux.uidMappings", RRUN_JSON_ARRAY, FALSE, &umaps,
                  error))
    return FALSE;
  for (guint i = 0; ns && i < rrun_json_size (ns); i++)
    {
      RrunJson *n = rrun_json_element (ns, i);
      const char *type = rrun_json_type (n) == RRUN_JSON_OBJECT
                             ? rrun_json_member_string (n, "type")
                             : NULL;
      const char *path = rrun_json_type (n) == RRUN_JSON_OBJECT
                             ? rrun_json_member_string (n, "path")
                             : NULL;

      if (type == NULL)
        return bad (x, error, "linux.namespaces[].type", "is missing");
      if (strcmp (type, "network") == 0)
        {
          net = TRUE;
          o->network = path && *path ? g_strconcat ("ns:", path, NULL) : g_strdup ("none");
        }
      else if (strcmp (type, "ipc") == 0)
        ipc = TRUE;
      else if (path != NULL && *path)
        {
          g_autofree char *what = g_strdup_printf ("joins a %s namespace by path, which rrun "
                                                   "does not do (network only)",
                                                   type);
          return bad (x, error, "linux.namespaces", what);
        }
    }
  /* Without a network namespace the process uses the host's (MPI and Slurm's PMI need
     it), as runc does. */
  if (!net)
    o->network = g_strdup ("host");
  if (!ipc)
    o->ipc = g_strdup ("host");
  /* One id mapped: the bundle asks for a single-ID user namespace. Otherwise rrun maps
     the user's subordinate range as always (the bundle's numbers are not its to pick). */
  if (umaps != NULL && rrun_json_size (umaps) == 1)
    {
      RrunJson *m = rrun_json_element (umaps, 0);
      RrunJson *size = rrun_json_type (m) == RRUN_JSON_OBJECT ? rrun_json_member (m, "size")
                                                              : NULL;

      if (size != NULL && rrun_json_type (size) == RRUN_JSON_INT && rrun_json_int (size) == 1)
        o->userns = g_strdup ("single");
    }
  return TRUE;
}

gboolean
rrun_oci_bundle_to_spec (const char *bundle_arg, const char *id, RrunContainerSpec **out_spec,
                         GError **error)
{
  g_autoptr(RrunContainerSpec) o = rrun_container_spec_new ();
  g_autofree char *bundle = g_canonicalize_filename (bundle_arg, NULL);
  g_autofree char *file = g_build_filename (bundle, "config.json", NULL);
  g_autofree char *text = NULL;
  g_autoptr(RrunJson) root = NULL;
  g_autoptr(GPtrArray) binds = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) tmpfs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) env = g_ptr_array_new_with_free_func (g_free);
  RrunJson *rootfs = NULL, *path = NULL, *ro = NULL, *process = NULL, *args = NULL;
  RrunJson *jenv = NULL, *cwd = NULL, *terminal = NULL, *user = NULL, *uid = NULL, *gid = NULL;
  RrunJson *hostname = NULL, *mounts = NULL, *lnx = NULL, *version = NULL, *resources = NULL;
  g_auto(GStrv) env_strv = NULL;
  g_autoptr(GError) local = NULL;
  Ctx x = { file };
  gsize len;

  if (!g_file_test (bundle, G_FILE_TEST_IS_DIR))
    return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot use the bundle \"%s\": no such "
                                                    "directory", bundle_arg);
  if (!rrun_text_file_read (file, "config.json", RRUN_TEXT_FILE_MAX_CONFIG,
                            RRUN_TEXT_FILE_DEFAULT, &text, &len, error))
    {
      g_prefix_error (error, "cannot use the bundle \"%s\": ", bundle_arg);
      return FALSE;
    }
  root = rrun_json_parse (text, len, RRUN_JSON_DEFAULT, &local);
  if (root == NULL)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid %s: %s", file,
                       local->message);
  if (rrun_json_type (root) != RRUN_JSON_OBJECT)
    return bad (&x, error, "the document", "must be an object");
  if (!member (&x, root, "ociVersion", "ociVersion", RRUN_JSON_STRING, TRUE, &version, error)
      || !member (&x, root, "root", "root", RRUN_JSON_OBJECT, TRUE, &rootfs, error)
      || !member (&x, rootfs, "path", "root.path", RRUN_JSON_STRING, TRUE, &path, error)
      || !member (&x, rootfs, "readonly", "root.readonly", RRUN_JSON_BOOL, FALSE, &ro, error)
      || !member (&x, root, "process", "process", RRUN_JSON_OBJECT, TRUE, &process, error)
      || !member (&x, process, "args", "process.args", RRUN_JSON_ARRAY, TRUE, &args, error)
      || !member (&x, process, "env", "process.env", RRUN_JSON_ARRAY, FALSE, &jenv, error)
      || !member (&x, process, "cwd", "process.cwd", RRUN_JSON_STRING, FALSE, &cwd, error)
      || !member (&x, process, "terminal", "process.terminal", RRUN_JSON_BOOL, FALSE, &terminal,
                  error)
      || !member (&x, process, "user", "process.user", RRUN_JSON_OBJECT, FALSE, &user, error)
      || !member (&x, user, "uid", "process.user.uid", RRUN_JSON_INT, FALSE, &uid, error)
      || !member (&x, user, "gid", "process.user.gid", RRUN_JSON_INT, FALSE, &gid, error)
      || !member (&x, root, "hostname", "hostname", RRUN_JSON_STRING, FALSE, &hostname, error)
      || !member (&x, root, "mounts", "mounts", RRUN_JSON_ARRAY, FALSE, &mounts, error)
      || !member (&x, root, "linux", "linux", RRUN_JSON_OBJECT, FALSE, &lnx, error)
      || !member (&x, lnx, "resources", "linux.resources", RRUN_JSON_OBJECT, FALSE,
                  &resources, error))
    return FALSE;

  /* The root file system: a directory, the container's read-only lower layer. */
  o->image = g_path_is_absolute (rrun_json_string (path))
                 ? g_strdup (rrun_json_string (path))
                 : g_build_filename (bundle, rrun_json_string (path), NULL);
  if (!g_file_test (o->image, G_FILE_TEST_IS_DIR))
    return bad (&x, error, "root.path", "is not a directory");
  o->read_only = ro != NULL && rrun_json_int (ro);

  /* The process. */
  if (rrun_json_size (args) == 0)
    return bad (&x, error, "process.args", "must not be empty");
  if (!string_array (&x, args, "process.args", &o->args, error))
    return FALSE;
  o->entrypoint = g_strdup (""); /* args are the whole command: no image entrypoint */
  if (jenv != NULL && !string_array (&x, jenv, "process.env", &env_strv, error))
    return FALSE;
  for (guint i = 0; env_strv && env_strv[i]; i++)
    if (strchr (env_strv[i], '=') == NULL || env_strv[i][0] == '=')
      return bad (&x, error, "process.env", "must hold KEY=VALUE strings");
  o->env = g_steal_pointer (&env_strv);
  if (cwd != NULL)
    {
      if (rrun_json_string (cwd)[0] != '/')
        return bad (&x, error, "process.cwd", "must be an absolute path");
      o->workdir = g_strdup (rrun_json_string (cwd));
    }
  o->tty = terminal != NULL && rrun_json_int (terminal);
  /* runc passes its stdin on; so does rrun (srun forwards it to the task). */
  o->interactive = TRUE;
  if (uid != NULL || gid != NULL)
    o->user = g_strdup_printf ("%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT,
                               uid ? rrun_json_int (uid) : 0, gid ? rrun_json_int (gid) : 0);
  if (hostname != NULL && *rrun_json_string (hostname))
    o->hostname = g_strdup (rrun_json_string (hostname));

  if (!add_mounts (&x, mounts, bundle, binds, tmpfs, error))
    return FALSE;
  g_ptr_array_add (binds, NULL);
  g_ptr_array_add (tmpfs, NULL);
  o->mounts = (char **) g_ptr_array_free (g_steal_pointer (&binds), FALSE);
  o->tmpfs = (char **) g_ptr_array_free (g_steal_pointer (&tmpfs), FALSE);
  if (!namespaces (&x, lnx, o, error))
    return FALSE;
  /* No cgroupsPath or resources: the process stays in the caller's cgroup (under Slurm,
     the step's), as the job's limits and accounting require. */
  if (resources == NULL)
    o->cgroups = g_strdup ("disabled");

  o->name = g_strdup (id);
  o->labels = g_new0 (char *, 2);
  o->labels[0] = g_strconcat (RRUN_OCI_BUNDLE_LABEL "=", bundle, NULL);
  o->pull = g_strdup ("never");
  *out_spec = g_steal_pointer (&o);
  return TRUE;
}

/* ---- rrun bundle ---- */

static void
mount_entry (RrunJsonBuilder *b, const char *dst, const char *type, const char *src,
             const char *const *options)
{
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "destination", dst);
  rrun_json_builder_member_string (b, "type", type);
  rrun_json_builder_member_string (b, "source", src);
  rrun_json_builder_member_strv (b, "options", options);
  rrun_json_builder_end_object (b);
}

gboolean
rrun_oci_bundle_config_text (const RrunImage *image, const char *passwd, const char *group,
                             char **out_text, GError **error)
{
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();
  g_autoptr(RrunUser) user = NULL;
  g_auto(GStrv) argv = NULL;
  g_auto(GStrv) env = NULL;
  const RrunImageConfig *c = image->config;
  static const char *const nosuid[] = { "nosuid", "noexec", "nodev", NULL };
  static const char *const dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
  static const char *const pts[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666",
                                     "mode=0620", NULL };
  static const char *const shm[] = { "nosuid", "noexec", "nodev", "mode=1777",
                                     "size=65536k", NULL };
  static const char *const sys[] = { "nosuid", "noexec", "nodev", "ro", NULL };
  static const char *const ns[] = { "pid", "uts", "mount", "user", "cgroup", NULL };

  if (!rrun_user_resolve (c->user, passwd, group, &user, error))
    return FALSE;
  /* An image without Entrypoint or Cmd gets /bin/sh: config.json must name a process,
     and the user edits it (or srun passes its own command). */
  if ((c->entrypoint == NULL || c->entrypoint[0] == NULL) && (c->cmd == NULL || c->cmd[0] == NULL))
    {
      argv = g_new0 (char *, 2);
      argv[0] = g_strdup ("/bin/sh");
    }
  else if (!rrun_spec_build_argv (c->entrypoint, c->cmd, NULL, NULL, &argv, error))
    {
      g_prefix_error (error, "cannot make a bundle: ");
      return FALSE;
    }
  if (!rrun_spec_build_env (c->env, NULL, NULL, NULL, "rrun", user->home, FALSE, &env, error))
    return FALSE;
  /* HOSTNAME follows the hostname field, which a user may change: not fixed here. */
  for (guint i = 0, j = 0;; i++)
    {
      if (env[i] == NULL || !g_str_has_prefix (env[i], "HOSTNAME="))
        env[j++] = env[i];
      else
        g_free (env[i]);
      if (env[i] == NULL)
        break;
    }
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "ociVersion", RRUN_OCI_VERSION);
  rrun_json_builder_set_member_name (b, "process");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_bool (b, "terminal", FALSE);
  rrun_json_builder_set_member_name (b, "user");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_int (b, "uid", user->uid);
  rrun_json_builder_member_int (b, "gid", user->gid);
  rrun_json_builder_end_object (b);
  rrun_json_builder_member_strv (b, "args", (const char *const *) argv);
  rrun_json_builder_member_strv (b, "env", (const char *const *) env);
  rrun_json_builder_member_string (b, "cwd", c->working_dir && *c->working_dir ? c->working_dir
                                                                              : "/");
  rrun_json_builder_member_bool (b, "noNewPrivileges", TRUE);
  rrun_json_builder_end_object (b);
  rrun_json_builder_set_member_name (b, "root");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "path", "rootfs");
  rrun_json_builder_member_bool (b, "readonly", FALSE);
  rrun_json_builder_end_object (b);
  rrun_json_builder_member_string (b, "hostname", "rrun");
  rrun_json_builder_set_member_name (b, "mounts");
  rrun_json_builder_begin_array (b);
  mount_entry (b, "/proc", "proc", "proc", NULL);
  mount_entry (b, "/dev", "tmpfs", "tmpfs", dev);
  mount_entry (b, "/dev/pts", "devpts", "devpts", pts);
  mount_entry (b, "/dev/shm", "tmpfs", "shm", shm);
  mount_entry (b, "/dev/mqueue", "mqueue", "mqueue", nosuid);
  mount_entry (b, "/sys", "sysfs", "sysfs", sys);
  rrun_json_builder_end_array (b);
  rrun_json_builder_set_member_name (b, "linux");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_set_member_name (b, "namespaces");
  rrun_json_builder_begin_array (b);
  for (guint i = 0; ns[i]; i++)
    {
      rrun_json_builder_begin_object (b);
      rrun_json_builder_member_string (b, "type", ns[i]);
      rrun_json_builder_end_object (b);
    }
  rrun_json_builder_end_array (b);
  rrun_json_builder_end_object (b);
  rrun_json_builder_end_object (b);
  *out_text = rrun_json_builder_to_text (b, TRUE);
  return TRUE;
}
