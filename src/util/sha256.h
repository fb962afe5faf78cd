/* SHA-256 for blob and layer digests. OpenSSL's libcrypto (already loaded by libcurl in
   the image tool) uses the CPU's SHA extensions: about 3.5x GLib's GChecksum, which was
   a sixth of a pull's CPU time. Only image-tool code uses it, so `rrun` itself does not
   link libcrypto. */
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
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunSha256, rrun_sha256_free)

G_END_DECLS
