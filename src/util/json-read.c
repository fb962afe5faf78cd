/* See json-read.h. The strict reader began as rrun-net's reader of its API socket. */
#include "util/json-read.h"

#include <errno.h>
#include <string.h>

#define MAX_DEPTH 64

G_DEFINE_QUARK (rrun-json-error-quark, rrun_json_error)

struct RrunJson
{
  RrunJsonType type;
  gint64 integer;    /* INT; BOOL (0/1) */
  double number;     /* INT, NUMBER */
  char *string;      /* STRING */
  GPtrArray *values; /* ARRAY, OBJECT: RrunJson * */
  GPtrArray *names;  /* OBJECT: member names, parallel to values */
};

typedef struct
{
  const char *p, *end;
  RrunJsonFlags flags;
  GError **error;
} Reader;

static RrunJson *read_value (Reader *r, int depth);

void
rrun_json_free (RrunJson *v)
{
  if (v == NULL)
    return;
  g_free (v->string);
  if (v->values != NULL)
    g_ptr_array_unref (v->values);
  if (v->names != NULL)
    g_ptr_array_unref (v->names);
  g_free (v);
}

static gboolean
fail (Reader *r, const char *what)
{
  if (r->error != NULL && *r->error == NULL)
    g_set_error (r->error, RRUN_JSON_ERROR, 0, "invalid JSON: %s", what);
  return FALSE;
}

static void
skip_space (Reader *r)
{
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
    r->p++;
}

static gboolean
literal (Reader *r, const char *word)
{
  gsize n = strlen (word);

  if ((gsize) (r->end - r->p) < n || memcmp (r->p, word, n) != 0)
    return fail (r, "unexpected character");
  r->p += n;
  return TRUE;
}

static int
hex4 (const char *p)
{
  int v = 0;

  for (int i = 0; i < 4; i++)
    {
      int d = g_ascii_xdigit_value (p[i]);
      if (d < 0)
        return -1;
      v = v * 16 + d;
    }
  return v;
}

