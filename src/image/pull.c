/* rrun_pull_image: resolve, verify the config, stream the missing layers into the store.

   Each missing layer gets a pipe: a download worker (at most max_parallel at once) writes
   the blob into it from the registry's sink while an extractor thread runs
   rrun_store_add_layer on the read end, so download and extraction overlap. The extractor
   only sees end-of-file once the download finished and its digest checked out; on any
   failure the write end is closed early, and add_layer's check of the diff_id from the
   (verified) config refuses what arrived. A layer added by a pull that fails later is
   removed again. Staging lives in the store's tmp/, so a SIGKILL leaves only garbage
   there. */
#include "image/pull.h"

#include "error.h"
#include "log.h"
#include "registry/registries-conf.h"
#include "registry/resolve.h"
#include "storage/image.h"
#include "transport/archive.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* Image configs are small; refuse absurd ones before fetching them. */
#define CONFIG_MAX_SIZE (32 * 1024 * 1024)

typedef struct Pull Pull;

typedef struct
{
  Pull *pull;
  guint index; /* in the manifest's layers */
  const RrunDescriptor *desc;
  const char *parent_chain; /* NULL for the bottom layer */
  const char *diff_id;      /* from the config */
  int write_fd;
  int blob_fd;     /* the blob as received, kept for save (DESIGN: blobs/) */
  char *blob_path; /* its file in the pull's staging directory */
  gboolean blob_only;    /* the layer is there but its blob is not kept: download only */
  gboolean write_failed; /* the pipe refused bytes: the extractor's error tells why */
  gboolean extract_ok;
  gboolean created;
  gboolean cancelled; /* skipped or stopped because another layer failed */
  char *chain;
  GError *extract_error;
  GError *error; /* the layer's outcome */
} LayerJob;

struct Pull
{
  RrunStore *store;
  const RrunIdMap *map;
  RrunRemoteImage *img;
  const char *what;
  const RrunPullImageOptions *opts;
  guint n_layers;
  LayerJob *jobs;
  guint n_jobs;
  RrunStoreTemp *temp; /* where the kept blobs wait for the image to be recorded */
  gint next_job;  /* atomic */
  gint cancelled; /* atomic */
};

static void
report (Pull *p, guint index, const char *digest, RrunPullLayerState state, guint64 done,
        guint64 total)
{
  if (p->opts->progress)
    p->opts->progress (index, p->n_layers, digest, state, done, total, p->opts->progress_data);
}

/* ---- config -------------------------------------------------------------------------- */

static gboolean
collect (const guint8 *data, gsize len, gpointer user_data, GError **error)
{
  g_byte_array_append (user_data, data, (guint)len);
  return TRUE;
}

/* ---- layers -------------------------------------------------------------------------- */

typedef struct
{
  LayerJob *job;
  int read_fd;
} ExtractArgs;

static gpointer
extract_main (gpointer data)
{
  ExtractArgs *a = data;
  LayerJob *job = a->job;
  sigset_t pipe_set;

  sigemptyset (&pipe_set);
  sigaddset (&pipe_set, SIGPIPE);
  pthread_sigmask (SIG_UNBLOCK, &pipe_set, NULL);
  job->extract_ok
      = rrun_store_add_layer (job->pull->store, job->pull->map, a->read_fd, job->parent_chain,
                              job->diff_id, &job->chain, NULL, &job->created, &job->extract_error);
  close (a->read_fd);
  return NULL;
}

static gboolean
pipe_write (const guint8 *data, gsize len, gpointer user_data, GError **error)
{
  LayerJob *job = user_data;

  if (g_atomic_int_get (&job->pull->cancelled))
    {
      job->cancelled = TRUE;
      return rrun_throw (error, RRUN_ERROR_FAILED, "cancelled: another layer failed");
    }
  if (!job->blob_only && !rrun_fd_write_all (job->write_fd, data, len, error))
    {
      job->write_failed = TRUE;
      return FALSE;
    }
  if (!rrun_fd_write_all (job->blob_fd, data, len, error))
    {
      g_prefix_error (error, "cannot keep layer blob %s: ", job->desc->digest);
      return FALSE;
    }
  return TRUE;
}

