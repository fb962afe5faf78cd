/* DNS messages for rrun's DNS server (network/dns.h): the hosts files, the query, the
   answer. Pure: no sockets, no files; every length is checked against the buffer, so a
   hostile packet is dropped (tests/fuzz/fuzz-dns.c). */
#include "network/dns.h"
#include "error.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#define DNS_HEADER 12
#define DNS_MAX_NAME 255
#define DNS_TYPE_A 1
#define DNS_TYPE_PTR 12
#define DNS_TYPE_AAAA 28
#define DNS_TYPE_ANY 255
#define DNS_CLASS_IN 1
#define DNS_CLASS_ANY 255
#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_AA 0x0400
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_RD 0x0100
#define DNS_FLAG_RA 0x0080
#define DNS_RCODE_NOERROR 0
#define DNS_RCODE_FORMERR 1
#define DNS_RCODE_NXDOMAIN 3
#define DNS_RCODE_NOTIMP 4
#define DNS_RCODE_REFUSED 5
/* Containers come and go: a resolver must not keep a removed one's address. */
#define DNS_TTL 0

typedef struct
{
  int family; /* AF_INET, AF_INET6 */
  guint8 bytes[16];
} DnsAddr;

struct RrunDnsHosts
{
  GHashTable *names;     /* lowercase name → GArray of DnsAddr */
  GHashTable *reverse;   /* DnsAddr key (family + bytes, as a string of hex) → first name */
  GHashTable *upstreams; /* DnsAddr key → GArray of DnsAddr (a line's dns=, at most
                            RRUN_DNS_MAX_UPSTREAMS): the container's --dns */
  guint size;
};

static char *
addr_key (const DnsAddr *a)
{
  gsize n = a->family == AF_INET ? 4 : 16;
  GString *s = g_string_new (a->family == AF_INET ? "4:" : "6:");

  for (gsize i = 0; i < n; i++)
    g_string_append_printf (s, "%02x", a->bytes[i]);
  return g_string_free (s, FALSE);
}

/* A name as a lookup key: ASCII letters, digits, '-', '_' and '.' (docker's container and
   alias names), lowercased, no empty label, at most 253 characters. */
static char *
name_key (const char *name)
{
  gsize n = strlen (name);

  if (n == 0 || n > 253 || name[0] == '.' || name[n - 1] == '.' || strstr (name, "..") != NULL)
    return NULL;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum (name[i]) && name[i] != '-' && name[i] != '_' && name[i] != '.')
      return NULL;
  return g_ascii_strdown (name, -1);
}

/* "IP[,IP]..." of a line's dns= field: at most RRUN_DNS_MAX_UPSTREAMS addresses, each an
   IPv4 or IPv6 literal; anything else makes the whole field NULL (ignored). */
static GArray *
parse_upstreams (const char *text)
{
  g_auto(GStrv) parts = g_strsplit (text, ",", -1);
  g_autoptr(GArray) out = g_array_new (FALSE, TRUE, sizeof (DnsAddr));

  if (g_strv_length (parts) == 0 || g_strv_length (parts) > RRUN_DNS_MAX_UPSTREAMS)
    return NULL;
  for (guint i = 0; parts[i] != NULL; i++)
    {
      DnsAddr a = { 0 };

      if (inet_pton (AF_INET, parts[i], a.bytes) == 1)
        a.family = AF_INET;
      else if (inet_pton (AF_INET6, parts[i], a.bytes) == 1)
        a.family = AF_INET6;
      else
        return NULL;
      g_array_append_val (out, a);
    }
  return g_steal_pointer (&out);
}

