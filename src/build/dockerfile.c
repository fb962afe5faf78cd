/* Dockerfile parsing: see dockerfile.h. */
#include "build/dockerfile.h"
#include "error.h"

#include <string.h>

static const char *const keywords[] = {
  "FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY",
  "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL",
  "HEALTHCHECK", "SHELL", NULL,
};

static void
heredoc_free (gpointer p)
{
  RrunHeredoc *h = p;
  g_free (h->name);
  g_free (h->content);
  g_free (h);
}

void
rrun_instruction_free (RrunInstruction *ins)
{
  if (ins == NULL)
    return;
  g_free (ins->keyword);
  g_ptr_array_unref (ins->flags);
  g_free (ins->args);
  g_ptr_array_unref (ins->heredocs);
  g_free (ins->text);
  g_free (ins);
}

const char *
rrun_instruction_flag (const RrunInstruction *ins, const char *name)
{
  gsize n = strlen (name);

  for (guint i = 0; i < ins->flags->len; i++)
    {
      const char *f = ins->flags->pdata[i];
      if (strncmp (f + 2, name, n) == 0 && (f[2 + n] == '=' || f[2 + n] == '\0'))
        return f[2 + n] == '=' ? f + 3 + n : "";
    }
  return NULL;
}

void
rrun_dockerfile_free (RrunDockerfile *df)
{
  if (df == NULL)
    return;
  g_free (df->path);
  g_ptr_array_unref (df->instructions);
  g_free (df);
}

static gboolean
is_blank (const char *s)
{
  for (; *s; s++)
    if (!g_ascii_isspace (*s))
      return FALSE;
  return TRUE;
}

static gboolean
is_comment (const char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  return *s == '#';
}

/* A line ending in the escape character (trailing blanks ignored) continues; the escape
   is removed. */
static gboolean
continues (GString *line, char escape)
{
  gsize n = line->len;

  while (n > 0 && (line->str[n - 1] == ' ' || line->str[n - 1] == '\t' || line->str[n - 1] == '\r'))
    n--;
  if (n > 0 && line->str[n - 1] == escape)
    {
      g_string_truncate (line, n - 1);
      return TRUE;
    }
  return FALSE;
}

/* The heredoc delimiters in args ("<<EOF", "<<-'EOF'"), in order. */
static void
find_heredocs (const char *args, GPtrArray *names, GArray *strip_tabs, GArray *expand)
{
  const char *p = args;

  while ((p = strstr (p, "<<")) != NULL)
    {
      gboolean dash = FALSE, quoted = FALSE;
      const char *start;
      char q = 0;

      p += 2;
      if (*p == '-')
        dash = TRUE, p++;
      if (*p == '"' || *p == '\'')
        q = *p++, quoted = TRUE;
      start = p;
      while (g_ascii_isalnum (*p) || *p == '_' || *p == '-' || *p == '.')
        p++;
      if (p == start || (q && *p != q))
        continue;
      g_ptr_array_add (names, g_strndup (start, p - start));
      g_array_append_val (strip_tabs, dash);
      {
        gboolean e = !quoted;
        g_array_append_val (expand, e);
      }
      if (q)
        p++;
    }
}

/* The flags each instruction takes (docker's dockerfile:1 syntax); a flag this build does
   not know is a parse error, as it is for docker, rather than a word silently dropped. */
static gboolean
flag_known (const char *keyword, const char *flag)
{
  static const char *const run[] = { "mount", "network", "security", NULL };
  static const char *const copy[] = { "from", "chown", "chmod", "link", NULL };
  static const char *const add[] = { "chown", "chmod", "link", "checksum", "keep-git-dir", NULL };
  static const char *const from[] = { "platform", NULL };
  const char *const *known = strcmp (keyword, "RUN") == 0    ? run
                             : strcmp (keyword, "COPY") == 0 ? copy
                             : strcmp (keyword, "ADD") == 0  ? add
                             : strcmp (keyword, "FROM") == 0 ? from
                                                             : NULL;
  g_autofree char *name = g_strndup (flag + 2, strcspn (flag + 2, "="));

  return known && g_strv_contains (known, name);
}

static gboolean
parse_fail (GError **error, const char *path, guint line, const char *keyword,
            const char *fmt, ...) G_GNUC_PRINTF (5, 6);

static gboolean
parse_fail (GError **error, const char *path, guint line, const char *keyword,
            const char *fmt, ...)
{
  va_list ap;
  g_autofree char *why = NULL;

  va_start (ap, fmt);
  why = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (keyword)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s:%u: %s: %s", path, line, keyword,
                       why);
  return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s:%u: %s", path, line, why);
}

