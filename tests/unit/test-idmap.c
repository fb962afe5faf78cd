#include "error.h"
#include "userns/idmap.h"

#include <glib/gstdio.h>
#include <string.h>

static char *
write_temp_file (const char *text)
{
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("rrun-test-XXXXXX", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static void
test_parse_lines (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) r = g_array_new (FALSE, TRUE, sizeof (RrunIdRange));
  const char *text = "# comment\n"
                     "bob:165536:65536\n"
                     "alice:100000:65536\n"
                     "\n"
                     "  1000:300000:1000  \n"
                     "alice:400000:10\n";

  g_assert_true (rrun_idmap_parse_subid_text (text, "alice", 1000, r, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (r->len, ==, 3);
  g_assert_cmpuint (g_array_index (r, RrunIdRange, 0).start, ==, 100000);
  g_assert_cmpuint (g_array_index (r, RrunIdRange, 1).start, ==, 300000);
  g_assert_cmpuint (g_array_index (r, RrunIdRange, 1).count, ==, 1000);
  g_assert_cmpuint (g_array_index (r, RrunIdRange, 2).count, ==, 10);
}

static void
test_parse_malformed (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) r = g_array_new (FALSE, TRUE, sizeof (RrunIdRange));

  /* Another user's garbage is not our problem; ours is. */
  g_assert_true (rrun_idmap_parse_subid_text ("bob:x:y\n", "alice", 1000, r, &error));
  g_assert_false (rrun_idmap_parse_subid_text ("alice:100000\n", "alice", 1000, r, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "line 1"));
  g_clear_error (&error);
  g_assert_false (rrun_idmap_parse_subid_text ("alice:4294967295:2\n", "alice", 1000, r,
                                               &error));
  g_clear_error (&error);
  g_assert_false (rrun_idmap_parse_subid_text ("alice:100:0\n", "alice", 1000, r, &error));
}

static void
test_no_range_has_hint (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) ranges = NULL;
  g_autofree char *path = write_temp_file ("bob:165536:65536\n");

  g_assert_false (rrun_idmap_read_ranges (path, "alice", 1000, &ranges, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_NO_SUBID);
  g_assert_nonnull (strstr (error->message, "\nhint: "));
  g_assert_nonnull (strstr (error->message, "subuid-setup.sh alice"));
  g_assert_null (ranges);
  g_unlink (path);
}

static GArray *
ranges_of (guint32 a_start, guint32 a_count, guint32 b_start, guint32 b_count)
{
  GArray *r = g_array_new (FALSE, TRUE, sizeof (RrunIdRange));
  RrunIdRange a = { a_start, a_count }, b = { b_start, b_count };

  g_array_append_val (r, a);
  if (b_count)
    g_array_append_val (r, b);
  return r;
}

static void
test_build_auto (void)
{
  g_autoptr(GArray) r = ranges_of (100000, 65536, 0, 0);
  guint32 inside = 99;
  g_autoptr(GArray) m = rrun_idmap_build (RRUN_USERNS_AUTO, 1000, r, &inside);
  g_autofree char *text = rrun_idmap_format (m);
  guint32 host = 0;

  g_assert_cmpstr (text, ==, "0 1000 1\n1 100000 65536\n");
  g_assert_cmpuint (inside, ==, 0);
  g_assert_true (rrun_idmap_to_host (m, 1000, &host));
  g_assert_cmpuint (host, ==, 100999);
  g_assert_false (rrun_idmap_to_host (m, 65537, &host));
  g_assert_cmpuint (rrun_idmap_span (m), ==, 65537);
}

static void
test_build_two_ranges (void)
{
  g_autoptr(GArray) r = ranges_of (100000, 10, 500000, 20);
  guint32 inside;
  g_autoptr(GArray) m = rrun_idmap_build (RRUN_USERNS_AUTO, 1000, r, &inside);
  g_autofree char *text = rrun_idmap_format (m);

  g_assert_cmpstr (text, ==, "0 1000 1\n1 100000 10\n11 500000 20\n");
}

static void
test_build_keep_id (void)
{
  g_autoptr(GArray) r = ranges_of (100000, 65536, 0, 0);
  guint32 inside;
  g_autoptr(GArray) m = rrun_idmap_build (RRUN_USERNS_KEEP_ID, 1000, r, &inside);
  g_autofree char *text = rrun_idmap_format (m);

  g_assert_cmpuint (inside, ==, 1000);
  g_assert_cmpstr (text, ==, "0 100000 1000\n1000 1000 1\n1001 101000 64536\n");
}

static void
test_build_single_and_nomap (void)
{
  guint32 inside;
  g_autoptr(GArray) single = rrun_idmap_build (RRUN_USERNS_SINGLE, 1000, NULL, &inside);
  g_autofree char *stext = rrun_idmap_format (single);
  g_autoptr(GArray) r = ranges_of (100000, 65536, 0, 0);
  g_autoptr(GArray) nomap = rrun_idmap_build (RRUN_USERNS_NOMAP, 1000, r, &inside);
  g_autofree char *ntext = rrun_idmap_format (nomap);

  g_assert_cmpstr (stext, ==, "0 1000 1\n");
  g_assert_cmpstr (ntext, ==, "0 100000 65536\n");
}

static void
test_compose_keep_id (void)
{
  g_autoptr(GArray) r = ranges_of (100000, 65536, 0, 0);
  guint32 inside;
  g_autoptr(GArray) layout = rrun_idmap_build (RRUN_USERNS_AUTO, 1000, r, &inside);
  g_autoptr(GArray) view = rrun_idmap_build (RRUN_USERNS_KEEP_ID, 1000, r, &inside);
  g_autoptr(GArray) seen = rrun_idmap_compose (layout, view);
  g_autofree char *text = rrun_idmap_format_fuse (seen);

  /* Stored root (host 1000) is seen as 1000 under keep-id and must show as 0; stored
     1..1000 (host 100000..100999) are seen as 0..999; the rest line up. */
  g_assert_cmpstr (text, ==, "1000:0:1:0:1:1000:1001:1001:64536");
  g_assert_cmpuint (rrun_idmap_span (seen), ==, 65537);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/idmap/parse/lines", test_parse_lines);
  g_test_add_func ("/idmap/parse/malformed", test_parse_malformed);
  g_test_add_func ("/idmap/read-ranges/no-range-has-hint", test_no_range_has_hint);
  g_test_add_func ("/idmap/build/auto", test_build_auto);
  g_test_add_func ("/idmap/build/two-ranges", test_build_two_ranges);
  g_test_add_func ("/idmap/build/keep-id", test_build_keep_id);
  g_test_add_func ("/idmap/build/single-and-nomap", test_build_single_and_nomap);
  g_test_add_func ("/idmap/compose/keep-id", test_compose_keep_id);
  return g_test_run ();
}
