/* What every cgroup backend shares: controller names, /proc and mountinfo parsing,
   writing one cgroup file, the "none" backend. A leaf: it calls no other file of
   src/cgroup/. */
#define G_LOG_DOMAIN "rrun-cgroup"

#include "cgroup/cgroup-private.h"
#include "error.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static const char *const controller_names[] = { "cpu", "cpuset", "io", "memory", "pids" };

guint
rrun_cgroup_controller_bit (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (controller_names); i++)
    if (strcmp (name, controller_names[i]) == 0)
      return 1u << i;
  return 0;
}

const char *
rrun_cgroup_controller_name (guint bit)
{
  for (guint i = 0; i < G_N_ELEMENTS (controller_names); i++)
    if (bit == 1u << i)
      return controller_names[i];
  return NULL;
}

guint
rrun_cgroup_controllers_from_text (const char *text)
{
  g_auto(GStrv) words = g_strsplit_set (text, " \n\t", -1);
  guint bits = 0;

  for (char **w = words; *w; w++)
    bits |= rrun_cgroup_controller_bit (*w);
  return bits;
}

guint
rrun_cgroup_limits_controllers (const RrunCgroupLimits *l)
{
  guint bits = 0;

  if (l == NULL)
    return 0;
  if (l->memory || l->memory_reservation || l->memory_swap)
    bits |= RRUN_CGROUP_MEMORY;
  if (l->cpu_quota_us || l->cpu_weight)
    bits |= RRUN_CGROUP_CPU;
  if (l->cpuset_cpus || l->cpuset_mems)
    bits |= RRUN_CGROUP_CPUSET;
  if (l->pids_limit)
    bits |= RRUN_CGROUP_PIDS;
  if (l->io_weight || l->devices->len > 0)
    bits |= RRUN_CGROUP_IO;
  for (char **c = l->conf; c && *c; c++)
    {
      g_autofree char *controller = g_strndup (*c, strcspn (*c, "."));
      bits |= rrun_cgroup_controller_bit (controller);
    }
  return bits;
}

const char *
rrun_cgroup_limits_flag_for (const RrunCgroupLimits *l, guint bit)
{
  switch (bit)
    {
    case RRUN_CGROUP_MEMORY:
      return l->memory ? "--memory" : l->memory_reservation ? "--memory-reservation"
                                                             : "--memory-swap";
    case RRUN_CGROUP_CPU:
      return l->text.cpu_quota    ? "--cpu-quota"
             : l->text.cpu_period ? "--cpu-period"
             : l->cpu_quota_us    ? "--cpus"
             : l->text.cpu_shares ? "--cpu-shares"
                                  : "--cpu-weight";
    case RRUN_CGROUP_CPUSET:
      return l->cpuset_cpus ? "--cpuset-cpus" : "--cpuset-mems";
    case RRUN_CGROUP_PIDS:
      return "--pids-limit";
    case RRUN_CGROUP_IO:
      return l->io_weight ? "--blkio-weight" : "--device-read-bps/--device-write-bps";
    default:
      return "resource limits";
    }
}

gboolean
rrun_cgroup_parse_proc_cgroup (const char *text, char **out_path)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (char **l = lines; *l; l++)
    if (g_str_has_prefix (*l, "0::/"))
      {
        *out_path = g_strdup (*l + 3);
        return TRUE;
      }
  return FALSE;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *
unescape_octal (const char *s)
{
  GString *out = g_string_new (NULL);

  for (; *s; s++)
    {
      if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7'
          && s[3] >= '0' && s[3] <= '7')
        {
          g_string_append_c (out, (char) (((s[1] - '0') << 6) | ((s[2] - '0') << 3)
                                          | (s[3] - '0')));
          s += 3;
        }
      else
        g_string_append_c (out, *s);
    }
  return g_string_free (out, FALSE);
}

gboolean
rrun_cgroup_parse_mountinfo (const char *text, char **out_mount, char **out_root,
                             gboolean *out_v1)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  g_autofree char *mount = NULL;
  g_autofree char *root = NULL;
  gboolean v1 = FALSE;

  for (char **l = lines; *l; l++)
    {
      g_auto(GStrv) f = g_strsplit (*l, " ", -1);
      guint n = g_strv_length (f), sep;

      /* id parent maj:min root mountpoint options [optional fields...] - fstype ... */
      for (sep = 6; sep < n && strcmp (f[sep], "-") != 0; sep++)
        ;
      if (n < 5 || sep + 1 >= n)
        continue;
      if (strcmp (f[sep + 1], "cgroup") == 0)
        v1 = TRUE;
      else if (strcmp (f[sep + 1], "cgroup2") == 0 && mount == NULL)
        {
          mount = unescape_octal (f[4]);
          root = unescape_octal (f[3]);
        }
    }
  if (out_v1)
    *out_v1 = v1;
  if (mount == NULL)
    return FALSE;
  *out_mount = g_steal_pointer (&mount);
  *out_root = g_steal_pointer (&root);
  return TRUE;
}

char *
rrun_cgroup_dir_for (const char *mount, const char *mount_root, const char *path)
{
  gsize n = strlen (mount_root);

  if (strcmp (mount_root, "/") == 0)
    n = 0;
  else if (!g_str_has_prefix (path, mount_root) || (path[n] != '\0' && path[n] != '/'))
    return NULL;
  if (path[n] == '\0' || strcmp (path + n, "/") == 0)
    return g_strdup (mount);
  return g_build_filename (mount, path + n, NULL);
}

gboolean
rrun_cgroup_parse_keyed (const char *text, const char *key, guint64 *out)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  gsize klen = strlen (key);

  for (char **l = lines; *l; l++)
    if (strncmp (*l, key, klen) == 0 && (*l)[klen] == ' ')
      return g_ascii_string_to_unsigned (g_strstrip (*l + klen + 1), 10, 0, G_MAXUINT64,
                                         out, NULL);
  return FALSE;
}

gboolean
rrun_cgroup_write_at (int dirfd, const char *path, const char *name, const char *value,
                      GError **error)
{
  /* O_APPEND: the kernel ignores it for cgroup files, and a test tree of plain files
     then keeps every value written. */
  rrun_autofd int fd = openat (dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC);
  gsize len = strlen (value);
  ssize_t n;

  if (fd < 0)
    return rrun_throw_errno (error, errno, "open \"%s/%s\"", path, name);
  /* One write: cgroup files take one value per write(2). */
  n = TEMP_FAILURE_RETRY (write (fd, value, len));
  if (n < 0)
    return rrun_throw_errno (error, errno, "write \"%s\" to \"%s/%s\"", value, path, name);
  if ((gsize) n != len)
    return rrun_throw_errno (error, EIO, "write \"%s\" to \"%s/%s\"", value, path, name);
  return TRUE;
}

/* ---- the "none" backend: no cgroup of its own ---- */

static gboolean
none_enter (RrunCgroup *cg, pid_t pid, GError **error)
{
  return TRUE;
}

static void
none_destroy (RrunCgroup *cg)
{
}

const RrunCgroupOps rrun_cgroup_none_ops = { "none", none_enter, none_destroy };

