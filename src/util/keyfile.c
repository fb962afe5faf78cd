/* See keyfile.h: a GKeyFile value GLib would parse into two errors is refused first. */
#include "util/keyfile.h"

#include "error.h"

/* Whether raw (a value as written, escapes undone by nobody yet) ends inside an escape,
   the way g_key_file_parse_value_as_string walks it: a backslash takes the next byte. */
static gboolean
ends_in_escape (const char *raw)
{
  for (const char *p = raw; *p != '\0'; p++)
    if (*p == '\\' && *++p == '\0')
      return TRUE;
  return FALSE;
}

gboolean
rrun_key_file_check_escapes (GKeyFile *kf, const char *source, GError **error)
{
  g_auto(GStrv) groups = g_key_file_get_groups (kf, NULL);

  for (gsize g = 0; groups[g] != NULL; g++)
    {
      g_auto(GStrv) keys = g_key_file_get_keys (kf, groups[g], NULL, NULL);

      for (gsize k = 0; keys != NULL && keys[k] != NULL; k++)
        {
          g_autofree char *raw = g_key_file_get_value (kf, groups[g], keys[k], NULL);

          if (raw != NULL && ends_in_escape (raw))
            {
              rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                          "%s: invalid value for %s.%s: it ends in an escape character (\\)",
                          source, groups[g], keys[k]);
              rrun_add_hint (error, "write a backslash as \\\\");
              return FALSE;
            }
        }
    }
  return TRUE;
}
