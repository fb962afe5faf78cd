/* rrun's DNS server for user-defined networks (docs/architecture.md, "The DNS server").

   It listens on each network's gateway address (UDP and TCP port 53 in the network
   holder's namespace), one socket per address, so a query's network is the address it
   came in on. Each network's names are the file

     HOSTS_DIR/NETWORK    one line per address: `IP NAME... [dns=IP[,IP]...]` (container
                          name, full ID, 12-character short ID, aliases; the container's
                          --dns servers), written to a temporary name and renamed; '#'
                          starts a comment

   (RUNROOT/net-holder/hosts/ under the holder), watched with inotify. A name of the
   network, bare or under RRUN_DNS_DOMAIN, is answered (A, AAAA, and PTR for its
   addresses); an unknown name under the domain or a single label: NXDOMAIN at once;
   anything else is forwarded upstream and its reply relayed (UDP over UDP, TCP over TCP),
   except on an internal network (REFUSED). The upstream is chosen by the query's source
   address: the dns= servers of the line of that address (the container's --dns, as
   docker's embedded DNS forwards to them), in turn: the next when one refuses or does not
   answer in time, each once; else the server's default upstream. A dns= server
   on the host's loopback (127.0.0.0/8, ::1) is reached through a UDP socket the server was
   given in the host's network namespace (rrun_dns_server_set_host_socket); TCP queries for
   it are relayed over that socket too.

   dns-msg.c is the message logic (pure, unit-tested, fuzzed: tests/fuzz/fuzz-dns.c);
   dns-server.c the sockets and the loop. */
#pragma once

#include <glib.h>
#include <sys/socket.h>

G_BEGIN_DECLS

/* The search domain containers on user-defined networks get. */
#define RRUN_DNS_DOMAIN "dns.rrun"
/* The largest DNS message (TCP's 16-bit length). */
#define RRUN_DNS_MAX_MESSAGE 65535
/* A UDP reply without EDNS (RFC 1035 4.2.1). */
#define RRUN_DNS_UDP_SIZE 512

/* One network's names. */
typedef struct RrunDnsHosts RrunDnsHosts;

/* Parse a hosts file's text; lines that do not parse are skipped (the file is written by
   rrun, but what it holds came from users: names are only compared, never trusted). */
RrunDnsHosts *rrun_dns_hosts_parse (const char *text);
void rrun_dns_hosts_free (RrunDnsHosts *hosts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunDnsHosts, rrun_dns_hosts_free)
/* How many (name, address) pairs it holds. */
guint rrun_dns_hosts_size (const RrunDnsHosts *hosts);

/* At most this many dns= servers per address (resolv.conf's MAXNS). */
#define RRUN_DNS_MAX_UPSTREAMS 3

/* The dns= servers of the line whose address is client's (a v4-mapped IPv6 address is the
   IPv4 one), port 53, in the file's order, at most max into out: how many (0: none). */
guint rrun_dns_hosts_upstreams (const RrunDnsHosts *hosts, const struct sockaddr *client,
                                struct sockaddr_storage *out, guint max);

typedef enum
{
  RRUN_DNS_DROP,    /* not a query, or malformed: no reply */
  RRUN_DNS_REPLY,   /* the reply is in out */
  RRUN_DNS_FORWARD, /* not a name of ours: send the query upstream as it is */
} RrunDnsAction;

/* What to do with one query (a DNS message, len bytes) that came in on a network whose
   names are hosts (NULL: none). forward: whether names not ours may go upstream (not on an
   internal network: REFUSED then). A reply longer than out_size is truncated (TC, no
   answers); out_size is 512 for UDP, RRUN_DNS_MAX_MESSAGE for TCP. */
RrunDnsAction rrun_dns_answer (const RrunDnsHosts *hosts, gboolean forward, const guint8 *query,
                               gsize len, guint8 *out, gsize out_size, gsize *out_len);

/* Whether reply (from upstream) answers the query with this id: QR set, same ID. */
gboolean rrun_dns_reply_matches (guint16 id, const guint8 *reply, gsize len);

/* "ADDR:PORT" or "[ADDR6]:PORT" (a bare ADDR: default_port) into a socket address. */
gboolean rrun_dns_parse_address (const char *text, guint default_port,
                                 struct sockaddr_storage *out_addr, socklen_t *out_len,
                                 GError **error);

typedef struct
{
  char *network;
  struct sockaddr_storage addr;
  socklen_t addr_len;
  gboolean internal;
} RrunDnsListen;

void rrun_dns_listen_free (RrunDnsListen *l);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunDnsListen, rrun_dns_listen_free)

/* "ADDR:PORT=NETWORK" (--listen). */
RrunDnsListen *rrun_dns_listen_parse (const char *text, GError **error);

typedef struct RrunDnsServer RrunDnsServer;

/* A server reading names from hosts_dir (created when missing) and forwarding to upstream.
   Listens nowhere yet. */
RrunDnsServer *rrun_dns_server_new (const char *hosts_dir, const struct sockaddr *upstream,
                                    socklen_t upstream_len, GError **error);
void rrun_dns_server_free (RrunDnsServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunDnsServer, rrun_dns_server_free)

/* UDP sockets opened in the host's network namespace (bound to its loopback; -1: none),
   taken over: queries for a container's --dns server on the host's loopback go out of
   them, as rrun-net's own forwarder reaches the host's resolvers. */
void rrun_dns_server_set_host_sockets (RrunDnsServer *server, int fd4, int fd6);

/* Listen on exactly these (RrunDnsListen): sockets of addresses kept stay open, new ones
   are bound (IP_FREEBIND: an address not up yet is fine), the others closed. A failed bind
   leaves that network out and is the error; the others are still set up. */
gboolean rrun_dns_server_set_listeners (RrunDnsServer *server, const GPtrArray *listens,
                                        GError **error);

/* Called on SIGHUP: set the listeners again (rrun_dns_server_set_listeners). */
typedef void (*RrunDnsReloadFunc) (RrunDnsServer *server, gpointer data);

/* Serve until SIGTERM or SIGINT (TRUE) or a failure of the loop itself. Blocks SIGHUP,
   SIGTERM and SIGINT and takes them through a signalfd; SIGHUP calls reload (NULL: the
   hosts files are read again). */
gboolean rrun_dns_server_run (RrunDnsServer *server, RrunDnsReloadFunc reload, gpointer data,
                              GError **error);

/* `rrun __internal net-dns --listen ADDR:PORT=NETWORK... [--internal NETWORK]...
   --hosts-dir DIR --upstream ADDR:PORT [--ready-fd N]`: the server alone, for tests and
   the benchmark. argv[0] is the command's name. */
gboolean rrun_dns_server_main (int argc, char **argv, GError **error);

G_END_DECLS
