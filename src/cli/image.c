/* rrun image SUBCOMMAND: podman's image group. Each entry is the top-level command of the
   same job (image ls is rrun images), so options and output are the same. */
#include "cli/cli.h"
#include "error.h"

#include <stdio.h>
#include <string.h>

static const RrunCommand image_commands[] = {
  { "ls", rrun_cmd_images, "list images", FALSE },
  { "list", rrun_cmd_images, "list images (same as ls)", TRUE },
  { "rm", rrun_cmd_rmi, "remove images", FALSE },
  { "tag", rrun_cmd_tag, "add a name to an image", FALSE },
  { "pull", rrun_cmd_pull, "pull an image from a registry", FALSE },
  { "import", rrun_cmd_import, "make an image from a root file system tarball", FALSE },
  { "inspect", rrun_cmd_image_inspect, "show an image's configuration as JSON", FALSE },
  { "history", rrun_cmd_history, "show the steps that made an image", FALSE },
  { "prune", rrun_cmd_image_prune, "remove unused images and layers", FALSE },
  /* image load and image save (rrun load / rrun save) go here. */
  { NULL, NULL, NULL, FALSE },
};

static void
print_usage (void)
{
  printf ("Usage: rrun image SUBCOMMAND [OPTIONS] [ARGS...]\n\nSubcommands:\n");
  for (const RrunCommand *c = image_commands; c->name; c++)
    if (!c->hidden)
      printf ("  %-10s %s\n", c->name, c->summary);
  printf ("\nSee 'rrun image SUBCOMMAND --help' for a subcommand's options.\n");
}

gboolean
rrun_cmd_image (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  if (argc < 2)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "image: missing subcommand");
      rrun_add_hint (error, "for example: rrun image ls (see: rrun image --help)");
      return FALSE;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0
      || strcmp (argv[1], "help") == 0)
    {
      print_usage ();
      *out_status = 0;
      return TRUE;
    }
  for (const RrunCommand *c = image_commands; c->name; c++)
    if (strcmp (c->name, argv[1]) == 0)
      return c->func (g, argc - 1, argv + 1, out_status, error);
  rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "image: unknown subcommand \"%s\"", argv[1]);
  rrun_add_hint (error, "see: rrun image --help");
  return FALSE;
}
