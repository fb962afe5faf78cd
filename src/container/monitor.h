/* run -d and start: a container under its own monitor process (container/monitor.c). */
#pragma once

#include <glib.h>

#include "config.h"
#include "container/spec.h"

G_BEGIN_DECLS

/* Fork the monitor, which creates (or with existing_id, creates again from its record)
   and starts the container; returns once the command runs, with its full ID, or with
   the start error (exit status 125, 126 or 127 as for a foreground run). */
gboolean rrun_container_run_detached (const RrunConfig *config, RrunContainerSpec *spec,
                                      const char *existing_id, char **out_id,
                                      GError **error);

G_END_DECLS
