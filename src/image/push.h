/* `rrun push` as a library call: an image of the store to a registry, with the blobs the
   store kept for it (what pull, load, commit and build keep). Each blob is asked for
   first (HEAD) and skipped when the repository has it; mounted from another repository
   of the same registry when the image was pulled from there (the registry copies it
   without a byte sent); else uploaded, in one PUT or, above the chunk size, in PATCH
   chunks. The manifest goes last, so the tag never names an incomplete image. */
#pragma once

#include <glib.h>

#include "registry/auth.h"
#include "storage/store.h"

G_BEGIN_DECLS

typedef enum
{
  RRUN_PUSH_FORMAT_KEEP, /* the manifest the image came with when it still fits, else OCI */
  RRUN_PUSH_FORMAT_OCI,
  RRUN_PUSH_FORMAT_V2S2, /* docker schema 2 */
} RrunPushFormat;

/* "oci", "v2s2" (also "docker"), or NULL: keep; else RRUN_ERROR_INVALID_ARGUMENT. */
gboolean rrun_push_format_parse (const char *text, RrunPushFormat *out_format, GError **error);

/* How layers go out. KEEP: compressed blobs as kept, plain tars gzipped (docker's and
   podman's default); GZIP or ZSTD (--compression-format): every layer in that
   compression, recompressed where it was kept otherwise. */
typedef enum
{
  RRUN_PUSH_COMPRESSION_KEEP,
  RRUN_PUSH_COMPRESSION_GZIP,
  RRUN_PUSH_COMPRESSION_ZSTD,
} RrunPushCompression;

/* --compression-format ("gzip", "zstd"; NULL: keep) and --compression-level (NULL: the
   compressor's default; gzip 1-9, zstd 1-19); else RRUN_ERROR_INVALID_ARGUMENT. A level
   without a format applies to the plain tars gzipped by default. */
gboolean rrun_push_compression_parse (const char *format, const char *level,
                                      RrunPushCompression *out_compression, int *out_level,
                                      GError **error);

typedef enum
{
  RRUN_PUSH_BLOB_EXISTS,    /* the repository has it: not sent */
  RRUN_PUSH_BLOB_MOUNTED,   /* mounted from another repository (from) */
  RRUN_PUSH_BLOB_UPLOADING, /* done of total bytes sent */
  RRUN_PUSH_BLOB_DONE,
} RrunPushBlobState;

typedef void (*RrunPushProgressFunc) (const char *digest, RrunPushBlobState state,
                                      guint64 done, guint64 total, const char *from,
                                      gpointer user_data);

typedef struct
{
  gboolean tls_verify;                /* FALSE: --tls-verify=false */
  const RrunCredentials *credentials; /* --creds; NULL: auth.json */
  RrunPushFormat format;
  guint64 chunk_size;                 /* blobs larger go in PATCH chunks of this; 0: default */
  RrunPushCompression compression;
  int compression_level;              /* 0: the compressor's default */
  RrunPushProgressFunc progress;      /* may be NULL */
  gpointer progress_data;
} RrunPushOptions;

/* The default chunk size: larger blobs are sent in chunks, so a reset costs one chunk. */
#define RRUN_PUSH_DEFAULT_CHUNK_SIZE ((guint64) 64 << 20)

/* Push image (a name or ID of store) to dest, a registry reference (a "docker://" prefix
   is allowed; NULL: the image's own name, which must then name a registry). *out_digest:
   the manifest's digest; *out_dest (may be NULL): the reference pushed to. */
gboolean rrun_push_image (RrunStore *store, const char *image, const char *dest,
                          const RrunPushOptions *options, char **out_dest, char **out_digest,
                          GError **error);

/* Write image to the OCI image layout directory dir (made when missing) under the name
   tag (the org.opencontainers.image.ref.name annotation; NULL: an entry without one), as
   skopeo and podman write oci:DIR:TAG. The index's other entries are kept; an entry of
   the same name is replaced. Blobs go in under temporary names renamed once complete,
   index.json last, so a failed or interrupted push leaves the layout as it was (and at
   most unreferenced blobs). *out_digest: the manifest's digest. */
gboolean rrun_push_image_to_layout (RrunStore *store, const char *image, const char *dir,
                                    const char *tag, const RrunPushOptions *options,
                                    char **out_digest, GError **error);

/* Whether tag is a valid org.opencontainers.image.ref.name: components of letters and
   digits joined by one of "-._:@+" (or "--"), separated by "/". */
gboolean rrun_oci_ref_name_is_valid (const char *tag);

G_END_DECLS
