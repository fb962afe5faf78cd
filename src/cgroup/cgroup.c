/* Choosing a cgroup backend (docs/architecture.md, "cgroup"), OOM and stats from the
   cgroup files. What the backends share lives in common.c, so that the calls go one way:
   cgroup.c -> systemd.c -> fs.c -> common.c. */
#define G_LOG_DOMAIN "rrun-cgroup"

#include "cgroup/cgroup-private.h"
#include "error.h"
#include "log.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static gboolean
read_file (const char *dir, const char *name, char **out, GError **error)
{
  g_autofree char *p = g_build_filename (dir, name, NULL);

  return rrun_fd_read_file_at (AT_FDCWD, p, out, NULL, error);
}

/* ---- choosing ---- */

typedef struct
{
  char *mount;      /* cgroup2 mount, NULL if none */
  char *own;        /* our cgroup directory under it, NULL if unknown */
  gboolean is_root; /* own is the top of the mount */
  gboolean v1;      /* cgroup v1 controllers are mounted: hybrid or legacy */
  gboolean fake;    /* RRUN_CGROUP_ROOT: a test tree, no systemd */
} Where;

static void
where_clear (Where *w)
{
  g_free (w->mount);
  g_free (w->own);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Where, where_clear)

static void
locate (Where *w)
{
  const char *fake = g_getenv ("RRUN_CGROUP_ROOT");
  g_autofree char *mountinfo = NULL;
  g_autofree char *self = NULL;
  g_autofree char *mount_root = NULL;
  g_autofree char *self_path = NULL;

  if (fake != NULL && *fake == '/')
    {
      /* Tests: the tree at RRUN_CGROUP_ROOT stands for the caller's own cgroup. */
      w->mount = g_strdup (fake);
      w->own = g_strdup (fake);
      w->is_root = TRUE;
      w->fake = TRUE;
      return;
    }
  if (!g_file_get_contents ("/proc/self/mountinfo", &mountinfo, NULL, NULL)
      || !rrun_cgroup_parse_mountinfo (mountinfo, &w->mount, &mount_root, &w->v1))
    {
      w->v1 = mountinfo != NULL && strstr (mountinfo, " - cgroup ") != NULL;
      return;
    }
  if (g_file_get_contents ("/proc/self/cgroup", &self, NULL, NULL)
      && rrun_cgroup_parse_proc_cgroup (self, &self_path))
    {
      w->own = rrun_cgroup_dir_for (w->mount, mount_root, self_path);
      w->is_root = w->own != NULL && strcmp (w->own, w->mount) == 0;
    }
}

static gboolean
own_is_writable (const Where *w)
{
  g_autofree char *base = NULL;
  g_autofree char *procs = NULL;

  if (w->own == NULL)
    return FALSE;
  base = rrun_cgroup_fs_base (w->own);
  procs = g_build_filename (base, "cgroup.procs", NULL);
  return access (base, W_OK) == 0 && access (procs, W_OK) == 0;
}

static void
hint_cgroups_disabled (GError **error)
{
  rrun_add_hint (error, "or run without limits, or with --cgroups=disabled to ignore them");
}

/* Limits asked for a controller the cgroup2 root does not offer: no backend helps. */
static gboolean
check_root_controllers (const Where *w, const RrunCgroupLimits *limits, guint needed,
                        GError **error)
{
  g_autofree char *text = NULL;
  guint missing, bit;

  if (needed == 0)
    return TRUE;
  if (!read_file (w->mount, "cgroup.controllers", &text, NULL))
    text = g_strdup ("");
  missing = needed & ~rrun_cgroup_controllers_from_text (text);
  if (missing == 0)
    return TRUE;
  bit = missing & -missing;
  rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
              "cannot apply %s: the %s controller is not available in cgroup v2 (\"%s\")",
              rrun_cgroup_limits_flag_for (limits, bit), rrun_cgroup_controller_name (bit),
              w->mount);
  if (w->v1)
    rrun_add_hint (error, "this host runs cgroup v1 controllers (hybrid); boot with "
                          "systemd.unified_cgroup_hierarchy=1 for cgroup v2");
  else
    rrun_add_hint (error, "the kernel was built or booted without it (cgroup_disable=)");
  hint_cgroups_disabled (error);
  return FALSE;
}