static void
on_blob_progress (const RrunDescriptor *desc, guint64 done, guint64 total, gpointer user_data)
{
  LayerJob *job = user_data;

  report (job->pull, job->index, desc->digest, RRUN_PULL_LAYER_DOWNLOADING, done, total);
}

static void
run_layer (LayerJob *job)
{
  Pull *p = job->pull;
  g_autoptr (GError) fetch_error = NULL;
  ExtractArgs args = { job, -1 };
  int fds[2];
  GThread *thread;
  gboolean fetched;

  job->blob_path = g_strdup_printf ("%s/blob-%u", rrun_store_temp_dir (p->temp), job->index);
  job->blob_fd = open (job->blob_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (job->blob_fd < 0)
    {
      rrun_throw_errno (&job->error, errno, "cannot create \"%s\"", job->blob_path);
      return;
    }
  if (job->blob_only)
    {
      /* The store has the layer (another image's) but not this blob: fetch it for save,
         extract nothing. */
      fetched = rrun_registry_fetch_blob (p->img->client, p->img->repository,
                                                   job->desc, p->what, pipe_write,
                                                   on_blob_progress, job, &job->error);
      rrun_close_fdp (&job->blob_fd);
      if (fetched)
        {
          /* Not extracted, so check here that it is this layer (its diff ID). */
          rrun_autofd int fd = open (job->blob_path, O_RDONLY | O_CLOEXEC);
          g_autofree char *diff = NULL;

          if (fd < 0)
            rrun_throw_errno (&job->error, errno, "cannot open \"%s\"", job->blob_path);
          else if (rrun_archive_uncompressed_digest (fd, -1, &diff, NULL, &job->error)
                   && strcmp (diff, job->diff_id) != 0)
            rrun_throw (&job->error, RRUN_ERROR_CORRUPT,
                        "layer %s of %s does not match its diff ID %s: got %s",
                        job->desc->digest, p->what, job->diff_id, diff);
        }
      report (p, job->index, job->desc->digest,
              job->error ? RRUN_PULL_LAYER_FAILED : RRUN_PULL_LAYER_DONE,
              (guint64)job->desc->size, (guint64)job->desc->size);
      return;
    }
  if (pipe2 (fds, O_CLOEXEC) < 0)
    {
      rrun_throw_errno (&job->error, errno, "cannot create a pipe");
      rrun_close_fdp (&job->blob_fd);
      return;
    }
  args.read_fd = fds[0];
  job->write_fd = fds[1];
  /* A larger pipe lets the download run ahead of the extractor's bursts of small files
     (1 MiB is what an unprivileged process may ask for by default; less is fine). */
  (void)fcntl (fds[1], F_SETPIPE_SZ, 1 << 20);
  thread = g_thread_new ("rrun-extract", extract_main, &args);
  fetched = rrun_registry_fetch_blob (p->img->client, p->img->repository, job->desc, p->what,
                                      pipe_write, on_blob_progress, job, &fetch_error);
  /* End of file for the extractor only now, after the digest was checked. */
  close (job->write_fd);
  job->write_fd = -1;
  g_thread_join (thread);
  rrun_close_fdp (&job->blob_fd);

  if (fetched && job->extract_ok)
    {
      report (p, job->index, job->desc->digest, RRUN_PULL_LAYER_DONE, (guint64)job->desc->size,
              (guint64)job->desc->size);
      return;
    }
  if (job->extract_ok && job->created)
    {
      /* The extractor accepted what arrived, but the download did not verify. */
      g_autoptr (GError) local = NULL;
      if (!rrun_store_remove_layer (p->store, p->map, job->chain, &local))
        rrun_warning ("cannot remove layer %.12s: %s", job->chain, local->message);
      job->created = FALSE;
    }
  if (!fetched && !(job->write_failed && job->extract_error))
    job->error = g_steal_pointer (&fetch_error);
  else if (job->extract_error)
    {
      job->error = g_error_copy (job->extract_error);
      g_prefix_error (&job->error, "cannot extract layer %s of %s: ", job->desc->digest, p->what);
    }
  else
    job->error = g_steal_pointer (&fetch_error);
  report (p, job->index, job->desc->digest, RRUN_PULL_LAYER_FAILED, 0, (guint64)job->desc->size);
}

static gpointer
worker_main (gpointer data)
{
  Pull *p = data;
  sigset_t pipe_set;

  /* A write to a pipe whose extractor gave up is EPIPE, not a dead process. The signal
     stays pending on this thread and goes with it. */
  sigemptyset (&pipe_set);
  sigaddset (&pipe_set, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &pipe_set, NULL);
  for (;;)
    {
      guint i = (guint)g_atomic_int_add (&p->next_job, 1);
      if (i >= p->n_jobs)
        break;
      if (g_atomic_int_get (&p->cancelled))
        {
          p->jobs[i].cancelled = TRUE;
          rrun_throw (&p->jobs[i].error, RRUN_ERROR_FAILED, "cancelled: another layer failed");
          continue;
        }
      run_layer (&p->jobs[i]);
      if (p->jobs[i].error)
        g_atomic_int_set (&p->cancelled, 1);
    }
  return NULL;
}

static void
layer_job_clear (LayerJob *job)
{
  g_free (job->chain);
  g_free (job->blob_path);
  g_clear_error (&job->extract_error);
  g_clear_error (&job->error);
}

/* ---- the pull ------------------------------------------------------------------------ */

gboolean
rrun_pull_image (const RrunConfig *config, RrunStore *store, const RrunIdMap *map, const char *ref,
                 const RrunPullImageOptions *options, char **out_id, char **out_name,
                 GError **error)
{
  static const RrunPullImageOptions defaults = { TRUE, NULL, 3, NULL, NULL };
  const RrunPullImageOptions *opts = options ? options : &defaults;
  g_autoptr (RrunPlatform) platform = NULL;
  g_autoptr (RrunRemoteImage) img = NULL;
  g_autoptr (GByteArray) cfg = g_byte_array_new ();
  g_autoptr (GPtrArray) chains = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) threads = g_ptr_array_new ();
  g_autoptr (RrunStoreTemp) temp = NULL;
  g_autofree RrunStoreBlob *blobs = NULL;
  RrunStoreBlob manifest_blob = { 0 };
  RrunStoreImageSpec spec = { 0 };
  g_auto (GStrv) diff_ids = NULL;
  g_autofree char *what = NULL, *name = NULL, *id = NULL;
  const RrunDescriptor *cdesc;
  RrunPullOptions ropts = { opts->tls_verify, NULL };
  GPtrArray *layers;
  Pull p = { 0 };
  guint workers;
  gboolean ok = TRUE;

  if (opts->platform && !rrun_platform_parse (opts->platform, &platform, error))
    return FALSE;
  ropts.platform = platform;
  /* The store's registries.conf: the lookup that found no image used the same list. */
  if (!rrun_registry_resolve (rrun_store_registries (store), ref, &ropts, &img, error))
    return FALSE;
  what = rrun_reference_to_string (img->ref);
  layers = img->image->layers;

  /* The config: its digest is the image id; its diff_ids give the chain ids. */
  cdesc = img->image->config;
  if (cdesc->size > CONFIG_MAX_SIZE)
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "the config of %s is too large (%" G_GINT64_FORMAT " bytes)", what,
                       cdesc->size);
  if (!rrun_registry_fetch_blob (img->client, img->repository, cdesc, what, collect, NULL, cfg,
                                 error)
      || !rrun_image_config_diff_ids ((const char *)cfg->data, cfg->len, layers->len, what,
                                      &diff_ids, error))
    return FALSE;
  for (guint i = 0; i < layers->len; i++)
    g_ptr_array_add (chains, rrun_store_chain_id (i ? chains->pdata[i - 1] : NULL, diff_ids[i]));
  g_ptr_array_add (chains, NULL);

  if (!rrun_store_temp_new (store, map, &temp, error))
    return FALSE;
  p.temp = temp;
  p.store = store;
  p.map = map;
  p.img = img;
  p.what = what;
  p.opts = opts;
  p.n_layers = layers->len;
  p.jobs = g_new0 (LayerJob, layers->len);
  for (guint i = 0; i < layers->len; i++)
    {
      const RrunDescriptor *d = g_ptr_array_index (layers, i);
      gboolean blob_only = FALSE;

      if (rrun_store_has_layer (store, chains->pdata[i]))
        {
          if (rrun_store_has_blob (store, d->digest))
            {
              report (&p, i, d->digest, RRUN_PULL_LAYER_EXISTS, 0, (guint64)d->size);
              continue;
            }
          blob_only = TRUE;
        }
      p.jobs[p.n_jobs] = (LayerJob){ .pull = &p,
                                     .index = i,
                                     .desc = d,
                                     .write_fd = -1,
                                     .blob_fd = -1,
                                     .blob_only = blob_only,
                                     .parent_chain = i ? chains->pdata[i - 1] : NULL,
                                     .diff_id = diff_ids[i] };
      p.n_jobs++;
      report (&p, i, d->digest, RRUN_PULL_LAYER_WAITING, 0, (guint64)d->size);
    }

  workers = MIN (opts->max_parallel ? opts->max_parallel : 3, p.n_jobs);
  for (guint i = 0; i < workers; i++)
    g_ptr_array_add (threads, g_thread_new ("rrun-pull", worker_main, &p));
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (threads->pdata[i]);
  for (guint i = 0; i < p.n_jobs && ok; i++)
    if (p.jobs[i].error && !p.jobs[i].cancelled)
      {
        g_propagate_error (error, g_steal_pointer (&p.jobs[i].error));
        ok = FALSE;
      }
  for (guint i = 0; i < p.n_jobs && ok; i++)
    if (p.jobs[i].error)
      {
        g_propagate_error (error, g_steal_pointer (&p.jobs[i].error));
        ok = FALSE;
      }

  if (ok)
    {
      if (img->ref->tag)
        {
          g_autofree char *repo = rrun_reference_repository (img->ref);
          name = g_strdup_printf ("%s:%s", repo, img->ref->tag);
        }
      /* Every layer's blob as received, and the manifest, are kept for `save`: the
         downloaded ones from the staging files, the ones the store had already when
         another image kept the same blob. */
      blobs = g_new0 (RrunStoreBlob, layers->len);
      for (guint i = 0; i < layers->len; i++)
        {
          const RrunDescriptor *d = g_ptr_array_index (layers, i);
          blobs[i] = (RrunStoreBlob){ d->digest, d->media_type, d->size, NULL, NULL, 0 };
        }
      for (guint i = 0; i < p.n_jobs; i++)
        blobs[p.jobs[i].index].path = p.jobs[i].blob_path;
      manifest_blob = (RrunStoreBlob){ img->manifest_digest,
                                       img->image->media_type,
                                       (gint64)g_bytes_get_size (img->manifest),
                                       NULL,
                                       g_bytes_get_data (img->manifest, NULL),
                                       g_bytes_get_size (img->manifest) };
      spec = (RrunStoreImageSpec){ (const char *)cfg->data,
                                   cfg->len,
                                   (const char *const *)chains->pdata,
                                   name,
                                   rrun_remote_image_digest (img),
                                   blobs,
                                   &manifest_blob };
      ok = rrun_store_add_image_spec (store, &spec, &id, error);
    }
  if (!ok)
    for (guint i = 0; i < p.n_jobs; i++)
      if (p.jobs[i].created)
        {
          g_autoptr (GError) local = NULL;
          if (!rrun_store_remove_layer (store, map, p.jobs[i].chain, &local))
            rrun_warning ("cannot remove layer %.12s: %s", p.jobs[i].chain, local->message);
        }
  for (guint i = 0; i < p.n_jobs; i++)
    layer_job_clear (&p.jobs[i]);
  g_free (p.jobs);
  if (!ok)
    return FALSE;
  *out_id = g_steal_pointer (&id);
  if (out_name)
    *out_name = name ? g_steal_pointer (&name) : g_strdup (what);
  return TRUE;
}