RrunDnsHosts *
rrun_dns_hosts_parse (const char *text)
{
  RrunDnsHosts *hosts = g_new0 (RrunDnsHosts, 1);
  g_auto(GStrv) lines = g_strsplit (text != NULL ? text : "", "\n", -1);

  hosts->names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) g_array_unref);
  hosts->reverse = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  hosts->upstreams = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) g_array_unref);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = NULL;
      char *hash = strchr (lines[i], '#');
      DnsAddr addr = { 0 };
      guint f = 0;

      if (hash != NULL)
        *hash = '\0';
      g_strdelimit (lines[i], "\t\r", ' ');
      fields = g_strsplit (lines[i], " ", -1);
      while (fields[f] != NULL && fields[f][0] == '\0')
        f++;
      if (fields[f] == NULL)
        continue;
      if (inet_pton (AF_INET, fields[f], addr.bytes) == 1)
        addr.family = AF_INET;
      else if (inet_pton (AF_INET6, fields[f], addr.bytes) == 1)
        addr.family = AF_INET6;
      else
        continue;
      for (f++; fields[f] != NULL; f++)
        {
          g_autofree char *key = name_key (fields[f]);
          GArray *addrs;
          gboolean dup = FALSE;

          if (g_str_has_prefix (fields[f], "dns="))
            {
              GArray *ups = parse_upstreams (fields[f] + strlen ("dns="));
              char *ukey = ups != NULL ? addr_key (&addr) : NULL;

              /* The first line of an address has its say, as for PTR. */
              if (ups == NULL || g_hash_table_contains (hosts->upstreams, ukey))
                {
                  g_free (ukey);
                  if (ups != NULL)
                    g_array_unref (ups);
                }
              else
                g_hash_table_insert (hosts->upstreams, ukey, ups);
              continue;
            }
          if (key == NULL)
            continue;
          addrs = g_hash_table_lookup (hosts->names, key);
          if (addrs == NULL)
            {
              addrs = g_array_new (FALSE, TRUE, sizeof (DnsAddr));
              g_hash_table_insert (hosts->names, g_strdup (key), addrs);
            }
          for (guint j = 0; j < addrs->len && !dup; j++)
            dup = memcmp (&g_array_index (addrs, DnsAddr, j), &addr, sizeof addr) == 0;
          if (dup)
            continue;
          g_array_append_val (addrs, addr);
          hosts->size++;
          {
            char *rkey = addr_key (&addr);

            if (g_hash_table_contains (hosts->reverse, rkey))
              g_free (rkey);
            else /* the first name of the line: the container's */
              g_hash_table_insert (hosts->reverse, rkey, g_strdup (key));
          }
        }
    }
  return hosts;
}

void
rrun_dns_hosts_free (RrunDnsHosts *hosts)
{
  if (hosts == NULL)
    return;
  g_hash_table_unref (hosts->names);
  g_hash_table_unref (hosts->reverse);
  g_hash_table_unref (hosts->upstreams);
  g_free (hosts);
}

guint
rrun_dns_hosts_upstreams (const RrunDnsHosts *hosts, const struct sockaddr *client,
                          struct sockaddr_storage *out, guint max)
{
  DnsAddr a = { 0 };
  g_autofree char *key = NULL;
  GArray *ups;
  guint n = 0;

  if (hosts == NULL || client == NULL)
    return 0;
  if (client->sa_family == AF_INET)
    {
      a.family = AF_INET;
      memcpy (a.bytes, &((const struct sockaddr_in *) client)->sin_addr, 4);
    }
  else if (client->sa_family == AF_INET6)
    {
      const struct in6_addr *c6 = &((const struct sockaddr_in6 *) client)->sin6_addr;

      /* A v4-mapped source is the IPv4 container */
      if (IN6_IS_ADDR_V4MAPPED (c6))
        {
          a.family = AF_INET;
          memcpy (a.bytes, c6->s6_addr + 12, 4);
        }
      else
        {
          a.family = AF_INET6;
          memcpy (a.bytes, c6, 16);
        }
    }
  else
    return 0;
  key = addr_key (&a);
  ups = g_hash_table_lookup (hosts->upstreams, key);
  for (guint i = 0; ups != NULL && i < ups->len && n < max; i++, n++)
    {
      const DnsAddr *u = &g_array_index (ups, DnsAddr, i);

      memset (&out[n], 0, sizeof out[n]);
      if (u->family == AF_INET)
        {
          struct sockaddr_in *sin = (struct sockaddr_in *) &out[n];

          sin->sin_family = AF_INET;
          sin->sin_port = htons (53);
          memcpy (&sin->sin_addr, u->bytes, 4);
        }
      else
        {
          struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &out[n];

          sin6->sin6_family = AF_INET6;
          sin6->sin6_port = htons (53);
          memcpy (&sin6->sin6_addr, u->bytes, 16);
        }
    }
  return n;
}

guint
rrun_dns_hosts_size (const RrunDnsHosts *hosts)
{
  return hosts != NULL ? hosts->size : 0;
}

