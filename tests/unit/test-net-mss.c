/* rrun-net's TCP MSS clamping (helpers/net-mss.c): only SYNs change, the checksum stays
   valid, and frames that are not what they seem are left alone. */
#include "net.h"

#include <string.h>

/* The TCP checksum of the segment in frame, verified the way a receiver does: summing
   pseudo-header and segment with the checksum in place gives 0xffff. */
static gboolean
checksum_ok (const guint8 *f, gsize len)
{
  const guint8 *ip = f + 14;
  gsize ihl = (gsize) (ip[0] & 0x0f) * 4, tcp_len = len - 14 - ihl;
  guint32 sum = 6 + (guint32) tcp_len;

  for (gsize i = 12; i < 20; i += 2)
    sum += (guint32) ip[i] << 8 | ip[i + 1];
  for (gsize i = 0; i + 1 < tcp_len; i += 2)
    sum += (guint32) ip[ihl + i] << 8 | ip[ihl + i + 1];
  if (tcp_len & 1)
    sum += (guint32) ip[ihl + tcp_len - 1] << 8;
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

static void
set_checksum (guint8 *f, gsize len)
{
  guint8 *tcp = f + 14 + 20;

  tcp[16] = tcp[17] = 0;
  for (int guess = 0; guess < 0x10000; guess++)
    {
      tcp[16] = (guint8) (guess >> 8);
      tcp[17] = (guint8) guess;
      if (checksum_ok (f, len))
        return;
    }
  g_assert_not_reached ();
}

/* Ethernet + IPv4 + TCP SYN-ACK with options NOP, NOP, MSS(mss), window 65535. */
static gsize
make_syn (guint8 *f, guint mss, guint8 flags)
{
  static const guint8 eth[14] = { 2, 0x52, 0x52, 0x4e, 0x45, 0x54, 0x52, 0x55, 10, 0, 2, 2,
                                  0x08, 0x00 };
  guint8 *ip = f + 14, *tcp = ip + 20;
  gsize tcp_len = 28;

  memset (f, 0, 14 + 20 + tcp_len);
  memcpy (f, eth, 14);
  ip[0] = 0x45;
  ip[2] = 0;
  ip[3] = (guint8) (20 + tcp_len);
  ip[8] = 64;
  ip[9] = 6;
  ip[12] = 10, ip[13] = 0, ip[14] = 2, ip[15] = 2;
  ip[16] = 10, ip[17] = 0, ip[18] = 2, ip[19] = 100;
  tcp[0] = 0x14, tcp[1] = 0x51;  /* 5201 */
  tcp[2] = 0xc0, tcp[3] = 0x01;
  tcp[12] = (guint8) ((tcp_len / 4) << 4);
  tcp[13] = flags;
  tcp[14] = 0xff, tcp[15] = 0xff;
  tcp[20] = 1, tcp[21] = 1;      /* NOP NOP: the MSS value sits at an odd word boundary */
  tcp[22] = 2, tcp[23] = 4;
  tcp[24] = (guint8) (mss >> 8), tcp[25] = (guint8) mss;
  tcp[26] = 1, tcp[27] = 0;      /* NOP EOL */
  set_checksum (f, 14 + 20 + tcp_len);
  return 14 + 20 + tcp_len;
}

static guint
mss_of (const guint8 *f)
{
  return (guint) (f[14 + 20 + 24] << 8 | f[14 + 20 + 25]);
}

static void
test_clamps_syn (void)
{
  guint8 f[128], out[128], again[128];
  gsize len = make_syn (f, 65480, 0x12);

  g_assert_true (checksum_ok (f, len));
  g_assert_true (net_mss_clamp (f, len, 21000, 3, out, sizeof out));
  g_assert_cmpuint (mss_of (out), ==, 21000);
  g_assert_true (checksum_ok (out, len));
  g_assert_cmpuint (mss_of (f), ==, 65480); /* the frame itself is read only */
  /* Already small enough: unchanged. */
  memset (again, 0xaa, sizeof again);
  g_assert_false (net_mss_clamp (out, len, 30000, 3, again, sizeof again));
  g_assert_cmpuint (again[0], ==, 0xaa);
  /* A frame larger than the buffer passes as it is. */
  g_assert_false (net_mss_clamp (f, len, 21000, 3, out, len - 1));
}

/* NET_TCP_MSS_AUTO: a third of the SYN-ACK's own window, at least 536; an MSS already
   below that (a small MTU) is left alone. */
static void
test_auto_follows_window (void)
{
  guint8 f[128], out[128];
  gsize len = make_syn (f, 65480, 0x12);

  g_assert_true (net_mss_clamp (f, len, NET_TCP_MSS_AUTO, 3, out, sizeof out));
  g_assert_cmpuint (mss_of (out), ==, 65535 / 3);
  g_assert_true (checksum_ok (out, len));
  f[14 + 20 + 14] = 0x75, f[14 + 20 + 15] = 0x30; /* window 30000 */
  set_checksum (f, len);
  g_assert_true (net_mss_clamp (f, len, NET_TCP_MSS_AUTO, 3, out, sizeof out));
  g_assert_cmpuint (mss_of (out), ==, 10000);
  f[14 + 20 + 14] = 0, f[14 + 20 + 15] = 100; /* a tiny window: not below 536 */
  set_checksum (f, len);
  g_assert_true (net_mss_clamp (f, len, NET_TCP_MSS_AUTO, 3, out, sizeof out));
  g_assert_cmpuint (mss_of (out), ==, 536);
  len = make_syn (f, 1460, 0x12); /* MTU 1500 */
  g_assert_false (net_mss_clamp (f, len, NET_TCP_MSS_AUTO, 3, out, sizeof out));
}

/* With TSO (two segments per window) the same SYN-ACK gets half its window; an MSS below
   that is left alone. */
static void
test_auto_two_segments (void)
{
  guint8 f[128], out[128];
  gsize len = make_syn (f, 65480, 0x12);

  g_assert_true (net_mss_clamp (f, len, NET_TCP_MSS_AUTO, 2, out, sizeof out));
  g_assert_cmpuint (mss_of (out), ==, 65535 / 2);
  g_assert_true (checksum_ok (out, len));
  len = make_syn (f, 32000, 0x12); /* already below half the window */
  g_assert_false (net_mss_clamp (f, len, NET_TCP_MSS_AUTO, 2, out, sizeof out));
}

/* net_mss_clamp must say no and write nothing into out. */
static void
assert_left_alone (const guint8 *f, gsize len)
{
  guint8 out[128], copy[128];

  memcpy (copy, f, len);
  memset (out, 0xaa, sizeof out);
  g_assert_false (net_mss_clamp (f, len, 21000, 3, out, sizeof out));
  g_assert_cmpmem (f, len, copy, len);
  for (gsize i = 0; i < sizeof out; i++)
    g_assert_cmpuint (out[i], ==, 0xaa);
}

static void
test_leaves_others (void)
{
  guint8 f[128];
  gsize len = make_syn (f, 65480, 0x10); /* a plain ACK */

  assert_left_alone (f, len);
  /* UDP, a truncated frame, a malformed option length: left alone. */
  len = make_syn (f, 65480, 0x02);
  f[14 + 9] = 17;
  assert_left_alone (f, len);
  len = make_syn (f, 65480, 0x02);
  assert_left_alone (f, 14 + 30);
  f[14 + 20 + 23] = 40; /* MSS option claiming 40 bytes */
  assert_left_alone (f, len);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net-mss/clamps-syn", test_clamps_syn);
  g_test_add_func ("/net-mss/leaves-others", test_leaves_others);
  g_test_add_func ("/net-mss/auto-follows-window", test_auto_follows_window);
  g_test_add_func ("/net-mss/auto-two-segments", test_auto_two_segments);
  return g_test_run ();
}
