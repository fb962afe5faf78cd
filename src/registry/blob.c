#include "registry/blob.h"
#include "registry/reference.h"
#include "error.h"
#include "util/sha256.h"

#include <string.h>

typedef struct
{
  GByteArray *data;
} ManifestSink;

static gboolean
manifest_write (const guint8 *data, gsize len, gpointer user_data, GError **error)
{
  ManifestSink *s = user_data;

  if (s->data->len + len > RRUN_MANIFEST_MAX_SIZE)
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "the manifest is larger than the %d bytes rrun accepts",
                       RRUN_MANIFEST_MAX_SIZE);
  g_byte_array_append (s->data, data, len);
  return TRUE;
}

static char *
sha256_digest (const guint8 *data, gsize len)
{
  g_autofree char *hex = rrun_sha256_data_hex (data, len);
  return g_strconcat ("sha256:", hex, NULL);
}

gboolean
rrun_registry_fetch_manifest (RrunRegistryClient *client, const char *repository,
                              const char *reference, const char *what, GBytes **out_data,
                              char **out_media_type, char **out_digest, GError **error)
{
  g_autoptr(GByteArray) data = g_byte_array_new ();
  ManifestSink sink = { data };
  g_auto(RrunRegistryResponse) resp = { 0 };
  g_autofree char *subpath = g_strconcat ("manifests/", reference, NULL);
  g_autofree char *digest = NULL;

  if (!rrun_registry_client_get (client, repository, subpath, RRUN_MANIFEST_ACCEPT, what,
                                 manifest_write, &sink, &resp, error))
    return FALSE;
  digest = sha256_digest (data->data, data->len);
  if (g_str_has_prefix (reference, "sha256:") && strcmp (digest, reference) != 0)
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "cannot use manifest of \"%s\" from %s: its content has digest %s, not "
                       "the %s asked for",
                       what, rrun_registry_client_domain (client), digest, reference);
  *out_media_type = g_steal_pointer (&resp.content_type);
  *out_digest = g_steal_pointer (&digest);
  *out_data = g_byte_array_free_to_bytes (g_steal_pointer (&data));
  return TRUE;
}

typedef struct
{
  const RrunDescriptor *desc;
  RrunSha256 *checksum;
  guint64 done;
  RrunRegistryWriteFunc write;
  RrunBlobProgressFunc progress;
  gpointer user_data;
  const gint *cancel; /* set by fetch_blobs after another job failed */
} BlobSink;

static gboolean
blob_write (const guint8 *data, gsize len, gpointer user_data, GError **error)
{
  BlobSink *s = user_data;

  if (s->cancel && g_atomic_int_get (s->cancel))
    {
      g_set_error_literal (error, RRUN_ERROR, RRUN_ERROR_CANCELLED,
                           "cancelled after another download failed");
      return FALSE;
    }
  if (s->done + len > (guint64) s->desc->size)
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "blob %s is larger than the %" G_GINT64_FORMAT
                       " bytes its descriptor says",
                       s->desc->digest, s->desc->size);
  rrun_sha256_update (s->checksum, data, len);
  if (!s->write (data, len, s->user_data, error))
    return FALSE;
  s->done += len;
  if (s->progress)
    s->progress (s->desc, s->done, s->desc->size, s->user_data);
  return TRUE;
}

static gboolean
fetch_blob (RrunRegistryClient *client, const char *repository, const RrunDescriptor *desc,
            const char *what, RrunRegistryWriteFunc write, RrunBlobProgressFunc progress,
            gpointer user_data, const gint *cancel, GError **error)
{
  g_autoptr(RrunSha256) checksum = rrun_sha256_new ();
  BlobSink sink = { desc, checksum, 0, write, progress, user_data, cancel };
  g_autofree char *subpath = g_strconcat ("blobs/", desc->digest, NULL);
  g_autofree char *got = NULL;

  if (!rrun_digest_validate (desc->digest, "blob digest", error))
    return FALSE;
  if (!rrun_registry_client_get (client, repository, subpath, NULL, what, blob_write, &sink,
                                 NULL, error))
    {
      g_prefix_error (error, "%s: ", desc->digest);
      return FALSE;
    }
  got = g_strconcat ("sha256:", rrun_sha256_hex (checksum), NULL);
  if (sink.done != (guint64) desc->size)
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "cannot use blob %s of \"%s\": %" G_GUINT64_FORMAT
                       " bytes arrived, its descriptor says %" G_GINT64_FORMAT,
                       desc->digest, what, sink.done, desc->size);
  if (strcmp (got, desc->digest) != 0)
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "cannot use blob %s of \"%s\": its content does not match its digest "
                       "(got %s)",
                       desc->digest, what, got);
  return TRUE;
}

