/* Levels and the stderr writer (docs/architecture.md, "Errors and messages"). Errors are printed once by main.c;
   this module is for warnings about fallbacks, info about decisions, and debug. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  RRUN_LOG_ERROR,
  RRUN_LOG_WARNING,
  RRUN_LOG_INFO,
  RRUN_LOG_DEBUG,
} RrunLogLevel;

void rrun_log_init (void);
void rrun_log_set_level (RrunLogLevel level);
RrunLogLevel rrun_log_get_level (void);
gboolean rrun_log_parse_level (const char *text, RrunLogLevel *out_level, GError **error);
/* The names --log-level takes, most severe first (NULL-terminated). */
const char *const *rrun_log_level_names (void);
/* The global option that gives another rrun process this level ("--quiet",
   "--log-level=info", "--log-level=debug"), or NULL for the default (warnings). */
const char *rrun_log_level_option (void);

/* "rrun: warning: ..." unless --quiet. */
void rrun_warning (const char *fmt, ...) G_GNUC_PRINTF (1, 2);
/* "rrun: ..." with -v. */
void rrun_info (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

/* With --log-level=debug: "rrun: debug: +12.3 ms (cpu 8.1 ms, 40 faults) <what>": wall
   time, and this process's CPU time and page faults, since logging started, to see where
   start-up time goes. */
void rrun_debug_phase (const char *what);

/* Print an error as the user sees it: "rrun: " + first line, then hint lines as they are. */
void rrun_log_print_error (const GError *error);

G_END_DECLS
