/* Named and anonymous volumes (docs/rrun-volume.1.md): one directory per volume under the
   volume path (config->volume_path, by default $XDG_DATA_HOME/rrun/volumes, moved to
   local disk when that is a network file system):

     VOLUMES/NAME/volume.json   docker's fields: Name, Driver, CreatedAt, Labels, Options,
                                and whether the volume is anonymous
     VOLUMES/NAME/_data/        the data, with owners of the container's user namespace

   A volume is made in VOLUMES/.tmp-RANDOM and renamed into place, so a name is either
   absent or whole, and two containers creating it at once both get the same one. */
#pragma once

#include <glib.h>

#include "config.h"
#include "userns/idmap.h"
#include "util/json-value.h"

G_BEGIN_DECLS

typedef struct
{
  char *name;
  char *driver;       /* "local" */
  char *mountpoint;   /* VOLUMES/NAME/_data */
  char *created_at;   /* RFC 3339 */
  char **labels;      /* "KEY=VALUE", as given */
  char **options;     /* "KEY=VALUE": type, o, device */
  gboolean anonymous; /* made by -v /path or the image's VOLUME */
} RrunVolumeInfo;

void rrun_volume_info_free (RrunVolumeInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunVolumeInfo, rrun_volume_info_free)

/* docker's rule for local volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
gboolean rrun_volume_name_valid (const char *name);

/* Check --opt (or --mount volume-opt) KEY=VALUE options: type (tmpfs, bind or none), o
   and device. Types that need a mount only root may make (nfs, cifs, a block device)
   are RRUN_ERROR_UNSUPPORTED with a hint: mount it on the host and bind it. */
gboolean rrun_volume_check_options (char **options, GError **error);

/* The value of KEY in "KEY=VALUE" options, or NULL. */
const char *rrun_volume_option (char *const *options, const char *key);

/* Create a volume (name NULL: an anonymous one with a random 64-hex name). An existing
   volume of that name is returned as it is (*out_created FALSE), as docker does. */
gboolean rrun_volume_create (const RrunConfig *config, const char *name, const char *driver,
                             char **labels, char **options, gboolean anonymous,
                             gboolean *out_created, RrunVolumeInfo **out_info,
                             GError **error);

/* A volume by name: RRUN_ERROR_NOT_FOUND with a hint when there is none. */
gboolean rrun_volume_lookup (const RrunConfig *config, const char *name,
                             RrunVolumeInfo **out_info, GError **error);

/* Every volume, by name. */
gboolean rrun_volume_list (const RrunConfig *config, GPtrArray **out_infos, GError **error);

/* The containers (ids) whose records name the volume: STORAGE/containers/ID/mounts.json,
   written when the container is created (rrun_mounts_record_write). */
gboolean rrun_volume_users (const RrunConfig *config, const char *name, char ***out_ids,
                            GError **error);

/* The names of the volumes a container's record lists (its mounts.json), in order; an
   empty list when it has none. */
char **rrun_volume_names_of_record (const char *record_dir);

/* Remove those of names that are anonymous and that no container's record lists any
   more (rm -v, run --rm): named volumes stay, as with docker. Failures are warnings. */
void rrun_volume_remove_unused_anonymous (const RrunConfig *config, const RrunIdMap *map,
                                          char *const *names);

/* Remove a volume and its data; files of subordinate ids go through the user namespace
   of map. The caller checks that no container uses it. */
gboolean rrun_volume_remove (const RrunConfig *config, const RrunIdMap *map, const char *name,
                             GError **error);

/* docker's `volume inspect` object. */
void rrun_volume_info_to_json (const RrunVolumeInfo *info, RrunJsonBuilder *b);

/* Whether a directory is empty (missing: an error). */
gboolean rrun_volume_dir_is_empty (const char *path, gboolean *out_empty, GError **error);

/* The file in a container's record that lists its mounts (docker's inspect form). */
#define RRUN_MOUNTS_FILE "mounts.json"

G_END_DECLS
