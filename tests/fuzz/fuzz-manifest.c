/* A registry's manifest or index (registry/manifest.c) and an image config (storage/):
   the first byte picks the Content-Type the registry claims. */
#include "fuzz.h"
#include "registry/manifest.h"
#include "storage/image.h"
#include "util/json-value.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const char *const types[] = {
    NULL,
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/json",
    "text/html",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunManifest) m = NULL;
  g_autoptr(RrunJson) root = NULL;
  g_autoptr(RrunImageConfig) config = NULL;

  fuzz_init ();
  if (size < 1)
    return 0;
  if (rrun_manifest_parse ((const char *) data + 1, size - 1, types[data[0] % G_N_ELEMENTS (types)],
                           "fuzz", &m, &error))
    {
      g_autoptr(RrunPlatform) host = rrun_platform_host ();
      const RrunDescriptor *d = NULL;
      g_autoptr(GError) pick_error = NULL;

      if (m->kind == RRUN_MANIFEST_KIND_INDEX)
        rrun_manifest_pick_platform (m, host, "fuzz", &d, &pick_error);
    }
  g_clear_error (&error);
  root = rrun_json_parse ((const char *) data + 1, size - 1, RRUN_JSON_DEFAULT, NULL);
  if (root != NULL && rrun_image_config_parse (root, "fuzz", &config, &error))
    g_assert_nonnull (config);
  return 0;
}
