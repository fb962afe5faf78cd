/* SHA-256, the one implementation in rrun: blob, layer, manifest and config digests,
   chain IDs. OpenSSL's libcrypto uses the CPU's SHA extensions: about 3.5x GLib's
   GChecksum, which was a sixth of a pull's CPU time. rrun-image loads libcrypto anyway
   (libcurl); `rrun` links it statically where libcrypto.a exists (meson.build), so that a
   digest on its start-up path (the store's image config check) loads no shared library
   (docs/architecture.md, "Layout"). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct RrunSha256 RrunSha256;

RrunSha256 *rrun_sha256_new (void);
void rrun_sha256_update (RrunSha256 *sum, const void *data, gsize len);
/* The digest as 64 lower-case hex digits (owned by sum, valid until it is freed); no
   update may follow. */
const char *rrun_sha256_hex (RrunSha256 *sum);
void rrun_sha256_free (RrunSha256 *sum);
/* The digest of len bytes at data as 64 lower-case hex digits, newly allocated. */
char *rrun_sha256_data_hex (const void *data, gsize len);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunSha256, rrun_sha256_free)

G_END_DECLS
