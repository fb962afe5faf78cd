#include "process/command.h"
#include "error.h"
#include "util/text-file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void
rrun_user_free (RrunUser *user)
{
  if (user == NULL)
    return;
  g_clear_pointer (&user->groups, g_array_unref);
  g_free (user->name);
  g_free (user->home);
  g_free (user);
}

static gboolean
parse_id (const char *text, guint32 *out)
{
  char *end = NULL;
  guint64 v;

  if (text == NULL || *text == '\0' || !g_ascii_isdigit (*text))
    return FALSE;
  errno = 0;
  v = g_ascii_strtoull (text, &end, 10);
  if (errno != 0 || *end != '\0' || v >= G_MAXUINT32)
    return FALSE;
  *out = (guint32) v;
  return TRUE;
}

/* Find a passwd line by name or uid: fields name:x:uid:gid:gecos:home:shell. */
static char **
find_passwd (const char *text, const char *name, const guint32 *uid)
{
  g_auto(GStrv) lines = text ? g_strsplit (text, "\n", -1) : NULL;

  for (guint i = 0; lines && lines[i]; i++)
    {
      char **f = g_strsplit (lines[i], ":", 7);
      guint32 id;

      if (g_strv_length (f) >= 4 && parse_id (f[2], &id)
          && ((name && strcmp (f[0], name) == 0) || (uid && id == *uid)))
        return f;
      g_strfreev (f);
    }
  return NULL;
}

/* Find a group line by name or gid: name:x:gid:members. */
static char **
find_group (const char *text, const char *name, const guint32 *gid)
{
  g_auto(GStrv) lines = text ? g_strsplit (text, "\n", -1) : NULL;

  for (guint i = 0; lines && lines[i]; i++)
    {
      char **f = g_strsplit (lines[i], ":", 4);
      guint32 id;

      if (g_strv_length (f) >= 3 && parse_id (f[2], &id)
          && ((name && strcmp (f[0], name) == 0) || (gid && id == *gid)))
        return f;
      g_strfreev (f);
    }
  return NULL;
}

static void
add_member_groups (RrunUser *u, const char *group_text)
{
  g_auto(GStrv) lines = group_text ? g_strsplit (group_text, "\n", -1) : NULL;

  for (guint i = 0; u->name && lines && lines[i]; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], ":", 4);
      g_auto(GStrv) members = NULL;
      guint32 gid;

      if (g_strv_length (f) < 4 || !parse_id (f[2], &gid))
        continue;
      members = g_strsplit (g_strstrip (f[3]), ",", -1);
      if (g_strv_contains ((const char *const *) members, u->name))
        {
          gboolean dup = FALSE;
          for (guint j = 0; j < u->groups->len; j++)
            dup |= g_array_index (u->groups, gid_t, j) == gid;
          if (!dup)
            g_array_append_val (u->groups, gid);
        }
    }
}

gboolean
rrun_user_resolve (const char *spec, const char *passwd_text, const char *group_text,
                   RrunUser **out_user, GError **error)
{
  g_autoptr(RrunUser) u = g_new0 (RrunUser, 1);
  g_autofree char *user_part = NULL;
  const char *group_part = NULL;
  g_auto(GStrv) pw = NULL;
  guint32 id;

  u->groups = g_array_new (FALSE, TRUE, sizeof (gid_t));
  if (spec == NULL || *spec == '\0')
    spec = "0";
  user_part = g_strdup (spec);
  {
    char *colon = strchr (user_part, ':');
    if (colon)
      {
        *colon = '\0';
        group_part = colon + 1;
        if (*group_part == '\0')
          return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                             "invalid user \"%s\": empty group after ':'", spec);
      }
  }
  if (*user_part == '\0')
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid user \"%s\": empty name",
                       spec);

  if (parse_id (user_part, &id))
    {
      u->uid = id;
      pw = find_passwd (passwd_text, NULL, &id);
    }
  else
    {
      pw = find_passwd (passwd_text, user_part, NULL);
      if (pw == NULL)
        {
          rrun_throw (error, RRUN_ERROR_NOT_FOUND,
                      "cannot find user \"%s\": no matching entry in the container's "
                      "/etc/passwd",
                      user_part);
          rrun_add_hint (error, "use a numeric id (-u 1000:1000) or a name the image defines");
          return FALSE;
        }
      parse_id (pw[2], &id);
      u->uid = id;
    }
  if (pw != NULL)
    {
      guint32 gid;
      parse_id (pw[3], &gid);
      u->gid = gid;
      u->name = g_strdup (pw[0]);
      u->home = g_strdup (g_strv_length (pw) >= 6 && *pw[5] ? pw[5] : "/");
    }
  else
    {
      u->gid = 0;
      u->home = g_strdup ("/");
    }

  if (group_part != NULL)
    {
      g_auto(GStrv) gr = NULL;

      if (parse_id (group_part, &id))
        u->gid = id;
      else if ((gr = find_group (group_text, group_part, NULL)) != NULL)
        {
          parse_id (gr[2], &id);
          u->gid = id;
        }
      else
        {
          rrun_throw (error, RRUN_ERROR_NOT_FOUND,
                      "cannot find group \"%s\": no matching entry in the container's "
                      "/etc/group",
                      group_part);
          rrun_add_hint (error, "use a numeric id (-u 1000:1000) or a name the image defines");
          return FALSE;
        }
    }
  else
    /* Supplementary groups come with a user found in passwd, as with docker. */
    add_member_groups (u, group_text);
  *out_user = g_steal_pointer (&u);
  return TRUE;
}

