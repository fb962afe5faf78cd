/* rrun ps [-a] [-q] [-l] [-n N] [--no-trunc] [--filter K=V]... [--format json]: the
   containers, running ones or (-a) all, with docker's STATUS column. */
#include "cli/cli.h"
#include "container/record.h"
#include "error.h"
#include "util/text-file.h"
#include "log.h"
#include "util/json-value.h"
#include "util/template.h"
#include "volume/volume.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* docker's STATUS: "Up 3 seconds", "Exited (4) 2 minutes ago", "Created". */
char *
rrun_cli_container_status (const RrunState *s, gint64 now)
{
  g_autofree char *age = NULL;

  if (s->damaged != NULL)
    return g_strdup (s->live ? "Damaged (its rrun is running)" : "Damaged");
  switch (s->status)
    {
    case RRUN_STATUS_CREATED:
      return g_strdup ("Created");
    case RRUN_STATUS_RUNNING:
      age = rrun_cli_human_age (s->started / 1000000000, now);
      /* "3 minutes ago" -> "Up 3 minutes" */
      if (g_str_has_suffix (age, " ago"))
        age[strlen (age) - 4] = '\0';
      return g_strdup_printf ("Up %s%s%s%s%s", age, s->paused ? " (Paused)" : "",
                              s->health ? " (" : "", s->health ? s->health : "",
                              s->health ? ")" : "");
    case RRUN_STATUS_EXITED:
      age = rrun_cli_human_age (s->finished / 1000000000, now);
      /* Its monitor waits to start it again (--restart). */
      if (s->live && s->restarting)
        return g_strdup_printf ("Restarting (%d) %s", s->exit_code, age);
      if (s->exit_code == RRUN_EXIT_CODE_UNKNOWN)
        return g_strdup_printf ("Exited (unknown) %s", age);
      return g_strdup_printf ("Exited (%d) %s", s->exit_code, age);
    }
  return g_strdup ("Unknown");
}

typedef struct
{
  GPtrArray *name, *id, *status, *ancestor, *exited, *label, *volume;
  const RrunConfig *config; /* volume= reads the records' mounts.json */
} Filters;

static void
filters_clear (Filters *f)
{
  g_clear_pointer (&f->name, g_ptr_array_unref);
  g_clear_pointer (&f->id, g_ptr_array_unref);
  g_clear_pointer (&f->status, g_ptr_array_unref);
  g_clear_pointer (&f->ancestor, g_ptr_array_unref);
  g_clear_pointer (&f->exited, g_ptr_array_unref);
  g_clear_pointer (&f->label, g_ptr_array_unref);
  g_clear_pointer (&f->volume, g_ptr_array_unref);
}

static gboolean
filters_parse (char **specs, Filters *f, GError **error)
{
  static const char *const statuses[] = { "created", "restarting", "running", "removing",
                                          "paused",  "exited",     "dead",    NULL };

  for (guint i = 0; specs && specs[i]; i++)
    {
      const char *eq = strchr (specs[i], '=');
      g_autofree char *key = eq ? g_strndup (specs[i], (gsize) (eq - specs[i])) : NULL;
      const char *value = eq ? eq + 1 : NULL;
      GPtrArray **list = NULL;

      if (key == NULL)
        list = NULL;
      else if (strcmp (key, "name") == 0)
        list = &f->name;
      else if (strcmp (key, "id") == 0)
        list = &f->id;
      else if (strcmp (key, "status") == 0)
        list = &f->status;
      else if (strcmp (key, "ancestor") == 0)
        list = &f->ancestor;
      else if (strcmp (key, "exited") == 0)
        list = &f->exited;
      else if (strcmp (key, "label") == 0)
        list = &f->label;
      else if (strcmp (key, "volume") == 0)
        list = &f->volume;
      if (list == NULL)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "ps: invalid filter \"%s\"", specs[i]);
          rrun_add_hint (error, "filters: name=, id=, status=, ancestor=, exited=, label= (KEY=VALUE), volume=");
          return FALSE;
        }
      if (list == &f->status && !g_strv_contains (statuses, value))
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "ps: invalid status \"%s\"", value);
          rrun_add_hint (error, "a status is one of created, restarting, running, removing, "
                                "paused, exited, dead");
          return FALSE;
        }
      if (list == &f->exited)
        {
          guint64 n;
          if (!g_ascii_string_to_unsigned (value, 10, 0, 255, &n, NULL))
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               "ps: invalid exited filter \"%s\": expected an exit code",
                               value);
        }
      if (*list == NULL)
        *list = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (*list, g_strdup (value));
    }
  return TRUE;
}

