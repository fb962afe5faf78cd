#include "container/log-writer.h"
#include "error.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/eventfd.h>
#include <time.h>
#include <sys/file.h>
#include <unistd.h>

struct _RrunLogWriter
{
  int fds[2];   /* stdout, stderr read ends; -1 once at EOF */
  int stop_fd;  /* eventfd: finish asks the thread to drain and end */
  int log_fd;
  int lock_fd; /* rrun_log_lock_path's file, held exclusively while rotating; or -1 */
  GThread *thread;
  char *path;
  guint64 size;      /* bytes in the live file */
  guint64 max_size;  /* rotate once the live file reaches it; 0: never */
  guint max_file;    /* files kept, the live one included */
  RrunLogTap tap;    /* attached clients (container/attach.h), or NULL */
  gpointer tap_data;
};

gboolean
rrun_log_rotated_path (const char *path, guint n, char **out_path)
{
  *out_path = n == 0 ? g_strdup (path) : g_strdup_printf ("%s.%u", path, n);
  return TRUE;
}

char *
rrun_log_lock_path (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *name = g_strdup_printf (".%s.lock", base);

  return g_build_filename (dir, name, NULL);
}

void
rrun_log_lock_op (int lock_fd, int op)
{
  if (lock_fd >= 0)
    while (flock (lock_fd, op) < 0 && errno == EINTR)
      ;
}

/* Rotation by rename, as conmon and docker's json-file do it, never by truncation: a
   reader holding the live file keeps every byte of it. path.N-1 → path.N, ..., path →
   path.1, then a new path; what falls past max-file is removed. Runs between whole
   records, in the writer's thread, so a reader that sees path renamed knows the old file
   is complete. */
