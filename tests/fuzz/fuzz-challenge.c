/* A registry's WWW-Authenticate header (registry/challenge.c). */
#include "fuzz.h"
#include "registry/challenge.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = fuzz_text (data, size);
  g_autoptr(RrunAuthChallenge) c = NULL;
  g_autoptr(GError) error = NULL;

  fuzz_init ();
  if (rrun_auth_challenge_parse (text, &c, &error))
    g_assert_true (c->scheme != RRUN_AUTH_BEARER || c->realm != NULL);
  else
    g_assert_nonnull (error);
  return 0;
}
