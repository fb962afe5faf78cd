/* The --format template subset: see template.h. Parsed into a flat list of pieces
   (text, or an action that is a pipeline of commands), then applied to a RrunJson. */
#include "util/template.h"
#include "error.h"
#include "util/json-value.h"

#include <string.h>

#define SUPPORTED_HINT                                                                             \
  "rrun's --format supports {{.Field.Path}}, {{json .Field}}, {{join .Field \",\"}}, "             \
  "{{index .Field \"key\"}}, {{len .Field}}, {{upper .Field}}, {{lower .Field}} and "              \
  "pipes such as {{.Field | json}}"

typedef enum
{
  ARG_FIELD,  /* .A.B (path may be empty: ".") */
  ARG_STRING, /* "text" or `text` */
  ARG_NUMBER, /* 0, 12 (for index) */
  ARG_FUNC,   /* json, join, ... */
} ArgKind;

typedef struct
{
  ArgKind kind;
  char **path; /* ARG_FIELD */
  char *text;  /* ARG_STRING, ARG_FUNC name */
  gint64 number;
} Arg;

typedef struct
{
  char *text;          /* a text piece when not NULL */
  GPtrArray *commands; /* an action: GPtrArray of GArray of Arg, joined by '|' */
} Piece;

struct RrunTemplate
{
  GPtrArray *pieces;
};

typedef struct
{
  const char *name;
  int min_args; /* counting a piped-in value */
  int max_args;
} Func;

static const Func funcs[] = {
  { "json", 1, 1 }, { "join", 2, 2 },  { "index", 2, 8 },
  { "len", 1, 1 },  { "upper", 1, 1 }, { "lower", 1, 1 },
};

static const Func *
find_func (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (funcs); i++)
    if (strcmp (funcs[i].name, name) == 0)
      return &funcs[i];
  return NULL;
}

static void
arg_clear (Arg *a)
{
  g_strfreev (a->path);
  g_free (a->text);
}

static void
piece_free (Piece *p)
{
  g_free (p->text);
  if (p->commands)
    g_ptr_array_unref (p->commands);
  g_free (p);
}

void
rrun_template_free (RrunTemplate *t)
{
  if (t == NULL)
    return;
  g_ptr_array_unref (t->pieces);
  g_free (t);
}

static gboolean
unsupported (GError **error, const char *what, gsize len)
{
  rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "unsupported template action \"%.*s\"", (int)len,
              what);
  rrun_add_hint (error, SUPPORTED_HINT);
  return FALSE;
}

static gboolean
is_ident_char (char c)
{
  return g_ascii_isalnum (c) || c == '_';
}

