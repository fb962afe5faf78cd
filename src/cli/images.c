/* rrun images [-a] [-q] [--no-trunc] [--digests] [--filter K=V]... [--format table|json]:
   podman's columns and JSON keys. Also `rrun image ls|list`. */
#include "cli/cli.h"
#include "error.h"
#include "log.h"
#include "util/text-file.h"
#include "storage/names.h"
#include "storage/store.h"
#include "util/json-value.h"

#include <stdio.h>
#include <string.h>

typedef struct
{
  int dangling;      /* -1: any; 0: only named images; 1: only dangling ones */
  char **references; /* reference=PATTERN (any may match), NULL-terminated */
} Filters;

static void
filters_clear (Filters *f)
{
  g_strfreev (f->references);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Filters, filters_clear)

/* docker's --filter: the same key repeated ORs, different keys AND. */
static gboolean
parse_filters (char **specs, Filters *f, GError **error)
{
  g_autoptr (GPtrArray) refs = g_ptr_array_new_with_free_func (g_free);

  f->dangling = -1;
  for (guint i = 0; specs && specs[i]; i++)
    {
      const char *eq = strchr (specs[i], '=');
      g_autofree char *key = eq ? g_strndup (specs[i], (gsize)(eq - specs[i])) : NULL;

      if (g_strcmp0 (key, "dangling") == 0
          && (strcmp (eq + 1, "true") == 0 || strcmp (eq + 1, "1") == 0))
        f->dangling = 1;
      else if (g_strcmp0 (key, "dangling") == 0
               && (strcmp (eq + 1, "false") == 0 || strcmp (eq + 1, "0") == 0))
        f->dangling = 0;
      else if (g_strcmp0 (key, "reference") == 0 && eq[1] != '\0')
        g_ptr_array_add (refs, g_strdup (eq + 1));
      else
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid --filter \"%s\"", specs[i]);
          rrun_add_hint (error, "rrun images takes --filter dangling=true|false and "
                                "--filter reference=PATTERN");
          return FALSE;
        }
    }
  g_ptr_array_add (refs, NULL);
  f->references = (char **)g_ptr_array_free (g_steal_pointer (&refs), FALSE);
  return TRUE;
}

static gboolean
name_wanted (const Filters *f, const char *name)
{
  if (f->references[0] == NULL)
    return TRUE;
  for (guint i = 0; f->references[i]; i++)
    if (rrun_names_match_reference (name, f->references[i]))
      return TRUE;
  return FALSE;
}

/* Keep the images (and, with reference filters, the names) the filters select. */
static void
apply_filters (GPtrArray *images, const Filters *f)
{
  for (guint i = images->len; i > 0; i--)
    {
      RrunImage *img = images->pdata[i - 1];
      gboolean dangling = img->names[0] == NULL;
      guint kept = 0;

      for (guint k = 0; img->names[k]; k++)
        if (name_wanted (f, img->names[k]))
          img->names[kept++] = img->names[k];
        else
          g_free (img->names[k]);
      img->names[kept] = NULL;
      if ((f->dangling == 1 && !dangling) || (f->dangling == 0 && dangling)
          || (f->references[0] != NULL && kept == 0))
        g_ptr_array_remove_index (images, i - 1);
    }
}

static void
print_json (GPtrArray *images)
{
  g_autoptr (RrunJsonBuilder) b = rrun_json_builder_new ();

  rrun_json_builder_begin_array (b);
  for (guint i = 0; i < images->len; i++)
    {
      RrunImage *img = images->pdata[i];
      g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (img->created);
      g_autofree char *created_at = dt ? g_date_time_format_iso8601 (dt) : NULL;

      rrun_json_builder_begin_object (b);
      rrun_json_builder_member_string (b, "Id", img->id);
      rrun_json_builder_member_strv (b, "Names", (const char *const *)img->names);
      rrun_json_builder_member_string (b, "Digest", img->digest);
      rrun_json_builder_member_int (b, "Created", img->created);
      rrun_json_builder_member_string (b, "CreatedAt", created_at ? created_at : "");
      rrun_json_builder_member_int (b, "Size", (gint64)img->size);
      rrun_json_builder_member_string (b, "Os", img->os ? img->os : "");
      rrun_json_builder_member_string (b, "Architecture",
                                       img->architecture ? img->architecture : "");
      rrun_json_builder_member_int (b, "Layers", img->layer_ids->len);
      rrun_json_builder_member_bool (b, "Dangling", img->names[0] == NULL);
      rrun_json_builder_member_bool (b, "ReadOnly", img->read_only_store);
      if (img->damaged != NULL)
        rrun_json_builder_member_string (b, "Damaged", img->damaged);
      rrun_json_builder_end_object (b);
    }
  rrun_json_builder_end_array (b);
  rrun_cli_print_json_builder (b);
}

