/* rrun's JSON reader (util/json-value.c): every manifest, config, record and API request. */
#include "fuzz.h"
#include "util/json-value.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunJson) v = NULL;

  fuzz_init ();
  v = rrun_json_parse ((const char *) data, size, size > 0 && data[0] & 1 ? RRUN_JSON_UNIQUE_NAMES
                                                                          : RRUN_JSON_DEFAULT,
                       &error);
  g_assert ((v == NULL) == (error != NULL));
  if (v != NULL)
    {
      /* what is read back is written again, and that text reads as the same value */
      g_autofree char *text = rrun_json_value_to_text (v, size > 1 && data[1] & 1);
      g_autoptr(GError) again_error = NULL;
      g_autoptr(RrunJson) again = rrun_json_parse (text, strlen (text), RRUN_JSON_DEFAULT,
                                                   &again_error);
      g_autofree char *text2 = NULL;

      g_assert_no_error (again_error);
      text2 = rrun_json_value_to_text (again, size > 1 && data[1] & 1);
      g_assert_cmpstr (text, ==, text2);
    }
  return 0;
}