/* One command's arguments from s up to '|' or the end; *s is advanced. */
static gboolean
parse_command (const char **s, const char *end, GArray *args, GError **error)
{
  const char *p = *s;

  for (;;)
    {
      Arg a = { 0 };

      while (p < end && g_ascii_isspace (*p))
        p++;
      if (p == end || *p == '|')
        break;
      if (*p == '.')
        {
          g_autoptr (GPtrArray) path = g_ptr_array_new_with_free_func (g_free);

          if (p + 1 == end || g_ascii_isspace (p[1]) || p[1] == '|')
            p++; /* "." alone: the data itself */
          while (p < end && *p == '.' && p + 1 < end && is_ident_char (p[1]))
            {
              const char *start = ++p;
              while (p < end && is_ident_char (*p))
                p++;
              g_ptr_array_add (path, g_strndup (start, (gsize)(p - start)));
            }
          if (p < end && !g_ascii_isspace (*p) && *p != '|')
            return unsupported (error, *s, (gsize)(end - *s));
          g_ptr_array_add (path, NULL);
          a.kind = ARG_FIELD;
          a.path = (char **)g_ptr_array_free (g_steal_pointer (&path), FALSE);
        }
      else if (*p == '"' || *p == '`')
        {
          char quote = *p++;
          GString *text = g_string_new (NULL);

          while (p < end && *p != quote)
            {
              if (quote == '"' && *p == '\\' && p + 1 < end)
                {
                  p++;
                  g_string_append_c (text, *p == 'n' ? '\n' : *p == 't' ? '\t' : *p);
                  p++;
                  continue;
                }
              g_string_append_c (text, *p++);
            }
          if (p == end)
            {
              g_string_free (text, TRUE);
              rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                          "unterminated string in template action \"%.*s\"", (int)(end - *s), *s);
              return FALSE;
            }
          p++;
          a.kind = ARG_STRING;
          a.text = g_string_free (text, FALSE);
        }
      else if (g_ascii_isdigit (*p))
        {
          const char *start = p;
          while (p < end && g_ascii_isdigit (*p))
            p++;
          if (p - start > 9 || (p < end && !g_ascii_isspace (*p) && *p != '|'))
            return unsupported (error, *s, (gsize)(end - *s));
          a.kind = ARG_NUMBER;
          a.number = g_ascii_strtoll (start, NULL, 10);
        }
      else if (g_ascii_isalpha (*p))
        {
          const char *start = p;
          g_autofree char *name = NULL;

          while (p < end && is_ident_char (*p))
            p++;
          name = g_strndup (start, (gsize)(p - start));
          /* Only as the first word of a command: "json", never ".A json". */
          if (find_func (name) == NULL || args->len > 0)
            return unsupported (error, *s, (gsize)(end - *s));
          a.kind = ARG_FUNC;
          a.text = g_steal_pointer (&name);
        }
      else
        return unsupported (error, *s, (gsize)(end - *s)); /* $var, (, a comment, ... */
      g_array_append_val (args, a);
    }
  *s = p;
  return TRUE;
}

static gboolean
parse_action (const char *s, const char *end, Piece *piece, GError **error)
{
  const char *start = s;

  piece->commands = g_ptr_array_new_with_free_func ((GDestroyNotify)g_array_unref);
  for (;;)
    {
      g_autoptr (GArray) args = g_array_new (FALSE, TRUE, sizeof (Arg));
      Arg *first;

      g_array_set_clear_func (args, (GDestroyNotify)arg_clear);
      if (!parse_command (&s, end, args, error))
        return FALSE;
      if (args->len == 0)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "empty template action");
          rrun_add_hint (error, SUPPORTED_HINT);
          return FALSE;
        }
      first = &g_array_index (args, Arg, 0);
      if (first->kind != ARG_FUNC && args->len > 1)
        return unsupported (error, start, (gsize)(end - start));
      if (first->kind != ARG_FUNC && piece->commands->len > 0)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "a template pipe must lead into a function (json, join, ...)");
          rrun_add_hint (error, SUPPORTED_HINT);
          return FALSE;
        }
      if (first->kind == ARG_FUNC)
        {
          const Func *f = find_func (first->text);
          int n = (int)args->len - 1 + (piece->commands->len > 0 ? 1 : 0);

          if (n < f->min_args || n > f->max_args)
            {
              rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                          "template function %s takes %d argument%s, not %d", f->name, f->min_args,
                          f->min_args == 1 ? "" : "s", n);
              return FALSE;
            }
        }
      g_ptr_array_add (piece->commands, g_steal_pointer (&args));
      if (s == end)
        return TRUE;
      s++; /* '|' */
    }
}

