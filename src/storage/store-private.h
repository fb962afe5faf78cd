/* What the files of the image store (src/storage/) share; not for use outside it. */
#pragma once

#include <glib.h>

#include "storage/store.h"
#include "util/json-value.h"

G_BEGIN_DECLS

struct RrunStore
{
  char *root;
  int lock_fd;
  GStrv ro_roots;           /* additional, read-only image stores */
  GStrv search_registries;  /* for short names */
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

/* ---- the store lock ----------------------------------------------------------------- */

gboolean store_lock (RrunStore *store, gboolean exclusive, GError **error);
void store_unlock (RrunStore *store);

/* ---- images/ID/image.json ----------------------------------------------------------- */

gboolean is_hex64 (const char *s);
gboolean read_meta (const char *root, const char *id, ImageMeta **out, GError **error);
GPtrArray *scan_metas (const char *root, gboolean read_only);

/* ---- staging in tmp/ ---------------------------------------------------------------- */

gboolean remove_trees (const RrunIdMap *map, const char *const *paths, GError **error);
gboolean owner_is_gone (const char *dir);
gboolean staging_new (RrunStore *store, const RrunIdMap *map, Staging **out, GError **error);
void staging_free (Staging *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Staging, staging_free)

/* ---- image removal ------------------------------------------------------------------ */

gboolean delete_image_locked (RrunStore *store, GPtrArray *metas, ImageMeta *m,
                              const char *into, GError **error);

/* ---- containers ---------------------------------------------------------------------- */

void store_scan_containers (RrunStore *store, const char *image_id, GPtrArray *out_live,
                            const char *into);

G_END_DECLS
