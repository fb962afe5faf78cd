/* rrun pull [-q] [--tls-verify=false] [--platform OS/ARCH] REF: fetch an image from its
   registry into the store. On a terminal stderr shows one line per layer, redrawn in
   place; stdout gets the image ID alone. */
#include "image/pull.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/pull-progress.h"
#include "error.h"
#include "log.h"
#include "transport/archive.h"

#include <stdio.h>
#include <string.h>

gboolean
rrun_cmd_pull (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean quiet = FALSE, help = FALSE;
  g_autofree char *platform = NULL, *tls = NULL;
  GOptionEntry entries[] = { { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet,
                               "Print nothing but the image ID (and errors)", NULL },
                             { "tls-verify", 0, 0, G_OPTION_ARG_STRING, &tls,
                               "Verify the registry's TLS certificate (default true)", "BOOL" },
                             { "platform", 0, 0, G_OPTION_ARG_STRING, &platform,
                               "Pick this platform from a multi-arch image (default: this machine)",
                               "OS/ARCH[/VARIANT]" },
                             { "help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show this help", NULL },
                             { NULL } };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("REF");
  g_autoptr (RrunStore) store = NULL;
  g_autoptr (RrunIdMap) map = NULL;
  g_autoptr (RrunPullProgress) progress = NULL;
  g_autofree char *id = NULL, *name = NULL;
  RrunPullImageOptions opts = { TRUE, NULL, 3, NULL, NULL };
  gboolean ok;

  g_option_context_set_help_enabled (ctx, FALSE);
  g_option_context_set_summary (
      ctx, "Pull an image from a registry. REF may be short (\"alpine\", resolved through\n"
           "the unqualified-search-registries of registries.conf, default docker.io),\n"
           "qualified (\"ghcr.io/org/img:tag\") or by digest (\"name@sha256:...\").\n"
           "Layers already in the store are not fetched again. oci:DIR[:NAME] takes the\n"
           "image of that name (the only one without NAME) from an OCI layout directory.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rrun_cli_parse (ctx, "pull", &argc, &argv, error))
    return FALSE;
  if (help)
    {
      rrun_cli_print_help (ctx, "pull");
      *out_status = 0;
      return TRUE;
    }
  if (argc != 2)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "pull: expected one image reference, "
                  "got %d",
                  argc - 1);
      rrun_add_hint (error, "usage: rrun pull [-q] [--tls-verify=false] [--platform OS/ARCH] "
                            "REF");
      return FALSE;
    }
  if (!rrun_cli_parse_tls_verify (tls, &opts.tls_verify, error))
    return FALSE;
  opts.platform = platform;
  if (quiet || g->quiet)
    rrun_log_set_level (RRUN_LOG_ERROR);
  else
    progress = rrun_pull_progress_new_for_stderr ();
  if (progress)
    {
      opts.progress = rrun_pull_progress_update;
      opts.progress_data = progress;
    }
  if (!rrun_store_open (g->config, &store, error) || !rrun_cli_storage_idmap (g, &map, error))
    return FALSE;
  if (g_str_has_prefix (argv[1], "oci:"))
    {
      /* oci:DIR[:NAME], split at the first colon as skopeo and podman do */
      const char *path = argv[1] + strlen ("oci:");
      const char *colon = strchr (path, ':');
      g_autofree char *dir = colon ? g_strndup (path, colon - path) : g_strdup (path);

      if (*dir == '\0' || (colon && colon[1] == '\0'))
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "cannot pull \"%s\": expected oci:DIR or oci:DIR:NAME", argv[1]);
          return FALSE;
        }
      if (!rrun_archive_load_layout (store, map, dir, colon ? colon + 1 : NULL, &id, error))
        {
          g_prefix_error (error, "cannot pull \"%s\": ", argv[1]);
          return FALSE;
        }
      name = g_strdup (argv[1]);
      ok = TRUE;
    }
  else
    ok = rrun_pull_image (g->config, store, map, argv[1], &opts, &id, &name, error);
  if (progress)
    rrun_pull_progress_finish (progress);
  if (!ok)
    {
      g_prefix_error (error, "cannot pull \"%s\": ", argv[1]);
      return FALSE;
    }
  if (progress)
    fprintf (stderr, "Pulled %s\n", name);
  printf ("%s\n", id);
  *out_status = 0;
  return TRUE;
}
