/* The log of a detached container, written by its monitor: the k8s-file format that
   podman (conmon) and Kubernetes write, one record a line:

       2026-12-06T15:46:12.123456789Z stdout F text of a whole line

   RFC 3339 time with nanoseconds (UTC), the stream, F for a full line or P for part of
   one (output that did not end with a newline when it was read; the next records
   continue it), the text. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RRUN_LOG_FILE "ctr.log"

typedef struct _RrunLogWriter RrunLogWriter;

/* Start a thread copying what arrives on out_fd and err_fd (read ends of the container's
   stdout and stderr; taken) to the log at path (appended to). With max_size, the live file
   is rotated by rename once it reaches max_size: path.1 is the newest old file, and
   max_file files are kept in all. */
gboolean rrun_log_writer_start (const char *path, int out_fd, int err_fd, guint64 max_size,
                                guint max_file, RrunLogWriter **out_writer, GError **error);

/* Called in the writer's thread with each read's bytes (is_stderr: from err_fd). */
typedef void (*RrunLogTap) (gpointer user_data, gboolean is_stderr, const char *data,
                            gsize len);

/* As rrun_log_writer_start, and each read also goes to tap; path NULL: no log file
   (--log-driver none with clients to attach). */
gboolean rrun_log_writer_start_tapped (const char *path, int out_fd, int err_fd,
                                       guint64 max_size, guint max_file, RrunLogTap tap,
                                       gpointer tap_data, RrunLogWriter **out_writer,
                                       GError **error);

/* path for n == 0, else the rotated file path.n (n = 1 the newest). */
gboolean rrun_log_rotated_path (const char *path, guint n, char **out_path);
/* The file whose flock orders rotation and readers: the writer holds it exclusively while
   it renames (only when it rotates at all), a reader shared while it finds and opens the
   files; "DIR/.BASE.lock", which no pattern for the log files matches. */
char *rrun_log_lock_path (const char *path);
/* flock (lock_fd, op) on that file, again when interrupted; nothing for -1 (no lock file:
   a log without rotation, or one an older rrun wrote). Not rrun_lock_take: a wait of a
   few renames is not worth its "waiting for the lock" message. */
void rrun_log_lock_op (int lock_fd, int op);

/* Drain what the pipes hold without waiting for more (the container has exited), stop
   the thread, close everything. Accepts NULL. */
void rrun_log_writer_finish (RrunLogWriter *writer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunLogWriter, rrun_log_writer_finish)

/* One record's first three fields; returns the text after them, or NULL for a line that
   is no record. */
const char *rrun_log_parse_record (const char *line, gint64 *out_time_ns,
                                   gboolean *out_stderr, gboolean *out_partial);

G_END_DECLS
