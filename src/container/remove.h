/* Removing a container's record: rrun rm, rrun container prune. */
#pragma once

#include <glib.h>

#include "config.h"
#include "container/record.h"
#include "storage/store.h"
#include "userns/idmap.h"

G_BEGIN_DECLS

/* Remove the container (its record, writable layer, log and run dir). A running one is
   refused (RRUN_ERROR_BUSY) unless force, which kills it first and waits for its rrun or
   monitor to finish (bounded). With volumes (rm -v), its anonymous volumes that no other
   container uses go too; named volumes stay. */
gboolean rrun_container_remove (const RrunConfig *config, RrunStore *store,
                                const RrunIdMap *storage_map, const RrunState *state,
                                gboolean force, gboolean volumes, GError **error);

/* Take the record's lock exclusively, waiting up to timeout_ms for its holder to let go;
   RRUN_ERROR_BUSY naming the container after that. */
gboolean rrun_container_lock_record (const RrunConfig *config, const RrunState *state,
                                     int timeout_ms, int *out_fd, GError **error);

/* Send signo to a running container's PID 1 (checked against the record). */
gboolean rrun_container_signal (const RrunState *state, int signo, GError **error);

G_END_DECLS
