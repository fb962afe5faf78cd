/* Manifests and blobs from a registry, verified while they stream.

   Parallel downloads: one GThread per running download (a GThreadPool of at most
   max_parallel), each with its own curl easy handle on the client's shared connection
   cache. Sinks and progress callbacks run in those worker threads. The runtime's rule that
   nothing forks between clone and exec is kept trivially: nothing here forks, and a caller
   that extracts layers in a user-namespace child starts that child before or after the
   downloads, feeding it through a pipe from the sink. */
#pragma once

#include <glib.h>

#include "registry/client.h"
#include "registry/manifest.h"

G_BEGIN_DECLS

/* Bytes done of total (the descriptor's size) for one blob. Called from the thread that
   downloads it, after each chunk the sink accepted. */
typedef void (*RrunBlobProgressFunc) (const RrunDescriptor *desc, guint64 done, guint64 total,
                                      gpointer user_data);

/* GET /v2/REPOSITORY/manifests/REFERENCE (tag or digest) with an Accept header listing the
   four manifest types. The body is limited to RRUN_MANIFEST_MAX_SIZE. *out_digest is the
   sha256 of the bytes received; when reference is a digest it must equal it, else
   RRUN_ERROR_CORRUPT. what names the image in errors. out_media_type: the Content-Type. */
gboolean rrun_registry_fetch_manifest (RrunRegistryClient *client, const char *repository,
                                       const char *reference, const char *what,
                                       GBytes **out_data, char **out_media_type,
                                       char **out_digest, GError **error);

/* Stream blob desc to write, computing its sha256 and counting bytes. More bytes than
   desc->size abort at once; at the end size and digest must match desc, else
   RRUN_ERROR_CORRUPT ("... does not match its digest"): the caller discards what write
   received. progress may be NULL. A resumed transfer (after a reset) never hands the same
   byte to write twice. */
gboolean rrun_registry_fetch_blob (RrunRegistryClient *client, const char *repository,
                                   const RrunDescriptor *desc, const char *what,
                                   RrunRegistryWriteFunc write, RrunBlobProgressFunc progress,
                                   gpointer user_data, GError **error);

typedef struct
{
  const RrunDescriptor *desc;
  RrunRegistryWriteFunc write;
  gpointer user_data;          /* for write and for progress */
  GError *error;               /* set when this job failed (or was cancelled) */
} RrunBlobJob;

/* Run jobs with at most max_parallel downloads at once (1..8; pull uses 3). After the first
   failure the running ones are stopped and the queued ones skipped; returns FALSE with the
   first failed job's error (in job order). */
gboolean rrun_registry_fetch_blobs (RrunRegistryClient *client, const char *repository,
                                    const char *what, RrunBlobJob *jobs, guint n_jobs,
                                    guint max_parallel, RrunBlobProgressFunc progress,
                                    GError **error);

G_END_DECLS
