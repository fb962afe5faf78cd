/* helpers/net-tcp-wire.c: the segments of rrun-net's own TCP. A segment built for the
   container parses back (with the addresses swapped), its IPv4 header and TCP checksums
   verify, and with the virtio-net header the partial checksum completes to the same bytes. */
#include "net.h"

#include <arpa/inet.h>
#include <linux/virtio_net.h>
#include <string.h>

static const guint8 guest_mac[6] = { 2, 0x52, 0x52, 0x4e, 0x45, 0x54 };
static const guint8 our_mac[6] = { 0x52, 0x55, 10, 0, 2, 2 };

static NetTcpKey
key_v4 (void)
{
  NetTcpKey k;

  memset (&k, 0, sizeof k);
  k.family = 4;
  k.gport = 40000;
  k.dport = 5201;
  inet_pton (AF_INET, "10.0.2.100", k.gaddr);
  inet_pton (AF_INET, "192.0.2.7", k.daddr);
  return k;
}

static NetTcpKey
key_v6 (void)
{
  NetTcpKey k;

  memset (&k, 0, sizeof k);
  k.family = 6;
  k.gport = 40001;
  k.dport = 443;
  inet_pton (AF_INET6, "fd00::100", k.gaddr);
  inet_pton (AF_INET6, "2001:db8::7", k.daddr);
  return k;
}

/* The whole frame: headers, then the payload. */
static gsize
build (guint8 *frame, gboolean vnet, const NetTcpKey *k, guint8 flags, const guint8 *opt,
       gsize olen, const guint8 *payload, gsize len)
{
  gsize h = net_tcp_build (frame, vnet, k, guest_mac, our_mac, 7, 1000, 2000, flags, 512, opt,
                           olen, payload, len);

  if (len > 0)
    memcpy (frame + h, payload, len);
  return h + len;
}

/* The ones' complement sum over the pseudo-header and the TCP segment: 0 when right. */
static guint16
verify_tcp (const guint8 *eth, gsize len)
{
  const guint8 *ip = eth + 14;
  gboolean v4 = (ip[0] >> 4) == 4;
  gsize iplen = v4 ? 20 : 40, alen = v4 ? 4 : 16, tcp_len = len - 14 - iplen;
  g_autofree guint8 *buf = g_malloc0 (2 * alen + 4 + tcp_len);

  memcpy (buf, ip + (v4 ? 12 : 8), 2 * alen);
  buf[2 * alen + 1] = 6;
  buf[2 * alen + 2] = (guint8) (tcp_len >> 8);
  buf[2 * alen + 3] = (guint8) tcp_len;
  memcpy (buf + 2 * alen + 4, ip + iplen, tcp_len);
  return net_tap_checksum (buf, 2 * alen + 4 + tcp_len);
}

static void
check_round_trip (NetTcpKey k, gsize len)
{
  guint8 frame[NET_TCP_HEADER_MAX + 2048];
  guint8 payload[2048] = { 0 };
  guint8 opt[8] = { 2, 4, 0xff, 0xc8, 1, 3, 3, 7 };
  NetTcpSegment s;
  gsize n;

  for (gsize i = 0; i < len; i++)
    payload[i] = (guint8) (i * 7 + 3);
  n = build (frame, FALSE, &k, NET_TCP_SYN | NET_TCP_ACK, opt, sizeof opt, payload, len);
  g_assert_cmpuint (verify_tcp (frame, n), ==, 0);
  if (k.family == 4)
    g_assert_cmpuint (net_tap_checksum (frame + 14, 20), ==, 0);
  g_assert_true (net_tcp_parse (frame, n, &s));
  /* The frame goes to the container: its source is the destination. */
  g_assert_cmpuint (s.key.family, ==, k.family);
  g_assert_cmpuint (s.key.gport, ==, k.dport);
  g_assert_cmpuint (s.key.dport, ==, k.gport);
  g_assert_cmpmem (s.key.gaddr, 16, k.daddr, 16);
  g_assert_cmpmem (s.key.daddr, 16, k.gaddr, 16);
  g_assert_cmpmem (s.guest_mac, 6, our_mac, 6);
  g_assert_cmpmem (s.our_mac, 6, guest_mac, 6);
  g_assert_cmpuint (s.seq, ==, 1000);
  g_assert_cmpuint (s.ack, ==, 2000);
  g_assert_cmpuint (s.flags, ==, NET_TCP_SYN | NET_TCP_ACK);
  g_assert_cmpuint (s.window, ==, 512);
  g_assert_cmpuint (s.mss, ==, 65480);
  g_assert_cmpint (s.wscale, ==, 7);
  g_assert_cmpmem (s.payload, s.len, payload, len);
}

