/* One line per layer, redrawn with cursor-up and erase-line, at most ten times a second
   (and at every change of state). */
#include "cli/pull-progress.h"

#include <stdio.h>
#include <unistd.h>

typedef struct
{
  char digest[13];
  RrunPullLayerState state;
  guint64 done, total;
  gint64 started; /* monotonic µs of the first byte */
  gboolean known;
} Line;

struct RrunPullProgress
{
  GMutex lock;
  Line *lines;
  guint n;
  guint drawn;
  gint64 last_draw;
};

RrunPullProgress *
rrun_pull_progress_new_for_stderr (void)
{
  RrunPullProgress *p;

  if (!isatty (STDERR_FILENO))
    return NULL;
  p = g_new0 (RrunPullProgress, 1);
  g_mutex_init (&p->lock);
  return p;
}

void
rrun_pull_progress_free (RrunPullProgress *p)
{
  if (p == NULL)
    return;
  g_mutex_clear (&p->lock);
  g_free (p->lines);
  g_free (p);
}

static void
draw_locked (RrunPullProgress *p)
{
  gint64 now = g_get_monotonic_time ();

  if (p->drawn > 0)
    fprintf (stderr, "\033[%uA", p->drawn);
  for (guint i = 0; i < p->n; i++)
    {
      Line *l = &p->lines[i];
      g_autofree char *done = g_format_size (l->done);
      g_autofree char *total = g_format_size (l->total);

      fputs ("\r\033[K", stderr);
      if (!l->known)
        fputs ("Layer ...\n", stderr);
      else if (l->state == RRUN_PULL_LAYER_EXISTS)
        fprintf (stderr, "Layer %s  already exists\n", l->digest);
      else if (l->state == RRUN_PULL_LAYER_WAITING)
        fprintf (stderr, "Layer %s  waiting  %s\n", l->digest, total);
      else if (l->state == RRUN_PULL_LAYER_DONE)
        fprintf (stderr, "Layer %s  done  %s\n", l->digest, total);
      else if (l->state == RRUN_PULL_LAYER_FAILED)
        fprintf (stderr, "Layer %s  failed\n", l->digest);
      else
        {
          double secs = l->started ? (double)(now - l->started) / 1e6 : 0;
          g_autofree char *rate = g_format_size (secs > 0.05 ? (guint64)(l->done / secs) : 0);
          fprintf (stderr, "Layer %s  %s / %s  %s/s\n", l->digest, done, total, rate);
        }
    }
  p->drawn = p->n;
  p->last_draw = now;
  fflush (stderr);
}

void
rrun_pull_progress_update (guint index, guint n_layers, const char *digest,
                           RrunPullLayerState state, guint64 done, guint64 total,
                           gpointer user_data)
{
  RrunPullProgress *p = user_data;
  gboolean changed;
  Line *l;

  g_mutex_lock (&p->lock);
  if (p->lines == NULL)
    {
      p->lines = g_new0 (Line, n_layers);
      p->n = n_layers;
    }
  if (index >= p->n)
    {
      g_mutex_unlock (&p->lock);
      return;
    }
  l = &p->lines[index];
  changed = !l->known || l->state != state;
  l->known = TRUE;
  g_strlcpy (l->digest, g_str_has_prefix (digest, "sha256:") ? digest + 7 : digest,
             sizeof l->digest);
  if (state == RRUN_PULL_LAYER_DOWNLOADING && l->started == 0)
    l->started = g_get_monotonic_time ();
  l->state = state;
  l->done = done;
  l->total = total;
  if (changed || g_get_monotonic_time () - p->last_draw >= 100000)
    draw_locked (p);
  g_mutex_unlock (&p->lock);
}

void
rrun_pull_progress_finish (RrunPullProgress *p)
{
  g_mutex_lock (&p->lock);
  if (p->n > 0)
    draw_locked (p);
  g_mutex_unlock (&p->lock);
}
