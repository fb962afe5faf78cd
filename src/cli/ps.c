/* rrun ps [--format json]: the running containers. */
#include "cli/cli.h"
#include "container/record.h"
#include "util/json-value.h"

#include <stdio.h>
#include <string.h>

static void
print_json (GPtrArray *states)
{
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();

  rrun_json_builder_begin_array (b);
  for (guint i = 0; i < states->len; i++)
    {
      RrunState *s = states->pdata[i];

      rrun_json_builder_begin_object (b);
      rrun_json_builder_member_string (b, "Id", s->id);
      rrun_json_builder_member_string (b, "Name", s->name);
      rrun_json_builder_member_string (b, "Image", s->image);
      rrun_json_builder_member_string (b, "Command", s->command);
      rrun_json_builder_member_int (b, "Pid", s->pid);
      rrun_json_builder_member_int (b, "Created", s->created);
      rrun_json_builder_end_object (b);
    }
  rrun_json_builder_end_array (b);
  rrun_cli_print_json_builder (b);
}

gboolean
rrun_cmd_ps (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autofree char *format = NULL;
  gboolean quiet = FALSE, all = FALSE, help;
  const GOptionEntry entries[] = {
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Only IDs", NULL },
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "Same as without (only running ones are kept)",
      NULL },
    { NULL }
  };
  const RrunCliSpec spec = { "ps", "", "List running containers.", 0, 0, NULL, &format, FALSE };
  g_autoptr(GPtrArray) states = NULL;
  gint64 now;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  if (!rrun_state_list (g->config, &states, error))
    return FALSE;
  if (rrun_cli_format_is_json (format))
    {
      print_json (states);
      return TRUE;
    }
  if (!quiet)
    printf ("%-12s  %-30s  %-22s  %-16s  %-16s  %-8s  %s\n", "CONTAINER ID", "IMAGE", "COMMAND",
            "CREATED", "STATUS", "PID", "NAMES");
  /* Newest first, as docker lists them; every age from one clock reading. */
  now = g_get_real_time () / G_USEC_PER_SEC;
  for (guint i = states->len; i-- > 0;)
    {
      RrunState *s = states->pdata[i];
      g_autofree char *command = NULL, *created = NULL, *up = NULL;

      if (quiet)
        {
          printf ("%.12s\n", s->id);
          continue;
        }
      /* docker's COMMAND: quoted, cut at 20 characters with an ellipsis. */
      if (g_utf8_strlen (s->command, -1) > 20)
        {
          int cut = (int) (g_utf8_offset_to_pointer (s->command, 19) - s->command);
          command = g_strdup_printf ("\"%.*s…\"", cut, s->command);
        }
      else
        command = g_strdup_printf ("\"%s\"", s->command);
      created = rrun_cli_human_age (s->created, now);
      /* "3 minutes ago" -> "Up 3 minutes" */
      up = g_str_has_suffix (created, " ago") ? g_strndup (created, strlen (created) - 4)
                                             : g_strdup (created);
      printf ("%-12.12s  %-30s  %-22s  %-16s  Up %-13s  %-8d  %s\n", s->id, s->image, command,
              created, up, (int) s->pid, s->name ? s->name : "");
    }
  return TRUE;
}
