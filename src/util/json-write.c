#include "util/json-write.h"

void
rrun_json_write_string (GString *out, const char *s)
{
  g_autofree char *valid = NULL;

  if (s == NULL)
    {
      g_string_append (out, "null");
      return;
    }
  if (!g_utf8_validate (s, -1, NULL))
    s = valid = g_utf8_make_valid (s, -1);
  g_string_append_c (out, '"');
  for (; *s; s++)
    {
      unsigned char c = (unsigned char) *s;

      if (c == '"' || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, (char) c);
        }
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (c < 0x20 || c == 0x7f)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_c (out, (char) c);
    }
  g_string_append_c (out, '"');
}

void
rrun_json_object_begin (RrunJsonObject *o, GString *out)
{
  o->out = out;
  o->first = TRUE;
  g_string_append_c (out, '{');
}

static void
member_name (RrunJsonObject *o, const char *name)
{
  if (!o->first)
    g_string_append_c (o->out, ',');
  o->first = FALSE;
  rrun_json_write_string (o->out, name);
  g_string_append_c (o->out, ':');
}

void
rrun_json_object_string (RrunJsonObject *o, const char *name, const char *value)
{
  member_name (o, name);
  rrun_json_write_string (o->out, value);
}

void
rrun_json_object_int (RrunJsonObject *o, const char *name, gint64 value)
{
  member_name (o, name);
  g_string_append_printf (o->out, "%" G_GINT64_FORMAT, value);
}

void
rrun_json_object_bool (RrunJsonObject *o, const char *name, gboolean value)
{
  member_name (o, name);
  g_string_append (o->out, value ? "true" : "false");
}

void
rrun_json_object_strv (RrunJsonObject *o, const char *name, const char *const *values)
{
  member_name (o, name);
  g_string_append_c (o->out, '[');
  for (guint i = 0; values != NULL && values[i] != NULL; i++)
    {
      if (i > 0)
        g_string_append_c (o->out, ',');
      rrun_json_write_string (o->out, values[i]);
    }
  g_string_append_c (o->out, ']');
}

void
rrun_json_object_raw (RrunJsonObject *o, const char *name, const char *json)
{
  member_name (o, name);
  g_string_append (o->out, json);
}

void
rrun_json_object_end (RrunJsonObject *o)
{
  g_string_append_c (o->out, '}');
}
