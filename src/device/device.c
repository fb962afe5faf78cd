/* --device, --device-cgroup-rule and --gpus: parsed, checked against the host and turned
   into binds (docs/architecture.md, "Devices and GPUs"). */
#include "device/device.h"
#include "error.h"

#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

static void
bind_free (RrunDeviceBind *b)
{
  g_free (b->host);
  g_free (b->container);
  g_free (b);
}

static void
hook_free (RrunOciHook *h)
{
  g_free (h->name);
  g_free (h->path);
  g_strfreev (h->argv);
  g_strfreev (h->env);
  g_free (h->device);
  g_free (h);
}

const char *
rrun_hook_phase_name (RrunHookPhase phase)
{
  static const char *const names[] = { "createRuntime", "createContainer", "startContainer",
                                       "poststart", "poststop" };

  return phase < RRUN_HOOK_N_PHASES ? names[phase] : "OCI";
}

GPtrArray *
rrun_device_edits_hooks (const RrunDeviceEdits *e, RrunHookPhase phase)
{
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; e != NULL && i < e->hooks->len; i++)
    if (((RrunOciHook *) e->hooks->pdata[i])->phase == phase)
      g_ptr_array_add (out, e->hooks->pdata[i]);
  return out;
}

RrunDeviceEdits *
rrun_device_edits_new (void)
{
  RrunDeviceEdits *e = g_new0 (RrunDeviceEdits, 1);

  e->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) bind_free);
  e->mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) bind_free);
  e->env = g_ptr_array_new_with_free_func (g_free);
  e->ld_dirs = g_ptr_array_new_with_free_func (g_free);
  e->bin_dirs = g_ptr_array_new_with_free_func (g_free);
  e->symlinks = g_ptr_array_new_with_free_func (g_free);
  e->notes = g_ptr_array_new_with_free_func (g_free);
  e->hooks = g_ptr_array_new_with_free_func ((GDestroyNotify) hook_free);
  return e;
}

void
rrun_device_edits_free (RrunDeviceEdits *e)
{
  if (e == NULL)
    return;
  g_ptr_array_unref (e->nodes);
  g_ptr_array_unref (e->mounts);
  g_ptr_array_unref (e->env);
  g_ptr_array_unref (e->ld_dirs);
  g_ptr_array_unref (e->bin_dirs);
  g_ptr_array_unref (e->symlinks);
  g_ptr_array_unref (e->notes);
  g_ptr_array_unref (e->hooks);
  g_free (e);
}

gboolean
rrun_device_edits_empty (const RrunDeviceEdits *e)
{
  return e->nodes->len == 0 && e->mounts->len == 0 && e->env->len == 0
         && e->ld_dirs->len == 0 && e->bin_dirs->len == 0 && e->symlinks->len == 0
         && e->hooks->len == 0;
}

static gboolean
has_container_path (GPtrArray *binds, const char *container)
{
  for (guint i = 0; i < binds->len; i++)
    if (strcmp (((RrunDeviceBind *) binds->pdata[i])->container, container) == 0)
      return TRUE;
  return FALSE;
}

void
rrun_device_edits_add_node (RrunDeviceEdits *e, const char *host, const char *container)
{
  RrunDeviceBind *b;

  if (has_container_path (e->nodes, container))
    return; /* two GPUs share /dev/nvidiactl */
  b = g_new0 (RrunDeviceBind, 1);
  b->host = g_strdup (host);
  b->container = g_strdup (container);
  g_ptr_array_add (e->nodes, b);
}

void
rrun_device_edits_add_mount (RrunDeviceEdits *e, const char *host, const char *container,
                             gboolean dir, gboolean read_only)
{
  RrunDeviceBind *b;

  if (has_container_path (e->mounts, container))
    return;
  b = g_new0 (RrunDeviceBind, 1);
  b->host = g_strdup (host);
  b->container = g_strdup (container);
  b->dir = dir;
  b->read_only = read_only;
  g_ptr_array_add (e->mounts, b);
}

/* ---- syntax ---------------------------------------------------------------------------- */

