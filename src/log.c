#include "log.h"
#include "error.h"
#include "util/text-file.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static RrunLogLevel current_level = RRUN_LOG_WARNING;
static gint64 start_time;
static struct rusage start_usage;

static GLogWriterOutput
write_debug (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  const char *domain = "rrun";
  const char *message = "";

  if ((level & G_LOG_LEVEL_DEBUG) && current_level < RRUN_LOG_DEBUG)
    return G_LOG_WRITER_HANDLED;
  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
        domain = fields[i].value;
      else if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
        message = fields[i].value;
    }
  if (level & G_LOG_LEVEL_DEBUG)
    fprintf (stderr, "%s: debug: %s\n", domain, message);
  else
    /* g_warning/g_critical are programming errors: keep GLib's default behaviour. */
    return g_log_writer_standard_streams (level, fields, n_fields, data);
  return G_LOG_WRITER_HANDLED;
}

void
rrun_log_init (void)
{
  const char *env = g_getenv ("RRUN_LOG");

  start_time = g_get_monotonic_time ();
  if (env != NULL)
    rrun_log_parse_level (env, &current_level, NULL);
  if (current_level >= RRUN_LOG_DEBUG)
    getrusage (RUSAGE_SELF, &start_usage);
  g_log_set_writer_func (write_debug, NULL, NULL);
}

void
rrun_log_set_level (RrunLogLevel level)
{
  current_level = level;
}

RrunLogLevel
rrun_log_get_level (void)
{
  return current_level;
}

static const char *const level_names[] = { "error", "warning", "info", "debug", NULL };

const char *const *
rrun_log_level_names (void)
{
  return level_names;
}

gboolean
rrun_log_parse_level (const char *text, RrunLogLevel *out_level, GError **error)
{
  const char *const *names = level_names;

  for (guint i = 0; names[i]; i++)
    if (g_ascii_strcasecmp (text, names[i]) == 0)
      {
        *out_level = (RrunLogLevel) i;
        return TRUE;
      }
  return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                     "invalid log level \"%s\": expected error, warning, info or debug", text);
}

static void
print_leveled (RrunLogLevel level, const char *prefix, const char *fmt, va_list ap)
{
  g_autofree char *text = NULL;

  if (current_level < level)
    return;
  text = g_strdup_vprintf (fmt, ap);
  {
    /* No control character of a file's content or a name reaches the terminal. */
    g_autofree char *shown = rrun_text_escape_lines (text);

    fprintf (stderr, "rrun: %s%s\n", prefix, shown);
  }
}

void
rrun_warning (const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  print_leveled (RRUN_LOG_WARNING, "warning: ", fmt, ap);
  va_end (ap);
}

void
rrun_info (const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  print_leveled (RRUN_LOG_INFO, "", fmt, ap);
  va_end (ap);
}

void
rrun_log_print_error (const GError *error)
{
  g_autofree char *shown = NULL;
  const char *msg, *nl;

  /* The image tool printed it to the same stderr. */
  if (g_error_matches (error, RRUN_ERROR, RRUN_ERROR_REPORTED))
    return;
  /* No control character of a file's content or a name reaches the terminal. */
  msg = shown = rrun_text_escape_lines (error->message);
  nl = strchr (msg, '\n');
  /* The first line is the error; the lines after it are hints, printed as they are. */
  if (nl == NULL)
    fprintf (stderr, "rrun: %s\n", msg);
  else
    fprintf (stderr, "rrun: %.*s\n%s\n", (int) (nl - msg), msg, nl + 1);
  fflush (stderr);
}

const char *
rrun_log_level_option (void)
{
  switch (current_level)
    {
    case RRUN_LOG_ERROR: return "--quiet";
    case RRUN_LOG_INFO: return "--log-level=info";
    case RRUN_LOG_DEBUG: return "--log-level=debug";
    default: return NULL;
    }
}

static double
cpu_ms (const struct rusage *ru)
{
  return (ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000.0
         + (ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1000.0;
}

/* Wall time, and this process's CPU time and page faults, since rrun_log_init: on a small
   VM start-up is CPU-bound and a page fault costs ~25 us, so both say where time goes. */
void
rrun_debug_phase (const char *what)
{
  struct rusage ru;

  if (current_level < RRUN_LOG_DEBUG)
    return;
  getrusage (RUSAGE_SELF, &ru);
  fprintf (stderr, "rrun: debug: +%.1f ms (cpu %.1f ms, %ld faults) %s\n",
           (double) (g_get_monotonic_time () - start_time) / 1000.0,
           cpu_ms (&ru) - cpu_ms (&start_usage), ru.ru_minflt - start_usage.ru_minflt, what);
}
