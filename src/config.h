/* rrun.conf (GKeyFile) and the XDG paths rrun uses (docs/architecture.md, "On disk"). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *storage_root;     /* images and layers: $XDG_DATA_HOME/rrun/storage */
  char *run_root;         /* running state: $XDG_RUNTIME_DIR/rrun or /tmp/rrun-UID */
  char *storage_driver;   /* "auto", "overlay" or "fuse-overlayfs" */
  char *userns;           /* default --userns: "auto", "keep-id", "nomap" */
  char *cgroups;          /* "enabled" or "disabled" */
  char *network;          /* default --network */
  char *pull_policy;      /* "missing", "always", "never" */
  char **additional_image_stores; /* read-only image stores an administrator provides */
  char **unqualified_search_registries;
  char **insecure_registries;
  char **cdi_spec_dirs;    /* [engine] cdi_spec_dirs: CDI specs; NULL: /etc/cdi, /var/run/cdi */
  gboolean allow_host_loopback;
  gboolean fuse_acl;      /* [storage] fuse_acl: POSIX ACLs through fuse-overlayfs */
  char *dns_upstream;
  gboolean storage_root_from_config; /* set explicitly (config or --root), not defaulted */
  GPtrArray *files_read;  /* config files that existed and were parsed, in order */
  char *storage_relocated_from; /* the default root on a network fs, when moved away */
  char *storage_relocated_fs;   /* its file system ("nfs") */
  char *volume_path;      /* volumes: $XDG_DATA_HOME/rrun/volumes, [storage] volume_path */
  gboolean volume_path_from_config;
  char *volume_relocated_from;  /* the default volume path on a network fs, when moved */
  char *volume_relocated_fs;
} RrunConfig;

void rrun_config_free (RrunConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunConfig, rrun_config_free)

/* Load /etc/rrun/rrun.conf (or $RRUN_SYSTEM_CONFIG) then $XDG_CONFIG_HOME/rrun/rrun.conf,
   then apply root/runroot overrides from the command line (NULL: keep). */
gboolean rrun_config_load (const char *root_override, const char *runroot_override,
                           RrunConfig **out_config, GError **error);

/* Parse one key file into config (exposed for unit tests). */
gboolean rrun_config_apply_keyfile (RrunConfig *config, GKeyFile *kf, const char *source,
                                    GError **error);

/* A fresh config with built-in defaults and no files read. */
RrunConfig *rrun_config_new_defaults (void);

/* Create (0700) and check the run root: it must be ours and not writable by others,
   since /tmp on a shared login node is hostile ground. */
gboolean rrun_config_ensure_run_root (const RrunConfig *config, GError **error);

/* When the default storage root (not set by --root or a config file) is on a network
   file system (NFS, Lustre, GPFS, BeeGFS, CIFS: home directories on clusters), use the
   local /var/tmp/rrun-UID/storage instead (0700, ours), saying so once when it is first
   made. Explicit roots are left alone: opening the store refuses them with a hint.
   The volume path moves the same way, to /var/tmp/rrun-UID/volumes, unless
   [storage] volume_path sets it. */
gboolean rrun_config_relocate_storage (RrunConfig *config, GError **error);

G_END_DECLS
