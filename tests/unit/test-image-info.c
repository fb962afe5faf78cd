/* image-info.c: inspect's object and history's rows from a stored config. */
#include "error.h"
#include "storage/image-info.h"

#include <glib/gstdio.h>
#include <string.h>

static const char *config_text
    = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-02T03:04:05Z\","
      "\"author\":\"me\",\"config\":{\"Env\":[\"PATH=/bin\"],\"Labels\":{\"a\":\"b\"},"
      "\"User\":\"1000\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:d1\","
      "\"sha256:d2\"]},\"history\":["
      "{\"created\":\"2024-01-01T00:00:00Z\",\"created_by\":\"ADD rootfs\"},"
      "{\"created\":\"2024-01-01T00:00:01Z\",\"created_by\":\"ENV X=1\",\"empty_layer\":true},"
      "{\"created\":\"2024-01-01T00:00:02Z\",\"created_by\":\"RUN make\",\"comment\":\"c\"},"
      "{\"created\":\"2024-01-01T00:00:03Z\",\"created_by\":\"CMD sh\",\"empty_layer\":true}]}";

static RrunImage *
fake_image (const char *config, char **out_dir)
{
  RrunImage *img = g_new0 (RrunImage, 1);
  guint64 sizes[] = { 1000, 20 };
  g_autofree char *dir = g_dir_make_tmp ("rrun-test-XXXXXX", NULL);

  img->id = g_strdup ("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  img->names = g_strsplit ("localhost/a:1,localhost/a:2,localhost/b:1", ",", -1);
  img->digest = g_strdup ("sha256:feed");
  img->layer_ids = g_ptr_array_new_with_free_func (g_free);
  img->layer_dirs = g_ptr_array_new_with_free_func (g_free);
  img->layer_sizes = g_array_new (FALSE, TRUE, sizeof (guint64));
  g_array_append_vals (img->layer_sizes, sizes, 2);
  img->architecture = g_strdup ("amd64");
  img->os = g_strdup ("linux");
  img->size = 1020;
  img->created = 1700000000;
  img->config_path = g_build_filename (dir, "config.json", NULL);
  g_assert_true (g_file_set_contents (img->config_path, config, -1, NULL));
  *out_dir = g_steal_pointer (&dir);
  return img;
}

static void
cleanup (RrunImage *img, char *dir)
{
  g_unlink (img->config_path);
  g_rmdir (dir);
  g_free (dir);
  rrun_image_free (img);
}

static void
test_history_sizes (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) rows = NULL;
  char *dir;
  RrunImage *img = fake_image (config_text, &dir);
  RrunHistoryEntry *e;

  g_assert_true (rrun_image_info_history (img, &rows, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 4);
  e = &g_array_index (rows, RrunHistoryEntry, 0); /* newest first */
  g_assert_cmpstr (e->created_by, ==, "CMD sh");
  g_assert_true (e->empty_layer);
  g_assert_cmpuint (e->size, ==, 0);
  e = &g_array_index (rows, RrunHistoryEntry, 1);
  g_assert_cmpstr (e->created_by, ==, "RUN make");
  g_assert_cmpstr (e->comment, ==, "c");
  g_assert_cmpuint (e->size, ==, 20);
  g_assert_cmpint (e->created, ==, 1704067202);
  e = &g_array_index (rows, RrunHistoryEntry, 2);
  g_assert_cmpuint (e->size, ==, 0);
  e = &g_array_index (rows, RrunHistoryEntry, 3);
  g_assert_cmpstr (e->created_by, ==, "ADD rootfs");
  g_assert_cmpuint (e->size, ==, 1000);
  cleanup (img, dir);
}

static void
test_history_without_history (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) rows = NULL;
  char *dir;
  RrunImage *img = fake_image ("{\"architecture\":\"amd64\",\"os\":\"linux\"}", &dir);

  g_assert_true (rrun_image_info_history (img, &rows, &error));
  g_assert_cmpuint (rows->len, ==, 2);
  g_assert_cmpuint (g_array_index (rows, RrunHistoryEntry, 0).size, ==, 20);
  g_assert_cmpuint (g_array_index (rows, RrunHistoryEntry, 1).size, ==, 1000);
  cleanup (img, dir);
}

static void
test_history_mistyped (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) rows = NULL;
  char *dir;
  RrunImage *img = fake_image ("{\"history\":[{\"empty_layer\":\"yes\"}]}", &dir);

  g_assert_false (rrun_image_info_history (img, &rows, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "empty_layer: expected a boolean"));
  g_assert_null (rows);
  cleanup (img, dir);
}

