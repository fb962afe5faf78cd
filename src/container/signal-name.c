#include "container/signal-name.h"
#include "error.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const struct
{
  const char *name;
  int signo;
} signals[] = {
  { "HUP", SIGHUP },   { "INT", SIGINT },       { "QUIT", SIGQUIT }, { "ILL", SIGILL },
  { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },     { "IOT", SIGIOT },   { "BUS", SIGBUS },
  { "FPE", SIGFPE },   { "KILL", SIGKILL },     { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV },
  { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE },     { "ALRM", SIGALRM }, { "TERM", SIGTERM },
  { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
  { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },     { "TTOU", SIGTTOU }, { "URG", SIGURG },
  { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },     { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
  { "WINCH", SIGWINCH }, { "IO", SIGIO },       { "POLL", SIGPOLL }, { "PWR", SIGPWR },
  { "SYS", SIGSYS },
};

gboolean
rrun_signal_parse (const char *text, int *out_signo, GError **error)
{
  const char *name = text;
  char *end;
  long n;

  if (text == NULL || *text == '\0')
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid signal \"\"");
  n = strtol (text, &end, 10);
  if (g_ascii_isdigit (*text) && *end == '\0')
    {
      if (n < 1 || n > SIGRTMAX)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid signal \"%s\"", text);
      *out_signo = (int) n;
      return TRUE;
    }
  if (g_ascii_strncasecmp (name, "SIG", 3) == 0)
    name += 3;
  for (gsize i = 0; i < G_N_ELEMENTS (signals); i++)
    if (g_ascii_strcasecmp (name, signals[i].name) == 0)
      {
        *out_signo = signals[i].signo;
        return TRUE;
      }
  /* Real-time signals as docker names them: RTMIN, RTMIN+N, RTMAX-N, RTMAX (systemd's
     images stop with SIGRTMIN+3). */
  if (g_ascii_strncasecmp (name, "RTMIN", 5) == 0 || g_ascii_strncasecmp (name, "RTMAX", 5) == 0)
    {
      gboolean min = g_ascii_strncasecmp (name, "RTMIN", 5) == 0;
      const char *rest = name + 5;
      long off = 0;

      if (*rest == (min ? '+' : '-') && g_ascii_isdigit (rest[1]))
        {
          off = strtol (rest + 1, &end, 10);
          rest = *end == '\0' ? "" : rest;
        }
      if (*rest == '\0' && off <= SIGRTMAX - SIGRTMIN)
        {
          *out_signo = min ? SIGRTMIN + (int) off : SIGRTMAX - (int) off;
          return TRUE;
        }
    }
  rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid signal \"%s\"", text);
  rrun_add_hint (error, "name a signal as TERM, SIGTERM or 15 (see: kill -l)");
  return FALSE;
}