static void
rotate_files (RrunLogWriter *w)
{
  int fd;

  /* path.(max_file - 2) → path.(max_file - 1) replaces the oldest kept file. */
  for (guint i = w->max_file - 1; i >= 1; i--)
    {
      g_autofree char *from = NULL, *to = NULL;

      rrun_log_rotated_path (w->path, i - 1, &from);
      rrun_log_rotated_path (w->path, i, &to);
      if (rename (from, to) < 0 && errno != ENOENT)
        return; /* keep writing the live file */
    }
  /* One file kept: the live one goes (a reader holding it still reads it to its end). */
  if (w->max_file == 1 && unlink (w->path) < 0)
    return;
  fd = open (w->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return;
  rrun_close_fdp (&w->log_fd);
  w->log_fd = fd;
  w->size = 0;
}

/* One rename after another leaves gaps and files out of place for a moment: a reader
   (log-reader.c) takes the lock shared while it looks, so it never sees them. */
static void
rotate (RrunLogWriter *w)
{
  rrun_log_lock_op (w->lock_fd, LOCK_EX);
  rotate_files (w);
  rrun_log_lock_op (w->lock_fd, LOCK_UN);
}

/* "2026-12-06T15:46:12.123456789Z" */
static void
format_time (char *buf, gsize size)
{
  struct timespec ts;
  struct tm tm;
  gsize n;

  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  n = strftime (buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (buf + n, size - n, ".%09ldZ", ts.tv_nsec);
}

/* One read's worth: a record per line, the rest as a partial record. One write, so
   that the two streams' records never interleave within a line. */
static void
write_records (RrunLogWriter *w, GString *out, const char *stream, const char *data, gsize len)
{
  char prefix[96];
  gsize plen;
  const char *p = data, *end = data + len;

  format_time (prefix, sizeof prefix);
  plen = strlen (prefix);
  plen += (gsize) g_snprintf (prefix + plen, sizeof prefix - plen, " %s F ", stream);
  g_string_truncate (out, 0);
  while (p < end)
    {
      const char *nl = memchr (p, '\n', (gsize) (end - p));
      gsize n = nl ? (gsize) (nl - p) : (gsize) (end - p);

      prefix[plen - 2] = nl ? 'F' : 'P';
      g_string_append_len (out, prefix, (gssize) plen);
      g_string_append_len (out, p, (gssize) n);
      g_string_append_c (out, '\n');
      p += n + (nl ? 1 : 0);
      /* Rotation between whole lines only (never after a P record), so the files kept
         hold whole lines, and each file ends near max-size whatever one read brought. */
      if (w->max_size > 0 && nl != NULL && w->size + out->len >= w->max_size)
        {
          rrun_fd_write_all (w->log_fd, out->str, out->len, NULL);
          w->size += out->len;
          g_string_truncate (out, 0);
          rotate (w);
        }
    }
  rrun_fd_write_all (w->log_fd, out->str, out->len, NULL);
  w->size += out->len;
}

/* Read once from stream i; FALSE at EOF (or when nothing is there and !block). */
static gboolean
pump (RrunLogWriter *w, GString *out, int i)
{
  static const char *const names[] = { "stdout", "stderr" };
  static __thread char buf[1 << 17];
  ssize_t n = read (w->fds[i], buf, sizeof buf);

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return errno == EINTR;
  if (n <= 0)
    {
      rrun_close_fdp (&w->fds[i]);
      return FALSE;
    }
  if (w->log_fd >= 0)
    write_records (w, out, names[i], buf, (gsize) n);
  if (w->tap != NULL)
    w->tap (w->tap_data, i == 1, buf, (gsize) n);
  return TRUE;
}

static gpointer
writer_thread (gpointer data)
{
  RrunLogWriter *w = data;
  g_autoptr(GString) out = g_string_sized_new (1 << 18);

  while (w->fds[0] >= 0 || w->fds[1] >= 0)
    {
      struct pollfd p[3] = {
        { w->fds[0], POLLIN, 0 },
        { w->fds[1], POLLIN, 0 },
        { w->stop_fd, POLLIN, 0 },
      };

      if (poll (p, 3, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      for (int i = 0; i < 2; i++)
        if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
          pump (w, out, i);
      if (p[2].revents & POLLIN)
        {
          /* The container is gone: what is in the pipes is all there will be (a
             process outside it, such as fuse-overlayfs, may still hold a write end). */
          for (int i = 0; i < 2; i++)
            if (w->fds[i] >= 0)
              {
                fcntl (w->fds[i], F_SETFL, fcntl (w->fds[i], F_GETFL) | O_NONBLOCK);
                while (w->fds[i] >= 0 && pump (w, out, i))
                  ;
              }
          break;
        }
    }
  return NULL;
}

gboolean
rrun_log_writer_start (const char *path, int out_fd, int err_fd, guint64 max_size,
                       guint max_file, RrunLogWriter **out_writer, GError **error)
{
  return rrun_log_writer_start_tapped (path, out_fd, err_fd, max_size, max_file, NULL, NULL,
                                       out_writer, error);
}

gboolean
rrun_log_writer_start_tapped (const char *path, int out_fd, int err_fd, guint64 max_size,
                              guint max_file, RrunLogTap tap, gpointer tap_data,
                              RrunLogWriter **out_writer, GError **error)
{
  RrunLogWriter *w = g_new0 (RrunLogWriter, 1);
  sigset_t all, old;
  struct stat st;

  w->lock_fd = -1;
  w->fds[0] = out_fd;
  w->fds[1] = err_fd;
  w->tap = tap;
  w->tap_data = tap_data;
  w->stop_fd = eventfd (0, EFD_CLOEXEC);
  w->log_fd = path == NULL ? -1
                           : open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
                                   0600);
  if (w->stop_fd < 0 || (path != NULL && w->log_fd < 0))
    {
      int errsv = errno;
      rrun_log_writer_finish (w);
      return rrun_throw_errno (error, errsv, "cannot open the log \"%s\"", path);
    }
  if (path != NULL && max_size > 0)
    {
      g_autofree char *lock = rrun_log_lock_path (path);

      /* Without it rotation goes on; readers may then miss a file while it runs. */
      w->lock_fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    }
  w->path = g_strdup (path);
  w->max_size = max_size;
  w->max_file = MAX (max_file, 1);
  if (w->log_fd >= 0 && fstat (w->log_fd, &st) == 0)
    w->size = (guint64) st.st_size;
  if (w->log_fd >= 0 && w->max_size > 0 && w->size >= w->max_size)
    rotate (w);
  /* Every signal blocked in the thread (it inherits the mask): the monitor reads
     SIGCHLD and the signals it forwards from a signalfd, and a process-directed signal
     delivered to this thread instead would be lost to it. */
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  w->thread = g_thread_new ("log-writer", writer_thread, w);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  *out_writer = w;
  return TRUE;
}

void
rrun_log_writer_finish (RrunLogWriter *w)
{
  if (w == NULL)
    return;
  if (w->thread != NULL)
    {
      guint64 one = 1;
      (void) !write (w->stop_fd, &one, sizeof one);
      g_thread_join (w->thread);
    }
  rrun_close_fdp (&w->fds[0]);
  rrun_close_fdp (&w->fds[1]);
  rrun_close_fdp (&w->stop_fd);
  rrun_close_fdp (&w->log_fd);
  rrun_close_fdp (&w->lock_fd);
  g_free (w->path);
  g_free (w);
}

const char *
rrun_log_parse_record (const char *line, gint64 *out_time_ns, gboolean *out_stderr,
                       gboolean *out_partial)
{
  const char *sp1 = strchr (line, ' ');
  const char *sp2, *sp3;
  g_autofree char *ts = NULL;
  g_autoptr(GDateTime) dt = NULL;
  const char *frac;
  gint64 ns = 0;

  if (sp1 == NULL || (sp2 = strchr (sp1 + 1, ' ')) == NULL
      || (sp3 = strchr (sp2 + 1, ' ')) == NULL || sp3 != sp2 + 2)
    return NULL;
  ts = g_strndup (line, (gsize) (sp1 - line));
  dt = g_date_time_new_from_iso8601 (ts, NULL);
  if (dt == NULL)
    return NULL;
  /* GDateTime keeps microseconds: the nanoseconds from the text. */
  frac = strchr (ts, '.');
  if (frac != NULL)
    {
      int digits = 0;
      for (const char *p = frac + 1; g_ascii_isdigit (*p) && digits < 9; p++, digits++)
        ns = ns * 10 + (*p - '0');
      for (; digits < 9; digits++)
        ns *= 10;
    }
  *out_time_ns = g_date_time_to_unix (dt) * G_GINT64_CONSTANT (1000000000) + ns;
  *out_stderr = strncmp (sp1 + 1, "stderr ", 7) == 0;
  *out_partial = sp2[1] == 'P';
  return sp3 + 1;
}
