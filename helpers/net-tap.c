/* The tap device's frames behind a virtio-net header (IFF_VNET_HDR), and its offloads
   (docs/architecture.md, "Helper processes").

   With TUN_F_CSUM and TUN_F_TSO4/6 granted (TUNSETOFFLOAD), the container's TCP hands the
   tap one large segment (up to 64 KiB, GSO) with its checksum left partial, instead of
   cutting it into MSS-sized frames and summing each in software first. The helper
   completes the checksum and gives libslirp the whole segment: BSD TCP accepts a segment
   of any size that fits its window, whatever MSS it announced, so one tap read, one
   slirp_input and one send() to the host carry what took two or three before.
   What is used is what the kernel grants at run time; a kernel that refuses the offloads
   leaves plain frames behind the header. Frames to the container carry an all-zero
   header (no offload: libslirp has summed and segmented them already). */
#include "net.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#define ETH_HLEN 14

static gboolean vnet; /* frames carry a virtio_net_hdr (tap0 was made with IFF_VNET_HDR) */

gsize
net_tap_header_len (void)
{
  return vnet ? sizeof (struct virtio_net_hdr) : 0;
}

unsigned int
net_tap_offload (int tap_fd, gboolean vnet_hdr, gboolean want)
{
  unsigned int offload = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;

  vnet = vnet_hdr;
  if (!vnet_hdr || !want)
    return 0;
  if (ioctl (tap_fd, TUNSETOFFLOAD, offload) == 0)
    return offload;
  /* An old kernel without TSO for tap: checksums alone still save a pass. */
  offload = TUN_F_CSUM;
  if (ioctl (tap_fd, TUNSETOFFLOAD, offload) == 0)
    return offload;
  g_debug ("tap offloads refused: %s", g_strerror (errno));
  return 0;
}

/* The ones' complement sum of len bytes (RFC 1071), folded to 16 bits, complemented. Summed
   as native 64-bit words into 128 bits (add and add-with-carry, 8 bytes a step): the
   order of the bytes in a word does not change a ones' complement sum, the result is
   stored the same way round. About 8 times faster than a 16-bit loop. */
guint16
net_tap_checksum (const guint8 *p, gsize len)
{
  unsigned __int128 acc = 0;
  guint64 w[4], lo, hi, sum;

  for (; len >= 32; p += 32, len -= 32)
    {
      memcpy (w, p, 32);
      acc += w[0];
      acc += w[1];
      acc += w[2];
      acc += w[3];
    }
  for (; len >= 8; p += 8, len -= 8)
    {
      memcpy (w, p, 8);
      acc += w[0];
    }
  if (len > 0)
    {
      w[0] = 0; /* the odd bytes at their own offsets, zero behind them */
      memcpy (w, p, len);
      acc += w[0];
    }
  lo = (guint64) acc;
  hi = (guint64) (acc >> 64);
  sum = lo + hi;
  sum += sum < lo;
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffffffff) + (sum >> 32);
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return (guint16) ~sum;
}

gboolean
net_tap_complete_checksum (guint8 *frame, gsize len, gsize start, gsize offset)
{
  guint16 sum;

  if (start >= len || offset + 2 > len - start)
    return FALSE;
  /* The field holds the pseudo-header's sum; the sum over it and the rest is the checksum. */
  sum = net_tap_checksum (frame + start, len - start);
  memcpy (frame + start + offset, &sum, 2);
  return TRUE;
}

guint8 *
net_tap_frame (guint8 *buf, gsize n, gsize *len, NetTapCsum *csum)
{
  struct virtio_net_hdr h;
  guint8 *frame;

  csum->partial = FALSE;
  if (!vnet)
    {
      *len = n;
      return buf;
    }
  if (n < sizeof h + ETH_HLEN)
    return NULL;
  memcpy (&h, buf, sizeof h);
  frame = buf + sizeof h;
  *len = n - sizeof h;
  switch (h.gso_type & ~VIRTIO_NET_HDR_GSO_ECN)
    {
    case VIRTIO_NET_HDR_GSO_NONE:
    case VIRTIO_NET_HDR_GSO_TCPV4:
    case VIRTIO_NET_HDR_GSO_TCPV6:
      /* A TCP super-segment already has the total length in its IP header: libslirp takes
         it as one segment. */
      break;
    default:
      return NULL; /* UDP fragmentation offload was not asked for */
    }
  if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
    {
      csum->partial = TRUE;
      csum->start = h.csum_start;
      csum->offset = h.csum_offset;
      if (csum->start >= *len || csum->offset + 2 > *len - csum->start)
        return NULL;
    }
  return frame;
}

gboolean
net_tap_finish (guint8 *frame, gsize len, const NetTapCsum *csum)
{
  return !csum->partial || net_tap_complete_checksum (frame, len, csum->start, csum->offset);
}

ssize_t
net_tap_write (int tap_fd, const void *frame, size_t len)
{
  static const struct virtio_net_hdr plain = { 0 };
  struct iovec iov[2] = { { (void *) &plain, sizeof plain }, { (void *) frame, len } };
  ssize_t n;

  if (!vnet)
    return write (tap_fd, frame, len);
  n = writev (tap_fd, iov, 2);
  return n < 0 ? n : MAX (n - (ssize_t) sizeof plain, 0);
}
