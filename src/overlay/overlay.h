/* The two ways to mount an image's layers with a private writable layer on top:
   kernel overlay in the user namespace (Linux >= 5.11) and fuse-overlayfs. Both sit
   behind one ops table; the choice is made once per container. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct
{
  const char *const *lower_dirs; /* absolute, bottom layer first */
  guint n_lower;
  const char *upper_dir;
  const char *work_dir;
  const char *merged_dir;
  const char *storage_root;      /* kernel overlay: paths below it are passed relative */
  const char *uid_mapping;       /* fuse-overlayfs uidmapping= (keep-id), or NULL */
  const char *gid_mapping;
  gboolean fuse_acl;             /* fuse-overlayfs: POSIX ACLs (off: noacl) */
} RrunOverlayLayers;

/* The layers of an image (layer_dirs: absolute, bottom first) under a private writable
   layer: every use (a container, cp of a stopped one, squashfs export) fills them alike. */
void rrun_overlay_layers_init (RrunOverlayLayers *layers, const GPtrArray *layer_dirs,
                               const char *storage_root, gboolean fuse_acl,
                               const char *upper_dir, const char *work_dir,
                               const char *merged_dir);

/* What the namespace holder needs to mount it (strings owned by the setup). */
typedef struct
{
  gboolean kernel;
  char *cwd;                 /* kernel: chdir here first */
  char *data;                /* kernel: mount data */
  char *fuse_exe;            /* fuse: absolute path of fuse-overlayfs */
  char **fuse_argv;
  gboolean fallback_fuse;    /* kernel in auto mode: fuse-overlayfs is usable as fallback */
} RrunOverlaySetup;

void rrun_overlay_setup_free (RrunOverlaySetup *setup);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunOverlaySetup, rrun_overlay_setup_free)

typedef struct
{
  const char *name;
  /* Can this machine use the driver at all? The error says why and what to do. */
  gboolean (*check) (GError **error);
  /* Fill in how to mount the layers. */
  gboolean (*configure) (const RrunOverlayLayers *layers, RrunOverlaySetup *setup,
                         GError **error);
} RrunOverlayOps;

extern const RrunOverlayOps rrun_overlay_kernel_ops;
extern const RrunOverlayOps rrun_overlay_fuse_ops;

/* Pick by name: "overlay", "fuse-overlayfs" or "auto" (kernel overlay where the kernel
   allows it, with fuse-overlayfs as the fallback when it is usable). */
gboolean rrun_overlay_prepare (const char *driver, const RrunOverlayLayers *layers,
                               RrunOverlaySetup **out_setup, GError **error);

/* Kernel release as "major.minor" >= the given version. */
gboolean rrun_overlay_kernel_at_least (int major, int minor);

/* Start fuse-overlayfs (exe) in the foreground with -o opts on merged, its stdio on
   /dev/null and killed with the caller, and wait (10 s at most) until the mount is there.
   what names the layers in errors ("the image's layers"). *out_pid: its pid, or -1 when
   it exited. Used where rrun mounts layers outside a container start (export, cp). */
gboolean rrun_overlay_mount_fuse_wait (const char *exe, const char *opts, const char *merged,
                                       const char *what, pid_t *out_pid, GError **error);

G_END_DECLS
