/* rrun's DNS server, its message logic (network/dns-msg.c): the hosts files, which
   queries are answered, which go upstream, and what malformed ones get. */
#include "network/dns.h"
#include "error.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#define HOSTS_TEXT                                                                          \
  "# written by rrun\n"                                                                     \
  "10.89.0.2 web 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef "         \
  "0123456789ab www.alias\n"                                                                \
  "fd00::2\tweb   # its IPv6 address\n"                                                     \
  "10.89.0.3 db.1 Cache\n"                                                                  \
  "not-an-ip bad\n"                                                                         \
  "10.89.0.4 bad/name ok\n"                                                                 \
  "\n"

/* A query for name (dotted) of this type, with the RD flag and an id of 0x1234. */
static GByteArray *
query (const char *name, guint16 type)
{
  GByteArray *q = g_byte_array_new ();
  const guint8 header[12] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
  g_auto(GStrv) labels = g_strsplit (name, ".", -1);
  guint8 tail[5] = { 0, (guint8) (type >> 8), (guint8) type, 0, 1 };

  g_byte_array_append (q, header, sizeof header);
  for (guint i = 0; labels[i] != NULL; i++)
    {
      guint8 n = (guint8) strlen (labels[i]);

      if (n == 0)
        continue;
      g_byte_array_append (q, &n, 1);
      g_byte_array_append (q, (const guint8 *) labels[i], n);
    }
  g_byte_array_append (q, tail, sizeof tail);
  return q;
}

typedef struct
{
  RrunDnsAction action;
  guint8 out[RRUN_DNS_MAX_MESSAGE];
  gsize len;
} Result;

static void
ask (const RrunDnsHosts *hosts, gboolean forward, GByteArray *q, gsize out_size, Result *r)
{
  r->len = 0;
  r->action = rrun_dns_answer (hosts, forward, q->data, q->len, r->out, out_size, &r->len);
}

static guint
rcode (const Result *r)
{
  return r->out[3] & 0xf;
}

static guint
ancount (const Result *r)
{
  return (guint) (r->out[6] << 8 | r->out[7]);
}

/* The rdata of the i-th answer (each: a 2-byte name pointer, type, class, TTL, length). */
static const guint8 *
rdata (const Result *r, gsize qlen, guint i, guint16 *out_type, gsize *out_len)
{
  gsize off = qlen;

  for (guint k = 0;; k++)
    {
      gsize n = (gsize) (r->out[off + 10] << 8 | r->out[off + 11]);

      g_assert_cmpuint (off + 12 + n, <=, r->len);
      if (k == i)
        {
          *out_type = (guint16) (r->out[off + 2] << 8 | r->out[off + 3]);
          *out_len = n;
          return r->out + off + 12;
        }
      off += 12 + n;
    }
}

static struct sockaddr_in
in4 (const char *ip)
{
  struct sockaddr_in sin = { .sin_family = AF_INET };

  g_assert_cmpint (inet_pton (AF_INET, ip, &sin.sin_addr), ==, 1);
  return sin;
}

/* A line's dns= field: the container's --dns servers, by its address; a bad field is
   ignored whole; at most RRUN_DNS_MAX_UPSTREAMS; the first line of an address wins. */
