#include "registry/registries-conf.h"
#include "registry/toml.h"
#include "error.h"
#include "util/text-file.h"

#include <errno.h>
#include <string.h>

static void
mirror_free (RrunRegistryMirror *m)
{
  g_free (m->location);
  g_free (m);
}

static void
entry_free (RrunRegistryEntry *e)
{
  g_free (e->prefix);
  g_free (e->location);
  g_ptr_array_unref (e->mirrors);
  g_free (e);
}

void
rrun_registry_endpoint_free (RrunRegistryEndpoint *endpoint)
{
  if (endpoint == NULL)
    return;
  g_free (endpoint->domain);
  g_free (endpoint->path);
  g_free (endpoint);
}

void
rrun_registries_conf_free (RrunRegistriesConf *conf)
{
  if (conf == NULL)
    return;
  g_strfreev (conf->search);
  g_ptr_array_unref (conf->registries);
  g_hash_table_unref (conf->aliases);
  g_ptr_array_unref (conf->files_read);
  g_free (conf);
}

RrunRegistriesConf *
rrun_registries_conf_new (void)
{
  RrunRegistriesConf *conf = g_new0 (RrunRegistriesConf, 1);

  conf->search = g_strsplit (RRUN_DOCKER_IO, ",", -1);
  conf->registries = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
  conf->aliases = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  conf->files_read = g_ptr_array_new_with_free_func (g_free);
  return conf;
}

static RrunRegistryEntry *
entry_new (const char *prefix, const char *location)
{
  RrunRegistryEntry *e = g_new0 (RrunRegistryEntry, 1);

  e->prefix = g_strdup (prefix);
  e->location = g_strdup (location);
  e->mirrors = g_ptr_array_new_with_free_func ((GDestroyNotify) mirror_free);
  return e;
}

/* Typed getters: a present member of the wrong type is an error naming it. */
static gboolean
get_string (const RrunJson *o, const char *key, const char *where, const char *source,
            const char **out, GError **error)
{
  const RrunJson *n = rrun_json_member (o, key);

  *out = NULL;
  if (n == NULL)
    return TRUE;
  if (rrun_json_type (n) != RRUN_JSON_STRING)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s: %s%s must be a string",
                       source, where, key);
  *out = rrun_json_string (n);
  return TRUE;
}

static gboolean
get_bool (const RrunJson *o, const char *key, const char *where, const char *source,
          gboolean *out, GError **error)
{
  const RrunJson *n = rrun_json_member (o, key);

  if (n == NULL)
    return TRUE;
  if (rrun_json_type (n) != RRUN_JSON_BOOL)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "%s: %s%s must be true or false", source, where, key);
  *out = rrun_json_int (n) != 0;
  return TRUE;
}

/* An array of strings; *out stays NULL when absent. */
static gboolean
get_strv (const RrunJson *o, const char *key, const char *where, const char *source,
          char ***out, GError **error)
{
  const RrunJson *n = rrun_json_member (o, key);
  g_autoptr(GPtrArray) v = NULL;

  *out = NULL;
  if (n == NULL)
    return TRUE;
  if (rrun_json_type (n) != RRUN_JSON_ARRAY)
    goto bad;
  v = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < rrun_json_size (n); i++)
    {
      const RrunJson *e = rrun_json_element (n, i);
      if (rrun_json_type (e) != RRUN_JSON_STRING)
        goto bad;
      g_ptr_array_add (v, g_strdup (rrun_json_string (e)));
    }
  g_ptr_array_add (v, NULL);
  *out = (char **) g_ptr_array_free (g_steal_pointer (&v), FALSE);
  return TRUE;

bad:
  return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                     "%s: %s%s must be an array of strings", source, where, key);
}

/* "host[:port][/path]" with no scheme: registries.conf locations are not URLs. */
static gboolean
check_location (const char *value, const char *what, const char *source, GError **error)
{
  if (*value == '\0' || strstr (value, "://") != NULL || value[strlen (value) - 1] == '/')
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "%s: invalid %s \"%s\": expected host[:port][/path] without a scheme",
                  source, what, value);
      return FALSE;
    }
  return TRUE;
}

