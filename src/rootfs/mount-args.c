#include "rootfs/mount-args.h"
#include "error.h"

#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

void
rrun_volume_free (RrunVolume *v)
{
  if (v == NULL)
    return;
  g_free (v->source);
  g_free (v->target);
  g_free (v);
}

gboolean
rrun_volume_parse (const char *spec, RrunVolume **out_volume, GError **error)
{
  g_autoptr(RrunVolume) v = g_new0 (RrunVolume, 1);
  g_auto(GStrv) parts = g_strsplit (spec, ":", -1);
  guint n = g_strv_length (parts);
  struct stat st;

  if (n < 2 || n > 3 || *parts[0] == '\0' || *parts[1] == '\0')
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "invalid volume \"%s\": expected HOST-PATH:CONTAINER-PATH[:ro|rw]", spec);
      rrun_add_hint (error, "for example: -v \"$PWD/data:/data:ro\"");
      return FALSE;
    }
  if (parts[0][0] != '/')
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "invalid volume \"%s\": the host path \"%s\" is not absolute", spec, parts[0]);
      rrun_add_hint (error, "named volumes are not supported; write an absolute path, e.g. "
                            "-v \"$PWD/%s:%s\"",
                     parts[0], parts[1]);
      return FALSE;
    }
  if (!rrun_mount_plan_check_target (parts[1], error))
    {
      g_prefix_error (error, "invalid volume \"%s\": ", spec);
      return FALSE;
    }
  if (n == 3)
    {
      g_auto(GStrv) opts = g_strsplit (parts[2], ",", -1);
      for (guint i = 0; opts[i]; i++)
        {
          if (strcmp (opts[i], "ro") == 0)
            v->read_only = TRUE;
          else if (strcmp (opts[i], "rw") == 0)
            v->read_only = FALSE;
          else if (strcmp (opts[i], "z") == 0 || strcmp (opts[i], "Z") == 0)
            ; /* SELinux relabelling: nothing to do without SELinux */
          else
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               "invalid volume \"%s\": unknown option \"%s\" (ro or rw)", spec,
                               opts[i]);
        }
    }
  if (stat (parts[0], &st) < 0)
    {
      int errsv = errno;
      rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot mount volume \"%s\": %s", parts[0],
                  g_strerror (errsv));
      if (errsv == ENOENT)
        rrun_add_hint (error, "create it first (rrun does not create missing host paths): "
                              "mkdir -p %s",
                       parts[0]);
      return FALSE;
    }
  v->is_dir = S_ISDIR (st.st_mode);
  v->source = g_strdup (parts[0]);
  v->target = g_strdup (parts[1]);
  *out_volume = g_steal_pointer (&v);
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
rrun_volumes_add_to_plan (RrunMountPlan *plan, char **volumes, char **tmpfs, GError **error)
{
  for (guint i = 0; volumes && volumes[i]; i++)
    {
      g_autoptr(RrunVolume) v = NULL;

      if (!rrun_volume_parse (volumes[i], &v, error))
        return FALSE;
      rrun_mount_plan_add (plan, RRUN_MOUNT_OP_BIND, v->source, v->target, NULL,
                           v->read_only ? MS_RDONLY : 0, NULL, v->is_dir ? 1 : 2, 0);
    }
  for (guint i = 0; tmpfs && tmpfs[i]; i++)
    {
      g_autofree char *target = NULL, *data = NULL;
      unsigned long flags;

      if (!rrun_tmpfs_parse (tmpfs[i], &target, &data, &flags, error))
        return FALSE;
      rrun_mount_plan_add (plan, RRUN_MOUNT_OP_MOUNT, "tmpfs", target, "tmpfs", flags, data, 1,
                           0);
    }
  return TRUE;
}