typedef struct
{
  guint16 id, flags, qtype, qclass;
  gsize qend;                 /* the offset after the question */
  char name[DNS_MAX_NAME + 1]; /* dotted, lowercase, no final dot; "" for the root */
  guint labels;
  gboolean plain;             /* every label of name_key's characters */
} DnsQuestion;

static guint16
get16 (const guint8 *p)
{
  return (guint16) (p[0] << 8 | p[1]);
}

static void
put16 (guint8 *p, guint16 v)
{
  p[0] = (guint8) (v >> 8);
  p[1] = (guint8) v;
}

/* The question of a query; FALSE when it does not parse (no compression is allowed in the
   one question of a query: nothing precedes it to point at). */
static gboolean
parse_question (const guint8 *msg, gsize len, DnsQuestion *q)
{
  gsize off = DNS_HEADER, out = 0;

  q->labels = 0;
  q->plain = TRUE;
  for (;;)
    {
      guint n;

      if (off >= len)
        return FALSE;
      n = msg[off++];
      if (n == 0)
        break;
      if (n > 63 || off + n > len || out + n + 1 > DNS_MAX_NAME)
        return FALSE;
      if (out > 0)
        q->name[out++] = '.';
      for (guint i = 0; i < n; i++)
        {
          char c = (char) msg[off + i];

          if (!g_ascii_isalnum (c) && c != '-' && c != '_')
            q->plain = FALSE;
          q->name[out++] = g_ascii_tolower (c);
        }
      off += n;
      q->labels++;
    }
  q->name[out] = '\0';
  if (off + 4 > len)
    return FALSE;
  q->qtype = get16 (msg + off);
  q->qclass = get16 (msg + off + 2);
  q->qend = off + 4;
  return TRUE;
}

/* Only the header and the question, with these flags' rcode. */
static RrunDnsAction
reply_header (const guint8 *query, gsize qend, guint16 flags, guint rcode, guint8 *out,
              gsize out_size, gsize *out_len)
{
  if (qend > out_size)
    return RRUN_DNS_DROP;
  memcpy (out, query, qend);
  put16 (out + 2, (guint16) (DNS_FLAG_QR | flags | (get16 (query + 2) & DNS_FLAG_RD)
                             | DNS_FLAG_RA | rcode));
  put16 (out + 4, qend > DNS_HEADER ? 1 : 0);
  put16 (out + 6, 0);
  put16 (out + 8, 0);
  put16 (out + 10, 0);
  *out_len = qend;
  return RRUN_DNS_REPLY;
}

typedef struct
{
  guint8 *out;
  gsize size, len;
  guint count;
  gboolean full;
} Answer;

static void
add_record (Answer *a, guint16 type, const guint8 *rdata, gsize rdlen)
{
  guint8 *p;

  if (a->full || a->len + 12 + rdlen > a->size)
    {
      a->full = TRUE;
      return;
    }
  p = a->out + a->len;
  put16 (p, 0xc000 | DNS_HEADER); /* the question's name */
  put16 (p + 2, type);
  put16 (p + 4, DNS_CLASS_IN);
  put16 (p + 6, 0);
  put16 (p + 8, DNS_TTL);
  put16 (p + 10, (guint16) rdlen);
  memcpy (p + 12, rdata, rdlen);
  a->len += 12 + rdlen;
  a->count++;
}

/* NAME.RRUN_DNS_DOMAIN in wire format; 0 when it does not fit. */
static gsize
encode_name (const char *name, guint8 *buf, gsize size)
{
  g_autofree char *full = g_strconcat (name, ".", RRUN_DNS_DOMAIN, NULL);
  g_auto(GStrv) labels = g_strsplit (full, ".", -1);
  gsize off = 0;

  for (guint i = 0; labels[i] != NULL; i++)
    {
      gsize n = strlen (labels[i]);

      if (n == 0 || n > 63 || off + 1 + n + 1 > size)
        return 0;
      buf[off++] = (guint8) n;
      memcpy (buf + off, labels[i], n);
      off += n;
    }
  buf[off++] = 0;
  return off;
}

