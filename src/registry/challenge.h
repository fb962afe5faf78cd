/* WWW-Authenticate (RFC 7235) as registries send it:
     Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="..."
     Basic realm="Registry Realm"
   (distribution spec, "token authentication"). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  RRUN_AUTH_NONE,
  RRUN_AUTH_BASIC,
  RRUN_AUTH_BEARER,
} RrunAuthScheme;

typedef struct
{
  RrunAuthScheme scheme;
  char *realm;   /* Bearer: the token endpoint URL; Basic: a label */
  char *service; /* may be NULL */
  char *scope;   /* may be NULL */
} RrunAuthChallenge;

void rrun_auth_challenge_free (RrunAuthChallenge *challenge);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunAuthChallenge, rrun_auth_challenge_free)

/* Parse one header value. When it holds several challenges, Bearer is preferred over
   Basic; unknown schemes are skipped. Errors (RRUN_ERROR_REGISTRY) quote the header:
   no known scheme, a Bearer challenge without realm, a realm that is not an http(s) URL,
   bad quoting. */
gboolean rrun_auth_challenge_parse (const char *header, RrunAuthChallenge **out_challenge,
                                    GError **error);

G_END_DECLS
