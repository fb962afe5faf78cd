/* A hostile layer's tar headers (image/layer-extract.c's path rules): every member name
   and link target libarchive reads from the input goes through the same checks as in an
   extraction (nothing is written to disk). */
#include "fuzz.h"
#include "image/layer.h"

#include <archive.h>
#include <archive_entry.h>

static void
check_path (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *clean = NULL;
  const char *base, *target = NULL;
  gboolean opaque = FALSE;

  if (path == NULL)
    return;
  clean = rrun_layer_clean_path (path, &error);
  g_assert ((clean == NULL) == (error != NULL));
  if (clean == NULL)
    return;
  /* a clean path is relative, has no "..", "." or empty component */
  g_assert_true (clean[0] != '/');
  {
    g_auto(GStrv) parts = g_strsplit (clean, "/", -1);
    for (guint i = 0; *clean && parts[i]; i++)
      {
        g_assert_cmpstr (parts[i], !=, "..");
        g_assert_cmpstr (parts[i], !=, "");
      }
  }
  base = strrchr (clean, '/') ? strrchr (clean, '/') + 1 : clean;
  if (rrun_layer_is_whiteout (base, &opaque, &target) && !opaque)
    g_assert_nonnull (target);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct archive *a = archive_read_new ();
  struct archive_entry *entry;

  fuzz_init ();
  /* the raw input as one path too */
  {
    g_autofree char *text = fuzz_text (data, size);
    check_path (text);
  }
  archive_read_support_format_tar (a);
  archive_read_support_format_gnutar (a);
  archive_read_support_filter_none (a);
  if (archive_read_open_memory (a, data, size) == ARCHIVE_OK)
    for (int n = 0; n < 256 && archive_read_next_header (a, &entry) == ARCHIVE_OK; n++)
      {
        check_path (archive_entry_pathname (entry));
        check_path (archive_entry_hardlink (entry));
      }
  archive_read_free (a);
  return 0;
}
