/* Path rules and whiteout names of layer extraction (the extraction itself runs in a user
   namespace and is tested by the integration suite). */
#include "image/layer.h"
#include "error.h"

static void
test_clean_path (void)
{
  struct
  {
    const char *in, *out;
  } ok[] = { { "./a/b", "a/b" }, { "a//b/", "a/b" }, { "./", "" }, { ".", "" },
             { "a/./b", "a/b" }, { "..a/b..", "..a/b.." } };
  const char *bad[] = { "/etc/passwd", "../x", "a/../../x", "a/..", "//x" };

  for (guint i = 0; i < G_N_ELEMENTS (ok); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *out = rrun_layer_clean_path (ok[i].in, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (out, ==, ok[i].out);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *out = rrun_layer_clean_path (bad[i], &error);
      g_assert_null (out);
      g_assert_error (error, RRUN_ERROR, RRUN_ERROR_CORRUPT);
    }
}

static void
test_whiteout_names (void)
{
  gboolean opaque = TRUE;
  const char *target = NULL;

  g_assert_false (rrun_layer_is_whiteout ("file", &opaque, &target));
  g_assert_false (rrun_layer_is_whiteout ("a.wh.b", &opaque, &target));
  g_assert_true (rrun_layer_is_whiteout (".wh.gone", &opaque, &target));
  g_assert_false (opaque);
  g_assert_cmpstr (target, ==, "gone");
  g_assert_true (rrun_layer_is_whiteout (".wh..wh..opq", &opaque, &target));
  g_assert_true (opaque);
  g_assert_null (target);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/layer/clean-path", test_clean_path);
  g_test_add_func ("/layer/whiteout-names", test_whiteout_names);
  return g_test_run ();
}
