/* rrun images [-a] [-q] [--format table|json]: podman's columns and JSON keys. */
#include "cli/cli.h"
#include "cli/common-store.h"
#include "error.h"
#include "storage/names.h"

#include <stdio.h>
#include <string.h>

/* podman's (docker's go-units) human sizes: SI units, three significant digits. */
char *rrun_cli_human_size (guint64 bytes);
char *rrun_cli_human_age (gint64 then, gint64 now);

char *
rrun_cli_human_size (guint64 bytes)
{
  static const char *units[] = { "B", "kB", "MB", "GB", "TB", "PB" };
  double v = (double) bytes;
  guint u = 0;

  while (v >= 1000.0 && u + 1 < G_N_ELEMENTS (units))
    v /= 1000.0, u++;
  return g_strdup_printf ("%.3g %s", v, units[u]);
}

char *
rrun_cli_human_age (gint64 then, gint64 now)
{
  gint64 s = now - then;

  if (then <= 0)
    return g_strdup ("N/A");
  if (s < 1)
    return g_strdup ("Less than a second ago");
  if (s < 60)
    return g_strdup_printf ("%d second%s ago", (int) s, s == 1 ? "" : "s");
  if (s < 120)
    return g_strdup ("About a minute ago");
  if (s < 3600)
    return g_strdup_printf ("%d minutes ago", (int) (s / 60));
  if (s < 7200)
    return g_strdup ("About an hour ago");
  if (s < 48 * 3600)
    return g_strdup_printf ("%d hours ago", (int) (s / 3600));
  if (s < 14 * 86400)
    return g_strdup_printf ("%d days ago", (int) (s / 86400));
  if (s < 60 * 86400)
    return g_strdup_printf ("%d weeks ago", (int) (s / (7 * 86400)));
  if (s < 2 * 365 * 86400)
    return g_strdup_printf ("%d months ago", (int) (s / (30 * 86400)));
  return g_strdup_printf ("%d years ago", (int) (s / (365 * 86400)));
}

static void
print_json (GPtrArray *images)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_array (b);
  for (guint i = 0; i < images->len; i++)
    {
      RrunImage *img = images->pdata[i];
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (img->created);
      g_autofree char *created_at = dt ? g_date_time_format_iso8601 (dt) : NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "Id");
      json_builder_add_string_value (b, img->id);
      json_builder_set_member_name (b, "Names");
      json_builder_begin_array (b);
      for (guint k = 0; img->names[k]; k++)
        json_builder_add_string_value (b, img->names[k]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "Digest");
      if (img->digest)
        json_builder_add_string_value (b, img->digest);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "Created");
      json_builder_add_int_value (b, img->created);
      json_builder_set_member_name (b, "CreatedAt");
      json_builder_add_string_value (b, created_at ? created_at : "");
      json_builder_set_member_name (b, "Size");
      json_builder_add_int_value (b, (gint64) img->size);
      json_builder_set_member_name (b, "Os");
      json_builder_add_string_value (b, img->os ? img->os : "");
      json_builder_set_member_name (b, "Architecture");
      json_builder_add_string_value (b, img->architecture ? img->architecture : "");
      json_builder_set_member_name (b, "Layers");
      json_builder_add_int_value (b, img->layer_ids->len);
      json_builder_set_member_name (b, "ReadOnly");
      json_builder_add_boolean_value (b, img->read_only_store);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  rrun_cli_print_json (b);
}

static void
print_table (GPtrArray *images)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  const char *head[] = { "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE" };
  int width[5];

  for (guint c = 0; c < 5; c++)
    width[c] = (int) strlen (head[c]);
  for (guint i = 0; i < images->len; i++)
    {
      RrunImage *img = images->pdata[i];
      guint n = g_strv_length (img->names);

      for (guint k = 0; k < MAX (n, 1u); k++)
        {
          char **row = g_new0 (char *, 6);

          if (n == 0)
            row[0] = g_strdup ("<none>"), row[1] = g_strdup ("<none>");
          else
            rrun_names_split (img->names[k], &row[0], &row[1]);
          row[2] = g_strndup (img->id, 12);
          row[3] = rrun_cli_human_age (img->created, now);
          row[4] = rrun_cli_human_size (img->size);
          for (guint c = 0; c < 5; c++)
            width[c] = MAX (width[c], (int) strlen (row[c]));
          g_ptr_array_add (rows, row);
        }
    }
  printf ("%-*s  %-*s  %-*s  %-*s  %s\n", width[0], head[0], width[1], head[1], width[2],
          head[2], width[3], head[3], head[4]);
  for (guint i = 0; i < rows->len; i++)
    {
      char **r = rows->pdata[i];
      printf ("%-*s  %-*s  %-*s  %-*s  %s\n", width[0], r[0], width[1], r[1], width[2], r[2],
              width[3], r[3], r[4]);
    }
}

gboolean
rrun_cmd_images (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean all = FALSE, quiet = FALSE, help = FALSE;
  g_autofree char *format = NULL;
  GOptionEntry entries[] = {
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "Show all images (the same: rrun keeps no "
      "intermediate images)", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print only image IDs", NULL },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format, "Output format: table (default) or json",
      "FORMAT" },
    { "help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show this help", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("");
  g_autoptr(RrunStore) store = NULL;
  g_autoptr(GPtrArray) images = NULL;

  g_option_context_set_help_enabled (ctx, FALSE);
  g_option_context_set_summary (ctx, "List images, newest first.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rrun_cli_parse (ctx, "images", &argc, &argv, error))
    return FALSE;
  if (help)
    {
      rrun_cli_print_help (ctx, "images");
      *out_status = 0;
      return TRUE;
    }
  if (argc > 1)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "images: unexpected argument \"%s\"",
                  argv[1]);
      rrun_add_hint (error, "see: rrun images --help");
      return FALSE;
    }
  if (!rrun_cli_check_format ("images", format, error))
    return FALSE;
  if (!rrun_store_open (g->config, &store, error)
      || !rrun_store_list_images (store, &images, error))
    return FALSE;
  if (quiet)
    {
      g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
      for (guint i = 0; i < images->len; i++)
        {
          RrunImage *img = images->pdata[i];
          if (g_hash_table_add (seen, img->id))
            printf ("%.12s\n", img->id);
        }
    }
  else if (format && strcmp (format, "json") == 0)
    print_json (images);
  else
    print_table (images);
  *out_status = 0;
  return TRUE;
}