/* An image reference as the user typed it or with the default tag. */
static gboolean
ancestor_matches (const RrunState *s, const char *v)
{
  const char *hex = g_str_has_prefix (v, "sha256:") ? v + 7 : v;
  g_autofree char *tagged = g_strconcat (v, ":latest", NULL);
  const char *slash = strrchr (s->image, '/');

  if (g_strcmp0 (s->image, v) == 0 || g_strcmp0 (s->image, tagged) == 0)
    return TRUE;
  /* "busybox" for "localhost/busybox:latest": the last path component */
  if (slash && (strcmp (slash + 1, v) == 0 || strcmp (slash + 1, tagged) == 0))
    return TRUE;
  return s->image_id && strlen (hex) >= 3 && g_str_has_prefix (s->image_id, hex);
}

/* label=KEY: the container has the label; label=KEY=VALUE: with that value. */
static gboolean
label_matches (const RrunState *s, const char *v)
{
  gsize klen = strchr (v, '=') ? (gsize) (strchr (v, '=') - v) : strlen (v);

  for (guint i = 0; s->labels && s->labels[i]; i++)
    {
      const char *l = s->labels[i];
      gsize llen = strchr (l, '=') ? (gsize) (strchr (l, '=') - l) : strlen (l);

      if (llen != klen || strncmp (l, v, klen) != 0)
        continue;
      if (v[klen] == '\0')
        return TRUE;
      if (g_strcmp0 (l[llen] ? l + llen + 1 : "", v + klen + 1) == 0)
        return TRUE;
    }
  return FALSE;
}

/* volume=: the container mounts that volume (by name) or host path, or has a mount at
   that container path, as docker matches it; from its record's mounts.json. */
static gboolean
volume_matches (const RrunConfig *config, const RrunState *s, const char *v)
{
  g_autofree char *dir = rrun_record_dir (config, s->id);
  g_autofree char *path = g_build_filename (dir, RRUN_MOUNTS_FILE, NULL);
  g_autofree char *text = NULL;
  g_autoptr(RrunJson) mounts = NULL;
  gsize len;

  if (!g_file_get_contents (path, &text, &len, NULL)
      || (mounts = rrun_json_parse (text, len, RRUN_JSON_DEFAULT, NULL)) == NULL
      || rrun_json_type (mounts) != RRUN_JSON_ARRAY)
    return FALSE;
  for (guint i = 0; i < rrun_json_size (mounts); i++)
    {
      RrunJson *m = rrun_json_element (mounts, i);
      const char *name = rrun_json_member_string (m, "Name");

      if (g_strcmp0 (rrun_json_member_string (m, "Destination"), v) == 0
          || g_strcmp0 (name && *name ? name : rrun_json_member_string (m, "Source"), v) == 0)
        return TRUE;
    }
  return FALSE;
}

/* docker's rules: values of one key are alternatives, keys must all match. */
static gboolean
filters_match (const Filters *f, const RrunState *s)
{
  gboolean ok;

#define ANY(list, test)                                                                     \
  if ((list) != NULL)                                                                       \
    {                                                                                       \
      ok = FALSE;                                                                           \
      for (guint i = 0; !ok && i < (list)->len; i++)                                        \
        {                                                                                   \
          const char *v = (list)->pdata[i];                                                 \
          ok = (test);                                                                      \
        }                                                                                   \
      if (!ok)                                                                              \
        return FALSE;                                                                       \
    }
  ANY (f->name, s->name && strstr (s->name, v) != NULL);
  ANY (f->id, g_str_has_prefix (s->id, v));
  ANY (f->status, strcmp (s->paused ? "paused" : rrun_status_name (s->status), v) == 0);
  ANY (f->ancestor, ancestor_matches (s, v));
  ANY (f->exited, s->status == RRUN_STATUS_EXITED && s->exit_code == atoi (v));
  ANY (f->label, label_matches (s, v));
  ANY (f->volume, volume_matches (f->config, s, v));
#undef ANY
  return TRUE;
}

