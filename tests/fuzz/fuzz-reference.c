/* Image references (registry/reference.c) and --platform, as a user or a compose file
   gives them; a parsed reference prints as a reference that parses to the same text. */
#include "fuzz.h"
#include "registry/manifest.h"
#include "registry/reference.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = fuzz_text (data, size);
  g_autoptr(RrunReference) ref = NULL;
  g_autoptr(RrunPlatform) platform = NULL;

  fuzz_init ();
  if (rrun_reference_parse (text, &ref, NULL))
    {
      g_autofree char *s = rrun_reference_to_string (ref);
      g_autofree char *repo = rrun_reference_repository (ref);
      g_autoptr(RrunReference) again = NULL;
      g_autoptr(RrunReference) qualified = rrun_reference_qualify (ref, "docker.io");
      g_autofree char *s2 = NULL;

      g_assert_true (rrun_reference_parse (s, &again, NULL));
      s2 = rrun_reference_to_string (again);
      g_assert_cmpstr (s, ==, s2);
      g_assert_nonnull (repo);
      g_assert_nonnull (qualified);
      (void) rrun_reference_is_short (ref);
      (void) rrun_reference_manifest_ref (ref);
    }
  if (rrun_platform_parse (text, &platform, NULL))
    g_free (rrun_platform_to_string (platform));
  (void) rrun_digest_validate (text, "fuzz", NULL);
  return 0;
}
