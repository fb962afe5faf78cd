/* Option values shared by the registry commands (login, logout, pull, run's implicit
   pull); kept apart from login.c so `rrun` itself links no registry client. */
#include "cli/cli.h"
#include "error.h"
#include "registry/auth.h"

#include <string.h>

gboolean
rrun_cli_parse_tls_verify (const char *value, gboolean *out, GError **error)
{
  if (value == NULL)
    return TRUE;
  if (g_ascii_strcasecmp (value, "true") == 0)
    *out = TRUE;
  else if (g_ascii_strcasecmp (value, "false") == 0)
    *out = FALSE;
  else
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --tls-verify \"%s\": expected true or false", value);
  return TRUE;
}

/* "https://quay.io/" -> "quay.io"; "quay.io/org" stays (a namespace-scoped login). */
gboolean
rrun_cli_registry_argument (const char *arg, char **out_key, char **out_domain,
                            GError **error)
{
  g_autofree char *key = rrun_auth_normalize_key (arg);
  g_autofree char *domain = NULL;
  const char *slash = strchr (key, '/');

  domain = slash ? g_strndup (key, slash - key) : g_strdup (key);
  if (*domain == '\0' || strpbrk (key, " \t\r\n@") != NULL)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid registry \"%s\"", arg);
  *out_key = g_steal_pointer (&key);
  *out_domain = g_steal_pointer (&domain);
  return TRUE;
}
