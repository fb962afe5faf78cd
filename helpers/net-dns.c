/* The container's DNS server (10.0.2.3 by default) for UDP. Queries are taken off the tap
   before libslirp sees them and sent from a host socket to our chosen upstream; answers are
   written back to the tap as UDP from the DNS address. libslirp 4.7 reads the host's
   /etc/resolv.conf itself and offers no way to name another upstream (a test's dnsmasq on
   127.0.0.1:PORT), and it would pass systemd-resolved's 127.0.0.53 stub on as is.
   DNS over TCP still goes through libslirp to the host's resolver. */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PENDING 128
#define QUERY_TIMEOUT_US (5 * G_USEC_PER_SEC)
#define ETH_HLEN 14

typedef struct
{
  int fd;
  gint64 deadline;
  guint8 guest_mac[6], our_mac[6];
  struct in_addr guest_ip;
  guint16 guest_port;
} Pending;

struct NetDns
{
  const NetConfig *cfg;
  int tap_fd;
  Pending pending[MAX_PENDING];
  guint n_pending;
  guint poll_start, poll_count;
  guint16 ip_id;
  guint8 buf[ETH_HLEN + 20 + 8 + 65536];
};

NetDns *
net_dns_new (const NetConfig *cfg, int tap_fd)
{
  NetDns *dns = g_new0 (NetDns, 1);

  dns->cfg = cfg;
  dns->tap_fd = tap_fd;
  return dns;
}

void
net_dns_free (NetDns *dns)
{
  if (dns == NULL)
    return;
  for (guint i = 0; i < dns->n_pending; i++)
    close (dns->pending[i].fd);
  g_free (dns);
}

static void
drop_pending (NetDns *dns, guint i)
{
  close (dns->pending[i].fd);
  dns->pending[i] = dns->pending[--dns->n_pending];
}

