/* rrun logs: a container's log (container/log-writer.h) back as its output. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  gboolean follow;     /* -f: go on until the container's exit is recorded */
  gboolean timestamps; /* -t: each line after its RFC 3339 time */
  gint64 tail;         /* --tail N: the last N lines only; -1: all */
  gint64 since_ns;     /* --since: lines at or after (unix ns); 0: no limit */
  gint64 until_ns;     /* --until: lines at or before; 0: no limit */
} RrunLogReadOptions;

/* Print the log at path: stdout records to stdout, stderr records to stderr. record_dir
   is the container's record, whose lock tells -f when the container has ended. */
gboolean rrun_log_read (const char *path, const char *record_dir, const RrunLogReadOptions *o,
                        GError **error);

/* docker's --since/--until: RFC 3339 ("2026-12-06T15:04:05Z", or without zone: UTC), a
   date, seconds since the epoch ("1733500000.5"), or a Go duration before now ("10m",
   "1h30m"). */
gboolean rrun_log_parse_time (const char *text, gint64 now_ns, gint64 *out_ns, GError **error);

G_END_DECLS