gboolean
rrun_registry_fetch_blob (RrunRegistryClient *client, const char *repository,
                          const RrunDescriptor *desc, const char *what,
                          RrunRegistryWriteFunc write, RrunBlobProgressFunc progress,
                          gpointer user_data, GError **error)
{
  return fetch_blob (client, repository, desc, what, write, progress, user_data, NULL, error);
}

typedef struct
{
  RrunRegistryClient *client;
  const char *repository;
  const char *what;
  RrunBlobProgressFunc progress;
  gint cancel;
  GMutex lock;
  GCond done_cond;
  guint done;
} Batch;

static void
run_job (gpointer data, gpointer user_data)
{
  RrunBlobJob *job = data;
  Batch *b = user_data;

  if (g_atomic_int_get (&b->cancel))
    g_set_error_literal (&job->error, RRUN_ERROR, RRUN_ERROR_CANCELLED,
                         "cancelled after another download failed");
  else if (!fetch_blob (b->client, b->repository, job->desc, b->what, job->write, b->progress,
                        job->user_data, &b->cancel, &job->error))
    g_atomic_int_set (&b->cancel, 1);
  g_mutex_lock (&b->lock);
  b->done++;
  g_cond_signal (&b->done_cond);
  g_mutex_unlock (&b->lock);
}

gboolean
rrun_registry_fetch_blobs (RrunRegistryClient *client, const char *repository,
                           const char *what, RrunBlobJob *jobs, guint n_jobs,
                           guint max_parallel, RrunBlobProgressFunc progress, GError **error)
{
  Batch b = { client, repository, what, progress, 0 };
  GThreadPool *pool;
  GError *local = NULL;

  if (n_jobs == 0)
    return TRUE;
  max_parallel = CLAMP (max_parallel, 1, 8);
  g_mutex_init (&b.lock);
  g_cond_init (&b.done_cond);
  /* Make sure the client pinged once before the threads start, so they do not queue on
     the ping lock and the first error is reported once. */
  if (!rrun_registry_client_ping (client, error))
    {
      g_mutex_clear (&b.lock);
      g_cond_clear (&b.done_cond);
      return FALSE;
    }
  pool = g_thread_pool_new (run_job, &b, (gint) MIN (max_parallel, n_jobs), FALSE, &local);
  if (pool == NULL)
    {
      g_mutex_clear (&b.lock);
      g_cond_clear (&b.done_cond);
      g_propagate_error (error, local);
      return FALSE;
    }
  for (guint i = 0; i < n_jobs; i++)
    {
      jobs[i].error = NULL;
      g_thread_pool_push (pool, &jobs[i], NULL);
    }
  g_mutex_lock (&b.lock);
  while (b.done < n_jobs)
    g_cond_wait (&b.done_cond, &b.lock);
  g_mutex_unlock (&b.lock);
  g_thread_pool_free (pool, FALSE, TRUE);
  g_mutex_clear (&b.lock);
  g_cond_clear (&b.done_cond);

  /* The first real failure (not a "cancelled" of a job stopped because of it). */
  for (guint pass = 0; pass < 2; pass++)
    for (guint i = 0; i < n_jobs; i++)
      if (jobs[i].error != NULL
          && (pass == 1 || !g_error_matches (jobs[i].error, RRUN_ERROR, RRUN_ERROR_CANCELLED)))
        {
          g_propagate_error (error, g_error_copy (jobs[i].error));
          return FALSE;
        }
  return TRUE;
}
