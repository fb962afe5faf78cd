/* Registry credentials in the containers auth.json format (shared with podman, skopeo,
   buildah) and docker's config.json:  {"auths": {"quay.io": {"auth": base64(user:pass)}}}.

   Read, first match wins: $REGISTRY_AUTH_FILE alone when set; else
   $XDG_RUNTIME_DIR/containers/auth.json, ~/.config/containers/auth.json,
   $DOCKER_CONFIG/config.json (default ~/.docker/config.json).
   Written by login/logout: $REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json
   (podman's default), else ~/.config/containers/auth.json when XDG_RUNTIME_DIR is unset
   (su, ssh without pam_systemd, batch jobs). Writes are atomic and 0600. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *username;
  char *password;
  char *source; /* the file they came from */
} RrunCredentials;

void rrun_credentials_free (RrunCredentials *creds);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunCredentials, rrun_credentials_free)

/* Key normalisation: "https://index.docker.io/v1/" and "registry-1.docker.io" are
   "docker.io"; a scheme and a trailing "/" or "/v1/", "/v2/" are dropped. */
char *rrun_auth_normalize_key (const char *key);

/* Look in one file's text for domain (host[:port]) and repository path ("org/img", may be
   NULL). The most specific key wins ("quay.io/org/img", "quay.io/org", "quay.io").
   TRUE with *out_creds NULL when there is none; malformed text is RRUN_ERROR_CORRUPT. */
gboolean rrun_auth_lookup_text (const char *text, const char *source, const char *domain,
                                const char *repository, RrunCredentials **out_creds,
                                GError **error);

/* Look through the files above. TRUE with *out_creds NULL when none has an entry. */
gboolean rrun_auth_lookup (const char *domain, const char *repository,
                           RrunCredentials **out_creds, GError **error);

/* The file login and logout write. */
char *rrun_auth_write_path (void);

/* Store credentials for domain in rrun_auth_write_path(); other entries are kept. */
gboolean rrun_auth_store (const char *domain, const char *username, const char *password,
                          GError **error);

/* Remove domain's entry (domain NULL: all entries). RRUN_ERROR_NOT_FOUND when there was none, with a hint when another file (e.g.
   ~/.docker/config.json) still holds credentials for it. */
gboolean rrun_auth_remove (const char *domain, GError **error);

G_END_DECLS
