#include "registry/auth.h"
#include "error.h"
#include "util/path.h"

#include <errno.h>
#include <json-glib/json-glib.h>
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
decode_entry (JsonNode *node, const char *source, const char *key,
              RrunCredentials **out_creds, GError **error)
{
  g_autofree guchar *raw = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;
  JsonObject *o;
  JsonNode *auth;
  const char *colon;
  RrunCredentials *c;

  *out_creds = NULL;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: auths.\"%s\" must be an object", source,
                       key);
  o = json_node_get_object (node);
  auth = json_object_get_member (o, "auth");
  if (auth == NULL)
    return TRUE; /* docker writes {} when a credential helper holds the secret */
  if (!JSON_NODE_HOLDS_VALUE (auth) || json_node_get_value_type (auth) != G_TYPE_STRING)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: auths.\"%s\".auth must be a string",
                       source, key);
  if (*json_node_get_string (auth) == '\0')
    return TRUE;
  raw = g_base64_decode (json_node_get_string (auth), &len);
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

static JsonObject *
parse_auths (const char *text, const char *source, JsonParser *parser, GError **error)
{
  g_autoptr(GError) local = NULL;
  JsonNode *root, *auths;

  if (!json_parser_load_from_data (parser, text, -1, &local))
    {
      rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot parse \"%s\": %s", source,
                  local->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot parse \"%s\": not a JSON object", source);
      return NULL;
    }
  auths = json_object_get_member (json_node_get_object (root), "auths");
  if (auths == NULL)
    return json_object_new ();
  if (!JSON_NODE_HOLDS_OBJECT (auths))
    {
      rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: auths must be an object", source);
      return NULL;
    }
  return json_object_ref (json_node_get_object (auths));
}

gboolean
rrun_auth_lookup_text (const char *text, const char *source, const char *domain,
                       const char *repository, RrunCredentials **out_creds, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonObject) auths = parse_auths (text, source, parser, error);
  g_autofree char *want_domain = NULL;
  g_autofree char *want = NULL;
  JsonNode *best = NULL;
  const char *best_key = NULL;
  gsize best_len = 0;
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  *out_creds = NULL;
  if (auths == NULL)
    return FALSE;
  want_domain = rrun_auth_normalize_key (domain);
  want = repository && *repository ? g_strconcat (want_domain, "/", repository, NULL)
                                   : g_strdup (want_domain);
  json_object_iter_init (&iter, auths);
  while (json_object_iter_next (&iter, &key, &value))
    {
      g_autofree char *k = rrun_auth_normalize_key (key);
      gsize n = strlen (k);
      /* k matches when it is want or a path prefix of it, and names the same host. */
      if (strncmp (want, k, n) != 0 || (want[n] != '\0' && want[n] != '/')
          || n < strlen (want_domain))
        continue;
      if (n > best_len)
        {
          best = value;
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

      if (!g_file_get_contents (path, &text, NULL, &local))
        {
          if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT)
              || g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOTDIR))
            continue;
          return rrun_throw (error, RRUN_ERROR_FAILED, "cannot read credentials: %s",
                             local->message);
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

/* The whole file as a JSON object (an empty one when it does not exist). */
static JsonNode *
load_for_update (const char *path, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *text = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (!g_file_get_contents (path, &text, NULL, &local))
    {
      if (!g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          rrun_throw (error, RRUN_ERROR_FAILED, "cannot read \"%s\": %s", path,
                      local->message);
          return NULL;
        }
      root = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (root, json_object_new ());
      return root;
    }
  if (!json_parser_load_from_data (parser, text, -1, &local)
      || json_parser_get_root (parser) == NULL
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      /* Never overwrite a file we cannot read: it holds other registries' secrets. */
      rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot parse \"%s\": %s", path,
                  local ? local->message : "not a JSON object");
      rrun_add_hint (error, "fix or remove the file, then log in again");
      return NULL;
    }
  root = json_node_copy (json_parser_get_root (parser));
  return root;
}

