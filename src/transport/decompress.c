/* A layer blob's uncompressed stream: its digest is the layer's diff ID. */
#include "error.h"
#include "transport/archive.h"
#include "util/fd.h"
#include "util/sha256.h"

#include <archive.h>
#include <archive_entry.h>

static gboolean
write_to_fd (const guint8 *data, gsize len, gpointer user_data, GError **error)
{
  int fd = GPOINTER_TO_INT (user_data);

  return fd < 0 || rrun_fd_write_all (fd, data, len, error);
}

gboolean
rrun_archive_uncompressed_digest (int in_fd, int out_fd, char **out_digest, gint64 *out_size,
                                  GError **error)
{
  return rrun_archive_uncompressed_stream (in_fd, write_to_fd, GINT_TO_POINTER (out_fd), out_digest,
                                           out_size, error);
}

gboolean
rrun_archive_uncompressed_stream (int in_fd, RrunArchiveWriteFunc write, gpointer user_data,
                                  char **out_digest, gint64 *out_size, GError **error)
{
  struct archive *a = archive_read_new ();
  struct archive_entry *entry;
  g_autoptr (RrunSha256) sum = rrun_sha256_new ();
  g_autofree guint8 *buf = g_malloc (1 << 16);
  gint64 total = 0;
  gboolean ok = FALSE;
  int r = ARCHIVE_FATAL;

  /* The raw format hands over the stream after the compression filters, untouched. */
  archive_read_support_filter_all (a);
  archive_read_support_format_raw (a);
  if (archive_read_open_fd (a, in_fd, 128 * 1024) != ARCHIVE_OK
      || (r = archive_read_next_header (a, &entry)) != ARCHIVE_OK)
    {
      /* An empty blob has no raw entry: its stream is empty too. */
      if (r == ARCHIVE_EOF)
        goto done;
      rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot decompress the layer: %s",
                  archive_error_string (a));
      goto out;
    }
  for (;;)
    {
      la_ssize_t n = archive_read_data (a, buf, 1 << 16);

      if (n < 0)
        {
          rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot decompress the layer: %s",
                      archive_error_string (a));
          goto out;
        }
      if (n == 0)
        break;
      rrun_sha256_update (sum, buf, (gsize)n);
      if (!write (buf, (gsize)n, user_data, error))
        goto out;
      total += n;
    }
done:
  *out_digest = g_strconcat ("sha256:", rrun_sha256_hex (sum), NULL);
  if (out_size)
    *out_size = total;
  ok = TRUE;
out:
  archive_read_free (a);
  return ok;
}
