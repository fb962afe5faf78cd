/* Kernel overlay mounted by root of the user namespace (Linux >= 5.11). */
#include "overlay/overlay.h"
#include "error.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

gboolean
rrun_overlay_kernel_at_least (int major, int minor)
{
  struct utsname u;
  int ma = 0, mi = 0;

  if (uname (&u) < 0 || sscanf (u.release, "%d.%d", &ma, &mi) != 2)
    return FALSE;
  return ma > major || (ma == major && mi >= minor);
}

static gboolean
kernel_check (GError **error)
{
  struct utsname u;

  if (rrun_overlay_kernel_at_least (5, 11))
    return TRUE;
  uname (&u);
  rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
              "cannot use kernel overlay: Linux %s does not allow it in a user namespace "
              "(needs 5.11)",
              u.release);
  rrun_add_hint (error, "use --storage-driver fuse-overlayfs");
  return FALSE;
}

/* A path relative to root when it lies below it, else the path itself. */
static const char *
below (const char *path, const char *root)
{
  gsize n = strlen (root);

  if (root && strncmp (path, root, n) == 0 && path[n] == '/')
    return path + n + 1;
  return path;
}

static gboolean
kernel_configure (const RrunOverlayLayers *l, RrunOverlaySetup *setup, GError **error)
{
  GString *data = g_string_new ("lowerdir=");

  /* overlay lists the top layer first. */
  for (guint i = l->n_lower; i > 0; i--)
    {
      const char *dir = below (l->lower_dirs[i - 1], l->storage_root);
      if (strpbrk (dir, ",:") != NULL)
        {
          g_string_free (data, TRUE);
          return rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                             "cannot use kernel overlay: layer path \"%s\" holds ',' or ':'",
                             dir);
        }
      g_string_append (data, dir);
      if (i > 1)
        g_string_append_c (data, ':');
    }
  /* userxattr: whiteouts and opaque dirs live in user.overlay.* xattrs, which an
     unprivileged user may set. volatile: no sync at unmount; the upper layer of a
     container is never mounted again after a crash. */
  g_string_append_printf (data, ",upperdir=%s,workdir=%s,userxattr,volatile",
                          below (l->upper_dir, l->storage_root),
                          below (l->work_dir, l->storage_root));
  if (data->len >= 4000)
    {
      g_string_free (data, TRUE);
      return rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                         "cannot use kernel overlay: %u layers do not fit in one mount call",
                         l->n_lower);
    }
  setup->kernel = TRUE;
  setup->cwd = g_strdup (l->storage_root);
  setup->data = g_string_free (data, FALSE);
  return TRUE;
}

const RrunOverlayOps rrun_overlay_kernel_ops = {
  .name = "overlay",
  .check = kernel_check,
  .configure = kernel_configure,
};
