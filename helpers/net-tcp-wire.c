/* The TCP segments rrun-net's own TCP (net-tcp.c) reads from and writes to tap0: parsing
   a frame from the container into a NetTcpSegment, and building the headers of one to it.
   Pure functions of their arguments (tests/unit/test-net-tcp.c, the net-frames fuzzer).

   Frames to the container carry a partial checksum when tap0 has the virtio-net header:
   the pseudo-header's sum in the checksum field and VIRTIO_NET_HDR_F_NEEDS_CSUM, which
   the container's kernel takes as a checksum it need not verify (a local packet's); the
   payload is then never summed, by us or by it. Without the header the whole segment is
   summed here. */
#include "net.h"

#include <arpa/inet.h>
#include <linux/virtio_net.h>
#include <string.h>

#define ETH_HLEN 14
#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WSCALE 3

static guint16
get16 (const guint8 *p)
{
  return (guint16) (p[0] << 8 | p[1]);
}

static guint32
get32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

static void
put16 (guint8 *p, guint16 v)
{
  p[0] = (guint8) (v >> 8);
  p[1] = (guint8) v;
}

static void
put32 (guint8 *p, guint32 v)
{
  p[0] = (guint8) (v >> 24);
  p[1] = (guint8) (v >> 16);
  p[2] = (guint8) (v >> 8);
  p[3] = (guint8) v;
}

/* The SYN's MSS and window scale options; a malformed list ends the walk. */
static void
parse_syn_options (const guint8 *opt, gsize len, NetTcpSegment *seg)
{
  for (gsize i = 0; i < len;)
    {
      if (opt[i] == TCPOPT_EOL)
        return;
      if (opt[i] == TCPOPT_NOP)
        {
          i++;
          continue;
        }
      if (i + 1 >= len || opt[i + 1] < 2 || i + opt[i + 1] > len)
        return;
      if (opt[i] == TCPOPT_MSS && opt[i + 1] == 4)
        seg->mss = get16 (opt + i + 2);
      else if (opt[i] == TCPOPT_WSCALE && opt[i + 1] == 3)
        seg->wscale = MIN (opt[i + 2], 14); /* RFC 7323: larger is taken as 14 */
      i += opt[i + 1];
    }
}

gboolean
net_tcp_parse (const guint8 *frame, gsize len, NetTcpSegment *seg)
{
  const guint8 *ip = frame + ETH_HLEN, *tcp;
  gsize tcp_len, hlen;

  memset (seg, 0, sizeof *seg);
  seg->wscale = -1;
  if (len < ETH_HLEN + 40)
    return FALSE;
  if (get16 (frame + 12) == 0x0800)
    {
      gsize ihl = (gsize) (ip[0] & 0x0f) * 4, total = get16 (ip + 2);

      /* Not TCP, a fragment, or lengths that do not fit the frame: not ours. */
      if ((ip[0] >> 4) != 4 || ip[9] != 6 || ihl < 20 || total < ihl + 20
          || ETH_HLEN + total > len || (get16 (ip + 6) & 0x3fff) != 0)
        return FALSE;
      seg->key.family = 4;
      memcpy (seg->key.gaddr, ip + 12, 4);
      memcpy (seg->key.daddr, ip + 16, 4);
      tcp = ip + ihl;
      tcp_len = total - ihl;
    }
  else if (get16 (frame + 12) == 0x86dd)
    {
      gsize payload = get16 (ip + 4);

      /* Extension headers are not followed: such a segment goes to libslirp. */
      if ((ip[0] >> 4) != 6 || ip[6] != 6 || payload < 20 || ETH_HLEN + 40 + payload > len)
        return FALSE;
      seg->key.family = 6;
      memcpy (seg->key.gaddr, ip + 8, 16);
      memcpy (seg->key.daddr, ip + 24, 16);
      tcp = ip + 40;
      tcp_len = payload;
    }
  else
    return FALSE;
  hlen = (gsize) (tcp[12] >> 4) * 4;
  if (hlen < 20 || hlen > tcp_len)
    return FALSE;
  seg->key.gport = get16 (tcp);
  seg->key.dport = get16 (tcp + 2);
  seg->seq = get32 (tcp + 4);
  seg->ack = get32 (tcp + 8);
  seg->flags = tcp[13];
  seg->window = get16 (tcp + 14);
  if (seg->flags & NET_TCP_SYN)
    parse_syn_options (tcp + 20, hlen - 20, seg);
  seg->payload = tcp + hlen;
  seg->len = tcp_len - hlen;
  memcpy (seg->guest_mac, frame + 6, 6);
  memcpy (seg->our_mac, frame, 6);
  return TRUE;
}

/* The pseudo-header's sum (not folded, not complemented) for len bytes of protocol
   proto between key's two ends (the sum is the same either way round). */
static guint32
pseudo_sum (const NetTcpKey *key, guint8 proto, gsize len)
{
  gsize alen = key->family == 4 ? 4 : 16;
  guint32 sum = proto + (guint32) len;

  for (gsize i = 0; i < alen; i += 2)
    sum += get16 (key->gaddr + i) + get16 (key->daddr + i);
  return sum;
}

/* An IPv4 or IPv6 header (key's family) at ip, from src to dst, for payload_len bytes
   of protocol proto; IPv4 with id and frag_off (0x4000: don't fragment) and its
   checksum. Returns its length. */
