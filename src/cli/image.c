/* rrun image SUBCOMMAND: podman's image group. Each entry is the top-level command of the
   same job (image ls is rrun images), so options and output are the same. */
#include "cli/cli.h"

static const RrunCommand image_commands[] = {
  { "ls", rrun_cmd_images, "list images", FALSE },
  { "list", rrun_cmd_images, "list images (same as ls)", TRUE },
  { "rm", rrun_cmd_rmi, "remove images", FALSE },
  { "tag", rrun_cmd_tag, "add a name to an image", FALSE },
  { "pull", RRUN_IMAGE_COMMAND (rrun_cmd_pull), "pull an image from a registry", FALSE },
  { "push", RRUN_IMAGE_COMMAND (rrun_cmd_push), "push an image to a registry", FALSE },
  { "import", RRUN_IMAGE_COMMAND (rrun_cmd_import), "make an image from a root file system tarball",
    FALSE },
  { "inspect", rrun_cmd_image_inspect, "show an image's configuration as JSON", FALSE },
  { "history", rrun_cmd_history, "show the steps that made an image", FALSE },
  { "prune", rrun_cmd_image_prune, "remove unused images and layers", FALSE },
  { "load", RRUN_IMAGE_COMMAND (rrun_cmd_load), "load images from a docker-archive or OCI archive",
    FALSE },
  { "save", RRUN_IMAGE_COMMAND (rrun_cmd_save), "save images to a docker-archive or OCI archive",
    FALSE },
  { "export", rrun_cmd_image_export, "write an image as one squashfs file", FALSE },
  { NULL, NULL, NULL, FALSE },
};

gboolean
rrun_cmd_image (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return rrun_cli_run_group ("image", image_commands, "ls", g, argc, argv, out_status, error);
}