static void
print_json (GPtrArray *states, gint64 now)
{
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();

  rrun_json_builder_begin_array (b);
  for (guint i = states->len; i-- > 0;)
    {
      RrunState *s = states->pdata[i];
      g_autofree char *status = rrun_cli_container_status (s, now);

      rrun_json_builder_begin_object (b);
      rrun_json_builder_member_string (b, "Id", s->id);
      rrun_json_builder_member_string (b, "Name", s->name);
      rrun_json_builder_member_string (b, "Image", s->image);
      rrun_json_builder_member_string (b, "ImageID", s->image_id);
      rrun_json_builder_member_string (b, "Command", s->command);
      rrun_json_builder_member_int (b, "Pid", s->status == RRUN_STATUS_RUNNING ? s->pid : 0);
      rrun_json_builder_member_int (b, "Created", s->created);
      rrun_json_builder_member_string (b, "State",
                                       s->paused ? "paused" : rrun_status_name (s->status));
      rrun_json_builder_member_string (b, "Status", status);
      rrun_json_builder_member_bool (b, "Exited", s->status == RRUN_STATUS_EXITED);
      rrun_json_builder_member_int (b, "ExitCode",
                                    s->status == RRUN_STATUS_EXITED ? s->exit_code : 0);
      rrun_json_builder_member_int (b, "StartedAt", s->started / 1000000000);
      rrun_json_builder_member_int (b, "ExitedAt", s->finished / 1000000000);
      rrun_json_builder_member_bool (b, "AutoRemove", s->rm);
      if (s->damaged != NULL)
        rrun_json_builder_member_string (b, "Damaged", s->damaged);
      rrun_json_builder_end_object (b);
    }
  rrun_json_builder_end_array (b);
  rrun_cli_print_json_builder (b);
}

/* What a --format template sees of a container: docker's ps fields (ID, Image, Command,
   CreatedAt, RunningFor, Ports, Status, State, Names) and rrun's Pid and ExitCode. */
static RrunJson *
template_object (const RrunState *s, gint64 now, gboolean no_trunc)
{
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();
  g_autofree char *status = rrun_cli_container_status (s, now);
  g_autofree char *running_for = rrun_cli_human_age (s->created, now);
  g_autofree char *id = g_strndup (s->id, no_trunc ? 64 : 12);
  g_autofree char *command = g_strdup_printf ("\"%s\"", s->command);
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (s->created);
  g_autofree char *created_at = g_date_time_format (dt, "%Y-%m-%d %H:%M:%S +0000 UTC");

  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "ID", id);
  rrun_json_builder_member_string (b, "Image", s->image);
  rrun_json_builder_member_string (b, "Command", command);
  rrun_json_builder_member_string (b, "CreatedAt", created_at);
  rrun_json_builder_member_string (b, "RunningFor", running_for);
  rrun_json_builder_member_string (b, "Ports", "");
  {
    g_autofree char *labels = s->labels ? g_strjoinv (",", s->labels) : g_strdup ("");
    rrun_json_builder_member_string (b, "Labels", labels);
  }
  rrun_json_builder_member_string (b, "Status", status);
  rrun_json_builder_member_string (b, "State",
                                   s->paused ? "paused" : rrun_status_name (s->status));
  rrun_json_builder_member_string (b, "Names", s->name ? s->name : "");
  rrun_json_builder_member_int (b, "Pid", s->status == RRUN_STATUS_RUNNING ? s->pid : 0);
  rrun_json_builder_member_int (b, "ExitCode", s->status == RRUN_STATUS_EXITED ? s->exit_code : 0);
  rrun_json_builder_end_object (b);
  return rrun_json_builder_get_root (b);
}

/* The header row of `--format "table TEMPLATE"`: the template applied to docker's
   column titles. */
