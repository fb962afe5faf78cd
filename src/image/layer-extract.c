/* Helper side of layer extraction (`rrun __internal extract-layer`, run as root of the
   user namespace): libarchive reads the stream, OCI whiteouts become overlay whiteouts,
   and every path is confined to the layer directory. */
#include "image/layer.h"
#include "error.h"
#include "log.h"
#include "util/fd.h"
#include "util/sha256.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

typedef struct archive ArchiveRead;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ArchiveRead, archive_read_free)

/* xattrs kernel overlay (with userxattr) and fuse-overlayfs read to mark a directory
   opaque; fuse-overlayfs before 1.10 knew only its own name. */
#define OVL_OPAQUE_XATTR "user.overlay.opaque"
#define FUSE_OVL_OPAQUE_XATTR "user.fuseoverlayfs.opaque"

void
rrun_layer_stats_clear (RrunLayerStats *stats)
{
  g_clear_pointer (&stats->diff_id, g_free);
  g_clear_pointer (&stats->first_device, g_free);
  memset (stats, 0, sizeof *stats);
}

gboolean
rrun_layer_is_whiteout (const char *base, gboolean *out_opaque, const char **out_target)
{
  if (!g_str_has_prefix (base, ".wh."))
    return FALSE;
  *out_opaque = strcmp (base, ".wh..wh..opq") == 0;
  *out_target = *out_opaque ? NULL : base + 4;
  return TRUE;
}

char *
rrun_layer_clean_path (const char *path, GError **error)
{
  g_auto(GStrv) parts = NULL;
  g_autoptr(GPtrArray) kept = g_ptr_array_new ();

  if (path[0] == '/')
    {
      rrun_throw (error, RRUN_ERROR_CORRUPT, "refusing absolute path \"%s\" in layer", path);
      return NULL;
    }
  parts = g_strsplit (path, "/", -1);
  for (guint i = 0; parts[i]; i++)
    {
      if (parts[i][0] == '\0' || strcmp (parts[i], ".") == 0)
        continue;
      if (strcmp (parts[i], "..") == 0)
        {
          rrun_throw (error, RRUN_ERROR_CORRUPT, "refusing path \"%s\" in layer: it holds \"..\"",
                      path);
          return NULL;
        }
      g_ptr_array_add (kept, parts[i]);
    }
  g_ptr_array_add (kept, NULL);
  return g_strjoinv ("/", (char **) kept->pdata);
}

/* ---- helper side -------------------------------------------------------------------- */

/* The compressed stream is read by one archive object in "raw" format (any filter);
   its decompressed blocks are hashed (the diff_id) and fed to a second object reading
   tar, so the layer is read once. */
typedef struct
{
  struct archive *raw;
  RrunSha256 *sum;
  gboolean eof;
} Feed;

static la_ssize_t
feed_read (struct archive *a, void *data, const void **buf)
{
  Feed *f = data;
  const void *block;
  size_t size;
  la_int64_t offset;
  int r;

  if (f->eof)
    return 0;
  r = archive_read_data_block (f->raw, &block, &size, &offset);
  if (r == ARCHIVE_EOF)
    {
      f->eof = TRUE;
      return 0;
    }
  if (r < ARCHIVE_WARN)
    {
      archive_set_error (a, archive_errno (f->raw) ? archive_errno (f->raw) : EIO, "%s",
                         archive_error_string (f->raw));
      return -1;
    }
  rrun_sha256_update (f->sum, block, size);
  *buf = block;
  return (la_ssize_t) size;
}

/* Open dir (relative, clean) below rootfd one component at a time with O_NOFOLLOW, so
   no symlink in the layer can redirect us; create missing components when create. */
static int
open_dir_beneath (int rootfd, const char *dir, gboolean create, GError **error)
{
  g_auto(GStrv) parts = g_strsplit (dir, "/", -1);
  rrun_autofd int cur = fcntl (rootfd, F_DUPFD_CLOEXEC, 0);

  if (cur < 0)
    return rrun_throw_errno (error, errno, "dup"), -1;
  for (guint i = 0; parts[i]; i++)
    {
      int next;

      if (parts[i][0] == '\0')
        continue;
      if (create && mkdirat (cur, parts[i], 0755) < 0 && errno != EEXIST)
        return rrun_throw_errno (error, errno, "cannot create directory \"%s\"", dir), -1;
      next = openat (cur, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0)
        {
          int errsv = errno;
          if (errsv == ELOOP || errsv == ENOTDIR)
            return rrun_throw (error, RRUN_ERROR_CORRUPT,
                               "refusing layer: \"%s\" goes through a symlink or a file", dir),
                   -1;
          return rrun_throw_errno (error, errsv, "cannot open directory \"%s\"", dir), -1;
        }
      close (cur);
      cur = next;
    }
  return rrun_steal_fd (&cur);
}

