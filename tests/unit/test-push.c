/* push's option parsing and OCI layout names (the registry and layout paths are
   integration-tested in push.bats). */
#include "error.h"
#include "image/push.h"

static void
test_ref_names (void)
{
  const char *good[] = { "latest", "v1", "1.0", "a/b", "localhost/app:1", "a--b", "a_b",
                         "x@sha", "a+b", "A9", NULL };
  const char *bad[] = { "", "-x", "x-", "a//b", "/a", "a/", "a b", "a---b", "a..b", "a__b",
                        "ü", ".a", "a:", NULL };

  for (guint i = 0; good[i]; i++)
    g_assert_true (rrun_oci_ref_name_is_valid (good[i]));
  for (guint i = 0; bad[i]; i++)
    g_assert_false (rrun_oci_ref_name_is_valid (bad[i]));
  g_assert_false (rrun_oci_ref_name_is_valid (NULL));
}

static void
test_compression (void)
{
  RrunPushCompression c;
  int level = -1;
  g_autoptr(GError) error = NULL;

  g_assert_true (rrun_push_compression_parse (NULL, NULL, &c, &level, &error));
  g_assert_cmpint (c, ==, RRUN_PUSH_COMPRESSION_KEEP);
  g_assert_cmpint (level, ==, 0);
  g_assert_true (rrun_push_compression_parse ("zstd", "19", &c, &level, &error));
  g_assert_cmpint (c, ==, RRUN_PUSH_COMPRESSION_ZSTD);
  g_assert_cmpint (level, ==, 19);
  g_assert_true (rrun_push_compression_parse ("gzip", "1", &c, &level, &error));
  g_assert_cmpint (c, ==, RRUN_PUSH_COMPRESSION_GZIP);
  g_assert_cmpint (level, ==, 1);
  g_assert_true (rrun_push_compression_parse (NULL, "9", &c, &level, &error));
  g_assert_cmpint (c, ==, RRUN_PUSH_COMPRESSION_KEEP);
  g_assert_cmpint (level, ==, 9);
  g_assert_no_error (error);

  g_assert_false (rrun_push_compression_parse ("gzip", "10", &c, &level, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==,
                   "invalid --compression-level \"10\": expected 1 to 9 for gzip\n"
                   "hint: see: rrun push --help");
  g_clear_error (&error);
  g_assert_false (rrun_push_compression_parse ("zstd", "x", &c, &level, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (rrun_push_compression_parse ("xz", NULL, &c, &level, &error));
  g_assert_cmpstr (error->message, ==,
                   "invalid --compression-format \"xz\": expected gzip or zstd\n"
                   "hint: see: rrun push --help");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/push/ref-names", test_ref_names);
  g_test_add_func ("/push/compression", test_compression);
  return g_test_run ();
}
