/* What inspect and history show of an image, read from its stored config blob. */
#pragma once

#include <glib.h>

#include "storage/image.h"
#include "util/json-value.h"

G_BEGIN_DECLS

/* The inspect object, shaped like podman's: Id, Digest, RepoTags, RepoDigests, Created,
   Config, Version, Author, Comment, Architecture, Os, Variant, Size, VirtualSize, Labels,
   User, RootFS {Type, Layers (diff ids)}, History. A config that does not check out is
   RRUN_ERROR_CORRUPT naming the field. */
RrunJson *rrun_image_info_inspect (const RrunImage *image, GError **error);

typedef struct
{
  char *created_by;
  char *comment;
  gint64 created; /* unix seconds, 0 when unknown */
  guint64 size;   /* bytes of the layer this step made; 0 for an empty layer */
  gboolean empty_layer;
} RrunHistoryEntry;

void rrun_history_entry_clear (RrunHistoryEntry *e);

/* The image's history, newest first (docker history): one entry per history item of the
   config, a layer's size given to each item that is not an empty_layer, in order. An
   image whose config has no history gets one entry per layer. */
gboolean rrun_image_info_history (const RrunImage *image, GArray **out_entries, GError **error);

G_END_DECLS
