/* `rrun run` in the foreground: the four verbs in a row (docs/architecture.md,
   "Containers: spec, verbs, record"). */
#include "container/container-private.h"
#include "container/stop.h"
#include "log.h"

gboolean
rrun_container_run (const RrunConfig *config, RrunContainerSpec *spec, int *out_status,
                    GError **error)
{
  g_autoptr(RrunContainer) c = NULL;

  return rrun_container_start_requires (config, spec->requires, error)
         && rrun_container_create (config, spec, &c, error)
         && rrun_container_start (c, error)
         && rrun_container_wait (c, out_status, error);
}

gboolean
rrun_container_create_stopped (const RrunConfig *config, RrunContainerSpec *spec,
                               char **out_id, GError **error)
{
  g_autoptr(RrunContainer) c = NULL;

  spec->create_only = TRUE;
  if (!rrun_container_create (config, spec, &c, error))
    return FALSE;
  c->created_only = TRUE;
  if (!rrun_container_write_state (c, RRUN_STATUS_CREATED, error))
    return FALSE;
  *out_id = g_strdup (c->id);
  return TRUE; /* the cleanup lets the lock go; the record stays, kept */
}

const char *
rrun_container_id (RrunContainer *c)
{
  return c->id;
}

const char *
rrun_container_upper_dir (RrunContainer *c)
{
  return c->upper;
}

void
rrun_container_remove_at_delete (RrunContainer *c)
{
  c->remove_layer = TRUE;
}