static JsonObject *
auths_of (JsonNode *root, const char *path, GError **error)
{
  JsonObject *o = json_node_get_object (root);
  JsonNode *auths = json_object_get_member (o, "auths");

  if (auths == NULL)
    {
      json_object_set_object_member (o, "auths", json_object_new ());
      auths = json_object_get_member (o, "auths");
    }
  if (!JSON_NODE_HOLDS_OBJECT (auths))
    {
      rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: auths must be an object", path);
      return NULL;
    }
  return json_node_get_object (auths);
}

static gboolean
save (const char *path, JsonNode *root, GError **error)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *text = NULL;
  gsize len;

  if (!rrun_path_mkdir_p (dir, 0700, error))
    return FALSE;
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_indent (gen, 1);
  json_generator_set_indent_char (gen, '\t');
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, &len);
  if (!rrun_path_write_atomic (path, text, len, 0600, error))
    {
      g_prefix_error (error, "cannot write credentials: ");
      return FALSE;
    }
  explicit_bzero (text, len);
  return TRUE;
}

gboolean
rrun_auth_store (const char *domain, const char *username, const char *password,
                 GError **error)
{
  g_autofree char *path = rrun_auth_write_path ();
  g_autoptr(JsonNode) root = load_for_update (path, error);
  g_autofree char *pair = NULL;
  g_autofree char *b64 = NULL;
  g_autofree char *key = NULL;
  JsonObject *auths, *entry;

  if (root == NULL || (auths = auths_of (root, path, error)) == NULL)
    return FALSE;
  key = rrun_auth_normalize_key (domain);
  /* Drop older spellings of the same registry, so lookups cannot find a stale one. */
  {
    g_autoptr(GList) members = json_object_get_members (auths);
    for (GList *l = members; l; l = l->next)
      {
        g_autofree char *k = rrun_auth_normalize_key (l->data);
        if (strcmp (k, key) == 0)
          json_object_remove_member (auths, l->data);
      }
  }
  pair = g_strconcat (username, ":", password, NULL);
  b64 = g_base64_encode ((const guchar *) pair, strlen (pair));
  entry = json_object_new ();
  json_object_set_string_member (entry, "auth", b64);
  json_object_set_object_member (auths, key, entry);
  explicit_bzero (pair, strlen (pair));
  explicit_bzero (b64, strlen (b64));
  return save (path, root, error);
}

gboolean
rrun_auth_remove (const char *domain, GError **error)
{
  g_autofree char *path = rrun_auth_write_path ();
  g_autoptr(JsonNode) root = load_for_update (path, error);
  g_autofree char *key = NULL;
  g_autoptr(GList) members = NULL;
  g_autoptr(RrunCredentials) elsewhere = NULL;
  gboolean removed = FALSE;
  JsonObject *auths;

  if (root == NULL || (auths = auths_of (root, path, error)) == NULL)
    return FALSE;
  if (domain == NULL)
    {
      json_object_set_object_member (json_node_get_object (root), "auths", json_object_new ());
      return save (path, root, error);
    }
  key = rrun_auth_normalize_key (domain);
  members = json_object_get_members (auths);
  for (GList *l = members; l; l = l->next)
    {
      g_autofree char *k = rrun_auth_normalize_key (l->data);
      if (strcmp (k, key) == 0)
        {
          json_object_remove_member (auths, l->data);
          removed = TRUE;
        }
    }
  if (removed)
    return save (path, root, error);
  rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot log out of \"%s\": not logged in (%s)",
              domain, path);
  if (rrun_auth_lookup (domain, NULL, &elsewhere, NULL) && elsewhere != NULL)
    rrun_add_hint (error, "credentials for \"%s\" are in %s; rrun does not change that file",
                   domain, elsewhere->source);
  return FALSE;
}