RrunTemplate *
rrun_template_new (const char *text, GError **error)
{
  g_autoptr (RrunTemplate) t = g_new0 (RrunTemplate, 1);
  const char *p = text;
  gboolean trim_next = FALSE;

  t->pieces = g_ptr_array_new_with_free_func ((GDestroyNotify)piece_free);
  while (*p)
    {
      const char *open = strstr (p, "{{");
      const char *text_end = open ? open : p + strlen (p);
      const char *inner, *close, *inner_end;
      gboolean trim_before = FALSE;

      if (trim_next)
        while (p < text_end && g_ascii_isspace (*p))
          p++;
      trim_next = FALSE;
      if (open && open[2] == '-' && g_ascii_isspace (open[3]))
        trim_before = TRUE;
      {
        const char *e = text_end;
        if (trim_before)
          while (e > p && g_ascii_isspace (e[-1]))
            e--;
        if (e > p)
          {
            Piece *piece = g_new0 (Piece, 1);
            piece->text = g_strndup (p, (gsize)(e - p));
            g_ptr_array_add (t->pieces, piece);
          }
      }
      if (open == NULL)
        break;
      inner = open + (trim_before ? 3 : 2);
      close = strstr (inner, "}}");
      if (close == NULL)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "unclosed template action \"%s\"", open);
          return NULL;
        }
      inner_end = close;
      if (inner_end - inner >= 2 && inner_end[-1] == '-' && g_ascii_isspace (inner_end[-2]))
        {
          inner_end--;
          trim_next = TRUE;
        }
      {
        Piece *piece = g_new0 (Piece, 1);

        g_ptr_array_add (t->pieces, piece);
        if (!parse_action (inner, inner_end, piece, error))
          return NULL;
      }
      p = close + 2;
    }
  return g_steal_pointer (&t);
}

/* ---- applying ---------------------------------------------------------------------- */

/* A value met while applying: a part of the data (borrowed: the data outlives the render),
   or one made here (a string, a number), which owned holds. node NULL is a missing member,
   which Go prints as <no value>. */
typedef struct
{
  const RrunJson *node;
  RrunJson *owned;
} Value;

static void
value_clear (Value *v)
{
  g_clear_pointer (&v->owned, rrun_json_free);
  v->node = NULL;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Value, value_clear)

static Value
value_borrow (const RrunJson *node)
{
  return (Value){ node, NULL };
}

static Value
value_take (RrunJson *node)
{
  return (Value){ node, node };
}

static Value
value_string (const char *s)
{
  return value_take (rrun_json_new_string (s));
}

static gboolean
holds (const RrunJson *node, RrunJsonType type)
{
  return node != NULL && rrun_json_type (node) == type;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

/* The member names of o, sorted: Go's order for printing a map. */
static GPtrArray *
sorted_names (const RrunJson *o)
{
  GPtrArray *names = g_ptr_array_new ();

  for (guint i = 0; i < rrun_json_size (o); i++)
    g_ptr_array_add (names, (gpointer)rrun_json_member_name (o, i));
  g_ptr_array_sort (names, compare_names);
  return names;
}

/* Go prints whole numbers below 1e21 without an exponent. */
static void
append_number (GString *out, double d)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (d == (double)(gint64)d && d < 1e18 && d > -1e18)
    g_string_append_printf (out, "%" G_GINT64_FORMAT, (gint64)d);
  else
    g_string_append (out, g_ascii_dtostr (buf, sizeof buf, d));
}

/* Go's %v of a decoded JSON value. NULL is a missing member. */
static void
append_value (GString *out, const RrunJson *node)
{
  if (node == NULL)
    {
      g_string_append (out, "<no value>");
      return;
    }
  switch (rrun_json_type (node))
    {
    case RRUN_JSON_NULL:
      g_string_append (out, "<nil>");
      break;
    case RRUN_JSON_ARRAY:
      g_string_append_c (out, '[');
      for (guint i = 0; i < rrun_json_size (node); i++)
        {
          if (i > 0)
            g_string_append_c (out, ' ');
          append_value (out, rrun_json_element (node, i));
        }
      g_string_append_c (out, ']');
      break;
    case RRUN_JSON_OBJECT:
      {
        g_autoptr (GPtrArray) names = sorted_names (node);

        g_string_append (out, "map[");
        for (guint i = 0; i < names->len; i++)
          {
            if (i > 0)
              g_string_append_c (out, ' ');
            g_string_append_printf (out, "%s:", (const char *)names->pdata[i]);
            append_value (out, rrun_json_member (node, names->pdata[i]));
          }
        g_string_append_c (out, ']');
        break;
      }
    case RRUN_JSON_STRING:
      g_string_append (out, rrun_json_string (node));
      break;
    case RRUN_JSON_BOOL:
      g_string_append (out, rrun_json_int (node) ? "true" : "false");
      break;
    case RRUN_JSON_INT:
      g_string_append_printf (out, "%" G_GINT64_FORMAT, rrun_json_int (node));
      break;
    case RRUN_JSON_NUMBER:
      append_number (out, rrun_json_number (node));
      break;
    default:
      g_string_append (out, "<nil>");
    }
}

