#include "cli/cli.h"
#include "util/json-value.h"
#include "cli/common.h"
#include "error.h"
#include "image/tool.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const RrunCommand commands[] = {
  { "run", rrun_cmd_run, "run a command in a new container", FALSE },
  { "create", rrun_cmd_create, "create a container to run with rrun start", FALSE },
  { "start", rrun_cmd_start, "start stopped containers again", FALSE },
  { "stop", rrun_cmd_stop, "stop running containers", FALSE },
  { "restart", rrun_cmd_restart, "stop and start containers", FALSE },
  { "kill", rrun_cmd_kill, "send a signal to running containers", FALSE },
  { "healthcheck", rrun_cmd_healthcheck, "run a container's health check now (healthcheck run)",
    FALSE },
  { "generate", rrun_cmd_generate, "print a systemd user unit for a container (generate systemd)",
    FALSE },
  { "wait", rrun_cmd_wait, "wait for containers to exit; print their exit codes", FALSE },
  { "exec", rrun_cmd_exec, "run a command in a running container", FALSE },
  { "logs", rrun_cmd_logs, "print a detached container's output", FALSE },
  { "ps", rrun_cmd_ps, "list containers (-a: stopped ones too)", FALSE },
  { "rm", rrun_cmd_rm, "remove containers", FALSE },
  { "rename", rrun_cmd_rename, "give a container a new name", FALSE },
  { "attach", rrun_cmd_attach, "print a detached container's output until it exits", FALSE },
  { "cp", RRUN_IMAGE_COMMAND (rrun_cmd_cp), "copy files between a container and the host", FALSE },
  { "top", rrun_cmd_top, "list the processes of a running container", FALSE },
  { "pause", rrun_cmd_pause, "freeze running containers (cgroup v2 freezer)", FALSE },
  { "unpause", rrun_cmd_unpause, "thaw paused containers", FALSE },
  { "container", rrun_cmd_container, "manage containers (ls, rm, prune, inspect, ...)", FALSE },
  { "pull", RRUN_IMAGE_COMMAND (rrun_cmd_pull), "pull an image from a registry", FALSE },
  { "build", RRUN_IMAGE_COMMAND (rrun_cmd_build), "build an image from a Dockerfile", FALSE },
  { "builder", RRUN_IMAGE_COMMAND (rrun_cmd_builder), "manage the build cache (prune)", FALSE },
  { "commit", RRUN_IMAGE_COMMAND (rrun_cmd_commit), "make an image of a container's changes", FALSE },
  { "push", RRUN_IMAGE_COMMAND (rrun_cmd_push), "push an image to a registry", FALSE },
  { "tag", rrun_cmd_tag, "add a name to an image", FALSE },
  { "import", RRUN_IMAGE_COMMAND (rrun_cmd_import), "make an image from a root file system tarball", FALSE },
  { "load", RRUN_IMAGE_COMMAND (rrun_cmd_load), "load images from a docker-archive or OCI archive",
    FALSE },
  { "save", RRUN_IMAGE_COMMAND (rrun_cmd_save), "save images to a docker-archive or OCI archive",
    FALSE },
  { "images", rrun_cmd_images, "list images", FALSE },
  { "rmi", rrun_cmd_rmi, "remove images", FALSE },
  { "history", rrun_cmd_history, "show the steps that made an image", FALSE },
  { "image", rrun_cmd_image, "manage images (ls, rm, tag, pull, inspect, history, prune, ...)",
    FALSE },
  { "inspect", rrun_cmd_inspect, "show containers or images as JSON", FALSE },
  { "bundle", rrun_cmd_bundle, "write an OCI runtime bundle (rootfs, config.json) of an image",
    FALSE },
  { "oci", rrun_cmd_oci, "an OCI runtime's commands (run, create, start, state, kill, delete)",
    FALSE },
  { "volume", rrun_cmd_volume, "manage volumes (create, ls, inspect, rm, prune, exists)",
    FALSE },
  { "network", rrun_cmd_network, "manage networks (create, ls, inspect, rm, prune, exists)",
    FALSE },
  { "login", RRUN_IMAGE_COMMAND (rrun_cmd_login), "log in to a registry", FALSE },
  { "logout", rrun_cmd_logout, "log out of a registry", FALSE },
  { "stats", rrun_cmd_stats, "show resource use of running containers", FALSE },
  { "update", rrun_cmd_update, "change the resource limits of running containers", FALSE },
  { "port", rrun_cmd_port, "list a container's published ports", FALSE },
  { "info", rrun_cmd_info, "show what rrun uses on this machine and why", FALSE },
  { "system", rrun_cmd_system, "check the machine for rootless containers (system check)",
    FALSE },
  { "secret", rrun_cmd_secret, "store secrets for run --secret (create, ls, rm)", FALSE },
  { "version", rrun_cmd_version, "print the version", FALSE },
  { "help", rrun_cmd_help, "show help for rrun or a command", FALSE },
  { "completion", RRUN_IMAGE_COMMAND (rrun_cmd_completion),
    "print the bash, zsh or fish completion script", FALSE },
  { "__internal", rrun_cmd_internal, "helpers rrun runs inside its user namespace", TRUE },
  { "__complete", RRUN_IMAGE_COMMAND (rrun_cmd_complete),
    "complete a command line (the completion scripts call it)", TRUE },
  { "__fetch", RRUN_IMAGE_COMMAND (rrun_cmd_fetch_internal), "fetch an image's blobs into a directory", TRUE },
  { NULL, NULL, NULL, FALSE },
};