/* The address of a reverse name (4.3.2.1.in-addr.arpa, 32 nibbles of ip6.arpa). */
static gboolean
parse_reverse (const char *name, DnsAddr *out)
{
  g_auto(GStrv) labels = NULL;
  guint n;

  memset (out, 0, sizeof *out);
  if (g_str_has_suffix (name, ".in-addr.arpa"))
    {
      labels = g_strsplit (name, ".", -1);
      n = g_strv_length (labels);
      if (n != 6)
        return FALSE;
      for (guint i = 0; i < 4; i++)
        {
          const char *l = labels[3 - i];
          guint64 v;

          if (*l == '\0' || strlen (l) > 3 || strspn (l, "0123456789") != strlen (l)
              || (v = g_ascii_strtoull (l, NULL, 10)) > 255)
            return FALSE;
          out->bytes[i] = (guint8) v;
        }
      out->family = AF_INET;
      return TRUE;
    }
  if (g_str_has_suffix (name, ".ip6.arpa"))
    {
      labels = g_strsplit (name, ".", -1);
      n = g_strv_length (labels);
      if (n != 34)
        return FALSE;
      for (guint i = 0; i < 32; i++)
        {
          const char *l = labels[31 - i];
          int v;

          if (strlen (l) != 1 || (v = g_ascii_xdigit_value (l[0])) < 0)
            return FALSE;
          out->bytes[i / 2] |= (guint8) (i % 2 == 0 ? v << 4 : v);
        }
      out->family = AF_INET6;
      return TRUE;
    }
  return FALSE;
}

static RrunDnsAction
finish_answer (const guint8 *query, const DnsQuestion *q, Answer *a, guint8 *out,
               gsize out_size, gsize *out_len)
{
  if (a->full)
    /* Too big for UDP: the client asks again over TCP (RFC 7766). */
    return reply_header (query, q->qend, DNS_FLAG_AA | DNS_FLAG_TC, DNS_RCODE_NOERROR, out,
                         out_size, out_len);
  if (reply_header (query, q->qend, DNS_FLAG_AA, DNS_RCODE_NOERROR, out, out_size, out_len)
      != RRUN_DNS_REPLY)
    return RRUN_DNS_DROP;
  put16 (out + 6, (guint16) a->count);
  *out_len = a->len;
  return RRUN_DNS_REPLY;
}

RrunDnsAction
rrun_dns_answer (const RrunDnsHosts *hosts, gboolean forward, const guint8 *query, gsize len,
                 guint8 *out, gsize out_size, gsize *out_len)
{
  DnsQuestion q;
  const char *suffix = "." RRUN_DNS_DOMAIN;
  gsize name_len;
  gboolean in_domain = FALSE;
  char base[DNS_MAX_NAME + 1];
  Answer a = { .out = out, .size = out_size };
  DnsAddr rev;
  GArray *addrs;

  if (len < DNS_HEADER || out_size < DNS_HEADER)
    return RRUN_DNS_DROP;
  if ((get16 (query + 2) & DNS_FLAG_QR) != 0)
    return RRUN_DNS_DROP; /* a reply: never answer one (no loops between servers) */
  if (((get16 (query + 2) >> 11) & 0xf) != 0)
    return reply_header (query, DNS_HEADER, 0, DNS_RCODE_NOTIMP, out, out_size, out_len);
  if (get16 (query + 4) != 1)
    return reply_header (query, DNS_HEADER, 0, DNS_RCODE_FORMERR, out, out_size, out_len);
  if (!parse_question (query, len, &q))
    return RRUN_DNS_DROP;
  q.id = get16 (query);

  name_len = strlen (q.name);
  g_strlcpy (base, q.name, sizeof base);
  if (g_str_equal (q.name, RRUN_DNS_DOMAIN))
    {
      in_domain = TRUE;
      base[0] = '\0';
    }
  else if (name_len > strlen (suffix) && g_str_has_suffix (q.name, suffix))
    {
      in_domain = TRUE;
      base[name_len - strlen (suffix)] = '\0';
    }

  a.len = q.qend;
  if (q.qclass != DNS_CLASS_IN && q.qclass != DNS_CLASS_ANY)
    goto not_ours;
  if (q.qtype == DNS_TYPE_PTR && parse_reverse (q.name, &rev))
    {
      g_autofree char *key = addr_key (&rev);
      const char *name = hosts != NULL ? g_hash_table_lookup (hosts->reverse, key) : NULL;
      guint8 rdata[DNS_MAX_NAME + 1];
      gsize n;

      if (name == NULL)
        goto not_ours;
      n = encode_name (name, rdata, sizeof rdata);
      if (n > 0)
        add_record (&a, DNS_TYPE_PTR, rdata, n);
      return finish_answer (query, &q, &a, out, out_size, out_len);
    }
  addrs = hosts != NULL && q.plain && base[0] != '\0'
              ? g_hash_table_lookup (hosts->names, base)
              : NULL;
  if (addrs != NULL)
    {
      for (guint i = 0; i < addrs->len; i++)
        {
          const DnsAddr *d = &g_array_index (addrs, DnsAddr, i);

          if (d->family == AF_INET && (q.qtype == DNS_TYPE_A || q.qtype == DNS_TYPE_ANY))
            add_record (&a, DNS_TYPE_A, d->bytes, 4);
          else if (d->family == AF_INET6
                   && (q.qtype == DNS_TYPE_AAAA || q.qtype == DNS_TYPE_ANY))
            add_record (&a, DNS_TYPE_AAAA, d->bytes, 16);
        }
      return finish_answer (query, &q, &a, out, out_size, out_len);
    }
  if (in_domain && base[0] == '\0')
    /* The domain itself exists and has no records. */
    return finish_answer (query, &q, &a, out, out_size, out_len);
  if (in_domain || q.labels == 1)
    return reply_header (query, q.qend, DNS_FLAG_AA, DNS_RCODE_NXDOMAIN, out, out_size,
                         out_len);

not_ours:
  if (!forward)
    return reply_header (query, q.qend, 0, DNS_RCODE_REFUSED, out, out_size, out_len);
  return RRUN_DNS_FORWARD;
}

