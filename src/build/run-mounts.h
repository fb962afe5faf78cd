/* RUN --mount of `rrun build` (the dockerfile:1 syntax), turned into the mounts of the
   step's container (docs/architecture.md, "Build"):

   - type=bind (the default): source (default ".") from the build context (after
     .dockerignore) or from=STAGE|IMAGE, copied to a temporary directory first (so the
     build context is never written and rw writes are thrown away, as docker does), read
     only unless rw. Its files are part of the step's cache key.
   - type=cache: a directory kept between builds under STORAGE/build-cache-mounts, named by
     id (default: the target); sharing=shared (default), locked (one RUN at a time) or
     private (a fresh directory while another RUN holds it). Not in the cache key.
   - type=tmpfs: a tmpfs (size=).
   - type=secret: a --secret of `rrun build` (id, default the target's name), at target
     (default /run/secrets/ID) with mode (default 0400), read only; never in a layer,
     the cache key or the history. required=true fails the step when it was not given.

   Mount points the step's container had to create are removed from its layer afterwards.
   uid=/gid= other than 0 and type=ssh are refused with a message. */
#pragma once

#include <glib.h>

#include "build/dockerignore.h"

G_BEGIN_DECLS

typedef struct RrunRunMount RrunRunMount;

/* A --secret of `rrun build`: id=ID with src=PATH (a file) or env=VAR. */
typedef struct
{
  char *id;
  char *path;  /* a file, or NULL */
  char *value; /* from the environment, or NULL */
} RrunBuildSecret;

void rrun_build_secret_free (RrunBuildSecret *secret);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunBuildSecret, rrun_build_secret_free)

/* Parse "--secret" (docker's forms: id=ID,src=PATH | id=ID,env=VAR | id=ID,type=file|env,
   source=...; a bare id=ID reads the environment variable ID). The file must exist. */
gboolean rrun_build_secret_parse (const char *arg, RrunBuildSecret **out_secret, GError **error);

/* Parse one --mount= value (without "--mount="). */
gboolean rrun_run_mount_parse (const char *value, RrunRunMount **out_mount, GError **error);
void rrun_run_mount_free (RrunRunMount *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunRunMount, rrun_run_mount_free)

/* For from=: the layer directories (bottom first) of a stage or image, owned by the
   callee's build; NULL with *error set when there is none. */
typedef GPtrArray *(*RrunRunMountLayersFunc) (const char *from, gpointer user_data,
                                              GError **error);

typedef struct
{
  const char *context;
  const RrunIgnore *ignore;
  const char *cache_root;   /* STORAGE/build-cache-mounts */
  GHashTable *secrets;      /* id -> RrunBuildSecret* */
  RrunRunMountLayersFunc layers;
  gpointer layers_data;
  struct RrunStatCache *stat_cache; /* may be NULL */
} RrunRunMountContext;

/* The digest of what the bind mounts bring in (their files), for the cache key; "" with
   no bind mount. */
gboolean rrun_run_mounts_digest (GPtrArray *mounts, const RrunRunMountContext *ctx,
                                 char **out_digest, GError **error);

/* Make the mounts: bind sources and secrets copied under temp_dir, cache directories
   made and locked per sharing=. Adds "--mount" values to out_mounts and "--tmpfs" values
   to out_tmpfs (char*, owned by the arrays). Locks are held until rrun_run_mount_free. */
gboolean rrun_run_mounts_setup (GPtrArray *mounts, const RrunRunMountContext *ctx,
                                const char *temp_dir, GPtrArray *out_mounts,
                                GPtrArray *out_tmpfs, GError **error);

/* Remove from the step's upper directory the mount points its container created: an
   empty file or directory at a target (and its parents) that no lower layer has. */
void rrun_run_mounts_clean_upper (GPtrArray *mounts, const char *upper, GPtrArray *lower_dirs);

G_END_DECLS
