/* Reading a container's log (log-writer.h's format) for rrun logs. */
#include "container/log-reader.h"
#include "container/log-writer.h"
#include "error.h"
#include "storage/lock.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

gboolean
rrun_log_parse_time (const char *text, gint64 now_ns, gint64 *out_ns, GError **error)
{
  g_autoptr(GDateTime) dt = NULL;
  char *end;
  double secs;
  gint64 total = 0;
  const char *p = text;

  if (text == NULL || *text == '\0')
    goto bad;
  /* Seconds since the epoch, maybe with a fraction: "1733500000.5" */
  secs = g_ascii_strtod (text, &end);
  if (end != text && *end == '\0')
    {
      *out_ns = (gint64) (secs * 1e9);
      return TRUE;
    }
  /* A Go duration before now: "10m", "1h30m", "45s", "500ms" */
  while (*p)
    {
      double n = g_ascii_strtod (p, &end);
      gint64 unit;

      if (end == p)
        break;
      p = end;
      if (g_str_has_prefix (p, "ms"))
        unit = 1000000, p += 2;
      else if (*p == 'h')
        unit = G_GINT64_CONSTANT (3600000000000), p++;
      else if (*p == 'm')
        unit = G_GINT64_CONSTANT (60000000000), p++;
      else if (*p == 's')
        unit = 1000000000, p++;
      else
        break;
      total += (gint64) (n * (double) unit);
      if (*p == '\0')
        {
          *out_ns = now_ns - total;
          return TRUE;
        }
    }
  /* RFC 3339, or a date and time without a zone, or a date (its midnight): those two in
     the local time zone, as docker's client reads them */
  dt = g_date_time_new_from_iso8601 (text, NULL);
  if (dt == NULL)
    {
      g_autoptr(GTimeZone) local = g_time_zone_new_local ();
      g_autofree char *midnight = strlen (text) == 10 ? g_strconcat (text, "T00:00:00", NULL)
                                                      : NULL;

      dt = g_date_time_new_from_iso8601 (midnight ? midnight : text, local);
    }
  if (dt != NULL)
    {
      *out_ns = g_date_time_to_unix (dt) * G_GINT64_CONSTANT (1000000000)
                + (gint64) g_date_time_get_microsecond (dt) * 1000;
      return TRUE;
    }
bad:
  rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid time \"%s\"", text);
  rrun_add_hint (error, "give a time as 2026-12-06T15:04:05Z, 2026-12-06, seconds since the "
                        "epoch, or a duration before now such as 10m or 1h30m");
  return FALSE;
}

/* A whole line of output: its records' text joined, the first record's time. */
typedef struct
{
  gint64 time_ns;
  gboolean err;
  GString *text;
  gboolean complete;
} Line;

typedef struct
{
  const RrunLogReadOptions *o;
  Line open[2];     /* a line still receiving partial records, per stream */
  GQueue *tail;     /* complete lines held back for --tail */
  gboolean started; /* --tail's lines printed: from here on lines go out at once */
} Reader;

static void
emit (const RrunLogReadOptions *o, const Line *l)
{
  FILE *out = l->err ? stderr : stdout;

  if (o->since_ns && l->time_ns < o->since_ns)
    return;
  if (o->until_ns && l->time_ns > o->until_ns)
    return;
  if (o->timestamps)
    {
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (l->time_ns / 1000000000);
      g_autofree char *base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
      fprintf (out, "%s.%09" G_GINT64_FORMAT "Z ", base, l->time_ns % 1000000000);
    }
  fwrite (l->text->str, 1, l->text->len, out);
  if (out == stderr)
    fflush (stderr);
}

static void
line_done (Reader *r, int stream)
{
  Line *l = &r->open[stream];
  Line *copy;

  if (l->text == NULL)
    return;
  if (r->started || r->o->tail < 0)
    {
      emit (r->o, l);
      g_string_free (l->text, TRUE);
    }
  else
    {
      copy = g_new (Line, 1);
      *copy = *l;
      g_queue_push_tail (r->tail, copy);
      while ((gint64) g_queue_get_length (r->tail) > r->o->tail)
        {
          Line *old = g_queue_pop_head (r->tail);
          g_string_free (old->text, TRUE);
          g_free (old);
        }
    }
  l->text = NULL;
}

