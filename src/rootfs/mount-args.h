/* -v SRC:DST[:OPTS] and --tmpfs DST[:OPTS] parsed into mount plan entries. */
#pragma once

#include <glib.h>

#include "rootfs/plan.h"

G_BEGIN_DECLS

typedef struct
{
  char *source;     /* absolute host path */
  char *target;     /* absolute container path */
  gboolean read_only;
  gboolean is_dir;
} RrunVolume;

void rrun_volume_free (RrunVolume *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunVolume, rrun_volume_free)

/* Parse and check one -v argument: the host path must be absolute and exist (unlike
   docker, rrun does not create a missing one: a typo should not become an empty dir). */
gboolean rrun_volume_parse (const char *spec, RrunVolume **out_volume, GError **error);

/* Parse one --tmpfs argument: "/path" or "/path:size=64m,mode=1777" into target and mount
   data; only size, mode, nr_inodes, uid, gid are accepted, plus ro/rw, exec/noexec. */
gboolean rrun_tmpfs_parse (const char *spec, char **out_target, char **out_data,
                           unsigned long *out_flags, GError **error);

/* Add volumes and tmpfs mounts to the plan. */
gboolean rrun_volumes_add_to_plan (RrunMountPlan *plan, char **volumes, char **tmpfs,
                                   GError **error);

G_END_DECLS
