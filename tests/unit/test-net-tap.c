/* rrun-net's completion of checksums the container's kernel left partial
   (helpers/net-tap.c), against a plain 16-bit big-endian ones' complement sum. */
#include "net.h"

#include <string.h>

/* The reference: RFC 1071's loop, 16-bit big-endian words, the odd byte padded, added to
   sum and folded (not complemented). */
static guint16
reference (const guint8 *p, gsize len, guint32 sum)
{
  for (; len > 1; p += 2, len -= 2)
    sum += (guint32) p[0] << 8 | p[1];
  if (len == 1)
    sum += (guint32) p[0] << 8;
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return (guint16) sum;
}

/* Every length from 0 to 300 and some large ones, at every start offset from 0 to 9 (the
   words are unaligned), over random bytes and over all-0xff (the carries). */
static void
test_matches_reference (void)
{
  static guint8 buf[70000], copy[70000];
  gsize lengths[320];
  guint n = 0;

  for (gsize l = 0; l <= 300; l++)
    lengths[n++] = l;
  lengths[n++] = 1499;
  lengths[n++] = 21000;
  lengths[n++] = 65483;
  lengths[n++] = 65535;
  for (int fill = 0; fill < 2; fill++)
    {
      for (gsize i = 0; i < sizeof buf; i++)
        buf[i] = fill ? 0xff : (guint8) g_random_int ();
      for (guint k = 0; k < n; k++)
        for (gsize start = 0; start < 10; start++)
          {
            gsize len = start + lengths[k] + 2, offset = lengths[k] / 2 & ~(gsize) 1;
            guint32 pseudo;

            if (lengths[k] < 2)
              continue;
            memcpy (copy, buf, len);
            /* The field holds whatever the bytes put there: it stands for the kernel's
               pseudo-header sum, which a receiver adds back when it verifies. */
            pseudo = (guint32) copy[start + offset] << 8 | copy[start + offset + 1];
            g_assert_true (net_tap_complete_checksum (copy, len, start, offset));
            g_assert_cmpuint (reference (copy + start, len - start, pseudo), ==, 0xffff);
          }
    }
}

static void
test_rejects_bad_offsets (void)
{
  guint8 f[64] = { 0 };

  g_assert_false (net_tap_complete_checksum (f, sizeof f, 64, 0));
  g_assert_false (net_tap_complete_checksum (f, sizeof f, 60, 3));
  g_assert_true (net_tap_complete_checksum (f, sizeof f, 60, 2));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net-tap/checksum/matches-reference", test_matches_reference);
  g_test_add_func ("/net-tap/checksum/bad-offsets", test_rejects_bad_offsets);
  return g_test_run ();
}
