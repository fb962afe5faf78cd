#include "cli/cli.h"
#include "error.h"

gboolean
rrun_cmd_import (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return rrun_throw (error, RRUN_ERROR_UNSUPPORTED, "import: not built yet");
}