static void
test_inspect (void)
{
  g_autoptr (GError) error = NULL;
  char *dir;
  RrunImage *img = fake_image (config_text, &dir);
  g_autoptr (RrunJson) o = rrun_image_info_inspect (img, &error);
  const RrunJson *rootfs, *rd;

  g_assert_no_error (error);
  g_assert_cmpint (rrun_json_type (o), ==, RRUN_JSON_OBJECT);
  g_assert_cmpstr (rrun_json_member_string (o, "Id"), ==, img->id);
  g_assert_cmpstr (rrun_json_member_string (o, "Digest"), ==, "sha256:feed");
  g_assert_cmpstr (rrun_json_member_string (o, "Created"), ==, "2024-01-02T03:04:05Z");
  g_assert_cmpstr (rrun_json_member_string (o, "Author"), ==, "me");
  g_assert_cmpstr (rrun_json_member_string (o, "User"), ==, "1000");
  g_assert_cmpint (rrun_json_int (rrun_json_member (o, "Size")), ==, 1020);
  rd = rrun_json_member (o, "RepoDigests");
  g_assert_cmpuint (rrun_json_size (rd), ==, 2); /* one per repository */
  g_assert_cmpstr (rrun_json_string (rrun_json_element (rd, 0)), ==, "localhost/a@sha256:feed");
  g_assert_cmpstr (rrun_json_string (rrun_json_element (rd, 1)), ==, "localhost/b@sha256:feed");
  g_assert_cmpuint (rrun_json_size (rrun_json_member (o, "RepoTags")), ==, 3);
  rootfs = rrun_json_member (o, "RootFS");
  g_assert_cmpstr (rrun_json_string (rrun_json_element (rrun_json_member (rootfs, "Layers"), 1)),
                   ==, "sha256:d2");
  g_assert_cmpuint (rrun_json_size (rrun_json_member (o, "History")), ==, 4);
  g_assert_cmpstr (rrun_json_member_string (rrun_json_member (o, "Labels"), "a"), ==, "b");
  cleanup (img, dir);
}

/* The object as text: members in podman's order, absent parts shown empty or null. */
static void
test_inspect_minimal (void)
{
  g_autoptr (GError) error = NULL;
  char *dir;
  RrunImage *img = fake_image ("{\"architecture\":\"amd64\",\"os\":\"linux\"}", &dir);
  g_autoptr (RrunJson) o = NULL;
  g_autofree char *text = NULL;

  g_strfreev (img->names);
  img->names = g_strsplit ("localhost/a:1", ",", -1);
  o = rrun_image_info_inspect (img, &error);
  g_assert_no_error (error);
  text = rrun_json_value_to_text (o, FALSE);
  g_assert_cmpstr (text, ==,
                   "{\"Id\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
                   "\"Digest\":\"sha256:feed\",\"RepoTags\":[\"localhost/a:1\"],"
                   "\"RepoDigests\":[\"localhost/a@sha256:feed\"],\"Created\":null,"
                   "\"Config\":{},\"Version\":\"\",\"Author\":\"\",\"Comment\":\"\","
                   "\"Architecture\":\"amd64\",\"Os\":\"linux\",\"Size\":1020,"
                   "\"VirtualSize\":1020,\"Labels\":null,\"User\":\"\","
                   "\"RootFS\":{\"Type\":\"layers\",\"Layers\":[]},\"History\":[]}");
  cleanup (img, dir);
}

/* A config naming a member twice: the last value counts, and inspect shows the name once,
   where it first came. */
static void
test_inspect_duplicate_names (void)
{
  g_autoptr (GError) error = NULL;
  char *dir;
  RrunImage *img = fake_image ("{\"config\":{\"User\":\"1\",\"Env\":[],\"User\":\"2\","
                               "\"Labels\":{\"a\":\"x\",\"a\":\"y\"}}}",
                               &dir);
  g_autoptr (RrunJson) o = rrun_image_info_inspect (img, &error);
  g_autofree char *config = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (rrun_json_member_string (o, "User"), ==, "2");
  config = rrun_json_value_to_text (rrun_json_member (o, "Config"), FALSE);
  g_assert_cmpstr (config, ==, "{\"User\":\"2\",\"Env\":[],\"Labels\":{\"a\":\"y\"}}");
  g_assert_cmpuint (rrun_json_size (rrun_json_member (o, "Labels")), ==, 1);
  cleanup (img, dir);
}

static void
test_inspect_mistyped (void)
{
  g_autoptr (GError) error = NULL;
  char *dir;
  RrunImage *img = fake_image ("{\"config\":{\"Labels\":[]}}", &dir);
  g_autoptr (RrunJson) o = rrun_image_info_inspect (img, &error);

  g_assert_null (o);
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "Labels: expected an object"));
  g_clear_error (&error);
  cleanup (img, dir);

  img = fake_image ("{\"config\":", &dir);
  o = rrun_image_info_inspect (img, &error);
  g_assert_null (o);
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "cannot read image config"));
  g_clear_error (&error);
  cleanup (img, dir);

  img = fake_image ("[]", &dir);
  o = rrun_image_info_inspect (img, &error);
  g_assert_null (o);
  g_assert_nonnull (strstr (error->message, "the file: expected a JSON object"));
  cleanup (img, dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/image-info/history-sizes", test_history_sizes);
  g_test_add_func ("/image-info/history-without-history", test_history_without_history);
  g_test_add_func ("/image-info/history-mistyped", test_history_mistyped);
  g_test_add_func ("/image-info/inspect", test_inspect);
  g_test_add_func ("/image-info/inspect-minimal", test_inspect_minimal);
  g_test_add_func ("/image-info/inspect-duplicate-names", test_inspect_duplicate_names);
  g_test_add_func ("/image-info/inspect-mistyped", test_inspect_mistyped);
  return g_test_run ();
}
