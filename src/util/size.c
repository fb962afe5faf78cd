#include "util/size.h"

gboolean
rrun_size_parse (const char *text, guint64 *out_bytes)
{
  char *end;
  guint64 n, mult = 1;

  if (text == NULL || !g_ascii_isdigit (*text))
    return FALSE;
  n = g_ascii_strtoull (text, &end, 10);
  switch (g_ascii_tolower (*end))
    {
    case 'k':
      mult = 1024, end++;
      break;
    case 'm':
      mult = 1024 * 1024, end++;
      break;
    case 'g':
      mult = 1024 * 1024 * 1024, end++;
      break;
    }
  if (g_ascii_tolower (*end) == 'b')
    end++;
  if (*end != '\0' || n > G_MAXUINT64 / mult)
    return FALSE;
  *out_bytes = n * mult;
  return TRUE;
}