static void
test_round_trip (void)
{
  /* Odd and even payload lengths: the payload's sum adds to the header's as is. */
  for (gsize len = 0; len < 70; len++)
    {
      check_round_trip (key_v4 (), len);
      check_round_trip (key_v6 (), len);
    }
  check_round_trip (key_v4 (), 2048);
  check_round_trip (key_v6 (), 1999);
}

/* With the virtio-net header the checksum is left partial; completing it as the kernel
   would gives the bytes of the summed frame. */
static void
test_partial_checksum (void)
{
  NetTcpKey keys[2] = { key_v4 (), key_v6 () };

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      guint8 plain[NET_TCP_HEADER_MAX + 100], partial[NET_TCP_HEADER_MAX + 100];
      guint8 payload[99];
      struct virtio_net_hdr h;
      gsize n, m;

      memset (payload, 0xa5, sizeof payload);
      n = build (plain, FALSE, &keys[i], NET_TCP_ACK | NET_TCP_PSH, NULL, 0, payload,
                 sizeof payload);
      m = build (partial, TRUE, &keys[i], NET_TCP_ACK | NET_TCP_PSH, NULL, 0, payload,
                 sizeof payload);
      g_assert_cmpuint (m, ==, n + sizeof h);
      memcpy (&h, partial, sizeof h);
      g_assert_cmpuint (h.flags, ==, VIRTIO_NET_HDR_F_NEEDS_CSUM);
      g_assert_cmpuint (h.gso_type, ==, VIRTIO_NET_HDR_GSO_NONE);
      g_assert_cmpuint (h.csum_start, ==, 14 + (i == 0 ? 20 : 40));
      g_assert_cmpuint (h.csum_offset, ==, 16);
      g_assert_true (net_tap_complete_checksum (partial + sizeof h, m - sizeof h, h.csum_start,
                                                h.csum_offset));
      g_assert_cmpmem (partial + sizeof h, m - sizeof h, plain, n);
    }
}

/* What the parser leaves to libslirp. */
static void
test_not_ours (void)
{
  NetTcpKey k = key_v4 ();
  guint8 frame[NET_TCP_HEADER_MAX + 16], bad[sizeof frame];
  NetTcpSegment s;
  gsize n = build (frame, FALSE, &k, NET_TCP_ACK, NULL, 0, (const guint8 *) "0123456789", 10);

  g_assert_true (net_tcp_parse (frame, n, &s));
  g_assert_cmpuint (s.len, ==, 10);
  g_assert_cmpint (s.wscale, ==, -1); /* options are read on a SYN only */
  g_assert_false (net_tcp_parse (frame, n - 1, &s)); /* the IP length overruns the frame */
  memcpy (bad, frame, n);
  bad[14 + 9] = 17; /* UDP */
  g_assert_false (net_tcp_parse (bad, n, &s));
  memcpy (bad, frame, n);
  bad[14 + 6] |= 0x20; /* more fragments */
  g_assert_false (net_tcp_parse (bad, n, &s));
  memcpy (bad, frame, n);
  bad[14 + 20 + 12] = 0xf0; /* a TCP header longer than the segment */
  g_assert_false (net_tcp_parse (bad, n, &s));
  memcpy (bad, frame, n);
  bad[12] = 0x08, bad[13] = 0x06; /* ARP */
  g_assert_false (net_tcp_parse (bad, n, &s));
  k = key_v6 ();
  n = build (frame, FALSE, &k, NET_TCP_ACK, NULL, 0, NULL, 0);
  g_assert_true (net_tcp_parse (frame, n, &s));
  frame[14 + 6] = 0; /* a hop-by-hop extension header */
  g_assert_false (net_tcp_parse (frame, n, &s));
}