static RrunJson *
header_object (void)
{
  static const char *const titles[][2] = {
    { "ID", "CONTAINER ID" }, { "Image", "IMAGE" },        { "Command", "COMMAND" },
    { "CreatedAt", "CREATED AT" }, { "RunningFor", "CREATED" }, { "Ports", "PORTS" },
    { "Labels", "LABELS" },   { "Status", "STATUS" },      { "State", "STATE" },
    { "Names", "NAMES" },     { "Pid", "PID" },            { "ExitCode", "EXIT CODE" },
    { "Size", "SIZE" },       { "Mounts", "MOUNTS" },      { "Networks", "NETWORKS" },
  };
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();

  rrun_json_builder_begin_object (b);
  for (guint i = 0; i < G_N_ELEMENTS (titles); i++)
    rrun_json_builder_member_string (b, titles[i][0], titles[i][1]);
  rrun_json_builder_end_object (b);
  return rrun_json_builder_get_root (b);
}

/* Print lines whose cells are separated by tabs in columns, as docker's table output
   does (Go's tabwriter with a minimum width of 10 and a padding of 3): every cell but a
   line's last is padded to its column's widest cell plus 3. */
static void
print_columns (GPtrArray *lines)
{
  g_autoptr(GArray) widths = g_array_new (FALSE, TRUE, sizeof (glong));
  g_autoptr(GPtrArray) split = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);

  for (guint i = 0; i < lines->len; i++)
    {
      char **cells = g_strsplit (lines->pdata[i], "\t", -1);
      guint n = g_strv_length (cells);

      for (guint c = 0; c + 1 < n; c++)
        {
          glong w = g_utf8_strlen (cells[c], -1);

          if (c >= widths->len)
            g_array_set_size (widths, c + 1);
          if (w > g_array_index (widths, glong, c))
            g_array_index (widths, glong, c) = w;
        }
      g_ptr_array_add (split, cells);
    }
  for (guint i = 0; i < split->len; i++)
    {
      char **cells = split->pdata[i];
      guint n = g_strv_length (cells);

      for (guint c = 0; c < n; c++)
        {
          if (c + 1 < n)
            {
              glong w = MAX (g_array_index (widths, glong, c) + 3, 10);
              printf ("%s%*s", cells[c], (int) (w - g_utf8_strlen (cells[c], -1)), "");
            }
          else
            printf ("%s", cells[c]);
        }
      printf ("\n");
    }
}