gboolean
rrun_dns_reply_matches (guint16 id, const guint8 *reply, gsize len)
{
  return len >= DNS_HEADER && get16 (reply) == id && (get16 (reply + 2) & DNS_FLAG_QR) != 0;
}

gboolean
rrun_dns_parse_address (const char *text, guint default_port,
                        struct sockaddr_storage *out_addr, socklen_t *out_len, GError **error)
{
  g_autofree char *host = NULL;
  const char *port_text = NULL;
  guint64 port = default_port;
  struct sockaddr_storage ss = { 0 };

  if (text[0] == '[')
    {
      const char *end = strchr (text, ']');

      if (end == NULL || (end[1] != '\0' && end[1] != ':'))
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "bad address \"%s\"", text);
      host = g_strndup (text + 1, end - text - 1);
      if (end[1] == ':')
        port_text = end + 2;
    }
  else
    {
      const char *colon = strrchr (text, ':');

      if (colon != NULL && strchr (text, ':') == colon)
        {
          host = g_strndup (text, colon - text);
          port_text = colon + 1;
        }
      else
        host = g_strdup (text);
    }
  if (port_text != NULL
      && (!g_ascii_string_to_unsigned (port_text, 10, 1, 65535, &port, NULL)))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "bad port in \"%s\"", text);
  if (inet_pton (AF_INET, host, &((struct sockaddr_in *) &ss)->sin_addr) == 1)
    {
      struct sockaddr_in *sin = (struct sockaddr_in *) &ss;

      sin->sin_family = AF_INET;
      sin->sin_port = htons ((guint16) port);
      *out_len = sizeof *sin;
    }
  else if (inet_pton (AF_INET6, host, &((struct sockaddr_in6 *) &ss)->sin6_addr) == 1)
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;

      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = htons ((guint16) port);
      *out_len = sizeof *sin6;
    }
  else
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "bad address \"%s\"", text);
  *out_addr = ss;
  return TRUE;
}

void
rrun_dns_listen_free (RrunDnsListen *l)
{
  if (l == NULL)
    return;
  g_free (l->network);
  g_free (l);
}

RrunDnsListen *
rrun_dns_listen_parse (const char *text, GError **error)
{
  g_autoptr(RrunDnsListen) l = g_new0 (RrunDnsListen, 1);
  const char *eq = strrchr (text, '=');
  g_autofree char *addr = NULL;

  if (eq == NULL || eq[1] == '\0' || eq == text)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "bad listen address \"%s\": not ADDR:PORT=NETWORK", text);
      return NULL;
    }
  addr = g_strndup (text, eq - text);
  if (!rrun_dns_parse_address (addr, 53, &l->addr, &l->addr_len, error))
    return NULL;
  l->network = g_strdup (eq + 1);
  return g_steal_pointer (&l);
}
