/* Image reference grammar (docker's distribution/reference, which podman shares):

     reference  := name [ ":" tag ] [ "@" digest ]
     name       := [ domain "/" ] component ( "/" component )*
     domain     := host [ ":" port ]     (recognised by '.', ':' or "localhost")
     component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
     tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
     digest     := "sha256:" [a-f0-9]{64}    (the only algorithm rrun verifies) */
#include "registry/reference.h"
#include "error.h"

#include <string.h>

#define NAME_MAX_TOTAL 255

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

RrunReference *
rrun_reference_copy (const RrunReference *ref)
{
  RrunReference *c = g_new0 (RrunReference, 1);

  c->domain = g_strdup (ref->domain);
  c->path = g_strdup (ref->path);
  c->tag = g_strdup (ref->tag);
  c->digest = g_strdup (ref->digest);
  return c;
}

gboolean
rrun_digest_validate (const char *digest, const char *what, GError **error)
{
  const char *hex;
  gsize n = 0;

  if (!g_str_has_prefix (digest, "sha256:"))
    {
      const char *colon = strchr (digest, ':');
      if (colon != NULL && colon != digest)
        return rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                           "unsupported %s algorithm \"%.*s\": rrun verifies sha256 only", what,
                           (int) (colon - digest), digest);
      return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                         "invalid %s \"%s\": expected \"sha256:\" and 64 hex digits", what,
                         digest);
    }
  hex = digest + strlen ("sha256:");
  for (; hex[n] != '\0'; n++)
    if (!g_ascii_isxdigit (hex[n]) || g_ascii_isupper (hex[n]))
      break;
  if (n != 64 || hex[n] != '\0')
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid %s \"%s\": expected \"sha256:\" and 64 lowercase hex digits",
                       what, digest);
  return TRUE;
}

static gboolean
is_alnum_lower (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static gboolean
is_separator (char c)
{
  return c == '.' || c == '_' || c == '-';
}

/* One path component: alphanumerics separated by '.', '_', '__' or runs of '-'. */
static gboolean
check_component (const char *text, const char *comp, gsize len, GError **error)
{
  gboolean has_upper = FALSE;

  /* A character no case change can fix comes first: "BAD TAG" has a space. */
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (comp[i]) && !is_separator (comp[i]))
      return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                         "invalid image reference \"%s\": invalid character '%c' in "
                         "repository name",
                         text, comp[i]);
  for (gsize i = 0; i < len; i++)
    if (g_ascii_isupper (comp[i]))
      has_upper = TRUE;
  if (has_upper)
    {
      g_autofree char *lower = g_ascii_strdown (text, -1);
      g_autoptr(RrunReference) fixed = NULL;

      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "invalid image reference \"%s\": repository name must be lowercase", text);
      /* Only a name that is valid itself (no recursion: it has no uppercase left). */
      if (rrun_reference_parse (lower, &fixed, NULL))
        rrun_add_hint (error, "write it as \"%s\"", lower);
      return FALSE;
    }
  if (len == 0)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid image reference \"%s\": empty path component", text);
  if (!is_alnum_lower (comp[0]) || !is_alnum_lower (comp[len - 1]))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid image reference \"%s\": path component \"%.*s\" must start "
                       "and end with a lowercase letter or digit",
                       text, (int) len, comp);
  for (gsize i = 0; i < len; i++)
    {
      char c = comp[i];
      if (is_alnum_lower (c))
        continue;
      if (!is_separator (c))
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid image reference \"%s\": invalid character '%c' in "
                           "repository name",
                           text, c);
      /* Separators: "." or "_" alone, "__", or any run of "-". */
      if (c == '.' && is_separator (comp[i + 1]))
        goto bad_sep;
      if (c == '_' && comp[i + 1] == '_' && is_separator (comp[i + 2]))
        goto bad_sep;
      if (c == '_' && comp[i + 1] != '_' && is_separator (comp[i + 1]))
        goto bad_sep;
      if (c == '_' && comp[i + 1] == '_')
        i++;
      if (c == '-')
        {
          while (comp[i + 1] == '-')
            i++;
          if (is_separator (comp[i + 1]))
            goto bad_sep;
        }
    }
  return TRUE;

bad_sep:
  return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                     "invalid image reference \"%s\": invalid separator sequence in \"%.*s\"",
                     text, (int) len, comp);
}

static gboolean
check_domain (const char *text, const char *domain, GError **error)
{
  const char *port = NULL;
  const char *host_end;

  if (domain[0] == '[')
    {
      /* An IPv6 literal: "[::1]:5000". */
      const char *close = strchr (domain, ']');
      if (close == NULL)
        goto bad;
      for (const char *p = domain + 1; p < close; p++)
        if (!g_ascii_isxdigit (*p) && *p != ':')
          goto bad;
      host_end = close + 1;
      if (*host_end == ':')
        port = host_end + 1;
      else if (*host_end != '\0')
        goto bad;
    }
  else
    {
      const char *colon = strchr (domain, ':');
      host_end = colon ? colon : domain + strlen (domain);
      if (colon)
        port = colon + 1;
      if (host_end == domain)
        goto bad;
      /* Labels of letters, digits and inner '-', separated by single dots. */
      for (const char *p = domain; p < host_end; p++)
        {
          gboolean edge = (p == domain || p[-1] == '.' || p + 1 == host_end || p[1] == '.');
          if (g_ascii_isalnum (*p))
            continue;
          if (*p == '-' && !edge)
            continue;
          if (*p == '.' && p != domain && p + 1 != host_end && p[1] != '.')
            continue;
          goto bad;
        }
    }
  if (port != NULL)
    {
      gsize n = strlen (port);
      if (n == 0 || n > 5)
        goto bad;
      for (gsize i = 0; i < n; i++)
        if (!g_ascii_isdigit (port[i]))
          goto bad;
    }
  return TRUE;

bad:
  return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                     "invalid image reference \"%s\": invalid registry \"%s\"", text, domain);
}

