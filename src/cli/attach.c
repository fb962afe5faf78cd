/* rrun attach [--no-stdin] [--sig-proxy=BOOL] [--detach-keys KEYS] CONTAINER: a detached
   container's output from now on, until it exits, then its exit status. A container run
   with -i or -t has an attach socket (container/attach.h): stdin, the terminal and the
   detach keys go through it. Any other's output comes from the log the container's
   monitor writes (container/log-writer.c), followed as `logs -f` follows it. */
#include "cli/cli.h"
#include "container/attach.h"
#include "container/log-reader.h"
#include "container/log-writer.h"
#include "container/pid1.h"
#include "container/record.h"
#include "container/stop.h"
#include "error.h"
#include "util/fd.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The container's PID 1 for the signal handler (--sig-proxy). */
static volatile int proxy_pidfd = -1;

static void
proxy_signal (int signo)
{
  int errsv = errno;

  if (proxy_pidfd >= 0)
    syscall (SYS_pidfd_send_signal, proxy_pidfd, signo, NULL, 0);
  errno = errsv;
}

static gboolean
parse_bool (const char *option, const char *text, gboolean *out, GError **error)
{
  if (text == NULL || strcmp (text, "true") == 0 || strcmp (text, "1") == 0)
    *out = TRUE;
  else if (strcmp (text, "false") == 0 || strcmp (text, "0") == 0)
    *out = FALSE;
  else
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid %s \"%s\": expected true or false", option, text);
  return TRUE;
}

gboolean
rrun_cmd_attach (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autofree char *sig_proxy_text = NULL, *detach_keys = NULL;
  g_autofree char *dir = NULL, *path = NULL;
  g_autoptr(RrunState) state = NULL;
  g_autoptr(GByteArray) keys = NULL;
  g_autoptr(GError) local = NULL;
  gboolean no_stdin = FALSE, sig_proxy = TRUE, help;
  const GOptionEntry entries[] = {
    { "no-stdin", 0, 0, G_OPTION_ARG_NONE, &no_stdin,
      "Do not attach stdin (a container run with -i gets none of this terminal's input)",
      NULL },
    { "sig-proxy", 0, 0, G_OPTION_ARG_STRING, &sig_proxy_text,
      "Without a terminal: pass the signals rrun gets on to the container (true, the "
      "default, or false)", "BOOL" },
    { "detach-keys", 0, 0, G_OPTION_ARG_STRING, &detach_keys,
      "With a terminal: the keys that detach, leaving the container running (default "
      "ctrl-p,ctrl-q; \"\" for none)", "KEYS" },
    { NULL }
  };
  const RrunCliSpec spec = { "attach", "CONTAINER",
                             "Attach to a detached container's input and output.", 1, 1,
                             "rrun attach CONTAINER (see rrun ps)", NULL, FALSE };
  RrunLogReadOptions o = { .follow = TRUE, .tail = -1 };
  rrun_autofd int pidfd = -1;
  rrun_autofd int sock = -1;
  int code = 0;
  const char *shown;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  if (sig_proxy_text != NULL && !parse_bool ("--sig-proxy", sig_proxy_text, &sig_proxy, error))
    return FALSE;
  if (!rrun_attach_parse_detach_keys (detach_keys ? detach_keys : "ctrl-p,ctrl-q", &keys,
                                      error))
    return FALSE;
  /* From now on: what the container writes after this moment. */
  o.since_ns = g_get_real_time () * 1000;
  if (!rrun_state_find_any (g->config, argv[1], &state, error))
    return FALSE;
  shown = argv[1];
  if (!state->live || state->status != RRUN_STATUS_RUNNING)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "cannot attach to container \"%s\": it is not running", shown);
      rrun_add_hint (error, "start it and attach: rrun start -a %s", shown);
      return FALSE;
    }
  if (!state->detached)
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                  "cannot attach to container \"%s\": it runs in the foreground of another "
                  "rrun, which has its terminal", shown);
      return FALSE;
    }
  if (sig_proxy && !rrun_pid1_open (state, &pidfd, error))
    return FALSE;
  /* Run with -i or -t: through its monitor's socket. */
  if (state->run_dir != NULL && rrun_attach_connect (state->run_dir, &sock, &local))
    {
      RrunAttachOptions ao = { no_stdin, FALSE, pidfd, keys };
      RrunAttachEnd end;

      if (!rrun_attach_run (sock, &ao, &end, error))
        return FALSE;
      if (end == RRUN_ATTACH_DETACHED)
        {
          /* docker's words; the container goes on. */
          fputs ("read escape sequence\n", stderr);
          return TRUE;
        }
      if (end == RRUN_ATTACH_SIGNALLED)
        return TRUE;
    }
  else
    {
      if (local != NULL && !g_error_matches (local, RRUN_ERROR, RRUN_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (sig_proxy)
        {
          static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
          struct sigaction sa = { 0 };

          proxy_pidfd = pidfd;
          sa.sa_handler = proxy_signal;
          sa.sa_flags = SA_RESTART;
          sigemptyset (&sa.sa_mask);
          for (guint i = 0; i < G_N_ELEMENTS (forwarded); i++)
            sigaction (forwarded[i], &sa, NULL);
        }
      dir = rrun_record_dir (g->config, state->id);
      path = g_build_filename (dir, RRUN_LOG_FILE, NULL);
      if (!rrun_log_read (path, dir, &o, error))
        return FALSE;
      proxy_pidfd = -1;
    }
  if (!rrun_container_wait_exit (g->config, state, &code, error))
    return FALSE;
  *out_status = code < 0 ? RRUN_EXIT_FAILED : code;
  return TRUE;
}
