/* rrun commit [-q] [-c INSTR]... [-m MSG] [--author NAME] CONTAINER [IMAGE]: a new image
   from a container's writable layer (running or stopped); the image ID on stdout. */
#include "build/config-edit.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "container/pause.h"
#include "container/record.h"
#include "container/spec.h"
#include "error.h"
#include "image/commit.h"
#include "storage/names.h"

#include <stdio.h>
#include <string.h>

/* A JSON array of strings. */
static RrunJson *
string_array (char *const *items)
{
  RrunJson *a = rrun_json_new_array ();

  for (guint i = 0; items && items[i]; i++)
    rrun_json_array_add (a, rrun_json_new_string (items[i]));
  return a;
}

/* The container's own settings into the image config, as docker commits the container's
   Config: -e (replacing the image's value of a name), -w, -u, --entrypoint and the
   command given after the image. */
static void
apply_spec (RrunJson *config, const RrunContainerSpec *spec)
{
  RrunJson *c = rrun_json_member (config, "config");

  if (c == NULL || rrun_json_type (c) != RRUN_JSON_OBJECT)
    {
      c = rrun_json_new_object ();
      rrun_json_object_set (config, "config", c);
      c = rrun_json_member (config, "config");
    }
  if (spec->env && spec->env[0])
    {
      RrunJson *old = rrun_json_member_value (c, "Env");
      g_autoptr(GPtrArray) env = g_ptr_array_new ();

      for (guint i = 0; old && i < rrun_json_size (old); i++)
        {
          const char *e = rrun_json_string (rrun_json_element (old, i));
          const char *eq = e ? strchr (e, '=') : NULL;
          gboolean replaced = FALSE;

          for (guint k = 0; eq && spec->env[k]; k++)
            if (strncmp (spec->env[k], e, (gsize) (eq - e + 1)) == 0)
              replaced = TRUE;
          if (e && !replaced)
            g_ptr_array_add (env, (gpointer) e);
        }
      for (guint k = 0; spec->env[k]; k++)
        if (strchr (spec->env[k], '='))
          g_ptr_array_add (env, spec->env[k]);
      g_ptr_array_add (env, NULL);
      rrun_json_object_set (c, "Env", string_array ((char *const *) env->pdata));
    }
  if (spec->workdir && *spec->workdir)
    rrun_json_object_set (c, "WorkingDir", rrun_json_new_string (spec->workdir));
  if (spec->user && *spec->user)
    rrun_json_object_set (c, "User", rrun_json_new_string (spec->user));
  if (spec->entrypoint)
    {
      char *one[] = { spec->entrypoint, NULL };
      rrun_json_object_set (c, "Entrypoint", *spec->entrypoint ? string_array (one)
                                                                : rrun_json_new_null ());
      if (spec->args == NULL || spec->args[0] == NULL)
        rrun_json_object_set (c, "Cmd", rrun_json_new_null ());
    }
  if (spec->args && spec->args[0])
    rrun_json_object_set (c, "Cmd", string_array (spec->args));
}

/* --pause, --pause=BOOL, -p: docker's boolean flag, bare or with a value. */
static gboolean
on_pause (const char *name, const char *value, gpointer data, GError **error)
{
  gboolean *pause = data;

  (void) name;
  if (value == NULL || g_ascii_strcasecmp (value, "true") == 0)
    *pause = TRUE;
  else if (g_ascii_strcasecmp (value, "false") == 0)
    *pause = FALSE;
  else
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --pause \"%s\": expected true or false", value);
  return TRUE;
}

