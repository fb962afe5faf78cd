#include "registry/resolve.h"
#include "error.h"

#include <string.h>

#undef G_LOG_DOMAIN
#define G_LOG_DOMAIN "rrun-registry"

void
rrun_remote_image_free (RrunRemoteImage *image)
{
  if (image == NULL)
    return;
  rrun_reference_free (image->ref);
  g_free (image->endpoint_domain);
  g_free (image->repository);
  rrun_registry_client_free (image->client);
  if (image->manifest)
    g_bytes_unref (image->manifest);
  g_free (image->manifest_digest);
  rrun_manifest_free (image->image);
  if (image->index)
    g_bytes_unref (image->index);
  g_free (image->index_digest);
  g_free (image);
}

const char *
rrun_remote_image_digest (const RrunRemoteImage *image)
{
  return image->index_digest ? image->index_digest : image->manifest_digest;
}

/* Fetch ref's manifest from one endpoint; follow an index to the platform's manifest. */
static gboolean
resolve_at (const RrunRegistriesConf *conf, const RrunReference *ref,
            const RrunRegistryEndpoint *ep, const RrunPullOptions *options,
            RrunRemoteImage **out_image, GError **error)
{
  g_autoptr(RrunRemoteImage) img = g_new0 (RrunRemoteImage, 1);
  g_autofree char *what = rrun_reference_to_string (ref);
  g_autofree char *media_type = NULL;
  g_autoptr(GBytes) data = NULL;
  g_autofree char *digest = NULL;
  g_autoptr(RrunManifest) m = NULL;
  g_autoptr(RrunPlatform) host = NULL;
  RrunRegistryOptions ro = { 0 };
  gsize len;
  const char *bytes;

  ro.tls_verify = options->tls_verify;
  ro.insecure = ep->insecure || rrun_registries_conf_is_insecure (conf, ep->domain);
  img->client = rrun_registry_client_new (ep->domain, &ro);
  img->ref = rrun_reference_copy (ref);
  img->endpoint_domain = g_strdup (ep->domain);
  img->repository = g_strdup (ep->path);

  if (!rrun_registry_fetch_manifest (img->client, ep->path, rrun_reference_manifest_ref (ref),
                                     what, &data, &media_type, &digest, error))
    return FALSE;
  bytes = g_bytes_get_data (data, &len);
  if (!rrun_manifest_parse (bytes, len, media_type, what, &m, error))
    return FALSE;
  if (m->kind == RRUN_MANIFEST_KIND_INDEX)
    {
      const RrunPlatform *platform = options->platform;
      const RrunDescriptor *d;
      g_autofree char *child_type = NULL;
      g_autofree char *child_digest = NULL;
      g_autoptr(GBytes) child = NULL;

      if (platform == NULL)
        platform = host = rrun_platform_host ();
      if (!rrun_manifest_pick_platform (m, platform, what, &d, error))
        return FALSE;
      if (!rrun_registry_fetch_manifest (img->client, ep->path, d->digest, what, &child,
                                         &child_type, &child_digest, error))
        return FALSE;
      if ((gint64) g_bytes_get_size (child) != d->size)
        return rrun_throw (error, RRUN_ERROR_CORRUPT,
                           "cannot use manifest %s of \"%s\": %" G_GSIZE_FORMAT
                           " bytes, the index says %" G_GINT64_FORMAT,
                           d->digest, what, g_bytes_get_size (child), d->size);
      img->index = g_steal_pointer (&data);
      img->index_digest = g_steal_pointer (&digest);
      g_clear_pointer (&m, rrun_manifest_free);
      bytes = g_bytes_get_data (child, &len);
      if (!rrun_manifest_parse (bytes, len, child_type ? child_type : d->media_type, what, &m,
                                error))
        return FALSE;
      if (m->kind != RRUN_MANIFEST_KIND_IMAGE)
        return rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                           "cannot use image \"%s\": its index points at another index", what);
      data = g_steal_pointer (&child);
      digest = g_steal_pointer (&child_digest);
    }
  img->manifest = g_steal_pointer (&data);
  img->manifest_digest = g_steal_pointer (&digest);
  img->image = g_steal_pointer (&m);
  *out_image = g_steal_pointer (&img);
  return TRUE;
}

static gboolean
is_not_found (const GError *e)
{
  /* Docker Hub answers 401 for names that do not exist (the anonymous token has no
     scope for them), so "unauthorized" also sends us to the next candidate. */
  return g_error_matches (e, RRUN_ERROR, RRUN_ERROR_NOT_FOUND)
         || (g_error_matches (e, RRUN_ERROR, RRUN_ERROR_REGISTRY)
             && (strstr (e->message, "HTTP 401") || strstr (e->message, "HTTP 403")));
}

static gboolean
resolve_ref (const RrunRegistriesConf *conf, const RrunReference *ref,
             const RrunPullOptions *options, RrunRemoteImage **out_image, GError **error)
{
  g_autoptr(GPtrArray) eps = NULL;

  if (!rrun_registries_conf_endpoints (conf, ref, &eps, error))
    return FALSE;
  for (guint i = 0; i < eps->len; i++)
    {
      const RrunRegistryEndpoint *ep = g_ptr_array_index (eps, i);
      g_autoptr(GError) local = NULL;

      if (resolve_at (conf, ref, ep, options, out_image, &local))
        return TRUE;
      if (!ep->mirror)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      /* A mirror that fails is skipped, as podman does; the registry itself is last. */
      g_debug ("mirror %s failed: %s", ep->domain, local->message);
    }
  g_assert_not_reached ();
}

gboolean
rrun_registry_resolve (const RrunRegistriesConf *conf, const char *text,
                       const RrunPullOptions *options, RrunRemoteImage **out_image,
                       GError **error)
{
  g_autoptr(GPtrArray) refs = NULL;
  g_autoptr(GError) first_other = NULL;
  g_autoptr(GError) first_missing = NULL;
  g_autoptr(GString) tried = g_string_new (NULL);

  if (!rrun_registries_conf_candidates (conf, text, &refs, error))
    return FALSE;
  for (guint i = 0; i < refs->len; i++)
    {
      const RrunReference *ref = g_ptr_array_index (refs, i);
      g_autoptr(GError) local = NULL;

      if (resolve_ref (conf, ref, options, out_image, &local))
        return TRUE;
      if (refs->len == 1)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      g_string_append_printf (tried, "%s%s", tried->len ? ", " : "", ref->domain);
      if (is_not_found (local))
        {
          if (first_missing == NULL)
            first_missing = g_steal_pointer (&local);
        }
      else if (first_other == NULL)
        first_other = g_steal_pointer (&local);
    }
  if (first_other != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first_other));
      return FALSE;
    }
  rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot find image \"%s\" in any search registry (%s)",
              text, tried->str);
  rrun_add_hint (error, "check the name, or give it in full (registry/repository:tag)");
  return FALSE;
}
