/* fuse-overlayfs, started in the foreground by the namespace holder. */
#include "overlay/overlay.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static gboolean
fuse_check (GError **error)
{
  g_autofree char *exe = g_find_program_in_path ("fuse-overlayfs");
  int fd;

  if (exe == NULL)
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                  "cannot start fuse-overlayfs: it is not installed");
      rrun_add_hint (error, "install it: sudo apt-get install fuse-overlayfs "
                            "(or use --storage-driver overlay on Linux >= 5.11)");
      return FALSE;
    }
  fd = open ("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    {
      int errsv = errno;
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                  "cannot start fuse-overlayfs: open \"/dev/fuse\": %s", g_strerror (errsv));
      if (errsv == EACCES || errsv == EPERM)
        rrun_add_hint (error, "/dev/fuse is not open to users on this machine; an "
                              "administrator can make it 0666: sudo subuid-setup.sh --fix");
      else if (errsv == ENOENT || errsv == ENODEV || errsv == ENXIO)
        rrun_add_hint (error, "load the fuse kernel module: sudo modprobe fuse");
      return FALSE;
    }
  close (fd);
  return TRUE;
}

static gboolean
fuse_configure (const RrunOverlayLayers *l, RrunOverlaySetup *setup, GError **error)
{
  g_autoptr(GString) opts = g_string_new ("lowerdir=");
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);

  for (guint i = l->n_lower; i > 0; i--)
    {
      if (strpbrk (l->lower_dirs[i - 1], ",:") != NULL)
        return rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                           "cannot use fuse-overlayfs: layer path \"%s\" holds ',' or ':'",
                           l->lower_dirs[i - 1]);
      g_string_append (opts, l->lower_dirs[i - 1]);
      if (i > 1)
        g_string_append_c (opts, ':');
    }
  /* allow_other: the container's other users (-u 1000) must reach the files too.
     static_nlink: a directory's link count is 1 ("unknown", as on btrfs, which find and
     du understand) rather than 2 + its subdirectories, which fuse-overlayfs counts by
     reading the directory whole, in every layer, whenever the kernel asks for its
     attributes (~3 ms of each start, /bin and /usr among them). */
  g_string_append_printf (opts, ",upperdir=%s,workdir=%s,allow_other,static_nlink",
                          l->upper_dir, l->work_dir);
  if (l->uid_mapping)
    g_string_append_printf (opts, ",uidmapping=%s", l->uid_mapping);
  if (l->gid_mapping)
    g_string_append_printf (opts, ",gidmapping=%s", l->gid_mapping);
  /* Without ACLs the kernel asks for none: with them it sends a GETXATTR of
     system.posix_acl_access for every directory and file it checks (17 round trips to
     fuse-overlayfs at each start, ~0.8 ms), and fuse-overlayfs fails with EOPNOTSUPP on a
     layer store whose file system has no ACLs. Images rarely carry ACLs; rrun.conf's
     [storage] fuse_acl=true turns them on (apptainer, too, mounts with noacl). */
  if (!l->fuse_acl)
    g_string_append (opts, ",noacl");
  setup->fuse_exe = g_find_program_in_path ("fuse-overlayfs");
  if (setup->fuse_exe == NULL)
    return fuse_check (error);
  g_ptr_array_add (argv, g_strdup ("fuse-overlayfs"));
  g_ptr_array_add (argv, g_strdup ("-f"));
  g_ptr_array_add (argv, g_strdup ("-o"));
  g_ptr_array_add (argv, g_string_free (g_steal_pointer (&opts), FALSE));
  g_ptr_array_add (argv, g_strdup (l->merged_dir));
  g_ptr_array_add (argv, NULL);
  setup->fuse_argv = (char **) g_ptr_array_free (g_steal_pointer (&argv), FALSE);
  return TRUE;
}

const RrunOverlayOps rrun_overlay_fuse_ops = {
  .name = "fuse-overlayfs",
  .check = fuse_check,
  .configure = fuse_configure,
};
