/* What the files of the image store (src/storage/) share; not for use outside it. */
#pragma once

#include <glib.h>

#include "registry/registries-conf.h"
#include "storage/store.h"
#include "util/json-value.h"

G_BEGIN_DECLS

struct RrunStore
{
  char *root;
  int lock_fd;
  GStrv ro_roots;           /* additional, read-only image stores */
  /* registries.conf merged with rrun.conf: the aliases and search list that expand short
     names, for the lookup as for pull (rrun_registries_conf_expand) */
  RrunRegistriesConf *registries;
  /* flock(2) on one fd does not exclude the threads of this process from each other
     (pull extracts several layers at once): they take this first. Recursive, as the
     flock was. */
  GRecMutex thread_lock;
};

/* What images/ID/image.json holds. */
typedef struct
{
  char *id;
  GStrv names;
  char *digest;
  GStrv layers; /* chain ids, bottom first */
  gint64 created;
  gboolean pending_removal; /* rmi -f while in use: delete once no container uses it */
  GPtrArray *layer_blobs;   /* RrunBlobInfo* or NULL per layer; NULL: none recorded */
  RrunBlobInfo *manifest;   /* the kept image manifest, or NULL */
  const char *root;         /* the store it was found in (not owned) */
  gboolean read_only;
  gboolean deleted;         /* deleted in this pass: keeps no blob alive */
  /* Why image.json cannot be read (NULL: it can). A damaged image has its id and no names
     or layers: listed as damaged, removable by id, never run (scan_metas). */
  char *damaged;
} ImageMeta;

void image_meta_free (ImageMeta *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImageMeta, image_meta_free)

struct RrunStoreTemp
{
  RrunStore *store;
  const RrunIdMap *map;
  char *dir;
  int lock_fd;
};
typedef struct RrunStoreTemp Staging;

/* ---- store.c: the store lock ------------------------------------------------------- */

gboolean store_lock (RrunStore *store, gboolean exclusive, GError **error);
void store_unlock (RrunStore *store);

/* ---- image-meta.c: image.json, config.json, layer.json ------------------------------ */

gboolean is_hex64 (const char *s);
char *sha256_hex (const void *data, gsize len);
gboolean read_meta (const char *root, const char *id, ImageMeta **out, GError **error);
/* Write image.json into dir (images/ID or a staging copy). */
gboolean write_meta (const char *dir, const ImageMeta *m, GError **error);
gboolean read_layer_info (const char *root, const char *chain, guint64 *out_size,
                          guint64 *out_unmapped, GError **error);
gboolean write_layer_json (const char *dir, const char *chain, const char *diff_id,
                           const char *parent, guint64 size, guint64 unmapped,
                           GError **error);
gboolean read_image_config (const ImageMeta *m, char **out_path, char **out_text,
                            gsize *out_len, RrunJson **out_root, GError **error);
gboolean load_image (const ImageMeta *m, RrunImage **out_image, GError **error);
/* All image metas of one store root. */
GPtrArray *scan_metas (const char *root, gboolean read_only);

/* ---- staging.c: tmp/ ---------------------------------------------------------------- */

gboolean remove_trees (const RrunIdMap *map, const char *const *paths, GError **error);
gboolean owner_is_gone (const char *dir);
gboolean staging_new (RrunStore *store, const RrunIdMap *map, Staging **out, GError **error);
void staging_free (Staging *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Staging, staging_free)

/* ---- images.c ----------------------------------------------------------------------- */

GPtrArray *all_metas (RrunStore *store, gboolean include_read_only);
gboolean find_meta (RrunStore *store, GPtrArray *metas, const char *ref, ImageMeta **out_meta,
                    char **out_name, GError **error);
gboolean delete_image_locked (RrunStore *store, GPtrArray *metas, ImageMeta *m,
                              const char *into, GError **error);

/* ---- layers.c ----------------------------------------------------------------------- */

/* Move images/ID (or layers/CHAIN) into dir, under the exclusive lock. */
gboolean move_into (RrunStore *store, const char *kind, const char *id, const char *dir,
                    GError **error);
gboolean layer_in_use (GPtrArray *metas, const char *chain, const char *except_id);

/* ---- blobs.c ------------------------------------------------------------------------ */

void blob_info_free0 (gpointer p);
gboolean place_blob (RrunStore *store, const RrunStoreBlob *b, gboolean *out_created,
                     GError **error);
gboolean spec_blob_wanted (const RrunStoreBlob *b);
void unlink_blob_unless_used (RrunStore *store, GPtrArray *metas, const char *digest,
                              const char *except_id);

/* ---- containers.c ------------------------------------------------------------------- */

/* scan_containers: containers of this store using image_id (NULL: all); live ones (and
   with with_kept, stopped ones that are kept) go to out_live, debris is moved into `into`
   when set. Exclusive lock held. */
void store_scan_containers (RrunStore *store, const char *image_id, GPtrArray *out_live,
                            const char *into, gboolean with_kept);

G_END_DECLS