static gboolean
check_tag (const char *text, const char *tag, GError **error)
{
  gsize n = strlen (tag);
  gboolean ok = n >= 1 && n <= 128 && (g_ascii_isalnum (tag[0]) || tag[0] == '_');

  for (gsize i = 1; ok && i < n; i++)
    ok = g_ascii_isalnum (tag[i]) || tag[i] == '_' || tag[i] == '.' || tag[i] == '-';
  if (!ok)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid image reference \"%s\": invalid tag \"%s\": a tag is 1 to 128 "
                       "letters, digits, '_', '.' or '-', not starting with '.' or '-'",
                       text, tag);
  return TRUE;
}

static gboolean
looks_like_domain (const char *first, gsize len)
{
  return memchr (first, '.', len) != NULL || memchr (first, ':', len) != NULL
         || (len == strlen ("localhost") && memcmp (first, "localhost", len) == 0)
         || (len > 0 && first[0] == '[');
}

gboolean
rrun_reference_parse (const char *text, RrunReference **out_ref, GError **error)
{
  g_autoptr(RrunReference) ref = g_new0 (RrunReference, 1);
  g_autofree char *work = NULL;
  char *at, *name, *slash, *last_slash, *colon;
  gsize name_len;

  if (text == NULL || *text == '\0')
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid image reference \"\": it is empty");
  work = g_strdup (text);

  at = strchr (work, '@');
  if (at != NULL)
    {
      *at = '\0';
      if (!rrun_digest_validate (at + 1, "digest", error))
        {
          g_prefix_error (error, "invalid image reference \"%s\": ", text);
          return FALSE;
        }
      ref->digest = g_strdup (at + 1);
    }

  /* A tag is after the last ':' that follows the last '/' (a port's ':' comes before). */
  last_slash = strrchr (work, '/');
  colon = strrchr (last_slash ? last_slash : work, ':');
  if (colon != NULL)
    {
      *colon = '\0';
      if (!check_tag (text, colon + 1, error))
        return FALSE;
      ref->tag = g_strdup (colon + 1);
    }
  else if (ref->digest == NULL)
    ref->tag = g_strdup ("latest");

  name = work;
  if (*name == '\0')
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid image reference \"%s\": no repository name", text);
  slash = strchr (name, '/');
  if (slash != NULL && looks_like_domain (name, slash - name))
    {
      *slash = '\0';
      if (!check_domain (text, name, error))
        return FALSE;
      ref->domain = g_strdup (name);
      name = slash + 1;
    }

  name_len = strlen (name);
  if (name_len > NAME_MAX_TOTAL)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid image reference \"%s\": repository name longer than %d "
                       "characters",
                       text, NAME_MAX_TOTAL);
  for (const char *c = name;;)
    {
      const char *end = strchr (c, '/');
      gsize len = end ? (gsize) (end - c) : strlen (c);
      if (!check_component (text, c, len, error))
        return FALSE;
      if (end == NULL)
        break;
      c = end + 1;
    }

  if (g_strcmp0 (ref->domain, "index.docker.io") == 0)
    {
      g_free (ref->domain);
      ref->domain = g_strdup (RRUN_DOCKER_IO);
    }
  if (g_strcmp0 (ref->domain, RRUN_DOCKER_IO) == 0 && strchr (name, '/') == NULL)
    ref->path = g_strconcat ("library/", name, NULL);
  else
    ref->path = g_strdup (name);
  /* Again with "library/": a name rrun prints must parse back (found by fuzzing). */
  if (strlen (ref->path) > NAME_MAX_TOTAL)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid image reference \"%s\": repository name longer than %d "
                       "characters",
                       text, NAME_MAX_TOTAL);
  *out_ref = g_steal_pointer (&ref);
  return TRUE;
}

gboolean
rrun_reference_is_short (const RrunReference *ref)
{
  return ref->domain == NULL;
}

RrunReference *
rrun_reference_qualify (const RrunReference *ref, const char *domain)
{
  RrunReference *c = rrun_reference_copy (ref);

  if (ref->domain != NULL)
    return c;
  c->domain = g_strdup (domain);
  if (strcmp (domain, RRUN_DOCKER_IO) == 0 && strchr (c->path, '/') == NULL)
    {
      char *p = g_strconcat ("library/", c->path, NULL);
      g_free (c->path);
      c->path = p;
    }
  return c;
}

char *
rrun_reference_repository (const RrunReference *ref)
{
  if (ref->domain == NULL)
    return g_strdup (ref->path);
  return g_strconcat (ref->domain, "/", ref->path, NULL);
}

char *
rrun_reference_to_string (const RrunReference *ref)
{
  g_autofree char *repo = rrun_reference_repository (ref);

  return g_strconcat (repo, ref->tag ? ":" : "", ref->tag ? ref->tag : "",
                      ref->digest ? "@" : "", ref->digest ? ref->digest : "", NULL);
}

const char *
rrun_reference_manifest_ref (const RrunReference *ref)
{
  return ref->digest ? ref->digest : ref->tag;
}

const char *
rrun_registry_domain_endpoint (const char *domain)
{
  /* Docker Hub's names live at docker.io; its API at registry-1.docker.io. */
  if (strcmp (domain, RRUN_DOCKER_IO) == 0 || strcmp (domain, "index.docker.io") == 0)
    return "registry-1.docker.io";
  return domain;
}
