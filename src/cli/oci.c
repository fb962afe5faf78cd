/* rrun oci run|create|start|state|kill|delete: an OCI runtime's command line over rrun's
   containers, for Slurm's oci.conf (docs/rrun-oci.1.md, docs/hpc.md). The bundle's
   config.json becomes a container spec (container/oci-bundle.c); the container ID is
   the container's name, so every other rrun command sees it too. */
#include "cli/cli.h"
#include "container/container.h"
#include "container/oci-bundle.h"
#include "container/monitor.h"
#include "container/record.h"
#include "error.h"
#include "util/json-value.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>

/* Run another command with its stdout on /dev/null: rm and kill print the names they
   acted on, which an OCI runtime's caller does not expect. */
static gboolean
rrun_cli_quietly (gboolean (*cmd) (RrunGlobal *, int, char **, int *, GError **),
                  RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  int saved, devnull;
  gboolean ok;

  fflush (stdout);
  saved = fcntl (STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  devnull = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  if (saved >= 0 && devnull >= 0)
    dup2 (devnull, STDOUT_FILENO);
  if (devnull >= 0)
    close (devnull);
  ok = cmd (g, argc, argv, out_status, error);
  fflush (stdout);
  if (saved >= 0)
    {
      dup2 (saved, STDOUT_FILENO);
      close (saved);
    }
  return ok;
}

static gboolean
run_or_create (RrunGlobal *g, int argc, char **argv, gboolean create, int *out_status,
               GError **error)
{
  g_autofree char *bundle = NULL, *pid_file = NULL, *console_socket = NULL;
  gboolean help = FALSE, detach = FALSE, no_pivot = FALSE, no_new_keyring = FALSE;
  GOptionEntry entries[] = {
    { "bundle", 'b', 0, G_OPTION_ARG_FILENAME, &bundle,
      "The bundle directory (default: the current directory)", "DIR" },
    { "pid-file", 0, 0, G_OPTION_ARG_FILENAME, &pid_file, "Accepted, not written", "FILE" },
    { "console-socket", 0, 0, G_OPTION_ARG_FILENAME, &console_socket, "Not supported",
      "SOCKET" },
    { "detach", 'd', 0, G_OPTION_ARG_NONE, &detach, "run: start it in the background", NULL },
    { "no-pivot", 0, 0, G_OPTION_ARG_NONE, &no_pivot, "Accepted, ignored", NULL },
    { "no-new-keyring", 0, 0, G_OPTION_ARG_NONE, &no_new_keyring, "Accepted, ignored", NULL },
    { NULL },
  };
  const RrunCliSpec spec = {
    .command = create ? "oci create" : "oci run",
    .params = "ID",
    .summary = create ? "Create a container from an OCI bundle; oci start runs it."
                      : "Run an OCI bundle's process in a container and wait for it; its exit\n"
                        "status is rrun's. The record stays for oci state until oci delete.",
    .min_args = 1,
    .max_args = 1,
    .usage = create ? "rrun oci create [--bundle DIR] ID" : "rrun oci run [--bundle DIR] ID",
  };
  g_autoptr(RrunContainerSpec) o = NULL;
  gboolean ok;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    {
      *out_status = 0;
      return TRUE;
    }
  if (console_socket != NULL)
    return rrun_throw (error, RRUN_ERROR_UNSUPPORTED, "%s: --console-socket is not supported",
                       spec.command);
  if (!rrun_oci_bundle_to_spec (bundle ? bundle : ".", argv[1], &o, error))
    return FALSE;
  o->detach = create || detach;
  if (!rrun_container_spec_validate (g->config, o, error))
    return FALSE;
  if (create || detach)
    {
      g_autofree char *id = NULL;

      ok = create ? rrun_container_create_stopped (g->config, o, &id, error)
                  : rrun_container_run_detached (g->config, o, NULL, &id, error);
      if (ok)
        *out_status = 0;
      return ok;
    }
  return rrun_container_run (g->config, o, out_status, error);
}

static gboolean
oci_run (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return run_or_create (g, argc, argv, FALSE, out_status, error);
}

static gboolean
oci_create (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return run_or_create (g, argc, argv, TRUE, out_status, error);
}

static gboolean
find_container (RrunGlobal *g, const char *id, RrunState **out, GError **error)
{
  g_autoptr(GError) local = NULL;

  if (rrun_state_find_any (g->config, id, out, &local))
    return TRUE;
  if (g_error_matches (local, RRUN_ERROR, RRUN_ERROR_NOT_FOUND))
    return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "container \"%s\" does not exist", id);
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

/* The OCI state (runtime-spec, "State"): ociVersion, id, status, pid, bundle. */
static gboolean
oci_state (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help = FALSE;
  const RrunCliSpec spec = {
    .command = "oci state",
    .params = "ID",
    .summary = "Print the container's OCI state as JSON: created, running or stopped.",
    .min_args = 1,
    .max_args = 1,
    .usage = "rrun oci state ID",
  };
  g_autoptr(RrunState) s = NULL;
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();
  g_autofree char *text = NULL;
  const char *status, *bundle = "";
  gboolean running;

  if (!rrun_cli_parse_args (&spec, NULL, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    {
      *out_status = 0;
      return TRUE;
    }
  if (!find_container (g, argv[1], &s, error))
    return FALSE;
  running = s->status == RRUN_STATUS_RUNNING && s->live && s->pid > 0 && !s->restarting;
  status = s->status == RRUN_STATUS_CREATED ? "created" : running ? "running" : "stopped";
  for (guint i = 0; s->labels && s->labels[i]; i++)
    if (g_str_has_prefix (s->labels[i], RRUN_OCI_BUNDLE_LABEL "="))
      bundle = s->labels[i] + strlen (RRUN_OCI_BUNDLE_LABEL "=");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "ociVersion", RRUN_OCI_VERSION);
  rrun_json_builder_member_string (b, "id", s->name && *s->name ? s->name : s->id);
  rrun_json_builder_member_string (b, "status", status);
  rrun_json_builder_member_int (b, "pid", running ? s->pid : 0);
  rrun_json_builder_member_string (b, "bundle", bundle);
  rrun_json_builder_set_member_name (b, "annotations");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "io.rrun.id", s->id);
  if (s->status == RRUN_STATUS_EXITED && s->exit_code != RRUN_EXIT_CODE_UNKNOWN)
    {
      g_autofree char *code = g_strdup_printf ("%d", s->exit_code);

      rrun_json_builder_member_string (b, "io.rrun.exit-code", code);
    }
  rrun_json_builder_end_object (b);
  rrun_json_builder_end_object (b);
  text = rrun_json_builder_to_text (b, TRUE);
  printf ("%s\n", text);
  *out_status = 0;
  return TRUE;
}

static gboolean
oci_start (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help = FALSE;
  const RrunCliSpec spec = {
    .command = "oci start",
    .params = "ID",
    .summary = "Start a container made by oci create (in the background).",
    .min_args = 1,
    .max_args = 1,
    .usage = "rrun oci start ID",
  };
  char *start_argv[] = { (char *) "start", NULL, NULL };
  g_autoptr(RrunState) s = NULL;

  if (!rrun_cli_parse_args (&spec, NULL, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    {
      *out_status = 0;
      return TRUE;
    }
  if (!find_container (g, argv[1], &s, error))
    return FALSE;
  if (s->status != RRUN_STATUS_CREATED)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "cannot start container \"%s\": it is not in the created state",
                       argv[1]);
  start_argv[1] = argv[1];
  return rrun_cli_quietly (rrun_cmd_start, g, 2, start_argv, out_status, error);
}

static gboolean
oci_kill (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help = FALSE, all = FALSE;
  GOptionEntry entries[] = {
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "Accepted: the signal goes to PID 1", NULL },
    { NULL },
  };
  const RrunCliSpec spec = {
    .command = "oci kill",
    .params = "ID [SIGNAL]",
    .summary = "Send a signal (default SIGTERM) to the container's process.",
    .min_args = 1,
    .max_args = 2,
    .usage = "rrun oci kill ID [SIGNAL]",
  };
  char *kill_argv[] = { (char *) "kill", (char *) "-s", NULL, NULL, NULL };

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    {
      *out_status = 0;
      return TRUE;
    }
  kill_argv[2] = argc > 2 ? argv[2] : (char *) "TERM";
  kill_argv[3] = argv[1];
  return rrun_cli_quietly (rrun_cmd_kill, g, 4, kill_argv, out_status, error);
}

static gboolean
oci_delete (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help = FALSE, force = FALSE;
  GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Kill a running container first", NULL },
    { NULL },
  };
  const RrunCliSpec spec = {
    .command = "oci delete",
    .params = "ID",
    .summary = "Remove the container: its record, writable layer and run directory.",
    .min_args = 1,
    .max_args = 1,
    .usage = "rrun oci delete [--force] ID",
  };
  char *rm_argv[] = { (char *) "rm", NULL, NULL, NULL };
  int n = 1;
  g_autoptr(RrunState) s = NULL;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    {
      *out_status = 0;
      return TRUE;
    }
  if (!find_container (g, argv[1], &s, error))
    return FALSE;
  if (force)
    rm_argv[n++] = (char *) "-f";
  rm_argv[n++] = argv[1];
  return rrun_cli_quietly (rrun_cmd_rm, g, n, rm_argv, out_status, error);
}