/* The names of the controllers in bits, "memory, pids". */
static char *
controller_list (guint bits)
{
  GString *out = g_string_new (NULL);

  for (guint bit = 1; bit <= RRUN_CGROUP_ALL_CONTROLLERS; bit <<= 1)
    if (bits & bit)
      g_string_append_printf (out, "%s%s", out->len ? ", " : "",
                              rrun_cgroup_controller_name (bit));
  return g_string_free (out, FALSE);
}

static gboolean
no_backend_error (const Where *w, const RrunCgroupLimits *limits, guint needed,
                  const char *systemd_why, GError **error)
{
  if (!rrun_cgroup_limits_any (limits) && limits != NULL && limits->text.cgroup_parent)
    rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                "cannot use --cgroup-parent \"%s\": no cgroup v2 subtree is delegated to this "
                "user", limits->text.cgroup_parent);
  else
    rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                "cannot apply resource limits: no cgroup v2 subtree is delegated to this user");
  rrun_add_hint (error, "no systemd user manager (%s): where systemd runs, "
                        "`loginctl enable-linger %s` starts one", systemd_why,
                 g_get_user_name ());
  if (w->own != NULL)
    rrun_add_hint (error, "cgroup \"%s\" is not writable: an administrator can delegate "
                          "one (Delegate=cpu cpuset io memory pids for user@.service)", w->own);
  else
    rrun_add_hint (error, "no delegated cgroup: an administrator can set "
                          "Delegate=cpu cpuset io memory pids for user@.service");
  if (w->mount == NULL)
    rrun_add_hint (error, "cgroup v2 is not mounted: boot with "
                          "systemd.unified_cgroup_hierarchy=1");
  else if (w->v1)
    {
      g_autofree char *text = NULL;
      g_autofree char *missing = NULL;

      if (!read_file (w->mount, "cgroup.controllers", &text, NULL))
        text = g_strdup ("");
      missing = controller_list (needed & ~rrun_cgroup_controllers_from_text (text));
      if (*missing)
        rrun_add_hint (error, "this host runs cgroup v1 controllers (hybrid) and its cgroup v2 "
                              "lacks %s: boot with systemd.unified_cgroup_hierarchy=1",
                       missing);
    }
  hint_cgroups_disabled (error);
  return FALSE;
}

/* What StartTransientUnit needs, kept past the caller's limits. */
static RrunCgroupLimits *
copy_limits (const RrunCgroupLimits *limits)
{
  RrunCgroupLimits *c = rrun_cgroup_limits_new ();

  c->memory = limits->memory;
  c->memory_reservation = limits->memory_reservation;
  c->memory_swap = limits->memory_swap;
  c->cpu_quota_us = limits->cpu_quota_us;
  c->cpu_period_us = limits->cpu_period_us;
  c->cpu_weight = limits->cpu_weight;
  c->cpuset_cpus = g_strdup (limits->cpuset_cpus);
  c->cpuset_mems = g_strdup (limits->cpuset_mems);
  c->pids_limit = limits->pids_limit;
  c->io_weight = limits->io_weight;
  c->text.cpu_shares = g_strdup (limits->text.cpu_shares);
  for (guint i = 0; i < limits->devices->len; i++)
    {
      RrunCgroupDeviceLimit d = g_array_index (limits->devices, RrunCgroupDeviceLimit, i);

      d.path = g_strdup (d.path);
      g_array_append_val (c->devices, d);
    }
  return c;
}

static gboolean
gc_at (Where *w, GError **error)
{
  g_autofree char *base = NULL;

  if (w->own == NULL || !own_is_writable (w))
    return TRUE;
  base = rrun_cgroup_fs_base (w->own);
  return rrun_cgroup_fs_gc (base, error);
}

/* Inside a Slurm job: SLURM_JOB_ID is set and /proc/self/cgroup names a job's cgroup
   (".../job_N/..." in any hierarchy, v1 or v2). Then the container stays in the step's
   cgroup: no systemd scope, which would take it out of the job's limits and accounting.
   *out_job gets the job id. RRUN_CGROUP_PROC_SELF replaces /proc/self/cgroup (tests). */
