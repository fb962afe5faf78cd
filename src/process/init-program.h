/* The --init program (helpers/init/rrun-init.c), embedded in rrun. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A memfd holding rrun-init, sealed so that nothing can change it (F_SEAL_WRITE, GROW,
   SHRINK, SEAL), close-on-exec: PID 1 execs it with execveat (AT_EMPTY_PATH). -1 on
   failure. */
int rrun_process_init_program_fd (GError **error);

G_END_DECLS
