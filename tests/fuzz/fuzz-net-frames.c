/* rrun-net's own frame parsing (helpers/net-dns.c, net-mss.c, net-tap.c, net-tcp-wire.c):
   Ethernet frames the container writes to its tap, before libslirp sees them. A DNS
   query is forwarded to 127.0.0.1:9 (discard); at most 128 such sockets are pending at
   once. A TCP segment is parsed and a reply built from what was parsed; the same bytes
   are then read as a frame behind a virtio-net header. */
#include "../../helpers/net.h"
#include "fuzz.h"

#include <arpa/inet.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static NetConfig cfg;
  static NetDns *dns;
  static guint8 out[65536 + 64];

  fuzz_init ();
  if (dns == NULL)
    {
      struct sockaddr_in *up = (struct sockaddr_in *) &cfg.dns_upstream;

      inet_pton (AF_INET, "10.0.2.3", &cfg.dns);
      up->sin_family = AF_INET;
      up->sin_port = htons (9);
      inet_pton (AF_INET, "127.0.0.1", &up->sin_addr);
      cfg.dns_upstream_len = sizeof *up;
      dns = net_dns_new (&cfg, -1);
    }
  (void) net_dns_handle_frame (dns, data, size);
  (void) net_mss_clamp (data, size, 1400, 2, out, sizeof out);
  {
    NetTcpSegment seg;
    static guint8 copy[65536 + 64];

    if (net_tcp_parse (data, size, &seg))
      {
        gsize len = MIN (seg.len, sizeof out - NET_TCP_HEADER_MAX);
        gsize h = net_tcp_build (out, seg.window & 1, &seg.key, seg.guest_mac, seg.our_mac,
                                 1, seg.ack, seg.seq, seg.flags, seg.window, NULL, 0,
                                 seg.payload, len);

        g_assert (h <= NET_TCP_HEADER_MAX);
      }
    if (size <= sizeof copy)
      {
        NetTapCsum csum;
        gsize len;
        guint8 *f;

        memcpy (copy, data, size);
        (void) net_tap_offload (-1, TRUE, FALSE); /* frames behind the header from here on */
        if ((f = net_tap_frame (copy, size, &len, &csum)) != NULL)
          (void) net_tap_finish (f, len, &csum);
        (void) net_tap_offload (-1, FALSE, FALSE);
      }
  }
  return 0;
}
