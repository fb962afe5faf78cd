#include "registry/auth.h"
#include "error.h"
#include "util/text-file.h"
#include "util/json-value.h"
#include "util/path.h"

#include <errno.h>
#include <string.h>

void
rrun_credentials_free (RrunCredentials *creds)
{
  if (creds == NULL)
    return;
  g_free (creds->username);
  if (creds->password)
    explicit_bzero (creds->password, strlen (creds->password));
  g_free (creds->password);
  g_free (creds->source);
  g_free (creds);
}

char *
rrun_auth_normalize_key (const char *key)
{
  g_autofree char *k = NULL;
  gboolean had_scheme = FALSE;
  char *slash;

  if (g_str_has_prefix (key, "https://"))
    key += strlen ("https://"), had_scheme = TRUE;
  else if (g_str_has_prefix (key, "http://"))
    key += strlen ("http://"), had_scheme = TRUE;
  k = g_strdup (key);
  /* docker's legacy keys are URLs ("https://index.docker.io/v1/"): keep the host only.
     Keys without a scheme may name a namespace ("quay.io/org") and keep their path. */
  slash = strchr (k, '/');
  if (slash != NULL && had_scheme)
    *slash = '\0';
  while (*k != '\0' && k[strlen (k) - 1] == '/')
    k[strlen (k) - 1] = '\0';
  if (strcmp (k, "index.docker.io") == 0 || strcmp (k, "registry-1.docker.io") == 0)
    return g_strdup ("docker.io");
  if (g_str_has_prefix (k, "index.docker.io/") || g_str_has_prefix (k, "registry-1.docker.io/"))
    return g_strconcat ("docker.io", strchr (k, '/'), NULL);
  return g_steal_pointer (&k);
}

static gboolean
decode_entry (const RrunJson *entry, const char *source, const char *key,
              RrunCredentials **out_creds, GError **error)
{
  g_autofree guchar *raw = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;
  const RrunJson *auth;
  const char *colon;
  RrunCredentials *c;

  *out_creds = NULL;
  if (rrun_json_type (entry) != RRUN_JSON_OBJECT)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: auths.\"%s\" must be an object", source,
                       key);
  auth = rrun_json_member (entry, "auth");
  if (auth == NULL)
    return TRUE; /* docker writes {} when a credential helper holds the secret */
  if (rrun_json_type (auth) != RRUN_JSON_STRING)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: auths.\"%s\".auth must be a string",
                       source, key);
  if (*rrun_json_string (auth) == '\0')
    return TRUE;
  raw = g_base64_decode (rrun_json_string (auth), &len);
  text = g_strndup ((const char *) raw, len);
  colon = strchr (text, ':');
  if (len == 0 || strlen (text) != len || colon == NULL || colon == text)
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "%s: auths.\"%s\".auth is not base64 of \"user:password\"", source,
                       key);
  c = g_new0 (RrunCredentials, 1);
  c->username = g_strndup (text, colon - text);
  c->password = g_strdup (colon + 1);
  c->source = g_strdup (source);
  explicit_bzero (text, len);
  if (raw)
    explicit_bzero (raw, len);
  *out_creds = c;
  return TRUE;
}

/* The file's auths object (an empty one when there is none), each registry once. */
static RrunJson *
parse_auths (const char *text, const char *source, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(RrunJson) root = rrun_json_parse (text, strlen (text), RRUN_JSON_DEFAULT, &local);
  const RrunJson *auths;

  if (root == NULL)
    {
      rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot parse \"%s\": %s", source,
                  local->message);
      return NULL;
    }
  if (rrun_json_type (root) != RRUN_JSON_OBJECT)
    {
      rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot parse \"%s\": not a JSON object", source);
      return NULL;
    }
  auths = rrun_json_member (root, "auths");
  if (auths == NULL)
    return rrun_json_new_object ();
  if (rrun_json_type (auths) != RRUN_JSON_OBJECT)
    {
      rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: auths must be an object", source);
      return NULL;
    }
  return rrun_json_copy (auths);
}

