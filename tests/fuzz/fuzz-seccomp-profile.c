/* --security-opt seccomp=PROFILE.json (process/seccomp.c); a profile that parses is also
   compiled when the input asks (a compile takes milliseconds: 1 input in 8). */
#include "fuzz.h"
#include "process/caps.h"
#include "process/seccomp.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(RrunSeccompProfile) p = NULL;
  g_autoptr(GError) error = NULL;

  fuzz_init ();
  if (size < 1)
    return 0;
  p = rrun_seccomp_profile_parse ((const char *) data + 1, size - 1, &error);
  g_assert ((p == NULL) == (error != NULL));
  if (p != NULL && (data[0] & 7) == 0)
    {
      g_autoptr(GBytes) bpf = NULL;
      g_autoptr(GError) build_error = NULL;
      guint64 caps = data[0] & 8 ? G_MAXUINT64 : rrun_caps_default_set ();
      RrunRootEmulation emulation = (data[0] & 16)   ? RRUN_ROOT_EMULATION_FAKE
                                    : (data[0] & 32) ? RRUN_ROOT_EMULATION_SINGLE_ID
                                                     : RRUN_ROOT_EMULATION_NONE;
      if (rrun_seccomp_build (p, TRUE, caps, emulation, NULL, &bpf, &build_error))
        g_assert_cmpuint (g_bytes_get_size (bpf) % 8, ==, 0);
    }
  return 0;
}
