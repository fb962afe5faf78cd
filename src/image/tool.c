#include "image/tool.h"
#include "error.h"
#include "log.h"
#include "util/own-program.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

char *
rrun_image_tool_find (GError **error)
{
  char *path = rrun_find_own_program ("rrun-image", "RRUN_IMAGE_TOOL",
                                      "rrun's image tool (pull, import, load, save)", error);

  if (path == NULL)
    rrun_add_hint (error, "install rrun completely (rrun-image belongs next to rrun-net), "
                          "or set RRUN_IMAGE_TOOL");
  return path;
}

gboolean
rrun_image_tool_exec (char **argv, GError **error)
{
  g_autofree char *tool = rrun_image_tool_find (error);

  if (tool == NULL)
    return FALSE;
  fflush (stdout);
  fflush (stderr);
  execv (tool, argv);
  return rrun_throw_errno (error, errno, "cannot run the image tool \"%s\"", tool);
}

gboolean
rrun_image_tool_pull (const RrunConfig *config, const char *ref, gboolean tls_verify,
                      gboolean quiet, char **out_id, GError **error)
{
  return rrun_image_tool_pull_with (config, ref, tls_verify, quiet, NULL, NULL, out_id, error);
}

gboolean
rrun_image_tool_pull_with (const RrunConfig *config, const char *ref, gboolean tls_verify,
                           gboolean quiet, const char *platform, const char *authfile,
                           char **out_id, GError **error)
{
  g_auto(GStrv) envp = authfile ? g_environ_setenv (g_get_environ (), "REGISTRY_AUTH_FILE",
                                                    authfile, TRUE)
                                : NULL;
  g_autofree char *tool = rrun_image_tool_find (error);
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *out = NULL;
  int status = 0;

  if (tool == NULL)
    return FALSE;
  g_ptr_array_add (args, g_strdup (tool));
  g_ptr_array_add (args, g_strdup ("rrun"));
  /* The store as this process resolved it (config, --root, relocation off a network
     file system): the tool must fill the same one. */
  g_ptr_array_add (args, g_strdup_printf ("--root=%s", config->storage_root));
  g_ptr_array_add (args, g_strdup_printf ("--runroot=%s", config->run_root));
  /* The log level travels as an option, the way the user gave it to us. */
  if (quiet)
    g_ptr_array_add (args, g_strdup ("--quiet"));
  else if (rrun_log_level_option () != NULL)
    g_ptr_array_add (args, g_strdup (rrun_log_level_option ()));
  g_ptr_array_add (args, g_strdup ("pull"));
  if (quiet)
    g_ptr_array_add (args, g_strdup ("--quiet"));
  if (!tls_verify)
    g_ptr_array_add (args, g_strdup ("--tls-verify=false"));
  if (platform != NULL)
    g_ptr_array_add (args, g_strdup_printf ("--platform=%s", platform));
  g_ptr_array_add (args, g_strdup ("--"));
  g_ptr_array_add (args, g_strdup (ref));
  g_ptr_array_add (args, NULL);

  fflush (stderr);
  /* stdout is captured (the image ID), stderr is shared: the progress display and the
     tool's own error message reach the user unchanged. stdin stays the container's. */
  if (!g_spawn_sync (NULL, (char **) args->pdata, envp,
                     G_SPAWN_FILE_AND_ARGV_ZERO, NULL, NULL,
                     &out, NULL, &status, error))
    {
      g_prefix_error (error, "cannot run the image tool \"%s\": ", tool);
      return FALSE;
    }
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return rrun_throw (error, RRUN_ERROR_REPORTED, "cannot pull \"%s\" (reported above)", ref);
  g_strstrip (out);
  if (out[0] == '\0' || strchr (out, '\n') != NULL)
    return rrun_throw (error, RRUN_ERROR_FAILED,
                       "cannot pull \"%s\": the image tool printed no image ID", ref);
  *out_id = g_steal_pointer (&out);
  return TRUE;
}
