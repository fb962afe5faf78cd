/* rrun version [--format json]: the version and the git commit rrun was built from. */
#include "cli/cli.h"
#include "rrun-commit.h"
#include "rrun-config.h"

#include <stdio.h>

gboolean
rrun_cmd_version (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autofree char *format = NULL;
  gboolean help = FALSE;
  const RrunCliSpec spec = { "version", "", "Print rrun's version.", 0, 0,
                             "rrun version [--format json]", &format, FALSE };

  if (!rrun_cli_parse_args (&spec, NULL, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  if (rrun_cli_format_is_json (format))
    {
      g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();

      rrun_json_builder_begin_object (b);
      rrun_json_builder_set_member_name (b, "Version");
      rrun_json_builder_add_string_value (b, RRUN_VERSION);
      rrun_json_builder_set_member_name (b, "GitCommit");
      rrun_json_builder_add_string_value (b, RRUN_COMMIT);
      rrun_json_builder_end_object (b);
      rrun_cli_print_json_builder (b);
      return TRUE;
    }
  printf ("rrun version %s\ncommit: %s\n", RRUN_VERSION, RRUN_COMMIT);
  return TRUE;
}
