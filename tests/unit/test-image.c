#include "storage/image.h"
#include "error.h"

#include <string.h>

static RrunJson *
parse (const char *text)
{
  g_autoptr(GError) error = NULL;
  RrunJson *v = rrun_json_parse (text, strlen (text), RRUN_JSON_DEFAULT, &error);

  g_assert_no_error (error);
  return v;
}

static void
test_full (void)
{
  g_autoptr(RrunJson) root = parse (
      "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-02T03:04:05Z\","
      "\"config\":{\"Env\":[\"PATH=/bin\",\"A=1=2\"],\"Entrypoint\":[\"/init\"],"
      "\"Cmd\":[\"sh\",\"-c\",\"x\"],\"WorkingDir\":\"/w\",\"User\":\"1000:1000\","
      "\"ExposedPorts\":{\"80/tcp\":{},\"53/udp\":{}},\"StopSignal\":\"SIGINT\","
      "\"Volumes\":{\"/data\":{}},\"Hostname\":\"h\"},"
      "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:"
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"]}}");
  g_autoptr(RrunImageConfig) c = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *os = NULL, *arch = NULL;
  g_auto(GStrv) diff_ids = NULL;
  gint64 created = 0;

  g_assert_true (rrun_image_config_parse (root, "t.json", &c, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (c->env), ==, 2);
  g_assert_cmpstr (c->env[1], ==, "A=1=2");
  g_assert_cmpstr (c->entrypoint[0], ==, "/init");
  g_assert_cmpstr (c->cmd[2], ==, "x");
  g_assert_cmpstr (c->working_dir, ==, "/w");
  g_assert_cmpstr (c->user, ==, "1000:1000");
  g_assert_cmpuint (g_strv_length (c->exposed_ports), ==, 2);
  g_assert_true (g_strv_contains ((const char *const *) c->exposed_ports, "53/udp"));
  g_assert_cmpstr (c->stop_signal, ==, "SIGINT");
  g_assert_cmpstr (c->volumes[0], ==, "/data");
  g_assert_cmpstr (c->hostname, ==, "h");
  g_assert_true (rrun_image_config_parse_meta (root, "t.json", &os, &arch, &created,
                                               &diff_ids, &error));
  g_assert_cmpstr (os, ==, "linux");
  g_assert_cmpstr (arch, ==, "amd64");
  g_assert_cmpint (created, ==, 1704164645);
  g_assert_cmpuint (g_strv_length (diff_ids), ==, 1);
}

static void
test_empty (void)
{
  g_autoptr(RrunJson) root = parse ("{\"config\":null,\"os\":\"linux\"}");
  g_autoptr(RrunJson) root2 = parse ("{\"config\":{\"Cmd\":null,\"WorkingDir\":\"\"}}");
  g_autoptr(RrunImageConfig) c = NULL, c2 = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (rrun_image_config_parse (root, "t.json", &c, &error));
  g_assert_null (c->cmd);
  g_assert_null (c->env);
  g_assert_true (rrun_image_config_parse (root2, "t.json", &c2, &error));
  g_assert_null (c2->cmd);
  g_assert_null (c2->working_dir);
}

/* A name given twice (Go's encoding/json, which writes most configs, keeps the last):
   the last value counts, and a port listed twice is exposed once. */
static void
test_duplicate_names (void)
{
  g_autoptr(RrunJson) root = parse ("{\"config\":{\"User\":\"a\",\"User\":\"b\","
                                    "\"ExposedPorts\":{\"80/tcp\":{},\"80/tcp\":{}}}}");
  g_autoptr(RrunImageConfig) c = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (rrun_image_config_parse (root, "t.json", &c, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (c->user, ==, "b");
  g_assert_cmpuint (g_strv_length (c->exposed_ports), ==, 1);
}

static void
check_bad (const char *text, const char *field)
{
  g_autoptr(RrunJson) root = parse (text);
  g_autoptr(RrunImageConfig) c = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *want = g_strdup_printf ("invalid image config src.json: %s: expected",
                                           field);

  g_assert_false (rrun_image_config_parse (root, "src.json", &c, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_CORRUPT);
  g_assert_null (c);
  if (!g_str_has_prefix (error->message, want))
    g_error ("message \"%s\" does not start with \"%s\"", error->message, want);
}

static void
test_bad_types (void)
{
  check_bad ("{\"config\":{\"Env\":\"A=1\"}}", "config.Env");
  check_bad ("{\"config\":{\"Env\":[1]}}", "config.Env");
  check_bad ("{\"config\":{\"Env\":[\"NOEQUALS\"]}}", "config.Env");
  check_bad ("{\"config\":{\"Cmd\":\"sh\"}}", "config.Cmd");
  check_bad ("{\"config\":{\"Entrypoint\":{}}}", "config.Entrypoint");
  check_bad ("{\"config\":{\"WorkingDir\":5}}", "config.WorkingDir");
  check_bad ("{\"config\":{\"User\":true}}", "config.User");
  check_bad ("{\"config\":{\"ExposedPorts\":[\"80/tcp\"]}}", "config.ExposedPorts");
  check_bad ("{\"config\":{\"Volumes\":{\"/x\":1}}}", "config.Volumes");
  check_bad ("{\"config\":{\"StopSignal\":9}}", "config.StopSignal");
  check_bad ("{\"config\":{\"Hostname\":[]}}", "config.Hostname");
  check_bad ("{\"config\":[]}", "config");
  check_bad ("{\"os\":1}", "os");
  check_bad ("{\"architecture\":{}}", "architecture");
  check_bad ("{\"rootfs\":[]}", "rootfs");
  check_bad ("{\"rootfs\":{\"diff_ids\":\"x\"}}", "rootfs.diff_ids");
}

static void
test_not_object (void)
{
  g_autoptr(RrunJson) root = parse ("[1,2]");
  g_autoptr(RrunImageConfig) c = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (rrun_image_config_parse (root, "x", &c, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_CORRUPT);
}

static void
test_bad_meta (void)
{
  g_autoptr(RrunJson) t = parse ("{\"created\":\"yesterday\"}");
  g_autoptr(RrunJson) d = parse ("{\"rootfs\":{\"diff_ids\":[\"md5:x\"]}}");
  g_autoptr(GError) e1 = NULL, e2 = NULL;
  gint64 created;
  g_auto(GStrv) ids = NULL;

  g_assert_false (rrun_image_config_parse_meta (t, "x", NULL, NULL, &created, NULL, &e1));
  g_assert_error (e1, RRUN_ERROR, RRUN_ERROR_CORRUPT);
  g_assert_nonnull (strstr (e1->message, "created"));
  g_assert_false (rrun_image_config_parse_meta (d, "x", NULL, NULL, NULL, &ids, &e2));
  g_assert_nonnull (strstr (e2->message, "rootfs.diff_ids"));
}

/* What pull and load use: one diff_id per manifest layer, each sha256 in lowercase hex. */
static void
test_diff_ids (void)
{
  static const char ok[] = "{\"rootfs\": {\"type\": \"layers\", \"diff_ids\": [\"sha256:"
                           "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"]}}";
  static const char upper[] = "{\"rootfs\": {\"type\": \"layers\", \"diff_ids\": [\"sha256:"
                              "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\"]}}";
  g_auto (GStrv) ids = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (rrun_image_config_diff_ids (ok, strlen (ok), 1, "c.json", &ids, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (ids), ==, 1);
  g_assert_false (rrun_image_config_diff_ids (ok, strlen (ok), 2, "c.json", &ids, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_CORRUPT);
  g_assert_cmpstr (error->message, ==, "image config c.json lists 1 layer but the manifest 2");
  g_clear_error (&error);
  g_assert_false (rrun_image_config_diff_ids (upper, strlen (upper), 1, "c.json", &ids, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_CORRUPT);
  g_clear_error (&error);
  g_assert_false (rrun_image_config_diff_ids ("{", 1, 1, "c.json", &ids, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_CORRUPT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/image/config/full", test_full);
  g_test_add_func ("/image/config/empty", test_empty);
  g_test_add_func ("/image/config/duplicate-names", test_duplicate_names);
  g_test_add_func ("/image/config/bad-types", test_bad_types);
  g_test_add_func ("/image/config/not-object", test_not_object);
  g_test_add_func ("/image/config/bad-meta", test_bad_meta);
  g_test_add_func ("/image/config/diff-ids", test_diff_ids);
  return g_test_run ();
}
