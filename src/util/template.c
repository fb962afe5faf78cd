/* The --format template subset: see template.h. Parsed into a flat list of pieces
   (text, or an action that is a pipeline of commands), then applied to a JsonNode. */
#include "util/template.h"
#include "error.h"
#include "util/json.h"

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

/* Go's %v of a decoded JSON value. NULL is a missing member. */
static void
append_value (GString *out, JsonNode *node)
{
  if (node == NULL)
    {
      g_string_append (out, "<no value>");
      return;
    }
  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_NULL:
      g_string_append (out, "<nil>");
      return;
    case JSON_NODE_ARRAY:
      {
        JsonArray *a = json_node_get_array (node);

        g_string_append_c (out, '[');
        for (guint i = 0; i < json_array_get_length (a); i++)
          {
            if (i > 0)
              g_string_append_c (out, ' ');
            append_value (out, json_array_get_element (a, i));
          }
        g_string_append_c (out, ']');
        return;
      }
    case JSON_NODE_OBJECT:
      {
        JsonObject *o = json_node_get_object (node);
        g_autoptr (GList) keys = json_object_get_members (o);

        keys = g_list_sort (keys, (GCompareFunc)strcmp);
        g_string_append (out, "map[");
        for (GList *l = keys; l; l = l->next)
          {
            if (l != keys)
              g_string_append_c (out, ' ');
            g_string_append_printf (out, "%s:", (const char *)l->data);
            append_value (out, json_object_get_member (o, l->data));
          }
        g_string_append_c (out, ']');
        return;
      }
    case JSON_NODE_VALUE:
    default:
      break;
    }
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      g_string_append (out, json_node_get_string (node));
      break;
    case G_TYPE_BOOLEAN:
      g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
      break;
    case G_TYPE_INT64:
      g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
      break;
    case G_TYPE_DOUBLE:
      {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        double d = json_node_get_double (node);

        /* Go prints whole numbers below 1e21 without an exponent. */
        if (d == (double)(gint64)d && d < 1e18 && d > -1e18)
          g_string_append_printf (out, "%" G_GINT64_FORMAT, (gint64)d);
        else
          g_string_append (out, g_ascii_dtostr (buf, sizeof buf, d));
        break;
      }
    default:
      g_string_append (out, "<nil>");
    }
}

static const char *
kind_name (JsonNode *node)
{
  if (node == NULL)
    return "no value";
  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_NULL:
      return "null";
    case JSON_NODE_ARRAY:
      return "a list";
    case JSON_NODE_OBJECT:
      return "an object";
    default:
      break;
    }
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      return "a string";
    case G_TYPE_BOOLEAN:
      return "a boolean";
    default:
      return "a number";
    }
}

static JsonNode *
string_node (const char *s)
{
  JsonNode *n = json_node_new (JSON_NODE_VALUE);
  json_node_set_string (n, s);
  return n;
}

/* The value of a field path: a new reference, or NULL (missing) with no error. */
static gboolean
eval_field (JsonNode *data, char **path, JsonNode **out, GError **error)
{
  JsonNode *cur = data;

  for (guint i = 0; path[i]; i++)
    {
      if (cur == NULL || JSON_NODE_HOLDS_NULL (cur))
        {
          cur = NULL; /* Go: a nil map gives <no value> for any key */
          break;
        }
      if (!JSON_NODE_HOLDS_OBJECT (cur))
        {
          g_autofree char *so_far = g_strjoinv (".", path);
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "cannot evaluate field %s of .%s (the value there is %s)", path[i], so_far,
                      kind_name (cur));
          return FALSE;
        }
      cur = json_object_get_member (json_node_get_object (cur), path[i]);
    }
  *out = cur ? json_node_ref (cur) : NULL;
  return TRUE;
}

