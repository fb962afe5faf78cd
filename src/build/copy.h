/* COPY and ADD of `rrun build`: the files a step copies, planned first (so their digest
   can be looked up in the build cache without writing anything), then written as a
   layer tar. Sources come from the context (after .dockerignore; Go filepath.Match
   wildcards) or from the layers of another stage or image (--from: the topmost layer
   holding the path), or are heredocs. Owners are --chown's (names looked up in the
   image's /etc/passwd and /etc/group) or 0:0; --chmod sets the mode. ADD also extracts
   local tar archives (their owners and modes kept) and downloads http(s) URLs (mode
   0600, checked against --checksum, not extracted). Parent
   directories the image has keep their mode and owner; missing ones are made 0755 root. */
#pragma once

#include <glib.h>

#include "build/dockerignore.h"
#include "userns/idmap.h"

G_BEGIN_DECLS

typedef struct
{
  const char *context;      /* the context directory, or NULL with layer_dirs */
  const RrunIgnore *ignore; /* may be NULL */
  GPtrArray *layer_dirs;    /* --from: the image's extracted layers, bottom first */
  GPtrArray *heredocs;      /* RrunHeredoc*: "COPY <<EOF /dest" */
} RrunCopySource;

typedef struct
{
  const char *chown;        /* "user[:group]" or NULL */
  const char *chmod;        /* octal, or NULL */
  const char *workdir;      /* relative destinations start here ("/" when NULL) */
  GPtrArray *lower_dirs;    /* the image's layers, for parents and --chown names; may be NULL */
  const RrunIdMap *map;     /* how the lower layers store owners */
  gboolean is_add;
  const char *temp_dir;     /* where heredocs, downloads and ADD's archive members go */
  const char *checksum;     /* ADD --checksum=sha256:HEX of a URL, or NULL */
  struct RrunStatCache *stat_cache; /* content digests of unchanged files; may be NULL */
} RrunCopyOptions;

typedef struct RrunCopyPlan RrunCopyPlan;

/* Plan args ("SRC... DEST" or the JSON form, variables already substituted). A source
   that is missing or excluded is RRUN_ERROR_NOT_FOUND naming it. */
gboolean rrun_copy_plan (const RrunCopySource *src, const char *args, const RrunCopyOptions *o,
                         RrunCopyPlan **out_plan, GError **error);

/* sha256 hex of every entry's path, type, mode, owner, link target and content. */
const char *rrun_copy_plan_digest (RrunCopyPlan *plan);

/* Write the plan as a tar file at path. */
gboolean rrun_copy_plan_write_tar (RrunCopyPlan *plan, const char *path, GError **error);

/* Write the plan's files under dir (an existing directory), as the user: modes kept
   (directories stay writable by the user), owners not. For RUN --mount=type=bind. */
gboolean rrun_copy_plan_extract (RrunCopyPlan *plan, const char *dir, GError **error);

void rrun_copy_plan_free (RrunCopyPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunCopyPlan, rrun_copy_plan_free)

G_END_DECLS
