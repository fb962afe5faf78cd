/* rrun's DNS server, its sockets and loop (network/dns.h). One thread, one poll(2): the
   listeners (UDP and TCP per network), the hosts directory's inotify fd, a signalfd, the
   queries pending upstream, the TCP clients and the host's loopback sockets. Everything it
   keeps is bounded: at most MAX_PENDING queries upstream (the oldest is dropped for a new
   one), each asking its servers (at most RRUN_DNS_MAX_UPSTREAMS) once each in turn within
   one deadline, MAX_TCP clients, each with a deadline. */
#include "network/dns.h"
#include "error.h"
#include "log.h"
#include "util/fd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#undef G_LOG_DOMAIN
#define G_LOG_DOMAIN "rrun-dns"

#define MAX_PENDING 256
#define MAX_TCP 64
#define UPSTREAM_TIMEOUT_US (5 * G_USEC_PER_SEC)
#define FAILOVER_US (3 * G_USEC_PER_SEC / 2)
#define TCP_IDLE_US (10 * G_USEC_PER_SEC)

typedef struct
{
  char *network;
  gboolean internal;
  struct sockaddr_storage addr;
  socklen_t addr_len;
  int udp_fd, tcp_fd;
} Listener;

typedef struct TcpClient TcpClient;

typedef enum
{
  UP_UDP,
  UP_TCP_CONNECTING, /* then it sends */
  UP_TCP_READING,
} UpState;

typedef struct
{
  guint64 serial; /* which poll slot is its own, when an address is reused */
  int fd;         /* -1: sent through a host socket (via_host) */
  UpState state;
  guint16 id;
  gint64 deadline; /* of the server asked now: then the next one is */
  gint64 until;    /* of the query, whatever the servers */
  /* the servers to ask in turn (a container's --dns servers: the next when one does not
     answer, as docker's embedded DNS does), how many were tried, and the query to send */
  struct sockaddr_storage servers[RRUN_DNS_MAX_UPSTREAMS];
  socklen_t server_lens[RRUN_DNS_MAX_UPSTREAMS];
  guint n_servers, next;
  gboolean from_hosts; /* --dns servers: one on the host's loopback via a host socket */
  guint8 *query;
  gsize query_len;
  /* the server asked now; a query to a server on the host's loopback goes through the
     shared host socket: its ID on the wire (unique among those pending there), and the
     reply must come from server */
  struct sockaddr_storage server;
  gboolean via_host;
  guint16 wire_id;
  /* a UDP client: the reply goes out of its listener's socket */
  Listener *listener;
  struct sockaddr_storage client;
  socklen_t client_len;
  /* a TCP client: the query (with its length) to send, then the reply read */
  TcpClient *tcp;
  guint8 *buf;
  gsize len, off;
} Upstream;

typedef enum
{
  TCP_READING,
  TCP_WAITING, /* for its Upstream */
  TCP_WRITING,
} TcpState;

struct TcpClient
{
  guint64 serial;
  int fd;
  TcpState state;
  char *network;
  gboolean internal;
  struct sockaddr_storage peer; /* its address: which upstream it gets */
  gint64 deadline;
  guint8 buf[2 + RRUN_DNS_MAX_MESSAGE];
  gsize len, off;
};

struct RrunDnsServer
{
  char *hosts_dir;
  struct sockaddr_storage upstream;
  socklen_t upstream_len;
  int host_fd4, host_fd6; /* UDP sockets in the host's network namespace, or -1 */
  int inotify_fd;
  int signal_fd;
  GPtrArray *listeners; /* Listener */
  GHashTable *hosts;    /* network → RrunDnsHosts */
  GPtrArray *pending;   /* Upstream */
  GPtrArray *tcp;       /* TcpClient */
  guint64 serial;
  guint8 buf[RRUN_DNS_MAX_MESSAGE];
  guint8 out[RRUN_DNS_MAX_MESSAGE + 2];
};

static void
listener_free (Listener *l)
{
  rrun_close_fdp (&l->udp_fd);
  rrun_close_fdp (&l->tcp_fd);
  g_free (l->network);
  g_free (l);
}

static void
upstream_free (Upstream *u)
{
  rrun_close_fdp (&u->fd);
  g_free (u->query);
  g_free (u->buf);
  g_free (u);
}

static void
tcp_client_free (TcpClient *c)
{
  rrun_close_fdp (&c->fd);
  g_free (c->network);
  g_free (c);
}