static void
replace_entry (RrunRegistriesConf *conf, RrunRegistryEntry *e)
{
  for (guint i = 0; i < conf->registries->len; i++)
    {
      RrunRegistryEntry *old = g_ptr_array_index (conf->registries, i);
      if (strcmp (old->prefix, e->prefix) == 0)
        {
          g_ptr_array_remove_index (conf->registries, i);
          break;
        }
    }
  g_ptr_array_add (conf->registries, e);
}

static gboolean
merge_registry (RrunRegistriesConf *conf, const RrunJson *o, guint index, const char *source,
                GError **error)
{
  g_autofree char *where = g_strdup_printf ("registry[%u].", index);
  const char *prefix, *location;
  RrunRegistryEntry *e;
  const RrunJson *mirrors;

  if (rrun_json_type (o) != RRUN_JSON_OBJECT)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "%s: registry must be an array of tables ([[registry]])", source);
  if (!get_string (o, "prefix", where, source, &prefix, error)
      || !get_string (o, "location", where, source, &location, error))
    return FALSE;
  if (prefix == NULL && location == NULL)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "%s: %sprefix or %slocation must be set", source, where, where);
  if ((location && !check_location (location, "location", source, error))
      || (prefix && !g_str_has_prefix (prefix, "*.")
          && !check_location (prefix, "prefix", source, error)))
    return FALSE;
  e = entry_new (prefix ? prefix : location, location ? location : prefix);
  if (!get_bool (o, "insecure", where, source, &e->insecure, error)
      || !get_bool (o, "blocked", where, source, &e->blocked, error))
    {
      entry_free (e);
      return FALSE;
    }
  if (g_str_has_prefix (e->prefix, "*.") && location != NULL)
    {
      entry_free (e);
      return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                         "%s: %slocation cannot be set with a wildcard prefix \"%s\"", source,
                         where, prefix);
    }
  mirrors = rrun_json_member (o, "mirror");
  if (mirrors != NULL && rrun_json_type (mirrors) != RRUN_JSON_ARRAY)
    {
      entry_free (e);
      return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                         "%s: %smirror must be an array of tables ([[registry.mirror]])",
                         source, where);
    }
  for (guint i = 0; mirrors && i < rrun_json_size (mirrors); i++)
    {
      const RrunJson *mn = rrun_json_element (mirrors, i);
      g_autofree char *mwhere = g_strdup_printf ("%smirror[%u].", where, i);
      RrunRegistryMirror *m;
      const char *mloc;

      if (rrun_json_type (mn) != RRUN_JSON_OBJECT
          || !get_string (mn, "location", mwhere, source, &mloc, error))
        {
          entry_free (e);
          if (rrun_json_type (mn) != RRUN_JSON_OBJECT)
            rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s: %s must be a table",
                        source, mwhere);
          return FALSE;
        }
      if (mloc == NULL || !check_location (mloc, "mirror location", source, error))
        {
          entry_free (e);
          if (mloc == NULL)
            rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s: %slocation must be set",
                        source, mwhere);
          return FALSE;
        }
      m = g_new0 (RrunRegistryMirror, 1);
      m->location = g_strdup (mloc);
      g_ptr_array_add (e->mirrors, m);
      if (!get_bool (mn, "insecure", mwhere, source, &m->insecure,
                     error))
        {
          entry_free (e);
          return FALSE;
        }
    }
  replace_entry (conf, e);
  return TRUE;
}

/* Version 1 of the format: [registries.search] registries = [...], and so on. */
static gboolean
merge_v1 (RrunRegistriesConf *conf, const RrunJson *v1, const char *source, GError **error)
{
  static const char *kinds[] = { "search", "insecure", "block" };

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      const RrunJson *n = rrun_json_member (v1, kinds[k]);
      g_autofree char *where = g_strdup_printf ("registries.%s.", kinds[k]);
      g_auto(GStrv) list = NULL;

      if (n == NULL)
        continue;
      if (rrun_json_type (n) != RRUN_JSON_OBJECT)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s: registries.%s must be "
                           "a table", source, kinds[k]);
      if (!get_strv (n, "registries", where, source, &list, error))
        return FALSE;
      for (guint i = 0; list && list[i]; i++)
        {
          RrunRegistryEntry *e;
          if (k == 0)
            continue;
          e = entry_new (list[i], list[i]);
          e->insecure = k == 1;
          e->blocked = k == 2;
          replace_entry (conf, e);
        }
      if (k == 0 && list != NULL)
        {
          g_strfreev (conf->search);
          conf->search = g_steal_pointer (&list);
        }
    }
  return TRUE;
}

