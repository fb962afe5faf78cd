#include "storage/names.h"
#include "error.h"

#include <string.h>

void
rrun_reference_free (RrunReference *ref)
{
  if (ref == NULL)
    return;
  g_free (ref->domain);
  g_free (ref->path);
  g_free (ref->tag);
  g_free (ref->digest);
  g_free (ref);
}

static gboolean
is_hex (const char *s, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
      return FALSE;
  return TRUE;
}

/* One path component, docker's [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*. */
static gboolean
is_lower_alnum (char c)
{
  return g_ascii_islower (c) || g_ascii_isdigit (c);
}

static gboolean
valid_component (const char *s, gsize len)
{
  gsize i = 0;

  for (;;)
    {
      if (i >= len || !is_lower_alnum (s[i]))
        return FALSE;
      while (i < len && is_lower_alnum (s[i]))
        i++;
      if (i == len)
        return TRUE;
      if (s[i] == '.')
        i++;
      else if (s[i] == '_')
        i += (i + 1 < len && s[i + 1] == '_') ? 2 : 1;
      else if (s[i] == '-')
        while (i < len && s[i] == '-')
          i++;
      else
        return FALSE;
    }
}

static gboolean
valid_domain (const char *s)
{
  if (*s == '\0' || *s == '.' || *s == '-' || *s == ':')
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '-' && *p != ':' && *p != '['
        && *p != ']')
      return FALSE;
  return TRUE;
}

static gboolean
valid_tag (const char *s)
{
  gsize len = strlen (s);

  if (len == 0 || len > 128 || !(g_ascii_isalnum (s[0]) || s[0] == '_'))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
      return FALSE;
  return TRUE;
}

static gboolean
bad_ref (GError **error, const char *text, const char *why)
{
  rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid image reference \"%s\": %s", text,
              why);
  return FALSE;
}

gboolean
rrun_reference_parse (const char *text, RrunReference **out_ref, GError **error)
{
  g_autoptr(RrunReference) ref = g_new0 (RrunReference, 1);
  g_autofree char *rest = g_strdup (text);
  char *at, *slash, *colon, *p;

  if (*text == '\0')
    return bad_ref (error, text, "empty");
  if (strlen (text) > 255 + 128 + 72)
    return bad_ref (error, text, "too long");
  at = strchr (rest, '@');
  if (at != NULL)
    {
      *at = '\0';
      if (!g_str_has_prefix (at + 1, "sha256:") || strlen (at + 8) != 64
          || !is_hex (at + 8, 64))
        return bad_ref (error, text, "the digest must be sha256: and 64 lowercase hex digits");
      ref->digest = g_strdup (at + 1);
    }
  slash = strchr (rest, '/');
  if (slash != NULL)
    {
      *slash = '\0';
      if (strchr (rest, '.') != NULL || strchr (rest, ':') != NULL
          || strcmp (rest, "localhost") == 0)
        {
          if (!valid_domain (rest))
            return bad_ref (error, text, "invalid registry name");
          ref->domain = g_strdup (rest);
          memmove (rest, slash + 1, strlen (slash + 1) + 1);
        }
      else
        *slash = '/';
    }
  /* A tag is after the last ':' of the path part (the domain, which may hold a port,
     is gone already). */
  colon = strrchr (rest, ':');
  if (colon != NULL)
    {
      *colon = '\0';
      if (!valid_tag (colon + 1))
        return bad_ref (error, text,
                        "a tag is at most 128 letters, digits, '_', '.' or '-' and cannot "
                        "start with '.' or '-'");
      ref->tag = g_strdup (colon + 1);
    }
  else if (ref->digest == NULL)
    ref->tag = g_strdup ("latest");
  if (*rest == '\0')
    return bad_ref (error, text, "no repository name");
  p = rest;
  for (;;)
    {
      char *end = strchr (p, '/');
      gsize len = end ? (gsize) (end - p) : strlen (p);

      if (!valid_component (p, len))
        return bad_ref (error, text,
                        "repository names are lowercase letters, digits and separators "
                        "('.', '_', '__', '-') between '/'");
      if (end == NULL)
        break;
      p = end + 1;
    }
  if (strlen (rest) > 255)
    return bad_ref (error, text, "the repository name is longer than 255 characters");
  ref->path = g_steal_pointer (&rest);
  *out_ref = g_steal_pointer (&ref);
  return TRUE;
}

