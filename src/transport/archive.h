/* Image archives: `rrun load` and `rrun save`.

   load reads a docker-archive (manifest.json + config + layer tars, as `docker save`,
   `podman save` and skopeo's docker-archive: write it; layers plain or compressed), an OCI
   archive (a tar of an OCI image layout) or an OCI layout directory. Every blob is
   checked against its digest (and size where given) as it is read, layers are extracted
   through the store (rrun_store_add_layer: inside the user namespace, hostile-layer checks,
   shared layers not extracted twice) and images recorded with rrun_store_add_image_spec,
   so the image ID (config digest) is the one a pull of the same image gives.

   save writes one or more images as a docker-archive (uncompressed layers named by diff
   ID, like podman) or an OCI archive (the kept blobs as they are), from the layer blobs
   the store keeps. */
#pragma once

#include <glib.h>

#include "userns/idmap.h"
#include "storage/store.h"

G_BEGIN_DECLS

typedef enum
{
  RRUN_ARCHIVE_DOCKER, /* docker-archive */
  RRUN_ARCHIVE_OCI,    /* oci-archive */
} RrunArchiveFormat;

/* "docker-archive" or "oci-archive" (NULL: docker-archive); else RRUN_ERROR_INVALID_ARGUMENT
   with a hint. */
gboolean rrun_archive_format_parse (const char *text, RrunArchiveFormat *out_format,
                                    GError **error);

/* Load path ("-" reads standard input; a directory is an OCI layout) into store.
   *out_loaded: one line per image, as docker prints them: "Loaded image: NAME" for each
   name, "Loaded image ID: sha256:HEX" for an image without one. Archives are checked in
   full (every member, digest and config) before the first layer is extracted; a layer
   that fails to extract removes what this image added. Errors are RRUN_ERROR_CORRUPT
   for archives that do not check out. */
gboolean rrun_archive_load (RrunStore *store, const RrunIdMap *map, const char *path,
                            GPtrArray **out_loaded, GError **error);

/* `rrun pull oci:DIR[:NAME]`: load one image of the OCI layout directory dir, the one
   whose org.opencontainers.image.ref.name is name (NULL: the layout's only image); it is
   named name as load reads names ("v1" is docker.io/library/v1:latest), unnamed without
   one. *out_id: its image ID. An unknown name is RRUN_ERROR_NOT_FOUND. */
gboolean rrun_archive_load_layout (RrunStore *store, const RrunIdMap *map, const char *dir,
                                   const char *name, char **out_id, GError **error);

/* Write refs (names or IDs) to path ("-": standard output, refused when it is a
   terminal) in format. A file is written next to path under a temporary name and renamed
   over it once complete. A layer whose blob the store did not keep (stores from before
   blobs were kept) is refused: RRUN_ERROR_UNSUPPORTED with the hint to pull or import
   the image again. */
gboolean rrun_archive_save (RrunStore *store, const char *const *refs, RrunArchiveFormat format,
                            const char *path, GError **error);

/* Decompress (gzip, zstd, xz, bzip2 or none) the blob on in_fd to out_fd (-1: only count),
   giving the sha256 digest "sha256:<hex>" and size of the uncompressed stream: a layer's
   diff ID. */
gboolean rrun_archive_uncompressed_digest (int in_fd, int out_fd, char **out_digest,
                                           gint64 *out_size, GError **error);

typedef gboolean (*RrunArchiveWriteFunc) (const guint8 *data, gsize len, gpointer user_data,
                                          GError **error);

/* The same, handing the uncompressed bytes to write. */
gboolean rrun_archive_uncompressed_stream (int in_fd, RrunArchiveWriteFunc write,
                                           gpointer user_data, char **out_digest, gint64 *out_size,
                                           GError **error);

/* Whether an image's kept manifest (the one it was pulled with) names exactly its config
   and its kept layer blobs, and has media_type (NULL: any), so save and push can keep it
   and its digest. */
gboolean rrun_archive_kept_manifest_fits (const RrunStoreImageBlobs *img,
                                          const char *media_type);

G_END_DECLS
