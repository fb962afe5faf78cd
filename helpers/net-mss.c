/* TCP MSS clamping of the SYNs libslirp sends to the container.

   libslirp's TCP has no window scaling: the window it offers the container is at most
   64 KiB, and Linux bounds a segment to half the peer's largest window. With the
   65520-byte MTU the container's TCP therefore sends 32 KiB segments, two per round trip
   through this helper, and container->host throughput is bound by that latency. Lowering
   the MSS libslirp announces (in the SYN-ACK of a connection the container opens) puts
   three segments in flight within the same window, while the MTU stays large for UDP and
   for data libslirp sends (the container announces its own MSS, which is not touched).
   Measurements: docs/performance.md. */
#include "net.h"

#include <string.h>

#define ETH_HLEN 14
#define TCP_FLAG_SYN 0x02
#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2

static guint32
sum16 (const guint8 *p, gsize len, guint32 sum)
{
  for (; len > 1; p += 2, len -= 2)
    sum += (guint32) p[0] << 8 | p[1];
  if (len == 1)
    sum += (guint32) p[0] << 8;
  return sum;
}

static guint16
fold (guint32 sum)
{
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return (guint16) ~sum;
}

/* The TCP header of frame, or NULL when it is no IPv4/IPv6 TCP segment (IPv6 extension
   headers are not followed: libslirp sends none). pseudo gets the pseudo-header sum. */
static guint8 *
find_tcp (guint8 *frame, gsize len, gsize *tcp_len, guint32 *pseudo)
{
  guint16 type;

  if (len < ETH_HLEN + 40)
    return NULL;
  type = (guint16) (frame[12] << 8 | frame[13]);
  if (type == 0x0800)
    {
      guint8 *ip = frame + ETH_HLEN;
      gsize ihl = (gsize) (ip[0] & 0x0f) * 4;
      gsize total = (gsize) (ip[2] << 8 | ip[3]);

      if ((ip[0] >> 4) != 4 || ip[9] != 6 || ihl < 20 || total < ihl + 20
          || ETH_HLEN + total > len || (ip[6] & 0x3f) != 0 || ip[7] != 0)
        return NULL; /* not TCP, or a fragment */
      *tcp_len = total - ihl;
      *pseudo = sum16 (ip + 12, 8, 6 + (guint32) *tcp_len);
      return ip + ihl;
    }
  if (type == 0x86dd)
    {
      guint8 *ip = frame + ETH_HLEN;
      gsize payload = (gsize) (ip[4] << 8 | ip[5]);

      if ((ip[0] >> 4) != 6 || ip[6] != 6 || payload < 20 || ETH_HLEN + 40 + payload > len)
        return NULL;
      *tcp_len = payload;
      *pseudo = sum16 (ip + 8, 32, 6 + (guint32) payload);
      return ip + 40;
    }
  return NULL;
}

gboolean
net_mss_clamp (guint8 *frame, gsize len, guint mss)
{
  gsize tcp_len, hlen;
  guint32 pseudo;
  guint8 *tcp = find_tcp (frame, len, &tcp_len, &pseudo);
  gboolean changed = FALSE;

  if (tcp == NULL || !(tcp[13] & TCP_FLAG_SYN))
    return FALSE;
  hlen = (gsize) (tcp[12] >> 4) * 4;
  if (hlen < 20 || hlen > tcp_len)
    return FALSE;
  for (gsize i = 20; i < hlen;)
    {
      guint8 kind = tcp[i];

      if (kind == TCPOPT_EOL)
        break;
      if (kind == TCPOPT_NOP)
        {
          i++;
          continue;
        }
      if (i + 1 >= hlen || tcp[i + 1] < 2 || i + tcp[i + 1] > hlen)
        break; /* malformed: leave it alone */
      if (kind == TCPOPT_MSS && tcp[i + 1] == 4)
        {
          guint value = (guint) (tcp[i + 2] << 8 | tcp[i + 3]);
          if (value > mss)
            {
              tcp[i + 2] = (guint8) (mss >> 8);
              tcp[i + 3] = (guint8) (mss & 0xff);
              changed = TRUE;
            }
        }
      i += tcp[i + 1];
    }
  if (changed)
    {
      /* A SYN carries no data: recomputing the whole checksum is cheap. */
      guint16 sum;

      tcp[16] = tcp[17] = 0;
      sum = fold (sum16 (tcp, tcp_len, pseudo));
      tcp[16] = (guint8) (sum >> 8);
      tcp[17] = (guint8) (sum & 0xff);
    }
  return changed;
}