gboolean
rrun_cmd_commit (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean quiet = FALSE, help = FALSE, frozen = FALSE, pause = TRUE, ok;
  gboolean pause_flag = FALSE;
  g_auto(GStrv) changes = NULL;
  g_autofree char *message = NULL, *author = NULL;
  GOptionEntry entries[]
      = { { "change", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &changes,
            "Apply a Dockerfile instruction to the config (CMD, ENTRYPOINT, ENV, LABEL, "
            "WORKDIR, USER, EXPOSE, VOLUME, STOPSIGNAL, SHELL, ONBUILD, HEALTHCHECK)",
            "INSTRUCTION" },
          { "message", 'm', 0, G_OPTION_ARG_STRING, &message, "A comment for the history entry",
            "MSG" },
          { "author", 'a', 0, G_OPTION_ARG_STRING, &author, "The image's author", "NAME" },
          /* -p alone (the default): an optional argument would take the container. */
          { "pause-p", 'p', G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &pause_flag, NULL, NULL },
          { "pause", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, on_pause,
            "Freeze a running container while its layer is read (default true)", "[=BOOL]" },
          { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print nothing but the image ID", NULL },
          { "help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show this help", NULL },
          { NULL } };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("CONTAINER [IMAGE]");
  g_autoptr (RrunStore) store = NULL;
  g_autoptr (RrunIdMap) map = NULL;
  g_autoptr (RrunState) state = NULL;
  g_autoptr (RrunJson) config = NULL;
  g_auto (GStrv) chains = NULL;
  g_autofree char *name = NULL, *upper = NULL, *dir = NULL, *id = NULL;
  RrunCommitOptions opts = { 0 };
  RrunContainerSpec spec = { 0 };

  g_option_context_set_help_enabled (ctx, FALSE);
  g_option_context_set_summary (
      ctx, "Make an image of a container's changes: its image plus one layer holding what\n"
           "the container wrote, added or deleted (running or stopped). Owners are kept as\n"
           "the container sees them.");
  {
    GOptionGroup *main_group = g_option_group_new (NULL, NULL, NULL, &pause, NULL);
    g_option_group_add_entries (main_group, entries);
    g_option_context_set_main_group (ctx, main_group);
  }
  if (!rrun_cli_parse (ctx, "commit", &argc, &argv, error))
    return FALSE;
  if (help)
    {
      rrun_cli_print_help (ctx, "commit");
      *out_status = 0;
      return TRUE;
    }
  (void) pause_flag;
  if (argc != 2 && argc != 3)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "commit: expected a container and at most one image name, got %d arguments",
                  argc - 1);
      rrun_add_hint (error, "usage: rrun commit [-c INSTRUCTION] [-m MSG] CONTAINER [IMAGE]");
      return FALSE;
    }
  if (argc == 3 && !rrun_names_normalize (argv[2], &name, error))
    return FALSE;
  if (!rrun_state_find_any (g->config, argv[1], &state, error))
    return FALSE;
  if (state->image_id == NULL)
    return rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                       "cannot commit \"%s\": its record does not name its image (an older "
                       "rrun made it)", argv[1]);
  if (!rrun_store_open (g->config, &store, error) || !rrun_cli_storage_idmap (g, &map, error))
    return FALSE;
  if (!rrun_image_commit_base (store, state->image_id, &config, &chains, error))
    {
      g_prefix_error (error, "cannot commit \"%s\": ", argv[1]);
      return FALSE;
    }
  if (rrun_state_read_spec (g->config, state->id, &spec, NULL))
    apply_spec (config, &spec);
  rrun_container_spec_clear (&spec);
  for (guint i = 0; changes && changes[i]; i++)
    if (!rrun_build_config_apply_line (config, changes[i], error))
      return FALSE;
  dir = rrun_record_dir (g->config, state->id);
  upper = g_build_filename (dir, "upper", NULL);
  if (!g_file_test (upper, G_FILE_TEST_IS_DIR))
    return rrun_throw (error, RRUN_ERROR_NOT_FOUND,
                       "cannot commit \"%s\": it has no writable layer at \"%s\"", argv[1],
                       upper);
  opts.created_by = state->command;
  opts.comment = message;
  opts.author = author;
  opts.name = name;
  /* A running container is frozen while its layer is read, so the layer is one moment
     of it (docker's --pause). Without a cgroup of its own there is no freezer: it is
     committed running. */
  if (pause && state->status == RRUN_STATUS_RUNNING && state->cgroup && !state->paused)
    {
      g_autoptr(GError) local = NULL;
      frozen = rrun_container_freeze (state, TRUE, &local);
      if (!frozen)
        g_debug ("commit: not paused: %s", local->message);
    }
  ok = rrun_image_commit (store, map, state->image_id, config, (const char *const *) chains,
                          upper, &opts, &id, NULL, error);
  if (frozen)
    {
      g_autoptr(GError) local = NULL;
      if (!rrun_container_freeze (state, FALSE, &local))
        g_warning ("cannot thaw \"%s\" after the commit: %s", argv[1], local->message);
    }
  if (!ok)
    {
      g_prefix_error (error, "cannot commit \"%s\": ", argv[1]);
      return FALSE;
    }
  (void) quiet;
  printf ("%s\n", id);
  *out_status = 0;
  return TRUE;
}