static gsize
put_ip (guint8 *ip, const NetTcpKey *key, const guint8 *src, const guint8 *dst, guint8 proto,
        gsize payload_len, guint16 id, guint16 frag_off)
{
  if (key->family == 4)
    {
      ip[0] = 0x45;
      ip[1] = 0;
      put16 (ip + 2, (guint16) (20 + payload_len));
      put16 (ip + 4, id);
      put16 (ip + 6, frag_off);
      ip[8] = 64;
      ip[9] = proto;
      put16 (ip + 10, 0);
      memcpy (ip + 12, src, 4);
      memcpy (ip + 16, dst, 4);
      put16 (ip + 10, (guint16) ~net_fold (net_sum16 (ip, 20, 0)));
      return 20;
    }
  put32 (ip, 6u << 28);
  put16 (ip + 4, (guint16) payload_len);
  ip[6] = proto;
  ip[7] = 64;
  memcpy (ip + 8, src, 16);
  memcpy (ip + 24, dst, 16);
  return 40;
}

/* The Ethernet header of a frame to the container, the reverse of its own frames: its
   gateway's MAC is ours. */
static void
put_eth (guint8 *eth, const NetTcpKey *key, const guint8 *guest_mac, const guint8 *our_mac)
{
  memcpy (eth, guest_mac, 6);
  memcpy (eth + 6, our_mac, 6);
  put16 (eth + 12, key->family == 4 ? 0x0800 : 0x86dd);
}

gsize
net_tcp_build (guint8 *out, gboolean vnet, const NetTcpKey *key, const guint8 *guest_mac,
               const guint8 *our_mac, guint16 ip_id, guint32 seq, guint32 ack, guint8 flags,
               guint16 window, const guint8 *options, gsize options_len,
               const guint8 *payload, gsize len)
{
  gsize vlen = vnet ? sizeof (struct virtio_net_hdr) : 0;
  gsize iplen = key->family == 4 ? 20 : 40;
  gsize thlen = 20 + options_len;
  guint8 *eth = out + vlen, *ip = eth + ETH_HLEN, *tcp = ip + iplen;
  gsize tcp_len = thlen + len;
  guint32 sum;

  g_assert (options_len % 4 == 0 && options_len <= 40);
  put_eth (eth, key, guest_mac, our_mac);
  put_ip (ip, key, key->daddr, key->gaddr, 6, tcp_len, ip_id, 0x4000);
  put16 (tcp, key->dport);
  put16 (tcp + 2, key->gport);
  put32 (tcp + 4, seq);
  put32 (tcp + 8, ack);
  tcp[12] = (guint8) ((thlen / 4) << 4);
  tcp[13] = flags;
  put16 (tcp + 14, window);
  put16 (tcp + 16, 0);
  put16 (tcp + 18, 0);
  if (options_len > 0)
    memcpy (tcp + 20, options, options_len);
  sum = pseudo_sum (key, 6, tcp_len);
  if (vnet)
    {
      struct virtio_net_hdr h = { 0 };

      h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
      h.csum_start = (guint16) (ETH_HLEN + iplen);
      h.csum_offset = 16;
      memcpy (out, &h, sizeof h);
      put16 (tcp + 16, net_fold (sum));
    }
  else
    {
      /* The header is an even number of bytes: the payload's sum adds to it as is. */
      sum += net_sum16 (tcp, thlen, 0);
      if (len > 0)
        sum += ntohs ((guint16) ~net_tap_checksum (payload, len)); /* stored order */
      put16 (tcp + 16, (guint16) ~net_fold (sum));
    }
  return vlen + ETH_HLEN + iplen + thlen;
}

gsize
net_tcp_build_unreachable (guint8 *out, gboolean vnet, const NetTcpKey *key,
                           const guint8 *guest_mac, const guint8 *our_mac, guint32 syn_seq,
                           guint8 code)
{
  gsize vlen = vnet ? sizeof (struct virtio_net_hdr) : 0;
  gboolean v4 = key->family == 4;
  gsize iplen = v4 ? 20 : 40, icmplen = 8 + iplen + 8;
  guint8 *eth = out + vlen, *ip = eth + ETH_HLEN, *icmp = ip + iplen, *orig = icmp + 8;
  guint32 sum;

  if (vnet)
    memset (out, 0, vlen);
  put_eth (eth, key, guest_mac, our_mac);
  /* The container's SYN as it was sent: its IP header and the first 8 bytes of TCP (the
     ports and the sequence number, which its kernel matches to the socket). */
  put_ip (orig, key, key->gaddr, key->daddr, 6, 40, 0, 0x4000); /* a SYN with options */
  put16 (orig + iplen, key->gport);
  put16 (orig + iplen + 2, key->dport);
  put32 (orig + iplen + 4, syn_seq);
  /* From the destination, as a router on the way would report it. */
  icmp[0] = v4 ? 3 : 1; /* destination unreachable */
  icmp[1] = code;
  memset (icmp + 2, 0, 6);
  put_ip (ip, key, key->daddr, key->gaddr, v4 ? 1 : 58, icmplen, 0, 0);
  sum = net_sum16 (icmp, icmplen, 0);
  if (!v4)
    sum += pseudo_sum (key, 58, icmplen);
  put16 (icmp + 2, (guint16) ~net_fold (sum));
  return vlen + ETH_HLEN + iplen + icmplen;
}

void
net_tcp_set_gso (guint8 *out, const NetTcpKey *key, gsize hlen, guint16 gso_size)
{
  struct virtio_net_hdr h;

  memcpy (&h, out, sizeof h);
  h.gso_type = key->family == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
  h.gso_size = gso_size;
  h.hdr_len = (guint16) (hlen - sizeof h);
  memcpy (out, &h, sizeof h);
}