static const char *
kind_name (const RrunJson *node)
{
  if (node == NULL)
    return "no value";
  switch (rrun_json_type (node))
    {
    case RRUN_JSON_NULL:
      return "null";
    case RRUN_JSON_ARRAY:
      return "a list";
    case RRUN_JSON_OBJECT:
      return "an object";
    case RRUN_JSON_STRING:
      return "a string";
    case RRUN_JSON_BOOL:
      return "a boolean";
    default:
      return "a number";
    }
}

/* The value of a field path (borrowed from data), or a missing one with no error. */
static gboolean
eval_field (const RrunJson *data, char **path, Value *out, GError **error)
{
  const RrunJson *cur = data;

  for (guint i = 0; path[i]; i++)
    {
      if (cur == NULL || holds (cur, RRUN_JSON_NULL))
        {
          cur = NULL; /* Go: a nil map gives <no value> for any key */
          break;
        }
      if (!holds (cur, RRUN_JSON_OBJECT))
        {
          g_autofree char *so_far = g_strjoinv (".", path);
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "cannot evaluate field %s of .%s (the value there is %s)", path[i], so_far,
                      kind_name (cur));
          return FALSE;
        }
      cur = rrun_json_member (cur, path[i]);
    }
  *out = value_borrow (cur);
  return TRUE;
}

static gboolean
func_json (const Value *v, Value *out)
{
  g_autoptr (RrunJson) null = rrun_json_new_null ();
  g_autofree char *text = rrun_json_value_to_text (v->node ? v->node : null, FALSE);

  *out = value_string (text);
  return TRUE;
}

static gboolean
func_len (const Value *v, Value *out, GError **error)
{
  gint64 n;

  if (holds (v->node, RRUN_JSON_ARRAY))
    n = rrun_json_size (v->node);
  else if (holds (v->node, RRUN_JSON_OBJECT))
    n = rrun_json_size (v->node);
  else if (holds (v->node, RRUN_JSON_STRING))
    n = (gint64)strlen (rrun_json_string (v->node));
  else
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "template function len takes a list, object or string, "
                       "not %s",
                       kind_name (v->node));
  *out = value_take (rrun_json_new_int (n));
  return TRUE;
}

/* upper and lower: of the value as printed. */
static gboolean
func_case (gboolean upper, const Value *v, Value *out)
{
  g_autoptr (GString) s = g_string_new (NULL);
  g_autofree char *conv = NULL;

  append_value (s, v->node);
  conv = upper ? g_utf8_strup (s->str, -1) : g_utf8_strdown (s->str, -1);
  *out = value_string (conv);
  return TRUE;
}

static gboolean
func_join (const Value *v, const Value *sep, Value *out, GError **error)
{
  g_autoptr (GString) s = g_string_new (NULL);

  if (holds (v->node, RRUN_JSON_NULL))
    {
      *out = value_string ("");
      return TRUE;
    }
  if (!holds (v->node, RRUN_JSON_ARRAY))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "template function join takes a list, not %s", kind_name (v->node));
  if (!holds (sep->node, RRUN_JSON_STRING))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "the separator of template function join must be a string");
  for (guint i = 0; i < rrun_json_size (v->node); i++)
    {
      if (i > 0)
        g_string_append (s, rrun_json_string (sep->node));
      append_value (s, rrun_json_element (v->node, i));
    }
  *out = value_string (s->str);
  return TRUE;
}