static void
feed_record (Reader *r, const char *record)
{
  gint64 t;
  gboolean err, partial;
  const char *text = rrun_log_parse_record (record, &t, &err, &partial);
  Line *l;

  if (text == NULL)
    return;
  l = &r->open[err ? 1 : 0];
  if (l->text == NULL)
    {
      l->text = g_string_new (NULL);
      l->time_ns = t;
      l->err = err;
    }
  g_string_append (l->text, text);
  if (!partial)
    {
      g_string_append_c (l->text, '\n');
      line_done (r, err ? 1 : 0);
    }
}

static void
flush_tail (Reader *r)
{
  Line *l;

  while ((l = g_queue_pop_head (r->tail)) != NULL)
    {
      emit (r->o, l);
      g_string_free (l->text, TRUE);
      g_free (l);
    }
  r->started = TRUE;
}

/* Feed every whole record of buf from *consumed on; *consumed moves past them. */
static void
feed_buffer (Reader *r, GString *buf, gsize *consumed)
{
  char *p = buf->str + *consumed, *nl;

  while ((nl = memchr (p, '\n', buf->len - (gsize) (p - buf->str))) != NULL)
    {
      *nl = '\0';
      feed_record (r, p);
      p = nl + 1;
    }
  *consumed = (gsize) (p - buf->str);
  /* Keep the unfinished record only. */
  g_string_erase (buf, 0, (gssize) *consumed);
  *consumed = 0;
}

/* Read fd to its end, feeding whole records as they come (a big log is never held whole). */
static gboolean
read_more (Reader *r, int fd, GString *buf, gsize *consumed, gboolean *out_any, GError **error)
{
  static char chunk[1 << 17];
  ssize_t n;

  *out_any = FALSE;
  while ((n = read (fd, chunk, sizeof chunk)) != 0)
    {
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return rrun_throw_errno (error, errno, "cannot read the log");
        }
      g_string_append_len (buf, chunk, n);
      feed_buffer (r, buf, consumed);
      *out_any = TRUE;
    }
  return TRUE;
}

static gboolean
same_file (const struct stat *a, const struct stat *b)
{
  return a->st_ino == b->st_ino && a->st_dev == b->st_dev;
}

/* The rotated files (log-writer.c's rotate) oldest first, then the live one, opened; a
   file seen twice (renamed while we looked, when there is no rotation lock) once. */
static GArray *
open_all (const char *path, int lock_fd)
{
  GArray *fds = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GArray) seen = g_array_new (FALSE, FALSE, sizeof (struct stat));
  guint n = 1;

  /* Shared, so that no rotation runs while the files are found and opened. */
  rrun_log_lock_op (lock_fd, LOCK_SH);
  /* How many there are: path.1, path.2, ... until one is missing. */
  for (;; n++)
    {
      g_autofree char *p = NULL;
      rrun_log_rotated_path (path, n, &p);
      if (!g_file_test (p, G_FILE_TEST_EXISTS))
        break;
    }
  for (guint i = n; i-- > 0;)
    {
      g_autofree char *p = NULL;
      struct stat st;
      int fd;
      gboolean dup = FALSE;

      rrun_log_rotated_path (path, i, &p);
      fd = open (p, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        continue;
      fstat (fd, &st);
      for (guint k = 0; k < seen->len; k++)
        dup = dup || same_file (&st, &g_array_index (seen, struct stat, k));
      if (dup)
        {
          close (fd);
          continue;
        }
      g_array_append_val (seen, st);
      g_array_append_val (fds, fd);
    }
  rrun_log_lock_op (lock_fd, LOCK_UN);
  return fds;
}

/* -f and rotation: -1 while fd is still the live file; else the file that followed it (the
   live one, or a rotated one when the writer rotated again meanwhile), opened. A file that
   was rotated away entirely (max-file reached) is skipped: it is gone. */
