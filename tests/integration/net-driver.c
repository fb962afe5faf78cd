/* Drives src/network.c the way the runtime does, for tests/integration/net.bats, until
   `rrun run` wires it: net-driver start PID RUN_DIR [--network TEXT] [-p SPEC]...
   publishes, prints `rrun port`'s text, then "ready", and stops the helper on stdin EOF.
   net-driver ports RUN_DIR asks a running helper (what `rrun port` will do). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "network/network.h"

static int
fail (GError *error)
{
  rrun_log_print_error (error);
  g_error_free (error);
  return 125;
}

int
main (int argc, char **argv)
{
  GError *error = NULL;

  rrun_log_init ();
  if (argc >= 3 && g_str_equal (argv[1], "ports"))
    {
      g_autoptr (GArray) ports = NULL;
      g_autofree char *text = NULL;

      if (!rrun_network_query_ports (argv[2], &ports, &error))
        return fail (error);
      text = rrun_network_ports_text (ports);
      fputs (text, stdout);
      return 0;
    }
  if (argc >= 4 && g_str_equal (argv[1], "start"))
    {
      g_autoptr (RrunNetworkOptions) opts = rrun_network_options_new (NULL, &error);
      g_autoptr (RrunNetwork) net = NULL;
      g_autofree char *text = NULL;
      char buf[64];

      if (opts == NULL)
        return fail (error);
      for (int i = 4; i + 1 < argc; i += 2)
        {
          gboolean ok = FALSE;

          if (g_str_equal (argv[i], "--network"))
            ok = rrun_network_options_set_mode (opts, argv[i + 1], &error);
          else if (g_str_equal (argv[i], "-p"))
            ok = rrun_network_options_add_publish (opts, argv[i + 1], &error);
          else
            ok = rrun_throw (&error, RRUN_ERROR_INVALID_ARGUMENT, "unknown option \"%s\"",
                             argv[i]);
          if (!ok)
            return fail (error);
        }
      if (!rrun_network_check_ports (opts, &error))
        return fail (error);
      if (!rrun_network_start (opts, (pid_t) atoi (argv[2]), argv[3], &net, &error))
        return fail (error);
      text = rrun_network_ports_text (rrun_network_get_ports (net));
      printf ("%shelper %d\nready\n", text, (int) rrun_network_get_helper_pid (net));
      fflush (stdout);
      while (read (0, buf, sizeof buf) > 0)
        ;
      return 0;
    }
  fprintf (stderr, "usage: net-driver start PID RUN_DIR [--network X] [-p SPEC]... | ports DIR\n");
  return 2;
}