gboolean
rrun_auth_lookup_text (const char *text, const char *source, const char *domain,
                       const char *repository, RrunCredentials **out_creds, GError **error)
{
  g_autoptr(RrunJson) auths = parse_auths (text, source, error);
  g_autofree char *want_domain = NULL;
  g_autofree char *want = NULL;
  const RrunJson *best = NULL;
  const char *best_key = NULL;
  gsize best_len = 0;

  *out_creds = NULL;
  if (auths == NULL)
    return FALSE;
  want_domain = rrun_auth_normalize_key (domain);
  want = repository && *repository ? g_strconcat (want_domain, "/", repository, NULL)
                                   : g_strdup (want_domain);
  for (guint i = 0; i < rrun_json_size (auths); i++)
    {
      const char *key = rrun_json_member_name (auths, i);
      g_autofree char *k = rrun_auth_normalize_key (key);
      gsize n = strlen (k);
      /* k matches when it is want or a path prefix of it, and names the same host. */
      if (strncmp (want, k, n) != 0 || (want[n] != '\0' && want[n] != '/')
          || n < strlen (want_domain))
        continue;
      if (n > best_len)
        {
          best = rrun_json_element (auths, i);
          best_key = key;
          best_len = n;
        }
    }
  if (best == NULL)
    return TRUE;
  return decode_entry (best, source, best_key, out_creds, error);
}

static GPtrArray *
read_paths (void)
{
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  const char *env = g_getenv ("REGISTRY_AUTH_FILE");
  const char *xdg = g_getenv ("XDG_RUNTIME_DIR");
  const char *docker = g_getenv ("DOCKER_CONFIG");

  if (env != NULL && *env != '\0')
    {
      g_ptr_array_add (paths, g_strdup (env));
      return paths;
    }
  if (xdg != NULL && *xdg == '/')
    g_ptr_array_add (paths, g_build_filename (xdg, "containers", "auth.json", NULL));
  g_ptr_array_add (paths,
                   g_build_filename (g_get_user_config_dir (), "containers", "auth.json", NULL));
  if (docker != NULL && *docker != '\0')
    g_ptr_array_add (paths, g_build_filename (docker, "config.json", NULL));
  else
    g_ptr_array_add (paths,
                     g_build_filename (g_get_home_dir (), ".docker", "config.json", NULL));
  return paths;
}

gboolean
rrun_auth_lookup (const char *domain, const char *repository, RrunCredentials **out_creds,
                  GError **error)
{
  g_autoptr(GPtrArray) paths = read_paths ();

  *out_creds = NULL;
  for (guint i = 0; i < paths->len; i++)
    {
      const char *path = g_ptr_array_index (paths, i);
      g_autofree char *text = NULL;
      g_autoptr(GError) local = NULL;
      RrunCredentials *creds = NULL;

      if (!rrun_text_file_read (path, "credentials", RRUN_TEXT_FILE_MAX_CONFIG,
                                RRUN_TEXT_FILE_DEFAULT, &text, NULL, &local))
        {
          if (g_error_matches (local, RRUN_ERRNO_ERROR, ENOENT)
              || g_error_matches (local, RRUN_ERRNO_ERROR, ENOTDIR))
            continue;
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (!rrun_auth_lookup_text (text, path, domain, repository, &creds, error))
        return FALSE;
      if (creds != NULL)
        {
          *out_creds = creds;
          return TRUE;
        }
    }
  return TRUE;
}

char *
rrun_auth_write_path (void)
{
  const char *env = g_getenv ("REGISTRY_AUTH_FILE");
  const char *xdg = g_getenv ("XDG_RUNTIME_DIR");

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  if (xdg != NULL && *xdg == '/')
    return g_build_filename (xdg, "containers", "auth.json", NULL);
  return g_build_filename (g_get_user_config_dir (), "containers", "auth.json", NULL);
}

/* The whole file as a JSON object (an empty one when it does not exist), each member
   name once. */
static RrunJson *
load_for_update (const char *path, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *text = NULL;
  g_autoptr(RrunJson) root = NULL;

  if (!rrun_text_file_read (path, "credentials", RRUN_TEXT_FILE_MAX_CONFIG,
                            RRUN_TEXT_FILE_DEFAULT, &text, NULL, &local))
    {
      if (!g_error_matches (local, RRUN_ERRNO_ERROR, ENOENT))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      return rrun_json_new_object ();
    }
  root = rrun_json_parse (text, strlen (text), RRUN_JSON_DEFAULT, &local);
  if (root == NULL || rrun_json_type (root) != RRUN_JSON_OBJECT)
    {
      /* Never overwrite a file we cannot read: it holds other registries' secrets. */
      rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot parse \"%s\": %s", path,
                  local ? local->message : "not a JSON object");
      rrun_add_hint (error, "fix or remove the file, then log in again");
      return NULL;
    }
  return g_steal_pointer (&root);
}

