/* The options a detached container's monitor carries out (docs/architecture.md,
   "Containers: spec, verbs, record"): the restart policy and its back-off, the log driver
   and rotation, and the durations and sizes these flags take. Pure parsing and arithmetic,
   unit-tested; the monitor (monitor.c) applies them. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  RRUN_RESTART_NO,
  RRUN_RESTART_ON_FAILURE,
  RRUN_RESTART_ALWAYS,
  RRUN_RESTART_UNLESS_STOPPED,
} RrunRestartMode;

typedef struct
{
  RrunRestartMode mode;
  guint max_retries; /* on-failure:N; 0: no limit */
} RrunRestartPolicy;

/* docker's --restart: no, on-failure[:N], always, unless-stopped (NULL: no). */
gboolean rrun_restart_policy_parse (const char *text, RrunRestartPolicy *out_policy,
                                    GError **error);

/* "no", "on-failure", "always", "unless-stopped": docker's HostConfig.RestartPolicy.Name */
const char *rrun_restart_mode_name (RrunRestartMode mode);

/* Whether the monitor starts the container again after it exited with exit_code, having
   restarted it restart_count times already; manually_stopped: rrun stop or rm -f asked for
   the exit. */
gboolean rrun_restart_wanted (const RrunRestartPolicy *policy, int exit_code,
                              guint restart_count, gboolean manually_stopped);

/* docker's back-off: 100 ms before the first restart, doubling after each one, at most
   one minute; a run that lasted 10 s or more starts over at 100 ms. prev_ms is the last
   delay (0 before the first restart); returns the next one. */
#define RRUN_RESTART_FIRST_DELAY_MS 100
#define RRUN_RESTART_MAX_DELAY_MS 60000
#define RRUN_RESTART_RESET_AFTER_MS 10000
guint rrun_restart_next_delay (guint prev_ms, gint64 ran_ms);

/* The marker rrun stop and rm -f leave in the record so the monitor does not restart the
   container (docker's HasBeenManuallyStopped); start removes it. */
#define RRUN_STOPPED_MARKER "stopped"

typedef enum
{
  RRUN_LOG_DRIVER_K8S_FILE,    /* the default; json-file is taken as a name for it */
  RRUN_LOG_DRIVER_NONE,        /* output dropped; rrun logs has nothing to read */
  RRUN_LOG_DRIVER_PASSTHROUGH, /* foreground runs only: the container has rrun's stdio */
} RrunLogDriver;

typedef struct
{
  RrunLogDriver driver;
  guint64 max_size; /* bytes; 0: no rotation */
  guint max_file;   /* files kept, the live one included (1: only it, emptied by rename) */
} RrunLogOptions;

/* --log-driver and --log-opt max-size=SIZE, max-file=N; detach: the container runs under
   a monitor (passthrough needs a terminal or a caller to pass through to). */
gboolean rrun_log_options_parse (const char *driver, char *const *opts, gboolean detach,
                                 RrunLogOptions *out_options, GError **error);

/* A Go duration as docker takes it ("30s", "1m30s", "500ms", "1h"); nanoseconds. */
gboolean rrun_duration_parse (const char *text, gint64 *out_ns);

G_END_DECLS