static void
test_hosts_upstreams (void)
{
  g_autoptr(RrunDnsHosts) hosts = rrun_dns_hosts_parse (
      "10.89.0.2 web dns=192.0.2.53,2001:db8::53\n"
      "10.89.0.3 db dns=192.0.2.1,not-an-ip\n"
      "10.89.0.4 four dns=1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4\n"
      "10.89.0.5 five dns=\n"
      "10.89.0.2 again dns=198.51.100.1\n"
      "10.89.0.6 six dns=127.0.0.53 # a comment\n");
  struct sockaddr_storage out[RRUN_DNS_MAX_UPSTREAMS];
  struct sockaddr_in web = in4 ("10.89.0.2"), db = in4 ("10.89.0.3"), four = in4 ("10.89.0.4");
  struct sockaddr_in five = in4 ("10.89.0.5"), six = in4 ("10.89.0.6"), other = in4 ("10.89.0.9");
  struct sockaddr_in6 mapped = { .sin6_family = AF_INET6 };
  char text[INET6_ADDRSTRLEN];
  const struct sockaddr_in *o4 = (const struct sockaddr_in *) &out[0];
  const struct sockaddr_in6 *o6 = (const struct sockaddr_in6 *) &out[1];

  g_assert_cmpuint (rrun_dns_hosts_upstreams (hosts, (struct sockaddr *) &web, out, 3), ==, 2);
  g_assert_cmpint (o4->sin_family, ==, AF_INET);
  g_assert_cmpuint (ntohs (o4->sin_port), ==, 53);
  g_assert_cmpstr (inet_ntop (AF_INET, &o4->sin_addr, text, sizeof text), ==, "192.0.2.53");
  g_assert_cmpint (o6->sin6_family, ==, AF_INET6);
  g_assert_cmpuint (ntohs (o6->sin6_port), ==, 53);
  g_assert_cmpstr (inet_ntop (AF_INET6, &o6->sin6_addr, text, sizeof text), ==, "2001:db8::53");
  /* max bounds what is written */
  g_assert_cmpuint (rrun_dns_hosts_upstreams (hosts, (struct sockaddr *) &web, out, 1), ==, 1);
  g_assert_cmpuint (rrun_dns_hosts_upstreams (hosts, (struct sockaddr *) &db, out, 3), ==, 0);
  g_assert_cmpuint (rrun_dns_hosts_upstreams (hosts, (struct sockaddr *) &four, out, 3), ==, 0);
  g_assert_cmpuint (rrun_dns_hosts_upstreams (hosts, (struct sockaddr *) &five, out, 3), ==, 0);
  g_assert_cmpuint (rrun_dns_hosts_upstreams (hosts, (struct sockaddr *) &other, out, 3), ==, 0);
  g_assert_cmpuint (rrun_dns_hosts_upstreams (hosts, (struct sockaddr *) &six, out, 3), ==, 1);
  g_assert_cmpstr (inet_ntop (AF_INET, &o4->sin_addr, text, sizeof text), ==, "127.0.0.53");
  g_assert_cmpuint (rrun_dns_hosts_upstreams (NULL, (struct sockaddr *) &six, out, 3), ==, 0);
  /* a v4-mapped source is the IPv4 container's */
  g_assert_cmpint (inet_pton (AF_INET6, "::ffff:10.89.0.2", &mapped.sin6_addr), ==, 1);
  g_assert_cmpuint (rrun_dns_hosts_upstreams (hosts, (struct sockaddr *) &mapped, out, 3), ==, 2);
  /* the field is not a name: the names are as before */
  g_assert_cmpuint (rrun_dns_hosts_size (hosts), ==, 6);
}

static void
test_hosts_parse (void)
{
  g_autoptr(RrunDnsHosts) hosts = rrun_dns_hosts_parse (HOSTS_TEXT);
  g_autoptr(RrunDnsHosts) empty = rrun_dns_hosts_parse (NULL);

  /* web ×2 addresses, the id, short id, alias; db.1, cache; ok (bad/name is not a name) */
  g_assert_cmpuint (rrun_dns_hosts_size (hosts), ==, 8);
  g_assert_cmpuint (rrun_dns_hosts_size (empty), ==, 0);
}

static void
test_a_record (void)
{
  g_autoptr(RrunDnsHosts) hosts = rrun_dns_hosts_parse (HOSTS_TEXT);
  /* (the full 64-character ID is no DNS label: at most 63, RFC 1035) */
  const char *names[] = { "web", "WEB", "web.dns.rrun", "Web.DNS.Rrun.", "0123456789ab",
                          "www.alias", "www.alias.dns.rrun" };
  Result r;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(GByteArray) q = query (names[i], 1);
      const guint8 want[4] = { 10, 89, 0, 2 };
      const guint8 *d;
      guint16 type;
      gsize n;

      ask (hosts, TRUE, q, RRUN_DNS_UDP_SIZE, &r);
      g_assert_cmpint (r.action, ==, RRUN_DNS_REPLY);
      g_assert_cmpuint (r.out[0], ==, 0x12);
      g_assert_cmpuint (r.out[1], ==, 0x34);
      g_assert_cmpuint (r.out[2] & 0x80, ==, 0x80); /* QR */
      g_assert_cmpuint (r.out[2] & 0x04, ==, 0x04); /* AA */
      g_assert_cmpuint (r.out[2] & 0x01, ==, 0x01); /* RD, copied */
      g_assert_cmpuint (rcode (&r), ==, 0);
      g_assert_cmpuint (ancount (&r), ==, 1);
      g_assert_cmpmem (r.out + 12, q->len - 12, q->data + 12, q->len - 12);
      d = rdata (&r, q->len, 0, &type, &n);
      g_assert_cmpuint (type, ==, 1);
      g_assert_cmpmem (d, n, want, 4);
    }
}

