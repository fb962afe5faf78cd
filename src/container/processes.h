/* The processes of a running container, as the host sees them (rrun top). */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "container/record.h"

G_BEGIN_DECLS

typedef struct
{
  pid_t pid;      /* host PID */
  pid_t ppid;     /* host PID of the parent */
  uid_t uid;      /* host uid */
  char *command;  /* the command line, or [comm] for a process without one */
} RrunContainerProcessInfo;

/* Every process in the PID namespace of the container's PID 1 (checked against the
   record as rrun_pid1_open does), by PID: a GArray of RrunContainerProcessInfo, whose
   clear function frees the commands. */
gboolean rrun_container_list_processes (const RrunState *state, GArray **out_processes,
                                        GError **error);

G_END_DECLS