/* index X K1 K2 ...: objects by string key, lists by number. */
static gboolean
func_index (GArray *vals, Value *out, GError **error)
{
  const Value *x = &g_array_index (vals, Value, 0);
  const RrunJson *cur = x->node;

  for (guint i = 1; i < vals->len && cur != NULL; i++)
    {
      const RrunJson *k = g_array_index (vals, Value, i).node;

      if (holds (cur, RRUN_JSON_OBJECT) && holds (k, RRUN_JSON_STRING))
        cur = rrun_json_member (cur, rrun_json_string (k));
      else if (holds (cur, RRUN_JSON_ARRAY) && holds (k, RRUN_JSON_INT))
        {
          gint64 n = rrun_json_int (k);

          if (n < 0 || n >= (gint64)rrun_json_size (cur))
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               "index %" G_GINT64_FORMAT " is out of range (the list has %u items)",
                               n, rrun_json_size (cur));
          cur = rrun_json_element (cur, (guint)n);
        }
      else if (cur == NULL || holds (cur, RRUN_JSON_NULL))
        cur = NULL;
      else
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "template function index cannot index %s with %s", kind_name (cur),
                           kind_name (k));
    }
  /* A part of a value made here must outlive that value (freed with vals). */
  *out = x->owned && cur ? value_take (rrun_json_copy (cur)) : value_borrow (cur);
  return TRUE;
}

static gboolean
call_func (const char *name, GArray *vals, Value *out, GError **error)
{
  const Value *v = &g_array_index (vals, Value, 0);

  if (strcmp (name, "json") == 0)
    return func_json (v, out);
  if (strcmp (name, "len") == 0)
    return func_len (v, out, error);
  if (strcmp (name, "upper") == 0 || strcmp (name, "lower") == 0)
    return func_case (name[0] == 'u', v, out);
  if (strcmp (name, "join") == 0)
    return func_join (v, &g_array_index (vals, Value, 1), out, error);
  return func_index (vals, out, error);
}

static gboolean
eval_arg (const Arg *a, const RrunJson *data, Value *out, GError **error)
{
  switch (a->kind)
    {
    case ARG_FIELD:
      return eval_field (data, a->path, out, error);
    case ARG_STRING:
      *out = value_string (a->text);
      return TRUE;
    case ARG_NUMBER:
      *out = value_take (rrun_json_new_int (a->number));
      return TRUE;
    case ARG_FUNC:
    default:
      g_assert_not_reached ();
    }
}

static gboolean
eval_action (const Piece *piece, const RrunJson *data, Value *out, GError **error)
{
  g_auto (Value) prev = { 0 };
  gboolean have_prev = FALSE;

  for (guint c = 0; c < piece->commands->len; c++)
    {
      GArray *args = piece->commands->pdata[c];
      const Arg *first = &g_array_index (args, Arg, 0);
      g_autoptr (GArray) vals = g_array_new (FALSE, TRUE, sizeof (Value));
      Value result = { 0 };

      g_array_set_clear_func (vals, (GDestroyNotify)value_clear);
      if (first->kind != ARG_FUNC)
        {
          if (!eval_arg (first, data, &result, error))
            return FALSE;
        }
      else
        {
          for (guint i = 1; i < args->len; i++)
            {
              Value v = { 0 };
              if (!eval_arg (&g_array_index (args, Arg, i), data, &v, error))
                return FALSE;
              g_array_append_val (vals, v);
            }
          if (have_prev)
            {
              g_array_append_val (vals, prev);
              prev = (Value){ 0 }; /* vals has it now */
            }
          if (!call_func (first->text, vals, &result, error))
            return FALSE;
        }
      value_clear (&prev);
      prev = result;
      have_prev = TRUE;
    }
  *out = prev;
  prev = (Value){ 0 };
  return TRUE;
}

char *
rrun_template_render (const RrunTemplate *t, const RrunJson *data, GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; i < t->pieces->len; i++)
    {
      const Piece *piece = t->pieces->pdata[i];
      g_auto (Value) v = { 0 };

      if (piece->text)
        {
          g_string_append (out, piece->text);
          continue;
        }
      if (!eval_action (piece, data, &v, error))
        return NULL;
      append_value (out, v.node);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}