static void
test_aaaa_and_any (void)
{
  g_autoptr(RrunDnsHosts) hosts = rrun_dns_hosts_parse (HOSTS_TEXT);
  g_autoptr(GByteArray) q6 = query ("web", 28);
  g_autoptr(GByteArray) qany = query ("web", 255);
  g_autoptr(GByteArray) qmx = query ("web", 15);
  g_autoptr(GByteArray) q6db = query ("db.1", 28);
  guint8 want[16];
  const guint8 *d;
  guint16 type;
  gsize n;
  Result r;

  inet_pton (AF_INET6, "fd00::2", want);
  ask (hosts, TRUE, q6, RRUN_DNS_UDP_SIZE, &r);
  g_assert_cmpint (r.action, ==, RRUN_DNS_REPLY);
  g_assert_cmpuint (ancount (&r), ==, 1);
  d = rdata (&r, q6->len, 0, &type, &n);
  g_assert_cmpuint (type, ==, 28);
  g_assert_cmpmem (d, n, want, 16);

  ask (hosts, TRUE, qany, RRUN_DNS_UDP_SIZE, &r);
  g_assert_cmpuint (ancount (&r), ==, 2);

  /* a name of ours with no record of that type: NOERROR, no answer (not NXDOMAIN, not
     upstream) */
  ask (hosts, TRUE, qmx, RRUN_DNS_UDP_SIZE, &r);
  g_assert_cmpint (r.action, ==, RRUN_DNS_REPLY);
  g_assert_cmpuint (rcode (&r), ==, 0);
  g_assert_cmpuint (ancount (&r), ==, 0);
  ask (hosts, TRUE, q6db, RRUN_DNS_UDP_SIZE, &r);
  g_assert_cmpuint (rcode (&r), ==, 0);
  g_assert_cmpuint (ancount (&r), ==, 0);
}

static void
test_nxdomain_and_forward (void)
{
  g_autoptr(RrunDnsHosts) hosts = rrun_dns_hosts_parse (HOSTS_TEXT);
  /* "www" is a single label not on the network ("www.alias" is) */
  const char *nx[] = { "nosuch", "nosuch.dns.rrun", "a.b.dns.rrun", "localhost", "www" };
  const char *up[] = { "example.com", "web.example.com", "" };
  Result r;

  for (guint i = 0; i < G_N_ELEMENTS (nx); i++)
    {
      g_autoptr(GByteArray) q = query (nx[i], 1);

      ask (hosts, TRUE, q, RRUN_DNS_UDP_SIZE, &r);
      g_assert_cmpint (r.action, ==, RRUN_DNS_REPLY);
      g_assert_cmpuint (rcode (&r), ==, 3);
      g_assert_cmpuint (ancount (&r), ==, 0);
    }
  for (guint i = 0; i < G_N_ELEMENTS (up); i++)
    {
      g_autoptr(GByteArray) q = query (up[i], 1);

      ask (hosts, TRUE, q, RRUN_DNS_UDP_SIZE, &r);
      g_assert_cmpint (r.action, ==, RRUN_DNS_FORWARD);
    }
  /* no names at all (no hosts file yet): a single label is still NXDOMAIN */
  {
    g_autoptr(GByteArray) q = query ("web", 1);

    ask (NULL, TRUE, q, RRUN_DNS_UDP_SIZE, &r);
    g_assert_cmpuint (rcode (&r), ==, 3);
  }
}

static void
test_internal_refuses (void)
{
  g_autoptr(RrunDnsHosts) hosts = rrun_dns_hosts_parse (HOSTS_TEXT);
  g_autoptr(GByteArray) q = query ("example.com", 1);
  g_autoptr(GByteArray) ours = query ("web", 1);
  Result r;

  ask (hosts, FALSE, q, RRUN_DNS_UDP_SIZE, &r);
  g_assert_cmpint (r.action, ==, RRUN_DNS_REPLY);
  g_assert_cmpuint (rcode (&r), ==, 5);
  ask (hosts, FALSE, ours, RRUN_DNS_UDP_SIZE, &r);
  g_assert_cmpuint (ancount (&r), ==, 1);
}

