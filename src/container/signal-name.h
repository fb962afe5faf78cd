/* Signal names as docker takes them (--stop-signal, kill -s, STOPSIGNAL): "SIGTERM",
   "TERM", "term" or "15". */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* RRUN_ERROR_INVALID_ARGUMENT naming text when it is no signal. */
gboolean rrun_signal_parse (const char *text, int *out_signo, GError **error);

G_END_DECLS
