/* Config-only Dockerfile instructions (see config-edit.h), with docker's semantics:
   CMD and ENTRYPOINT in exec or shell form, ENV and LABEL as K=V pairs (or the legacy
   "K V"), EXPOSE ports default to tcp, VOLUME as a JSON array or words, WORKDIR relative
   to the one before. */
#include "build/config-edit.h"
#include "error.h"

#include <string.h>

GStrv
rrun_build_split_words (const char *text)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) w = NULL;
  const char *p = text;

  while (*p)
    {
      if (g_ascii_isspace (*p))
        {
          if (w)
            g_ptr_array_add (out, g_string_free (g_steal_pointer (&w), FALSE));
          p++;
          continue;
        }
      if (w == NULL)
        w = g_string_new (NULL);
      if (*p == '\\' && p[1])
        {
          g_string_append_c (w, p[1]);
          p += 2;
        }
      else if (*p == '"' || *p == '\'')
        {
          char q = *p++;
          while (*p && *p != q)
            {
              if (q == '"' && *p == '\\' && p[1])
                p++;
              g_string_append_c (w, *p++);
            }
          if (*p)
            p++;
        }
      else
        g_string_append_c (w, *p++);
    }
  if (w)
    g_ptr_array_add (out, g_string_free (g_steal_pointer (&w), FALSE));
  g_ptr_array_add (out, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

GStrv
rrun_build_parse_exec_form (const char *text)
{
  g_autoptr(RrunJson) v = NULL;
  g_autoptr(GPtrArray) out = NULL;
  const char *t = text;

  while (g_ascii_isspace (*t))
    t++;
  if (*t != '[')
    return NULL;
  v = rrun_json_parse (t, strlen (t), RRUN_JSON_DEFAULT, NULL);
  if (v == NULL || rrun_json_type (v) != RRUN_JSON_ARRAY)
    return NULL;
  out = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < rrun_json_size (v); i++)
    {
      const char *s = rrun_json_string (rrun_json_element (v, i));
      if (s == NULL)
        return NULL;
      g_ptr_array_add (out, g_strdup (s));
    }
  g_ptr_array_add (out, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

RrunJson *
rrun_build_config_object (RrunJson *root)
{
  RrunJson *c = rrun_json_member (root, "config");

  if (c == NULL || rrun_json_type (c) != RRUN_JSON_OBJECT)
    {
      rrun_json_object_set (root, "config", rrun_json_new_object ());
      c = rrun_json_member (root, "config");
    }
  return c;
}

static RrunJson *
strv_json (const char *const *v)
{
  RrunJson *a = rrun_json_new_array ();
  for (guint i = 0; v[i]; i++)
    rrun_json_array_add (a, rrun_json_new_string (v[i]));
  return a;
}

/* An object member of the config holding an object ({"80/tcp": {}}, Labels). */
static RrunJson *
config_map (RrunJson *root, const char *name)
{
  RrunJson *c = rrun_build_config_object (root);
  RrunJson *m = rrun_json_member (c, name);

  if (m == NULL || rrun_json_type (m) != RRUN_JSON_OBJECT)
    {
      rrun_json_object_set (c, name, rrun_json_new_object ());
      m = rrun_json_member (c, name);
    }
  return m;
}

void
rrun_build_config_set_env (RrunJson *root, const char *name, const char *value)
{
  RrunJson *c = rrun_build_config_object (root);
  RrunJson *old = rrun_json_member (c, "Env");
  RrunJson *env = rrun_json_new_array ();
  g_autofree char *prefix = g_strconcat (name, "=", NULL);
  gboolean replaced = FALSE;

  for (guint i = 0; old && rrun_json_type (old) == RRUN_JSON_ARRAY && i < rrun_json_size (old); i++)
    {
      const char *s = rrun_json_string (rrun_json_element (old, i));
      if (s == NULL)
        continue;
      if (g_str_has_prefix (s, prefix))
        {
          if (!replaced)
            {
              g_autofree char *kv = g_strconcat (prefix, value, NULL);
              rrun_json_array_add (env, rrun_json_new_string (kv));
            }
          replaced = TRUE;
        }
      else
        rrun_json_array_add (env, rrun_json_new_string (s));
    }
  if (!replaced)
    {
      g_autofree char *kv = g_strconcat (prefix, value, NULL);
      rrun_json_array_add (env, rrun_json_new_string (kv));
    }
  rrun_json_object_set (c, "Env", env);
}

/* K=V pairs, or the legacy "K V..." form (one pair: the rest of the line is the value). */
static gboolean
parse_pairs (const char *keyword, const char *args, GPtrArray *keys, GPtrArray *values,
             GError **error)
{
  g_auto(GStrv) words = rrun_build_split_words (args);
  const char *t = args;

  if (words[0] == NULL)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s needs at least one argument",
                       keyword);
  if (strchr (words[0], '=') == NULL)
    {
      /* ENV K V: the value is the rest of the line, as written. */
      while (g_ascii_isspace (*t))
        t++;
      t += strcspn (t, " \t");
      while (g_ascii_isspace (*t))
        t++;
      g_ptr_array_add (keys, g_strdup (words[0]));
      {
        g_auto(GStrv) rest = rrun_build_split_words (t);
        g_autofree char *joined = g_strjoinv (" ", rest);
        g_ptr_array_add (values, g_steal_pointer (&joined));
      }
      return TRUE;
    }
  for (guint i = 0; words[i]; i++)
    {
      const char *eq = strchr (words[i], '=');
      if (eq == NULL || eq == words[i])
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "%s: \"%s\" is not NAME=VALUE", keyword, words[i]);
      g_ptr_array_add (keys, g_strndup (words[i], eq - words[i]));
      g_ptr_array_add (values, g_strdup (eq + 1));
    }
  return TRUE;
}