static gboolean
apply_whiteout (int rootfd, const char *path, gboolean opaque, const char *target,
                GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  rrun_autofd int dfd = -1;

  if (strcmp (dir, ".") == 0)
    g_free (dir), dir = g_strdup ("");
  dfd = open_dir_beneath (rootfd, dir, TRUE, error);
  if (dfd < 0)
    return FALSE;
  if (opaque)
    {
      if (fsetxattr (dfd, OVL_OPAQUE_XATTR, "y", 1, 0) < 0
          || fsetxattr (dfd, FUSE_OVL_OPAQUE_XATTR, "y", 1, 0) < 0)
        {
          int errsv = errno;
          rrun_throw_errno (error, errsv, "cannot mark \"%s\" opaque", *dir ? dir : "/");
          if (errsv == ENOTSUP)
            rrun_add_hint (error, "the storage file system has no user extended attributes; "
                                  "set --root to a local ext4, xfs or btrfs directory");
          return FALSE;
        }
      return TRUE;
    }
  if (*target == '\0' || strcmp (target, ".") == 0 || strcmp (target, "..") == 0)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "refusing layer: bad whiteout \"%s\"", path);
  /* A character device 0/0 is an overlay whiteout; creating one needs no privilege since
     Linux 5.8. A name this layer has already written is not hidden (OCI: whiteouts apply
     to lower layers only). */
  if (mknodat (dfd, target, S_IFCHR | 0, makedev (0, 0)) < 0 && errno != EEXIST)
    {
      int errsv = errno;
      rrun_throw_errno (error, errsv, "cannot create whiteout for \"%s\"", path);
      if (errsv == EPERM)
        rrun_add_hint (error, "whiteouts need Linux 5.8 or later");
      return FALSE;
    }
  return TRUE;
}

/* Keep user.* xattrs (what an unprivileged user may set), except the overlay drivers'
   own: a layer must not smuggle in opaque markers or redirects outside the whiteout
   format. */
static void
filter_xattrs (struct archive_entry *entry)
{
  g_autoptr(GPtrArray) names = NULL;
  g_autoptr(GPtrArray) values = NULL;
  g_autoptr(GArray) sizes = NULL;
  const char *name;
  const void *value;
  size_t size;

  if (archive_entry_xattr_reset (entry) == 0)
    return;
  names = g_ptr_array_new_with_free_func (g_free);
  values = g_ptr_array_new_with_free_func (g_free);
  sizes = g_array_new (FALSE, FALSE, sizeof (size_t));
  while (archive_entry_xattr_next (entry, &name, &value, &size) == ARCHIVE_OK)
    {
      if (!g_str_has_prefix (name, "user.") || g_str_has_prefix (name, "user.overlay.")
          || g_str_has_prefix (name, "user.fuseoverlayfs."))
        continue;
      g_ptr_array_add (names, g_strdup (name));
      g_ptr_array_add (values, g_memdup2 (value, size));
      g_array_append_val (sizes, size);
    }
  archive_entry_xattr_clear (entry);
  for (guint i = 0; i < names->len; i++)
    archive_entry_xattr_add_entry (entry, names->pdata[i], values->pdata[i],
                                   g_array_index (sizes, size_t, i));
}

static gboolean
copy_data (struct archive *in, struct archive *out, const char *path, GError **error)
{
  for (;;)
    {
      const void *buf;
      size_t size;
      la_int64_t offset;
      int r = archive_read_data_block (in, &buf, &size, &offset);

      if (r == ARCHIVE_EOF)
        return TRUE;
      if (r < ARCHIVE_WARN)
        return rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot read \"%s\" from layer: %s",
                           path, archive_error_string (in));
      if (archive_write_data_block (out, buf, size, offset) < ARCHIVE_WARN)
        return rrun_throw (error, RRUN_ERROR_FAILED, "cannot write \"%s\": %s", path,
                           archive_error_string (out));
    }
}

