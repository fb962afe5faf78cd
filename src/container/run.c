/* `rrun run` in the foreground: the four verbs in a row (docs/architecture.md,
   "Containers: spec, verbs, record"). */
#include "container/container.h"
#include "log.h"

gboolean
rrun_container_run (const RrunConfig *config, RrunContainerSpec *spec, int *out_status,
                    GError **error)
{
  g_autoptr(RrunContainer) c = NULL;

  return rrun_container_create (config, spec, &c, error)
         && rrun_container_start (c, error)
         && rrun_container_wait (c, out_status, error);
}
