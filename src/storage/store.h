/* The image store (docs/architecture.md, "On disk"): content-addressed blobs, layers by chain ID,
   images by config digest, a name index; temp-then-rename writes under a file lock.

   Layout below the storage root:
     blobs/sha256/HEX            blobs as received (configs, image manifests, layer blobs
                                 compressed or not); image.json says which belong to
                                 an image, and rmi removes those no image refers to
     layers/CHAINHEX/diff/       an extracted layer; layers/CHAINHEX/layer.json
     images/IDHEX/image.json     names, layer chain ids, config digest, created
     images/IDHEX/config.json    the image config
     containers/CID/{upper,work} a container's writable layer
     tmp/                        staging; anything here is garbage after a crash
     lock                        flock(2): shared for readers, exclusive for writers */
#pragma once

#include <glib.h>

#include "config.h"
#include "registry/registries-conf.h"
#include "userns/idmap.h"
#include "storage/image.h"

G_BEGIN_DECLS

typedef struct RrunStore RrunStore;

/* Open (creating directories as needed) the store under config->storage_root. */
gboolean rrun_store_open (const RrunConfig *config, RrunStore **out_store, GError **error);
void rrun_store_free (RrunStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunStore, rrun_store_free)

const char *rrun_store_root (RrunStore *store);

/* registries.conf merged with rrun.conf, read when the store was opened: the aliases and
   search list short names expand through, here (rrun_store_find_image and every lookup by
   name) and in pull alike. */
const RrunRegistriesConf *rrun_store_registries (RrunStore *store);

/* Find an image by name ("busybox", "localhost/busybox:latest"), full or short ID prefix.
   A short name is looked for as "localhost/NAME", then as each name pull would try
   (rrun_names_candidates): the first held wins, with no network access.
   Missing is RRUN_ERROR_NOT_FOUND with a hint (pull/import). */
gboolean rrun_store_find_image (RrunStore *store, const char *ref, RrunImage **out_image,
                                GError **error);
/* A container's image by the ID its record keeps: a store image, or for a --rootfs
   container the directory it runs (an absolute path, rrun_image_new_rootfs). */
gboolean rrun_store_find_container_image (RrunStore *store, const char *id,
                                          RrunImage **out_image, GError **error);

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

/* podman's system reset: remove every image, layer, blob and writable layer of this
   store (the read-only stores are not touched). Refused (RRUN_ERROR_BUSY) while a
   container runs. The directories are made again by the next rrun_store_open. */
gboolean rrun_store_reset (RrunStore *store, const RrunIdMap *map, GError **error);

/* A stopped container whose record is kept (run without --rm) has this file in its
   directory, written once its state is: without it, a directory whose lock nobody holds
   is debris (a killed rrun's, or an --rm container's). */
#define RRUN_STORE_KEEP_FILE "keep"

/* Whether containers/CID (cdir) is debris: its lock is not held and it is not kept. The
   one test of what garbage collection removes. */
gboolean rrun_store_container_is_debris (const char *cdir);

/* Whether containers/CID (cdir) has the keep marker (for a caller that knows the lock is
   not held: debris is then what is not kept). */
gboolean rrun_store_container_is_kept (const char *cdir);

/* Remove containers that are debris (rrun_store_container_is_debris): called by run. */
gboolean rrun_store_gc_containers (RrunStore *store, const RrunIdMap *map, GError **error);

/* Remove containers/CID (through the user namespace: upper holds files of subordinate
   ids). Missing is success. */
gboolean rrun_store_remove_container_dirs (RrunStore *store, const RrunIdMap *map,
                                           const char *cid, GError **error);

/* ---- Added for import and pull (issue 3) ----------------------------------------- */

/* The OCI chain id (hex, no "sha256:"): the diff_id's hex for the bottom layer, else
   sha256 of "sha256:<parent chain hex> sha256:<diff hex>". */
char *rrun_store_chain_id (const char *parent_chain, const char *diff_id);

/* Whether layers/CHAIN exists (a pull skips fetching it). */
gboolean rrun_store_has_layer (RrunStore *store, const char *chain_id);

/* Extract the tar stream on tar_fd (any compression libarchive reads) in the user
   namespace of map into a staging directory, then move it to layers/CHAIN, where CHAIN
   comes from parent_chain (NULL for the bottom layer) and the computed diff_id. When
   expected_diff_id is set and differs, nothing is kept (RRUN_ERROR_CORRUPT). When the
   layer exists already the new copy is dropped. out_created tells whether this call
   added it (so a caller that fails later can remove it with rrun_store_remove_layer). */
gboolean rrun_store_add_layer (RrunStore *store, const RrunIdMap *map, int tar_fd,
                               const char *parent_chain, const char *expected_diff_id,
                               char **out_chain_id, char **out_diff_id, gboolean *out_created,
                               GError **error);

/* Remove a layer no image refers to (undoing rrun_store_add_layer). */
gboolean rrun_store_remove_layer (RrunStore *store, const RrunIdMap *map,
                                  const char *chain_id, GError **error);

/* Record an image: config is the exact config blob (the id is its sha256), chain_ids the
   layers bottom first (they must exist), name a normalised name or NULL, digest the
   manifest digest or NULL. An existing image with that id gains the name; the name moves
   from any other image (which keeps its data, as docker's "<none>" images). */