static void
count_owner (int rootfd, const char *path, struct archive_entry *entry, RrunLayerStats *stats)
{
  struct stat st;
  la_int64_t uid = archive_entry_uid (entry), gid = archive_entry_gid (entry);

  /* Root of the user namespace can always give a file to 0:0, most entries' owner: no
     stat for them (one system call of about fifteen per file). */
  if (uid == 0 && gid == 0)
    return;
  if (fstatat (rootfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return;
  if ((la_int64_t) st.st_uid != uid || (la_int64_t) st.st_gid != gid)
    {
      la_int64_t big = MAX ((la_int64_t) st.st_uid != uid ? uid : 0,
                            (la_int64_t) st.st_gid != gid ? gid : 0);
      stats->chown_failures++;
      if (big > (la_int64_t) stats->max_unmapped_id && big <= G_MAXUINT32)
        stats->max_unmapped_id = (guint32) big;
    }
}

gboolean
rrun_layer_extract_stream (int tar_fd, const char *dest_dir, RrunLayerStats *stats,
                           GError **error)
{
  g_autoptr(ArchiveRead) raw = archive_read_new ();
  g_autoptr(ArchiveRead) tar = archive_read_new ();
  struct archive *disk = archive_write_disk_new ();
  g_autoptr(RrunSha256) sum = rrun_sha256_new ();
  rrun_autofd int rootfd = open (dest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  rrun_autofd int oldcwd = open (".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct archive_entry *entry;
  Feed feed = { 0 };
  gboolean ok = FALSE;
  int r;

  memset (stats, 0, sizeof *stats);
  if (rootfd < 0)
    return archive_write_free (disk), rrun_throw_errno (error, errno, "cannot open \"%s\"",
                                                        dest_dir);
  archive_read_support_filter_all (raw);
  archive_read_support_format_raw (raw);
  if (archive_read_open_fd (raw, tar_fd, 128 * 1024) != ARCHIVE_OK
      || archive_read_next_header (raw, &entry) != ARCHIVE_OK)
    {
      rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot read layer: %s",
                  archive_error_string (raw) ? archive_error_string (raw) : "empty input");
      goto out;
    }
  feed.raw = raw;
  feed.sum = sum;
  archive_read_support_format_tar (tar);
  if (archive_read_open (tar, &feed, NULL, feed_read, NULL) != ARCHIVE_OK)
    {
      rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot read layer: %s",
                  archive_error_string (tar));
      goto out;
    }
  /* libarchive's own guards too: no "..", no absolute names, no writing through
     symlinks (also for hard link targets). Numeric owners from the tar, never names. */
  archive_write_disk_set_options (disk, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM
                                          | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR
                                          | ARCHIVE_EXTRACT_SECURE_SYMLINKS
                                          | ARCHIVE_EXTRACT_SECURE_NODOTDOT
                                          | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
  if (fchdir (rootfd) < 0)
    {
      rrun_throw_errno (error, errno, "cannot enter \"%s\"", dest_dir);
      goto out;
    }
  umask (022);
  for (;;)
    {
      g_autofree char *path = NULL;
      g_autofree char *base = NULL;
      const char *orig, *link, *target;
      gboolean opaque;
      mode_t type;

      r = archive_read_next_header (tar, &entry);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        {
          rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot read layer: %s",
                      archive_error_string (tar));
          goto out;
        }
      orig = archive_entry_pathname (entry);
      if (orig == NULL)
        {
          rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot read layer: an entry has no name");
          goto out;
        }
      if ((path = rrun_layer_clean_path (orig, error)) == NULL)
        goto out;
      if (*path == '\0')
        continue; /* the layer root itself: its directory already exists */
      archive_entry_set_pathname (entry, path);
      base = g_path_get_basename (path);
      if (rrun_layer_is_whiteout (base, &opaque, &target))
        {
          if (!apply_whiteout (rootfd, path, opaque, target, error))
            goto out;
          continue;
        }
      type = archive_entry_filetype (entry);
      link = archive_entry_hardlink (entry);
      if (type == AE_IFCHR || type == AE_IFBLK)
        {
          if (stats->devices_skipped++ == 0)
            stats->first_device = g_strdup (path);
          continue;
        }
      if (type == AE_IFSOCK)
        continue;
      if (link != NULL)
        {
          g_autofree char *clean = rrun_layer_clean_path (link, error);

          if (clean == NULL || *clean == '\0')
            {
              if (clean != NULL)
                rrun_throw (error, RRUN_ERROR_CORRUPT,
                            "refusing hard link \"%s\" to the layer root", path);
              g_prefix_error (error, "hard link \"%s\": ", path);
              goto out;
            }
          archive_entry_set_hardlink (entry, clean);
        }
      filter_xattrs (entry);
      r = archive_write_header (disk, entry);
      if (r < ARCHIVE_WARN)
        {
          rrun_throw (error, RRUN_ERROR_CORRUPT, "refusing layer entry \"%s\": %s", path,
                      archive_error_string (disk));
          goto out;
        }
      if (archive_entry_size (entry) > 0 && !copy_data (tar, disk, path, error))
        goto out;
      if (archive_write_finish_entry (disk) < ARCHIVE_WARN)
        {
          rrun_throw (error, RRUN_ERROR_FAILED, "cannot write \"%s\": %s", path,
                      archive_error_string (disk));
          goto out;
        }
      stats->entries++;
      if (type == AE_IFREG && link == NULL)
        stats->size += (guint64) MAX (archive_entry_size (entry), 0);
      if (link == NULL)
        count_owner (rootfd, path, entry, stats);
    }
  /* Directory modes and times are set last, when nothing more is written into them. */
  if (archive_write_close (disk) < ARCHIVE_WARN)
    {
      rrun_throw (error, RRUN_ERROR_FAILED, "cannot finish layer: %s",
                  archive_error_string (disk));
      goto out;
    }
  /* Hash what follows the end-of-archive blocks too: the diff_id covers the stream. */
  {
    const void *dummy;
    while (feed_read (tar, &feed, &dummy) > 0)
      ;
    if (!feed.eof)
      {
        rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot read layer: %s",
                    archive_error_string (raw));
        goto out;
      }
  }
  stats->diff_id = g_strconcat ("sha256:", rrun_sha256_hex (sum), NULL);
  ok = TRUE;
out:
  archive_write_free (disk);
  if (oldcwd >= 0)
    (void) !fchdir (oldcwd);
  return ok;
}
