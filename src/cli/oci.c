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
#include <grp.h>
#include <pwd.h>
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

/* Under slurmstepd, the task's rank and the MPI wiring are in rrun's environment, not in
   the config.json Slurm writes: SLURM_*, PMI_*, PMIX_* and OMPI_* variables the bundle
   does not set itself are added (pyxis's rule: the image's values win). */
static void
slurm_env (RrunContainerSpec *o)
{
  static const char *const prefixes[] = { "SLURM_", "PMI_", "PMIX_", "OMPI_", NULL };
  g_autoptr(GPtrArray) env = NULL;
  g_auto(GStrv) own = NULL;

  if (g_getenv ("SLURM_JOB_ID") == NULL || g_getenv ("SLURM_STEP_ID") == NULL)
    return;
  env = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; o->env && o->env[i]; i++)
    g_ptr_array_add (env, g_strdup (o->env[i]));
  own = g_get_environ ();
  for (guint i = 0; own[i]; i++)
    {
      gsize n = strcspn (own[i], "=");
      gboolean set = FALSE, wanted = FALSE;
      for (guint p = 0; prefixes[p]; p++)
        wanted |= g_str_has_prefix (own[i], prefixes[p]);
      if (!wanted || strncmp (own[i], "SLURM_CONF", 10) == 0)
        continue;
      for (guint k = 0; k < env->len && !set; k++)
        set = strncmp (env->pdata[k], own[i], n + 1) == 0;
      if (!set)
        g_ptr_array_add (env, g_strdup (own[i]));
    }
  g_ptr_array_add (env, NULL);
  g_strfreev (o->env);
  o->env = (char **) g_ptr_array_free (g_steal_pointer (&env), FALSE);
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
  slurm_env (o);
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

/* slurmstepd (22.05) runs oci.conf's RunTimeQuery, Kill and Delete as root, while the
   container is the job user's, in that user's store. An ID of the form oci.conf's
   %n.%u.%j.%s.%t names the user: root, not finding it among its own, becomes that user
   (initgroups, setgid, setuid: privileges only dropped) and runs the same command again.
   Returns only when it does not apply. */
static void
hand_to_slurm_user (RrunGlobal *g, const char *id)
{
  g_auto(GStrv) parts = NULL;
  g_autoptr(RrunState) st = NULL;
  struct passwd *pw;

  if (geteuid () != 0 || id == NULL || g->orig_argv == NULL)
    return;
  parts = g_strsplit (id, ".", -1);
  if (g_strv_length (parts) < 5 || rrun_state_find_any (g->config, id, &st, NULL))
    return;
  pw = getpwnam (parts[g_strv_length (parts) - 4]);
  if (pw == NULL || pw->pw_uid == 0)
    return;
  if (initgroups (pw->pw_name, pw->pw_gid) < 0 || setgid (pw->pw_gid) < 0
      || setuid (pw->pw_uid) < 0)
    return;
  g_setenv ("HOME", pw->pw_dir, TRUE);
  g_setenv ("USER", pw->pw_name, TRUE);
  g_setenv ("LOGNAME", pw->pw_name, TRUE);
  g_unsetenv ("XDG_RUNTIME_DIR");
  g_unsetenv ("XDG_CONFIG_HOME");
  g_unsetenv ("XDG_DATA_HOME");
  if (chdir ("/") < 0)
    return;
  execv ("/proc/self/exe", g->orig_argv);
  _exit (125); /* privileges are gone: nothing sensible remains to do as root */
}

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
  if (argc >= 3 && (strcmp (argv[1], "state") == 0 || strcmp (argv[1], "kill") == 0
                    || strcmp (argv[1], "delete") == 0))
    {
      /* The ID: the first operand after the subcommand's options (kill: then a signal). */
      for (int i = 2; i < argc; i++)
        if (argv[i][0] != '-')
          {
            hand_to_slurm_user (g, argv[i]);
            break;
          }
    }
  return rrun_cli_run_group ("oci", oci_commands, "state", g, argc, argv, out_status, error);
}
