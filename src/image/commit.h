/* A new image from a base image and a container's writable layer: `rrun commit` and each
   step of `rrun build`. The upper directory becomes one layer (layer-diff.c: overlay
   whiteouts as OCI whiteouts, owners as the container sees them), kept as an
   uncompressed tar blob (its digest is its diff ID, so push sends it as it is) and
   extracted into the store like a pulled layer; the config gets the diff ID, a history
   entry and the caller's changes. */
#pragma once

#include <glib.h>

#include "storage/store.h"
#include "userns/idmap.h"
#include "util/json-value.h"

G_BEGIN_DECLS

#define RRUN_MEDIA_OCI_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"

typedef struct
{
  const char *created_by; /* the history entry's created_by (the instruction, the command);
                             NULL with no layer: no history entry */
  const char *layer_tar;  /* with upper NULL: this tar file is the new layer */
  const char *comment;    /* -m, or NULL */
  const char *author;     /* --author, or NULL */
  const char *name;       /* a normalised name, or NULL (untagged) */
  gint64 created;         /* unix seconds; 0: now */
} RrunCommitOptions;

/* The base's config as JSON to edit (a copy), with its layers' chain IDs. base_id NULL:
   an empty image (FROM scratch): os linux, this machine's architecture, no layers. */
gboolean rrun_image_commit_base (RrunStore *store, const char *base_id, RrunJson **out_config,
                                 GStrv *out_chain_ids, GError **error);

/* Record an image: config (edited by the caller, whose rootfs.diff_ids and history this
   adds to) over base_chain_ids plus, when upper is set, its diff as a new layer; without
   upper the history entry is an empty layer. *out_id: the image id (config digest hex);
   *out_chain_ids (may be NULL): the chain IDs of the new image. */
gboolean rrun_image_commit (RrunStore *store, const RrunIdMap *map, const char *base_id,
                            RrunJson *config, const char *const *base_chain_ids,
                            const char *upper, const RrunCommitOptions *options, char **out_id,
                            GStrv *out_chain_ids, GError **error);

/* An RFC 3339 time in UTC with nanoseconds, as docker writes "created". */
char *rrun_image_commit_time (gint64 unix_seconds);

G_END_DECLS