static int
open_successor_unlocked (int fd, const char *path)
{
  struct stat mine, st;

  if (fstat (fd, &mine) < 0)
    return -1;
  for (int attempt = 0; attempt < 10; attempt++)
    {
      guint found = 0, oldest = 0;
      g_autofree char *next = NULL, *again = NULL;
      int nfd;

      if (stat (path, &st) < 0 || same_file (&st, &mine))
        return -1;
      for (guint k = 1;; k++)
        {
          g_autofree char *p = NULL;
          rrun_log_rotated_path (path, k, &p);
          if (stat (p, &st) < 0)
            break;
          oldest = k;
          if (same_file (&st, &mine))
            {
              found = k;
              break;
            }
        }
      /* Not among the kept files: the oldest kept one follows it (or the live one). */
      rrun_log_rotated_path (path, found ? found - 1 : oldest, &next);
      nfd = open (next, O_RDONLY | O_CLOEXEC);
      if (nfd < 0)
        continue;
      /* Nothing rotated while we looked: fd's file is still where we found it. */
      if (found)
        rrun_log_rotated_path (path, found, &again);
      if (found == 0 || (stat (again, &st) == 0 && same_file (&st, &mine)))
        return nfd;
      close (nfd);
    }
  return -1;
}

static int
open_successor (int fd, const char *path, int lock_fd)
{
  int next;

  rrun_log_lock_op (lock_fd, LOCK_SH);
  next = open_successor_unlocked (fd, path);
  rrun_log_lock_op (lock_fd, LOCK_UN);
  return next;
}

gboolean
rrun_log_read (const char *path, const char *record_dir, const RrunLogReadOptions *o,
               GError **error)
{
  g_autofree char *lock_path = rrun_log_lock_path (path);
  rrun_autofd int lock_fd = open (lock_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  g_autoptr(GArray) fds = open_all (path, lock_fd);
  rrun_autofd int fd = -1;
  rrun_autofd int ino = -1;
  g_autoptr(GString) buf = g_string_new (NULL);
  Reader r = { o, { { 0 } }, g_queue_new (), FALSE };
  gsize consumed = 0;
  gboolean any, ok = FALSE;

  if (fds->len == 0)
    {
      rrun_throw_errno (error, errno, "cannot open the log \"%s\"", path);
      goto out;
    }
  if (o->follow)
    {
      /* The directory: the live file is replaced on rotation. */
      ino = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
      if (ino >= 0)
        {
          g_autofree char *dir = g_path_get_dirname (path);
          inotify_add_watch (ino, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO);
        }
    }
  for (guint i = 0; i < fds->len; i++)
    {
      rrun_close_fdp (&fd);
      fd = g_array_index (fds, int, i);
      g_array_index (fds, int, i) = -1;
      if (!read_more (&r, fd, buf, &consumed, &any, error))
        goto out;
    }
  flush_tail (&r);
  fflush (stdout);
  /* -f: until the container's exit is recorded (its lock let go) and the log drained:
     the monitor finishes writing before it lets go. */
  while (o->follow)
    {
      gboolean live = rrun_lock_dir_is_held (record_dir);
      struct pollfd p = { ino, POLLIN, 0 };
      int next;

      if (!read_more (&r, fd, buf, &consumed, &any, error))
        goto out;
      fflush (stdout);
      /* Rotated: the old file is complete (the writer renames between records); go on
         with the one after it. */
      if ((next = open_successor (fd, path, lock_fd)) >= 0)
        {
          if (!read_more (&r, fd, buf, &consumed, &any, error))
            {
              close (next);
              goto out;
            }
          rrun_close_fdp (&fd);
          fd = next;
          continue;
        }
      if (!live)
        break;
      if (!any)
        {
          /* A wake-up on each write, and at least every 200 ms to see the exit. */
          if (poll (&p, ino >= 0 ? 1 : 0, 200) > 0)
            {
              char evbuf[4096];
              while (read (ino, evbuf, sizeof evbuf) > 0)
                ;
            }
        }
    }
  /* A partial line at the end is output as it is. */
  for (int i = 0; i < 2; i++)
    line_done (&r, i);
  flush_tail (&r);
  fflush (stdout);
  ok = TRUE;
out:
  for (guint i = 0; i < fds->len; i++)
    if (g_array_index (fds, int, i) >= 0)
      close (g_array_index (fds, int, i));
  for (int i = 0; i < 2; i++)
    if (r.open[i].text)
      g_string_free (r.open[i].text, TRUE);
  while (!g_queue_is_empty (r.tail))
    {
      Line *l = g_queue_pop_head (r.tail);
      g_string_free (l->text, TRUE);
      g_free (l);
    }
  g_queue_free (r.tail);
  return ok;
}
