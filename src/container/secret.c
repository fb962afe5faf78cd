/* File-backed secrets: see secret.h. */
#include "container/secret.h"
#include "error.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *
secrets_dir (const RrunConfig *config)
{
  return g_build_filename (config->storage_root, "secrets", NULL);
}

gboolean
rrun_secret_check_name (const char *name, GError **error)
{
  gsize n = strlen (name);

  if (n == 0 || n > 253 || !g_ascii_isalnum (name[0])
      || strspn (name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid secret name \"%s\"", name);
      rrun_add_hint (error, "a letter or digit, then letters, digits, '_', '.' or '-'");
      return FALSE;
    }
  return TRUE;
}

char *
rrun_secret_path (const RrunConfig *config, const char *name, GError **error)
{
  g_autofree char *dir = secrets_dir (config);
  g_autofree char *path = NULL;

  if (!rrun_secret_check_name (name, error))
    return NULL;
  path = g_build_filename (dir, name, NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      rrun_throw (error, RRUN_ERROR_NOT_FOUND, "no such secret \"%s\"", name);
      rrun_add_hint (error, "create it: rrun secret create %s FILE", name);
      return NULL;
    }
  return g_steal_pointer (&path);
}

gboolean
rrun_secret_create (const RrunConfig *config, const char *name, const char *data, gsize len,
                    gboolean replace, GError **error)
{
  g_autofree char *dir = secrets_dir (config);
  g_autofree char *path = NULL, *tmp = NULL;
  rrun_autofd int fd = -1;

  if (!rrun_secret_check_name (name, error))
    return FALSE;
  if (g_mkdir_with_parents (dir, 0700) < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", dir);
  path = g_build_filename (dir, name, NULL);
  if (!replace && g_file_test (path, G_FILE_TEST_EXISTS))
    {
      rrun_throw (error, RRUN_ERROR_BUSY, "secret \"%s\" exists", name);
      rrun_add_hint (error, "remove it first (rrun secret rm %s) or use --replace", name);
      return FALSE;
    }
  /* temp then rename: a reader never sees half a secret */
  tmp = g_strconcat (path, ".tmp", NULL);
  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", tmp);
  if (!rrun_fd_write_all (fd, data, len, error))
    {
      unlink (tmp);
      return FALSE;
    }
  if (rename (tmp, path) < 0)
    {
      int errsv = errno;
      unlink (tmp);
      return rrun_throw_errno (error, errsv, "cannot rename \"%s\"", tmp);
    }
  return TRUE;
}

gboolean
rrun_secret_remove (const RrunConfig *config, const char *name, GError **error)
{
  g_autofree char *path = rrun_secret_path (config, name, error);

  if (path == NULL)
    return FALSE;
  if (unlink (path) < 0)
    return rrun_throw_errno (error, errno, "cannot remove \"%s\"", path);
  return TRUE;
}

static gint
compare (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

char **
rrun_secret_list (const RrunConfig *config)
{
  g_autofree char *dir = secrets_dir (config);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  GPtrArray *names = g_ptr_array_new ();
  const char *n;

  while (d != NULL && (n = g_dir_read_name (d)) != NULL)
    if (!g_str_has_suffix (n, ".tmp") && rrun_secret_check_name (n, NULL))
      g_ptr_array_add (names, g_strdup (n));
  g_ptr_array_sort (names, compare);
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}

gboolean
rrun_secret_parse_arg (const char *arg, char **out_name, gboolean *out_env, char **out_target,
                       guint *out_mode, GError **error)
{
  g_auto(GStrv) parts = g_strsplit (arg, ",", -1);
  g_autofree char *target = NULL;
  gboolean env = FALSE;
  guint64 mode = 0400;

  if (!rrun_secret_check_name (parts[0], error))
    {
      g_prefix_error (error, "--secret: ");
      return FALSE;
    }
  for (guint i = 1; parts[i]; i++)
    {
      const char *p = parts[i];

      if (strcmp (p, "type=mount") == 0)
        env = FALSE;
      else if (strcmp (p, "type=env") == 0)
        env = TRUE;
      else if (g_str_has_prefix (p, "target=") && p[7] != '\0' && strstr (p, "..") == NULL)
        {
          g_free (target);
          target = g_strdup (p + 7);
        }
      else if (g_str_has_prefix (p, "mode=")
               && g_ascii_string_to_unsigned (p + 5, 8, 0, 0777, &mode, NULL))
        ;
      else
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid --secret \"%s\": \"%s\"",
                      arg, p);
          rrun_add_hint (error, "--secret NAME[,type=mount|env][,target=PATH|VAR][,mode=0400]");
          return FALSE;
        }
    }
  if (target == NULL)
    target = env ? g_strdup (parts[0]) : g_build_filename ("/run/secrets", parts[0], NULL);
  else if (!env && target[0] != '/')
    {
      char *abs = g_build_filename ("/run/secrets", target, NULL);
      g_free (target);
      target = abs;
    }
  *out_name = g_strdup (parts[0]);
  *out_env = env;
  *out_target = g_steal_pointer (&target);
  *out_mode = (guint) mode;
  return TRUE;
}
