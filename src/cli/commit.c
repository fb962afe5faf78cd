/* rrun commit [-q] [-c INSTR]... [-m MSG] [--author NAME] CONTAINER [IMAGE]: a new image
   from a container's writable layer (running or stopped); the image ID on stdout. */
#include "build/config-edit.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "container/record.h"
#include "error.h"
#include "image/commit.h"
#include "storage/names.h"

#include <stdio.h>

gboolean
rrun_cmd_commit (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean quiet = FALSE, help = FALSE;
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

  g_option_context_set_help_enabled (ctx, FALSE);
  g_option_context_set_summary (
      ctx, "Make an image of a container's changes: its image plus one layer holding what\n"
           "the container wrote, added or deleted (running or stopped). Owners are kept as\n"
           "the container sees them.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rrun_cli_parse (ctx, "commit", &argc, &argv, error))
    return FALSE;
  if (help)
    {
      rrun_cli_print_help (ctx, "commit");
      *out_status = 0;
      return TRUE;
    }
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
  if (!rrun_image_commit (store, map, state->image_id, config, (const char *const *) chains,
                          upper, &opts, &id, NULL, error))
    {
      g_prefix_error (error, "cannot commit \"%s\": ", argv[1]);
      return FALSE;
    }
  (void) quiet;
  printf ("%s\n", id);
  *out_status = 0;
  return TRUE;
}