gboolean
rrun_registries_conf_merge_text (RrunRegistriesConf *conf, const char *text,
                                 const char *source, GError **error)
{
  g_autoptr(RrunJson) root = rrun_toml_parse (text, source, error);
  g_auto(GStrv) search = NULL;
  const RrunJson *regs, *v1, *aliases;

  if (root == NULL)
    return FALSE;
  if (!get_strv (root, "unqualified-search-registries", "", source, &search, error))
    return FALSE;
  if (search != NULL)
    {
      for (guint i = 0; search[i]; i++)
        if (!check_location (search[i], "search registry", source, error))
          return FALSE;
      g_strfreev (conf->search);
      conf->search = g_steal_pointer (&search);
    }
  regs = rrun_json_member (root, "registry");
  if (regs != NULL && rrun_json_type (regs) != RRUN_JSON_ARRAY)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "%s: registry must be an array of tables ([[registry]])", source);
  for (guint i = 0; regs && i < rrun_json_size (regs); i++)
    if (!merge_registry (conf, rrun_json_element (regs, i), i, source, error))
      return FALSE;
  v1 = rrun_json_member (root, "registries");
  if (v1 != NULL)
    {
      if (rrun_json_type (v1) != RRUN_JSON_OBJECT)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "%s: registries must be a table", source);
      if (!merge_v1 (conf, v1, source, error))
        return FALSE;
    }
  aliases = rrun_json_member (root, "aliases");
  if (aliases != NULL)
    {
      if (rrun_json_type (aliases) != RRUN_JSON_OBJECT)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "%s: aliases must be a table", source);
      for (guint i = 0; i < rrun_json_size (aliases); i++)
        {
          const char *name = rrun_json_member_name (aliases, i);
          const char *target = rrun_json_string (rrun_json_element (aliases, i));
          g_autoptr(RrunReference) ref = NULL;
          g_autoptr(GError) local = NULL;

          if (target == NULL)
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               "%s: aliases.\"%s\" must be a string", source, name);
          if (*target == '\0')
            {
              /* A drop-in removes an alias with an empty value. */
              g_hash_table_remove (conf->aliases, name);
              continue;
            }
          if (!rrun_reference_parse (target, &ref, &local) || ref->domain == NULL
              || strchr (target, '@') != NULL || strcmp (ref->tag, "latest") != 0)
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               "%s: aliases.\"%s\" = \"%s\": expected a fully qualified name "
                               "without tag or digest",
                               source, name, target);
          g_hash_table_replace (conf->aliases, g_strdup (name), g_strdup (target));
        }
    }
  g_ptr_array_add (conf->files_read, g_strdup (source));
  return TRUE;
}

static gboolean
merge_file (RrunRegistriesConf *conf, const char *path, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *text = NULL;

  if (!rrun_text_file_read (path, "registries.conf", RRUN_TEXT_FILE_MAX_CONFIG,
                            RRUN_TEXT_FILE_DEFAULT, &text, NULL, &local))
    {
      if (g_error_matches (local, RRUN_ERRNO_ERROR, ENOENT))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  return rrun_registries_conf_merge_text (conf, text, path, error);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gboolean
merge_dropins (RrunRegistriesConf *conf, const char *dir, GError **error)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (d == NULL)
    return TRUE;
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".conf"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, g_ptr_array_index (names, i), NULL);
      if (!merge_file (conf, path, error))
        return FALSE;
    }
  return TRUE;
}

void
rrun_registries_conf_apply_rrun_config (RrunRegistriesConf *conf, const RrunConfig *config)
{
  char **s;

  if (config == NULL)
    return;
  s = config->unqualified_search_registries;
  /* rrun.conf cannot tell "set to docker.io" from "unset"; only a list that differs from
     the default overrides what the site's registries.conf says. */
  if (s != NULL && !(g_strv_length (s) == 1 && strcmp (s[0], RRUN_DOCKER_IO) == 0))
    {
      g_strfreev (conf->search);
      conf->search = g_strdupv (s);
    }
  for (guint i = 0; config->insecure_registries && config->insecure_registries[i]; i++)
    {
      const char *loc = config->insecure_registries[i];
      gboolean found = FALSE;

      if (*loc == '\0')
        continue;
      for (guint j = 0; j < conf->registries->len; j++)
        {
          RrunRegistryEntry *e = g_ptr_array_index (conf->registries, j);
          if (strcmp (e->prefix, loc) == 0 || strcmp (e->location, loc) == 0)
            {
              e->insecure = TRUE;
              found = TRUE;
            }
        }
      if (!found)
        {
          RrunRegistryEntry *e = entry_new (loc, loc);
          e->insecure = TRUE;
          g_ptr_array_add (conf->registries, e);
        }
    }
}

