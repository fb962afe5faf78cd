/* Image manifests and indexes: OCI image index, Docker manifest list, OCI image manifest,
   Docker schema 2. Schema 1 is refused. Every field is type-checked where it enters.

   Layer media types rrun accepts:
     application/vnd.oci.image.layer.v1.tar{,+gzip,+zstd}
     application/vnd.docker.image.rootfs.diff.tar{,.gzip}
   Foreign / non-distributable layers (application/vnd.oci.image.layer.nondistributable.*,
   application/vnd.docker.image.rootfs.foreign.diff.tar.gzip) are refused: they exist for
   Windows base layers and licensed content fetched from "urls" outside the registry, and
   rrun runs Linux images from the registry it was pointed at, so following a manifest's
   URLs to third-party hosts is not something it will do. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RRUN_MEDIA_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define RRUN_MEDIA_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define RRUN_MEDIA_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define RRUN_MEDIA_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define RRUN_MEDIA_DOCKER_V1 "application/vnd.docker.distribution.manifest.v1+json"
#define RRUN_MEDIA_DOCKER_V1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define RRUN_MEDIA_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define RRUN_MEDIA_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"

/* The Accept header value listing the four manifest types rrun understands. */
#define RRUN_MANIFEST_ACCEPT                                                                  \
  RRUN_MEDIA_OCI_INDEX ", " RRUN_MEDIA_DOCKER_LIST ", " RRUN_MEDIA_OCI_MANIFEST              \
                       ", " RRUN_MEDIA_DOCKER_MANIFEST

/* Manifests larger than this are refused (as containers/image does: 4 MiB). */
#define RRUN_MANIFEST_MAX_SIZE (4 * 1024 * 1024)

typedef enum
{
  RRUN_COMPRESSION_NONE,
  RRUN_COMPRESSION_GZIP,
  RRUN_COMPRESSION_ZSTD,
} RrunCompression;

typedef struct
{
  char *media_type;
  char *digest; /* validated "sha256:..." */
  gint64 size;  /* >= 0 */
  RrunCompression compression; /* layers only */
  /* index entries only (NULL otherwise): */
  char *os;
  char *architecture;
  char *variant;
} RrunDescriptor;

void rrun_descriptor_free (RrunDescriptor *desc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunDescriptor, rrun_descriptor_free)
RrunDescriptor *rrun_descriptor_copy (const RrunDescriptor *desc);

typedef enum
{
  RRUN_MANIFEST_KIND_INDEX, /* OCI index or docker manifest list */
  RRUN_MANIFEST_KIND_IMAGE, /* OCI manifest or docker schema 2 */
} RrunManifestKind;

typedef struct
{
  RrunManifestKind kind;
  char *media_type;
  RrunDescriptor *config; /* image only */
  GPtrArray *layers;      /* image only: RrunDescriptor*, bottom first */
  GPtrArray *manifests;   /* index only: RrunDescriptor* with platform fields */
} RrunManifest;

void rrun_manifest_free (RrunManifest *manifest);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunManifest, rrun_manifest_free)

/* Parse data. content_type (the HTTP Content-Type, may be NULL) is used when the body has
   no "mediaType"; when both are manifest types they must agree. source names the manifest
   in errors ("docker.io/library/alpine:latest"). Errors: RRUN_ERROR_UNSUPPORTED for schema 1
   and for unknown or refused media types, RRUN_ERROR_CORRUPT for malformed documents. */
gboolean rrun_manifest_parse (const char *data, gsize len, const char *content_type,
                              const char *source, RrunManifest **out_manifest, GError **error);

typedef struct
{
  char *os;
  char *architecture;
  char *variant; /* may be NULL */
} RrunPlatform;

void rrun_platform_free (RrunPlatform *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunPlatform, rrun_platform_free)

/* "os/arch[/variant]" as --platform takes it; arch names are normalised like
   containerd's (x86_64 -> amd64, aarch64 -> arm64, armhf -> arm/v7). */
gboolean rrun_platform_parse (const char *text, RrunPlatform **out_platform, GError **error);

/* This machine: linux and uname's machine, normalised. */
RrunPlatform *rrun_platform_host (void);

/* "linux/arm64/v8" */
char *rrun_platform_to_string (const RrunPlatform *p);

/* Pick the index entry for platform. An exact variant wins over an entry without one;
   arm64 treats "" and "v8" alike. None: RRUN_ERROR_NOT_FOUND listing what there is. */
gboolean rrun_manifest_pick_platform (const RrunManifest *index, const RrunPlatform *platform,
                                      const char *source, const RrunDescriptor **out_desc,
                                      GError **error);

G_END_DECLS
