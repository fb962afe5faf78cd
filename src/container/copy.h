/* rrun cp: files between a container and the host, with docker's archive semantics
   (container/copy.c; rrun-image only, it links libarchive). */
#pragma once

#include <glib.h>

#include "config.h"
#include "container/record.h"

G_BEGIN_DECLS

typedef enum
{
  RRUN_COPY_ARCHIVE = 1 << 0, /* -a: keep the archive's owners (copy in) */
  RRUN_COPY_FOLLOW = 1 << 1,  /* -L: a symbolic link in SRC is followed */
} RrunCopyFlags;

/* Copy path from the container to host_dest ("-": a tar stream on stdout). */
gboolean rrun_container_copy_out (const RrunConfig *config, const RrunState *state,
                                  const char *path, const char *host_dest,
                                  RrunCopyFlags flags, GError **error);

/* Copy host_src ("-": a tar stream on stdin) into the container at path. */
gboolean rrun_container_copy_in (const RrunConfig *config, const RrunState *state,
                                 const char *host_src, const char *path, RrunCopyFlags flags,
                                 GError **error);

/* The two halves that run with the container's root as root_fd (after joining its mount
   namespace, or on its layers mounted for the copy): write path as a tar stream to
   out_fd (entries named after its last component, or "." for "DIR/."), or extract the
   tar stream on in_fd at dest with docker's rules. follow: a symbolic link at path is
   followed (its target written under path's name). Files linked more than once in the
   tree are written once and then as hard links. owners_root: every file owned by root
   (copy in without -a); keep_owners FALSE: the caller's own (copy out to the host). */
gboolean rrun_copy_write_tar (int root_fd, const char *path, gboolean follow, int out_fd,
                              GError **error);
gboolean rrun_copy_extract_tar (int root_fd, const char *dest, int in_fd, gboolean keep_owners,
                                gboolean owners_root, GError **error);

/* `__internal copy`: a stopped container's side (container/copy.c). */
gboolean rrun_copy_internal (int argc, char **argv, GError **error);

G_END_DECLS