gboolean
net_dns_handle_frame (NetDns *dns, const guint8 *frame, gsize len)
{
  /* Copies, not casts: behind the 14-byte Ethernet header the IP header is not 4-byte
     aligned in the frame buffer. */
  struct iphdr ip;
  struct udphdr udp;
  const guint8 *payload;
  gsize ihl, payload_len;
  Pending *p;
  int fd;

  if (len < ETH_HLEN + sizeof ip + sizeof udp || frame[12] != 0x08 || frame[13] != 0x00)
    return FALSE;
  memcpy (&ip, frame + ETH_HLEN, sizeof ip);
  ihl = ip.ihl * 4u;
  if (ip.version != 4 || ip.protocol != IPPROTO_UDP || ip.daddr != dns->cfg->dns.s_addr
      || ihl < 20 || len < ETH_HLEN + ihl + sizeof udp
      || (ntohs (ip.frag_off) & (IP_MF | IP_OFFMASK)) != 0)
    return FALSE;
  memcpy (&udp, frame + ETH_HLEN + ihl, sizeof udp);
  if (ntohs (udp.dest) != 53)
    return FALSE;
  payload = frame + ETH_HLEN + ihl + sizeof udp;
  payload_len = MIN ((gsize) ntohs (udp.len), len - ETH_HLEN - ihl);
  if (payload_len < sizeof udp)
    return TRUE;
  payload_len -= sizeof udp;
  if (dns->n_pending == MAX_PENDING)
    drop_pending (dns, 0); /* the oldest is the likeliest to be lost already */
  fd = socket (dns->cfg->dns_upstream.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return TRUE;
  if (connect (fd, (const struct sockaddr *) &dns->cfg->dns_upstream, dns->cfg->dns_upstream_len)
          < 0
      || send (fd, payload, payload_len, 0) < 0)
    {
      g_debug ("dns: cannot send a query upstream: %s", g_strerror (errno));
      close (fd);
      return TRUE;
    }
  p = &dns->pending[dns->n_pending++];
  p->fd = fd;
  p->deadline = g_get_monotonic_time () + QUERY_TIMEOUT_US;
  memcpy (p->guest_mac, frame + 6, 6);
  memcpy (p->our_mac, frame, 6);
  p->guest_ip.s_addr = ip.saddr;
  p->guest_port = udp.source;
  return TRUE;
}

static guint16
ip_checksum (const void *data, gsize len)
{
  const guint8 *b = data;
  guint32 sum = 0;

  for (gsize i = 0; i + 1 < len; i += 2)
    sum += (guint32) (b[i] << 8 | b[i + 1]);
  if (len & 1)
    sum += (guint32) b[len - 1] << 8;
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return htons ((guint16) ~sum);
}

static void
answer (NetDns *dns, Pending *p)
{
  guint8 *eth = dns->buf;
  guint8 *payload = eth + ETH_HLEN + 20 + 8;
  gsize room = sizeof dns->buf - (gsize) (payload - eth);
  ssize_t n = recv (p->fd, payload, room, 0);
  struct iphdr ip = { 0 };
  struct udphdr udp = { 0 };
  gsize total;

  if (n < 0 || (gsize) n + 28 > dns->cfg->mtu)
    return; /* the resolver retries, or falls back to TCP on a truncated answer */
  memcpy (eth, p->guest_mac, 6);
  memcpy (eth + 6, p->our_mac, 6);
  eth[12] = 0x08;
  eth[13] = 0x00;
  /* Built aligned, then copied in: the headers sit at odd offsets of buf. */
  ip.version = 4;
  ip.ihl = 5;
  ip.tot_len = htons ((guint16) (20 + 8 + n));
  ip.id = htons (dns->ip_id++);
  ip.ttl = 64;
  ip.protocol = IPPROTO_UDP;
  ip.saddr = dns->cfg->dns.s_addr;
  ip.daddr = p->guest_ip.s_addr;
  ip.check = ip_checksum (&ip, 20);
  udp.source = htons (53);
  udp.dest = p->guest_port;
  udp.len = htons ((guint16) (8 + n));
  udp.check = 0; /* optional over IPv4 */
  memcpy (eth + ETH_HLEN, &ip, 20);
  memcpy (eth + ETH_HLEN + 20, &udp, 8);
  total = ETH_HLEN + 28 + (gsize) n;
  if (net_tap_write (dns->tap_fd, eth, total) < 0)
    g_debug ("dns: cannot write an answer to the tap: %s", g_strerror (errno));
}

void
net_dns_add_pollfds (NetDns *dns, GArray *pollfds)
{
  dns->poll_start = pollfds->len;
  dns->poll_count = dns->n_pending;
  for (guint i = 0; i < dns->n_pending; i++)
    {
      GPollFD pfd = { .fd = dns->pending[i].fd, .events = G_IO_IN };
      g_array_append_val (pollfds, pfd);
    }
}

void
net_dns_dispatch (NetDns *dns, const GPollFD *pollfds, guint n)
{
  gint64 now = g_get_monotonic_time ();

  /* Walk backwards: drop_pending moves the last entry into the hole. Entries added since
     the poll (index >= poll_count) are not in pollfds. */
  for (guint i = MIN (dns->poll_count, dns->n_pending); i-- > 0;)
    {
      const GPollFD *pfd = dns->poll_start + i < n ? &pollfds[dns->poll_start + i] : NULL;

      if (pfd != NULL && pfd->fd == dns->pending[i].fd && (pfd->revents & G_IO_IN))
        {
          answer (dns, &dns->pending[i]);
          drop_pending (dns, i);
        }
      else if (dns->pending[i].deadline < now)
        drop_pending (dns, i);
    }
}

gint64
net_dns_next_timeout_ms (NetDns *dns)
{
  gint64 now = g_get_monotonic_time (), best = -1;

  for (guint i = 0; i < dns->n_pending; i++)
    {
      gint64 ms = MAX (0, (dns->pending[i].deadline - now) / 1000 + 1);
      if (best < 0 || ms < best)
        best = ms;
    }
  return best;
}

gboolean
net_parse_sockaddr (const char *text, guint16 default_port, struct sockaddr_storage *out,
                    socklen_t *out_len, GError **error)
{
  g_autofree char *host = NULL;
  const char *port_text = NULL;
  struct sockaddr_in *sin = (struct sockaddr_in *) out;
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) out;
  guint64 port = default_port;

  memset (out, 0, sizeof *out);
  if (text[0] == '[')
    {
      const char *end = strchr (text, ']');
      if (end == NULL || (end[1] != '\0' && end[1] != ':'))
        return net_throw (error, "invalid address \"%s\"", text);
      host = g_strndup (text + 1, (gsize) (end - text - 1));
      if (end[1] == ':')
        port_text = end + 2;
    }
  else if (strchr (text, ':') != NULL && strchr (text, ':') == strrchr (text, ':'))
    {
      const char *colon = strchr (text, ':');
      host = g_strndup (text, (gsize) (colon - text));
      port_text = colon + 1;
    }
  else
    host = g_strdup (text);
  if (port_text != NULL
      && (!g_ascii_string_to_unsigned (port_text, 10, 1, 65535, &port, NULL)))
    return net_throw (error, "invalid port in \"%s\"", text);
  if (inet_pton (AF_INET, host, &sin->sin_addr) == 1)
    {
      sin->sin_family = AF_INET;
      sin->sin_port = htons ((guint16) port);
      *out_len = sizeof *sin;
      return TRUE;
    }
  if (inet_pton (AF_INET6, host, &sin6->sin6_addr) == 1)
    {
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = htons ((guint16) port);
      *out_len = sizeof *sin6;
      return TRUE;
    }
  return net_throw (error, "invalid address \"%s\": not an IPv4 or IPv6 address", text);
}

static char *
first_nameserver (const char *path)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) words = g_strsplit_set (g_strstrip (lines[i]), " \t", -1);
      guint n = g_strv_length (words);

      for (guint j = 1; j < n; j++)
        if (g_str_equal (words[0], "nameserver") && *words[j] != '\0')
          return g_strdup (words[j]);
    }
  return NULL;
}

gboolean
net_dns_default_upstream (struct sockaddr_storage *out, socklen_t *out_len, GError **error)
{
  g_autofree char *ns = first_nameserver ("/etc/resolv.conf");

  /* systemd-resolved's stub answers on the host's loopback only; its own file lists the
     servers it forwards to, which is what podman and slirp4netns use as well. */
  if (ns != NULL && g_str_has_prefix (ns, "127.0.0.53"))
    {
      g_autofree char *real = first_nameserver ("/run/systemd/resolve/resolv.conf");
      if (real != NULL)
        {
          g_free (ns);
          ns = g_steal_pointer (&real);
        }
    }
  if (ns == NULL)
    ns = g_strdup ("127.0.0.1"); /* what the resolver assumes without a nameserver line */
  if (strchr (ns, '%') != NULL)
    *strchr (ns, '%') = '\0'; /* link-local zone: not reachable by address alone */
  return net_parse_sockaddr (ns, 53, out, out_len, error);
}