gboolean
rrun_cmd_ps (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autofree char *format = NULL;
  g_auto(GStrv) filter_specs = NULL;
  gboolean quiet = FALSE, all = FALSE, latest = FALSE, no_trunc = FALSE, table = FALSE, help;
  int last = -1;
  const GOptionEntry entries[] = {
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "Stopped containers too", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Only IDs", NULL },
    { "latest", 'l', 0, G_OPTION_ARG_NONE, &latest, "Only the latest created container", NULL },
    { "last", 'n', 0, G_OPTION_ARG_INT, &last, "Only the N latest created containers", "N" },
    { "no-trunc", 0, 0, G_OPTION_ARG_NONE, &no_trunc, "Full IDs and commands", NULL },
    { "filter", 'f', 0, G_OPTION_ARG_STRING_ARRAY, &filter_specs,
      "name=, id=, status=, ancestor=, exited=, label=", "KEY=VALUE" },
    { NULL }
  };
  const RrunCliSpec spec = { "ps", "", "List containers: running ones, or all with -a.", 0, 0,
                             NULL, &format, TRUE };
  g_autoptr(RrunTemplate) tmpl = NULL;
  g_autoptr(GPtrArray) states = NULL;
  g_autoptr(GPtrArray) shown = g_ptr_array_new ();
  Filters filters = { 0 };
  gint64 now;
  gboolean ok = FALSE;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  if (latest)
    last = 1;
  /* table, json, a Go template per container ("{{.ID}} {{.Status}}"), or "table
     TEMPLATE": a header row, then columns aligned at the template's tabs. As docker
     does, "\t" and "\n" written out in the template are a tab and a newline. */
  if (format != NULL && strcmp (format, "table") != 0 && strcmp (format, "json") != 0)
    {
      g_autofree char *body = NULL;
      g_auto(GStrv) parts = NULL;

      if (g_str_has_prefix (format, "table ") || g_str_has_prefix (format, "table\t"))
        {
          table = TRUE;
          body = g_strstrip (g_strdup (format + 5));
        }
      else
        body = g_strdup (format);
      parts = g_strsplit (body, "\\t", -1);
      g_free (body);
      body = g_strjoinv ("\t", parts);
      g_strfreev (parts);
      parts = g_strsplit (body, "\\n", -1);
      g_free (body);
      body = g_strjoinv ("\n", parts);
      if ((tmpl = rrun_template_new (body, error)) == NULL)
        return FALSE;
    }
  filters.config = g->config;
  if (!filters_parse (filter_specs, &filters, error))
    goto out;
  /* docker: -n, -l and a status filter other than running look at every container. */
  if (last >= 0 || filters.status != NULL || filters.exited != NULL)
    all = TRUE;
  if (!rrun_state_list_brief (g->config, all, &states, error))
    goto out;
  /* Oldest first in states; docker lists the newest first. */
  for (guint i = 0; i < states->len; i++)
    if (filters_match (&filters, states->pdata[i]))
      g_ptr_array_add (shown, states->pdata[i]);
  if (last >= 0 && shown->len > (guint) last)
    g_ptr_array_remove_range (shown, 0, shown->len - (guint) last);
  /* Said here, where the damaged records are listed, not on every command. */
  for (guint i = 0; i < shown->len; i++)
    {
      const RrunState *s = shown->pdata[i];

      if (s->damaged != NULL)
        {
          g_autofree char *why = rrun_text_escape (s->damaged, -1);

          rrun_warning ("container %.12s is damaged: %s\n"
                        "hint: remove it with 'rrun rm -f %.12s', or every damaged record "
                        "with 'rrun system check --repair'",
                        s->id, why, s->id);
        }
    }
  /* Every age from one clock reading. */
  now = g_get_real_time () / G_USEC_PER_SEC;
  ok = TRUE;
  if (rrun_cli_format_is_json (format))
    {
      print_json (shown, now);
      goto out;
    }
  if (tmpl != NULL)
    {
      g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);

      if (table && !quiet)
        {
          g_autoptr(RrunJson) o = header_object ();
          char *text = rrun_template_render (tmpl, o, error);

          if (text == NULL)
            {
              ok = FALSE;
              goto out;
            }
          g_ptr_array_add (lines, text);
        }
      for (guint i = shown->len; i-- > 0;)
        {
          g_autoptr(RrunJson) o = template_object (shown->pdata[i], now, no_trunc);
          char *text;

          if (quiet)
            text = g_strdup_printf ("%.*s", no_trunc ? 64 : 12, ((RrunState *) shown->pdata[i])->id);
          else if ((text = rrun_template_render (tmpl, o, error)) == NULL)
            {
              ok = FALSE;
              goto out;
            }
          g_ptr_array_add (lines, text);
        }
      if (table)
        print_columns (lines);
      else
        for (guint i = 0; i < lines->len; i++)
          printf ("%s\n", (char *) lines->pdata[i]);
      goto out;
    }
  if (!quiet)
    printf ("%-12s  %-30s  %-22s  %-16s  %-26s  %-8s  %s\n", "CONTAINER ID", "IMAGE",
            "COMMAND", "CREATED", "STATUS", "PID", "NAMES");
  for (guint i = shown->len; i-- > 0;)
    {
      RrunState *s = shown->pdata[i];
      g_autofree char *command = NULL, *created = NULL, *status = NULL, *pid = NULL;

      if (quiet)
        {
          printf ("%.*s\n", no_trunc ? 64 : 12, s->id);
          continue;
        }
      /* docker's COMMAND: quoted, cut at 20 characters with an ellipsis. */
      if (!no_trunc && g_utf8_strlen (s->command, -1) > 20)
        {
          int cut = (int) (g_utf8_offset_to_pointer (s->command, 19) - s->command);
          command = g_strdup_printf ("\"%.*s…\"", cut, s->command);
        }
      else
        command = g_strdup_printf ("\"%s\"", s->command);
      created = rrun_cli_human_age (s->created, now);
      status = rrun_cli_container_status (s, now);
      pid = s->status == RRUN_STATUS_RUNNING ? g_strdup_printf ("%d", (int) s->pid)
                                             : g_strdup ("-");
      printf ("%-12.*s  %-30s  %-22s  %-16s  %-26s  %-8s  %s\n", no_trunc ? 64 : 12, s->id,
              s->image, command, created, status, pid, s->name ? s->name : "");
    }
out:
  filters_clear (&filters);
  return ok;
}