static gboolean
call_func (const char *name, GPtrArray *vals, JsonNode **out, GError **error)
{
  JsonNode *v = vals->pdata[0];

  if (strcmp (name, "json") == 0)
    {
      g_autoptr (JsonNode) null = json_node_new (JSON_NODE_NULL);
      g_autofree char *text = rrun_json_to_text (v ? v : null, FALSE);
      *out = string_node (text);
      return TRUE;
    }
  if (strcmp (name, "upper") == 0 || strcmp (name, "lower") == 0 || strcmp (name, "len") == 0)
    {
      if (strcmp (name, "len") == 0)
        {
          gint64 n;

          if (v && JSON_NODE_HOLDS_ARRAY (v))
            n = json_array_get_length (json_node_get_array (v));
          else if (v && JSON_NODE_HOLDS_OBJECT (v))
            n = json_object_get_size (json_node_get_object (v));
          else if (v && JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_STRING)
            n = (gint64)strlen (json_node_get_string (v));
          else
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               "template function len takes a list, object or string, "
                               "not %s",
                               kind_name (v));
          *out = json_node_new (JSON_NODE_VALUE);
          json_node_set_int (*out, n);
          return TRUE;
        }
      {
        g_autoptr (GString) s = g_string_new (NULL);
        g_autofree char *conv = NULL;

        append_value (s, v);
        conv = name[0] == 'u' ? g_utf8_strup (s->str, -1) : g_utf8_strdown (s->str, -1);
        *out = string_node (conv);
        return TRUE;
      }
    }
  if (strcmp (name, "join") == 0)
    {
      JsonNode *sep = vals->pdata[1];
      g_autoptr (GString) s = g_string_new (NULL);
      JsonArray *a;

      if (v && JSON_NODE_HOLDS_NULL (v))
        {
          *out = string_node ("");
          return TRUE;
        }
      if (v == NULL || !JSON_NODE_HOLDS_ARRAY (v))
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "template function join takes a list, not %s", kind_name (v));
      if (sep == NULL || !JSON_NODE_HOLDS_VALUE (sep)
          || json_node_get_value_type (sep) != G_TYPE_STRING)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "the separator of template function join must be a string");
      a = json_node_get_array (v);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          if (i > 0)
            g_string_append (s, json_node_get_string (sep));
          append_value (s, json_array_get_element (a, i));
        }
      *out = string_node (s->str);
      return TRUE;
    }
  /* index X K1 K2 ...: objects by string key, lists by number. */
  {
    JsonNode *cur = v;

    for (guint i = 1; i < vals->len; i++)
      {
        JsonNode *k = vals->pdata[i];

        if (cur && JSON_NODE_HOLDS_OBJECT (cur) && k && JSON_NODE_HOLDS_VALUE (k)
            && json_node_get_value_type (k) == G_TYPE_STRING)
          cur = json_object_get_member (json_node_get_object (cur), json_node_get_string (k));
        else if (cur && JSON_NODE_HOLDS_ARRAY (cur) && k && JSON_NODE_HOLDS_VALUE (k)
                 && json_node_get_value_type (k) == G_TYPE_INT64)
          {
            JsonArray *a = json_node_get_array (cur);
            gint64 n = json_node_get_int (k);

            if (n < 0 || n >= (gint64)json_array_get_length (a))
              return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                                 "index %" G_GINT64_FORMAT
                                 " is out of range (the list has %u items)",
                                 n, json_array_get_length (a));
            cur = json_array_get_element (a, (guint)n);
          }
        else if (cur == NULL || JSON_NODE_HOLDS_NULL (cur))
          cur = NULL;
        else
          return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                             "template function index cannot index %s with %s", kind_name (cur),
                             kind_name (k));
        if (cur == NULL)
          break;
      }
    *out = cur ? json_node_ref (cur) : NULL;
    return TRUE;
  }
}

static gboolean
eval_arg (const Arg *a, JsonNode *data, JsonNode **out, GError **error)
{
  switch (a->kind)
    {
    case ARG_FIELD:
      return eval_field (data, a->path, out, error);
    case ARG_STRING:
      *out = string_node (a->text);
      return TRUE;
    case ARG_NUMBER:
      *out = json_node_new (JSON_NODE_VALUE);
      json_node_set_int (*out, a->number);
      return TRUE;
    case ARG_FUNC:
    default:
      g_assert_not_reached ();
    }
}

static void
node_unref0 (gpointer p)
{
  if (p)
    json_node_unref (p);
}

static gboolean
eval_action (const Piece *piece, JsonNode *data, JsonNode **out, GError **error)
{
  g_autoptr (JsonNode) prev = NULL;
  gboolean have_prev = FALSE;

  for (guint c = 0; c < piece->commands->len; c++)
    {
      GArray *args = piece->commands->pdata[c];
      const Arg *first = &g_array_index (args, Arg, 0);
      g_autoptr (GPtrArray) vals = g_ptr_array_new_with_free_func (node_unref0);
      JsonNode *result = NULL;

      if (first->kind != ARG_FUNC)
        {
          if (!eval_arg (first, data, &result, error))
            return FALSE;
        }
      else
        {
          for (guint i = 1; i < args->len; i++)
            {
              JsonNode *v = NULL;
              if (!eval_arg (&g_array_index (args, Arg, i), data, &v, error))
                return FALSE;
              g_ptr_array_add (vals, v);
            }
          if (have_prev)
            g_ptr_array_add (vals, g_steal_pointer (&prev));
          if (!call_func (first->text, vals, &result, error))
            return FALSE;
        }
      g_clear_pointer (&prev, json_node_unref);
      prev = result;
      have_prev = TRUE;
    }
  *out = g_steal_pointer (&prev);
  return TRUE;
}

char *
rrun_template_render (const RrunTemplate *t, JsonNode *data, GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; i < t->pieces->len; i++)
    {
      const Piece *piece = t->pieces->pdata[i];
      g_autoptr (JsonNode) v = NULL;

      if (piece->text)
        {
          g_string_append (out, piece->text);
          continue;
        }
      if (!eval_action (piece, data, &v, error))
        return NULL;
      append_value (out, v);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}
