/* rrun system check [--repair] [--format table|json]: the machine's readiness for
   rootless containers and the image store's records, one line per check with the fix for
   each that is not PASS.
   rrun system reset [-f]: empty the image store. */
#include "cli/cli.h"
#include "cli/common.h"
#include "error.h"
#include "container/record.h"
#include "container/remove.h"
#include "log.h"
#include "storage/store.h"
#include "system/check.h"
#include "util/json-value.h"
#include "util/text-file.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>

static void
print_json (GPtrArray *checks, int status)
{
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();

  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_bool (b, "ok", status == 0);
  rrun_json_builder_set_member_name (b, "checks");
  rrun_json_builder_begin_array (b);
  for (guint i = 0; i < checks->len; i++)
    {
      RrunCheck *c = checks->pdata[i];

      rrun_json_builder_begin_object (b);
      rrun_json_builder_member_string (b, "name", c->name);
      rrun_json_builder_member_string (b, "status", rrun_check_status_name (c->status));
      rrun_json_builder_member_string (b, "detail", c->detail);
      rrun_json_builder_member_string (b, "fix", c->fix);
      rrun_json_builder_end_object (b);
    }
  rrun_json_builder_end_array (b);
  rrun_json_builder_end_object (b);
  rrun_cli_print_json_builder (b);
}

static const char *
first_line (const char *text, char **out_copy)
{
  const char *nl = strchr (text, '\n');

  *out_copy = nl ? g_strndup (text, (gsize) (nl - text)) : g_strdup (text);
  return *out_copy;
}

/* The store's lock file: a directory or other non-file there stops every command that
   uses the store. --repair moves it aside (nothing is deleted) for a new one. FALSE when
   the store cannot be opened after this. */
static gboolean
check_store_lock (RrunGlobal *g, gboolean repair, GPtrArray *checks)
{
  g_autofree char *lock = g_build_filename (g->config->storage_root, "lock", NULL);
  g_autofree char *aside = NULL;
  struct stat st;

  if (lstat (lock, &st) < 0 || S_ISREG (st.st_mode))
    return TRUE;
  if (!repair)
    {
      g_ptr_array_add (checks, rrun_check_new ("store_lock", RRUN_CHECK_FAIL,
                                               "rrun system check --repair",
                                               "%s is not a regular file: every command "
                                               "that uses the image store fails",
                                               lock));
      return FALSE;
    }
  aside = g_strdup_printf ("%s.damaged-%" G_GINT64_FORMAT, lock, g_get_real_time ());
  if (rename (lock, aside) < 0)
    {
      g_ptr_array_add (checks, rrun_check_new ("store_lock", RRUN_CHECK_FAIL, NULL,
                                               "cannot move %s aside: %s", lock,
                                               g_strerror (errno)));
      return FALSE;
    }
  g_ptr_array_add (checks, rrun_check_new ("store_lock", RRUN_CHECK_PASS, NULL,
                                           "repaired: %s was not a regular file, moved to "
                                           "%s",
                                           lock, aside));
  return TRUE;
}

/* Damaged image and container records (image.json, config.json or container.json that
   cannot be read): WARN each with the command that removes it; --repair removes them,
   but for a container whose rrun still runs (removing it would kill it) and an image of
   a read-only store. Healthy records are not touched. */