static GStrv
command_form (const char *args, const char *const *shell)
{
  static const char *const default_shell[] = { "/bin/sh", "-c", NULL };
  GStrv exec = rrun_build_parse_exec_form (args);
  g_autoptr(GPtrArray) v = NULL;
  const char *t = args;

  if (exec)
    return exec;
  while (g_ascii_isspace (*t))
    t++;
  v = g_ptr_array_new ();
  for (const char *const *s = shell ? shell : default_shell; *s; s++)
    g_ptr_array_add (v, g_strdup (*s));
  g_ptr_array_add (v, g_strdup (t));
  g_ptr_array_add (v, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&v), FALSE);
}

/* Go durations as HEALTHCHECK takes them ("30s", "1m30s", "500ms") in nanoseconds. */
static gboolean
parse_duration (const char *text, gint64 *out)
{
  const char *p = text;
  gint64 total = 0;

  if (*p == '\0')
    return FALSE;
  while (*p)
    {
      char *end;
      double n = g_ascii_strtod (p, &end);
      gint64 unit;
      if (end == p)
        return FALSE;
      p = end;
      if (g_str_has_prefix (p, "ms"))
        unit = 1000000, p += 2;
      else if (g_str_has_prefix (p, "us"))
        unit = 1000, p += 2;
      else if (g_str_has_prefix (p, "ns"))
        unit = 1, p += 2;
      else if (*p == 's')
        unit = G_GINT64_CONSTANT (1000000000), p++;
      else if (*p == 'm')
        unit = G_GINT64_CONSTANT (60000000000), p++;
      else if (*p == 'h')
        unit = G_GINT64_CONSTANT (3600000000000), p++;
      else
        return FALSE;
      total += (gint64) (n * unit);
    }
  *out = total;
  return TRUE;
}

