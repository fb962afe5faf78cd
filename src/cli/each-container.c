/* The loop of the commands that act on several containers (stop, kill, pause, start,
   wait, ...): docker goes on past a container it cannot act on, prints the error, and
   ends with a failure status at the end. */
#include "cli/cli.h"
#include "error.h"
#include "log.h"

#include <stdio.h>

int
rrun_cli_for_each_container (RrunGlobal *g, int argc, char **argv,
                             RrunCliContainerAction action, gpointer data, gboolean print_names,
                             int *out_last_code)
{
  int failed = 0;

  for (int i = 1; i < argc; i++)
    {
      g_autoptr(GError) local = NULL;
      g_autoptr(RrunState) state = NULL;

      if (!rrun_state_find_any (g->config, argv[i], &state, &local)
          || !action (g, argv[i], state, data, &local))
        {
          if (out_last_code != NULL)
            *out_last_code = rrun_error_exit_code (local);
          rrun_log_print_error (local);
          failed++;
          continue;
        }
      if (print_names)
        {
          printf ("%s\n", argv[i]);
          fflush (stdout);
        }
    }
  return failed;
}