RrunDnsServer *
rrun_dns_server_new (const char *hosts_dir, const struct sockaddr *upstream,
                     socklen_t upstream_len, GError **error)
{
  g_autoptr(RrunDnsServer) s = g_new0 (RrunDnsServer, 1);

  s->inotify_fd = -1;
  s->signal_fd = -1;
  s->host_fd4 = -1;
  s->host_fd6 = -1;
  s->hosts_dir = g_strdup (hosts_dir);
  g_assert (upstream_len <= sizeof s->upstream);
  memcpy (&s->upstream, upstream, upstream_len);
  s->upstream_len = upstream_len;
  s->listeners = g_ptr_array_new_with_free_func ((GDestroyNotify) listener_free);
  s->hosts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                    (GDestroyNotify) rrun_dns_hosts_free);
  s->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) upstream_free);
  s->tcp = g_ptr_array_new_with_free_func ((GDestroyNotify) tcp_client_free);
  if (g_mkdir_with_parents (hosts_dir, 0700) < 0)
    {
      rrun_throw_errno (error, errno, "cannot create \"%s\"", hosts_dir);
      return NULL;
    }
  s->inotify_fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  if (s->inotify_fd < 0)
    {
      rrun_throw_errno (error, errno, "cannot watch \"%s\"", hosts_dir);
      return NULL;
    }
  if (inotify_add_watch (s->inotify_fd, hosts_dir,
                         IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE)
      < 0)
    {
      rrun_throw_errno (error, errno, "cannot watch \"%s\"", hosts_dir);
      return NULL;
    }
  return g_steal_pointer (&s);
}

void
rrun_dns_server_free (RrunDnsServer *s)
{
  if (s == NULL)
    return;
  g_ptr_array_unref (s->pending);
  g_ptr_array_unref (s->tcp);
  g_ptr_array_unref (s->listeners);
  g_hash_table_unref (s->hosts);
  rrun_close_fdp (&s->inotify_fd);
  rrun_close_fdp (&s->signal_fd);
  rrun_close_fdp (&s->host_fd4);
  rrun_close_fdp (&s->host_fd6);
  g_free (s->hosts_dir);
  g_free (s);
}

void
rrun_dns_server_set_host_sockets (RrunDnsServer *s, int fd4, int fd6)
{
  rrun_close_fdp (&s->host_fd4);
  rrun_close_fdp (&s->host_fd6);
  s->host_fd4 = fd4;
  s->host_fd6 = fd6;
}

