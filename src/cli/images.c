#include "cli/cli.h"
#include "error.h"

gboolean
rrun_cmd_images (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return rrun_throw (error, RRUN_ERROR_UNSUPPORTED, "images: not built yet");
}