/* docker's and podman's command words that rrun lacks (yet; the table above is checked
   first): `rrun WORD` says so rather than pull an image called WORD. Words that are also common images and only swarm
   commands (node) stay images. */
static const char *const reserved_words[] = {
  "artifact", "auto-update", "buildx", "checkpoint",
  "compose", "config", "context", "diff", "events", "export", "farm",
  "init", "kube", "machine", "manifest", "mount",
  "play", "plugin", "pod", "quadlet", "restore", "search",
  "service", "stack", "swarm", "trust", "unmount", "unshare",
  "untag", "volume", NULL,
};

gboolean
rrun_cli_is_reserved_word (const char *word)
{
  return g_strv_contains (reserved_words, word);
}

gboolean
rrun_cli_forward_to_image_tool (RrunGlobal *g, int argc, char **argv, int *out_status,
                                GError **error)
{
  (void) argc;
  (void) argv;
  (void) out_status;
  return rrun_image_tool_exec (g->orig_argv, error);
}

const RrunCommand *
rrun_cli_commands (void)
{
  return commands;
}

const RrunCommand *
rrun_cli_find_command (const char *name)
{
  for (const RrunCommand *c = commands; c->name != NULL; c++)
    if (strcmp (c->name, name) == 0)
      return c;
  return NULL;
}

static gboolean
parse_options (GOptionContext *ctx, const char *command, gboolean strict, int *argc,
               char ***argv, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *why = NULL;

  g_option_context_set_strict_posix (ctx, strict);
  if (g_option_context_parse (ctx, argc, argv, &local))
    return TRUE;
  why = g_utf8_strdown (local->message, -1);
  rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s: %s", command, why);
  rrun_add_hint (error, "see: rrun %s --help", command);
  return FALSE;
}

gboolean
rrun_cli_parse (GOptionContext *ctx, const char *command, int *argc, char ***argv,
                GError **error)
{
  if (rrun_cli_describing ())
    {
      rrun_cli_describe_context (ctx, TRUE);
      return rrun_throw (error, RRUN_ERROR_FAILED, "%s: options described", command);
    }
  return parse_options (ctx, command, TRUE, argc, argv, error);
}

gboolean
rrun_cli_check_format (const char *command, const char *format, GError **error)
{
  if (format == NULL || strcmp (format, "json") == 0 || strcmp (format, "table") == 0)
    return TRUE;
  rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
              "invalid --format \"%s\": expected table or json", format);
  rrun_add_hint (error, "see: rrun %s --help", command);
  return FALSE;
}

void
rrun_cli_print_json_builder (RrunJsonBuilder *builder)
{
  g_autoptr(RrunJson) root = rrun_json_builder_get_root (builder);
  g_autofree char *text = rrun_json_value_to_text (root, TRUE);

  printf ("%s\n", text);
}

gboolean
rrun_cli_format_is_json (const char *format)
{
  return g_strcmp0 (format, "json") == 0;
}

