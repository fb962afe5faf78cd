/* registries.conf (TOML, registry/toml.c and registries-conf.c) and rrun.conf (GKeyFile,
   config.c): files a user or an administrator writes. */
#include "config.h"
#include "fuzz.h"
#include "registry/registries-conf.h"
#include "registry/toml.h"
#include "util/json-value.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = fuzz_text (data, size);
  g_autoptr(RrunJson) toml = NULL;
  g_autoptr(RrunRegistriesConf) conf = rrun_registries_conf_new ();
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) error = NULL;

  fuzz_init ();
  toml = rrun_toml_parse (text, "fuzz.conf", NULL);
  if (rrun_registries_conf_merge_text (conf, text, "fuzz.conf", NULL))
    {
      g_autoptr(GPtrArray) candidates = NULL;
      (void) rrun_registries_conf_find (conf, "docker.io/library/alpine");
      (void) rrun_registries_conf_candidates (conf, "alpine", &candidates, NULL);
      (void) rrun_registries_conf_is_insecure (conf, "localhost:5000");
    }
  if (g_key_file_load_from_data (kf, text, size, G_KEY_FILE_NONE, NULL))
    {
      g_autoptr(RrunConfig) config = rrun_config_new_defaults ();
      (void) rrun_config_apply_keyfile (config, kf, "fuzz.conf", &error);
    }
  return 0;
}