char *
rrun_reference_format (const RrunReference *ref)
{
  GString *s = g_string_new (NULL);

  if (ref->domain)
    g_string_append_printf (s, "%s/", ref->domain);
  g_string_append (s, ref->path);
  if (ref->tag)
    g_string_append_printf (s, ":%s", ref->tag);
  if (ref->digest)
    g_string_append_printf (s, "@%s", ref->digest);
  return g_string_free (s, FALSE);
}

gboolean
rrun_names_normalize (const char *text, char **out_name, GError **error)
{
  g_autoptr(RrunReference) ref = NULL;

  if (!rrun_reference_parse (text, &ref, error))
    return FALSE;
  if (ref->digest != NULL)
    return bad_ref (error, text, "a name cannot hold a digest");
  if (ref->domain == NULL)
    ref->domain = g_strdup ("localhost");
  *out_name = rrun_reference_format (ref);
  return TRUE;
}

GStrv
rrun_names_candidates (const char *text, const char *const *search_registries,
                       GError **error)
{
  static const char *const default_registries[] = { "docker.io", NULL };
  g_autoptr(RrunReference) ref = NULL;
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *orig_domain = NULL;

  if (!rrun_reference_parse (text, &ref, error))
    return NULL;
  if (ref->domain != NULL)
    {
      g_ptr_array_add (out, rrun_reference_format (ref));
      /* docker.io/alpine is docker.io/library/alpine. */
      if (strcmp (ref->domain, "docker.io") == 0 && strchr (ref->path, '/') == NULL)
        {
          char *p = ref->path;
          ref->path = g_strconcat ("library/", p, NULL);
          g_free (p);
          g_ptr_array_add (out, rrun_reference_format (ref));
        }
      g_ptr_array_add (out, NULL);
      return (GStrv) g_ptr_array_free (g_steal_pointer (&out), FALSE);
    }
  if (search_registries == NULL)
    search_registries = default_registries;
  ref->domain = g_strdup ("localhost");
  g_ptr_array_add (out, rrun_reference_format (ref));
  for (guint i = 0; search_registries[i] != NULL; i++)
    {
      g_free (ref->domain);
      ref->domain = g_strdup (search_registries[i]);
      if (strcmp (search_registries[i], "localhost") != 0)
        g_ptr_array_add (out, rrun_reference_format (ref));
      if (strcmp (search_registries[i], "docker.io") == 0 && strchr (ref->path, '/') == NULL)
        {
          g_autofree char *p = g_steal_pointer (&ref->path);
          ref->path = g_strconcat ("library/", p, NULL);
          g_ptr_array_add (out, rrun_reference_format (ref));
          g_free (ref->path);
          ref->path = g_steal_pointer (&p);
        }
    }
  g_ptr_array_add (out, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

void
rrun_names_split (const char *name, char **out_repository, char **out_tag)
{
  const char *slash = strrchr (name, '/');
  const char *at = strchr (name, '@');
  const char *colon = strrchr (slash ? slash : name, ':');

  if (at != NULL && (colon == NULL || colon > at))
    colon = NULL;
  if (colon == NULL)
    {
      *out_repository = at ? g_strndup (name, (gsize) (at - name)) : g_strdup (name);
      *out_tag = g_strdup ("<none>");
      return;
    }
  *out_repository = g_strndup (name, (gsize) (colon - name));
  *out_tag = at ? g_strndup (colon + 1, (gsize) (at - colon - 1)) : g_strdup (colon + 1);
}

gboolean
rrun_names_is_id_prefix (const char *text)
{
  gsize len;

  if (g_str_has_prefix (text, "sha256:"))
    text += 7;
  len = strlen (text);
  return len >= 3 && len <= 64 && is_hex (text, len);
}
