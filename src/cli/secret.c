/* rrun secret create|ls|rm: podman's file-backed secrets, for run --secret. */
#include "cli/cli.h"
#include "cli/common.h"
#include "container/secret.h"
#include "error.h"
#include "log.h"
#include "util/text-file.h"

#include <stdio.h>
#include <string.h>

static gboolean
cmd_create (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help, replace = FALSE;
  GOptionEntry entries[] = {
    { "replace", 0, 0, G_OPTION_ARG_NONE, &replace, "Replace a secret of that name", NULL },
    { NULL },
  };
  const RrunCliSpec spec = { "secret create", "NAME FILE|-",
                             "Store a secret (at most 512 KiB, as podman) from FILE or stdin; "
                             "run --secret NAME mounts it at /run/secrets/NAME.",
                             2, 2, "rrun secret create NAME FILE|-", NULL, FALSE };
  g_autofree char *data = NULL;
  gsize len = 0;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    return *out_status = 0, TRUE;
  if (!rrun_text_file_read (strcmp (argv[2], "-") == 0 ? "/dev/stdin" : argv[2], "secret",
                            512 * 1024, RRUN_TEXT_FILE_ALLOW_PIPE | RRUN_TEXT_FILE_ANY_BYTES,
                            &data, &len, error)
      || !rrun_secret_create (g->config, argv[1], data, len, replace, error))
    {
      g_prefix_error (error, "cannot create secret: ");
      return FALSE;
    }
  printf ("%s\n", argv[1]);
  *out_status = 0;
  return TRUE;
}

static gboolean
cmd_ls (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help, quiet = FALSE;
  GOptionEntry entries[] = {
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Names only", NULL },
    { NULL },
  };
  const RrunCliSpec spec = { "secret ls", "", "List secrets.", 0, 0, "rrun secret ls", NULL,
                             FALSE };
  g_auto(GStrv) names = NULL;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    return *out_status = 0, TRUE;
  names = rrun_secret_list (g->config);
  if (!quiet)
    printf ("NAME\n");
  for (guint i = 0; names[i]; i++)
    printf ("%s\n", names[i]);
  *out_status = 0;
  return TRUE;
}

static gboolean
cmd_rm (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help;
  const RrunCliSpec spec = { "secret rm", "NAME...", "Remove secrets.", 1, -1,
                             "rrun secret rm NAME...", NULL, FALSE };
  int failed = 0;

  if (!rrun_cli_parse_args (&spec, NULL, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    return *out_status = 0, TRUE;
  for (int i = 1; i < argc; i++)
    {
      g_autoptr(GError) local = NULL;

      if (!rrun_secret_remove (g->config, argv[i], &local))
        {
          rrun_log_print_error (local);
          failed++;
          continue;
        }
      printf ("%s\n", argv[i]);
    }
  *out_status = failed ? RRUN_EXIT_FAILED : 0;
  return TRUE;
}

static const RrunCommand secret_commands[] = {
  { "create", cmd_create, "store a secret from a file or stdin", FALSE },
  { "ls", cmd_ls, "list secrets", FALSE },
  { "list", cmd_ls, "list secrets (same as ls)", TRUE },
  { "rm", cmd_rm, "remove secrets", FALSE },
  { NULL, NULL, NULL, FALSE },
};

gboolean
rrun_cmd_secret (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return rrun_cli_run_group ("secret", secret_commands, "ls", g, argc, argv, out_status, error);
}
