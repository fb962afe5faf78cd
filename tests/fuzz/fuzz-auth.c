/* auth.json (registry/auth.c): docker's and podman's credential files, as any program may
   have written them; the first byte picks the domain looked up. */
#include "fuzz.h"
#include "registry/auth.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const char *const domains[] = { "docker.io", "quay.io", "localhost:5000",
                                         "registry.example.com" };
  g_autofree char *text = NULL;
  g_autoptr(RrunCredentials) creds = NULL;
  g_autoptr(GError) error = NULL;

  fuzz_init ();
  if (size < 1)
    return 0;
  text = fuzz_text (data + 1, size - 1);
  if (!rrun_auth_lookup_text (text, "fuzz", domains[data[0] % G_N_ELEMENTS (domains)],
                              data[0] & 0x80 ? "org/img" : NULL, &creds, &error))
    g_assert_nonnull (error);
  g_free (rrun_auth_normalize_key (text));
  return 0;
}