static void
check_store_records (RrunGlobal *g, gboolean repair, GPtrArray *checks)
{
  g_autoptr(RrunStore) store = NULL;
  g_autoptr(RrunIdMap) map = NULL;
  g_autoptr(GPtrArray) images = NULL;
  g_autoptr(GPtrArray) states = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree char *why = NULL;
  guint damaged = 0;

  if (!g_file_test (g->config->storage_root, G_FILE_TEST_IS_DIR))
    return;
  if (!rrun_store_open (g->config, &store, &local)
      || !rrun_store_list_images (store, &images, &local)
      || !rrun_state_list_all (g->config, TRUE, &states, &local))
    {
      g_ptr_array_add (checks, rrun_check_new ("store", RRUN_CHECK_FAIL, NULL, "%s",
                                               first_line (local->message, &why)));
      return;
    }
  if (repair && !rrun_cli_storage_idmap (g, &map, &local))
    {
      g_ptr_array_add (checks, rrun_check_new ("store", RRUN_CHECK_FAIL, NULL, "%s",
                                               first_line (local->message, &why)));
      return;
    }
  for (guint i = 0; i < images->len; i++)
    {
      const RrunImage *img = images->pdata[i];
      g_autofree char *shown = NULL;
      g_autofree char *removed = NULL;

      if (img->damaged == NULL)
        continue;
      damaged++;
      shown = rrun_text_escape (img->damaged, -1);
      if (repair && !img->read_only_store
          && rrun_store_remove_image (store, map, img->id, TRUE, &removed, &local))
        g_ptr_array_add (checks, rrun_check_new ("image", RRUN_CHECK_PASS, NULL,
                                                 "repaired: removed the damaged image "
                                                 "%.12s (%s)",
                                                 img->id, shown));
      else
        {
          g_autofree char *fix = g_strdup_printf ("rrun rmi -f %.12s", img->id);

          g_ptr_array_add (checks, rrun_check_new (
                                       "image", RRUN_CHECK_WARN,
                                       img->read_only_store ? NULL : fix,
                                       "image %.12s is damaged%s: %s", img->id,
                                       img->read_only_store ? " (in a read-only store)" : "",
                                       local ? local->message : shown));
          g_clear_error (&local);
        }
    }
  for (guint i = 0; i < states->len; i++)
    {
      const RrunState *s = states->pdata[i];
      g_autofree char *shown = NULL;

      if (s->damaged == NULL)
        continue;
      damaged++;
      shown = rrun_text_escape (s->damaged, -1);
      if (repair && !s->live
          && rrun_container_remove (g->config, store, map, s, TRUE, FALSE, &local))
        g_ptr_array_add (checks, rrun_check_new ("container", RRUN_CHECK_PASS, NULL,
                                                 "repaired: removed the damaged container "
                                                 "%.12s (%s)",
                                                 s->id, shown));
      else
        {
          g_autofree char *fix = g_strdup_printf ("rrun rm -f %.12s", s->id);

          g_ptr_array_add (checks, rrun_check_new (
                                       "container", RRUN_CHECK_WARN, fix,
                                       "container %.12s is damaged%s: %s", s->id,
                                       s->live ? " and its rrun still runs (rm -f kills it)"
                                               : "",
                                       local ? local->message : shown));
          g_clear_error (&local);
        }
    }
  if (damaged == 0)
    g_ptr_array_add (checks, rrun_check_new ("store_records", RRUN_CHECK_PASS, NULL,
                                             "%u images, %u containers, none damaged",
                                             images->len, states->len));
}

static gboolean
system_check (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autofree char *format = NULL;
  gboolean repair = FALSE;
  const GOptionEntry entries[] = {
    { "repair", 0, 0, G_OPTION_ARG_NONE, &repair,
      "Repair the image store: move a broken lock aside, remove damaged image and container "
      "records (healthy ones are not touched)",
      NULL },
    { NULL }
  };
  const RrunCliSpec spec = { "system check", "",
                             "Check what this machine provides for rootless containers and "
                             "the image store's records, and print the fix for each problem.\n"
                             "Exit status 0 when every check is PASS or WARN, else 1.",
                             0, 0, NULL, &format, FALSE };
  g_autoptr(GPtrArray) checks = NULL;
  gboolean help;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  checks = rrun_check_all (g->config);
  if (check_store_lock (g, repair, checks))
    check_store_records (g, repair, checks);
  *out_status = rrun_check_exit_status (checks);
  if (rrun_cli_format_is_json (format))
    print_json (checks, *out_status);
  else
    for (guint i = 0; i < checks->len; i++)
      {
        g_autofree char *line = rrun_check_format (checks->pdata[i]);
        fputs (line, stdout);
      }
  return TRUE;
}

/* rrun system reset [-f]: podman's; every image and layer of the store goes. */
static gboolean
system_reset (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean force = FALSE, help;
  const GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Do not ask for confirmation", NULL },
    { NULL }
  };
  const RrunCliSpec spec = { "system reset", "",
                             "Remove every image, layer and container layer of the image "
                             "store (files of subordinate IDs included). Read-only image "
                             "stores are not touched. Refused while a container runs.",
                             0, 0, "rrun system reset [-f]", NULL, FALSE };
  g_autoptr(RrunStore) store = NULL;
  g_autoptr(RrunIdMap) map = NULL;
  g_autoptr(GPtrArray) running = NULL;
  g_autofree char *what = NULL;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  if (!rrun_state_list (g->config, &running, error))
    return FALSE;
  if (running->len > 0)
    {
      rrun_throw (error, RRUN_ERROR_BUSY, "cannot reset: %u container%s running",
                  running->len, running->len == 1 ? " is" : "s are");
      rrun_add_hint (error, "stop them first (rrun ps lists them)");
      return FALSE;
    }
  what = g_strdup_printf ("all images, layers and container layers in %s",
                          g->config->storage_root);
  if (!force && !rrun_cli_confirm (what))
    return rrun_throw (error, RRUN_ERROR_FAILED, "system reset cancelled: not confirmed");
  if (!rrun_store_open (g->config, &store, error) || !rrun_cli_storage_idmap (g, &map, error)
      || !rrun_store_reset (store, map, error))
    return FALSE;
  printf ("Removed the image store %s\n", g->config->storage_root);
  return TRUE;
}

static const RrunCommand system_commands[] = {
  { "check", system_check, "check the machine for rootless containers, with fixes", FALSE },
  { "reset", system_reset, "remove every image and layer of the store", FALSE },
  { NULL, NULL, NULL, FALSE },
};

gboolean
rrun_cmd_system (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return rrun_cli_run_group ("system", system_commands, "check", g, argc, argv, out_status,
                             error);
}
