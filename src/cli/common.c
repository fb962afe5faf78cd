#include "cli/common.h"

#include <stdio.h>

gboolean
rrun_cli_storage_idmap (RrunGlobal *g, RrunIdMap **out_map, GError **error)
{
  const char *mode = g->config && g_strcmp0 (g->config->userns, "single") == 0 ? "single"
                                                                               : "auto";
  return rrun_idmap_resolve (mode, out_map, error);
}

void
rrun_cli_print_help (GOptionContext *ctx, const char *command)
{
  g_autofree char *text = NULL;
  g_autofree char *prg = g_strdup_printf ("rrun %s", command);

  /* GOption's usage line names the program: make it "rrun <command>". */
  g_set_prgname (prg);
  text = g_option_context_get_help (ctx, TRUE, NULL);

  fputs (text, stdout);
}
