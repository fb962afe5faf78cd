/* See json-value.h. The strict reader began as rrun-net's reader of its API socket. */
#include "util/json-value.h"
#include "util/json-write.h"

#include <errno.h>
#include <math.h>
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

/* An empty value of type: containers get their arrays. */
static RrunJson *
new_value (RrunJsonType type)
{
  RrunJson *v = g_new0 (RrunJson, 1);

  v->type = type;
  if (type == RRUN_JSON_ARRAY || type == RRUN_JSON_OBJECT)
    v->values = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_json_free);
  if (type == RRUN_JSON_OBJECT)
    v->names = g_ptr_array_new_with_free_func (g_free);
  return v;
}

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
  {
    g_autofree char *token = g_strndup (start, (gsize) (r->p - start));

    v->number = g_ascii_strtod (token, NULL);
    if (integral)
      {
        errno = 0;
        v->integer = g_ascii_strtoll (token, NULL, 10);
        if (errno == 0)
          v->type = RRUN_JSON_INT; /* beyond gint64 stays a plain number, as in json-glib */
      }
  }
  return TRUE;
}

static gboolean
read_container (Reader *r, RrunJson *v, gboolean object, int depth)
{
  char close = object ? '}' : ']';
  /* Names seen -> index + 1, for objects past a few members: a document from a registry
     may have very many, and a scan per member would make that quadratic. */
  g_autoptr(GHashTable) index = NULL;

  skip_space (r);
  if (r->p < r->end && *r->p == close)
    {
      r->p++;
      return TRUE;
    }
  for (;;)
    {
      RrunJson *item;
      gint dup = -1;

      skip_space (r);
      if (object)
        {
          char *name;

          if (r->p >= r->end || *r->p != '"')
            return fail (r, "expected a member name");
          r->p++;
          if ((name = read_string (r)) == NULL)
            return FALSE;
          if (index == NULL && v->names->len >= 16)
            {
              index = g_hash_table_new (g_str_hash, g_str_equal);
              for (guint i = 0; i < v->names->len; i++)
                g_hash_table_insert (index, v->names->pdata[i], GUINT_TO_POINTER (i + 1));
            }
          if (index != NULL)
            dup = (gint) GPOINTER_TO_UINT (g_hash_table_lookup (index, name)) - 1;
          else
            for (guint i = 0; i < v->names->len && dup < 0; i++)
              if (g_str_equal (v->names->pdata[i], name))
                dup = (gint) i;
          if (dup >= 0 && (r->flags & RRUN_JSON_UNIQUE_NAMES))
            {
              g_free (name);
              return fail (r, "duplicate member");
            }
          if (dup >= 0)
            g_free (name);
          else
            {
              g_ptr_array_add (v->names, name);
              if (index != NULL)
                g_hash_table_insert (index, name, GUINT_TO_POINTER (v->names->len));
            }
          skip_space (r);
          if (r->p >= r->end || *r->p != ':')
            return fail (r, "expected ':'");
          r->p++;
        }
      if ((item = read_value (r, depth + 1)) == NULL)
        return FALSE; /* v goes whole, names and values alike */
      if (dup >= 0)
        {
          /* A name given again: its last value, in its first place (Go, json-glib). */
          rrun_json_free (v->values->pdata[dup]);
          v->values->pdata[dup] = item;
        }
      else
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
  g_autoptr (RrunJson) v = NULL;
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
      v = new_value (*r->p == '{' ? RRUN_JSON_OBJECT : RRUN_JSON_ARRAY);
      r->p++;
      ok = read_container (r, v, v->type == RRUN_JSON_OBJECT, depth);
      break;
    case '"':
      r->p++;
      v = new_value (RRUN_JSON_STRING);
      ok = (v->string = read_string (r)) != NULL;
      break;
    case 't':
    case 'f':
      v = new_value (RRUN_JSON_BOOL);
      v->integer = *r->p == 't';
      ok = literal (r, v->integer ? "true" : "false");
      break;
    case 'n':
      v = new_value (RRUN_JSON_NULL);
      ok = literal (r, "null");
      break;
    default:
      v = new_value (RRUN_JSON_NUMBER); /* read_number makes it INT where it fits */
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

gboolean
rrun_json_text_is_blank (const char *text, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isspace (text[i]))
      return FALSE;
  return TRUE;
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
  for (guint i = 0; i < v->names->len; i++)
    if (g_str_equal (v->names->pdata[i], name))
      return v->values->pdata[i];
  return NULL;
}

RrunJson *
rrun_json_member_value (const RrunJson *v, const char *name)
{
  RrunJson *m = rrun_json_member (v, name);

  return m != NULL && m->type != RRUN_JSON_NULL ? m : NULL;
}

const char *
rrun_json_member_string (const RrunJson *v, const char *name)
{
  RrunJson *m = rrun_json_member (v, name);

  return m != NULL && m->type == RRUN_JSON_STRING ? m->string : NULL;
}

/* ---- values made in code ---- */

RrunJson *
rrun_json_new_null (void)
{
  return new_value (RRUN_JSON_NULL);
}

RrunJson *
rrun_json_new_bool (gboolean value)
{
  RrunJson *v = new_value (RRUN_JSON_BOOL);

  v->integer = value ? 1 : 0;
  return v;
}

RrunJson *
rrun_json_new_int (gint64 value)
{
  RrunJson *v = new_value (RRUN_JSON_INT);

  v->integer = value;
  v->number = (double) value;
  return v;
}

RrunJson *
rrun_json_new_number (double value)
{
  RrunJson *v = new_value (RRUN_JSON_NUMBER);

  v->number = value;
  return v;
}

RrunJson *
rrun_json_new_string (const char *value)
{
  RrunJson *v;

  if (value == NULL)
    return rrun_json_new_null ();
  v = new_value (RRUN_JSON_STRING);
  v->string = g_strdup (value);
  return v;
}

RrunJson *
rrun_json_new_array (void)
{
  return new_value (RRUN_JSON_ARRAY);
}

RrunJson *
rrun_json_new_object (void)
{
  return new_value (RRUN_JSON_OBJECT);
}

RrunJson *
rrun_json_copy (const RrunJson *v)
{
  RrunJson *c = new_value (v->type);

  c->integer = v->integer;
  c->number = v->number;
  c->string = g_strdup (v->string);
  for (guint i = 0; v->values != NULL && i < v->values->len; i++)
    g_ptr_array_add (c->values, rrun_json_copy (v->values->pdata[i]));
  for (guint i = 0; v->names != NULL && i < v->names->len; i++)
    g_ptr_array_add (c->names, g_strdup (v->names->pdata[i]));
  return c;
}

void
rrun_json_array_add (RrunJson *array, RrunJson *value)
{
  g_return_if_fail (array->type == RRUN_JSON_ARRAY);
  g_ptr_array_add (array->values, value);
}

void
rrun_json_object_set (RrunJson *object, const char *name, RrunJson *value)
{
  g_return_if_fail (object->type == RRUN_JSON_OBJECT);
  for (guint i = 0; i < object->names->len; i++)
    if (g_str_equal (object->names->pdata[i], name))
      {
        rrun_json_free (object->values->pdata[i]);
        object->values->pdata[i] = value;
        return;
      }
  g_ptr_array_add (object->names, g_strdup (name));
  g_ptr_array_add (object->values, value);
}

/* ---- the builder ---- */

struct RrunJsonBuilder
{
  GPtrArray *stack; /* open containers, innermost last */
  char *name;       /* the member name set for the next value */
  RrunJson *root;
};

RrunJsonBuilder *
rrun_json_builder_new (void)
{
  RrunJsonBuilder *b = g_new0 (RrunJsonBuilder, 1);

  b->stack = g_ptr_array_new ();
  return b;
}

void
rrun_json_builder_free (RrunJsonBuilder *b)
{
  if (b == NULL)
    return;
  /* Open containers belong to the outermost one (or to nobody yet, if it is the first). */
  if (b->stack->len > 0 && b->root == NULL)
    rrun_json_free (b->stack->pdata[0]);
  g_ptr_array_unref (b->stack);
  g_free (b->name);
  rrun_json_free (b->root);
  g_free (b);
}

void
rrun_json_builder_add_value (RrunJsonBuilder *b, RrunJson *value)
{
  RrunJson *top = b->stack->len > 0 ? b->stack->pdata[b->stack->len - 1] : NULL;

  if (top == NULL)
    {
      rrun_json_free (b->root);
      b->root = value;
      return;
    }
  if (top->type == RRUN_JSON_OBJECT)
    {
      g_return_if_fail (b->name != NULL);
      rrun_json_object_set (top, b->name, value);
      g_clear_pointer (&b->name, g_free);
    }
  else
    rrun_json_array_add (top, value);
}

static void
begin (RrunJsonBuilder *b, RrunJson *container)
{
  if (b->stack->len == 0)
    g_clear_pointer (&b->root, rrun_json_free);
  else
    rrun_json_builder_add_value (b, container);
  g_ptr_array_add (b->stack, container);
}

static void
end (RrunJsonBuilder *b)
{
  RrunJson *done;

  g_return_if_fail (b->stack->len > 0);
  done = g_ptr_array_steal_index (b->stack, b->stack->len - 1);
  if (b->stack->len == 0)
    b->root = done;
}

void
rrun_json_builder_begin_object (RrunJsonBuilder *b)
{
  begin (b, rrun_json_new_object ());
}

void
rrun_json_builder_end_object (RrunJsonBuilder *b)
{
  end (b);
}

void
rrun_json_builder_begin_array (RrunJsonBuilder *b)
{
  begin (b, rrun_json_new_array ());
}

void
rrun_json_builder_end_array (RrunJsonBuilder *b)
{
  end (b);
}

void
rrun_json_builder_set_member_name (RrunJsonBuilder *b, const char *name)
{
  g_free (b->name);
  b->name = g_strdup (name);
}

void
rrun_json_builder_add_string_value (RrunJsonBuilder *b, const char *value)
{
  rrun_json_builder_add_value (b, rrun_json_new_string (value));
}

void
rrun_json_builder_add_int_value (RrunJsonBuilder *b, gint64 value)
{
  rrun_json_builder_add_value (b, rrun_json_new_int (value));
}

void
rrun_json_builder_add_double_value (RrunJsonBuilder *b, double value)
{
  rrun_json_builder_add_value (b, rrun_json_new_number (value));
}

void
rrun_json_builder_add_boolean_value (RrunJsonBuilder *b, gboolean value)
{
  rrun_json_builder_add_value (b, rrun_json_new_bool (value));
}

void
rrun_json_builder_add_null_value (RrunJsonBuilder *b)
{
  rrun_json_builder_add_value (b, rrun_json_new_null ());
}

void
rrun_json_builder_member_string (RrunJsonBuilder *b, const char *name, const char *value)
{
  rrun_json_builder_set_member_name (b, name);
  rrun_json_builder_add_string_value (b, value);
}

void
rrun_json_builder_member_int (RrunJsonBuilder *b, const char *name, gint64 value)
{
  rrun_json_builder_set_member_name (b, name);
  rrun_json_builder_add_int_value (b, value);
}

void
rrun_json_builder_member_bool (RrunJsonBuilder *b, const char *name, gboolean value)
{
  rrun_json_builder_set_member_name (b, name);
  rrun_json_builder_add_boolean_value (b, value);
}

void
rrun_json_builder_member_strv (RrunJsonBuilder *b, const char *name, const char *const *values)
{
  rrun_json_builder_set_member_name (b, name);
  rrun_json_builder_begin_array (b);
  for (guint i = 0; values != NULL && values[i] != NULL; i++)
    rrun_json_builder_add_string_value (b, values[i]);
  rrun_json_builder_end_array (b);
}

void
rrun_json_builder_member_value (RrunJsonBuilder *b, const char *name, const RrunJson *value)
{
  rrun_json_builder_set_member_name (b, name);
  rrun_json_builder_add_value (b, value != NULL ? rrun_json_copy (value) : rrun_json_new_null ());
}

RrunJson *
rrun_json_builder_get_root (RrunJsonBuilder *b)
{
  if (b->stack->len > 0)
    return NULL;
  return g_steal_pointer (&b->root);
}

/* ---- text ---- */

static void
indent (GString *out, gboolean pretty, int level)
{
  if (!pretty)
    return;
  g_string_append_c (out, '\n');
  for (int i = 0; i < level; i++)
    g_string_append (out, "  ");
}

static void
write_value (GString *out, const RrunJson *v, gboolean pretty, int level)
{
  switch (v->type)
    {
    case RRUN_JSON_NULL:
      g_string_append (out, "null");
      break;
    case RRUN_JSON_BOOL:
      g_string_append (out, v->integer ? "true" : "false");
      break;
    case RRUN_JSON_INT:
      g_string_append_printf (out, "%" G_GINT64_FORMAT, v->integer);
      break;
    case RRUN_JSON_NUMBER:
      /* -0.0 as "-0" would read back as the integer 0 (found by fuzzing) */
      if (v->number == 0 && signbit (v->number))
        g_string_append (out, "-0.0");
      else if (isfinite (v->number))
        {
          char buf[G_ASCII_DTOSTR_BUF_SIZE];
          g_string_append (out, g_ascii_dtostr (buf, sizeof buf, v->number));
        }
      else
        g_string_append (out, "null");
      break;
    case RRUN_JSON_STRING:
      rrun_json_write_string (out, v->string);
      break;
    case RRUN_JSON_ARRAY:
    case RRUN_JSON_OBJECT:
      {
        gboolean object = v->type == RRUN_JSON_OBJECT;

        g_string_append_c (out, object ? '{' : '[');
        for (guint i = 0; i < v->values->len; i++)
          {
            if (i > 0)
              g_string_append_c (out, ',');
            indent (out, pretty, level + 1);
            if (object)
              {
                rrun_json_write_string (out, v->names->pdata[i]);
                g_string_append (out, pretty ? ": " : ":");
              }
            write_value (out, v->values->pdata[i], pretty, level + 1);
          }
        if (v->values->len > 0)
          indent (out, pretty, level);
        g_string_append_c (out, object ? '}' : ']');
        break;
      }
    }
}

char *
rrun_json_value_to_text (const RrunJson *v, gboolean pretty)
{
  GString *out = g_string_new (NULL);

  write_value (out, v, pretty, 0);
  return g_string_free (out, FALSE);
}

char *
rrun_json_builder_to_text (RrunJsonBuilder *b, gboolean pretty)
{
  g_autoptr(RrunJson) root = rrun_json_builder_get_root (b);

  return root != NULL ? rrun_json_value_to_text (root, pretty) : g_strdup ("null");
}