/* A malformed option list ends the walk without reading past the header. */
static void
test_syn_options (void)
{
  NetTcpKey k = key_v4 ();
  guint8 frame[NET_TCP_HEADER_MAX];
  guint8 opt[8] = { 1, 1, 3, 3, 20, 2, 4, 0x05 };
  NetTcpSegment s;
  gsize n = build (frame, FALSE, &k, NET_TCP_SYN, opt, sizeof opt, NULL, 0);

  g_assert_true (net_tcp_parse (frame, n, &s));
  g_assert_cmpint (s.wscale, ==, 14); /* RFC 7323: above 14 is taken as 14 */
  g_assert_cmpuint (s.mss, ==, 0);    /* its last byte is past the options */
}

/* The ICMP error about a SYN: checksums right, the SYN's ports and sequence quoted. */
static void
test_unreachable (void)
{
  NetTcpKey keys[2] = { key_v4 (), key_v6 () };

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      gboolean v4 = i == 0;
      guint8 frame[NET_TCP_HEADER_MAX];
      gsize n = net_tcp_build_unreachable (frame, FALSE, &keys[i], guest_mac, our_mac,
                                           0x01020304, v4 ? 1 : 3);
      gsize iplen = v4 ? 20 : 40;
      const guint8 *ip = frame + 14, *icmp = ip + iplen, *orig = icmp + 8;

      g_assert_cmpuint (n, ==, 14 + iplen + 8 + iplen + 8);
      g_assert_cmpuint (n, <=, NET_TCP_HEADER_MAX);
      g_assert_cmpmem (frame, 6, guest_mac, 6);
      g_assert_cmpuint (icmp[0], ==, v4 ? 3 : 1);
      g_assert_cmpuint (icmp[1], ==, v4 ? 1 : 3);
      if (v4)
        {
          g_assert_cmpuint (ip[9], ==, 1);
          g_assert_cmpuint (net_tap_checksum (ip, 20), ==, 0);
          g_assert_cmpuint (net_tap_checksum (orig, 20), ==, 0);
          g_assert_cmpuint (net_tap_checksum (icmp, n - 14 - 20), ==, 0);
          g_assert_cmpmem (orig + 12, 4, keys[i].gaddr, 4);
          g_assert_cmpmem (orig + 16, 4, keys[i].daddr, 4);
        }
      else
        {
          guint8 buf[40 + 56];
          gsize len = n - 14 - 40;

          /* the pseudo-header: source, destination, length, next header 58 */
          memset (buf, 0, sizeof buf);
          memcpy (buf, ip + 8, 32);
          buf[35] = (guint8) len;
          buf[39] = 58;
          memcpy (buf + 40, icmp, len);
          g_assert_cmpuint (ip[6], ==, 58);
          g_assert_cmpuint (net_tap_checksum (buf, 40 + len), ==, 0);
          g_assert_cmpmem (orig + 8, 16, keys[i].gaddr, 16);
          g_assert_cmpmem (orig + 24, 16, keys[i].daddr, 16);
        }
      g_assert_cmpmem (ip + (v4 ? 12 : 8), v4 ? 4 : 16, keys[i].daddr, v4 ? 4 : 16);
      g_assert_cmpuint ((guint) (orig[iplen] << 8 | orig[iplen + 1]), ==, keys[i].gport);
      g_assert_cmpuint ((guint) (orig[iplen + 2] << 8 | orig[iplen + 3]), ==, keys[i].dport);
      g_assert_cmpuint (orig[iplen + 4], ==, 1);
      g_assert_cmpuint (orig[iplen + 7], ==, 4);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net-tcp/round-trip", test_round_trip);
  g_test_add_func ("/net-tcp/partial-checksum", test_partial_checksum);
  g_test_add_func ("/net-tcp/not-ours", test_not_ours);
  g_test_add_func ("/net-tcp/syn-options", test_syn_options);
  g_test_add_func ("/net-tcp/unreachable", test_unreachable);
  return g_test_run ();
}
