#include "registry/toml.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>

typedef struct
{
  const char *p;
  const char *source;
  guint line;
} Parser;

static gboolean
fail (Parser *ps, GError **error, const char *why)
{
  return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s:%u: %s", ps->source, ps->line,
                     why);
}

/* Skip spaces and tabs (and, when newlines is set, newlines and comments). */
static void
skip_ws (Parser *ps, gboolean newlines)
{
  for (;;)
    {
      char c = *ps->p;
      if (c == ' ' || c == '\t' || c == '\r')
        ps->p++;
      else if (newlines && c == '\n')
        {
          ps->line++;
          ps->p++;
        }
      else if (newlines && c == '#')
        {
          while (*ps->p != '\0' && *ps->p != '\n')
            ps->p++;
        }
      else
        return;
    }
}

/* After a statement: only a comment may follow on the line. */
static gboolean
end_of_line (Parser *ps, GError **error)
{
  skip_ws (ps, FALSE);
  if (*ps->p == '#')
    while (*ps->p != '\0' && *ps->p != '\n')
      ps->p++;
  if (*ps->p == '\n')
    {
      ps->p++;
      ps->line++;
      return TRUE;
    }
  if (*ps->p == '\0')
    return TRUE;
  return fail (ps, error, "unexpected text after the value");
}

static gboolean
parse_basic_string (Parser *ps, GString *out, GError **error)
{
  ps->p++; /* opening quote */
  if (ps->p[0] == '"' && ps->p[1] == '"')
    return fail (ps, error, "multi-line strings are not supported here");
  for (;;)
    {
      char c = *ps->p;
      if (c == '\0' || c == '\n')
        return fail (ps, error, "unterminated string");
      ps->p++;
      if (c == '"')
        return TRUE;
      if ((unsigned char) c < 0x20 && c != '\t')
        return fail (ps, error, "control character in a string");
      if (c != '\\')
        {
          g_string_append_c (out, c);
          continue;
        }
      c = *ps->p++;
      switch (c)
        {
        case '"': g_string_append_c (out, '"'); break;
        case '\\': g_string_append_c (out, '\\'); break;
        case 'b': g_string_append_c (out, '\b'); break;
        case 't': g_string_append_c (out, '\t'); break;
        case 'n': g_string_append_c (out, '\n'); break;
        case 'f': g_string_append_c (out, '\f'); break;
        case 'r': g_string_append_c (out, '\r'); break;
        case 'u':
        case 'U':
          {
            int n = c == 'u' ? 4 : 8;
            char hex[9] = { 0 };
            gunichar u;
            for (int i = 0; i < n; i++)
              {
                if (!g_ascii_isxdigit (ps->p[i]))
                  return fail (ps, error, "invalid \\u escape in a string");
                hex[i] = ps->p[i];
              }
            ps->p += n;
            u = (gunichar) strtoul (hex, NULL, 16);
            if (!g_unichar_validate (u))
              return fail (ps, error, "invalid \\u escape in a string");
            g_string_append_unichar (out, u);
            break;
          }
        default:
          return fail (ps, error, "invalid escape in a string");
        }
    }
}

static gboolean
parse_literal_string (Parser *ps, GString *out, GError **error)
{
  ps->p++;
  if (ps->p[0] == '\'' && ps->p[1] == '\'')
    return fail (ps, error, "multi-line strings are not supported here");
  for (;;)
    {
      char c = *ps->p;
      if (c == '\0' || c == '\n')
        return fail (ps, error, "unterminated string");
      ps->p++;
      if (c == '\'')
        return TRUE;
      g_string_append_c (out, c);
    }
}

static gboolean
is_bare_key_char (char c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '-';
}

/* One key: bare or quoted. */
static gboolean
parse_key (Parser *ps, char **out_key, GError **error)
{
  g_autoptr(GString) key = g_string_new (NULL);

  skip_ws (ps, FALSE);
  if (*ps->p == '"')
    {
      if (!parse_basic_string (ps, key, error))
        return FALSE;
    }
  else if (*ps->p == '\'')
    {
      if (!parse_literal_string (ps, key, error))
        return FALSE;
    }
  else
    {
      while (is_bare_key_char (*ps->p))
        g_string_append_c (key, *ps->p++);
      if (key->len == 0)
        return fail (ps, error, "expected a key");
    }
  skip_ws (ps, FALSE);
  *out_key = g_string_free (g_steal_pointer (&key), FALSE);
  return TRUE;
}

static RrunJson *parse_value (Parser *ps, GError **error);

static RrunJson *
parse_array (Parser *ps, GError **error)
{
  g_autoptr(RrunJson) array = rrun_json_new_array ();

  ps->p++; /* '[' */
  for (;;)
    {
      RrunJson *item;

      skip_ws (ps, TRUE);
      if (*ps->p == ']')
        break;
      item = parse_value (ps, error);
      if (item == NULL)
        return NULL;
      rrun_json_array_add (array, item);
      skip_ws (ps, TRUE);
      if (*ps->p == ',')
        {
          ps->p++;
          continue;
        }
      if (*ps->p != ']')
        {
          fail (ps, error, "expected ',' or ']' in an array");
          return NULL;
        }
      break;
    }
  ps->p++;
  return g_steal_pointer (&array);
}

