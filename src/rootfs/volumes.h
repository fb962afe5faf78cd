/* A container's mounts from -v, --mount, --tmpfs and the image's VOLUME: volumes looked up
   or created in the volume store, copy-up of the image's content into new ones, the
   record of what is mounted (mounts.json in the container's record, which `volume rm`
   and `inspect` read) and the mount plan entries. Host side, before clone. */
#pragma once

#include <glib.h>

#include "config.h"
#include "rootfs/mount-args.h"
#include "rootfs/plan.h"
#include "userns/idmap.h"

G_BEGIN_DECLS

typedef struct
{
  GPtrArray *mounts;     /* RrunMountSpec, parents before children */
  GPtrArray *sources;    /* char *: the host path bound for each (NULL: a tmpfs) */
} RrunContainerMounts;

void rrun_container_mounts_free (RrunContainerMounts *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunContainerMounts, rrun_container_mounts_free)

typedef struct
{
  char **volumes, **mounts, **tmpfs;  /* the options as given */
  char **image_volumes;               /* the image config's VOLUME paths */
  const char *const *layers;          /* the image's layer dirs, bottom first */
  guint n_layers;
  const RrunIdMap *storage_map;       /* how layers and volumes are stored */
  const RrunIdMap *map;               /* the container's own map (the U option) */
  guint32 uid, gid;                   /* the container's user (the U option) */
  const char *record_dir;             /* STORAGE/containers/ID */
  GPtrArray *inherited;               /* RrunMountSpec from --volumes-from, or NULL: taken
                                         (their slots set to NULL) where no option mounts
                                         the same target */
} RrunContainerMountsRequest;

/* --volumes-from: append to mounts (RrunMountSpec) the volumes and binds another
   container's record lists (its mounts.json), at the same paths (its tmpfs mounts are
   its own); mode "ro" or "rw" (or NULL: as they were). `shown` names it in errors. */
gboolean rrun_container_mounts_inherit (const char *record_dir, const char *shown,
                                        const char *mode, GPtrArray *mounts, GError **error);

/* Resolve every mount: write the record's mounts.json, create missing volumes (named and
   anonymous), copy the image's content into new empty ones (unless nocopy), apply U. A
   record that lists mounts already (a stopped container started again) keeps its
   anonymous volumes, as docker does. */
gboolean rrun_container_mounts_prepare (const RrunConfig *config,
                                        const RrunContainerMountsRequest *req,
                                        RrunContainerMounts **out_mounts, GError **error);

void rrun_container_mounts_add_to_plan (RrunMountPlan *plan, const RrunContainerMounts *m);

G_END_DECLS
