/* `rrun build` as a library call: a Dockerfile's stages run in order, each step on the
   image of the step before (docs/architecture.md, "Build"):

   - FROM: an image of the store (pulled when missing, per --pull), an earlier stage, or
     scratch. Stages the target does not need are skipped.
   - RUN: a container made, started and waited for with the container verbs
     (container.h) from the step's image, with the stage's ARGs in its environment; its
     writable layer becomes the step's layer (commit.h).
   - COPY/ADD: a layer written directly from the context (after .dockerignore) or from
     another stage or image, with --chown and --chmod; no container.
   - Every other instruction changes the config only (config-edit.h).

   Each step is an image in the store (untagged), found again through the build cache:
   STORAGE/build-cache/KEY names the image a step made, where KEY is the sha256 of the
   previous step's key, the instruction as written, the build args it uses and, for
   COPY/ADD, a digest of the copied files (paths, content, mode, owner; not mtimes). */
#pragma once

#include <glib.h>

#include "config.h"
#include "storage/store.h"
#include "userns/idmap.h"

G_BEGIN_DECLS

typedef struct
{
  const char *context;        /* directory */
  const char *dockerfile;     /* path; NULL: CONTEXT/Dockerfile, else CONTEXT/Containerfile */
  const char *dockerfile_text;/* the file's text when read from standard input (-f -) */
  const char *const *tags;    /* normalised names, may be NULL */
  const char *target;         /* --target, or NULL: the last stage */
  const char *const *build_args; /* "K=V" or "K" (the value from the environment) */
  const char *const *labels;  /* "K=V" */
  gboolean no_cache;
  gboolean quiet;             /* no step lines; RUN output goes to stderr */
  const char *network;        /* for RUN: NULL (the config's default), none, host, slirp */
  const char *pull;           /* missing (NULL), always, never */
  gboolean tls_verify;
  const char *const *secrets; /* --secret id=ID,src=FILE|env=VAR (run-mounts.h) */
} RrunBuildOptions;

/* Build. *out_id: the image ID. A RUN that fails is RRUN_ERROR_FAILED naming the step and
   line, with *out_status its exit status (else 125); nothing is tagged then. */
gboolean rrun_build_image (const RrunConfig *config, RrunStore *store, const RrunIdMap *map,
                           const RrunBuildOptions *options, char **out_id, int *out_status,
                           GError **error);

/* `rrun builder prune`: remove every build cache entry, and the step images they name
   that have no name and no container (an image in use or tagged stays). *out_removed:
   how many images went. */
gboolean rrun_build_prune_cache (RrunStore *store, const RrunIdMap *map, guint *out_entries,
                                 guint *out_removed, GError **error);

G_END_DECLS
