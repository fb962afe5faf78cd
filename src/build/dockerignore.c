/* .dockerignore: see dockerignore.h. Patterns become anchored regular expressions as in
   moby's patternmatcher. */
#include "build/dockerignore.h"
#include "error.h"

#include <string.h>

typedef struct
{
  char *text;
  gboolean exclusion; /* '!' */
  GRegex *re;
} Pattern;

struct RrunIgnore
{
  GPtrArray *patterns;
  gboolean exceptions;
};

static void
pattern_free (gpointer p)
{
  Pattern *pt = p;
  g_free (pt->text);
  if (pt->re)
    g_regex_unref (pt->re);
  g_free (pt);
}

void
rrun_ignore_free (RrunIgnore *ig)
{
  if (ig == NULL)
    return;
  g_ptr_array_unref (ig->patterns);
  g_free (ig);
}

/* Go's filepath.Clean for relative '/' paths, leading '/' dropped. */
static char *
clean (const char *path)
{
  g_auto(GStrv) parts = g_strsplit (path, "/", -1);
  g_autoptr(GPtrArray) out = g_ptr_array_new ();

  for (guint i = 0; parts[i]; i++)
    {
      if (*parts[i] == '\0' || strcmp (parts[i], ".") == 0)
        continue;
      if (strcmp (parts[i], "..") == 0)
        {
          if (out->len > 0 && strcmp (out->pdata[out->len - 1], "..") != 0)
            g_ptr_array_remove_index (out, out->len - 1);
          continue; /* ".." at the root stays at the root */
        }
      g_ptr_array_add (out, parts[i]);
    }
  g_ptr_array_add (out, NULL);
  return out->len == 1 ? g_strdup (".") : g_strjoinv ("/", (GStrv) out->pdata);
}

static char *
to_regex (const char *pattern)
{
  g_autoptr(GString) re = g_string_new ("^");
  const char *p = pattern;

  while (*p)
    {
      char c = *p++;
      if (c == '*')
        {
          if (*p == '*')
            {
              p++;
              if (*p == '/')
                p++;
              if (*p == '\0')
                g_string_append (re, ".*");
              else
                g_string_append (re, "(.*/)?");
            }
          else
            g_string_append (re, "[^/]*");
        }
      else if (c == '?')
        g_string_append (re, "[^/]");
      else if (c == '\\' && *p)
        {
          g_autofree char *e = g_regex_escape_string (p, 1);
          g_string_append (re, e);
          p++;
        }
      else if (c == '[')
        {
          /* A class, as written ("[a-z]", "[^x]" Go writes "[^x]" too). */
          const char *end = strchr (p, ']');
          if (end == NULL)
            return NULL;
          g_string_append_c (re, '[');
          g_string_append_len (re, p, end - p);
          g_string_append_c (re, ']');
          p = end + 1;
        }
      else
        {
          char one[2] = { c, 0 };
          g_autofree char *e = g_regex_escape_string (one, 1);
          g_string_append (re, e);
        }
    }
  g_string_append_c (re, '$');
  return g_string_free (g_steal_pointer (&re), FALSE);
}

gboolean
rrun_ignore_parse (const char *text, RrunIgnore **out, GError **error)
{
  g_autoptr(RrunIgnore) ig = g_new0 (RrunIgnore, 1);
  g_auto(GStrv) lines = g_strsplit (text ? text : "", "\n", -1);

  ig->patterns = g_ptr_array_new_with_free_func (pattern_free);
  for (guint i = 0; lines[i]; i++)
    {
      g_autofree char *line = g_strstrip (g_strdup (lines[i]));
      g_autofree char *re = NULL;
      Pattern *pt;
      const char *body = line;
      gboolean excl = FALSE;

      if (*line == '\0' || *line == '#')
        continue;
      if (*body == '!')
        {
          excl = TRUE;
          body = g_strstrip ((char *) body + 1);
          if (*body == '\0')
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               ".dockerignore: illegal exclusion pattern: \"!\"");
        }
      pt = g_new0 (Pattern, 1);
      pt->exclusion = excl;
      pt->text = clean (body);
      g_ptr_array_add (ig->patterns, pt);
      re = to_regex (pt->text);
      if (re == NULL || (pt->re = g_regex_new (re, G_REGEX_DOTALL, 0, NULL)) == NULL)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           ".dockerignore: invalid pattern \"%s\"", body);
      ig->exceptions |= excl;
    }
  *out = g_steal_pointer (&ig);
  return TRUE;
}

static gboolean
pattern_matches (const Pattern *pt, const char *path)
{
  g_autofree char *parent = NULL;
  char *slash;

  if (g_regex_match (pt->re, path, 0, NULL))
    return TRUE;
  /* A pattern naming a directory excludes what is in it. */
  parent = g_strdup (path);
  while ((slash = strrchr (parent, '/')) != NULL)
    {
      *slash = '\0';
      if (g_regex_match (pt->re, parent, 0, NULL))
        return TRUE;
    }
  return FALSE;
}

gboolean
rrun_ignore_matches (const RrunIgnore *ig, const char *path)
{
  gboolean excluded = FALSE;

  if (ig == NULL)
    return FALSE;
  for (guint i = 0; i < ig->patterns->len; i++)
    {
      const Pattern *pt = ig->patterns->pdata[i];
      if (pattern_matches (pt, path))
        excluded = !pt->exclusion;
    }
  return excluded;
}

gboolean
rrun_ignore_has_exceptions (const RrunIgnore *ig)
{
  return ig && ig->exceptions;
}

gboolean
rrun_build_glob_match (const char *pattern, const char *name)
{
  g_autofree char *re = to_regex (pattern);
  g_autoptr(GRegex) r = NULL;

  if (re == NULL || (r = g_regex_new (re, G_REGEX_DOTALL, 0, NULL)) == NULL)
    return FALSE;
  return g_regex_match (r, name, 0, NULL);
}
