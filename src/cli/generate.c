/* rrun generate systemd [--all | CONTAINER]: a systemd user unit, printed, that starts
   the container at login (or, with --all, every container run with --restart always or
   unless-stopped). The container's monitor applies its restart policy: systemd only starts
   it; no daemon and no systemd are needed otherwise. */
#include "cli/cli.h"
#include "container/record.h"
#include "error.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The path of the running rrun, for ExecStart. */
static char *
own_path (void)
{
  char *p = g_file_read_link ("/proc/self/exe", NULL);

  return p ? p : g_strdup ("rrun");
}

/* A word for the unit file's command lines: quoted when it holds spaces or quotes. */
static char *
quote (const char *s)
{
  if (strpbrk (s, " \t\"'\\%$") == NULL)
    return g_strdup (s);
  {
    GString *q = g_string_new ("\"");
    for (const char *p = s; *p; p++)
      {
        if (*p == '"' || *p == '\\')
          g_string_append_c (q, '\\');
        if (*p == '%')
          g_string_append_c (q, '%');
        if (*p == '$')
          g_string_append_c (q, '$');
        g_string_append_c (q, *p);
      }
    g_string_append_c (q, '"');
    return g_string_free (q, FALSE);
  }
}

static gboolean
generate_systemd (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help, all = FALSE;
  const GOptionEntry entries[] = {
    { "all", 0, 0, G_OPTION_ARG_NONE, &all,
      "One unit for every container with --restart always or unless-stopped", NULL },
    { NULL }
  };
  const RrunCliSpec spec = { "generate systemd", "[CONTAINER]",
                             "Print a systemd user unit that starts a container at login.", 0,
                             1, "rrun generate systemd CONTAINER, or rrun generate systemd --all",
                             NULL, FALSE };
  g_autofree char *rrun = own_path ();
  g_autofree char *q_rrun = quote (rrun), *q_root = quote (g->config->storage_root);
  g_autofree char *q_runroot = quote (g->config->run_root);
  g_autofree char *globals = g_strdup_printf ("%s --root %s --runroot %s", q_rrun, q_root,
                                              q_runroot);

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  if (all == (argc == 2))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "generate systemd: give one container or --all");
      rrun_add_hint (error, "usage: rrun generate systemd CONTAINER, or rrun generate "
                            "systemd --all");
      return FALSE;
    }
  if (all)
    {
      printf ("# rrun-restart.service: starts the containers run with --restart always or\n"
              "# unless-stopped at login. Made by rrun generate systemd --all; install with\n"
              "#   rrun generate systemd --all > ~/.config/systemd/user/rrun-restart.service\n"
              "#   systemctl --user enable rrun-restart.service\n"
              "# (loginctl enable-linger $USER starts it at boot, without a login.)\n"
              "[Unit]\n"
              "Description=rrun containers with a restart policy\n"
              "Wants=network-online.target\n"
              "After=network-online.target\n"
              "\n"
              "[Service]\n"
              "Type=oneshot\n"
              "RemainAfterExit=yes\n"
              "ExecStart=%s start --all --filter restart-policy=always "
              "--filter restart-policy=unless-stopped\n"
              "KillMode=none\n"
              "\n"
              "[Install]\n"
              "WantedBy=default.target\n",
              globals);
      return TRUE;
    }
  {
    g_autoptr(RrunState) s = NULL;
    const char *name;
    g_autofree char *q_name = NULL;

    if (!rrun_state_find_any (g->config, argv[1], &s, error))
      return FALSE;
    name = s->name && *s->name ? s->name : s->id;
    q_name = quote (name);
    printf ("# container-%s.service: starts rrun container %s at login. Made by\n"
            "# rrun generate systemd %s; install with\n"
            "#   rrun generate systemd %s > ~/.config/systemd/user/container-%s.service\n"
            "#   systemctl --user enable container-%s.service\n"
            "[Unit]\n"
            "Description=rrun container %s\n"
            "Wants=network-online.target\n"
            "After=network-online.target\n"
            "\n"
            "[Service]\n"
            "Type=oneshot\n"
            "RemainAfterExit=yes\n"
            "ExecStart=%s start %s\n"
            "ExecStop=%s stop %s\n"
            "\n"
            "[Install]\n"
            "WantedBy=default.target\n",
            name, name, name, name, name, name, name, globals, q_name, globals, q_name);
  }
  return TRUE;
}

static const RrunCommand generate_commands[] = {
  { "systemd", generate_systemd, "print a systemd user unit for a container", FALSE },
  { NULL, NULL, NULL, FALSE },
};

gboolean
rrun_cmd_generate (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return rrun_cli_run_group ("generate", generate_commands, "systemd CONTAINER", g, argc,
                             argv, out_status, error);
}
