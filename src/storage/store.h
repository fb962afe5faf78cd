/* The image store (DESIGN.md "On disk"): content-addressed blobs, layers by chain ID,
   images by config digest, a name index; temp-then-rename writes under a file lock.

   Layout below the storage root:
     blobs/sha256/HEX            compressed or plain blobs (configs, manifests, layers)
     layers/CHAINHEX/diff/       an extracted layer; layers/CHAINHEX/layer.json
     images/IDHEX/image.json     names, layer chain ids, config digest, created
     images/IDHEX/config.json    the image config
     containers/CID/{upper,work} a container's writable layer
     tmp/                        staging; anything here is garbage after a crash
     lock                        flock(2): shared for readers, exclusive for writers */
#pragma once

#include <glib.h>

#include "config.h"
#include "idmap.h"
#include "storage/image.h"

G_BEGIN_DECLS

typedef struct RrunStore RrunStore;

/* Open (creating directories as needed) the store under config->storage_root. */
gboolean rrun_store_open (const RrunConfig *config, RrunStore **out_store, GError **error);
void rrun_store_free (RrunStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunStore, rrun_store_free)

const char *rrun_store_root (RrunStore *store);

/* Find an image by name ("busybox", "localhost/busybox:latest"), full or short ID prefix.
   Missing is RRUN_ERROR_NOT_FOUND with a hint (pull/import). */
gboolean rrun_store_find_image (RrunStore *store, const char *ref, RrunImage **out_image,
                                GError **error);

/* All images, newest first. */
gboolean rrun_store_list_images (RrunStore *store, GPtrArray **out_images, GError **error);

/* Make a one-layer image from a plain or compressed root file system tarball, extracted
   inside the user namespace of map. name is normalised like a reference
   ("busybox" -> "localhost/busybox:latest"). */
gboolean rrun_store_import_tarball (RrunStore *store, const RrunIdMap *map,
                                    const char *tar_path, const char *name, char **out_id,
                                    GError **error);

/* Remove an image name, and the image and its unshared layers once nothing names it.
   Refused (RRUN_ERROR_BUSY) while a container uses it unless force. */
gboolean rrun_store_remove_image (RrunStore *store, const RrunIdMap *map, const char *ref,
                                  gboolean force, char **out_removed_id, GError **error);

/* A container's writable layer: containers/CID/upper and work, created empty, with
   containers/CID/image naming the image id and containers/CID/lock flock(2)ed
   exclusively; the lock fd is returned and stays held while the container lives, which
   is how rmi and garbage collection tell a live container from a stale one. */
gboolean rrun_store_create_container_dirs (RrunStore *store, const char *cid,
                                           const char *image_id, char **out_upper,
                                           char **out_work, int *out_lock_fd, GError **error);

/* Remove containers whose lock is not held (their rrun was killed): called by run. */
gboolean rrun_store_gc_containers (RrunStore *store, const RrunIdMap *map, GError **error);

/* Remove containers/CID (through the user namespace: upper holds files of subordinate
   ids). Missing is success. */
gboolean rrun_store_remove_container_dirs (RrunStore *store, const RrunIdMap *map,
                                           const char *cid, GError **error);

G_END_DECLS