/* Makes sure root's auths is an object (an empty one when there is none). */
static gboolean
prepare_auths (RrunJson *root, const char *path, GError **error)
{
  const RrunJson *auths = rrun_json_member (root, "auths");

  if (auths == NULL)
    rrun_json_object_set (root, "auths", rrun_json_new_object ());
  else if (rrun_json_type (auths) != RRUN_JSON_OBJECT)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: auths must be an object", path);
  return TRUE;
}

/* Drops every entry of root's auths whose key names key (older spellings included);
   whether there was one. RrunJson objects have no removal, so auths is rebuilt. */
static gboolean
drop_entries (RrunJson *root, const char *key)
{
  const RrunJson *auths = rrun_json_member (root, "auths");
  g_autoptr(RrunJson) kept = rrun_json_new_object ();
  gboolean dropped = FALSE;

  for (guint i = 0; i < rrun_json_size (auths); i++)
    {
      const char *name = rrun_json_member_name (auths, i);
      g_autofree char *k = rrun_auth_normalize_key (name);

      if (strcmp (k, key) == 0)
        dropped = TRUE;
      else
        rrun_json_object_set (kept, name, rrun_json_copy (rrun_json_element (auths, i)));
    }
  rrun_json_object_set (root, "auths", g_steal_pointer (&kept));
  return dropped;
}

/* podman and skopeo indent auth.json with tabs, rrun_json_value_to_text with two spaces:
   each pair of leading spaces becomes a tab, in place (every leading space of a line is
   indentation, since a JSON string holds no raw newline). The new length. */
static gsize
indent_with_tabs (char *text)
{
  char *w = text;
  gboolean line_start = TRUE;

  for (const char *r = text; *r != '\0';)
    {
      if (line_start && r[0] == ' ' && r[1] == ' ')
        {
          *w++ = '\t';
          r += 2;
          continue;
        }
      line_start = *r == '\n';
      *w++ = *r++;
    }
  *w = '\0';
  return (gsize) (w - text);
}

static gboolean
save (const char *path, const RrunJson *root, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *text = NULL;
  gsize size, len;
  gboolean ok;

  if (!rrun_path_mkdir_p (dir, 0700, error))
    return FALSE;
  text = rrun_json_value_to_text (root, TRUE);
  size = strlen (text);
  len = indent_with_tabs (text);
  ok = rrun_path_write_atomic (path, text, len, 0600, error);
  explicit_bzero (text, size); /* the tail past len still holds what was moved */
  if (!ok)
    g_prefix_error (error, "cannot write credentials: ");
  return ok;
}

gboolean
rrun_auth_store (const char *domain, const char *username, const char *password,
                 GError **error)
{
  g_autofree char *path = rrun_auth_write_path ();
  g_autoptr(RrunJson) root = load_for_update (path, error);
  g_autofree char *pair = NULL;
  g_autofree char *b64 = NULL;
  g_autofree char *key = NULL;
  RrunJson *entry;

  if (root == NULL || !prepare_auths (root, path, error))
    return FALSE;
  key = rrun_auth_normalize_key (domain);
  /* Drop older spellings of the same registry, so lookups cannot find a stale one. */
  drop_entries (root, key);
  pair = g_strconcat (username, ":", password, NULL);
  b64 = g_base64_encode ((const guchar *) pair, strlen (pair));
  entry = rrun_json_new_object ();
  rrun_json_object_set (entry, "auth", rrun_json_new_string (b64));
  rrun_json_object_set (rrun_json_member (root, "auths"), key, entry);
  explicit_bzero (pair, strlen (pair));
  explicit_bzero (b64, strlen (b64));
  return save (path, root, error);
}

gboolean
rrun_auth_remove (const char *domain, GError **error)
{
  g_autofree char *path = rrun_auth_write_path ();
  g_autoptr(RrunJson) root = load_for_update (path, error);
  g_autofree char *key = NULL;
  g_autoptr(RrunCredentials) elsewhere = NULL;

  if (root == NULL || !prepare_auths (root, path, error))
    return FALSE;
  if (domain == NULL)
    {
      rrun_json_object_set (root, "auths", rrun_json_new_object ());
      return save (path, root, error);
    }
  key = rrun_auth_normalize_key (domain);
  if (drop_entries (root, key))
    return save (path, root, error);
  rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot log out of \"%s\": not logged in (%s)",
              domain, path);
  if (rrun_auth_lookup (domain, NULL, &elsewhere, NULL) && elsewhere != NULL)
    rrun_add_hint (error, "credentials for \"%s\" are in %s; rrun does not change that file",
                   domain, elsewhere->source);
  return FALSE;
}
