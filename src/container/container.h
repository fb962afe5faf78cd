/* A container's verbs (docs/architecture.md, "Containers: spec, verbs, record"):
   create (record, writable layer, rootfs plan), start (namespaces, mounts, network,
   cgroup, exec of the command), wait (relay until it exits) and delete (undo everything).
   Foreground `rrun run` is the four in a row. */
#pragma once

#include <glib.h>

#include "config.h"
#include "container/spec.h"

G_BEGIN_DECLS

typedef struct _RrunContainer RrunContainer;

/* Resolve the id map, open the store, find (or pull) the image, make the record and the
   writable layer, and build the plan start carries out. spec must outlive the container;
   its derived net options move into it. */
gboolean rrun_container_create (const RrunConfig *config, RrunContainerSpec *spec,
                                RrunContainer **out_container, GError **error);

/* create for `rrun start` of the stopped container id: its record, writable layer and
   image (by ID) again, its lock taken (RRUN_ERROR_BUSY while it runs). */
gboolean rrun_container_create_again (const RrunConfig *config, RrunContainerSpec *spec,
                                      const char *id, RrunContainer **out_container,
                                      GError **error);

/* Start the command: namespaces, mounts, network helper, cgroup; write the record's
   state. Returns once the command runs (or its start failed). */
gboolean rrun_container_start (RrunContainer *container, GError **error);

/* Relay signals and the terminal until the command exits; its status in docker's terms. */
gboolean rrun_container_wait (RrunContainer *container, int *out_status, GError **error);

/* Undo everything: processes, mounts, the network helper, the cgroup, the run dir, and
   with --rm the record and its writable layer. Accepts NULL. */
void rrun_container_delete (RrunContainer *container);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunContainer, rrun_container_delete)

/* The container's full ID, and its writable layer (the overlay's upper directory):
   build commits it after the command ended, before delete. */
const char *rrun_container_id (RrunContainer *container);
const char *rrun_container_upper_dir (RrunContainer *container);

/* Remove the record and writable layer at delete, as --rm does, without --rm's emptying
   of the upper directory when the command ends (build reads it first). */
void rrun_container_remove_at_delete (RrunContainer *container);

/* `rrun create`: create, and a record that says "created" (kept: rrun start runs it);
   its full ID. */
gboolean rrun_container_create_stopped (const RrunConfig *config, RrunContainerSpec *spec,
                                        char **out_id, GError **error);

/* create + start + wait + delete: `rrun run` in the foreground. */
gboolean rrun_container_run (const RrunConfig *config, RrunContainerSpec *spec, int *out_status,
                             GError **error);

G_END_DECLS