static gboolean
name_chars (const char *s, gsize n, const char *extra)
{
  if (n == 0 || !g_ascii_isalnum (s[0]))
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum (s[i]) && strchr (extra, s[i]) == NULL)
      return FALSE;
  return TRUE;
}

gboolean
rrun_device_is_cdi_name (const char *spec)
{
  const char *slash, *eq;

  if (spec == NULL || spec[0] == '/' || (slash = strchr (spec, '/')) == NULL
      || (eq = strchr (slash, '=')) == NULL)
    return FALSE;
  return name_chars (spec, (gsize) (slash - spec), ".-")
         && name_chars (slash + 1, (gsize) (eq - slash - 1), "_.-")
         && name_chars (eq + 1, strlen (eq + 1), "_.:-");
}

static gboolean
perms_valid (const char *p)
{
  if (*p == '\0' || strlen (p) > 3)
    return FALSE;
  for (const char *c = p; *c; c++)
    if (strchr ("rwm", *c) == NULL || strchr (c + 1, *c) != NULL)
      return FALSE;
  return TRUE;
}

gboolean
rrun_device_parse (const char *spec, char **out_host, char **out_container, char **out_perms,
                   GError **error)
{
  g_auto(GStrv) parts = g_strsplit (spec, ":", -1);
  guint n = g_strv_length (parts);
  const char *host, *container = NULL, *perms = "rwm";

  if (n == 0 || n > 3 || *parts[0] == '\0')
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "invalid --device \"%s\": expected HOST[:CONTAINER][:PERMS]", spec);
      rrun_add_hint (error, "for example --device /dev/fuse or --device /dev/sdc:/dev/xvdc:r");
      return FALSE;
    }
  host = parts[0];
  if (n == 2)
    {
      /* docker's reading: permissions if the field is made of r, w and m, else a path */
      if (perms_valid (parts[1]))
        perms = parts[1];
      else
        container = parts[1];
    }
  else if (n == 3)
    {
      container = parts[1];
      perms = parts[2];
    }
  if (host[0] != '/')
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "invalid --device \"%s\": the host path must be absolute", spec);
      rrun_add_hint (error, "a CDI device is named vendor.com/class=NAME "
                            "(nvidia.com/gpu=all)");
      return FALSE;
    }
  if (container != NULL && container[0] != '/')
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --device \"%s\": the container path must be absolute", spec);
  if (container != NULL && !rrun_mount_plan_check_target (container, error))
    {
      g_prefix_error (error, "invalid --device \"%s\": ", spec);
      return FALSE;
    }
  if (!perms_valid (perms))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "invalid --device \"%s\": permissions \"%s\" are not a combination of r, "
                  "w and m", spec, perms);
      rrun_add_hint (error, "r: read, w: write, m: mknod (the default is rwm)");
      return FALSE;
    }
  *out_host = g_strdup (host);
  *out_container = g_strdup (container ? container : host);
  *out_perms = g_strdup (perms);
  return TRUE;
}

static gboolean
dev_number (const char *s)
{
  if (strcmp (s, "*") == 0)
    return TRUE;
  if (*s == '\0' || strlen (s) > 10)
    return FALSE;
  for (const char *c = s; *c; c++)
    if (!g_ascii_isdigit (*c))
      return FALSE;
  return TRUE;
}

gboolean
rrun_device_cgroup_rule_check (const char *rule, GError **error)
{
  g_auto(GStrv) f = g_strsplit_set (rule, " \t", -1);
  g_autoptr(GPtrArray) w = g_ptr_array_new ();
  g_auto(GStrv) mm = NULL;

  for (guint i = 0; f[i]; i++)
    if (*f[i])
      g_ptr_array_add (w, f[i]);
  if (w->len == 3 && strlen (w->pdata[0]) == 1 && strchr ("abc", *(char *) w->pdata[0]))
    {
      mm = g_strsplit (w->pdata[1], ":", -1);
      if (g_strv_length (mm) == 2 && dev_number (mm[0]) && dev_number (mm[1])
          && perms_valid (w->pdata[2]))
        return TRUE;
    }
  rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
              "invalid --device-cgroup-rule \"%s\": expected TYPE MAJOR:MINOR PERMS", rule);
  rrun_add_hint (error, "TYPE is a (all), b (block) or c (char); MAJOR and MINOR numbers or "
                        "*; PERMS of r, w, m: for example \"c 195:* rwm\"");
  return FALSE;
}

