/* rrun-net's own frame parsing (helpers/net-dns.c, net-mss.c): Ethernet frames the
   container writes to its tap, before libslirp sees them. A DNS query is forwarded to
   127.0.0.1:9 (discard); at most 128 such sockets are pending at once. */
#include "../../helpers/net.h"
#include "fuzz.h"

#include <arpa/inet.h>

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
  return 0;
}
