/* rrun pause / unpause: the cgroup v2 freezer of a container's own cgroup. */
#pragma once

#include <glib.h>

#include "container/record.h"

G_BEGIN_DECLS

/* Freeze (or thaw) every process of a running container and wait (bounded) until the
   kernel says it is done. A container without a cgroup of its own is
   RRUN_ERROR_UNSUPPORTED with the fix. */
gboolean rrun_container_freeze (const RrunState *state, gboolean freeze, GError **error);

/* Whether the container's cgroup is frozen (FALSE without one). */
gboolean rrun_container_is_frozen (const char *cgroup);

G_END_DECLS
