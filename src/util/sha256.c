#include "util/sha256.h"

#include <openssl/evp.h>

struct RrunSha256
{
  EVP_MD_CTX *ctx;
  char hex[65];
  gboolean done;
};

RrunSha256 *
rrun_sha256_new (void)
{
  RrunSha256 *sum = g_new0 (RrunSha256, 1);

  sum->ctx = EVP_MD_CTX_new ();
  /* Failing here means libcrypto cannot allocate or lacks SHA-256: nothing to recover. */
  if (sum->ctx == NULL || EVP_DigestInit_ex (sum->ctx, EVP_sha256 (), NULL) != 1)
    g_error ("cannot set up SHA-256 (libcrypto)");
  return sum;
}

void
rrun_sha256_update (RrunSha256 *sum, const void *data, gsize len)
{
  g_return_if_fail (!sum->done);
  if (len > 0)
    EVP_DigestUpdate (sum->ctx, data, len);
}

const char *
rrun_sha256_hex (RrunSha256 *sum)
{
  if (!sum->done)
    {
      unsigned char md[EVP_MAX_MD_SIZE];
      unsigned int n = 0;
      static const char digits[] = "0123456789abcdef";

      EVP_DigestFinal_ex (sum->ctx, md, &n);
      for (unsigned int i = 0; i < n && i < 32; i++)
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
  EVP_MD_CTX_free (sum->ctx);
  g_free (sum);
}

char *
rrun_sha256_data_hex (const void *data, gsize len)
{
  g_autoptr(RrunSha256) sum = rrun_sha256_new ();

  rrun_sha256_update (sum, data, len);
  return g_strdup (rrun_sha256_hex (sum));
}
