/* HTTP to one registry (OCI distribution spec / Docker Registry HTTP API v2) over libcurl.

   - GET /v2/ once to pick the scheme and learn the WWW-Authenticate challenge.
   - Bearer: a token per repository scope ("repository:NAME:pull") from the realm,
     anonymous or with basic credentials; cached until it expires. Basic: sent as is.
   - TLS verification is on unless tls_verify is FALSE or the registry is insecure; then
     https is tried first (unverified) and http after it, as podman does.
   - Redirects (blob storage) are followed; libcurl drops Authorization on another host.
   - HTTP proxies come from the environment (libcurl's default: http_proxy, https_proxy,
     no_proxy).
   - 5xx, 429 and connection resets are retried: 4 tries, 0.5, 1 and 2 s apart. A retried
     body resumes with Range where bytes were already handed on.

   Thread safety: one client may be used from several threads at once (parallel layer
   downloads: one easy handle per request, a curl share handle for connections, DNS and
   TLS sessions, a mutex around tokens). Nothing here forks. */
#pragma once

#include <glib.h>

#include "registry/auth.h"

G_BEGIN_DECLS

typedef struct RrunRegistryClient RrunRegistryClient;

typedef struct
{
  gboolean tls_verify;  /* FALSE: --tls-verify=false */
  gboolean insecure;    /* marked insecure in registries.conf / rrun.conf */
  /* Credentials to use (login); NULL: looked up with rrun_auth_lookup per repository. */
  const RrunCredentials *credentials;
} RrunRegistryOptions;

/* domain as the user names it ("docker.io", "127.0.0.1:5000"); the endpoint host is
   rrun_registry_domain_endpoint (domain). */
RrunRegistryClient *rrun_registry_client_new (const char *domain,
                                              const RrunRegistryOptions *options);
void rrun_registry_client_free (RrunRegistryClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunRegistryClient, rrun_registry_client_free)

const char *rrun_registry_client_domain (RrunRegistryClient *client);

/* GET /v2/ (once; later calls return the cached result). */
gboolean rrun_registry_client_ping (RrunRegistryClient *client, GError **error);

/* Check the client's credentials against the registry: a token request with them
   (Bearer) or GET /v2/ with them (Basic). Refused credentials are RRUN_ERROR_REGISTRY
   "cannot log in to "DOMAIN": ...". */
gboolean rrun_registry_client_check_login (RrunRegistryClient *client, GError **error);

/* The sink a body is streamed to. Returning FALSE with error set aborts the transfer. */
typedef gboolean (*RrunRegistryWriteFunc) (const guint8 *data, gsize len, gpointer user_data,
                                           GError **error);

typedef struct
{
  long status;
  char *content_type;
  char *docker_content_digest;
  char *location;        /* the Location header (uploads), as sent */
  gint64 content_length; /* -1 when unknown */
} RrunRegistryResponse;

void rrun_registry_response_clear (RrunRegistryResponse *response);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RrunRegistryResponse, rrun_registry_response_clear)

/* GET /v2/REPOSITORY/SUBPATH ("manifests/latest", "blobs/sha256:...") with accept (may
   be NULL), streaming a 2xx body to write. what names the object in errors
   ("docker.io/library/alpine:latest"). A 404 is RRUN_ERROR_NOT_FOUND, 401/403 and other
   statuses RRUN_ERROR_REGISTRY; messages name the registry, what, the HTTP status and the
   registry's own error code and message. out_response may be NULL. */
gboolean rrun_registry_client_get (RrunRegistryClient *client, const char *repository,
                                   const char *subpath, const char *accept, const char *what,
                                   RrunRegistryWriteFunc write, gpointer user_data,
                                   RrunRegistryResponse *out_response, GError **error);

/* A request that changes the registry (push): the blob upload protocol and manifest PUT
   of the distribution spec. */
typedef struct
{
  const char *method;       /* "HEAD", "POST", "PUT" or "PATCH" */
  /* "/v2/..." below the registry, or an absolute URL (an upload's Location). Our
     Authorization header only goes to the registry's own host. */
  const char *url;
  const char *content_type; /* NULL: none */
  const char *content_range;/* "FROM-TO" of a PATCH chunk, or NULL */
  /* The body: len bytes of data, or of fd from offset (read with pread, so a retried
     request sends them again from the start). No body when both are unset. */
  const void *data;
  int fd;                   /* -1: none */
  guint64 offset;
  guint64 len;
  /* Token scope: pull and push on the repository, and pull on mount_from when set (a
     cross-repository mount). */
  const char *mount_from;
  /* Bytes of the body sent so far, from the calling thread; may be NULL. */
  void (*progress) (guint64 sent, gpointer user_data);
  gpointer progress_data;
} RrunRegistryRequest;

/* Send request for repository. TRUE for a 2xx answer, and for a 404 to HEAD (the caller
   reads out_response->status); else RRUN_ERROR_REGISTRY "cannot push "WHAT" to HOST:
   HTTP ...: MESSAGE (CODE)" (RRUN_ERROR_NOT_FOUND for 404). 5xx, 429 and resets are
   retried as GETs are, a 401 once with a new token. */
gboolean rrun_registry_client_send (RrunRegistryClient *client, const char *repository,
                                    const RrunRegistryRequest *request, const char *what,
                                    RrunRegistryResponse *out_response, GError **error);

/* Resolve a Location header against the registry ("/v2/x/blobs/uploads/ID?..." or an
   absolute URL). */
char *rrun_registry_client_resolve_url (RrunRegistryClient *client, const char *location);

/* Parse a registry's JSON error body ({"errors":[{"code":..,"message":..}]}) into
   "message (CODE)" lines joined by "; ", or NULL when it is not one (exposed for tests). */
char *rrun_registry_format_error_body (const char *body, gsize len);

G_END_DECLS