gboolean
rrun_registries_conf_load (const RrunConfig *config, RrunRegistriesConf **out_conf,
                           GError **error)
{
  g_autoptr(RrunRegistriesConf) conf = rrun_registries_conf_new ();
  const char *override = g_getenv ("RRUN_REGISTRIES_CONF");
  g_autofree char *user_dir = g_build_filename (g_get_user_config_dir (), "containers", NULL);
  g_autofree char *user_file = g_build_filename (user_dir, "registries.conf", NULL);
  g_autofree char *user_dropins = g_build_filename (user_dir, "registries.conf.d", NULL);

  if (override != NULL && *override != '\0')
    {
      if (!g_file_test (override, G_FILE_TEST_EXISTS))
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "cannot read \"%s\" (RRUN_REGISTRIES_CONF): no such file",
                           override);
      if (!merge_file (conf, override, error))
        return FALSE;
    }
  else
    {
      /* As containers/image: the user's file replaces the system one. */
      if (!merge_file (conf, g_file_test (user_file, G_FILE_TEST_EXISTS)
                                 ? user_file
                                 : "/etc/containers/registries.conf",
                       error)
          || !merge_dropins (conf, "/etc/containers/registries.conf.d", error)
          || !merge_dropins (conf, user_dropins, error))
        return FALSE;
    }
  rrun_registries_conf_apply_rrun_config (conf, config);
  *out_conf = g_steal_pointer (&conf);
  return TRUE;
}

/* Does prefix match repository ("host/path")? Returns the matched length, or 0. */
static gsize
prefix_match (const char *prefix, const char *repository)
{
  gsize n = strlen (prefix);

  if (g_str_has_prefix (prefix, "*."))
    {
      /* "*.example.com" matches any sub-domain of example.com. */
      const char *slash = strchr (repository, '/');
      gsize host_len = slash ? (gsize) (slash - repository) : strlen (repository);
      gsize suffix_len = n - 1; /* ".example.com" */
      if (host_len > suffix_len
          && memcmp (repository + host_len - suffix_len, prefix + 1, suffix_len) == 0)
        return host_len;
      return 0;
    }
  if (strncmp (prefix, repository, n) == 0
      && (repository[n] == '\0' || repository[n] == '/'))
    return n;
  return 0;
}

const RrunRegistryEntry *
rrun_registries_conf_find (const RrunRegistriesConf *conf, const char *repository)
{
  const RrunRegistryEntry *best = NULL;
  gsize best_len = 0;

  for (guint i = 0; i < conf->registries->len; i++)
    {
      const RrunRegistryEntry *e = g_ptr_array_index (conf->registries, i);
      gsize len = prefix_match (e->prefix, repository);
      if (len > best_len)
        {
          best = e;
          best_len = len;
        }
    }
  return best;
}

static RrunRegistryEndpoint *
endpoint_new (const char *location, const char *rest, gboolean insecure, gboolean mirror)
{
  RrunRegistryEndpoint *ep = g_new0 (RrunRegistryEndpoint, 1);
  const char *slash = strchr (location, '/');
  g_autofree char *loc_path = slash ? g_strdup (slash + 1) : NULL;

  ep->domain = slash ? g_strndup (location, slash - location) : g_strdup (location);
  if (loc_path && *rest)
    ep->path = g_strconcat (loc_path, "/", rest, NULL);
  else
    ep->path = g_strdup (loc_path ? loc_path : rest);
  ep->insecure = insecure;
  ep->mirror = mirror;
  return ep;
}