/* (Re)read one network's names; a missing file is no names. */
static void
load_hosts (RrunDnsServer *s, const char *network)
{
  g_autofree char *path = g_build_filename (s->hosts_dir, network, NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) local = NULL;

  if (!g_file_get_contents (path, &text, NULL, &local)
      && !g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    rrun_warning ("cannot read the names of network \"%s\": %s", network, local->message);
  g_hash_table_replace (s->hosts, g_strdup (network), rrun_dns_hosts_parse (text));
  g_debug ("network %s: %u names", network,
           rrun_dns_hosts_size (g_hash_table_lookup (s->hosts, network)));
}

static gboolean
is_network (RrunDnsServer *s, const char *name)
{
  for (guint i = 0; i < s->listeners->len; i++)
    if (g_str_equal (((Listener *) g_ptr_array_index (s->listeners, i))->network, name))
      return TRUE;
  return FALSE;
}

static void
load_all_hosts (RrunDnsServer *s)
{
  g_hash_table_remove_all (s->hosts);
  for (guint i = 0; i < s->listeners->len; i++)
    {
      Listener *l = g_ptr_array_index (s->listeners, i);

      if (!g_hash_table_contains (s->hosts, l->network))
        load_hosts (s, l->network);
    }
}

/* Read what inotify has queued (nothing blocks): a name changed is read again. */
static void
drain_inotify (RrunDnsServer *s)
{
  char buf[4096] __attribute__ ((aligned (__alignof__ (struct inotify_event))));
  gboolean all = FALSE;
  g_autoptr(GPtrArray) changed = g_ptr_array_new_with_free_func (g_free);

  for (;;)
    {
      ssize_t n = read (s->inotify_fd, buf, sizeof buf);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      for (char *p = buf; p < buf + n;)
        {
          const struct inotify_event *ev = (const struct inotify_event *) p;

          if ((ev->mask & IN_Q_OVERFLOW) != 0)
            all = TRUE;
          else if (ev->len > 0 && is_network (s, ev->name))
            g_ptr_array_add (changed, g_strdup (ev->name));
          p += sizeof *ev + ev->len;
        }
    }
  if (all)
    load_all_hosts (s);
  else
    for (guint i = 0; i < changed->len; i++)
      load_hosts (s, g_ptr_array_index (changed, i));
}

static gboolean
same_addr (const struct sockaddr_storage *a, socklen_t alen, const struct sockaddr_storage *b,
           socklen_t blen)
{
  return alen == blen && memcmp (a, b, alen) == 0;
}

static char *
addr_text (const struct sockaddr_storage *ss)
{
  char host[INET6_ADDRSTRLEN] = "?";
  guint port;

  if (ss->ss_family == AF_INET)
    {
      const struct sockaddr_in *sin = (const struct sockaddr_in *) ss;

      inet_ntop (AF_INET, &sin->sin_addr, host, sizeof host);
      port = ntohs (sin->sin_port);
      return g_strdup_printf ("%s:%u", host, port);
    }
  inet_ntop (AF_INET6, &((const struct sockaddr_in6 *) ss)->sin6_addr, host, sizeof host);
  port = ntohs (((const struct sockaddr_in6 *) ss)->sin6_port);
  return g_strdup_printf ("[%s]:%u", host, port);
}

static int
bound_socket (const RrunDnsListen *want, int type, GError **error)
{
  rrun_autofd int fd = socket (want->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;

  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot create a socket"), -1;
  /* A gateway address not up yet (its bridge comes later) is bound all the same. */
  if (want->addr.ss_family == AF_INET)
    (void) setsockopt (fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
  else
    {
      (void) setsockopt (fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof one);
      (void) setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
  (void) setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind (fd, (const struct sockaddr *) &want->addr, want->addr_len) < 0)
    {
      int errsv = errno;
      g_autofree char *text = addr_text (&want->addr);

      return rrun_throw_errno (error, errsv, "cannot listen on %s/%s for network \"%s\"", text,
                               type == SOCK_DGRAM ? "udp" : "tcp", want->network),
             -1;
    }
  if (type == SOCK_STREAM && listen (fd, 64) < 0)
    return rrun_throw_errno (error, errno, "cannot listen on a TCP socket"), -1;
  return rrun_steal_fd (&fd);
}

/* Drop what refers to a listener about to go. */
static void
forget_listener (RrunDnsServer *s, Listener *l)
{
  for (guint i = s->pending->len; i-- > 0;)
    if (((Upstream *) g_ptr_array_index (s->pending, i))->listener == l)
      g_ptr_array_remove_index_fast (s->pending, i);
}

gboolean
rrun_dns_server_set_listeners (RrunDnsServer *s, const GPtrArray *listens, GError **error)
{
  g_autoptr(GPtrArray) next = g_ptr_array_new_with_free_func ((GDestroyNotify) listener_free);
  g_autoptr(GError) first = NULL;

  for (guint i = 0; i < listens->len; i++)
    {
      const RrunDnsListen *want = g_ptr_array_index (listens, i);
      Listener *l = NULL;
      g_autoptr(GError) local = NULL;

      for (guint j = 0; j < s->listeners->len && l == NULL; j++)
        {
          Listener *old = g_ptr_array_index (s->listeners, j);

          if (g_str_equal (old->network, want->network)
              && same_addr (&old->addr, old->addr_len, &want->addr, want->addr_len))
            l = g_ptr_array_steal_index (s->listeners, j);
        }
      if (l == NULL)
        {
          int udp = bound_socket (want, SOCK_DGRAM, &local);
          int tcp = udp >= 0 ? bound_socket (want, SOCK_STREAM, &local) : -1;

          if (tcp < 0)
            {
              rrun_close_fdp (&udp);
              if (first == NULL)
                first = g_steal_pointer (&local);
              continue;
            }
          l = g_new0 (Listener, 1);
          l->network = g_strdup (want->network);
          l->addr = want->addr;
          l->addr_len = want->addr_len;
          l->udp_fd = udp;
          l->tcp_fd = tcp;
        }
      l->internal = want->internal;
      g_ptr_array_add (next, l);
    }
  for (guint j = 0; j < s->listeners->len; j++)
    forget_listener (s, g_ptr_array_index (s->listeners, j));
  g_ptr_array_unref (s->listeners);
  s->listeners = g_steal_pointer (&next);
  load_all_hosts (s);
  if (first != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first));
      return FALSE;
    }
  return TRUE;
}

/* Answer locally, or return FALSE when the query must go upstream. */
static RrunDnsAction
decide (RrunDnsServer *s, const char *network, gboolean internal, const guint8 *query,
        gsize len, gsize out_size, gsize *out_len)
{
  drain_inotify (s); /* a container started just before its query is known */
  return rrun_dns_answer (g_hash_table_lookup (s->hosts, network), !internal, query, len,
                          s->out, out_size, out_len);
}

static void
add_pending (RrunDnsServer *s, Upstream *u)
{
  if (s->pending->len >= MAX_PENDING)
    {
      /* The oldest is the likeliest to be lost already; a TCP client waiting on it goes. */
      Upstream *old = g_ptr_array_index (s->pending, 0);

      if (old->tcp != NULL)
        g_ptr_array_remove (s->tcp, old->tcp);
      g_ptr_array_remove_index (s->pending, 0);
    }
  g_ptr_array_add (s->pending, u);
}

static socklen_t
sockaddr_len (const struct sockaddr_storage *ss)
{
  return ss->ss_family == AF_INET ? sizeof (struct sockaddr_in) : sizeof (struct sockaddr_in6);
}

static gboolean
is_loopback (const struct sockaddr_storage *ss)
{
  if (ss->ss_family == AF_INET)
    return (ntohl (((const struct sockaddr_in *) ss)->sin_addr.s_addr) >> 24) == 127;
  return IN6_IS_ADDR_LOOPBACK (&((const struct sockaddr_in6 *) ss)->sin6_addr);
}

/* Whether a reply came from server: same family, address and port. */
static gboolean
same_server (const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
  if (a->ss_family != b->ss_family)
    return FALSE;
  if (a->ss_family == AF_INET)
    {
      const struct sockaddr_in *x = (const void *) a, *y = (const void *) b;

      return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
  {
    const struct sockaddr_in6 *x = (const void *) a, *y = (const void *) b;

    return x->sin6_port == y->sin6_port
           && memcmp (&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
  }
}

/* The servers for a query from client on network, in the order they are tried: the
   container's --dns servers (its hosts line's dns=), else the default upstream alone. */
static void
choose_upstreams (RrunDnsServer *s, const char *network, const struct sockaddr_storage *client,
                  Upstream *u)
{
  u->n_servers = rrun_dns_hosts_upstreams (g_hash_table_lookup (s->hosts, network),
                                           (const struct sockaddr *) client, u->servers,
                                           RRUN_DNS_MAX_UPSTREAMS);
  u->from_hosts = u->n_servers > 0;
  for (guint i = 0; i < u->n_servers; i++)
    u->server_lens[i] = sockaddr_len (&u->servers[i]);
  if (u->n_servers == 0)
    {
      u->servers[0] = s->upstream;
      u->server_lens[0] = s->upstream_len;
      u->n_servers = 1;
    }
}

static gboolean
wire_id_taken (RrunDnsServer *s, guint16 id)
{
  for (guint i = 0; i < s->pending->len; i++)
    {
      Upstream *u = g_ptr_array_index (s->pending, i);

      if (u->via_host && u->wire_id == id)
        return TRUE;
    }
  return FALSE;
}

/* Send u's query to u->server from the host socket host_fd, under a fresh ID (the socket
   is shared: the ID tells the replies apart, and the original goes back on the reply). */
static gboolean
send_via_host (RrunDnsServer *s, Upstream *u, int host_fd, socklen_t server_len)
{
  g_autofree guint8 *copy = g_memdup2 (u->query, u->query_len);
  guint16 wire = 0;

  for (int tries = 0; tries < 16; tries++)
    {
      wire = (guint16) g_random_int_range (0, 65536);
      if (!wire_id_taken (s, wire))
        break;
    }
  copy[0] = (guint8) (wire >> 8);
  copy[1] = (guint8) wire;
  if (sendto (host_fd, copy, u->query_len, 0, (const struct sockaddr *) &u->server,
              server_len)
      < 0)
    {
      g_debug ("cannot send a query to the host's loopback: %s", g_strerror (errno));
      return FALSE;
    }
  u->state = UP_UDP;
  u->via_host = TRUE;
  u->wire_id = wire;
  return TRUE;
}

/* Send u's query to u->server: over UDP for a UDP client, over TCP for a TCP one (the
   connection may still be under way), through a host socket for a --dns server on the
   host's loopback. */
static gboolean
send_to_server (RrunDnsServer *s, Upstream *u, socklen_t server_len)
{
  int host_fd = -1;
  rrun_autofd int fd = -1;

  /* Without a host socket (the server alone in the host's namespace: net-dns) the
     loopback is reached from here. */
  if (u->from_hosts && is_loopback (&u->server))
    host_fd = u->server.ss_family == AF_INET ? s->host_fd4 : s->host_fd6;
  /* No TCP socket can be made in the host's namespace from here: a TCP client's query
     goes over the host's UDP socket too and its answer back over TCP (a truncated one as
     it is). */
  if (host_fd >= 0)
    return send_via_host (s, u, host_fd, server_len);
  if (u->tcp == NULL)
    {
      fd = socket (u->server.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      /* A socket per query: a random source port, and a reply is matched by its socket
         (connected: an ICMP error comes back on it as ECONNREFUSED). */
      if (fd < 0 || connect (fd, (const struct sockaddr *) &u->server, server_len) < 0
          || send (fd, u->query, u->query_len, 0) < 0)
        {
          g_debug ("cannot send a query upstream: %s", g_strerror (errno));
          return FALSE;
        }
      u->state = UP_UDP;
    }
  else
    {
      fd = socket (u->server.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0
          || (connect (fd, (const struct sockaddr *) &u->server, server_len) < 0
              && errno != EINPROGRESS))
        {
          g_debug ("cannot connect upstream: %s", g_strerror (errno));
          return FALSE;
        }
      u->state = UP_TCP_CONNECTING;
      if (u->buf == NULL)
        u->buf = g_malloc (2 + RRUN_DNS_MAX_MESSAGE);
      u->buf[0] = (guint8) (u->query_len >> 8);
      u->buf[1] = (guint8) u->query_len;
      memcpy (u->buf + 2, u->query, u->query_len);
      u->len = u->query_len + 2;
      u->off = 0;
    }
  u->fd = rrun_steal_fd (&fd);
  return TRUE;
}

/* Send u's query to its next server: one that cannot be sent to is passed over. FALSE
   when none is left or the query's time is up (it is then over, as with one server).
   Bounded: each server of the list is tried once, within the query's one deadline. */
static gboolean
try_next (RrunDnsServer *s, Upstream *u)
{
  gint64 now = g_get_monotonic_time ();

  while (u->next < u->n_servers && now < u->until)
    {
      guint i = u->next++;

      rrun_close_fdp (&u->fd);
      u->via_host = FALSE;
      /* A new socket may get the old one's number: its slot this turn is not its own. */
      u->serial = ++s->serial;
      u->server = u->servers[i];
      /* A server that is not the last has FAILOVER_US to answer, less than a resolver's
         own timeout (5 s), so the next is asked before the client gives up. */
      u->deadline = u->next < u->n_servers ? MIN (now + FAILOVER_US, u->until) : u->until;
      if (i > 0)
        {
          g_autofree char *text = addr_text (&u->server);

          g_debug ("trying the next --dns server %s", text);
        }
      if (send_to_server (s, u, u->server_lens[i]))
        return TRUE;
    }
  return FALSE;
}

/* A query to go upstream (for a UDP client: set listener and client; a TCP one: tcp),
   sent to its first server that takes it and pending; FALSE (and freed) when none does. */
static gboolean
start_upstream (RrunDnsServer *s, Upstream *u, const char *network,
                const struct sockaddr_storage *client, const guint8 *query, gsize len)
{
  u->fd = -1;
  u->id = (guint16) (query[0] << 8 | query[1]);
  u->until = g_get_monotonic_time () + UPSTREAM_TIMEOUT_US;
  u->query = g_memdup2 (query, len);
  u->query_len = len;
  choose_upstreams (s, network, client, u);
  if (!try_next (s, u))
    {
      upstream_free (u);
      return FALSE;
    }
  add_pending (s, u);
  return TRUE;
}

static void
forward_udp (RrunDnsServer *s, Listener *l, const struct sockaddr_storage *client,
             socklen_t client_len, const guint8 *query, gsize len)
{
  Upstream *u = g_new0 (Upstream, 1);

  u->listener = l;
  u->client = *client;
  u->client_len = client_len;
  (void) start_upstream (s, u, l->network, client, query, len);
}

static void
handle_udp (RrunDnsServer *s, Listener *l)
{
  /* A few per turn: one busy network does not starve the others. */
  for (int turn = 0; turn < 16; turn++)
    {
      struct sockaddr_storage client;
      socklen_t client_len = sizeof client;
      ssize_t n = recvfrom (l->udp_fd, s->buf, sizeof s->buf, 0, (struct sockaddr *) &client,
                            &client_len);
      gsize out_len = 0;

      if (n < 0)
        return;
      switch (decide (s, l->network, l->internal, s->buf, (gsize) n, RRUN_DNS_UDP_SIZE,
                      &out_len))
        {
        case RRUN_DNS_REPLY:
          (void) sendto (l->udp_fd, s->out, out_len, 0, (struct sockaddr *) &client,
                         client_len);
          break;
        case RRUN_DNS_FORWARD:
          forward_udp (s, l, &client, client_len, s->buf, (gsize) n);
          break;
        case RRUN_DNS_DROP:
          break;
        }
    }
}

static void
tcp_start_reply (TcpClient *c, const guint8 *msg, gsize len)
{
  c->buf[0] = (guint8) (len >> 8);
  c->buf[1] = (guint8) len;
  memmove (c->buf + 2, msg, len);
  c->len = len + 2;
  c->off = 0;
  c->state = TCP_WRITING;
  c->deadline = g_get_monotonic_time () + TCP_IDLE_US;
}

static void
forward_tcp (RrunDnsServer *s, TcpClient *c, const guint8 *query, gsize len)
{
  Upstream *u = g_new0 (Upstream, 1);

  u->tcp = c;
  if (!start_upstream (s, u, c->network, &c->peer, query, len))
    {
      g_ptr_array_remove (s->tcp, c);
      return;
    }
  c->state = TCP_WAITING;
  c->deadline = u->until + G_USEC_PER_SEC;
}

/* FALSE: the connection is done with (closed by the peer, an error, a bad message). */
static gboolean
handle_tcp_client (RrunDnsServer *s, TcpClient *c, short revents)
{
  ssize_t n;

  if ((revents & (POLLERR | POLLNVAL)) != 0)
    return FALSE;
  if (c->state == TCP_WRITING)
    {
      n = send (c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
      if (n < 0)
        return errno == EAGAIN || errno == EINTR;
      c->off += (gsize) n;
      if (c->off == c->len)
        {
          c->state = TCP_READING;
          c->len = 0;
          c->deadline = g_get_monotonic_time () + TCP_IDLE_US;
        }
      return TRUE;
    }
  if (c->state != TCP_READING)
    return (revents & POLLHUP) == 0;
  for (;;)
    {
      gsize want = c->len < 2 ? 2 : 2 + (gsize) (c->buf[0] << 8 | c->buf[1]);
      gsize out_len = 0;

      if (c->len < want)
        {
          n = recv (c->fd, c->buf + c->len, want - c->len, 0);
          if (n == 0)
            return FALSE;
          if (n < 0)
            return errno == EAGAIN || errno == EINTR;
          c->len += (gsize) n;
          continue;
        }
      if (want == 2)
        return FALSE; /* a zero-length message */
      switch (decide (s, c->network, c->internal, c->buf + 2, want - 2, RRUN_DNS_MAX_MESSAGE,
                      &out_len))
        {
        case RRUN_DNS_REPLY:
          tcp_start_reply (c, s->out, out_len);
          return handle_tcp_client (s, c, 0);
        case RRUN_DNS_FORWARD:
          /* When it cannot connect, forward_tcp has removed c already. */
          forward_tcp (s, c, c->buf + 2, want - 2);
          return TRUE;
        case RRUN_DNS_DROP:
          return FALSE;
        }
    }
}

static void
accept_tcp (RrunDnsServer *s, Listener *l)
{
  struct sockaddr_storage peer = { 0 };
  socklen_t peer_len = sizeof peer;
  int fd = accept4 (l->tcp_fd, (struct sockaddr *) &peer, &peer_len,
                    SOCK_NONBLOCK | SOCK_CLOEXEC);
  TcpClient *c;

  if (fd < 0)
    return;
  if (s->tcp->len >= MAX_TCP)
    {
      close (fd);
      return;
    }
  c = g_new0 (TcpClient, 1);
  c->serial = ++s->serial;
  c->fd = fd;
  c->state = TCP_READING;
  c->network = g_strdup (l->network);
  c->internal = l->internal;
  c->peer = peer;
  c->deadline = g_get_monotonic_time () + TCP_IDLE_US;
  g_ptr_array_add (s->tcp, c);
}

typedef enum
{
  UP_WAIT,   /* for more */
  UP_OVER,   /* answered, or an answer not to be relayed */
  UP_FAILED, /* the server cannot be reached: the next one, if any */
} UpResult;

static UpResult
handle_upstream (RrunDnsServer *s, Upstream *u, short revents)
{
  ssize_t n;

  if (u->state == UP_UDP)
    {
      n = recv (u->fd, s->buf, sizeof s->buf, 0);
      if (n < 0)
        return errno == EAGAIN || errno == EINTR ? UP_WAIT : UP_FAILED; /* ECONNREFUSED */
      if (!rrun_dns_reply_matches (u->id, s->buf, (gsize) n))
        return UP_WAIT; /* not ours: keep waiting for the right one */
      (void) sendto (u->listener->udp_fd, s->buf, (gsize) n, 0,
                     (struct sockaddr *) &u->client, u->client_len);
      return UP_OVER;
    }
  /* A refused or reset connection, or one closed before the whole reply. */
  if ((revents & (POLLERR | POLLNVAL)) != 0)
    return UP_FAILED;
  if (u->state == UP_TCP_CONNECTING)
    {
      n = send (u->fd, u->buf + u->off, u->len - u->off, MSG_NOSIGNAL);
      if (n < 0)
        return errno == EAGAIN || errno == EINTR ? UP_WAIT : UP_FAILED;
      u->off += (gsize) n;
      if (u->off == u->len)
        {
          u->state = UP_TCP_READING;
          u->len = 0;
        }
      return UP_WAIT;
    }
  for (;;)
    {
      gsize want = u->len < 2 ? 2 : 2 + (gsize) (u->buf[0] << 8 | u->buf[1]);

      if (u->len < want)
        {
          n = recv (u->fd, u->buf + u->len, want - u->len, 0);
          if (n == 0)
            return UP_FAILED;
          if (n < 0)
            return errno == EAGAIN || errno == EINTR ? UP_WAIT : UP_FAILED;
          u->len += (gsize) n;
          continue;
        }
      if (!rrun_dns_reply_matches (u->id, u->buf + 2, want - 2))
        return UP_OVER;
      tcp_start_reply (u->tcp, u->buf + 2, want - 2);
      u->tcp = NULL;
      return UP_OVER;
    }
}

/* Replies on a host socket: each to the pending query of its wire ID and server. */
static void
handle_host (RrunDnsServer *s, int fd)
{
  for (int turn = 0; turn < 16; turn++)
    {
      struct sockaddr_storage from = { 0 };
      socklen_t from_len = sizeof from;
      ssize_t n = recvfrom (fd, s->buf, sizeof s->buf, 0, (struct sockaddr *) &from, &from_len);
      Upstream *u = NULL;

      if (n < 0)
        return;
      for (guint i = 0; i < s->pending->len && u == NULL; i++)
        {
          Upstream *p = g_ptr_array_index (s->pending, i);

          if (p->via_host && rrun_dns_reply_matches (p->wire_id, s->buf, (gsize) n)
              && same_server (&p->server, &from))
            u = p;
        }
      if (u == NULL)
        continue; /* late, or not from the server asked: dropped */
      s->buf[0] = (guint8) (u->id >> 8);
      s->buf[1] = (guint8) u->id;
      if (u->tcp != NULL)
        {
          tcp_start_reply (u->tcp, s->buf, (gsize) n);
          u->tcp = NULL;
        }
      else
        (void) sendto (u->listener->udp_fd, s->buf, (gsize) n, 0,
                       (struct sockaddr *) &u->client, u->client_len);
      g_ptr_array_remove (s->pending, u);
    }
}

static gboolean
open_signals (RrunDnsServer *s, GError **error)
{
  sigset_t set;

  sigemptyset (&set);
  sigaddset (&set, SIGHUP);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGINT);
  /* An ignored signal is never pending (the holder ignores SIGHUP): the default first. */
  signal (SIGHUP, SIG_DFL);
  if (sigprocmask (SIG_BLOCK, &set, NULL) < 0)
    return rrun_throw_errno (error, errno, "cannot block signals");
  s->signal_fd = signalfd (-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (s->signal_fd < 0)
    return rrun_throw_errno (error, errno, "cannot create a signalfd");
  return TRUE;
}

typedef enum
{
  SLOT_SIGNAL,
  SLOT_INOTIFY,
  SLOT_UDP,
  SLOT_TCP_LISTEN,
  SLOT_UPSTREAM,
  SLOT_TCP_CLIENT,
  SLOT_HOST,
} SlotKind;

typedef struct
{
  SlotKind kind;
  gpointer item;
  guint64 serial;
} Slot;

/* Whether a slot's item is still there (an earlier slot's work may have freed it). */
static gboolean
slot_live (GPtrArray *items, const Slot *sl)
{
  /* Upstream and TcpClient both begin with their serial. */
  return g_ptr_array_find (items, sl->item, NULL) && *(guint64 *) sl->item == sl->serial;
}

gboolean
rrun_dns_server_run (RrunDnsServer *s, RrunDnsReloadFunc reload, gpointer data, GError **error)
{
  g_autoptr(GArray) fds = g_array_new (FALSE, FALSE, sizeof (struct pollfd));
  g_autoptr(GArray) slots = g_array_new (FALSE, FALSE, sizeof (Slot));

  if (s->signal_fd < 0 && !open_signals (s, error))
    return FALSE;
  for (;;)
    {
      gint64 now = g_get_monotonic_time (), next = now + 60 * G_USEC_PER_SEC;
      int r;

#define ADD(fd_, events_, kind_, item_, serial_)                                            \
  do                                                                                       \
    {                                                                                      \
      struct pollfd p_ = { .fd = (fd_), .events = (events_) };                             \
      Slot sl_ = { .kind = (kind_), .item = (item_), .serial = (serial_) };                \
      g_array_append_val (fds, p_);                                                        \
      g_array_append_val (slots, sl_);                                                     \
    }                                                                                      \
  while (0)

      g_array_set_size (fds, 0);
      g_array_set_size (slots, 0);
      ADD (s->signal_fd, POLLIN, SLOT_SIGNAL, NULL, 0);
      ADD (s->inotify_fd, POLLIN, SLOT_INOTIFY, NULL, 0);
      if (s->host_fd4 >= 0)
        ADD (s->host_fd4, POLLIN, SLOT_HOST, NULL, 0);
      if (s->host_fd6 >= 0)
        ADD (s->host_fd6, POLLIN, SLOT_HOST, NULL, 0);
      for (guint i = 0; i < s->listeners->len; i++)
        {
          Listener *l = g_ptr_array_index (s->listeners, i);

          ADD (l->udp_fd, POLLIN, SLOT_UDP, l, 0);
          ADD (l->tcp_fd, POLLIN, SLOT_TCP_LISTEN, l, 0);
        }
      for (guint i = s->pending->len; i-- > 0;)
        {
          Upstream *u = g_ptr_array_index (s->pending, i);

          /* No answer in time: the next server, or the query is over. */
          if (u->deadline <= now && !try_next (s, u))
            {
              if (u->tcp != NULL)
                g_ptr_array_remove (s->tcp, u->tcp);
              g_ptr_array_remove_index (s->pending, i);
              continue;
            }
          next = MIN (next, u->deadline);
          if (u->fd >= 0)
            ADD (u->fd, u->state == UP_TCP_CONNECTING ? POLLOUT : POLLIN, SLOT_UPSTREAM, u,
               u->serial);
        }
      for (guint i = s->tcp->len; i-- > 0;)
        {
          TcpClient *c = g_ptr_array_index (s->tcp, i);

          if (c->deadline <= now)
            {
              g_ptr_array_remove_index (s->tcp, i);
              continue;
            }
          next = MIN (next, c->deadline);
          if (c->state != TCP_WAITING)
            ADD (c->fd, c->state == TCP_WRITING ? POLLOUT : POLLIN, SLOT_TCP_CLIENT, c,
                 c->serial);
        }
#undef ADD

      r = poll ((struct pollfd *) fds->data, fds->len,
                (int) MAX (1, (next - now + 999) / 1000));
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        return rrun_throw_errno (error, errno, "poll");
      /* The hosts first: a name added just before a query is then answered. */
      drain_inotify (s);
      for (guint i = 0; i < fds->len; i++)
        {
          struct pollfd *p = &g_array_index (fds, struct pollfd, i);
          Slot *sl = &g_array_index (slots, Slot, i);

          if (p->revents == 0)
            continue;
          switch (sl->kind)
            {
            case SLOT_SIGNAL:
              {
                struct signalfd_siginfo si;

                while (read (s->signal_fd, &si, sizeof si) == (ssize_t) sizeof si)
                  {
                    if (si.ssi_signo != SIGHUP)
                      return TRUE;
                    if (reload != NULL)
                      reload (s, data);
                    else
                      load_all_hosts (s);
                  }
                /* The listeners may have changed: the slots are stale. */
                goto next_turn;
              }
            case SLOT_INOTIFY:
              break;
            case SLOT_HOST:
              handle_host (s, p->fd);
              break;
            case SLOT_UDP:
              handle_udp (s, sl->item);
              break;
            case SLOT_TCP_LISTEN:
              accept_tcp (s, sl->item);
              break;
            case SLOT_UPSTREAM:
              if (slot_live (s->pending, sl))
                {
                  Upstream *u = sl->item;
                  UpResult res = handle_upstream (s, u, p->revents);

                  if (res == UP_WAIT || (res == UP_FAILED && try_next (s, u)))
                    break;
                  if (u->tcp != NULL)
                    g_ptr_array_remove (s->tcp, u->tcp);
                  g_ptr_array_remove (s->pending, u);
                }
              break;
            case SLOT_TCP_CLIENT:
              if (slot_live (s->tcp, sl) && !handle_tcp_client (s, sl->item, p->revents))
                {
                  /* An upstream query for it would have nowhere to go. */
                  for (guint j = s->pending->len; j-- > 0;)
                    if (((Upstream *) g_ptr_array_index (s->pending, j))->tcp == sl->item)
                      g_ptr_array_remove_index (s->pending, j);
                  g_ptr_array_remove (s->tcp, sl->item);
                }
              break;
            }
        }
    next_turn:;
    }
}

gboolean
rrun_dns_server_main (int argc, char **argv, GError **error)
{
  g_autoptr(GPtrArray) listens = g_ptr_array_new_with_free_func (
      (GDestroyNotify) rrun_dns_listen_free);
  g_autoptr(GPtrArray) internal = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(RrunDnsServer) server = NULL;
  const char *hosts_dir = NULL, *upstream_text = NULL;
  struct sockaddr_storage upstream;
  socklen_t upstream_len = 0;
  int ready_fd = -1;
  const char *usage = "usage: rrun __internal net-dns --listen ADDR:PORT=NETWORK... "
                      "[--internal NETWORK]... --hosts-dir DIR --upstream ADDR:PORT "
                      "[--ready-fd N]";

  for (int i = 1; i < argc; i++)
    {
      const char *arg = argv[i];
      const char *value = i + 1 < argc ? argv[i + 1] : NULL;

      if (value == NULL)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s", usage);
      i++;
      if (g_str_equal (arg, "--listen"))
        {
          RrunDnsListen *l = rrun_dns_listen_parse (value, error);

          if (l == NULL)
            return FALSE;
          g_ptr_array_add (listens, l);
        }
      else if (g_str_equal (arg, "--internal"))
        g_ptr_array_add (internal, g_strdup (value));
      else if (g_str_equal (arg, "--hosts-dir"))
        hosts_dir = value;
      else if (g_str_equal (arg, "--upstream"))
        upstream_text = value;
      else if (g_str_equal (arg, "--ready-fd"))
        ready_fd = (int) g_ascii_strtoll (value, NULL, 10);
      else
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s", usage);
    }
  if (hosts_dir == NULL || upstream_text == NULL || listens->len == 0)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s", usage);
  if (!rrun_dns_parse_address (upstream_text, 53, &upstream, &upstream_len, error))
    return FALSE;
  for (guint i = 0; i < listens->len; i++)
    {
      RrunDnsListen *l = g_ptr_array_index (listens, i);

      l->internal = g_ptr_array_find_with_equal_func (internal, l->network, g_str_equal, NULL);
    }
  server = rrun_dns_server_new (hosts_dir, (struct sockaddr *) &upstream, upstream_len, error);
  if (server == NULL || !open_signals (server, error)
      || !rrun_dns_server_set_listeners (server, listens, error))
    return FALSE;
  if (ready_fd >= 0)
    {
      (void) !write (ready_fd, "1", 1);
      close (ready_fd);
    }
  return rrun_dns_server_run (server, NULL, NULL, error);
}