gboolean
rrun_cgroup_in_slurm_job (char **out_job)
{
  const char *job = g_getenv ("SLURM_JOB_ID");
  const char *proc = g_getenv ("RRUN_CGROUP_PROC_SELF");
  g_autofree char *text = NULL;
  g_autofree char *needle = NULL;

  if (job == NULL || *job == '\0')
    return FALSE;
  if (!g_file_get_contents (proc ? proc : "/proc/self/cgroup", &text, NULL, NULL))
    return FALSE;
  needle = g_strconcat ("/job_", job, NULL);
  for (char *p = strstr (text, needle); p; p = strstr (p + 1, needle))
    {
      char next = p[strlen (needle)];

      if (next == '/' || next == '\n' || next == '\0')
        {
          if (out_job)
            *out_job = g_strdup (job);
          return TRUE;
        }
    }
  return FALSE;
}

/* --cgroup-parent for the delegated directory backend: the path below the directory new
   leaves go into. A relative path is that already; an absolute one (docker's: from the
   top of the cgroup2 hierarchy) must lie at or below it: a user may create cgroups only
   in what is delegated to them. */
static gboolean
parent_subpath (const Where *w, const char *parent, gboolean systemd, char **out,
                GError **error)
{
  g_autofree char *base = rrun_cgroup_fs_base (w->own);
  const char *rel = base + strlen (w->mount);
  gsize len;

  if (parent[0] != '/')
    {
      *out = g_strdup (parent);
      return TRUE;
    }
  if (*rel == '\0')
    rel = "/";
  len = strlen (rel);
  if (strcmp (rel, "/") == 0)
    {
      *out = g_strdup (parent + 1);
      return rrun_cgroup_parent_check (*out, TRUE, error);
    }
  if (strncmp (parent, rel, len) == 0 && (parent[len] == '\0' || parent[len] == '/'))
    {
      *out = g_strdup (parent[len] == '/' ? parent + len + 1 : "");
      return **out == '\0' || rrun_cgroup_parent_check (*out, TRUE, error);
    }
  rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
              "cannot use --cgroup-parent \"%s\": it is outside the cgroup delegated to you "
              "(\"%s\"), and a rootless container's cgroup can only be made there",
              parent, rel);
  rrun_add_hint (error, "give a path relative to it (made if missing), e.g. "
                        "--cgroup-parent=jobs/%s%s", g_get_user_name (),
                 systemd ? ", or a systemd slice, e.g. --cgroup-parent=jobs.slice" : "");
  return FALSE;
}