gboolean
rrun_spec_build_argv (char **image_entrypoint, char **image_cmd, const char *entrypoint_override,
                      char **args, char ***out_argv, GError **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);

  if (entrypoint_override != NULL)
    {
      /* docker: --entrypoint is one program, and resets the image's Cmd. */
      if (*entrypoint_override != '\0')
        g_ptr_array_add (argv, g_strdup (entrypoint_override));
      image_cmd = NULL;
    }
  else
    for (guint i = 0; image_entrypoint && image_entrypoint[i]; i++)
      g_ptr_array_add (argv, g_strdup (image_entrypoint[i]));
  if (args != NULL && args[0] != NULL)
    for (guint i = 0; args[i]; i++)
      g_ptr_array_add (argv, g_strdup (args[i]));
  else
    for (guint i = 0; image_cmd && image_cmd[i]; i++)
      g_ptr_array_add (argv, g_strdup (image_cmd[i]));
  if (argv->len == 0)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "no command given: the image has no Entrypoint or Cmd");
      rrun_add_hint (error, "name a command after the image, e.g.: rrun run IMAGE sh");
      return FALSE;
    }
  if (*(char *) argv->pdata[0] == '\0')
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "the command is an empty string");
  g_ptr_array_add (argv, NULL);
  *out_argv = (char **) g_ptr_array_free (g_steal_pointer (&argv), FALSE);
  return TRUE;
}

static gboolean
valid_env_name (const char *s, gsize len)
{
  if (len == 0)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (s[i] == '\0' || g_ascii_isspace (s[i]))
      return FALSE;
  return TRUE;
}

/* Add "K=V" (replacing an earlier K, found through index: name -> position + 1, so that
   a file of n variables takes linear time), or for a bare "K" the host's value if it has
   one. */
static gboolean
env_add (GPtrArray *env, GHashTable *index, const char *entry, char **host_env,
         const char *source, GError **error)
{
  const char *eq = strchr (entry, '=');
  gsize klen = eq ? (gsize) (eq - entry) : strlen (entry);
  g_autofree char *item = NULL;
  g_autofree char *key = NULL;
  gpointer pos;

  if (!valid_env_name (entry, klen))
    {
      g_autofree char *shown = rrun_text_escape (entry, -1);
      g_autofree char *from = source ? rrun_text_escape (source, -1) : NULL;

      return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                         "invalid environment variable \"%s\"%s%s", shown,
                         from ? " in " : "", from ? from : "");
    }
  if (eq == NULL)
    {
      const char *v = g_environ_getenv (host_env, entry);
      if (v == NULL)
        return TRUE; /* docker passes nothing for an unset host variable */
      item = g_strconcat (entry, "=", v, NULL);
    }
  else
    item = g_strdup (entry);
  key = g_strndup (entry, klen);
  pos = g_hash_table_lookup (index, key);
  if (pos != NULL)
    {
      guint i = GPOINTER_TO_UINT (pos) - 1;

      g_free (env->pdata[i]);
      env->pdata[i] = g_steal_pointer (&item);
      return TRUE;
    }
  g_ptr_array_add (env, g_steal_pointer (&item));
  g_hash_table_insert (index, g_steal_pointer (&key), GUINT_TO_POINTER (env->len));
  return TRUE;
}

gboolean
rrun_spec_parse_env_file (const char *path, GPtrArray *out_env, GError **error)
{
  g_autofree char *text = NULL;
  gsize len;
  char *next;

  if (!rrun_text_file_read (path, "env file", RRUN_TEXT_FILE_MAX_ENV,
                            RRUN_TEXT_FILE_ALLOW_PIPE, &text, &len, error))
    return FALSE;
  /* Line by line with memchr: linear (g_strsplit's strstr is quadratic under ASan, whose
     interceptor measures the rest of the text at each call). */
  for (char *line = text; line != NULL; line = next)
    {
      char *nl = memchr (line, '\n', len - (gsize) (line - text));

      next = nl ? nl + 1 : NULL;
      if (nl)
        *nl = '\0';
      while (g_ascii_isspace (*line))
        line++;
      if (*line == '\0' || *line == '#')
        continue;
      /* Trailing spaces of the value are kept, only the line end is removed. */
      if (g_str_has_suffix (line, "\r"))
        line[strlen (line) - 1] = '\0';
      g_ptr_array_add (out_env, g_strdup (line));
    }
  return TRUE;
}

