#include "util/own-program.h"
#include "error.h"
#include "rrun-config.h"

char *
rrun_find_own_program (const char *name, const char *env_name, const char *what,
                       GError **error)
{
  const char *env = g_getenv (env_name);
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *libexec = g_build_filename (RRUN_LIBEXECDIR, name, NULL);

  if (env != NULL && *env != '\0')
    {
      if (!g_file_test (env, G_FILE_TEST_IS_EXECUTABLE))
        {
          rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot find %s: %s=\"%s\" is not executable",
                      what, env_name, env);
          return NULL;
        }
      return g_strdup (env);
    }
  if (self != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (self);
      const char *const candidates[] = { ".", "../helpers", "helpers", NULL };

      for (guint i = 0; candidates[i]; i++)
        {
          g_autofree char *p = g_build_filename (dir, candidates[i], name, NULL);
          if (g_file_test (p, G_FILE_TEST_IS_EXECUTABLE))
            return g_steal_pointer (&p);
        }
    }
  if (g_file_test (libexec, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&libexec);
  rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot find %s: no \"%s\"", what, libexec);
  return NULL;
}
