/* manifest.json (docker-archive) and index.json (OCI layout) parsing, and the names an
   archive's tags give. */
#include "error.h"
#include "transport/archive-manifest.h"

#include <string.h>

#define H1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"

static void
docker_error (const char *text, const char *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) images = NULL;

  g_assert_false (rrun_docker_archive_parse_manifest (text, strlen (text), &images, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_CORRUPT);
  g_assert_cmpstr (error->message, ==, message);
  g_assert_null (images);
}

static void
test_docker_manifest (void)
{
  const char *text = "[{\"Config\":\"abc.json\",\"RepoTags\":[\"alpine:latest\",\"x/y:1\"],"
                     "\"Layers\":[\"l1/layer.tar\",\"./blobs//sha256/l2\"]},"
                     "{\"Config\":\"def.json\",\"RepoTags\":null,\"Layers\":[]}]";
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) images = NULL;
  RrunDockerArchiveImage *a, *b;

  g_assert_true (rrun_docker_archive_parse_manifest (text, strlen (text), &images, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (images->len, ==, 2);
  a = images->pdata[0];
  b = images->pdata[1];
  g_assert_cmpstr (a->config, ==, "abc.json");
  g_assert_cmpuint (g_strv_length (a->repo_tags), ==, 2);
  g_assert_cmpstr (a->repo_tags[1], ==, "x/y:1");
  g_assert_cmpuint (g_strv_length (a->layers), ==, 2);
  g_assert_cmpstr (a->layers[0], ==, "l1/layer.tar");
  g_assert_cmpstr (a->layers[1], ==, "blobs/sha256/l2"); /* cleaned */
  g_assert_cmpuint (g_strv_length (b->repo_tags), ==, 0);
  g_assert_cmpuint (g_strv_length (b->layers), ==, 0);
}

static void
test_docker_manifest_hostile (void)
{
  GString *many = g_string_new ("[{\"Config\":\"c.json\",\"Layers\":[");

  docker_error ("{}", "manifest.json: the file: expected an array of images");
  docker_error ("[]", "manifest.json lists no image");
  docker_error ("[{\"Config\":\"../c.json\",\"Layers\":[]}]",
                "manifest.json: [0].Config: \"../c.json\" is not a path inside the archive");
  docker_error ("[{\"Config\":\"c.json\",\"Layers\":[\"/etc/passwd\"]}]",
                "manifest.json: [0].Layers[0]: \"/etc/passwd\" is not a path inside the "
                "archive");
  docker_error ("[{\"Config\":\"c.json\",\"Layers\":[\"a/../../b\"]}]",
                "manifest.json: [0].Layers[0]: \"a/../../b\" is not a path inside the archive");
  docker_error ("[{\"Config\":\"c.json\",\"Layers\":[\"\"]}]",
                "manifest.json: [0].Layers[0]: \"\" is not a path inside the archive");
  docker_error ("[{\"Config\":7,\"Layers\":[]}]", "manifest.json: [0].Config: expected a string");
  docker_error ("[{\"Config\":\"c.json\"}]", "manifest.json: [0].Layers: expected an array of "
                                             "strings");
  docker_error ("[{\"Config\":\"c.json\",\"RepoTags\":[1],\"Layers\":[]}]",
                "manifest.json: [0].RepoTags[0]: expected a string");
  for (guint i = 0; i < RRUN_ARCHIVE_MAX_LAYERS + 1; i++)
    g_string_append_printf (many, "%s\"l.tar\"", i ? "," : "");
  g_string_append (many, "]}]");
  docker_error (many->str, "manifest.json: [0].Layers: 1025 entries, at most 1024 allowed");
  g_string_free (many, TRUE);
}

static void
test_oci_index (void)
{
  const char *text
      = "{\"schemaVersion\":2,\"manifests\":["
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" H1
        "\",\"size\":10,\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"}},"
        "{\"mediaType\":\"m\",\"digest\":\"" H1 "\",\"size\":0,\"annotations\":{"
        "\"org.opencontainers.image.ref.name\":\"localhost/x:1\"}},"
        "{\"mediaType\":\"m\",\"digest\":\"" H1 "\",\"size\":1,\"annotations\":{"
        "\"io.containerd.image.name\":\"docker.io/library/a:2\","
        "\"org.opencontainers.image.ref.name\":\"2\"}}]}";
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  RrunOciIndexEntry *e;

  g_assert_true (rrun_oci_index_parse (text, strlen (text), &entries, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 3);
  e = entries->pdata[0];
  g_assert_cmpstr (e->digest, ==, H1);
  g_assert_cmpint (e->size, ==, 10);
  g_assert_null (e->name); /* a bare tag names no repository */
  g_assert_cmpstr (((RrunOciIndexEntry *)entries->pdata[1])->name, ==, "localhost/x:1");
  g_assert_cmpstr (((RrunOciIndexEntry *)entries->pdata[2])->name, ==, "docker.io/library/a:2");
}

static void
oci_error (const char *text, const char *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = NULL;

  g_assert_false (rrun_oci_index_parse (text, strlen (text), &entries, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_CORRUPT);
  g_assert_cmpstr (error->message, ==, message);
}

static void
test_oci_index_bad (void)
{
  oci_error ("{\"schemaVersion\":1,\"manifests\":[]}", "index.json: schemaVersion: expected 2");
  oci_error ("{\"schemaVersion\":2}", "index.json: manifests: expected an array");
  oci_error ("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"m\",\"digest\":\"" H1
             "\",\"size\":-1}]}",
             "index.json: manifests[0].size: expected a non-negative integer");
  oci_error ("{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"" H1 "\",\"size\":1}]}",
             "index.json: manifests[0].mediaType: expected a string");
  oci_error ("", "index.json: empty");
  oci_error (" \n", "index.json: empty");
  oci_error ("{\"schemaVersion\":2,}", "index.json: invalid JSON: expected a member name");
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) entries = NULL;

    g_assert_false (rrun_oci_index_parse ("[", 1, &entries, &error));
    g_assert_error (error, RRUN_ERROR, RRUN_ERROR_CORRUPT);
    g_assert_true (g_str_has_prefix (error->message, "index.json: "));
  }
}

static void
test_names (void)
{
  struct
  {
    const char *tag, *name;
  } cases[] = {
    { "alpine:latest", "docker.io/library/alpine:latest" },
    { "alpine", "docker.io/library/alpine:latest" },
    { "sk/one:1", "docker.io/sk/one:1" },
    { "localhost/multi:1", "localhost/multi:1" },
    { "localhost:5000/x/y:2", "localhost:5000/x/y:2" },
    { "x@" H1, NULL },
    { "Not A Name", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = rrun_archive_normalize_name (cases[i].tag);
      g_assert_cmpstr (got, ==, cases[i].name);
    }
  g_assert_null (rrun_archive_normalize_name (NULL));
}

static void
test_blob_path (void)
{
  g_autofree char *p = rrun_oci_blob_path (H1);
  g_assert_cmpstr (p, ==,
                   "blobs/sha256/1111111111111111111111111111111111111111111111111111111111111111");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/archive/docker-manifest/parse", test_docker_manifest);
  g_test_add_func ("/archive/docker-manifest/hostile", test_docker_manifest_hostile);
  g_test_add_func ("/archive/oci-index/parse", test_oci_index);
  g_test_add_func ("/archive/oci-index/bad", test_oci_index_bad);
  g_test_add_func ("/archive/names", test_names);
  g_test_add_func ("/archive/blob-path", test_blob_path);
  return g_test_run ();
}