gboolean
rrun_cli_parse_args (const RrunCliSpec *spec, const GOptionEntry *entries, int *argc,
                     char ***argv, gboolean *out_help, GError **error)
{
  gboolean help = FALSE;
  GOptionEntry common[] = {
    { "help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show this help", NULL },
    { NULL },
  };
  GOptionEntry format[] = {
    { "format", 0, 0, G_OPTION_ARG_STRING, spec->format,
      spec->any_format ? "Output format: json (default) or a Go template such as '{{.Id}}'"
                       : "Output format: table (default) or json",
      "FORMAT" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new (spec->params ? spec->params : "");
  int n;

  g_option_context_set_help_enabled (ctx, FALSE);
  if (spec->summary)
    g_option_context_set_summary (ctx, spec->summary);
  if (entries)
    g_option_context_add_main_entries (ctx, entries, NULL);
  if (spec->format)
    g_option_context_add_main_entries (ctx, format, NULL);
  g_option_context_add_main_entries (ctx, common, NULL);
  *out_help = FALSE;
  if (rrun_cli_describing ())
    {
      rrun_cli_describe_context (ctx, FALSE);
      return rrun_throw (error, RRUN_ERROR_FAILED, "%s: options described", spec->command);
    }
  /* Options may follow operands (docker's "inspect NAME --format X"): no command here
     takes a command line of its own after them. "--" still ends the options. */
  if (!parse_options (ctx, spec->command, FALSE, argc, argv, error))
    return FALSE;
  if (help)
    {
      rrun_cli_print_help (ctx, spec->command);
      *out_help = TRUE;
      return TRUE;
    }
  n = *argc - 1;
  if (n < spec->min_args || (spec->max_args >= 0 && n > spec->max_args))
    {
      if (n > spec->max_args && spec->max_args >= 0)
        rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s: unexpected argument \"%s\"",
                    spec->command, (*argv)[spec->max_args + 1]);
      else
        rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s: expected %s", spec->command,
                    spec->params && *spec->params ? spec->params : "no arguments");
      if (spec->usage)
        rrun_add_hint (error, "usage: %s", spec->usage);
      else
        rrun_add_hint (error, "see: rrun %s --help", spec->command);
      return FALSE;
    }
  if (spec->format && !spec->any_format
      && !rrun_cli_check_format (spec->command, *spec->format, error))
    return FALSE;
  return TRUE;
}

/* podman's (docker's go-units) human sizes: SI units, three significant digits. */
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

gboolean
rrun_cli_run_group (const char *group, const RrunCommand *table, const char *example,
                    RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  if (rrun_cli_describing ())
    {
      rrun_cli_describe_group (table);
      return rrun_throw (error, RRUN_ERROR_FAILED, "%s: subcommands described", group);
    }
  if (argc < 2)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s: missing subcommand", group);
      rrun_add_hint (error, "for example: rrun %s %s (see: rrun %s --help)", group, example,
                     group);
      return FALSE;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0
      || strcmp (argv[1], "help") == 0)
    {
      printf ("Usage: rrun %s SUBCOMMAND [OPTIONS] [ARGS...]\n\nSubcommands:\n", group);
      for (const RrunCommand *c = table; c->name; c++)
        if (!c->hidden)
          printf ("  %-10s %s\n", c->name, c->summary);
      printf ("\nSee 'rrun %s SUBCOMMAND --help' for a subcommand's options.\n", group);
      *out_status = 0;
      return TRUE;
    }
  for (const RrunCommand *c = table; c->name; c++)
    if (strcmp (c->name, argv[1]) == 0)
      return c->func (g, argc - 1, argv + 1, out_status, error);
  rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s: unknown subcommand \"%s\"", group,
              argv[1]);
  rrun_add_hint (error, "see: rrun %s --help", group);
  return FALSE;
}

gboolean
rrun_cli_confirm (const char *what)
{
  char line[64];

  fprintf (stderr, "WARNING! This will remove %s.\nAre you sure you want to continue? [y/N] ",
           what);
  fflush (stderr);
  if (fgets (line, sizeof line, stdin) == NULL)
    {
      fputc ('\n', stderr);
      return FALSE;
    }
  /* An answer from a pipe is not echoed: end the question's line. */
  if (!isatty (STDIN_FILENO))
    fputc ('\n', stderr);
  g_strstrip (line);
  return g_ascii_strcasecmp (line, "y") == 0 || g_ascii_strcasecmp (line, "yes") == 0;
}
