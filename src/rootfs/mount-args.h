/* The mount options of `rrun run` parsed into one form: -v (binds, named and anonymous
   volumes), --mount (docker's key=value syntax) and --tmpfs. Parsing checks everything
   that can be checked without the image or the volume store. */
#pragma once

#include <glib.h>

#include "rootfs/plan.h"

G_BEGIN_DECLS

typedef enum
{
  RRUN_MOUNT_TYPE_BIND,
  RRUN_MOUNT_TYPE_VOLUME,
  RRUN_MOUNT_TYPE_TMPFS,
} RrunMountType;

typedef struct
{
  RrunMountType type;
  char *source;             /* bind: absolute host path; volume: its name, NULL: anonymous */
  char *target;             /* absolute container path */
  gboolean read_only;
  gboolean nocopy;          /* volume: no copy-up of the image's content */
  gboolean chown_to_user;   /* U: chown the source to the container's user */
  gboolean nonrecursive;    /* bind-nonrecursive: submounts of the source stay out */
  const char *propagation;  /* "rprivate" (default), "private", "rshared", ... */
  char *mode;               /* -v's options as given ("ro,z"): inspect's Mode */
  char **volume_opts;       /* --mount volume-opt=K=V: options for a volume it creates */
  char *tmpfs_data;         /* tmpfs mount data: size=...,mode=... */
  unsigned long tmpfs_flags;
  gboolean is_dir;          /* bind: the source is a directory (else a file) */
} RrunMountSpec;

void rrun_mount_spec_free (RrunMountSpec *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunMountSpec, rrun_mount_spec_free)

/* -v /host:/ctr[:opts], -v NAME:/ctr[:opts], -v /ctr (anonymous). opts: ro, rw, z, Z, U,
   nocopy and the bind propagations. A bind's host path must exist: unlike docker, rrun
   does not create a missing one (a typo should not become an empty dir). */
gboolean rrun_mount_parse_volume (const char *arg, RrunMountSpec **out_mount, GError **error);

/* --mount type=bind|volume|tmpfs,source=,target=,readonly,... (docker's syntax). */
gboolean rrun_mount_parse_mount (const char *arg, RrunMountSpec **out_mount, GError **error);

/* --tmpfs /path[:size=64m,mode=1777,...] */
gboolean rrun_mount_parse_tmpfs_arg (const char *arg, RrunMountSpec **out_mount,
                                     GError **error);

/* Parse one --tmpfs argument: "/path" or "/path:size=64m,mode=1777" into target and mount
   data; only size, mode, nr_inodes, uid, gid are accepted, plus ro/rw, exec/noexec. */
gboolean rrun_tmpfs_parse (const char *spec, char **out_target, char **out_data,
                           unsigned long *out_flags, GError **error);

/* Every mount option, parsed (RrunMountSpec), in the order given; two mounts on one
   target are an error, as with docker. */
gboolean rrun_mount_parse_all (char **volumes, char **mounts, char **tmpfs,
                               GPtrArray **out_mounts, GError **error);

/* --volumes-from CONTAINER[:ro|rw]: the container (out_container, may be NULL) and the
   mode (out_mode: "ro", "rw", or NULL when not given; may be NULL). */
gboolean rrun_mount_parse_volumes_from (const char *arg, char **out_container,
                                        char **out_mode, GError **error);

/* A mount another container has (--volumes-from), from its record's fields (inspect's
   Mounts form): a volume by name or a bind of an existing host path (checked). mode "ro"
   or "rw" overrides its own RW. */
gboolean rrun_mount_spec_inherit (RrunMountType type, const char *source, const char *target,
                                  gboolean rw, const char *propagation, const char *mode,
                                  RrunMountSpec **out_mount, GError **error);

/* The propagation flag for a name (MS_REC|MS_PRIVATE for "rprivate"), 0 if unknown. */
unsigned long rrun_mount_propagation_flags (const char *name);

G_END_DECLS