/* ---- resolution ------------------------------------------------------------------------ */

char **
rrun_device_cdi_dirs (const RrunConfig *config)
{
  const char *env = g_getenv ("RRUN_CDI_SPEC_DIRS");

  if (env != NULL && *env)
    return g_strsplit (env, ":", -1);
  if (config != NULL && config->cdi_spec_dirs != NULL)
    return g_strdupv (config->cdi_spec_dirs);
  return g_strsplit ("/etc/cdi:/var/run/cdi", ":", -1);
}

/* A node, or every node below a directory (docker's --device /dev/snd). */
static gboolean
add_host_device (const char *spec, const char *host, const char *container,
                 RrunDeviceEdits *e, int depth, GError **error)
{
  struct stat st;

  if (stat (host, &st) < 0)
    {
      int errsv = errno;

      rrun_throw (error, errsv == ENOENT ? RRUN_ERROR_NOT_FOUND : RRUN_ERROR_INVALID_ARGUMENT,
                  "cannot use --device \"%s\": \"%s\": %s", spec, host, g_strerror (errsv));
      if (errsv == ENOENT)
        rrun_add_hint (error, "the host has no such device: is its driver loaded?");
      return FALSE;
    }
  if (S_ISCHR (st.st_mode) || S_ISBLK (st.st_mode))
    {
      rrun_device_edits_add_node (e, host, container);
      return TRUE;
    }
  if (S_ISDIR (st.st_mode) && depth < 4)
    {
      g_autoptr(GDir) dir = g_dir_open (host, 0, error);
      const char *name;
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

      if (dir == NULL)
        return FALSE;
      while ((name = g_dir_read_name (dir)) != NULL)
        g_ptr_array_add (names, g_strdup (name));
      for (guint i = 0; i < names->len; i++)
        {
          g_autofree char *h = g_build_filename (host, names->pdata[i], NULL);
          g_autofree char *c = g_build_filename (container, names->pdata[i], NULL);
          struct stat sub;

          if (stat (h, &sub) == 0
              && (S_ISCHR (sub.st_mode) || S_ISBLK (sub.st_mode) || S_ISDIR (sub.st_mode))
              && !add_host_device (spec, h, c, e, depth + 1, error))
            return FALSE;
        }
      return TRUE;
    }
  rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
              "cannot use --device \"%s\": \"%s\" is not a device node", spec, host);
  rrun_add_hint (error, "bind files and directories with -v %s:%s", host, container);
  return FALSE;
}

