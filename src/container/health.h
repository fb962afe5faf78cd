/* Health checks (docs/architecture.md, "Containers: spec, verbs, record"): the image's
   HEALTHCHECK or --health-*, run by the container's monitor on a timer through rrun exec,
   the state kept in the record's health.json in docker's State.Health shape. */
#pragma once

#include <glib.h>

#include "config.h"
#include "container/spec.h"
#include "storage/image.h"

G_BEGIN_DECLS

#define RRUN_HEALTH_FILE "health.json"
#define RRUN_HEALTH_LOG_ENTRIES 5    /* docker keeps the last five results */
#define RRUN_HEALTH_OUTPUT_MAX 4096  /* and the first 4 KiB of each one's output */

typedef struct
{
  char **test;            /* the command to exec in the container */
  gint64 interval_ns;     /* 30 s by default */
  gint64 timeout_ns;      /* 30 s */
  gint64 start_period_ns; /* 0 */
  guint retries;          /* 3 */
} RrunHealthConfig;

void rrun_health_config_free (RrunHealthConfig *hc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunHealthConfig, rrun_health_config_free)

/* Check the --health-* flags of a spec (RRUN_ERROR_INVALID_ARGUMENT naming the flag). */
gboolean rrun_health_check_flags (const RrunContainerSpec *spec, GError **error);

/* The health check a container runs: the flags over the image's HEALTHCHECK, docker's
   defaults for the rest; *out_config NULL when it has none (--no-healthcheck, NONE). */
gboolean rrun_health_config_resolve (const RrunContainerSpec *spec,
                                     const RrunImageConfig *image, RrunHealthConfig **out_config,
                                     GError **error);

typedef enum
{
  RRUN_HEALTH_STARTING,
  RRUN_HEALTH_HEALTHY,
  RRUN_HEALTH_UNHEALTHY,
} RrunHealthStatus;

/* "starting", "healthy", "unhealthy" */
const char *rrun_health_status_name (RrunHealthStatus status);

typedef struct
{
  gint64 start_ns, end_ns;
  int exit_code; /* -1: the check timed out or could not run */
  char *output;
} RrunHealthResult;

typedef struct
{
  RrunHealthStatus status;
  guint failing_streak;
  GPtrArray *log;       /* RrunHealthResult, oldest first, at most RRUN_HEALTH_LOG_ENTRIES */
  RrunHealthConfig *config;
  gint64 started_ns;    /* when this run of the container started (the start period's) */
} RrunHealth;

RrunHealth *rrun_health_new (RrunHealthConfig *config, gint64 started_ns); /* takes config */
void rrun_health_free (RrunHealth *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunHealth, rrun_health_free)

/* docker's rules: a success makes it healthy and ends a failing streak; a failure counts
   towards retries unless it falls in the start period while the container has never been
   healthy; retries failures in a row make it unhealthy. Takes output. */
void rrun_health_add_result (RrunHealth *h, gint64 start_ns, gint64 end_ns, int exit_code,
                             char *output);

/* health.json's text, and back. */
char *rrun_health_to_json (const RrunHealth *h);
gboolean rrun_health_from_json (const char *text, gsize len, RrunHealth **out_health,
                                GError **error);

/* The record's health.json: NULL (no error) when the container has no health check. */
gboolean rrun_health_read (const char *record_dir, RrunHealth **out_health, GError **error);
gboolean rrun_health_write (const char *record_dir, const RrunHealth *h, GError **error);

/* Adds one result to the record's health.json and gives the status it leaves. health.json
   is read, changed and written under a lock of its own (health.lock), as the monitor's
   timer and rrun healthcheck run may both record a result: the second waits for the
   first. Takes output. */
gboolean rrun_health_record_result (const char *record_dir, gint64 start_ns, gint64 end_ns,
                                    int exit_code, char *output, RrunHealthStatus *out_status,
                                    GError **error);

/* Run the check once in the running container id (rrun exec, killed at the timeout),
   record the result in health.json, and give the status it leaves. */
gboolean rrun_health_run_once (const RrunConfig *config, const char *id,
                               RrunHealthStatus *out_status, GError **error);

/* The monitor's timer: a thread that writes health.json ("starting") and runs the check
   every interval until stopped. */
typedef struct _RrunHealthChecker RrunHealthChecker;
RrunHealthChecker *rrun_health_checker_start (const RrunConfig *config, const char *id,
                                              RrunHealthConfig *config_taken,
                                              gint64 started_ns);
void rrun_health_checker_stop (RrunHealthChecker *checker);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunHealthChecker, rrun_health_checker_stop)

G_END_DECLS
