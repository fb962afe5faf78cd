/* TCP MSS clamping of the SYNs libslirp sends to the container.

   libslirp's TCP has no window scaling: the window it offers the container is at most
   64 KiB, and Linux bounds a segment, and a TSO frame, to half the peer's largest window.
   With the 65520-byte MTU and no tap offloads the container's TCP therefore sends 32 KiB
   segments, two per round trip through this helper; lowering the MSS libslirp announces
   (in the SYN-ACK of a connection the container opens) to a third of the window puts
   three in flight, while the MTU stays large for UDP and for data libslirp sends (the
   container announces its own MSS, which is not touched: libslirp does not read it for
   the connections it opens to the host anyway). With TCP segmentation offload on tap0
   every frame is at most half the window whatever the MSS, and a third only cuts the
   frames smaller: more reads, more sends to the host and more ACKs for the same bytes;
   half the window is the clamp then.
   By default (NET_TCP_MSS_AUTO) the clamp is chosen per connection from the SYN-ACK
   itself: its window (a SYN's window is never scaled) divided by the number of segments
   the helper chose at run time from the offloads the kernel granted tap0, so it follows
   whatever buffer this libslirp gives a connection instead of a figure measured on one
   machine; an MTU smaller than that leaves the MSS alone (the clamp only lowers).
   Measurements: docs/performance.md. */
#include "net.h"

#include <string.h>

#define ETH_HLEN 14
#define TCP_FLAG_SYN 0x02
#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2

/* The offset of frame's TCP header, or 0 when it is no IPv4/IPv6 TCP segment (IPv6
   extension headers are not followed: libslirp sends none). pseudo gets the
   pseudo-header sum. */
static gsize
find_tcp (const guint8 *frame, gsize len, gsize *tcp_len, guint32 *pseudo)
{
  const guint8 *ip = frame + ETH_HLEN;
  guint16 type;

  if (len < ETH_HLEN + 40)
    return 0;
  type = (guint16) (frame[12] << 8 | frame[13]);
  if (type == 0x0800)
    {
      gsize ihl = (gsize) (ip[0] & 0x0f) * 4;
      gsize total = (gsize) (ip[2] << 8 | ip[3]);

      if ((ip[0] >> 4) != 4 || ip[9] != 6 || ihl < 20 || total < ihl + 20
          || ETH_HLEN + total > len || (ip[6] & 0x3f) != 0 || ip[7] != 0)
        return 0; /* not TCP, or a fragment */
      *tcp_len = total - ihl;
      *pseudo = net_sum16 (ip + 12, 8, 6 + (guint32) *tcp_len);
      return ETH_HLEN + ihl;
    }
  if (type == 0x86dd)
    {
      gsize payload = (gsize) (ip[4] << 8 | ip[5]);

      if ((ip[0] >> 4) != 6 || ip[6] != 6 || payload < 20 || ETH_HLEN + 40 + payload > len)
        return 0;
      *tcp_len = payload;
      *pseudo = net_sum16 (ip + 8, 32, 6 + (guint32) payload);
      return ETH_HLEN + 40;
    }
  return 0;
}

/* The offset of the next well-formed MSS option in the options of a TCP header of hlen
   bytes, starting the walk at `from`; -1 when there is none (or the options are
   malformed: such a SYN is left alone). */
static gssize
next_mss_option (const guint8 *tcp, gsize hlen, gsize from)
{
  for (gsize i = from; i < hlen;)
    {
      if (tcp[i] == TCPOPT_EOL)
        return -1;
      if (tcp[i] == TCPOPT_NOP)
        {
          i++;
          continue;
        }
      if (i + 1 >= hlen || tcp[i + 1] < 2 || i + tcp[i + 1] > hlen)
        return -1;
      if (tcp[i] == TCPOPT_MSS && tcp[i + 1] == 4)
        return (gssize) i;
      i += tcp[i + 1];
    }
  return -1;
}

static guint
mss_value (const guint8 *option)
{
  return (guint) (option[2] << 8 | option[3]);
}

gboolean
net_mss_clamp (const guint8 *frame, gsize len, guint mss, guint segments, guint8 *out,
               gsize out_size)
{
  gsize off, tcp_len, hlen;
  guint32 pseudo;
  const guint8 *tcp;
  gboolean above = FALSE;
  guint16 sum;

  /* Decided on the frame itself: most frames are not SYNs and are never copied. */
  if ((off = find_tcp (frame, len, &tcp_len, &pseudo)) == 0)
    return FALSE;
  tcp = frame + off;
  hlen = (gsize) (tcp[12] >> 4) * 4;
  if (!(tcp[13] & TCP_FLAG_SYN) || hlen < 20 || hlen > tcp_len)
    return FALSE;
  if (mss == NET_TCP_MSS_AUTO)
    mss = MAX ((guint) (tcp[14] << 8 | tcp[15]) / MAX (segments, 1u), 536u);
  for (gssize o = next_mss_option (tcp, hlen, 20); o >= 0;
       o = next_mss_option (tcp, hlen, (gsize) o + 4))
    above = above || mss_value (tcp + o) > mss;
  if (!above || len > out_size)
    return FALSE;

  memcpy (out, frame, len);
  for (gssize o = next_mss_option (tcp, hlen, 20); o >= 0;
       o = next_mss_option (tcp, hlen, (gsize) o + 4))
    if (mss_value (tcp + o) > mss)
      {
        out[off + (gsize) o + 2] = (guint8) (mss >> 8);
        out[off + (gsize) o + 3] = (guint8) (mss & 0xff);
      }
  /* A SYN carries no data: recomputing the whole checksum is cheap. */
  out[off + 16] = out[off + 17] = 0;
  sum = (guint16) ~net_fold (net_sum16 (out + off, tcp_len, pseudo));
  out[off + 16] = (guint8) (sum >> 8);
  out[off + 17] = (guint8) (sum & 0xff);
  return TRUE;
}