const char *
rrun_spec_env_get (char **env, const char *key)
{
  gsize klen = strlen (key);

  for (guint i = 0; env && env[i]; i++)
    if (strncmp (env[i], key, klen) == 0 && env[i][klen] == '=')
      return env[i] + klen + 1;
  return NULL;
}

gboolean
rrun_spec_build_env (char **image_env, char **env_files, char **cli_env, char **host_env,
                     const char *hostname, const char *home, gboolean tty, char ***out_env,
                     GError **error)
{
  g_autoptr(GPtrArray) env = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) from_files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *host_name = hostname ? g_strconcat ("HOSTNAME=", hostname, NULL) : NULL;

  if (!env_add (env, index, "PATH=" RRUN_DEFAULT_PATH, NULL, NULL, error)
      || (host_name != NULL && !env_add (env, index, host_name, NULL, NULL, error)))
    return FALSE;
  for (guint i = 0; image_env && image_env[i]; i++)
    if (!env_add (env, index, image_env[i], NULL, "the image config", error))
      return FALSE;
  for (guint i = 0; env_files && env_files[i]; i++)
    {
      g_ptr_array_set_size (from_files, 0);
      if (!rrun_spec_parse_env_file (env_files[i], from_files, error))
        return FALSE;
      for (guint j = 0; j < from_files->len; j++)
        if (!env_add (env, index, from_files->pdata[j], host_env, env_files[i], error))
          return FALSE;
    }
  for (guint i = 0; cli_env && cli_env[i]; i++)
    if (!env_add (env, index, cli_env[i], host_env, NULL, error))
      return FALSE;
  g_ptr_array_add (env, NULL);
  {
    char **v = (char **) env->pdata;
    gboolean need_home = rrun_spec_env_get (v, "HOME") == NULL;
    gboolean need_term = tty && rrun_spec_env_get (v, "TERM") == NULL;

    g_ptr_array_remove_index (env, env->len - 1);
    if (need_home)
      g_ptr_array_add (env, g_strconcat ("HOME=", home ? home : "/", NULL));
    if (need_term)
      g_ptr_array_add (env, g_strdup ("TERM=xterm"));
  }
  g_ptr_array_add (env, NULL);
  *out_env = (char **) g_ptr_array_free (g_steal_pointer (&env), FALSE);
  return TRUE;
}

void
rrun_spec_env_add_missing (char ***env, char **host_env)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new ();

  for (guint i = 0; (*env)[i]; i++)
    g_ptr_array_add (out, (*env)[i]);
  for (guint i = 0; host_env && host_env[i]; i++)
    {
      const char *eq = strchr (host_env[i], '=');
      g_autofree char *key = NULL;

      if (eq == NULL || eq == host_env[i])
        continue;
      key = g_strndup (host_env[i], (gsize) (eq - host_env[i]));
      if (g_environ_getenv (*env, key) == NULL)
        g_ptr_array_add (out, g_strdup (host_env[i]));
    }
  g_ptr_array_add (out, NULL);
  g_free (*env); /* the strings moved to out */
  *env = (char **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

gboolean
rrun_spec_check_name (const char *name, GError **error)
{
  g_autofree char *shown = NULL;

  if (g_ascii_isalnum (name[0]))
    {
      const char *p = name + 1;

      while (g_ascii_isalnum (*p) || *p == '_' || *p == '.' || *p == '-')
        p++;
      if (*p == '\0')
        return TRUE;
    }
  shown = g_strescape (name, NULL);
  rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
              "invalid container name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-]* is allowed",
              shown);
  return FALSE;
}

gboolean
rrun_spec_check_hostname (const char *hostname, GError **error)
{
  g_autofree char *shown = NULL;
  const char *why = NULL;
  size_t label = 0;

  if (*hostname == '\0')
    why = "it is empty";
  else if (strlen (hostname) > 64)
    why = "longer than 64 characters";
  for (const char *p = hostname; why == NULL; p++)
    {
      if (*p == '.' || *p == '\0')
        {
          if (label == 0)
            why = "a label is empty";
          else if (label > 63)
            why = "a label is longer than 63 characters";
          else if (p[-1] == '-')
            why = "a label ends with '-'";
          if (*p == '\0')
            break;
          label = 0;
        }
      else if (g_ascii_isalnum (*p) || (*p == '-' && label > 0))
        label++;
      else if (*p == '-')
        why = "a label starts with '-'";
      else
        why = "only letters, digits, '-' and '.' are allowed";
    }
  if (why == NULL)
    return TRUE;
  shown = g_strescape (hostname, NULL);
  rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid hostname \"%s\": %s", shown, why);
  return FALSE;
}
