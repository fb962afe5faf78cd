/* util/sha256.c, the one SHA-256 in rrun: FIPS 180-2 test vectors, streamed and at once. */
#include "util/sha256.h"

#include <string.h>

static const struct
{
  const char *text;
  const char *hex;
} vectors[] = {
  { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
  { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
  { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
};

static void
test_vectors (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autofree char *hex = rrun_sha256_data_hex (vectors[i].text, strlen (vectors[i].text));

      g_assert_cmpstr (hex, ==, vectors[i].hex);
    }
}

/* Bytes fed in pieces of every size give the digest of the whole; the result stays the
   same when asked for twice. */
static void
test_streamed (void)
{
  const char *text = vectors[2].text;
  gsize len = strlen (text);

  for (gsize piece = 1; piece <= len; piece++)
    {
      g_autoptr(RrunSha256) sum = rrun_sha256_new ();

      for (gsize off = 0; off < len; off += piece)
        rrun_sha256_update (sum, text + off, MIN (piece, len - off));
      rrun_sha256_update (sum, text, 0);
      g_assert_cmpstr (rrun_sha256_hex (sum), ==, vectors[2].hex);
      g_assert_cmpstr (rrun_sha256_hex (sum), ==, vectors[2].hex);
    }
}

/* One million 'a': more than one buffer, against the published digest. */
static void
test_million (void)
{
  g_autoptr(RrunSha256) sum = rrun_sha256_new ();
  char block[1000];

  memset (block, 'a', sizeof block);
  for (int i = 0; i < 1000; i++)
    rrun_sha256_update (sum, block, sizeof block);
  g_assert_cmpstr (rrun_sha256_hex (sum), ==,
                   "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sha256/vectors", test_vectors);
  g_test_add_func ("/sha256/streamed", test_streamed);
  g_test_add_func ("/sha256/million", test_million);
  return g_test_run ();
}
