/* rrun logout REGISTRY | --all */
#include "cli/cli.h"
#include "error.h"
#include "registry/auth.h"

#include <stdio.h>

gboolean
rrun_cmd_logout (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean all = FALSE;
  GOptionEntry entries[] = {
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "Remove the credentials of every registry",
      NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("REGISTRY - log out of a registry");
  g_autofree char *key = NULL, *domain = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rrun_cli_parse (ctx, "logout", &argc, &argv, error))
    return FALSE;
  if ((all && argc != 1) || (!all && argc != 2))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "logout: expected one registry, or --all");
      rrun_add_hint (error, "usage: rrun logout REGISTRY | --all");
      return FALSE;
    }
  if (all)
    {
      g_autofree char *path = rrun_auth_write_path ();
      if (!rrun_auth_remove (NULL, error))
        return FALSE;
      printf ("Removed login credentials for all registries (%s)\n", path);
      *out_status = 0;
      return TRUE;
    }
  if (!rrun_cli_registry_argument (argv[1], &key, &domain, error)
      || !rrun_auth_remove (key, error))
    return FALSE;
  printf ("Removed login credentials for %s\n", key);
  *out_status = 0;
  return TRUE;
}
