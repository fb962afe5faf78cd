/* rrun's DNS server (src/network/dns-msg.c): queries from containers, answered against a
   fixed network's names, and hosts files (the first byte chooses). Every action and reply
   size is tried; a reply must fit the buffer it was given. */
#include "network/dns.h"
#include "fuzz.h"

#include <arpa/inet.h>
#include <netinet/in.h>

static const char hosts_text[] = "10.89.0.2 web 0123456789ab www.alias dns=192.0.2.53\n"
                                 "fd00::2 web\n"
                                 "10.89.0.3 db.1\n";

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static RrunDnsHosts *hosts;
  static guint8 out[RRUN_DNS_MAX_MESSAGE];
  /* A query for "web" A; its id is the input's first two bytes when there are any. */
  guint8 web[] = { 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'e', 'b', 0, 0, 1, 0, 1 };
  gsize len = 0;

  fuzz_init ();
  if (hosts == NULL)
    hosts = rrun_dns_hosts_parse (hosts_text);
  if (size > 0 && data[0] == 'H')
    {
      g_autofree char *text = fuzz_text (data + 1, size - 1);
      g_autoptr(RrunDnsHosts) parsed = rrun_dns_hosts_parse (text);
      /* Parsed only to be freed: the listen-address parser must not crash on it. */
      g_autoptr(RrunDnsListen) listen = rrun_dns_listen_parse (text, NULL);

      struct sockaddr_in client = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (0x0a590002) };
      struct sockaddr_storage ups[RRUN_DNS_MAX_UPSTREAMS];

      (void) listen;
      (void) rrun_dns_answer (parsed, TRUE, web, sizeof web, out, sizeof out, &len);
      g_assert (rrun_dns_hosts_upstreams (parsed, (struct sockaddr *) &client, ups,
                                          G_N_ELEMENTS (ups))
                <= RRUN_DNS_MAX_UPSTREAMS);
      return 0;
    }
  for (int forward = 0; forward < 2; forward++)
    {
      gsize sizes[] = { 0, 12, RRUN_DNS_UDP_SIZE, sizeof out };

      for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
        {
          len = 0;
          if (rrun_dns_answer (hosts, forward, data, size, out, sizes[i], &len)
              == RRUN_DNS_REPLY)
            g_assert (len >= 12 && len <= sizes[i]);
        }
    }
  (void) rrun_dns_reply_matches (0x1234, data, size);
  return 0;
}