static RrunJson *
parse_value (Parser *ps, GError **error)
{
  skip_ws (ps, FALSE);
  if (*ps->p == '"' || *ps->p == '\'')
    {
      g_autoptr(GString) s = g_string_new (NULL);
      if (!(*ps->p == '"' ? parse_basic_string (ps, s, error)
                          : parse_literal_string (ps, s, error)))
        return NULL;
      return rrun_json_new_string (s->str);
    }
  if (*ps->p == '[')
    return parse_array (ps, error);
  if (strncmp (ps->p, "true", 4) == 0 && !is_bare_key_char (ps->p[4]))
    {
      ps->p += 4;
      return rrun_json_new_bool (TRUE);
    }
  if (strncmp (ps->p, "false", 5) == 0 && !is_bare_key_char (ps->p[5]))
    {
      ps->p += 5;
      return rrun_json_new_bool (FALSE);
    }
  if (g_ascii_isdigit (*ps->p) || *ps->p == '-' || *ps->p == '+')
    {
      char *end;
      gint64 v = g_ascii_strtoll (ps->p, &end, 10);
      if (end == ps->p || is_bare_key_char (*end) || *end == '.')
        {
          fail (ps, error, "only decimal integers are supported here");
          return NULL;
        }
      ps->p = end;
      return rrun_json_new_int (v);
    }
  if (*ps->p == '{')
    fail (ps, error, "inline tables are not supported here");
  else
    fail (ps, error, "expected a value (string, boolean, integer or array)");
  return NULL;
}

/* [a.b.c] or [[a.b.c]]: walk from root, creating tables; an array of tables on the way
   means its last element, as TOML says. */
static RrunJson *
open_table (Parser *ps, RrunJson *root, gboolean array_of_tables, GError **error)
{
  RrunJson *cur = root;

  for (;;)
    {
      g_autofree char *key = NULL;
      RrunJson *member;
      gboolean last;

      if (!parse_key (ps, &key, error))
        return NULL;
      last = *ps->p != '.';
      member = rrun_json_member (cur, key);
      if (last && array_of_tables)
        {
          RrunJson *fresh;
          if (member == NULL)
            {
              member = rrun_json_new_array ();
              rrun_json_object_set (cur, key, member);
            }
          if (rrun_json_type (member) != RRUN_JSON_ARRAY)
            {
              fail (ps, error, "table name used before as something else");
              return NULL;
            }
          fresh = rrun_json_new_object ();
          rrun_json_array_add (member, fresh);
          cur = fresh;
        }
      else if (member == NULL)
        {
          RrunJson *fresh = rrun_json_new_object ();
          rrun_json_object_set (cur, key, fresh);
          cur = fresh;
        }
      else if (rrun_json_type (member) == RRUN_JSON_OBJECT)
        cur = member;
      else if (rrun_json_type (member) == RRUN_JSON_ARRAY)
        {
          guint n = rrun_json_size (member);
          RrunJson *tail = n ? rrun_json_element (member, n - 1) : NULL;
          if (tail == NULL || rrun_json_type (tail) != RRUN_JSON_OBJECT)
            {
              fail (ps, error, "table name used before as something else");
              return NULL;
            }
          cur = tail;
        }
      else
        {
          fail (ps, error, "table name used before as something else");
          return NULL;
        }
      if (last)
        break;
      ps->p++; /* '.' */
    }
  if (array_of_tables)
    {
      if (ps->p[0] != ']' || ps->p[1] != ']')
        {
          fail (ps, error, "expected ']]'");
          return NULL;
        }
      ps->p += 2;
    }
  else
    {
      if (ps->p[0] != ']')
        {
          fail (ps, error, "expected ']'");
          return NULL;
        }
      ps->p++;
    }
  return cur;
}

RrunJson *
rrun_toml_parse (const char *text, const char *source, GError **error)
{
  g_autoptr(RrunJson) root = rrun_json_new_object ();
  RrunJson *table = root;
  Parser ps = { text, source, 1 };

  if (!g_utf8_validate (text, -1, NULL))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s: not valid UTF-8", source);
      return NULL;
    }
  for (;;)
    {
      skip_ws (&ps, TRUE);
      if (*ps.p == '\0')
        break;
      if (*ps.p == '[')
        {
          gboolean aot = ps.p[1] == '[';
          ps.p += aot ? 2 : 1;
          table = open_table (&ps, root, aot, error);
          if (table == NULL)
            return NULL;
        }
      else
        {
          g_autofree char *key = NULL;
          RrunJson *value;

          if (!parse_key (&ps, &key, error))
            return NULL;
          if (*ps.p == '.')
            {
              fail (&ps, error, "dotted keys are not supported here");
              return NULL;
            }
          if (*ps.p != '=')
            {
              fail (&ps, error, "expected '=' after a key");
              return NULL;
            }
          ps.p++;
          if (rrun_json_member (table, key) != NULL)
            {
              g_autofree char *why = g_strdup_printf ("duplicate key \"%s\"", key);
              fail (&ps, error, why);
              return NULL;
            }
          value = parse_value (&ps, error);
          if (value == NULL)
            return NULL;
          rrun_json_object_set (table, key, value);
        }
      if (!end_of_line (&ps, error))
        return NULL;
    }
  return g_steal_pointer (&root);
}