static void
test_ptr (void)
{
  g_autoptr(RrunDnsHosts) hosts = rrun_dns_hosts_parse (HOSTS_TEXT);
  g_autoptr(GByteArray) q4 = query ("2.0.89.10.in-addr.arpa", 12);
  g_autoptr(GByteArray) q6 = query ("2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa", 12);
  g_autoptr(GByteArray) qdb = query ("3.0.89.10.in-addr.arpa", 12);
  g_autoptr(GByteArray) qother = query ("9.0.89.10.in-addr.arpa", 12);
  g_autoptr(GByteArray) qbad = query ("300.0.89.10.in-addr.arpa", 12);
  const guint8 web[] = "\3web\3dns\4rrun";
  const guint8 db[] = "\2db\0011\3dns\4rrun";
  const guint8 *d;
  guint16 type;
  gsize n;
  Result r;

  ask (hosts, TRUE, q4, RRUN_DNS_UDP_SIZE, &r);
  g_assert_cmpint (r.action, ==, RRUN_DNS_REPLY);
  g_assert_cmpuint (ancount (&r), ==, 1);
  d = rdata (&r, q4->len, 0, &type, &n);
  g_assert_cmpuint (type, ==, 12);
  g_assert_cmpmem (d, n, web, sizeof web);
  ask (hosts, TRUE, q6, RRUN_DNS_UDP_SIZE, &r);
  d = rdata (&r, q6->len, 0, &type, &n);
  g_assert_cmpmem (d, n, web, sizeof web);
  ask (hosts, TRUE, qdb, RRUN_DNS_UDP_SIZE, &r);
  d = rdata (&r, qdb->len, 0, &type, &n);
  g_assert_cmpmem (d, n, db, sizeof db);
  ask (hosts, TRUE, qother, RRUN_DNS_UDP_SIZE, &r);
  g_assert_cmpint (r.action, ==, RRUN_DNS_FORWARD);
  ask (hosts, TRUE, qbad, RRUN_DNS_UDP_SIZE, &r);
  g_assert_cmpint (r.action, ==, RRUN_DNS_FORWARD);
}

static void
test_truncated_for_udp (void)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(RrunDnsHosts) hosts = NULL;
  g_autoptr(GByteArray) q = query ("many", 1);
  Result r;

  for (int i = 1; i <= 100; i++)
    g_string_append_printf (text, "10.89.0.%d many\n", i);
  hosts = rrun_dns_hosts_parse (text->str);
  ask (hosts, TRUE, q, RRUN_DNS_UDP_SIZE, &r);
  g_assert_cmpint (r.action, ==, RRUN_DNS_REPLY);
  g_assert_cmpuint (r.out[2] & 0x02, ==, 0x02); /* TC */
  g_assert_cmpuint (ancount (&r), ==, 0);
  g_assert_cmpuint (r.len, <=, RRUN_DNS_UDP_SIZE);
  ask (hosts, TRUE, q, RRUN_DNS_MAX_MESSAGE, &r);
  g_assert_cmpuint (r.out[2] & 0x02, ==, 0);
  g_assert_cmpuint (ancount (&r), ==, 100);
}

static void
test_malformed (void)
{
  g_autoptr(RrunDnsHosts) hosts = rrun_dns_hosts_parse (HOSTS_TEXT);
  g_autoptr(GByteArray) q = query ("web", 1);
  Result r;

  /* shorter than a header; cut anywhere in the question */
  for (gsize n = 0; n < q->len; n++)
    {
      r.len = 0;
      r.action = rrun_dns_answer (hosts, TRUE, q->data, n, r.out, RRUN_DNS_UDP_SIZE, &r.len);
      g_assert_cmpint (r.action, ==, RRUN_DNS_DROP);
    }
  /* a reply (QR set): never answered */
  q->data[2] |= 0x80;
  ask (hosts, TRUE, q, RRUN_DNS_UDP_SIZE, &r);
  g_assert_cmpint (r.action, ==, RRUN_DNS_DROP);
  q->data[2] &= 0x7f;
  /* a compression pointer in the question */
  q->data[12] = 0xc0;
  ask (hosts, TRUE, q, RRUN_DNS_UDP_SIZE, &r);
  g_assert_cmpint (r.action, ==, RRUN_DNS_DROP);
  q->data[12] = 3;
  /* another opcode: NOTIMP; two questions: FORMERR */
  q->data[2] |= 0x10; /* opcode 2 (STATUS) */
  ask (hosts, TRUE, q, RRUN_DNS_UDP_SIZE, &r);
  g_assert_cmpint (r.action, ==, RRUN_DNS_REPLY);
  g_assert_cmpuint (rcode (&r), ==, 4);
  q->data[2] &= ~0x10;
  q->data[5] = 2;
  ask (hosts, TRUE, q, RRUN_DNS_UDP_SIZE, &r);
  g_assert_cmpint (r.action, ==, RRUN_DNS_REPLY);
  g_assert_cmpuint (rcode (&r), ==, 1);
  g_assert_cmpuint (r.len, ==, 12);
}