static gboolean
apply_healthcheck (RrunJson *root, const char *args, const char *const *shell, GError **error)
{
  RrunJson *c = rrun_build_config_object (root);
  RrunJson *hc = rrun_json_new_object ();
  const char *t = args;

  while (g_ascii_isspace (*t))
    t++;
  while (g_str_has_prefix (t, "--"))
    {
      const char *end = t + strcspn (t, " \t");
      g_autofree char *opt = g_strndup (t, end - t);
      char *eq = strchr (opt, '=');
      gint64 ns;
      if (eq == NULL)
        {
          rrun_json_free (hc);
          return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                             "HEALTHCHECK: option \"%s\" needs a value", opt);
        }
      *eq++ = '\0';
      if (strcmp (opt, "--retries") == 0)
        rrun_json_object_set (hc, "Retries", rrun_json_new_int (g_ascii_strtoll (eq, NULL, 10)));
      else if ((strcmp (opt, "--interval") == 0 || strcmp (opt, "--timeout") == 0
                || strcmp (opt, "--start-period") == 0 || strcmp (opt, "--start-interval") == 0)
               && parse_duration (eq, &ns))
        rrun_json_object_set (hc, strcmp (opt, "--interval") == 0  ? "Interval"
                                  : strcmp (opt, "--timeout") == 0 ? "Timeout"
                                  : strcmp (opt, "--start-period") == 0 ? "StartPeriod"
                                                                         : "StartInterval",
                              rrun_json_new_int (ns));
      else
        {
          rrun_json_free (hc);
          return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                             "HEALTHCHECK: invalid option \"%s=%s\"", opt, eq);
        }
      t = end;
      while (g_ascii_isspace (*t))
        t++;
    }
  if (g_ascii_strncasecmp (t, "NONE", 4) == 0 && t[4] == '\0')
    {
      const char *none[] = { "NONE", NULL };
      rrun_json_object_set (hc, "Test", strv_json (none));
    }
  else if (g_ascii_strncasecmp (t, "CMD", 3) == 0 && (t[3] == ' ' || t[3] == '\t' || t[3] == '['))
    {
      g_auto(GStrv) exec = rrun_build_parse_exec_form (t + 3);
      g_autoptr(GPtrArray) v = g_ptr_array_new ();
      if (exec)
        {
          g_ptr_array_add (v, (gpointer) "CMD");
          for (guint i = 0; exec[i]; i++)
            g_ptr_array_add (v, exec[i]);
        }
      else
        {
          g_ptr_array_add (v, (gpointer) "CMD-SHELL");
          g_ptr_array_add (v, (gpointer) g_strstrip ((char *) t + 3));
        }
      g_ptr_array_add (v, NULL);
      rrun_json_object_set (hc, "Test", strv_json ((const char *const *) v->pdata));
    }
  else
    {
      rrun_json_free (hc);
      return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                         "HEALTHCHECK: expected NONE or CMD COMMAND");
    }
  rrun_json_object_set (c, "Healthcheck", hc);
  return TRUE;
}

