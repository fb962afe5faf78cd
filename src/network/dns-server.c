/* rrun's DNS server, its sockets and loop (network/dns.h). One thread, one poll(2): the
   listeners (UDP and TCP per network), the hosts directory's inotify fd, a signalfd, the
   queries pending upstream, the TCP clients and the host's loopback sockets. Everything it
   keeps is bounded: at most MAX_PENDING queries upstream (the oldest is dropped for a new
   one), MAX_TCP clients, each with a deadline. */
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
  gint64 deadline;
  /* a query to a server on the host's loopback, through the shared host socket: its ID on
     the wire (unique among those pending there) and the server the reply must come from */
  gboolean via_host;
  guint16 wire_id;
  struct sockaddr_storage server;
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

/* The upstream for a query from client on network: the container's first --dns server
   (its hosts line's dns=), or the default. *out_host_fd: the host socket to send it from
   (a server on the host's loopback, when the server has one), else -1. */
static void
choose_upstream (RrunDnsServer *s, const char *network, const struct sockaddr_storage *client,
                 struct sockaddr_storage *out, socklen_t *out_len, int *out_host_fd)
{
  struct sockaddr_storage ups[1];

  *out_host_fd = -1;
  if (rrun_dns_hosts_upstreams (g_hash_table_lookup (s->hosts, network),
                                (const struct sockaddr *) client, ups, 1)
      == 0)
    {
      *out = s->upstream;
      *out_len = s->upstream_len;
      return;
    }
  *out = ups[0];
  *out_len = sockaddr_len (&ups[0]);
  /* Without a host socket (the server alone in the host's namespace: net-dns) the
     loopback is reached from here. */
  if (is_loopback (out))
    *out_host_fd = out->ss_family == AF_INET ? s->host_fd4 : s->host_fd6;
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

/* Send query to server from the host socket host_fd, under a fresh ID (the socket is
   shared: the ID tells the replies apart, and the original goes back on the reply).
   NULL when it cannot be sent. */
static Upstream *
forward_via_host (RrunDnsServer *s, int host_fd, const struct sockaddr_storage *server,
                  socklen_t server_len, const guint8 *query, gsize len)
{
  g_autofree guint8 *copy = g_memdup2 (query, len);
  Upstream *u;
  guint16 wire = 0;

  for (int tries = 0; tries < 16; tries++)
    {
      wire = (guint16) g_random_int_range (0, 65536);
      if (!wire_id_taken (s, wire))
        break;
    }
  copy[0] = (guint8) (wire >> 8);
  copy[1] = (guint8) wire;
  if (sendto (host_fd, copy, len, 0, (const struct sockaddr *) server, server_len) < 0)
    {
      g_debug ("cannot send a query to the host's loopback: %s", g_strerror (errno));
      return NULL;
    }
  u = g_new0 (Upstream, 1);
  u->serial = ++s->serial;
  u->fd = -1;
  u->state = UP_UDP;
  u->id = (guint16) (query[0] << 8 | query[1]);
  u->deadline = g_get_monotonic_time () + UPSTREAM_TIMEOUT_US;
  u->via_host = TRUE;
  u->wire_id = wire;
  u->server = *server;
  return u;
}

static void
forward_udp (RrunDnsServer *s, Listener *l, const struct sockaddr_storage *client,
             socklen_t client_len, const guint8 *query, gsize len)
{
  Upstream *u;
  struct sockaddr_storage up;
  socklen_t up_len = 0;
  int host_fd = -1;
  rrun_autofd int fd = -1;

  choose_upstream (s, l->network, client, &up, &up_len, &host_fd);
  if (host_fd >= 0)
    {
      u = forward_via_host (s, host_fd, &up, up_len, query, len);
      if (u == NULL)
        return;
      u->listener = l;
      u->client = *client;
      u->client_len = client_len;
      add_pending (s, u);
      return;
    }
  fd = socket (up.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  /* A socket per query: a random source port, and a reply is matched by its socket. */
  if (fd < 0
      || connect (fd, (const struct sockaddr *) &up, up_len) < 0
      || send (fd, query, len, 0) < 0)
    {
      g_debug ("cannot send a query upstream: %s", g_strerror (errno));
      return;
    }
  u = g_new0 (Upstream, 1);
  u->serial = ++s->serial;
  u->fd = rrun_steal_fd (&fd);
  u->state = UP_UDP;
  u->id = (guint16) (query[0] << 8 | query[1]);
  u->deadline = g_get_monotonic_time () + UPSTREAM_TIMEOUT_US;
  u->listener = l;
  u->client = *client;
  u->client_len = client_len;
  add_pending (s, u);
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
  Upstream *u;
  struct sockaddr_storage up;
  socklen_t up_len = 0;
  int host_fd = -1;
  rrun_autofd int fd = -1;

  choose_upstream (s, c->network, &c->peer, &up, &up_len, &host_fd);
  if (host_fd >= 0)
    {
      /* No TCP socket can be made in the host's namespace from here: the query goes over
         the host's UDP socket and its answer back over TCP (a truncated one as it is). */
      u = forward_via_host (s, host_fd, &up, up_len, query, len);
      if (u == NULL)
        {
          g_ptr_array_remove (s->tcp, c);
          return;
        }
      u->tcp = c;
      c->state = TCP_WAITING;
      c->deadline = u->deadline + G_USEC_PER_SEC;
      add_pending (s, u);
      return;
    }
  fd = socket (up.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0
      || (connect (fd, (const struct sockaddr *) &up, up_len) < 0 && errno != EINPROGRESS))
    {
      g_debug ("cannot connect upstream: %s", g_strerror (errno));
      g_ptr_array_remove (s->tcp, c);
      return;
    }
  u = g_new0 (Upstream, 1);
  u->serial = ++s->serial;
  u->fd = rrun_steal_fd (&fd);
  u->state = UP_TCP_CONNECTING;
  u->id = (guint16) (query[0] << 8 | query[1]);
  u->deadline = g_get_monotonic_time () + UPSTREAM_TIMEOUT_US;
  u->tcp = c;
  u->buf = g_malloc (2 + RRUN_DNS_MAX_MESSAGE);
  u->buf[0] = (guint8) (len >> 8);
  u->buf[1] = (guint8) len;
  memcpy (u->buf + 2, query, len);
  u->len = len + 2;
  c->state = TCP_WAITING;
  c->deadline = u->deadline + G_USEC_PER_SEC;
  add_pending (s, u);
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

/* FALSE: the upstream query is over (answered, failed). */
static gboolean
handle_upstream (RrunDnsServer *s, Upstream *u, short revents)
{
  ssize_t n;

  if (u->state == UP_UDP)
    {
      n = recv (u->fd, s->buf, sizeof s->buf, 0);
      if (n < 0)
        return errno == EAGAIN || errno == EINTR;
      if (!rrun_dns_reply_matches (u->id, s->buf, (gsize) n))
        return TRUE; /* not ours: keep waiting for the right one */
      (void) sendto (u->listener->udp_fd, s->buf, (gsize) n, 0,
                     (struct sockaddr *) &u->client, u->client_len);
      return FALSE;
    }
  if ((revents & (POLLERR | POLLNVAL)) != 0)
    return FALSE;
  if (u->state == UP_TCP_CONNECTING)
    {
      n = send (u->fd, u->buf + u->off, u->len - u->off, MSG_NOSIGNAL);
      if (n < 0)
        return errno == EAGAIN || errno == EINTR;
      u->off += (gsize) n;
      if (u->off == u->len)
        {
          u->state = UP_TCP_READING;
          u->len = 0;
        }
      return TRUE;
    }
  for (;;)
    {
      gsize want = u->len < 2 ? 2 : 2 + (gsize) (u->buf[0] << 8 | u->buf[1]);

      if (u->len < want)
        {
          n = recv (u->fd, u->buf + u->len, want - u->len, 0);
          if (n == 0)
            return FALSE;
          if (n < 0)
            return errno == EAGAIN || errno == EINTR;
          u->len += (gsize) n;
          continue;
        }
      if (!rrun_dns_reply_matches (u->id, u->buf + 2, want - 2))
        return FALSE;
      tcp_start_reply (u->tcp, u->buf + 2, want - 2);
      u->tcp = NULL;
      return FALSE;
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

          if (u->deadline <= now)
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
              if (slot_live (s->pending, sl) && !handle_upstream (s, sl->item, p->revents))
                {
                  Upstream *u = sl->item;

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
