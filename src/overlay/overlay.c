#include "overlay/overlay.h"
#include "error.h"
#include "log.h"

void
rrun_overlay_setup_free (RrunOverlaySetup *setup)
{
  if (setup == NULL)
    return;
  g_free (setup->cwd);
  g_free (setup->data);
  g_free (setup->fuse_exe);
  g_strfreev (setup->fuse_argv);
  g_free (setup);
}

gboolean
rrun_overlay_prepare (const char *driver, const RrunOverlayLayers *layers,
                      RrunOverlaySetup **out_setup, GError **error)
{
  g_autoptr(RrunOverlaySetup) setup = g_new0 (RrunOverlaySetup, 1);
  const RrunOverlayOps *ops;
  gboolean is_auto = driver == NULL || g_strcmp0 (driver, "auto") == 0;
  g_autoptr(GError) why = NULL;

  if (is_auto)
    {
      /* Kernel overlay is 2x (create) to 15x (delete) faster than fuse-overlayfs: use it
         wherever the kernel allows, and keep fuse-overlayfs ready as the fallback. */
      if (rrun_overlay_kernel_ops.check (&why))
        {
          ops = &rrun_overlay_kernel_ops;
          if (rrun_overlay_fuse_ops.check (NULL))
            {
              setup->fallback_fuse = TRUE;
              if (!rrun_overlay_fuse_ops.configure (layers, setup, error))
                return FALSE;
            }
        }
      else
        {
          rrun_info ("storage driver: fuse-overlayfs (%s)", why->message);
          ops = &rrun_overlay_fuse_ops;
        }
    }
  else if (g_strcmp0 (driver, "overlay") == 0)
    ops = &rrun_overlay_kernel_ops;
  else if (g_strcmp0 (driver, "fuse-overlayfs") == 0)
    ops = &rrun_overlay_fuse_ops;
  else
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid storage driver \"%s\": expected overlay or fuse-overlayfs",
                       driver);
  if (!is_auto && !ops->check (error))
    return FALSE;
  if (is_auto && ops == &rrun_overlay_fuse_ops && !ops->check (error))
    {
      g_prefix_error (error, "no storage driver works here: %s; ", why->message);
      return FALSE;
    }
  if (!ops->configure (layers, setup, error))
    return FALSE;
  rrun_info ("storage driver: %s", ops->name);
  *out_setup = g_steal_pointer (&setup);
  return TRUE;
}

void
rrun_overlay_layers_init (RrunOverlayLayers *layers, const GPtrArray *layer_dirs,
                          const char *storage_root, gboolean fuse_acl, const char *upper_dir,
                          const char *work_dir, const char *merged_dir)
{
  *layers = (RrunOverlayLayers) {
    .lower_dirs = (const char *const *) layer_dirs->pdata,
    .n_lower = layer_dirs->len,
    .upper_dir = upper_dir,
    .work_dir = work_dir,
    .merged_dir = merged_dir,
    .storage_root = storage_root,
    .fuse_acl = fuse_acl,
  };
}