gboolean
rrun_build_config_apply (RrunJson *root, const char *keyword, const char *args,
                         const char *const *shell, GError **error)
{
  RrunJson *c = rrun_build_config_object (root);
  g_autofree char *kw = g_ascii_strup (keyword, -1);
  g_autofree char *trimmed = g_strstrip (g_strdup (args));

  if (strcmp (kw, "CMD") == 0 || strcmp (kw, "ENTRYPOINT") == 0)
    {
      g_auto(GStrv) v = command_form (trimmed, shell);
      rrun_json_object_set (c, strcmp (kw, "CMD") == 0 ? "Cmd" : "Entrypoint",
                            strv_json ((const char *const *) v));
      /* docker: a new ENTRYPOINT drops the CMD the base image had. */
      if (strcmp (kw, "ENTRYPOINT") == 0)
        rrun_json_object_set (c, "Cmd", rrun_json_new_null ());
      return TRUE;
    }
  if (strcmp (kw, "ENV") == 0 || strcmp (kw, "LABEL") == 0)
    {
      g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
      if (!parse_pairs (kw, trimmed, keys, values, error))
        return FALSE;
      for (guint i = 0; i < keys->len; i++)
        if (strcmp (kw, "ENV") == 0)
          rrun_build_config_set_env (root, keys->pdata[i], values->pdata[i]);
        else
          rrun_json_object_set (config_map (root, "Labels"), keys->pdata[i],
                                rrun_json_new_string (values->pdata[i]));
      return TRUE;
    }
  if (*trimmed == '\0')
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s needs an argument", kw);
  if (strcmp (kw, "WORKDIR") == 0)
    {
      const char *old = rrun_json_member_string (c, "WorkingDir");
      g_autofree char *dir = trimmed[0] == '/' ? g_strdup (trimmed)
                             : g_build_filename (old && *old ? old : "/", trimmed, NULL);
      g_autofree char *canon = g_canonicalize_filename (dir, "/");
      rrun_json_object_set (c, "WorkingDir", rrun_json_new_string (canon));
      return TRUE;
    }
  if (strcmp (kw, "USER") == 0 || strcmp (kw, "STOPSIGNAL") == 0)
    {
      rrun_json_object_set (c, strcmp (kw, "USER") == 0 ? "User" : "StopSignal",
                            rrun_json_new_string (trimmed));
      return TRUE;
    }
  if (strcmp (kw, "EXPOSE") == 0)
    {
      g_auto(GStrv) ports = rrun_build_split_words (trimmed);
      for (guint i = 0; ports[i]; i++)
        {
          g_autofree char *p = strchr (ports[i], '/') ? g_ascii_strdown (ports[i], -1)
                                                      : g_strconcat (ports[i], "/tcp", NULL);
          char *end;
          guint64 n = g_ascii_strtoull (p, &end, 10);
          if (end == p || n == 0 || n > 65535
              || (strcmp (end, "/tcp") != 0 && strcmp (end, "/udp") != 0
                  && strcmp (end, "/sctp") != 0))
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               "EXPOSE: invalid port \"%s\"", ports[i]);
          rrun_json_object_set (config_map (root, "ExposedPorts"), p, rrun_json_new_object ());
        }
      return TRUE;
    }
  if (strcmp (kw, "VOLUME") == 0)
    {
      g_auto(GStrv) v = rrun_build_parse_exec_form (trimmed);
      if (v == NULL)
        v = rrun_build_split_words (trimmed);
      for (guint i = 0; v[i]; i++)
        rrun_json_object_set (config_map (root, "Volumes"), v[i], rrun_json_new_object ());
      return TRUE;
    }
  if (strcmp (kw, "SHELL") == 0)
    {
      g_auto(GStrv) v = rrun_build_parse_exec_form (trimmed);
      if (v == NULL || v[0] == NULL)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "SHELL needs a JSON array: SHELL [\"/bin/sh\", \"-c\"]");
      rrun_json_object_set (c, "Shell", strv_json ((const char *const *) v));
      return TRUE;
    }
  if (strcmp (kw, "ONBUILD") == 0)
    {
      g_autofree char *trigger = g_ascii_strup (trimmed, strcspn (trimmed, " \t"));
      RrunJson *old = rrun_json_member (c, "OnBuild");
      RrunJson *a = old && rrun_json_type (old) == RRUN_JSON_ARRAY ? rrun_json_copy (old)
                                                                   : rrun_json_new_array ();
      if (*trimmed == '\0' || strcmp (trigger, "ONBUILD") == 0 || strcmp (trigger, "FROM") == 0
          || strcmp (trigger, "MAINTAINER") == 0)
        {
          rrun_json_free (a);
          return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, *trimmed == '\0'
                             ? "ONBUILD needs an instruction to run in a later build"
                             : "ONBUILD cannot trigger %s", trigger);
        }
      rrun_json_array_add (a, rrun_json_new_string (trimmed));
      rrun_json_object_set (c, "OnBuild", a);
      return TRUE;
    }
  if (strcmp (kw, "HEALTHCHECK") == 0)
    return apply_healthcheck (root, trimmed, shell, error);
  return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                     "\"%s\" is not an instruction that changes the image config", keyword);
}

gboolean
rrun_build_config_apply_line (RrunJson *root, const char *line, GError **error)
{
  const char *t = line;
  g_autofree char *kw = NULL;

  while (g_ascii_isspace (*t))
    t++;
  kw = g_strndup (t, strcspn (t, " \t"));
  t += strlen (kw);
  if (!rrun_build_config_apply (root, kw, t, NULL, error))
    {
      g_prefix_error (error, "invalid change \"%s\": ", line);
      return FALSE;
    }
  return TRUE;
}
