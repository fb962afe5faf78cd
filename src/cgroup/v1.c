/* cgroup v1 inside a Slurm step (docs/hpc.md, "Resource limits inside a job"): where the
   step's directories of the memory and cpu hierarchies belong to the user (Slurm's
   task/cgroup can make them so), the container's memory, cpu and pids limits go in a
   child rrun-ID of each. The container stays below the step: the job's own limits and
   accounting keep applying. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup-private.h"
#include "error.h"
#include "log.h"
#include "util/fd.h"

/* The hierarchies limits can go in, with the bit of the limits each takes. */
static const struct
{
  const char *controller;
  guint bit;
} hierarchies[] = {
  { "memory", RRUN_CGROUP_MEMORY },
  { "cpu", RRUN_CGROUP_CPU },
  { "pids", RRUN_CGROUP_PIDS },
};

char *
rrun_cgroup_v1_step_dir (const char *proc_text, const char *root, const char *controller)
{
  g_auto (GStrv) lines = g_strsplit (proc_text, "\n", -1);

  for (char **l = lines; *l; l++)
    {
      g_auto (GStrv) f = g_strsplit (*l, ":", 3);
      g_auto (GStrv) names = NULL;
      const char *step;
      gboolean has = FALSE;

      if (f[0] == NULL || f[1] == NULL || f[2] == NULL || f[1][0] == '\0')
        continue;
      names = g_strsplit (f[1], ",", -1);
      for (char **n = names; *n; n++)
        has = has || strcmp (*n, controller) == 0;
      if (!has)
        continue;
      /* .../job_N/step_M[/task_K]: the step's directory */
      step = strstr (f[2], "/step_");
      if (step == NULL || strstr (f[2], "/job_") == NULL || strstr (f[2], "/job_") > step)
        return NULL;
      step = strchr (step + 1, '/');
      {
        g_autofree char *path = step ? g_strndup (f[2], (gsize)(step - f[2])) : g_strdup (f[2]);
        return g_build_filename (root, f[1], path, NULL);
      }
    }
  return NULL;
}

/* G_MAXUINT64 is no limit: v1's -1. */
static char *
u64 (guint64 v)
{
  return v == G_MAXUINT64 ? g_strdup ("-1") : g_strdup_printf ("%" G_GUINT64_FORMAT, v);
}

/* The v1 files and values of limits for the hierarchy of bit, in the order to write. */
static GPtrArray *
v1_values (const RrunCgroupLimits *l, guint bit, int dirfd)
{
  GPtrArray *kv = g_ptr_array_new_with_free_func (g_free);

#define ADD(name, value)                                                                           \
  do                                                                                               \
    {                                                                                              \
      g_ptr_array_add (kv, g_strdup (name));                                                       \
      g_ptr_array_add (kv, (value));                                                               \
    }                                                                                              \
  while (0)
  if (bit == RRUN_CGROUP_MEMORY)
    {
      if (l->memory)
        ADD ("memory.limit_in_bytes", u64 (l->memory));
      if (l->memory_reservation)
        ADD ("memory.soft_limit_in_bytes", u64 (l->memory_reservation));
      /* docker's --memory-swap is memory + swap, as memsw is; absent without swap
         accounting, where only an explicit value is an error (below) */
      if (l->memory && l->memory_swap != 0
          && (l->memory_swap > 0 || faccessat (dirfd, "memory.memsw.limit_in_bytes", F_OK, 0) == 0))
        ADD ("memory.memsw.limit_in_bytes",
             u64 (l->memory_swap < 0 ? G_MAXUINT64 : (guint64)l->memory_swap));
    }
  else if (bit == RRUN_CGROUP_CPU)
    {
      if (l->cpu_quota_us)
        {
          ADD ("cpu.cfs_period_us", u64 (l->cpu_period_us ? l->cpu_period_us : 100000));
          ADD ("cpu.cfs_quota_us", u64 (l->cpu_quota_us));
        }
      if (l->text.cpu_shares)
        ADD ("cpu.shares", g_strdup (l->text.cpu_shares));
      else if (l->cpu_weight)
        /* the inverse of the runtime spec's shares to weight conversion */
        ADD ("cpu.shares", u64 (2 + (l->cpu_weight - 1) * 262142 / 9999));
    }
  else if (bit == RRUN_CGROUP_PIDS && l->pids_limit)
    ADD ("pids.max", l->pids_limit == G_MAXUINT64 ? g_strdup ("max") : u64 (l->pids_limit));
#undef ADD
  return kv;
}