gboolean
rrun_cgroup_prepare (const char *mode, const RrunCgroupLimits *limits,
                     const char *container_id, RrunCgroup **out, GError **error)
{
  g_autoptr(RrunCgroup) cg = g_new0 (RrunCgroup, 1);
  g_auto(Where) w = { 0 };
  g_autofree char *systemd_why = NULL;
  g_autofree char *slurm_job = NULL;
  const char *parent = limits ? limits->text.cgroup_parent : NULL;
  gboolean want = rrun_cgroup_limits_any (limits) || parent != NULL;
  gboolean use_systemd = FALSE;
  g_autofree char *subpath = NULL;

  cg->ops = &rrun_cgroup_none_ops;
  cg->id = g_strdup (container_id);
  cg->lock_fd = -1;
  cg->needed = rrun_cgroup_limits_controllers (limits);

  if (mode == NULL)
    mode = "enabled";
  if (strcmp (mode, "disabled") == 0)
    {
      if (parent != NULL)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "cannot use --cgroup-parent with --cgroups=disabled");
      if (want)
        rrun_warning ("ignoring resource limits: cgroups are disabled");
      *out = g_steal_pointer (&cg);
      return TRUE;
    }
  if (strcmp (mode, "enabled") != 0)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid value \"%s\" for --cgroups: expected enabled or disabled",
                       mode);

  locate (&w);
  /* Stale leaves of killed containers first, from the same reading of mountinfo. */
  gc_at (&w, NULL);
  if (w.fake)
    systemd_why = g_strdup ("RRUN_CGROUP_ROOT is set");
  else if (rrun_cgroup_in_slurm_job (&slurm_job))
    {
      /* The step's cgroup holds the job's limits and accounting: stay in it. A child of
         it where it is delegated (cgroup v2, below); else no cgroup of our own. */
      if (!own_is_writable (&w))
        {
          /* cgroup v1: the step's own directories, where they are the user's. */
          if (want)
            {
              const char *proc = g_getenv ("RRUN_CGROUP_PROC_SELF");
              const char *v1_root = g_getenv ("RRUN_CGROUP_V1_ROOT");
              g_autofree char *text = NULL;

              if (g_file_get_contents (proc ? proc : "/proc/self/cgroup", &text, NULL, NULL))
                {
                  g_autoptr(GError) local = NULL;

                  if (rrun_cgroup_v1_slurm_prepare (cg, text,
                                                    v1_root ? v1_root : "/sys/fs/cgroup",
                                                    limits, &local))
                    {
                      rrun_info ("cgroup: %s (cgroup v1, in Slurm job %s)",
                                 (const char *) cg->v1_paths->pdata[0], slurm_job);
                      *out = g_steal_pointer (&cg);
                      return TRUE;
                    }
                  if (local != NULL)
                    {
                      g_propagate_error (error, g_steal_pointer (&local));
                      return FALSE;
                    }
                }
            }
          if (want)
            rrun_warning ("ignoring resource limits: the container stays in the cgroup of "
                          "Slurm job %s, which is not delegated to you; the job's limits "
                          "apply", slurm_job);
          g_debug ("in Slurm job %s: no cgroup of its own", slurm_job);
          *out = g_steal_pointer (&cg);
          return TRUE;
        }
      systemd_why = g_strdup_printf ("inside Slurm job %s", slurm_job);
    }
  else if (w.mount == NULL)
    systemd_why = g_strdup ("no cgroup v2");
  else
    use_systemd = rrun_cgroup_systemd_connect (&cg->bus, &systemd_why);
  /* --cgroup-parent: under systemd a slice for the scope; else (or a path where the
     user's own cgroup is delegated too) a directory below the delegated one. */
  if (parent != NULL && use_systemd && !g_str_has_suffix (parent, ".slice"))
    {
      if (!own_is_writable (&w))
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "cannot use --cgroup-parent \"%s\": with systemd it names a slice "
                      "(NAME.slice) for the container's scope", parent);
          rrun_add_hint (error, "e.g. --cgroup-parent=jobs.slice; a directory path needs a "
                                "delegated cgroup (docs/cgroups.md)");
          return FALSE;
        }
      use_systemd = FALSE;
      g_clear_pointer (&cg->bus, rrun_dbus_free);
    }
  if (!use_systemd && !own_is_writable (&w))
    {
      if (want)
        return no_backend_error (&w, limits, cg->needed, systemd_why, error);
      g_debug ("no cgroup of its own: no systemd (%s), %s not writable", systemd_why,
               w.own ? w.own : "own cgroup");
      *out = g_steal_pointer (&cg);
      return TRUE;
    }
  if (!check_root_controllers (&w, limits, cg->needed, error))
    return FALSE;
  cg->mount = g_strdup (w.mount);

  if (use_systemd)
    {
      cg->ops = &rrun_cgroup_systemd_ops;
      if (limits != NULL)
        cg->limits = copy_limits (limits);
      cg->slice = g_strdup (parent);
      rrun_info ("cgroup: a systemd scope rrun-%s.scope in %s", container_id,
                 parent ? parent : "the default slice");
      *out = g_steal_pointer (&cg);
      return TRUE;
    }
  if (parent != NULL && !parent_subpath (&w, parent, FALSE, &subpath, error))
    return FALSE;
  if (!rrun_cgroup_fs_prepare (cg, w.own, w.is_root, subpath, limits, error))
    return FALSE;
  rrun_info ("cgroup: %s (delegated directory)", cg->path);
  *out = g_steal_pointer (&cg);
  return TRUE;
}

gboolean
rrun_cgroup_enter (RrunCgroup *cg, pid_t pid, GError **error)
{
  return cg->ops->enter (cg, pid, error);
}

const char *
rrun_cgroup_path (RrunCgroup *cg)
{
  return cg ? cg->path : NULL;
}

