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

G_END_DECLS
