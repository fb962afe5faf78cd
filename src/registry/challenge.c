#include "registry/challenge.h"
#include "error.h"

#include <string.h>

void
rrun_auth_challenge_free (RrunAuthChallenge *c)
{
  if (c == NULL)
    return;
  g_free (c->realm);
  g_free (c->service);
  g_free (c->scope);
  g_free (c);
}

static gboolean
is_tchar (char c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("!#$%&'*+-.^_`|~", c) != NULL);
}

static void
skip_ows (const char **p)
{
  while (**p == ' ' || **p == '\t')
    (*p)++;
}

static char *
read_token (const char **p)
{
  const char *start = *p;

  while (is_tchar (**p))
    (*p)++;
  return *p > start ? g_strndup (start, *p - start) : NULL;
}

/* A quoted-string with backslash escapes; *p is at the opening quote. */
static char *
read_quoted (const char **p)
{
  GString *s = g_string_new (NULL);

  (*p)++;
  for (;;)
    {
      char c = **p;
      if (c == '\0')
        {
          g_string_free (s, TRUE);
          return NULL;
        }
      (*p)++;
      if (c == '"')
        return g_string_free (s, FALSE);
      if (c == '\\')
        {
          if (**p == '\0')
            {
              g_string_free (s, TRUE);
              return NULL;
            }
          c = *(*p)++;
        }
      g_string_append_c (s, c);
    }
}

gboolean
rrun_auth_challenge_parse (const char *header, RrunAuthChallenge **out_challenge,
                           GError **error)
{
  g_autoptr(RrunAuthChallenge) best = NULL;
  g_autoptr(RrunAuthChallenge) cur = NULL;
  const char *p = header;
  gboolean in_known = FALSE;

  for (;;)
    {
      g_autofree char *token = NULL;

      skip_ows (&p);
      while (*p == ',' || *p == ' ' || *p == '\t')
        p++;
      if (*p == '\0')
        break;
      token = read_token (&p);
      if (token == NULL)
        goto bad;
      skip_ows (&p);
      if (*p == '=')
        {
          g_autofree char *value = NULL;
          /* An auth-param of the current challenge. */
          p++;
          skip_ows (&p);
          value = *p == '"' ? read_quoted (&p) : read_token (&p);
          if (value == NULL)
            goto bad;
          if (!in_known)
            continue;
          if (g_ascii_strcasecmp (token, "realm") == 0)
            g_free (cur->realm), cur->realm = g_steal_pointer (&value);
          else if (g_ascii_strcasecmp (token, "service") == 0)
            g_free (cur->service), cur->service = g_steal_pointer (&value);
          else if (g_ascii_strcasecmp (token, "scope") == 0)
            g_free (cur->scope), cur->scope = g_steal_pointer (&value);
          continue;
        }
      /* A new challenge: its scheme. Keep the previous one if it is the best so far. */
      if (cur != NULL && (best == NULL || cur->scheme > best->scheme))
        {
          rrun_auth_challenge_free (best);
          best = g_steal_pointer (&cur);
        }
      g_clear_pointer (&cur, rrun_auth_challenge_free);
      in_known = FALSE;
      if (g_ascii_strcasecmp (token, "bearer") == 0 || g_ascii_strcasecmp (token, "basic") == 0)
        {
          cur = g_new0 (RrunAuthChallenge, 1);
          cur->scheme = g_ascii_strcasecmp (token, "bearer") == 0 ? RRUN_AUTH_BEARER
                                                                   : RRUN_AUTH_BASIC;
          in_known = TRUE;
        }
      /* A token68 may follow a scheme ("Negotiate abc=="): skip it. */
      skip_ows (&p);
      if (*p != ',' && *p != '\0' && !in_known)
        {
          while (*p != '\0' && *p != ',')
            p++;
        }
    }
  if (cur != NULL && (best == NULL || cur->scheme > best->scheme))
    {
      rrun_auth_challenge_free (best);
      best = g_steal_pointer (&cur);
    }
  if (best == NULL)
    return rrun_throw (error, RRUN_ERROR_REGISTRY,
                       "the registry asks for an authentication scheme rrun does not know: "
                       "\"%s\"",
                       header);
  if (best->scheme == RRUN_AUTH_BEARER)
    {
      if (best->realm == NULL)
        return rrun_throw (error, RRUN_ERROR_REGISTRY,
                           "the registry's Bearer challenge has no realm: \"%s\"", header);
      if (!g_str_has_prefix (best->realm, "https://") && !g_str_has_prefix (best->realm, "http://"))
        return rrun_throw (error, RRUN_ERROR_REGISTRY,
                           "the registry's token realm \"%s\" is not an http(s) URL",
                           best->realm);
    }
  *out_challenge = g_steal_pointer (&best);
  return TRUE;

bad:
  return rrun_throw (error, RRUN_ERROR_REGISTRY,
                     "cannot parse the registry's WWW-Authenticate header \"%s\"", header);
}
