/* libcrypto's SHA256_Init/Update/Final, not EVP: EVP's first digest initialises OpenSSL's
   provider machinery and reads openssl.cnf (~2 ms and ~70 page faults, measured), which
   `rrun` would pay on every start where it checks an image config; the low-level
   functions are the same assembly (SHA extensions) with no set-up. OpenSSL 3 marks them
   deprecated in favour of EVP: the 1.1.1 API level keeps them declared without warnings. */
#define OPENSSL_API_COMPAT 10101

#include "util/sha256.h"

#include <openssl/sha.h>

struct RrunSha256
{
  SHA256_CTX ctx;
  char hex[65];
  gboolean done;
};

RrunSha256 *
rrun_sha256_new (void)
{
  RrunSha256 *sum = g_new0 (RrunSha256, 1);

  /* Fails only for a NULL context. */
  SHA256_Init (&sum->ctx);
  return sum;
}

void
rrun_sha256_update (RrunSha256 *sum, const void *data, gsize len)
{
  g_return_if_fail (!sum->done);
  if (len > 0)
    SHA256_Update (&sum->ctx, data, len);
}

const char *
rrun_sha256_hex (RrunSha256 *sum)
{
  if (!sum->done)
    {
      unsigned char md[SHA256_DIGEST_LENGTH];
      static const char digits[] = "0123456789abcdef";

      SHA256_Final (md, &sum->ctx);
      for (unsigned int i = 0; i < SHA256_DIGEST_LENGTH; i++)
        {
          sum->hex[2 * i] = digits[md[i] >> 4];
          sum->hex[2 * i + 1] = digits[md[i] & 0xf];
        }
      sum->hex[64] = '\0';
      sum->done = TRUE;
    }
  return sum->hex;
}

void
rrun_sha256_free (RrunSha256 *sum)
{
  if (sum == NULL)
    return;
  g_free (sum);
}

char *
rrun_sha256_data_hex (const void *data, gsize len)
{
  g_autoptr(RrunSha256) sum = rrun_sha256_new ();

  rrun_sha256_update (sum, data, len);
  return g_strdup (rrun_sha256_hex (sum));
}
