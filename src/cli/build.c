/* rrun build [-t NAME]... [-f FILE|-] [--target STAGE] [--build-arg K[=V]]... [--no-cache]
   [--pull[=missing|always|never]] [--label K=V]... [--network MODE] [--secret SPEC]... [-q]
   [--iidfile FILE]
   CONTEXT: an image from a Dockerfile (build/build.h). Step lines go to stderr; the
   image ID to stdout. */
#include "build/build.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "error.h"
#include "log.h"
#include "storage/names.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

gboolean
rrun_cmd_build (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean quiet = FALSE, help = FALSE, no_cache = FALSE;
  g_auto(GStrv) tags = NULL, build_args = NULL, labels = NULL, secrets = NULL;
  g_autofree char *file = NULL, *target = NULL, *pull = NULL, *network = NULL, *iidfile = NULL;
  g_autofree char *tls = NULL, *platform = NULL, *text = NULL;
  GOptionEntry entries[]
      = { { "tag", 't', 0, G_OPTION_ARG_STRING_ARRAY, &tags, "Name the image (repeatable)", "NAME" },
          { "file", 'f', 0, G_OPTION_ARG_FILENAME, &file,
            "The Dockerfile (default: CONTEXT/Dockerfile, else Containerfile; - reads stdin)",
            "FILE" },
          { "target", 0, 0, G_OPTION_ARG_STRING, &target, "Build up to this stage", "STAGE" },
          { "build-arg", 0, 0, G_OPTION_ARG_STRING_ARRAY, &build_args,
            "Set a build argument (K alone: from the environment)", "K=V" },
          { "no-cache", 0, 0, G_OPTION_ARG_NONE, &no_cache, "Run every step again", NULL },
          { "label", 0, 0, G_OPTION_ARG_STRING_ARRAY, &labels, "Add a label to the image", "K=V" },
          { "network", 0, 0, G_OPTION_ARG_STRING, &network, "The network of RUN steps", "MODE" },
          { "secret", 0, 0, G_OPTION_ARG_STRING_ARRAY, &secrets,
            "A secret for RUN --mount=type=secret (repeatable)", "id=ID,src=FILE|env=VAR" },
          { "platform", 0, 0, G_OPTION_ARG_STRING, &platform, "Only this machine's platform",
            "OS/ARCH" },
          { "tls-verify", 0, 0, G_OPTION_ARG_STRING, &tls, "Verify registries' TLS (pull)", "BOOL" },
          { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print only the image ID", NULL },
          { "iidfile", 0, 0, G_OPTION_ARG_FILENAME, &iidfile, "Write the image ID to FILE", "FILE" },
          { "help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show this help", NULL },
          { NULL } };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("CONTEXT");
  g_autoptr (RrunStore) store = NULL;
  g_autoptr (RrunIdMap) map = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *id = NULL;
  RrunBuildOptions o = { 0 };
  int status = 125;

  /* --pull and --pull=POLICY, as docker and podman take it. */
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--") == 0)
        break;
      if (strcmp (argv[i], "--pull") == 0 || g_str_has_prefix (argv[i], "--pull="))
        {
          const char *v = argv[i][6] == '=' ? argv[i] + 7 : "always";
          g_free (pull);
          pull = g_strdup (strcmp (v, "true") == 0 ? "always" : strcmp (v, "false") == 0 ? "missing" : v);
          memmove (argv + i, argv + i + 1, (argc - i) * sizeof *argv);
          argc--, i--;
        }
    }
  g_option_context_set_help_enabled (ctx, FALSE);
  g_option_context_set_summary (
      ctx, "Build an image from a Dockerfile (or Containerfile) in CONTEXT, rootless and\n"
           "without a daemon. RUN steps run as containers; every step is cached (see\n"
           "rrun-build(1)). --pull[=always|missing|never] decides how FROM images are\n"
           "fetched (default missing).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rrun_cli_parse (ctx, "build", &argc, &argv, error))
    return FALSE;
  if (help)
    {
      rrun_cli_print_help (ctx, "build");
      *out_status = 0;
      return TRUE;
    }
  if (argc != 2)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "build: expected one context directory, got %d arguments", argc - 1);
      rrun_add_hint (error, "usage: rrun build [-t NAME] [-f FILE] CONTEXT");
      return FALSE;
    }
  if (pull && strcmp (pull, "always") != 0 && strcmp (pull, "missing") != 0
      && strcmp (pull, "never") != 0)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --pull \"%s\": expected always, missing or never", pull);
  if (platform)
    {
      g_autofree char *host = g_strconcat ("linux/", rrun_store_host_architecture (), NULL);
      if (strcmp (platform, host) != 0)
        return rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                           "cannot build for \"%s\": only this machine's platform (%s) is "
                           "supported", platform, host);
    }
  o.tls_verify = TRUE;
  if (!rrun_cli_parse_tls_verify (tls, &o.tls_verify, error))
    return FALSE;
  for (guint i = 0; tags && tags[i]; i++)
    {
      char *n = NULL;
      if (!rrun_names_normalize (tags[i], &n, error))
        return FALSE;
      g_ptr_array_add (names, n);
    }
  g_ptr_array_add (names, NULL);
  if (file && strcmp (file, "-") == 0)
    {
      g_autoptr (GIOChannel) in = g_io_channel_unix_new (STDIN_FILENO);
      gsize len;
      if (g_io_channel_read_to_end (in, &text, &len, error) != G_IO_STATUS_NORMAL)
        return FALSE;
    }
  o.context = argv[1];
  o.dockerfile = text ? NULL : file;
  o.dockerfile_text = text;
  o.tags = (const char *const *) names->pdata;
  o.target = target;
  o.build_args = (const char *const *) build_args;
  o.labels = (const char *const *) labels;
  o.secrets = (const char *const *) secrets;
  o.no_cache = no_cache;
  o.quiet = quiet || g->quiet;
  o.network = network;
  o.pull = pull;
  if (!rrun_store_open (g->config, &store, error) || !rrun_cli_storage_idmap (g, &map, error))
    return FALSE;
  if (!rrun_build_image (g->config, store, map, &o, &id, &status, error))
    {
      if (status != 125)
        {
          /* A RUN failed: its status is ours, and nothing was tagged. */
          rrun_log_print_error (*error);
          g_clear_error (error);
          *out_status = status;
          return TRUE;
        }
      return FALSE;
    }
  if (iidfile)
    {
      g_autofree char *full = g_strconcat ("sha256:", id, NULL);
      if (!g_file_set_contents (iidfile, full, -1, error))
        return FALSE;
    }
  printf ("%s\n", id);
  *out_status = 0;
  return TRUE;
}

