/* rrun exec [-d] [-i] [-t] [-u USER] [-w DIR] [-e K=V]... [--env-file FILE]... [--privileged]
   CONTAINER COMMAND [ARG...] */
#include "cli/cli.h"
#include "cli/common.h"
#include "container/exec.h"
#include "error.h"

#include <string.h>
#include <unistd.h>

gboolean
rrun_cmd_exec (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  RrunExecOptions o = { 0 };
  RrunContainerSpec spec = { 0 };
  g_autoptr(RrunState) state = NULL;
  gboolean help = FALSE, ok = FALSE, have_spec = FALSE;
  GOptionEntry entries[] = {
    { "interactive", 'i', 0, G_OPTION_ARG_NONE, &o.interactive, "Keep stdin open", NULL },
    { "tty", 't', 0, G_OPTION_ARG_NONE, &o.tty, "Allocate a terminal", NULL },
    { "detach", 'd', 0, G_OPTION_ARG_NONE, &o.detach,
      "Run in the background: return once the command runs", NULL },
    { "env-file", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o.env_files,
      "Read variables from a file (after the container's)", "FILE" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &o.user, "User: name|uid[:group|gid]", "USER" },
    { "workdir", 'w', 0, G_OPTION_ARG_STRING, &o.workdir, "Working directory inside", "DIR" },
    { "env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &o.env, "Set K=V, or pass K from here", "K=V" },
    { "privileged", 0, 0, G_OPTION_ARG_NONE, &o.privileged,
      "Every capability of the container's user namespace, no seccomp filter", NULL },
    { "help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show this help", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("CONTAINER COMMAND [ARG...]");

  g_option_context_set_help_enabled (ctx, FALSE);
  g_option_context_set_summary (ctx, "Run a command in a running container.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  /* Options stop at the container: the command's own follow it. */
  if (!rrun_cli_parse (ctx, "exec", &argc, &argv, error))
    goto out;
  if (help)
    {
      rrun_cli_print_help (ctx, "exec");
      *out_status = 0;
      ok = TRUE;
      goto out;
    }
  if (o.detach && o.tty)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "exec: -d and -t cannot go together");
      goto out;
    }
  if (o.tty && !isatty (STDIN_FILENO))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "exec: -t needs a terminal on stdin");
      rrun_add_hint (error, "leave out -t when stdin is a pipe or file");
      goto out;
    }
  if (argc < 3)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "exec: expected CONTAINER COMMAND");
      rrun_add_hint (error, "usage: rrun exec [OPTIONS] CONTAINER COMMAND [ARG...]");
      goto out;
    }
  if (o.workdir != NULL && o.workdir[0] != '/')
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "invalid working directory \"%s\": it must be absolute", o.workdir);
      goto out;
    }
  o.argv = g_strdupv (argv + 2);
  if (!rrun_state_find_any (g->config, argv[1], &state, error))
    goto out;
  if (!state->live || state->status != RRUN_STATUS_RUNNING)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "cannot exec in container \"%s\": it is not running", argv[1]);
      rrun_add_hint (error, "start it first: rrun start %s", argv[1]);
      goto out;
    }
  if (!rrun_state_read_spec (g->config, state->id, &spec, error))
    goto out;
  have_spec = TRUE;
  ok = rrun_container_exec (g->config, state, &spec, &o, out_status, error);
out:
  if (have_spec)
    rrun_container_spec_clear (&spec);
  rrun_exec_options_clear (&o);
  return ok;
}
