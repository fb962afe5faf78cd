#include "cli/cli.h"
#include "error.h"

gboolean
rrun_cmd_run (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return rrun_throw (error, RRUN_ERROR_UNSUPPORTED, "run: not built yet");
}