gboolean
rrun_dockerfile_parse (const char *text, const char *path, RrunDockerfile **out, GError **error)
{
  g_autoptr(RrunDockerfile) df = g_new0 (RrunDockerfile, 1);
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  guint n = g_strv_length (lines);
  gboolean directives = TRUE;
  guint i = 0;

  df->path = g_strdup (path);
  df->escape = '\\';
  df->instructions = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_instruction_free);
  /* A final "\r" of CRLF files. */
  for (guint k = 0; k < n; k++)
    {
      gsize len = strlen (lines[k]);
      if (len && lines[k][len - 1] == '\r')
        lines[k][len - 1] = '\0';
    }
  while (i < n)
    {
      g_autoptr(GString) line = NULL;
      g_autoptr(RrunInstruction) ins = NULL;
      g_autoptr(GPtrArray) names = NULL;
      g_autoptr(GArray) strip = NULL, expand = NULL;
      const char *p;
      guint first = i + 1;

      if (directives && is_comment (lines[i]))
        {
          const char *c = strchr (lines[i], '#') + 1;
          g_autofree char *raw = NULL, *key = NULL;
          const char *eq = strchr (c, '=');
          if (eq)
            {
              raw = g_strndup (c, eq - c);
              key = g_ascii_strdown (g_strstrip (raw), -1);
              if (strcmp (key, "escape") == 0)
                {
                  g_autofree char *v = g_strstrip (g_strdup (eq + 1));
                  if (strcmp (v, "\\") != 0 && strcmp (v, "`") != 0)
                    return parse_fail (error, path, i + 1, NULL,
                                       "invalid escape directive \"%s\": expected \\ or `", v);
                  df->escape = v[0];
                  i++;
                  continue;
                }
              if (strcmp (key, "syntax") == 0 || strcmp (key, "check") == 0)
                {
                  i++;
                  continue;
                }
            }
        }
      directives = FALSE;
      if (is_blank (lines[i]) || is_comment (lines[i]))
        {
          i++;
          continue;
        }
      line = g_string_new (lines[i++]);
      while (continues (line, df->escape) && i < n)
        {
          /* Comment and empty lines inside a continued instruction are dropped. */
          while (i < n && (is_comment (lines[i]) || is_blank (lines[i])))
            i++;
          if (i < n)
            g_string_append (line, lines[i++]);
        }
      ins = g_new0 (RrunInstruction, 1);
      ins->line = first;
      ins->flags = g_ptr_array_new_with_free_func (g_free);
      ins->heredocs = g_ptr_array_new_with_free_func (heredoc_free);
      p = line->str;
      while (g_ascii_isspace (*p))
        p++;
      {
        const char *end = p;
        while (*end && !g_ascii_isspace (*end))
          end++;
        {
          g_autofree char *word = g_strndup (p, end - p);
          ins->keyword = g_ascii_strup (word, -1);
        }
        p = end;
      }
      if (!g_strv_contains (keywords, ins->keyword))
        return parse_fail (error, path, first, ins->keyword, "unknown instruction");
      while (g_ascii_isspace (*p))
        p++;
      /* Flags: only where the instruction takes them; RUN's words may start with --. */
      while (g_str_has_prefix (p, "--")
             && (strcmp (ins->keyword, "RUN") == 0 || strcmp (ins->keyword, "COPY") == 0
                 || strcmp (ins->keyword, "ADD") == 0 || strcmp (ins->keyword, "FROM") == 0))
        {
          const char *end = p;
          while (*end && !g_ascii_isspace (*end))
            end++;
          g_ptr_array_add (ins->flags, g_strndup (p, end - p));
          p = end;
          while (g_ascii_isspace (*p))
            p++;
        }
      for (guint f = 0; f < ins->flags->len; f++)
        if (!flag_known (ins->keyword, ins->flags->pdata[f]))
          {
            g_autofree char *name = g_strndup (ins->flags->pdata[f],
                                               strcspn (ins->flags->pdata[f], "="));
            return parse_fail (error, path, first, ins->keyword, "unknown flag %s", name);
          }
      ins->args = g_strdup (p);
      g_strchomp (ins->args);
      ins->text = g_strdup (g_strstrip (line->str));
      if (strcmp (ins->keyword, "RUN") == 0 || strcmp (ins->keyword, "COPY") == 0
          || strcmp (ins->keyword, "ADD") == 0)
        {
          names = g_ptr_array_new_with_free_func (g_free);
          strip = g_array_new (FALSE, FALSE, sizeof (gboolean));
          expand = g_array_new (FALSE, FALSE, sizeof (gboolean));
          find_heredocs (ins->args, names, strip, expand);
          for (guint h = 0; h < names->len; h++)
            {
              RrunHeredoc *doc = g_new0 (RrunHeredoc, 1);
              g_autoptr(GString) body = g_string_new (NULL);
              gboolean found = FALSE;

              doc->name = g_strdup (names->pdata[h]);
              doc->expand = g_array_index (expand, gboolean, h);
              g_ptr_array_add (ins->heredocs, doc);
              while (i < n)
                {
                  const char *l = lines[i++];
                  if (g_array_index (strip, gboolean, h))
                    while (*l == '\t')
                      l++;
                  if (strcmp (l, doc->name) == 0)
                    {
                      found = TRUE;
                      break;
                    }
                  g_string_append (body, l);
                  g_string_append_c (body, '\n');
                }
              if (!found)
                return parse_fail (error, path, first, ins->keyword,
                                   "heredoc \"%s\" has no closing line \"%s\"", doc->name,
                                   doc->name);
              doc->content = g_string_free (g_steal_pointer (&body), FALSE);
            }
        }
      if (df->instructions->len == 0 && strcmp (ins->keyword, "FROM") != 0
          && strcmp (ins->keyword, "ARG") != 0)
        return parse_fail (error, path, first, ins->keyword,
                           "the first instruction must be FROM (or ARG before it)");
      if (*ins->args == '\0' && ins->heredocs->len == 0)
        return parse_fail (error, path, first, ins->keyword, "needs at least one argument");
      g_ptr_array_add (df->instructions, g_steal_pointer (&ins));
    }
  if (df->instructions->len == 0)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s: no instructions", path);
  {
    gboolean from = FALSE;
    for (guint k = 0; k < df->instructions->len; k++)
      from |= strcmp (((RrunInstruction *) df->instructions->pdata[k])->keyword, "FROM") == 0;
    if (!from)
      return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s: no FROM instruction", path);
  }
  *out = g_steal_pointer (&df);
  return TRUE;
}

