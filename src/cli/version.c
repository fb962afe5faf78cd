#include "cli/cli.h"
#include "rrun-config.h"

#include <stdio.h>

gboolean
rrun_cmd_version (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  printf ("rrun version %s\n", RRUN_VERSION);
  *out_status = 0;
  return TRUE;
}
