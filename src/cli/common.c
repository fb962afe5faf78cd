#include "cli/common.h"
#include "error.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

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

gboolean
rrun_cli_labels_match (char *const *labels, const char *want)
{
  gboolean with_value = strchr (want, '=') != NULL;
  gsize n = strlen (want);

  for (guint i = 0; labels && labels[i]; i++)
    {
      if (with_value && strcmp (labels[i], want) == 0)
        return TRUE;
      if (!with_value && strncmp (labels[i], want, n) == 0 && labels[i][n] == '=')
        return TRUE;
    }
  return FALSE;
}

gboolean
rrun_cli_print_rendered (RrunTemplate *tmpl, RrunJsonBuilder *b, GError **error)
{
  g_autoptr(RrunJson) node = rrun_json_builder_get_root (b);
  g_autofree char *text = rrun_template_render (tmpl, node, error);

  if (text == NULL)
    return FALSE;
  printf ("%s\n", text);
  return TRUE;
}

gboolean
rrun_cli_inspect_each (RrunGlobal *g, const char *format, char **names, int n,
                       RrunCliInspectFunc inspect, int *out_status, GError **error)
{
  g_autoptr(RrunTemplate) tmpl = NULL;
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();
  int failed = 0;

  if (format && strcmp (format, "json") != 0 && (tmpl = rrun_template_new (format, error)) == NULL)
    return FALSE;
  rrun_json_builder_begin_array (b);
  for (int i = 0; i < n; i++)
    {
      g_autoptr(RrunJsonBuilder) one = tmpl != NULL ? rrun_json_builder_new () : NULL;
      g_autoptr(GError) local = NULL;

      if (!inspect (g, names[i], one != NULL ? one : b, &local))
        {
          rrun_log_print_error (local);
          failed++;
          continue;
        }
      if (one != NULL && !rrun_cli_print_rendered (tmpl, one, error))
        return FALSE;
    }
  rrun_json_builder_end_array (b);
  if (tmpl == NULL)
    rrun_cli_print_json_builder (b);
  *out_status = failed ? RRUN_EXIT_FAILED : 0;
  return TRUE;
}

void
rrun_cli_report_removal (const char *name, gboolean force, GError *local, int *failed)
{
  g_autoptr(GError) e = local;

  if (e == NULL)
    {
      printf ("%s\n", name);
      fflush (stdout);
      return;
    }
  if (force && g_error_matches (e, RRUN_ERROR, RRUN_ERROR_NOT_FOUND))
    return;
  rrun_log_print_error (e);
  (*failed)++;
}

gboolean
rrun_cli_exists_status (GError *local, int *out_status, GError **error)
{
  g_autoptr(GError) e = local;

  if (e == NULL)
    *out_status = 0;
  else if (g_error_matches (e, RRUN_ERROR, RRUN_ERROR_NOT_FOUND))
    *out_status = 1;
  else
    {
      g_propagate_error (error, g_steal_pointer (&e));
      return FALSE;
    }
  return TRUE;
}