static void
v1_kill_and_remove (const char *path)
{
  g_autofree char *procs_path = g_build_filename (path, "cgroup.procs", NULL);

  for (int i = 0; i < 200; i++)
    {
      g_autofree char *procs = NULL;
      gboolean any = FALSE;

      if (rmdir (path) == 0 || errno == ENOENT)
        return;
      if (errno != EBUSY)
        break;
      if (g_file_get_contents (procs_path, &procs, NULL, NULL))
        {
          g_auto (GStrv) pids = g_strsplit (procs, "\n", -1);
          for (char **p = pids; *p; p++)
            {
              gint64 pid;
              if (g_ascii_string_to_signed (*p, 10, 1, G_MAXINT32, &pid, NULL))
                {
                  kill ((pid_t)pid, SIGKILL);
                  any = TRUE;
                }
            }
        }
      g_usleep (any ? 10000 : 5000);
    }
  g_debug ("cannot remove cgroup \"%s\": %s", path, g_strerror (errno));
}

static gboolean
v1_enter (RrunCgroup *cg, pid_t pid, GError **error)
{
  char buf[32];

  g_snprintf (buf, sizeof buf, "%d", (int)pid);
  for (guint i = 0; cg->v1_paths && i < cg->v1_paths->len; i++)
    {
      const char *path = cg->v1_paths->pdata[i];
      rrun_autofd int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

      if (fd < 0)
        return rrun_throw_errno (error, errno, "cannot open cgroup \"%s\"", path);
      if (!rrun_cgroup_write_at (fd, path, "cgroup.procs", buf, error))
        {
          g_prefix_error (error, "cannot move the container into its cgroup: ");
          return FALSE;
        }
    }
  return TRUE;
}

static void
v1_destroy (RrunCgroup *cg)
{
  for (guint i = 0; cg->v1_paths && i < cg->v1_paths->len; i++)
    v1_kill_and_remove (cg->v1_paths->pdata[i]);
  g_clear_pointer (&cg->v1_paths, g_ptr_array_unref);
}

const RrunCgroupOps rrun_cgroup_v1_ops = { "slurm-v1", v1_enter, v1_destroy };

gboolean
rrun_cgroup_v1_slurm_prepare (RrunCgroup *cg, const char *proc_text, const char *root,
                              const RrunCgroupLimits *limits, GError **error)
{
  g_autoptr (GPtrArray) steps = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) made = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *name = g_strconcat ("rrun-", cg->id, NULL);
  guint needed = rrun_cgroup_limits_controllers (limits);
  guint usable = 0;

  /* Every hierarchy the limits need must be the user's, else none is used. */
  for (guint h = 0; h < G_N_ELEMENTS (hierarchies); h++)
    {
      g_autofree char *dir = NULL;
      struct stat st;

      if (!(needed & hierarchies[h].bit))
        continue;
      dir = rrun_cgroup_v1_step_dir (proc_text, root, hierarchies[h].controller);
      if (dir == NULL || stat (dir, &st) < 0 || st.st_uid != geteuid ()
          || access (dir, W_OK | X_OK) < 0)
        {
          g_debug ("cgroup v1: the step's %s directory %s is not yours", hierarchies[h].controller,
                   dir ? dir : "(none)");
          return FALSE;
        }
      g_ptr_array_add (steps, g_steal_pointer (&dir));
      usable |= hierarchies[h].bit;
    }
  if (usable == 0)
    return FALSE;
  /* cpuset and io limits have no place here: said once, the rest applies. */
  for (guint bit = 1; bit <= RRUN_CGROUP_ALL_CONTROLLERS; bit <<= 1)
    if ((needed & bit) && !(usable & bit))
      rrun_warning ("ignoring %s: cgroup v1 inside a Slurm step takes memory, cpu and pids "
                    "limits only",
                    rrun_cgroup_limits_flag_for (limits, bit));
  for (guint h = 0, s = 0; h < G_N_ELEMENTS (hierarchies); h++)
    {
      const char *step;
      g_autofree char *path = NULL;
      g_autoptr (GPtrArray) kv = NULL;
      rrun_autofd int fd = -1;

      if (!(usable & hierarchies[h].bit))
        continue;
      step = steps->pdata[s++];
      path = g_build_filename (step, name, NULL);
      if (mkdir (path, 0755) < 0)
        {
          rrun_throw_errno (error, errno, "cannot create cgroup \"%s\"", path);
          goto fail;
        }
      g_ptr_array_add (made, g_strdup (path));
      fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        {
          rrun_throw_errno (error, errno, "cannot open cgroup \"%s\"", path);
          goto fail;
        }
      /* Limits go in before any process does. */
      kv = v1_values (limits, hierarchies[h].bit, fd);
      for (guint i = 0; i + 1 < kv->len; i += 2)
        if (!rrun_cgroup_write_at (fd, path, kv->pdata[i], kv->pdata[i + 1], error))
          goto fail;
    }
  cg->v1_paths = g_steal_pointer (&made);
  cg->ops = &rrun_cgroup_v1_ops;
  return TRUE;

fail:
  for (guint i = 0; i < made->len; i++)
    v1_kill_and_remove (made->pdata[i]);
  return FALSE;
}
