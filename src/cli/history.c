/* rrun history [--format table|json] [--no-trunc] [-q] IMAGE: the steps that made an
   image, newest first, as docker prints them. rrun keeps no intermediate images, so
   every step but the newest shows <missing> for its image, as docker does for pulled
   images. */
#include "cli/cli.h"
#include "error.h"
#include "storage/image-info.h"
#include "storage/store.h"
#include "util/json-value.h"

#include <stdio.h>
#include <string.h>

/* docker's CREATED BY: tabs as spaces, cut to 45 characters with an ellipsis. */
static char *
created_by_text (const char *by, gboolean no_trunc)
{
  g_autofree char *flat = g_strdup (by);

  g_strdelimit (flat, "\t\n", ' ');
  if (no_trunc || g_utf8_strlen (flat, -1) <= 45)
    return g_steal_pointer (&flat);
  *g_utf8_offset_to_pointer (flat, 44) = '\0';
  return g_strconcat (flat, "…", NULL);
}

static void
print_json (const RrunImage *image, GArray *entries)
{
  g_autoptr (RrunJsonBuilder) b = rrun_json_builder_new ();

  rrun_json_builder_begin_array (b);
  for (guint i = 0; i < entries->len; i++)
    {
      const RrunHistoryEntry *e = &g_array_index (entries, RrunHistoryEntry, i);
      g_autoptr (GDateTime) dt = e->created ? g_date_time_new_from_unix_utc (e->created) : NULL;
      g_autofree char *created = dt ? g_date_time_format_iso8601 (dt) : NULL;

      /* podman's keys */
      rrun_json_builder_begin_object (b);
      rrun_json_builder_member_string (b, "id", i == 0 ? image->id : "<missing>");
      rrun_json_builder_member_string (b, "created", created);
      rrun_json_builder_member_string (b, "CreatedBy", e->created_by);
      rrun_json_builder_member_int (b, "size", (gint64)e->size);
      rrun_json_builder_member_string (b, "comment", e->comment);
      rrun_json_builder_member_bool (b, "empty_layer", e->empty_layer);
      rrun_json_builder_member_strv (b, "tags",
                                     (const char *const *)(i == 0 ? image->names : NULL));
      rrun_json_builder_end_object (b);
    }
  rrun_json_builder_end_array (b);
  rrun_cli_print_json_builder (b);
}

static void
print_table (const RrunImage *image, GArray *entries, gboolean no_trunc, gboolean quiet)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify)g_strfreev);
  const char *head[] = { "IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT", NULL };
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  int width[4] = { 0 };

  g_ptr_array_add (rows, g_strdupv ((char **)head));
  for (guint i = 0; i < entries->len; i++)
    {
      const RrunHistoryEntry *e = &g_array_index (entries, RrunHistoryEntry, i);
      char **row = g_new0 (char *, 6);

      if (i > 0)
        row[0] = g_strdup ("<missing>");
      else
        row[0] = no_trunc ? g_strconcat ("sha256:", image->id, NULL) : g_strndup (image->id, 12);
      row[1] = rrun_cli_human_age (e->created, now);
      row[2] = created_by_text (e->created_by, no_trunc);
      row[3] = rrun_cli_human_size (e->size);
      row[4] = g_strdup (e->comment);
      if (quiet)
        {
          printf ("%s\n", row[0]);
          g_strfreev (row);
          continue;
        }
      g_ptr_array_add (rows, row);
    }
  if (quiet)
    return;
  for (guint i = 0; i < rows->len; i++)
    for (guint c = 0; c < 4; c++)
      width[c] = MAX (width[c], (int)g_utf8_strlen (((char **)rows->pdata[i])[c], -1));
  for (guint i = 0; i < rows->len; i++)
    {
      char **r = rows->pdata[i];

      /* printf pads bytes, not characters: pad CREATED BY (which may hold "…") by hand. */
      printf ("%-*s   %-*s   %s%*s   %-*s   %s\n", width[0], r[0], width[1], r[1], r[2],
              width[2] - (int)g_utf8_strlen (r[2], -1), "", width[3], r[3], r[4]);
    }
}

gboolean
rrun_cmd_history (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autofree char *format = NULL;
  gboolean no_trunc = FALSE, quiet = FALSE, help;
  const GOptionEntry entries[]
      = { { "no-trunc", 0, 0, G_OPTION_ARG_NONE, &no_trunc, "Do not shorten IDs and commands",
            NULL },
          { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print only image IDs", NULL },
          { NULL } };
  const RrunCliSpec spec = { "history",
                             "IMAGE",
                             "Show the steps that made an image, newest first, with the size "
                             "of the layer each made.",
                             1,
                             1,
                             "rrun history [--no-trunc] [--format json] IMAGE",
                             &format,
                             FALSE };
  g_autoptr (RrunStore) store = NULL;
  g_autoptr (RrunImage) image = NULL;
  g_autoptr (GArray) rows = NULL;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  if (!rrun_store_open (g->config, &store, error)
      || !rrun_store_find_image (store, argv[1], &image, error)
      || !rrun_image_info_history (image, &rows, error))
    return FALSE;
  if (rrun_cli_format_is_json (format))
    print_json (image, rows);
  else
    print_table (image, rows, no_trunc, quiet);
  return TRUE;
}
