/* From what the user typed to a verified image manifest on a registry: short-name
   candidates (aliases, search registries), mirrors, the registry's manifest, and the
   platform's manifest when the name points at an index. */
#pragma once

#include <glib.h>

#include "registry/blob.h"
#include "registry/client.h"
#include "registry/manifest.h"
#include "registry/reference.h"
#include "registry/registries-conf.h"

G_BEGIN_DECLS

typedef struct
{
  gboolean tls_verify;          /* FALSE: --tls-verify=false */
  const RrunPlatform *platform; /* NULL: this machine */
} RrunPullOptions;

typedef struct
{
  RrunReference *ref;       /* the fully qualified name that worked ("docker.io/library/alpine:latest") */
  char *endpoint_domain;    /* where it came from (a mirror or the registry itself) */
  char *repository;         /* the repository path there */
  RrunRegistryClient *client; /* to fetch the blobs with (thread-safe) */
  GBytes *manifest;         /* the image manifest, as received */
  char *manifest_digest;    /* its sha256 digest */
  RrunManifest *image;      /* parsed: kind IMAGE; config and layers */
  GBytes *index;            /* the index the name pointed at, or NULL */
  char *index_digest;       /* its digest, or NULL */
} RrunRemoteImage;

void rrun_remote_image_free (RrunRemoteImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunRemoteImage, rrun_remote_image_free)

/* The digest to record as the image's repo digest: the index's when there is one
   (as docker and podman show), else the manifest's. */
const char *rrun_remote_image_digest (const RrunRemoteImage *image);

/* Resolve text (any reference form) to an image manifest. Candidates are tried in order;
   a candidate that is not found (404, or 401 as Docker Hub answers for missing names)
   moves on to the next. When all fail, the error is the first that is not "not found", or
   RRUN_ERROR_NOT_FOUND naming the registries tried. */
gboolean rrun_registry_resolve (const RrunRegistriesConf *conf, const char *text,
                                const RrunPullOptions *options, RrunRemoteImage **out_image,
                                GError **error);

G_END_DECLS