gboolean
rrun_registries_conf_endpoints (const RrunRegistriesConf *conf, const RrunReference *ref,
                                GPtrArray **out_endpoints, GError **error)
{
  g_autoptr(GPtrArray) eps
      = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_registry_endpoint_free);
  g_autofree char *repo = rrun_reference_repository (ref);
  const RrunRegistryEntry *e;

  g_return_val_if_fail (ref->domain != NULL, FALSE);
  e = rrun_registries_conf_find (conf, repo);
  if (e == NULL)
    g_ptr_array_add (eps, endpoint_new (ref->domain, ref->path, FALSE, FALSE));
  else
    {
      const char *rest;
      if (e->blocked)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "cannot pull \"%s\": registry \"%s\" is blocked in registries.conf", repo,
                      e->prefix);
          return FALSE;
        }
      if (g_str_has_prefix (e->prefix, "*."))
        rest = ref->path; /* wildcard: no rewriting */
      else
        rest = repo + strlen (e->prefix) + (repo[strlen (e->prefix)] == '/' ? 1 : 0);
      for (guint i = 0; i < e->mirrors->len; i++)
        {
          const RrunRegistryMirror *m = g_ptr_array_index (e->mirrors, i);
          g_ptr_array_add (eps, endpoint_new (m->location, rest, m->insecure, TRUE));
        }
      if (g_str_has_prefix (e->prefix, "*."))
        g_ptr_array_add (eps, endpoint_new (ref->domain, ref->path, e->insecure, FALSE));
      else
        g_ptr_array_add (eps, endpoint_new (e->location, rest, e->insecure, FALSE));
    }
  *out_endpoints = g_steal_pointer (&eps);
  return TRUE;
}

gboolean
rrun_registries_conf_is_insecure (const RrunRegistriesConf *conf, const char *domain)
{
  const RrunRegistryEntry *e;

  if (conf == NULL)
    return FALSE;
  e = rrun_registries_conf_find (conf, domain);
  if (e != NULL && e->insecure)
    return TRUE;
  for (guint i = 0; i < conf->registries->len; i++)
    {
      const RrunRegistryEntry *r = g_ptr_array_index (conf->registries, i);
      for (guint j = 0; j < r->mirrors->len; j++)
        {
          const RrunRegistryMirror *m = g_ptr_array_index (r->mirrors, j);
          gsize host_len = strcspn (m->location, "/");
          if (m->insecure && strlen (domain) == host_len
              && strncmp (m->location, domain, host_len) == 0)
            return TRUE;
        }
    }
  return FALSE;
}

GPtrArray *
rrun_registries_conf_expand (const RrunRegistriesConf *conf, const RrunReference *ref)
{
  g_autoptr(GPtrArray) refs
      = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_reference_free);
  const char *alias;

  if (!rrun_reference_is_short (ref))
    {
      g_ptr_array_add (refs, rrun_reference_copy (ref));
      return g_steal_pointer (&refs);
    }
  alias = g_hash_table_lookup (conf->aliases, ref->path);
  if (alias != NULL)
    {
      RrunReference *target = NULL;

      /* Checked when the file was read (merge): a qualified name, so this parses. */
      if (rrun_reference_parse (alias, &target, NULL))
        {
          g_free (target->tag);
          target->tag = g_strdup (ref->tag);
          target->digest = g_strdup (ref->digest);
          g_ptr_array_add (refs, target);
          return g_steal_pointer (&refs);
        }
    }
  for (guint i = 0; conf->search && conf->search[i]; i++)
    g_ptr_array_add (refs, rrun_reference_qualify (ref, conf->search[i]));
  return g_steal_pointer (&refs);
}

gboolean
rrun_registries_conf_candidates (const RrunRegistriesConf *conf, const char *text,
                                 GPtrArray **out_refs, GError **error)
{
  g_autoptr(GPtrArray) refs = NULL;
  g_autoptr(RrunReference) ref = NULL;

  if (!rrun_reference_parse (text, &ref, error))
    return FALSE;
  refs = rrun_registries_conf_expand (conf, ref);
  if (refs->len == 0)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "cannot resolve short name \"%s\": no unqualified-search-registries are "
                  "set",
                  text);
      rrun_add_hint (error, "use a fully qualified name such as docker.io/library/%s, or set "
                            "unqualified-search-registries in registries.conf",
                     ref->path);
      return FALSE;
    }
  *out_refs = g_steal_pointer (&refs);
  return TRUE;
}