/* --gpus over CDI: docker's indexes and UUIDs are the names nvidia-ctk gives. */
static gboolean
gpus_through_cdi (const RrunCdiRegistry *reg, const RrunGpuRequest *r, RrunDeviceEdits *e,
                  GError **error)
{
  if (r->all)
    return rrun_cdi_resolve (reg, "nvidia.com/gpu=all", "--gpus", e, error);
  for (int i = 0; i < r->count; i++)
    {
      g_autofree char *name = g_strdup_printf ("nvidia.com/gpu=%d", i);
      if (!rrun_cdi_resolve (reg, name, "--gpus", e, error))
        return FALSE;
    }
  for (guint i = 0; r->ids && r->ids[i]; i++)
    {
      g_autofree char *name = g_strconcat ("nvidia.com/gpu=", r->ids[i], NULL);
      if (!rrun_cdi_resolve (reg, name, "--gpus", e, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
rrun_device_resolve (const RrunConfig *config, char **devices, const char *gpus,
                     char **cgroup_rules, RrunDeviceEdits **out_edits, GError **error)
{
  g_autoptr(RrunDeviceEdits) e = rrun_device_edits_new ();
  g_autoptr(RrunCdiRegistry) reg = NULL;
  g_auto(GStrv) dirs = NULL;

  g_autoptr(GPtrArray) discover_ids = NULL; /* nvidia.com/gpu=NAME without a spec */
  gboolean discover_all = FALSE;

  for (guint i = 0; devices && devices[i]; i++)
    {
      g_autofree char *host = NULL, *container = NULL, *perms = NULL;

      if (rrun_device_is_cdi_name (devices[i]))
        {
          if (reg == NULL)
            {
              dirs = rrun_device_cdi_dirs (config);
              if (!rrun_cdi_registry_load (dirs, &reg, error))
                return FALSE;
            }
          /* No CDI spec for NVIDIA GPUs (no nvidia-ctk on this machine): the driver's
             discovery, as --gpus does, for all, an index or a UUID. */
          if (g_str_has_prefix (devices[i], "nvidia.com/gpu=")
              && !rrun_cdi_has_kind (reg, "nvidia.com/gpu"))
            {
              const char *name = devices[i] + strlen ("nvidia.com/gpu=");

              if (strcmp (name, "all") == 0)
                discover_all = TRUE;
              else
                {
                  if (discover_ids == NULL)
                    discover_ids = g_ptr_array_new_with_free_func (g_free);
                  g_ptr_array_add (discover_ids, g_strdup (name));
                }
              continue;
            }
          if (!rrun_cdi_resolve (reg, devices[i], "--device", e, error))
            return FALSE;
          continue;
        }
      if (!rrun_device_parse (devices[i], &host, &container, &perms, error)
          || !add_host_device (devices[i], host, container, e, 0, error))
        return FALSE;
      if (strchr (perms, 'r') == NULL || strchr (perms, 'w') == NULL)
        g_ptr_array_add (e->notes,
                         g_strdup_printf ("--device \"%s\": rootless rrun cannot limit a device "
                                          "node to \"%s\" (that needs a device cgroup); it is "
                                          "usable as its host permissions allow",
                                          devices[i], perms));
    }
  for (guint i = 0; cgroup_rules && cgroup_rules[i]; i++)
    {
      if (!rrun_device_cgroup_rule_check (cgroup_rules[i], error))
        return FALSE;
      g_ptr_array_add (e->notes,
                       g_strdup_printf ("--device-cgroup-rule \"%s\" is not applied: cgroup v2 "
                                        "controls devices with an eBPF program, which an "
                                        "unprivileged user cannot attach; the container can "
                                        "open the nodes bound into it as their host "
                                        "permissions allow", cgroup_rules[i]));
    }
  if (discover_all || discover_ids != NULL)
    {
      RrunGpuRequest r = { 0 };

      r.all = discover_all;
      if (!discover_all)
        {
          g_ptr_array_add (discover_ids, NULL);
          r.ids = (char **) discover_ids->pdata;
        }
      if (!rrun_gpu_discover (&r, e, error))
        {
          rrun_add_hint (error, "--device nvidia.com/gpu: there is no CDI spec for "
                                "nvidia.com/gpu, so rrun looked for the driver's devices");
          return FALSE;
        }
    }
  if (gpus != NULL)
    {
      RrunGpuRequest r = { 0 };
      gboolean ok;

      if (!rrun_gpu_request_parse (gpus, &r, error))
        return FALSE;
      if (reg == NULL)
        {
          dirs = rrun_device_cdi_dirs (config);
          if (!rrun_cdi_registry_load (dirs, &reg, error))
            {
              rrun_gpu_request_clear (&r);
              return FALSE;
            }
        }
      ok = rrun_cdi_has_kind (reg, "nvidia.com/gpu") ? gpus_through_cdi (reg, &r, e, error)
                                                    : rrun_gpu_discover (&r, e, error);
      rrun_gpu_request_clear (&r);
      if (!ok)
        return FALSE;
    }
  *out_edits = g_steal_pointer (&e);
  return TRUE;
}

/* ---- into the container --------------------------------------------------------------- */

gboolean
rrun_device_edits_add_to_plan (const RrunDeviceEdits *e, RrunMountPlan *plan,
                               const char *run_dir, GError **error)
{
  for (guint i = 0; i < e->nodes->len; i++)
    {
      const RrunDeviceBind *b = e->nodes->pdata[i];
      struct stat st;
      gboolean dir = stat (b->host, &st) == 0 && S_ISDIR (st.st_mode);

      rrun_mount_plan_add (plan, RRUN_MOUNT_OP_BIND, b->host, b->container, NULL, 0, NULL,
                           dir ? 1 : 2, 0);
    }
  for (guint i = 0; i < e->mounts->len; i++)
    {
      const RrunDeviceBind *b = e->mounts->pdata[i];

      rrun_mount_plan_add (plan, RRUN_MOUNT_OP_BIND, b->host, b->container, NULL,
                           b->read_only ? MS_RDONLY | MS_NOSUID | MS_NODEV : 0, NULL,
                           b->dir ? 1 : 2, 0);
    }
  for (guint i = 0; i + 1 < e->symlinks->len; i += 2)
    {
      g_autofree char *parent = g_path_get_dirname (e->symlinks->pdata[i + 1]);

      if (!rrun_mount_plan_check_target (e->symlinks->pdata[i + 1], error))
        return FALSE;
      if (strcmp (parent, "/") != 0)
        rrun_mount_plan_add (plan, RRUN_MOUNT_OP_MKDIR, NULL, parent, NULL, 0, NULL, 1, 1);
      rrun_mount_plan_add (plan, RRUN_MOUNT_OP_SYMLINK, e->symlinks->pdata[i],
                           e->symlinks->pdata[i + 1], NULL, 0, NULL, 0, 0);
    }
  /* The libraries' dir for ldconfig run in the container; LD_LIBRARY_PATH (below) makes
     them load before that, in any image. */
  if (e->ld_dirs->len > 0)
    {
      g_autoptr(GString) text = g_string_new (NULL);
      g_autofree char *path = g_build_filename (run_dir, "ld.so.conf", NULL);

      for (guint i = 0; i < e->ld_dirs->len; i++)
        g_string_append_printf (text, "%s\n", (char *) e->ld_dirs->pdata[i]);
      if (!g_file_set_contents (path, text->str, -1, error))
        return FALSE;
      rrun_mount_plan_add (plan, RRUN_MOUNT_OP_BIND, path, "/etc/ld.so.conf.d/000-rrun-devices.conf",
                           NULL, MS_RDONLY | MS_NOSUID | MS_NODEV, NULL, 2, 0);
    }
  return TRUE;
}

/* KEY=old:dir1:dir2 (dirs appended: the image's own entries keep precedence). */
static void
append_list (char ***envp, const char *key, const GPtrArray *dirs)
{
  g_autoptr(GString) v = g_string_new (g_environ_getenv (*envp, key));

  if (dirs->len == 0)
    return;
  for (guint i = 0; i < dirs->len; i++)
    {
      g_autofree char *padded = g_strconcat (":", v->str, ":", NULL);
      g_autofree char *entry = g_strconcat (":", (char *) dirs->pdata[i], ":", NULL);

      if (strstr (padded, entry) != NULL)
        continue; /* CUDA images list /usr/local/nvidia/lib64 already */
      if (v->len > 0)
        g_string_append_c (v, ':');
      g_string_append (v, dirs->pdata[i]);
    }
  *envp = g_environ_setenv (*envp, key, v->str, TRUE);
}

void
rrun_device_edits_apply_env (const RrunDeviceEdits *e, char ***envp)
{
  for (guint i = 0; i < e->env->len; i++)
    {
      const char *kv = e->env->pdata[i];
      const char *eq = strchr (kv, '=');
      g_autofree char *k = eq ? g_strndup (kv, (gsize) (eq - kv)) : g_strdup (kv);

      *envp = g_environ_setenv (*envp, k, eq ? eq + 1 : "", TRUE);
    }
  append_list (envp, "LD_LIBRARY_PATH", e->ld_dirs);
  append_list (envp, "PATH", e->bin_dirs);
}
