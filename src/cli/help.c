#include "cli/cli.h"
#include "error.h"

#include <stdio.h>
#include <string.h>

gboolean
rrun_cmd_help (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  /* "rrun help --help" (and so "rrun help help") is the general help. */
  if (argc > 1 && strcmp (argv[1], "--help") != 0 && strcmp (argv[1], "-h") != 0)
    {
      const RrunCommand *c = rrun_cli_find_command (argv[1]);
      char *sub_argv[] = { argv[1], (char *) "--help", NULL };

      if (c == NULL || c->hidden)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "unknown command \"%s\"", argv[1]);
          rrun_add_hint (error, "see: rrun help");
          return FALSE;
        }
      return c->func (g, 2, sub_argv, out_status, error);
    }
  printf ("Usage: rrun [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS...]\n"
          "       rrun [GLOBAL OPTIONS] IMAGE [COMMAND [ARG...]]   (run --rm -i, -t on a tty)\n"
          "\nRootless containers: no daemon, no root, no setuid binary of rrun's own.\n"
          "\nCommands:\n");
  for (const RrunCommand *c = rrun_cli_commands (); c->name != NULL; c++)
    if (!c->hidden)
      printf ("  %-10s %s\n", c->name, c->summary);
  printf ("\nGlobal options:\n"
          "  --root DIR              image storage (default ~/.local/share/rrun/storage)\n"
          "  --runroot DIR           running state (default $XDG_RUNTIME_DIR/rrun)\n"
          "  --storage-driver NAME   overlay or fuse-overlayfs (default: detect)\n"
          "  --log-level LEVEL       error, warning, info or debug\n"
          "  -v, --verbose           same as --log-level=info\n"
          "  -q, --quiet             hide warnings\n"
          "  --version               print the version\n"
          "\nSee 'rrun COMMAND --help' for a command's options.\n");
  *out_status = 0;
  return TRUE;
}
