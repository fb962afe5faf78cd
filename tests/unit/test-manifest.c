#include "error.h"
#include "registry/manifest.h"

#include <string.h>

#define H1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define H3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static RrunManifest *
parse_ok (const char *text, const char *content_type)
{
  g_autoptr(GError) error = NULL;
  RrunManifest *m = NULL;

  g_assert_true (rrun_manifest_parse (text, strlen (text), content_type, "x/y:1", &m, &error));
  g_assert_no_error (error);
  return m;
}

static void
check_error (const char *text, const char *content_type, int code, const char *message)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunManifest) m = NULL;

  g_assert_false (rrun_manifest_parse (text, strlen (text), content_type, "x/y:1", &m, &error));
  g_assert_error (error, RRUN_ERROR, code);
  g_assert_cmpstr (error->message, ==, message);
  g_assert_null (m);
}

static void
test_image (void)
{
  g_autoptr(RrunManifest) oci = parse_ok (
      "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
      "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" H1
      "\",\"size\":7},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
      "\"digest\":\"" H2 "\",\"size\":100},{\"mediaType\":"
      "\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"" H3 "\",\"size\":0}]}",
      NULL);
  /* No mediaType in the body: the Content-Type (with parameters) says it. */
  g_autoptr(RrunManifest) docker = parse_ok (
      "{\"schemaVersion\":2,\"config\":{\"mediaType\":"
      "\"application/vnd.docker.container.image.v1+json\",\"digest\":\"" H1 "\",\"size\":7},"
      "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\","
      "\"digest\":\"" H2 "\",\"size\":100}]}",
      "application/vnd.docker.distribution.manifest.v2+json; charset=utf-8");
  RrunDescriptor *l;

  g_assert_cmpint (oci->kind, ==, RRUN_MANIFEST_KIND_IMAGE);
  g_assert_cmpstr (oci->config->digest, ==, H1);
  g_assert_cmpint (oci->config->size, ==, 7);
  g_assert_cmpuint (oci->layers->len, ==, 2);
  l = g_ptr_array_index (oci->layers, 1);
  g_assert_cmpint (l->compression, ==, RRUN_COMPRESSION_ZSTD);
  g_assert_cmpstr (docker->media_type, ==, RRUN_MEDIA_DOCKER_MANIFEST);
  l = g_ptr_array_index (docker->layers, 0);
  g_assert_cmpint (l->compression, ==, RRUN_COMPRESSION_GZIP);
}

static const char *index_json =
  "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
  "\"manifests\":["
  "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" H1 "\","
  "\"size\":10,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
  "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" H2 "\","
  "\"size\":10,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}},"
  "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" H3 "\","
  "\"size\":10,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
  "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" H3 "\","
  "\"size\":10,\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}}]}";

static const char *
pick (RrunManifest *index, const char *platform_text, char **out_error)
{
  g_autoptr(RrunPlatform) p = NULL;
  g_autoptr(GError) error = NULL;
  const RrunDescriptor *d = NULL;

  g_assert_true (rrun_platform_parse (platform_text, &p, NULL));
  if (!rrun_manifest_pick_platform (index, p, "x/y:1", &d, &error))
    {
      *out_error = g_strdup (error->message);
      return NULL;
    }
  return d->digest;
}

static void
test_index (void)
{
  g_autoptr(RrunManifest) m = parse_ok (index_json, NULL);
  g_autofree char *err = NULL;

  g_assert_cmpint (m->kind, ==, RRUN_MANIFEST_KIND_INDEX);
  g_assert_cmpuint (m->manifests->len, ==, 4);
  g_assert_cmpstr (pick (m, "linux/amd64", NULL), ==, H1);
  g_assert_cmpstr (pick (m, "linux/x86_64", NULL), ==, H1);
  g_assert_cmpstr (pick (m, "linux/arm/v7", NULL), ==, H2);
  g_assert_cmpstr (pick (m, "linux/armhf", NULL), ==, H2);
  g_assert_cmpstr (pick (m, "linux/arm64", NULL), ==, H3);
  g_assert_cmpstr (pick (m, "linux/aarch64/v8", NULL), ==, H3);
  g_assert_null (pick (m, "linux/s390x", &err));
  g_assert_cmpstr (err, ==, "cannot pull \"x/y:1\": no image for platform linux/s390x; the "
                            "image is built for: linux/amd64, linux/arm/v7, linux/arm64\n"
                            "hint: pick one with --platform");
}

static void
test_platform (void)
{
  g_autoptr(RrunPlatform) host = rrun_platform_host ();
  g_autoptr(RrunPlatform) p = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *s = NULL;

  g_assert_cmpstr (host->os, ==, "linux");
  g_assert_nonnull (host->architecture);
#if defined(__x86_64__)
  g_assert_cmpstr (host->architecture, ==, "amd64");
#elif defined(__aarch64__)
  g_assert_cmpstr (host->architecture, ==, "arm64");
#endif
  g_assert_true (rrun_platform_parse ("Linux/ARMv7l", &p, NULL));
  s = rrun_platform_to_string (p);
  g_assert_cmpstr (s, ==, "linux/arm/v7");
  g_clear_pointer (&p, rrun_platform_free);
  g_assert_false (rrun_platform_parse ("linux", &p, &error));
  g_assert_cmpstr (error->message, ==, "invalid platform \"linux\": expected os/arch[/variant]\n"
                                       "hint: for example: --platform linux/arm64 or "
                                       "linux/arm/v7");
}