static char *
image_id_text (const RrunImage *img, gboolean no_trunc)
{
  return no_trunc ? g_strconcat ("sha256:", img->id, NULL) : g_strndup (img->id, 12);
}

static void
print_table (GPtrArray *images, gboolean no_trunc, gboolean digests)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify)g_strfreev);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  const char *head[] = { "REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE", NULL };
  int width[6];

  for (guint c = 0; c < 6; c++)
    width[c] = (int)strlen (head[c]);
  for (guint i = 0; i < images->len; i++)
    {
      RrunImage *img = images->pdata[i];
      guint n = g_strv_length (img->names);

      for (guint k = 0; k < MAX (n, 1u); k++)
        {
          char **row = g_new0 (char *, 7);

          if (n == 0 && img->damaged != NULL)
            row[0] = g_strdup ("<damaged>"), row[1] = g_strdup ("<none>");
          else if (n == 0)
            row[0] = g_strdup ("<none>"), row[1] = g_strdup ("<none>");
          else
            rrun_names_split (img->names[k], &row[0], &row[1]);
          row[2] = g_strdup (img->digest ? img->digest : "<none>");
          row[3] = image_id_text (img, no_trunc);
          row[4] = rrun_cli_human_age (img->created, now);
          row[5] = img->damaged ? g_strdup ("DAMAGED") : rrun_cli_human_size (img->size);
          for (guint c = 0; c < 6; c++)
            width[c] = MAX (width[c], (int)strlen (row[c]));
          g_ptr_array_add (rows, row);
        }
    }
  g_ptr_array_insert (rows, 0, g_strdupv ((char **)head));
  for (guint i = 0; i < rows->len; i++)
    {
      char **r = rows->pdata[i];

      printf ("%-*s  %-*s  ", width[0], r[0], width[1], r[1]);
      if (digests)
        printf ("%-*s  ", width[2], r[2]);
      printf ("%-*s  %-*s  %s\n", width[3], r[3], width[4], r[4], r[5]);
    }
}

gboolean
rrun_cmd_images (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean all = FALSE, quiet = FALSE, no_trunc = FALSE, digests = FALSE, help;
  g_auto (GStrv) filter_specs = NULL;
  g_autofree char *format = NULL;
  const GOptionEntry entries[]
      = { { "all", 'a', 0, G_OPTION_ARG_NONE, &all,
            "Show all images (the same as without: rrun keeps no intermediate images)", NULL },
          { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print only image IDs", NULL },
          { "no-trunc", 0, 0, G_OPTION_ARG_NONE, &no_trunc, "Print full image IDs", NULL },
          { "digests", 0, 0, G_OPTION_ARG_NONE, &digests, "Show the manifest digests", NULL },
          { "filter", 'f', 0, G_OPTION_ARG_STRING_ARRAY, &filter_specs,
            "dangling=true|false or reference=PATTERN (repeatable)", "FILTER" },
          { NULL } };
  const RrunCliSpec spec = { "images",
                             "[REFERENCE]",
                             "List images, newest first. Untagged images show as "
                             "<none>; REFERENCE is a reference filter.",
                             0,
                             1,
                             NULL,
                             &format,
                             FALSE };
  g_autoptr (RrunStore) store = NULL;
  g_autoptr (GPtrArray) images = NULL;
  g_auto (Filters) filters = { 0 };

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  /* docker: `images REPOSITORY` is a reference filter. */
  if (argc == 2)
    {
      guint n = filter_specs ? g_strv_length (filter_specs) : 0;

      filter_specs = g_renew (char *, filter_specs, n + 2);
      filter_specs[n] = g_strconcat ("reference=", argv[1], NULL);
      filter_specs[n + 1] = NULL;
    }
  if (!parse_filters (filter_specs, &filters, error))
    return FALSE;
  if (!rrun_store_open (g->config, &store, error)
      || !rrun_store_list_images (store, &images, error))
    return FALSE;
  apply_filters (images, &filters);
  /* Said here, where the damaged images are listed, not on every command. */
  for (guint i = 0; i < images->len; i++)
    {
      RrunImage *img = images->pdata[i];

      if (img->damaged != NULL)
        {
          g_autofree char *why = rrun_text_escape (img->damaged, -1);

          rrun_warning ("image %.12s is damaged: %s\n"
                        "hint: remove it with 'rrun rmi -f %.12s', or every damaged record "
                        "with 'rrun system check --repair'",
                        img->id, why, img->id);
        }
    }
  if (quiet)
    {
      g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
      for (guint i = 0; i < images->len; i++)
        {
          RrunImage *img = images->pdata[i];
          g_autofree char *id = image_id_text (img, no_trunc);

          if (g_hash_table_add (seen, img->id))
            printf ("%s\n", id);
        }
    }
  else if (rrun_cli_format_is_json (format))
    print_json (images);
  else
    print_table (images, no_trunc, digests);
  return TRUE;
}
