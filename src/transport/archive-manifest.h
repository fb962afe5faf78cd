/* The two index files of image archives, parsed and checked where they enter:
   docker-archive's manifest.json (as `docker save`, `podman save` and skopeo's
   docker-archive: write it) and an OCI image layout's index.json. Pure: no I/O. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Limits against absurd archives (the registry code's own manifest limit is 4 MiB). */
#define RRUN_ARCHIVE_INDEX_MAX_SIZE (4 * 1024 * 1024)
#define RRUN_ARCHIVE_CONFIG_MAX_SIZE (32 * 1024 * 1024)
#define RRUN_ARCHIVE_MAX_IMAGES 1024
#define RRUN_ARCHIVE_MAX_LAYERS 1024

/* One image of a docker-archive's manifest.json. */
typedef struct
{
  char *config;    /* member path of the config ("HEX.json", "blobs/sha256/HEX") */
  GStrv repo_tags; /* as written ("alpine:latest"); may be empty */
  GStrv layers;    /* member paths, bottom first */
} RrunDockerArchiveImage;

void rrun_docker_archive_image_free (RrunDockerArchiveImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunDockerArchiveImage, rrun_docker_archive_image_free)

/* Parse manifest.json: an array of {"Config", "RepoTags", "Layers"} objects. Member paths
   must be relative and stay inside the archive (no ".."), at least one image, at most
   RRUN_ARCHIVE_MAX_IMAGES of at most RRUN_ARCHIVE_MAX_LAYERS layers. Errors are
   RRUN_ERROR_CORRUPT naming the field ("manifest.json: [0].Layers[2]: ..."). */
gboolean rrun_docker_archive_parse_manifest (const char *data, gsize len, GPtrArray **out_images,
                                             GError **error);

/* One entry of an OCI layout's index.json. */
typedef struct
{
  char *media_type; /* image manifest or (nested) index */
  char *digest;     /* validated "sha256:<hex>" */
  gint64 size;
  char *name; /* io.containerd.image.name, else org.opencontainers.image.ref.name
                 when it is more than a bare tag (has a '/' or ':'), else NULL */
  char *ref_name; /* org.opencontainers.image.ref.name as it is (NULL: none) */
} RrunOciIndexEntry;

void rrun_oci_index_entry_free (RrunOciIndexEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunOciIndexEntry, rrun_oci_index_entry_free)

/* Parse index.json (schemaVersion 2, "manifests" array of descriptors). Descriptors need
   a sha256 digest, a non-negative size and a media type. Entries with a platform other
   than linux are kept: the caller picks. */
gboolean rrun_oci_index_parse (const char *data, gsize len, GPtrArray **out_entries,
                               GError **error);

/* The member path of a blob in an OCI layout: "blobs/sha256/HEX". */
char *rrun_oci_blob_path (const char *digest);

/* The name an archive's tag gives in the store, read as docker does: "alpine:latest" is
   docker.io/library/alpine:latest, "localhost/x" is localhost/x:latest. A name with a
   digest, or one that does not parse, gives NULL (the image loads untagged). */
char *rrun_archive_normalize_name (const char *tag);

G_END_DECLS