gboolean rrun_store_add_image (RrunStore *store, const char *config, gsize config_len,
                               const char *const *chain_ids, const char *name,
                               const char *digest, char **out_id, GError **error);

/* Store a blob under blobs/sha256/HEX after checking its digest ("sha256:<hex>"). */
gboolean rrun_store_put_blob (RrunStore *store, const char *digest, const void *data,
                              gsize len, GError **error);

/* rmi with the detail the CLI prints: the names removed ("Untagged: ...") and the id when
   the image itself was deleted ("Deleted: ..."), else NULL (it still has names, or -f
   left it to be removed once its live containers end). */
gboolean rrun_store_remove_image_full (RrunStore *store, const RrunIdMap *map,
                                       const char *ref, gboolean force, GStrv *out_untagged,
                                       char **out_deleted_id, GError **error);

/* image prune: delete every image of this store (never a read-only one) that no running
   container uses and that has no name (dangling), or with all, every such image; then
   the layers no image uses that are older than an hour (debris of a killed pull; a
   younger one may belong to a pull running now). One pass under the exclusive lock, with
   rmi's removal path. out_untagged: the names removed; out_deleted: "sha256:ID" of each
   image deleted; out_reclaimed: bytes of the extracted layers deleted. */
gboolean rrun_store_prune_images (RrunStore *store, const RrunIdMap *map, gboolean all,
                                  GStrv *out_untagged, GStrv *out_deleted,
                                  guint64 *out_reclaimed, GError **error);

/* ---- Kept blobs (load/save) ------------------------------------------------------- */

/* A blob as an image manifest describes it. */
typedef struct
{
  char *digest;     /* "sha256:<hex>" */
  char *media_type; /* as received: OCI or docker layer/manifest media type */
  gint64 size;
} RrunBlobInfo;

void rrun_blob_info_free (RrunBlobInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunBlobInfo, rrun_blob_info_free)
RrunBlobInfo *rrun_blob_info_new (const char *digest, const char *media_type, gint64 size);

/* A blob to keep with a new image: its bytes come from path (a file whose digest the
   caller verified, typically in a RrunStoreTemp; it is hard-linked into blobs/) or from
   data/len (checked here). Both NULL: keep nothing for it (digest NULL: no blob at all). */
typedef struct
{
  const char *digest;
  const char *media_type;
  gint64 size;
  const char *path;
  const void *data;
  gsize len;
} RrunStoreBlob;

typedef struct
{
  const char *config; /* the exact config blob; the image id is its sha256 */
  gsize config_len;
  const char *const *chain_ids;     /* bottom first; they must exist */
  const char *name;                 /* normalised name or NULL */
  const char *digest;               /* repo digest (manifest or index) or NULL */
  const RrunStoreBlob *layer_blobs; /* NULL, or one per layer (digest NULL: none kept) */
  const RrunStoreBlob *manifest;    /* NULL, or the image manifest (kept as a blob) */
} RrunStoreImageSpec;

/* rrun_store_add_image with the blobs to keep: they are placed in blobs/ and recorded in
   image.json under the same exclusive lock, so a concurrent rmi never sees a kept blob
   that no image refers to. An existing image without kept blobs gains them. */
gboolean rrun_store_add_image_spec (RrunStore *store, const RrunStoreImageSpec *spec,
                                    char **out_id, GError **error);

/* What `save` needs of one image, with every blob already opened (under the store's
   shared lock), so an rmi running meanwhile cannot pull the files away. */
typedef struct
{
  char *id;         /* config digest hex */
  GStrv names;
  GBytes *config;   /* the config blob (sha256 checked) */
  GStrv diff_ids;   /* "sha256:..." from the config, bottom first */
  GPtrArray *layer_blobs; /* RrunBlobInfo* or NULL (none kept), per layer */
  GArray *layer_fds;      /* int per layer: the kept blob opened, -1 when none */
  RrunBlobInfo *manifest; /* the kept image manifest, or NULL */
  GBytes *manifest_data;
} RrunStoreImageBlobs;

void rrun_store_image_blobs_free (RrunStoreImageBlobs *blobs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunStoreImageBlobs, rrun_store_image_blobs_free)

/* Find ref (as rrun_store_find_image) and open its kept blobs. A layer whose blob is not
   kept has fd -1; the caller decides (save refuses). */
gboolean rrun_store_open_image_blobs (RrunStore *store, const char *ref,
                                      RrunStoreImageBlobs **out_blobs, GError **error);

/* Whether blobs/sha256/HEX of digest is there. */
gboolean rrun_store_has_blob (RrunStore *store, const char *digest);

/* A staging directory under the store's tmp/, locked while it lives so garbage
   collection leaves it alone; freeing it removes it with everything in it. */
typedef struct RrunStoreTemp RrunStoreTemp;
gboolean rrun_store_temp_new (RrunStore *store, const RrunIdMap *map, RrunStoreTemp **out_temp,
                              GError **error);
const char *rrun_store_temp_dir (RrunStoreTemp *temp);
void rrun_store_temp_free (RrunStoreTemp *temp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunStoreTemp, rrun_store_temp_free)

/* The architecture name OCI uses for this machine ("amd64", "arm64", ...). */
const char *rrun_store_host_architecture (void);

G_END_DECLS
