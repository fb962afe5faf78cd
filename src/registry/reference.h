/* Image references: "alpine", "alpine:3.20", "docker.io/library/alpine",
   "ghcr.io/org/img:tag", "localhost:5000/x", "name@sha256:...", "name:tag@sha256:...".
   The grammar and normalisation follow docker's distribution/reference. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RRUN_DOCKER_IO "docker.io"

typedef struct
{
  char *domain; /* "docker.io", "ghcr.io", "localhost:5000"; NULL for a short name */
  char *path;   /* "library/alpine", "org/img"; for a short name as written ("alpine") */
  char *tag;    /* "latest" when neither tag nor digest was given; NULL with only a digest */
  char *digest; /* "sha256:<64 hex>" or NULL */
} RrunReference;

void rrun_reference_free (RrunReference *ref);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunReference, rrun_reference_free)
RrunReference *rrun_reference_copy (const RrunReference *ref);

/* Parse and validate text. A first component containing '.' or ':' or equal to
   "localhost" is a registry domain; otherwise the reference is short (domain NULL) and
   needs rrun_reference_qualify or a search list. "index.docker.io" becomes "docker.io",
   and single-component docker.io names get "library/". Errors are
   RRUN_ERROR_INVALID_ARGUMENT and name the reference. */
gboolean rrun_reference_parse (const char *text, RrunReference **out_ref, GError **error);

/* A copy of a short ref placed in domain (adds "library/" for docker.io single names).
   A qualified ref is copied unchanged. */
RrunReference *rrun_reference_qualify (const RrunReference *ref, const char *domain);

gboolean rrun_reference_is_short (const RrunReference *ref);

/* "docker.io/library/alpine" (or the path alone for a short ref). */
char *rrun_reference_repository (const RrunReference *ref);

/* "docker.io/library/alpine:latest", "x/y@sha256:...", "x/y:tag@sha256:...". */
char *rrun_reference_to_string (const RrunReference *ref);

/* The tag or digest to ask the registry for: the digest when there is one. */
const char *rrun_reference_manifest_ref (const RrunReference *ref);

/* The host:port to talk to for a registry domain: docker.io -> registry-1.docker.io. */
const char *rrun_registry_domain_endpoint (const char *domain);

/* "sha256:<64 lowercase hex>"; errors name what (e.g. "digest", "layer digest"). */
gboolean rrun_digest_validate (const char *digest, const char *what, GError **error);

G_END_DECLS