static void
test_errors (void)
{
  check_error ("{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}", NULL,
               RRUN_ERROR_UNSUPPORTED,
               "cannot use image \"x/y:1\": it is a schema 1 manifest, which rrun does not "
               "support: ask the image owner to push it again with a current docker/podman");
  check_error ("{}", "application/vnd.docker.distribution.manifest.v1+prettyjws",
               RRUN_ERROR_UNSUPPORTED,
               "cannot use image \"x/y:1\": it is a schema 1 manifest, which rrun does not "
               "support: ask the image owner to push it again with a current docker/podman");
  check_error ("not json", NULL, RRUN_ERROR_CORRUPT,
               "invalid manifest of \"x/y:1\": invalid JSON: unexpected character");
  check_error ("[]", NULL, RRUN_ERROR_CORRUPT, "invalid manifest of \"x/y:1\": not a JSON object");
  check_error (" \n", NULL, RRUN_ERROR_CORRUPT, "invalid manifest of \"x/y:1\": not a JSON object");
  check_error ("{\"schemaVersion\":\"2\"}", NULL, RRUN_ERROR_CORRUPT,
               "invalid manifest of \"x/y:1\": schemaVersion must be an integer");
  check_error ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
               "\"manifests\":{}}",
               NULL, RRUN_ERROR_CORRUPT, "invalid manifest of \"x/y:1\": manifests must be an array");
  check_error ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}",
               "application/vnd.oci.image.index.v1+json", RRUN_ERROR_CORRUPT,
               "invalid manifest of \"x/y:1\": mediaType "
               "\"application/vnd.oci.image.manifest.v1+json\" disagrees with the Content-Type "
               "\"application/vnd.oci.image.index.v1+json\" the registry sent");
  check_error ("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" H1
               "\",\"size\":\"7\"},\"layers\":[]}",
               NULL, RRUN_ERROR_CORRUPT,
               "invalid manifest of \"x/y:1\": config.size must be a non-negative integer");
  check_error ("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" H1
               "\",\"size\":-1},\"layers\":[]}",
               NULL, RRUN_ERROR_CORRUPT,
               "invalid manifest of \"x/y:1\": config.size must be a non-negative integer");
  check_error ("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"sha256:12\","
               "\"size\":1},\"layers\":[]}",
               NULL, RRUN_ERROR_INVALID_ARGUMENT,
               "invalid manifest of \"x/y:1\": config.digest: invalid digest \"sha256:12\": "
               "expected \"sha256:\" and 64 lowercase hex digits");
  check_error ("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" H1
               "\",\"size\":1},\"layers\":[{\"digest\":\"" H2 "\",\"size\":1}]}",
               NULL, RRUN_ERROR_CORRUPT,
               "invalid manifest of \"x/y:1\": layers[0].mediaType is missing");
  check_error ("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" H1
               "\",\"size\":1},\"layers\":[{\"mediaType\":"
               "\"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip\",\"digest\":\"" H2
               "\",\"size\":1}]}",
               NULL, RRUN_ERROR_UNSUPPORTED,
               "cannot use image \"x/y:1\": layers[0] is a foreign layer "
               "(application/vnd.docker.image.rootfs.foreign.diff.tar.gzip), which rrun does not "
               "fetch\nhint: foreign layers are Windows base layers or content hosted outside "
               "the registry; rrun runs Linux images");
  check_error ("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" H1
               "\",\"size\":1},\"layers\":[{\"mediaType\":\"application/x-tar+bz2\",\"digest\":\""
               H2 "\",\"size\":1}]}",
               NULL, RRUN_ERROR_UNSUPPORTED,
               "cannot use image \"x/y:1\": layers[0] has media type \"application/x-tar+bz2\", "
               "which is not an image layer rrun can unpack");
  check_error ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.foo+json\"}", NULL,
               RRUN_ERROR_UNSUPPORTED,
               "cannot use image \"x/y:1\": unsupported manifest type \"application/vnd.foo+json\"");
  check_error ("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"" H1
               "\",\"size\":1,\"platform\":{\"os\":\"linux\"}}]}",
               NULL, RRUN_ERROR_CORRUPT,
               "invalid manifest of \"x/y:1\": manifests[0].platform.architecture is missing");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/manifest/image", test_image);
  g_test_add_func ("/manifest/index", test_index);
  g_test_add_func ("/manifest/platform", test_platform);
  g_test_add_func ("/manifest/errors", test_errors);
  return g_test_run ();
}
