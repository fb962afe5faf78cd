/* `rrun pull` as a library call: resolve a reference on its registry, fetch and verify
   the config, then download the missing layers (a few at a time) and extract each while
   it streams into the store, and record the image under its registry-qualified name.
   Used by the pull command and by run's implicit pull. */
#pragma once

#include <glib.h>

#include "config.h"
#include "userns/idmap.h"
#include "storage/store.h"

G_BEGIN_DECLS

typedef enum
{
  RRUN_PULL_LAYER_EXISTS,      /* already in the store: not fetched */
  RRUN_PULL_LAYER_WAITING,     /* queued behind the running downloads */
  RRUN_PULL_LAYER_DOWNLOADING, /* done/total bytes of the compressed blob */
  RRUN_PULL_LAYER_DONE,        /* verified and extracted */
  RRUN_PULL_LAYER_FAILED,
} RrunPullLayerState;

/* Called for layer index (bottom first) of n_layers, from the thread that handles the
   layer: a caller that draws must serialise. digest is the blob digest. */
typedef void (*RrunPullProgressFunc) (guint index, guint n_layers, const char *digest,
                                      RrunPullLayerState state, guint64 done, guint64 total,
                                      gpointer user_data);

typedef struct
{
  gboolean tls_verify;           /* FALSE: --tls-verify=false */
  const char *platform;          /* "os/arch[/variant]" or NULL for this machine */
  guint max_parallel;            /* downloads at once; 0: 3 */
  RrunPullProgressFunc progress; /* may be NULL */
  gpointer progress_data;
} RrunPullImageOptions;

/* Pull ref (any reference form; short names go through the registries.conf search list)
   into store, extracting layers with map. *out_id: the image id (config digest hex);
   *out_name (may be NULL): the name it was stored under ("docker.io/library/alpine:latest",
   or "REPO@DIGEST" for a pull by digest). On failure the layers this call added are removed
   again: nothing new is kept. */
gboolean rrun_pull_image (const RrunConfig *config, RrunStore *store, const RrunIdMap *map,
                          const char *ref, const RrunPullImageOptions *options, char **out_id,
                          char **out_name, GError **error);

G_END_DECLS