/* A string after its opening quote, into a new UTF-8 string. */
static char *
read_string (Reader *r)
{
  g_autoptr (GString) s = g_string_new (NULL);

  for (;;)
    {
      char c;

      if (r->p >= r->end)
        return fail (r, "unterminated string"), NULL;
      c = *r->p++;
      if (c == '"')
        break;
      if ((unsigned char) c < 0x20)
        return fail (r, "control character in a string"), NULL;
      if (c != '\\')
        {
          g_string_append_c (s, c);
          continue;
        }
      if (r->p >= r->end)
        return fail (r, "unterminated string"), NULL;
      c = *r->p++;
      switch (c)
        {
        case '"': case '\\': case '/': g_string_append_c (s, c); break;
        case 'b': g_string_append_c (s, '\b'); break;
        case 'f': g_string_append_c (s, '\f'); break;
        case 'n': g_string_append_c (s, '\n'); break;
        case 'r': g_string_append_c (s, '\r'); break;
        case 't': g_string_append_c (s, '\t'); break;
        case 'u':
          {
            int u = r->end - r->p >= 4 ? hex4 (r->p) : -1;

            if (u < 0)
              return fail (r, "bad \\u escape"), NULL;
            r->p += 4;
            if (u >= 0xd800 && u <= 0xdbff)
              {
                int lo = r->end - r->p >= 6 && r->p[0] == '\\' && r->p[1] == 'u'
                             ? hex4 (r->p + 2) : -1;
                if (lo < 0xdc00 || lo > 0xdfff)
                  return fail (r, "unpaired surrogate"), NULL;
                r->p += 6;
                u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
              }
            else if (u >= 0xdc00 && u <= 0xdfff)
              return fail (r, "unpaired surrogate"), NULL;
            if (u == 0)
              return fail (r, "NUL in a string"), NULL;
            g_string_append_unichar (s, (gunichar) u);
            break;
          }
        default:
          return fail (r, "bad escape"), NULL;
        }
    }
  if (!g_utf8_validate (s->str, (gssize) s->len, NULL))
    return fail (r, "string is not UTF-8"), NULL;
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static gboolean
read_number (Reader *r, RrunJson *v)
{
  const char *start = r->p;
  gboolean integral = TRUE;

  if (r->p < r->end && *r->p == '-')
    r->p++;
  if (r->p >= r->end || !g_ascii_isdigit (*r->p))
    return fail (r, "bad number");
  if (*r->p == '0')
    r->p++;
  else
    while (r->p < r->end && g_ascii_isdigit (*r->p))
      r->p++;
  if (r->p < r->end && *r->p == '.')
    {
      integral = FALSE;
      r->p++;
      if (r->p >= r->end || !g_ascii_isdigit (*r->p))
        return fail (r, "bad number");
      while (r->p < r->end && g_ascii_isdigit (*r->p))
        r->p++;
    }
  if (r->p < r->end && (*r->p == 'e' || *r->p == 'E'))
    {
      integral = FALSE;
      r->p++;
      if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
        r->p++;
      if (r->p >= r->end || !g_ascii_isdigit (*r->p))
        return fail (r, "bad number");
      while (r->p < r->end && g_ascii_isdigit (*r->p))
        r->p++;
    }
  v->type = RRUN_JSON_NUMBER;
  {
    g_autofree char *token = g_strndup (start, (gsize) (r->p - start));
    char *endp;

    v->number = g_ascii_strtod (token, NULL);
    if (integral && strlen (token) < 64)
      {
        errno = 0;
        v->integer = g_ascii_strtoll (token, &endp, 10);
        if (errno == 0 && *endp == '\0')
          v->type = RRUN_JSON_INT; /* beyond gint64 stays a plain number, as in json-glib */
      }
  }
  return TRUE;
}

static gboolean
read_container (Reader *r, RrunJson *v, gboolean object, int depth)
{
  char close = object ? '}' : ']';

  v->values = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_json_free);
  if (object)
    v->names = g_ptr_array_new_with_free_func (g_free);
  skip_space (r);
  if (r->p < r->end && *r->p == close)
    {
      r->p++;
      return TRUE;
    }
  for (;;)
    {
      RrunJson *item;

      skip_space (r);
      if (object)
        {
          char *name;

          if (r->p >= r->end || *r->p != '"')
            return fail (r, "expected a member name");
          r->p++;
          if ((name = read_string (r)) == NULL)
            return FALSE;
          for (guint i = 0; (r->flags & RRUN_JSON_UNIQUE_NAMES) && i < v->names->len; i++)
            if (g_str_equal (v->names->pdata[i], name))
              {
                g_free (name);
                return fail (r, "duplicate member");
              }
          g_ptr_array_add (v->names, name);
          skip_space (r);
          if (r->p >= r->end || *r->p != ':')
            return fail (r, "expected ':'");
          r->p++;
        }
      if ((item = read_value (r, depth + 1)) == NULL)
        return FALSE; /* v goes whole, names and values alike */
      g_ptr_array_add (v->values, item);
      skip_space (r);
      if (r->p < r->end && *r->p == ',')
        {
          r->p++;
          continue;
        }
      if (r->p < r->end && *r->p == close)
        {
          r->p++;
          return TRUE;
        }
      return fail (r, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static RrunJson *
read_value (Reader *r, int depth)
{
  g_autoptr (RrunJson) v = g_new0 (RrunJson, 1);
  gboolean ok;

  if (depth > MAX_DEPTH)
    return fail (r, "nested too deeply"), NULL;
  skip_space (r);
  if (r->p >= r->end)
    return fail (r, "unexpected end"), NULL;
  switch (*r->p)
    {
    case '{':
    case '[':
      v->type = *r->p == '{' ? RRUN_JSON_OBJECT : RRUN_JSON_ARRAY;
      r->p++;
      ok = read_container (r, v, v->type == RRUN_JSON_OBJECT, depth);
      break;
    case '"':
      r->p++;
      v->type = RRUN_JSON_STRING;
      ok = (v->string = read_string (r)) != NULL;
      break;
    case 't':
    case 'f':
      v->type = RRUN_JSON_BOOL;
      v->integer = *r->p == 't';
      ok = literal (r, v->integer ? "true" : "false");
      break;
    case 'n':
      v->type = RRUN_JSON_NULL;
      ok = literal (r, "null");
      break;
    default:
      ok = read_number (r, v);
      break;
    }
  return ok ? g_steal_pointer (&v) : NULL;
}

RrunJson *
rrun_json_parse (const char *text, gsize len, RrunJsonFlags flags, GError **error)
{
  Reader r = { text, text + len, flags, error };
  g_autoptr (RrunJson) v = read_value (&r, 0);

  if (v == NULL)
    return NULL;
  skip_space (&r);
  if (r.p != r.end)
    return fail (&r, "text after the value"), NULL;
  return g_steal_pointer (&v);
}

RrunJsonType
rrun_json_type (const RrunJson *v)
{
  return v->type;
}

gint64
rrun_json_int (const RrunJson *v)
{
  return v->integer;
}

double
rrun_json_number (const RrunJson *v)
{
  return v->number;
}

const char *
rrun_json_string (const RrunJson *v)
{
  return v->string;
}

guint
rrun_json_size (const RrunJson *v)
{
  return v->values != NULL ? v->values->len : 0;
}

const char *
rrun_json_member_name (const RrunJson *object, guint i)
{
  return object->names->pdata[i];
}

RrunJson *
rrun_json_element (const RrunJson *v, guint i)
{
  return v->values->pdata[i];
}

RrunJson *
rrun_json_member (const RrunJson *v, const char *name)
{
  if (v == NULL || v->type != RRUN_JSON_OBJECT)
    return NULL;
  for (guint i = v->names->len; i-- > 0;)
    if (g_str_equal (v->names->pdata[i], name))
      return v->values->pdata[i];
  return NULL;
}

const char *
rrun_json_member_string (const RrunJson *v, const char *name)
{
  RrunJson *m = rrun_json_member (v, name);

  return m != NULL && m->type == RRUN_JSON_STRING ? m->string : NULL;
}