static gboolean
builder_prune (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean force = FALSE, help = FALSE;
  GOptionEntry entries[] = { { "force", 'f', 0, G_OPTION_ARG_NONE, &force,
                               "Do not ask for confirmation", NULL },
                             { "all", 'a', 0, G_OPTION_ARG_NONE, &force,
                               "The same (docker's flag; every entry goes anyway)", NULL },
                             { "help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show this help", NULL },
                             { NULL } };
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr (RrunStore) store = NULL;
  g_autoptr (RrunIdMap) map = NULL;
  guint n_entries = 0, n_images = 0;

  g_option_context_set_help_enabled (ctx, FALSE);
  g_option_context_set_summary (ctx, "Remove the build cache: its entries and the untagged "
                                     "step images they name.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rrun_cli_parse (ctx, "builder prune", &argc, &argv, error))
    return FALSE;
  if (help)
    {
      rrun_cli_print_help (ctx, "builder prune");
      *out_status = 0;
      return TRUE;
    }
  if (!force && !rrun_cli_confirm ("the build cache and its untagged step images"))
    {
      *out_status = 0;
      return TRUE;
    }
  if (!rrun_store_open (g->config, &store, error) || !rrun_cli_storage_idmap (g, &map, error)
      || !rrun_build_prune_cache (store, map, &n_entries, &n_images, error))
    return FALSE;
  printf ("Removed %u cache entries and %u step images\n", n_entries, n_images);
  *out_status = 0;
  return TRUE;
}

static const RrunCommand builder_commands[] = {
  { "prune", builder_prune, "remove the build cache", FALSE },
  { NULL, NULL, NULL, FALSE },
};

gboolean
rrun_cmd_builder (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return rrun_cli_run_group ("builder", builder_commands, "prune", g, argc, argv, out_status,
                             error);
}