gboolean
rrun_build_expand (const char *text, char escape, RrunBuildLookupFunc lookup,
                   gpointer user_data, GHashTable *used, char **out, GError **error)
{
  g_autoptr(GString) s = g_string_new (NULL);
  const char *p = text;
  gboolean in_single = FALSE, in_double = FALSE;

  while (*p)
    {
      if (*p == escape && p[1] && !in_single)
        {
          g_string_append_c (s, *p++);
          g_string_append_c (s, *p++);
          continue;
        }
      if (*p == '\'' && !in_double)
        in_single = !in_single;
      else if (*p == '"' && !in_single)
        in_double = !in_double;
      if (*p != '$' || in_single)
        {
          g_string_append_c (s, *p++);
          continue;
        }
      p++;
      if (*p == '{')
        {
          const char *end = p + 1;
          g_autofree char *inner = NULL;
          int depth = 1;
          g_autofree char *name = NULL;
          const char *op, *val;
          gsize nlen;

          /* The matching brace: a default may hold ${...} of its own. */
          for (; *end; end++)
            if (*end == '{')
              depth++;
            else if (*end == '}' && --depth == 0)
              break;
          if (*end == '\0')
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               "missing '}' in \"%s\"", text);
          inner = g_strndup (p + 1, end - p - 1);
          nlen = strspn (inner, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
          name = g_strndup (inner, nlen);
          op = inner + nlen;
          if (used)
            g_hash_table_add (used, g_strdup (name));
          val = lookup (name, user_data);
          if (*op == '\0')
            g_string_append (s, val ? val : "");
          else if (g_str_has_prefix (op, ":-") || *op == '-')
            {
              gboolean colon = *op == ':';
              const char *word = op + (colon ? 2 : 1);
              if (val && (!colon || *val))
                g_string_append (s, val);
              else
                {
                  g_autofree char *w = NULL;
                  if (!rrun_build_expand (word, escape, lookup, user_data, used, &w, error))
                    return FALSE;
                  g_string_append (s, w);
                }
            }
          else if (g_str_has_prefix (op, ":+") || *op == '+')
            {
              gboolean colon = *op == ':';
              const char *word = op + (colon ? 2 : 1);
              if (val && (!colon || *val))
                {
                  g_autofree char *w = NULL;
                  if (!rrun_build_expand (word, escape, lookup, user_data, used, &w, error))
                    return FALSE;
                  g_string_append (s, w);
                }
            }
          else
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               "unsupported substitution \"${%s}\"", inner);
          p = end + 1;
        }
      else if (g_ascii_isalpha (*p) || *p == '_')
        {
          const char *start = p;
          g_autofree char *name = NULL;
          const char *val;
          while (g_ascii_isalnum (*p) || *p == '_')
            p++;
          name = g_strndup (start, p - start);
          if (used)
            g_hash_table_add (used, g_strdup (name));
          val = lookup (name, user_data);
          g_string_append (s, val ? val : "");
        }
      else
        g_string_append_c (s, '$');
    }
  *out = g_string_free (g_steal_pointer (&s), FALSE);
  return TRUE;
}