static const RrunCommand oci_commands[] = {
  { "run", oci_run, "run a bundle's process and wait for it", FALSE },
  { "create", oci_create, "create a container from a bundle", FALSE },
  { "start", oci_start, "start a created container", FALSE },
  { "state", oci_state, "print a container's OCI state as JSON", FALSE },
  { "kill", oci_kill, "send a signal to a container", FALSE },
  { "delete", oci_delete, "remove a container", FALSE },
  { NULL, NULL, NULL, FALSE },
};

gboolean
rrun_cmd_oci (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  int skip = 0;

  /* runc's and crun's global options, which oci.conf lines written for them carry:
     --root DIR, --rootless VALUE, --log FILE, --log-format FMT, --systemd-cgroup. rrun
     keeps its state in its own run root. */
  while (1 + skip < argc && g_str_has_prefix (argv[1 + skip], "--"))
    {
      const char *a = argv[1 + skip];

      if (strchr (a, '=') != NULL || strcmp (a, "--systemd-cgroup") == 0
          || strcmp (a, "--debug") == 0)
        skip++;
      else if ((strcmp (a, "--root") == 0 || strcmp (a, "--rootless") == 0
                || strcmp (a, "--log") == 0 || strcmp (a, "--log-format") == 0)
               && 2 + skip < argc)
        skip += 2;
      else
        break;
    }
  if (skip > 0)
    {
      argv[skip] = argv[0];
      argv += skip;
      argc -= skip;
    }
  return rrun_cli_run_group ("oci", oci_commands, "state", g, argc, argv, out_status, error);
}