const char *
rrun_cgroup_backend_name (RrunCgroup *cg)
{
  return cg->ops == &rrun_cgroup_fs_ops ? "delegated" : cg->ops->name;
}

gboolean
rrun_cgroup_oom_killed (RrunCgroup *cg, guint64 *out_limit)
{
  g_autofree char *events = NULL;
  g_autofree char *max = NULL;
  guint64 kills = 0, limit = 0;

  if (cg == NULL || cg->path == NULL || !read_file (cg->path, "memory.events", &events, NULL)
      || !rrun_cgroup_parse_keyed (events, "oom_kill", &kills) || kills == 0)
    return FALSE;
  if (read_file (cg->path, "memory.max", &max, NULL))
    g_ascii_string_to_unsigned (g_strstrip (max), 10, 0, G_MAXUINT64, &limit, NULL);
  if (out_limit)
    *out_limit = limit;
  return TRUE;
}

void
rrun_cgroup_free (RrunCgroup *cg)
{
  if (cg == NULL)
    return;
  if (cg->ops)
    cg->ops->destroy (cg);
  rrun_close_fdp (&cg->lock_fd);
  g_clear_pointer (&cg->bus, rrun_dbus_free);
  rrun_cgroup_limits_free (cg->limits);
  g_free (cg->id);
  g_free (cg->mount);
  g_free (cg->path);
  g_free (cg->slice);
  g_clear_pointer (&cg->v1_paths, g_ptr_array_unref);
  g_free (cg);
}

gboolean
rrun_cgroup_gc (GError **error)
{
  g_auto(Where) w = { 0 };

  locate (&w);
  return gc_at (&w, error);
}

/* "max" or a number. */
static guint64
parse_max (const char *text)
{
  g_autofree char *t = g_strstrip (g_strdup (text));
  guint64 v = G_MAXUINT64;

  if (strcmp (t, "max") != 0)
    g_ascii_string_to_unsigned (t, 10, 0, G_MAXUINT64, &v, NULL);
  return v;
}

gboolean
rrun_cgroup_read_stats (const char *path, RrunCgroupStats *out, GError **error)
{
  RrunCgroupStats s = { 0 };
  g_autofree char *t = NULL;
  g_autoptr(GError) local = NULL;

  if (!read_file (path, "cgroup.procs", &t, &local))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local),
                                  "cannot read the stats of cgroup \"%s\": ", path);
      return FALSE;
    }
  g_clear_pointer (&t, g_free);
  if (read_file (path, "cpu.stat", &t, NULL))
    s.has_cpu = rrun_cgroup_parse_keyed (t, "usage_usec", &s.cpu_usage_usec);
  g_clear_pointer (&t, g_free);
  if (read_file (path, "memory.current", &t, NULL))
    {
      s.has_memory = TRUE;
      s.memory_current = parse_max (t);
      g_clear_pointer (&t, g_free);
      s.memory_max = read_file (path, "memory.max", &t, NULL) ? parse_max (t) : G_MAXUINT64;
    }
  g_clear_pointer (&t, g_free);
  if (read_file (path, "pids.current", &t, NULL))
    {
      s.has_pids = TRUE;
      s.pids_current = parse_max (t);
      g_clear_pointer (&t, g_free);
      s.pids_max = read_file (path, "pids.max", &t, NULL) ? parse_max (t) : G_MAXUINT64;
    }
  g_clear_pointer (&t, g_free);
  if (read_file (path, "io.stat", &t, NULL))
    {
      /* "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device */
      g_auto(GStrv) words = g_strsplit_set (t, " \n", -1);

      s.has_io = TRUE;
      for (char **wd = words; *wd; wd++)
        {
          guint64 v;

          if (g_str_has_prefix (*wd, "rbytes=")
              && g_ascii_string_to_unsigned (*wd + 7, 10, 0, G_MAXUINT64, &v, NULL))
            s.io_read_bytes += v;
          else if (g_str_has_prefix (*wd, "wbytes=")
                   && g_ascii_string_to_unsigned (*wd + 7, 10, 0, G_MAXUINT64, &v, NULL))
            s.io_write_bytes += v;
        }
    }
  *out = s;
  return TRUE;
}
