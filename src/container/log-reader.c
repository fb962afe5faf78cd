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
#include <sys/inotify.h>
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
  /* RFC 3339, or a date and time without a zone (UTC) */
  dt = g_date_time_new_from_iso8601 (text, NULL);
  if (dt == NULL)
    {
      g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();
      dt = g_date_time_new_from_iso8601 (text, utc);
    }
  if (dt == NULL && strlen (text) == 10)
    {
      g_autofree char *midnight = g_strconcat (text, "T00:00:00Z", NULL);
      dt = g_date_time_new_from_iso8601 (midnight, NULL);
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

static gboolean
read_more (int fd, GString *buf, gboolean *out_any, GError **error)
{
  char chunk[65536];
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
      *out_any = TRUE;
    }
  return TRUE;
}

gboolean
rrun_log_read (const char *path, const char *record_dir, const RrunLogReadOptions *o,
               GError **error)
{
  rrun_autofd int fd = open (path, O_RDONLY | O_CLOEXEC);
  rrun_autofd int ino = -1;
  g_autoptr(GString) buf = g_string_new (NULL);
  Reader r = { o, { { 0 } }, g_queue_new (), FALSE };
  gsize consumed = 0;
  gboolean any, ok = FALSE;

  if (fd < 0)
    {
      rrun_throw_errno (error, errno, "cannot open the log \"%s\"", path);
      goto out;
    }
  if (o->follow)
    {
      ino = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
      if (ino >= 0)
        inotify_add_watch (ino, path, IN_MODIFY);
    }
  if (!read_more (fd, buf, &any, error))
    goto out;
  feed_buffer (&r, buf, &consumed);
  flush_tail (&r);
  fflush (stdout);
  /* -f: until the container's exit is recorded (its lock let go) and the log drained:
     the monitor finishes writing before it lets go. */
  while (o->follow)
    {
      gboolean live = rrun_lock_dir_is_held (record_dir);
      struct pollfd p = { ino, POLLIN, 0 };

      if (!read_more (fd, buf, &any, error))
        goto out;
      feed_buffer (&r, buf, &consumed);
      fflush (stdout);
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
