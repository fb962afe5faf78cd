/* rrun login [-u USER] [-p PASS | --password-stdin] [--tls-verify=false] REGISTRY */
#include "cli/cli.h"
#include "error.h"
#include "log.h"
#include "registry/auth.h"
#include "registry/client.h"
#include "registry/registries-conf.h"
#include "registry/reference.h"

#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static char *
read_line (FILE *in, gboolean echo)
{
  char buf[4096];
  struct termios old, quiet;
  gboolean restore = FALSE;
  char *ok;

  if (!echo && isatty (fileno (in)) && tcgetattr (fileno (in), &old) == 0)
    {
      quiet = old;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      restore = tcsetattr (fileno (in), TCSAFLUSH, &quiet) == 0;
    }
  ok = fgets (buf, sizeof buf, in);
  if (restore)
    {
      tcsetattr (fileno (in), TCSAFLUSH, &old);
      fputc ('\n', stderr);
    }
  if (ok == NULL)
    return NULL;
  buf[strcspn (buf, "\r\n")] = '\0';
  return g_strdup (buf);
}

static char *
read_all_stdin (GError **error)
{
  g_autoptr(GString) s = g_string_new (NULL);
  char buf[4096];
  size_t n;

  while ((n = fread (buf, 1, sizeof buf, stdin)) > 0 && s->len < 65536)
    g_string_append_len (s, buf, n);
  while (s->len && (s->str[s->len - 1] == '\n' || s->str[s->len - 1] == '\r'))
    g_string_truncate (s, s->len - 1);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

gboolean
rrun_cmd_login (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autofree char *user = NULL, *password = NULL, *tls = NULL;
  gboolean password_stdin = FALSE, tls_verify = TRUE;
  GOptionEntry entries[] = {
    { "username", 'u', 0, G_OPTION_ARG_STRING, &user, "User name", "USER" },
    { "password", 'p', 0, G_OPTION_ARG_STRING, &password, "Password", "PASS" },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &password_stdin, "Read the password from "
      "standard input", NULL },
    { "tls-verify", 0, 0, G_OPTION_ARG_STRING, &tls, "Verify TLS certificates (default true)",
      "BOOL" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("REGISTRY - log in to a registry");
  g_autoptr(RrunRegistriesConf) conf = NULL;
  g_autoptr(RrunRegistryClient) client = NULL;
  g_autofree char *key = NULL, *domain = NULL;
  RrunCredentials creds = { 0 };
  RrunRegistryOptions opts = { 0 };

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rrun_cli_parse (ctx, "login", &argc, &argv, error)
      || !rrun_cli_parse_tls_verify (tls, &tls_verify, error))
    return FALSE;
  if (argc != 2)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "login: expected one registry");
      rrun_add_hint (error, "usage: rrun login [-u USER] [-p PASS | --password-stdin] REGISTRY");
      return FALSE;
    }
  if (password && password_stdin)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "login: --password and --password-stdin cannot be used together");
  if (!rrun_cli_registry_argument (argv[1], &key, &domain, error))
    return FALSE;
  if (user == NULL)
    {
      if (password_stdin || !isatty (STDIN_FILENO))
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "cannot log in to %s: no user name", domain);
          rrun_add_hint (error, "pass it with -u USER");
          return FALSE;
        }
      fprintf (stderr, "Username: ");
      user = read_line (stdin, TRUE);
    }
  if (password_stdin)
    password = read_all_stdin (error);
  else if (password == NULL)
    {
      if (!isatty (STDIN_FILENO))
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "cannot log in to %s: no password", domain);
          rrun_add_hint (error, "pass it with --password-stdin");
          return FALSE;
        }
      fprintf (stderr, "Password: ");
      password = read_line (stdin, FALSE);
    }
  else
    rrun_warning ("a password on the command line is visible to other users; "
                  "use --password-stdin");
  if (user == NULL || *user == '\0' || strchr (user, ':') != NULL)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "cannot log in to %s: the user name is empty or has a ':'", domain);
  if (password == NULL || *password == '\0')
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "cannot log in to %s: the password is empty", domain);

  if (!rrun_registries_conf_load (g->config, &conf, error))
    return FALSE;
  creds.username = user;
  creds.password = password;
  creds.source = (char *) "the command line";
  opts.tls_verify = tls_verify;
  opts.insecure = rrun_registries_conf_is_insecure (conf, domain);
  opts.credentials = &creds;
  client = rrun_registry_client_new (domain, &opts);
  if (!rrun_registry_client_check_login (client, error))
    return FALSE;
  if (!rrun_auth_store (key, user, password, error))
    return FALSE;
  explicit_bzero (password, strlen (password));
  printf ("Login Succeeded!\n");
  *out_status = 0;
  return TRUE;
}
