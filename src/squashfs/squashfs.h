/* Single-file images (docs/architecture.md, "Squashfs images"): an image's flattened root
   file system packed by mksquashfs, with the image config inside it (/.rrun/config.json)
   and again in a small trailer after the squashfs bytes, where `rrun run` reads it
   without mounting anything. squashfuse mounts the file inside the container's user
   namespace; nothing is ever written next to it. */
#pragma once

#include <glib.h>

#include "config.h"
#include "storage/image.h"
#include "storage/store.h"

G_BEGIN_DECLS

/* The trailer: "RRUNCFG1", the offset of the JSON text as 16 hex digits, its length as
   8 hex digits: the last 32 bytes of the file. */
#define RRUN_SQUASHFS_TRAILER_MAGIC "RRUNCFG1"
#define RRUN_SQUASHFS_TRAILER_SIZE 32
#define RRUN_SQUASHFS_CONFIG_MAX (4 * 1024 * 1024)

/* What the trailer holds: the image config blob (OCI/docker JSON, as in the store) and
   the image's /etc/passwd and /etc/group (NULL when absent), read on the host side to
   resolve the user before anything is mounted. */
typedef struct
{
  char *path;          /* absolute path of the file */
  char *config_text;   /* the image config blob */
  char *passwd;
  char *group;
  char *image_id;      /* the image it was exported from (hex), or NULL */
  char *name;          /* the name it was exported under, or NULL */
} RrunSquashfsImage;

void rrun_squashfs_image_free (RrunSquashfsImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunSquashfsImage, rrun_squashfs_image_free)

/* Whether ref names a file or directory rather than an image: it holds a '/' or ends
   in .sqsh or .squashfs, and is absolute or ./-relative, or exists. */
gboolean rrun_squashfs_is_file_ref (const char *ref);

/* Open the file, check it is a squashfs file and read its trailer. RRUN_ERROR_NOT_FOUND:
   no such file; RRUN_ERROR_INVALID_ARGUMENT: not a squashfs file, or one without rrun's
   trailer; RRUN_ERROR_CORRUPT: a damaged trailer. */
gboolean rrun_squashfs_open (const char *path, RrunSquashfsImage **out_image, GError **error);

/* The file as an RrunImage: its config parsed, one layer (mount_dir, where squashfuse
   will mount it), id "squashfs:" + the path. */
gboolean rrun_squashfs_to_image (const RrunSquashfsImage *sq, const char *mount_dir,
                                 RrunImage **out_image, GError **error);

/* A root file system directory as an image (what `rrun oci` runs from a bundle, and
   `rrun run DIR`): an empty config, the directory as its only layer (read-only under the
   container's writable layer), id "rootfs:" + the absolute path. */
gboolean rrun_squashfs_rootfs_image (const char *dir, RrunImage **out_image, GError **error);

/* A container record's image: "squashfs:PATH" opens the file (no layers), "rootfs:PATH"
   the directory, anything else is looked up in the store. */
gboolean rrun_squashfs_find_image (RrunStore *store, const char *id, RrunImage **out_image,
                                   GError **error);

/* A container made from an image file or a directory ("squashfs:" or "rootfs:" image id)
   has no stored layers for `what` (copying files of it while stopped; NULL when the
   caller says what failed, as commit does): FALSE with RRUN_ERROR_UNSUPPORTED naming
   the file and what to do; TRUE for any other id. */
gboolean rrun_squashfs_check_stored (const char *image_id, const char *what, GError **error);

/* squashfuse's absolute path (RRUN_SQUASHFUSE overrides), or an error with the package
   to install. */
gboolean rrun_squashfs_find_squashfuse (char **out_path, GError **error);

/* `rrun image export --format squashfs`: image ref of store flattened and packed into
   out_path (written to a temporary file beside it and renamed) with mksquashfs's
   compressor compression (NULL: lz4, the fastest to read: docs/performance.md). */
gboolean rrun_squashfs_export (const RrunConfig *config, RrunStore *store, const char *ref,
                               const char *out_path, const char *compression,
                               GError **error);

/* The image's layers merged into the existing empty directory dest (`rrun bundle`'s
   rootfs), owners kept through the user namespace. */
gboolean rrun_squashfs_flatten_to_dir (const RrunConfig *config, RrunStore *store,
                                       const RrunImage *image, const char *dest,
                                       GError **error);

/* `__internal flatten MERGED kernel|fuse|plain CWD|EXE DATA WORK squashfs|copy OUT PSEUDO COMP`,
   run as root of a user namespace with the storage map: mounts the layers, then runs
   mksquashfs or cp -a. */
gboolean rrun_squashfs_export_internal (int argc, char **argv, GError **error);

/* The trailer for config_text, passwd and group (either may be NULL), as the bytes to
   append to a squashfs file of size squash_size. Exposed for unit tests. */
GBytes *rrun_squashfs_trailer_build (const char *config_text, const char *passwd,
                                     const char *group, const char *image_id,
                                     const char *name, guint64 squash_size);
/* Parse a trailer (the last RRUN_SQUASHFS_TRAILER_SIZE bytes) of a file of file_size:
   the offset and length of the JSON text. */
gboolean rrun_squashfs_trailer_parse (const char *tail, guint64 file_size, guint64 *out_offset,
                                      guint32 *out_len, GError **error);

G_END_DECLS
