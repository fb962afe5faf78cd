#include "storage/names.h"
#include "error.h"

#include <fnmatch.h>
#include <string.h>

#include "registry/reference.h"
#include "registry/registries-conf.h"

static gboolean
is_hex (const char *s, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isxdigit (s[i]) || g_ascii_isupper (s[i]))
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
rrun_names_normalize (const char *text, char **out_name, GError **error)
{
  g_autoptr(RrunReference) ref = NULL;

  if (!rrun_reference_parse (text, &ref, error))
    return FALSE;
  if (ref->digest != NULL)
    return bad_ref (error, text, "a name cannot hold a digest");
  if (ref->domain == NULL)
    ref->domain = g_strdup ("localhost");
  *out_name = rrun_reference_to_string (ref);
  return TRUE;
}

GStrv
rrun_names_candidates (const char *text, const RrunRegistriesConf *conf, GError **error)
{
  g_autoptr(RrunRegistriesConf) fallback = NULL;
  g_autoptr(RrunReference) ref = NULL;
  g_autoptr(GPtrArray) refs = NULL;
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_free);

  if (!rrun_reference_parse (text, &ref, error))
    return NULL;
  if (conf == NULL)
    conf = fallback = rrun_registries_conf_new ();
  /* Images made here (import, tag, load, commit) are named localhost/NAME: as podman's
     local lookup, they come before any registry's. */
  if (rrun_reference_is_short (ref))
    {
      g_autoptr(RrunReference) local = rrun_reference_qualify (ref, "localhost");
      g_ptr_array_add (out, rrun_reference_to_string (local));
    }
  refs = rrun_registries_conf_expand (conf, ref);
  for (guint i = 0; i < refs->len; i++)
    {
      char *name = rrun_reference_to_string (g_ptr_array_index (refs, i));

      if (g_ptr_array_find_with_equal_func (out, name, g_str_equal, NULL))
        g_free (name);
      else
        g_ptr_array_add (out, name);
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

gboolean
rrun_names_match_reference (const char *name, const char *pattern)
{
  g_autofree char *repo = NULL, *tag = NULL;
  const char *forms[3] = { NULL, NULL, NULL };
  const char *slash;

  rrun_names_split (name, &repo, &tag);
  forms[0] = repo;
  /* Stored names always start with their registry: "localhost/foo" -> "foo";
     docker.io also drops "library/". */
  slash = strchr (repo, '/');
  if (slash)
    {
      forms[1] = slash + 1;
      if (g_str_has_prefix (repo, "docker.io/library/"))
        forms[2] = repo + strlen ("docker.io/library/");
    }
  for (guint i = 0; i < G_N_ELEMENTS (forms) && forms[i]; i++)
    {
      g_autofree char *with_tag = g_strdup_printf ("%s:%s", forms[i], tag);

      if (fnmatch (pattern, forms[i], FNM_PATHNAME) == 0
          || fnmatch (pattern, with_tag, FNM_PATHNAME) == 0)
        return TRUE;
    }
  return FALSE;
}