static void
test_reply_matches (void)
{
  const guint8 reply[12] = { 0x12, 0x34, 0x81, 0x80 };
  const guint8 not_reply[12] = { 0x12, 0x34, 0x01, 0x00 };

  g_assert_true (rrun_dns_reply_matches (0x1234, reply, sizeof reply));
  g_assert_false (rrun_dns_reply_matches (0x1235, reply, sizeof reply));
  g_assert_false (rrun_dns_reply_matches (0x1234, not_reply, sizeof not_reply));
  g_assert_false (rrun_dns_reply_matches (0x1234, reply, 11));
}

static void
test_addresses (void)
{
  struct sockaddr_storage ss;
  socklen_t len = 0;
  g_autoptr(RrunDnsListen) l = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (rrun_dns_parse_address ("10.89.0.1:53", 0, &ss, &len, NULL));
  g_assert_cmpuint (ss.ss_family, ==, AF_INET);
  g_assert_cmpuint (ntohs (((struct sockaddr_in *) &ss)->sin_port), ==, 53);
  g_assert_true (rrun_dns_parse_address ("10.0.2.3", 53, &ss, &len, NULL));
  g_assert_cmpuint (ntohs (((struct sockaddr_in *) &ss)->sin_port), ==, 53);
  g_assert_true (rrun_dns_parse_address ("[fd00::1]:5353", 53, &ss, &len, NULL));
  g_assert_cmpuint (ss.ss_family, ==, AF_INET6);
  g_assert_cmpuint (ntohs (((struct sockaddr_in6 *) &ss)->sin6_port), ==, 5353);
  g_assert_true (rrun_dns_parse_address ("fd00::1", 53, &ss, &len, NULL));
  g_assert_false (rrun_dns_parse_address ("10.89.0.1:0", 53, &ss, &len, NULL));
  g_assert_false (rrun_dns_parse_address ("10.89.0.1:x", 53, &ss, &len, NULL));
  g_assert_false (rrun_dns_parse_address ("host:53", 53, &ss, &len, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "bad address \"host:53\"");
  g_clear_error (&error);

  l = rrun_dns_listen_parse ("127.0.0.1:15353=net.1", NULL);
  g_assert_nonnull (l);
  g_assert_cmpstr (l->network, ==, "net.1");
  g_assert_null (rrun_dns_listen_parse ("127.0.0.1:15353", &error));
  g_assert_cmpstr (error->message, ==,
                   "bad listen address \"127.0.0.1:15353\": not ADDR:PORT=NETWORK");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dns/hosts/parse", test_hosts_parse);
  g_test_add_func ("/dns/hosts/upstreams", test_hosts_upstreams);
  g_test_add_func ("/dns/answer/a", test_a_record);
  g_test_add_func ("/dns/answer/aaaa-and-any", test_aaaa_and_any);
  g_test_add_func ("/dns/answer/nxdomain-and-forward", test_nxdomain_and_forward);
  g_test_add_func ("/dns/answer/internal-refuses", test_internal_refuses);
  g_test_add_func ("/dns/answer/ptr", test_ptr);
  g_test_add_func ("/dns/answer/truncated-for-udp", test_truncated_for_udp);
  g_test_add_func ("/dns/answer/malformed", test_malformed);
  g_test_add_func ("/dns/reply-matches", test_reply_matches);
  g_test_add_func ("/dns/addresses", test_addresses);
  return g_test_run ();
}
