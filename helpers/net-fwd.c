/* Published ports. TCP goes through a host-side socket forwarder (rootlesskit's builtin
   port driver design): the helper listens on the host's ip:port, gets a socket made inside
   the container's network namespace from the connector, connects it to the container's
   port, and splices the two sockets through a pipe per direction, one thread each, so data
   never enters user space. libslirp's hostfwd TCP path tops out far below loopback speed.
   UDP is relayed by the helper too (not by libslirp's UDP hostfwd, which shows a client on
   the host's loopback to the container as the gateway 10.0.2.2 and then drops the reply to
   that address when host loopback is closed, the default): one flow per client (its
   address and port), each with a socket made inside the container's namespace and
   connected to the container's address (tap0's, or its address on a user-defined network
   with --no-tap), so the container's replies come back on it and go to that client from
   the published port. A flow idle for UDP_FLOW_IDLE_MS is closed; at UDP_FLOWS_MAX flows
   the least recently active one is closed to make room (the environment's
   RRUN_NET_UDP_IDLE_MS and RRUN_NET_UDP_FLOWS lower them, for tests). */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PIPE_SIZE (1024 * 1024)

/* docker's userland proxy keeps a UDP flow for 90 s, the kernel's conntrack 30 s (120 s
   once both sides have spoken); a minute sits between. */
#define UDP_FLOW_IDLE_MS (60 * 1000)
/* Each flow holds one descriptor: stay well under the usual limit of 1024, which the TCP
   connections share. */
#define UDP_FLOWS_MAX 256
/* Datagrams moved per socket per turn, so one busy client cannot starve the others. */
#define UDP_BATCH 64
/* The largest UDP payload over IPv4. */
#define UDP_BUF_SIZE 65536

typedef struct
{
  guint id;
  gboolean udp;
  char *host_addr;
  guint host_port;
  guint guest_port;
  int listen_fd;     /* the published socket */
  GHashTable *flows; /* UDP: client key (guint64) -> Flow* */
  struct NetFwd *owner;
} Fwd;

/* One UDP client of a published port. */
typedef struct
{
  guint64 key; /* the client's address << 16 | its port */
  Fwd *fwd;
  struct sockaddr_in client;
  int guest_fd; /* made in the container's namespace, connected to its address:port */
  gint64 last_ms;
} Flow;

struct NetFwd
{
  const NetConfig *cfg;
  int connector_fd;
  GPtrArray *fwds; /* Fwd* */
  guint next_id;
  guint poll_start;
  GPtrArray *polled; /* Fwd* in pollfd order */
  guint flow_poll_start;
  GPtrArray *polled_flows; /* Flow* in pollfd order */
  guint n_flows;
  guint flows_max;
  gint64 flow_idle_ms;
  gint64 next_sweep_ms;
  guint8 *udp_buf;
};

typedef struct
{
  int host_fd;
  int guest_fd;
  guint guest_port;
  struct in_addr guest_addr;
  gint refs;
} Conn;

static gint64
now_ms (void)
{
  return g_get_monotonic_time () / 1000;
}

static void
flow_free (Flow *flow)
{
  close (flow->guest_fd);
  flow->fwd->owner->n_flows--;
  g_free (flow);
}

static void
fwd_free (Fwd *f)
{
  if (f->flows != NULL)
    g_hash_table_unref (f->flows);
  if (f->listen_fd >= 0)
    close (f->listen_fd);
  g_free (f->host_addr);
  g_free (f);
}

NetFwd *
net_fwd_new (const NetConfig *cfg, int connector_fd)
{
  NetFwd *fwd = g_new0 (NetFwd, 1);

  fwd->cfg = cfg;
  fwd->connector_fd = connector_fd;
  fwd->fwds = g_ptr_array_new_with_free_func ((GDestroyNotify) fwd_free);
  fwd->polled = g_ptr_array_new ();
  fwd->polled_flows = g_ptr_array_new ();
  fwd->next_id = 1;
  fwd->flows_max = UDP_FLOWS_MAX;
  fwd->flow_idle_ms = UDP_FLOW_IDLE_MS;
  if (g_getenv ("RRUN_NET_UDP_FLOWS") != NULL)
    fwd->flows_max = (guint) CLAMP (atoi (g_getenv ("RRUN_NET_UDP_FLOWS")), 1, UDP_FLOWS_MAX);
  if (g_getenv ("RRUN_NET_UDP_IDLE_MS") != NULL)
    fwd->flow_idle_ms = CLAMP (atoi (g_getenv ("RRUN_NET_UDP_IDLE_MS")), 100, UDP_FLOW_IDLE_MS);
  return fwd;
}

void
net_fwd_free (NetFwd *fwd)
{
  if (fwd == NULL)
    return;
  g_ptr_array_unref (fwd->polled);
  g_ptr_array_unref (fwd->polled_flows);
  g_ptr_array_unref (fwd->fwds);
  g_free (fwd->udp_buf);
  g_free (fwd);
}

static void
conn_unref (Conn *c)
{
  if (!g_atomic_int_dec_and_test (&c->refs))
    return;
  close (c->host_fd);
  close (c->guest_fd);
  g_free (c);
}

/* Move bytes from one socket to the other until EOF or an error, then pass the EOF on. */
static void
pump (int from, int to)
{
  int p[2];

  if (pipe2 (p, O_CLOEXEC) < 0)
    {
      shutdown (from, SHUT_RDWR);
      shutdown (to, SHUT_RDWR);
      return;
    }
  fcntl (p[1], F_SETPIPE_SZ, PIPE_SIZE);
  for (;;)
    {
      ssize_t n = splice (from, NULL, p[1], NULL, PIPE_SIZE, SPLICE_F_MOVE);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (n < 0)
            shutdown (from, SHUT_RDWR);
          break;
        }
      /* No SPLICE_F_MORE into the socket: it is MSG_MORE, which holds a partial segment
         back until more data comes or TCP's 200 ms timer sends it (it overrides
         TCP_NODELAY), so every request and every reply waited 200 ms.  The kernel already
         marks all but the last page of one splice as "more". */
      while (n > 0)
        {
          ssize_t w = splice (p[0], NULL, to, NULL, n, SPLICE_F_MOVE);

          if (w < 0 && errno == EINTR)
            continue;
          if (w <= 0)
            {
              /* The peer is gone: stop both directions. */
              shutdown (from, SHUT_RDWR);
              shutdown (to, SHUT_RDWR);
              goto out;
            }
          n -= w;
        }
    }
  shutdown (to, SHUT_WR);
out:
  close (p[0]);
  close (p[1]);
}

static gpointer
pump_to_host (gpointer data)
{
  Conn *c = data;

  pump (c->guest_fd, c->host_fd);
  conn_unref (c);
  return NULL;
}

static gboolean
connect_to (int fd, struct in_addr addr, guint port)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (port), .sin_addr = addr };
  int r;

  do
    r = connect (fd, (struct sockaddr *) &sa, sizeof sa);
  while (r < 0 && errno == EINTR);
  return r == 0;
}

static gpointer
conn_thread (gpointer data)
{
  Conn *c = data;
  struct in_addr lo = { .s_addr = htonl (INADDR_LOOPBACK) };
  int one = 1;
  GThread *t;

  /* 127.0.0.1 inside reaches servers bound to it and to 0.0.0.0; a server bound to the
     tap address only needs that address.  */
  if (!connect_to (c->guest_fd, lo, c->guest_port))
    {
      /* The socket must stay the one made inside the namespace: disconnect it (AF_UNSPEC)
         and connect it again, which keeps its network namespace. */
      struct sockaddr sa = { .sa_family = AF_UNSPEC };

      if (errno != ECONNREFUSED || connect (c->guest_fd, &sa, sizeof sa) < 0
          || !connect_to (c->guest_fd, c->guest_addr, c->guest_port))
        goto fail;
    }
  setsockopt (c->guest_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt (c->host_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  g_atomic_int_inc (&c->refs);
  t = g_thread_try_new ("rrun-net-pump", pump_to_host, c, NULL);
  if (t == NULL)
    {
      g_atomic_int_add (&c->refs, -1);
      goto fail;
    }
  g_thread_unref (t);
  pump (c->host_fd, c->guest_fd);
  conn_unref (c);
  return NULL;
fail:
  g_debug ("connect to container port %u: %s", c->guest_port, g_strerror (errno));
  conn_unref (c);
  return NULL;
}

static void
accept_all (NetFwd *fwd, Fwd *f)
{
  for (guint i = 0; i < 64; i++)
    {
      g_autoptr (GError) error = NULL;
      int host_fd = accept4 (f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
      int guest_fd;
      Conn *c;
      GThread *t;

      if (host_fd < 0)
        return; /* EAGAIN, or an aborted connection */
      guest_fd = net_ns_socket (fwd->connector_fd, AF_INET, SOCK_STREAM, &error);
      if (guest_fd < 0)
        {
          g_printerr ("rrun-net: cannot forward a connection to port %u: %s\n", f->guest_port,
                      error->message);
          close (host_fd);
          continue;
        }
      c = g_new0 (Conn, 1);
      c->host_fd = host_fd;
      c->guest_fd = guest_fd;
      c->guest_port = f->guest_port;
      c->guest_addr = fwd->cfg->guest;
      c->refs = 1;
      t = g_thread_try_new ("rrun-net-conn", conn_thread, c, NULL);
      if (t == NULL)
        conn_unref (c);
      else
        g_thread_unref (t);
    }
}

/* ---- UDP ---- */

/* Close the least recently active flow of all published ports. */
static void
evict_oldest_flow (NetFwd *fwd)
{
  Flow *oldest = NULL;

  for (guint i = 0; i < fwd->fwds->len; i++)
    {
      Fwd *f = fwd->fwds->pdata[i];
      GHashTableIter it;
      gpointer value;

      if (f->flows == NULL)
        continue;
      g_hash_table_iter_init (&it, f->flows);
      while (g_hash_table_iter_next (&it, NULL, &value))
        if (oldest == NULL || ((Flow *) value)->last_ms < oldest->last_ms)
          oldest = value;
    }
  if (oldest != NULL)
    {
      g_debug ("UDP: %u flows: closing the least recently active one", fwd->n_flows);
      g_hash_table_remove (oldest->fwd->flows, &oldest->key);
    }
}

static Flow *
flow_new (NetFwd *fwd, Fwd *f, const struct sockaddr_in *client, guint64 key)
{
  g_autoptr (GError) error = NULL;
  Flow *flow;
  int guest_fd;

  if (fwd->n_flows >= fwd->flows_max)
    evict_oldest_flow (fwd);
  guest_fd = net_ns_socket (fwd->connector_fd, AF_INET, SOCK_DGRAM, &error);
  if (guest_fd < 0)
    {
      g_debug ("UDP: cannot forward a datagram to port %u: %s", f->guest_port, error->message);
      return NULL;
    }
  /* connect() of a UDP socket only sets its peer: no packet, no wait. */
  if (fcntl (guest_fd, F_SETFL, O_NONBLOCK) < 0
      || !connect_to (guest_fd, fwd->cfg->guest, f->guest_port))
    {
      g_debug ("UDP: cannot connect to container port %u: %s", f->guest_port,
               g_strerror (errno));
      close (guest_fd);
      return NULL;
    }
  flow = g_new0 (Flow, 1);
  flow->key = key;
  flow->fwd = f;
  flow->client = *client;
  flow->guest_fd = guest_fd;
  g_hash_table_insert (f->flows, &flow->key, flow);
  fwd->n_flows++;
  return flow;
}

/* Datagrams from clients to the published port: each into its client's flow. */
static void
udp_from_clients (NetFwd *fwd, Fwd *f)
{
  for (guint i = 0; i < UDP_BATCH; i++)
    {
      struct sockaddr_in client = { 0 };
      socklen_t len = sizeof client;
      ssize_t n = recvfrom (f->listen_fd, fwd->udp_buf, UDP_BUF_SIZE, MSG_DONTWAIT,
                            (struct sockaddr *) &client, &len);
      guint64 key;
      Flow *flow;

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return; /* EAGAIN */
      if (client.sin_family != AF_INET)
        continue;
      key = (guint64) ntohl (client.sin_addr.s_addr) << 16 | ntohs (client.sin_port);
      flow = g_hash_table_lookup (f->flows, &key);
      if (flow == NULL && (flow = flow_new (fwd, f, &client, key)) == NULL)
        continue;
      flow->last_ms = now_ms ();
      /* A port unreachable from an earlier datagram is reported by this send, which then
         sends nothing: send once more. A full queue drops the datagram, as UDP may. */
      if (send (flow->guest_fd, fwd->udp_buf, (size_t) n, MSG_DONTWAIT) < 0
          && errno == ECONNREFUSED)
        (void) send (flow->guest_fd, fwd->udp_buf, (size_t) n, MSG_DONTWAIT);
    }
}

/* Datagrams from the container on a flow: to its client, from the published port. */
static void
udp_from_container (NetFwd *fwd, Flow *flow)
{
  for (guint i = 0; i < UDP_BATCH; i++)
    {
      ssize_t n = recv (flow->guest_fd, fwd->udp_buf, UDP_BUF_SIZE, MSG_DONTWAIT);

      if (n < 0 && (errno == EINTR || errno == ECONNREFUSED))
        continue; /* ECONNREFUSED: nothing listens on the port (yet); it is cleared now */
      if (n < 0)
        return;
      flow->last_ms = now_ms ();
      (void) sendto (flow->fwd->listen_fd, fwd->udp_buf, (size_t) n, MSG_DONTWAIT,
                     (struct sockaddr *) &flow->client, sizeof flow->client);
    }
}

/* Close the flows idle for flow_idle_ms; checked once a second. */
static void
expire_flows (NetFwd *fwd)
{
  gint64 now = now_ms ();

  if (fwd->n_flows == 0 || now < fwd->next_sweep_ms)
    return;
  fwd->next_sweep_ms = now + 1000;
  for (guint i = 0; i < fwd->fwds->len; i++)
    {
      Fwd *f = fwd->fwds->pdata[i];
      GHashTableIter it;
      gpointer value;

      if (f->flows == NULL)
        continue;
      g_hash_table_iter_init (&it, f->flows);
      while (g_hash_table_iter_next (&it, NULL, &value))
        if (now - ((Flow *) value)->last_ms >= fwd->flow_idle_ms)
          g_hash_table_iter_remove (&it);
    }
}

static gboolean
parse_host_addr (const char *text, struct sockaddr_storage *ss, socklen_t *len, GError **error)
{
  struct sockaddr_in *sin = (struct sockaddr_in *) ss;
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;

  memset (ss, 0, sizeof *ss);
  if (text == NULL || *text == '\0' || inet_pton (AF_INET, text, &sin->sin_addr) == 1)
    {
      sin->sin_family = AF_INET;
      *len = sizeof *sin;
      return TRUE;
    }
  if (inet_pton (AF_INET6, text, &sin6->sin6_addr) == 1)
    {
      sin6->sin6_family = AF_INET6;
      *len = sizeof *sin6;
      return TRUE;
    }
  return net_throw (error, "invalid host address \"%s\"", text);
}

static void
set_port (struct sockaddr_storage *ss, guint port)
{
  if (ss->ss_family == AF_INET6)
    ((struct sockaddr_in6 *) ss)->sin6_port = htons (port);
  else
    ((struct sockaddr_in *) ss)->sin_port = htons (port);
}

static guint
get_port (int fd)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;

  if (getsockname (fd, (struct sockaddr *) &ss, &len) < 0)
    return 0;
  return ntohs (ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &ss)->sin6_port
                                         : ((struct sockaddr_in *) &ss)->sin_port);
}

gboolean
net_fwd_add (NetFwd *fwd, gboolean udp, const char *host_addr, guint host_port,
             guint guest_port, guint *out_id, guint *out_host_port, int *out_errno,
             GError **error)
{
  struct sockaddr_storage ss;
  socklen_t len;
  int fd, one = 1;
  Fwd *f;

  *out_errno = 0;
  if (host_port > 65535 || guest_port == 0 || guest_port > 65535)
    return net_throw (error, "port out of range");
  if (!parse_host_addr (host_addr, &ss, &len, error))
    return FALSE;
  if (udp && ss.ss_family != AF_INET)
    return net_throw (error, "UDP ports are published on IPv4 addresses only");
  set_port (&ss, host_port);
  /* The caller learns EACCES/EADDRINUSE with the errno. */
  fd = socket (ss.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    {
      *out_errno = errno;
      return net_throw_errno (error, errno, "cannot create a socket");
    }
  if (!udp)
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ss.ss_family == AF_INET6)
    setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind (fd, (struct sockaddr *) &ss, len) < 0 || (!udp && listen (fd, 512) < 0))
    {
      int errsv = errno;
      close (fd);
      *out_errno = errsv;
      return net_throw_errno (error, errsv, "cannot bind %s port %s:%u", udp ? "UDP" : "TCP",
                              host_addr != NULL && *host_addr ? host_addr : "0.0.0.0",
                              host_port);
    }
  f = g_new0 (Fwd, 1);
  f->id = fwd->next_id;
  f->udp = udp;
  f->host_addr = g_strdup (host_addr != NULL && *host_addr ? host_addr
                           : ss.ss_family == AF_INET6 ? "::" : "0.0.0.0");
  f->host_port = get_port (fd);
  f->guest_port = guest_port;
  f->listen_fd = fd;
  f->owner = fwd;
  if (udp)
    {
      /* The relay above. */
      f->flows = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                        (GDestroyNotify) flow_free);
      if (fwd->udp_buf == NULL)
        fwd->udp_buf = g_malloc (UDP_BUF_SIZE);
    }
  fwd->next_id++;
  g_ptr_array_add (fwd->fwds, f);
  *out_id = f->id;
  *out_host_port = f->host_port;
  return TRUE;
}

gboolean
net_fwd_remove (NetFwd *fwd, guint id, GError **error)
{
  for (guint i = 0; i < fwd->fwds->len; i++)
    {
      Fwd *f = fwd->fwds->pdata[i];

      if (f->id != id)
        continue;
      /* This turn's poll results may name it or its flows: dispatch none of them. */
      g_ptr_array_set_size (fwd->polled, 0);
      g_ptr_array_set_size (fwd->polled_flows, 0);
      g_ptr_array_remove_index (fwd->fwds, i);
      return TRUE;
    }
  return net_throw (error, "no port forward with id %u", id);
}

void
net_fwd_list (NetFwd *fwd, GString *out)
{
  g_string_append_c (out, '[');
  for (guint i = 0; i < fwd->fwds->len; i++)
    {
      Fwd *f = fwd->fwds->pdata[i];

      g_string_append_printf (out, "%s{\"id\":%u,\"proto\":\"%s\",\"host_addr\":",
                              i > 0 ? "," : "", f->id, f->udp ? "udp" : "tcp");
      rrun_json_write_string (out, f->host_addr);
      g_string_append_printf (out, ",\"host_port\":%u,\"guest_port\":%u}",
                              (guint) f->host_port, (guint) f->guest_port);
    }
  g_string_append_c (out, ']');
}

void
net_fwd_add_pollfds (NetFwd *fwd, GArray *pollfds)
{
  fwd->poll_start = pollfds->len;
  g_ptr_array_set_size (fwd->polled, 0);
  for (guint i = 0; i < fwd->fwds->len; i++)
    {
      Fwd *f = fwd->fwds->pdata[i];
      GPollFD pfd = { .fd = f->listen_fd, .events = G_IO_IN };

      if (f->listen_fd < 0)
        continue;
      g_array_append_val (pollfds, pfd);
      g_ptr_array_add (fwd->polled, f);
    }
  fwd->flow_poll_start = pollfds->len;
  g_ptr_array_set_size (fwd->polled_flows, 0);
  for (guint i = 0; i < fwd->fwds->len; i++)
    {
      Fwd *f = fwd->fwds->pdata[i];
      GHashTableIter it;
      gpointer value;

      if (f->flows == NULL)
        continue;
      g_hash_table_iter_init (&it, f->flows);
      while (g_hash_table_iter_next (&it, NULL, &value))
        {
          GPollFD pfd = { .fd = ((Flow *) value)->guest_fd, .events = G_IO_IN };

          g_array_append_val (pollfds, pfd);
          g_ptr_array_add (fwd->polled_flows, value);
        }
    }
}

void
net_fwd_dispatch (NetFwd *fwd, const GPollFD *pollfds, guint n)
{
  /* The container's datagrams first: a client's datagram below may close a flow (at
     the flow bound), and so may the expiry; neither changes fwds. */
  for (guint i = 0; i < fwd->polled_flows->len && fwd->flow_poll_start + i < n; i++)
    if (pollfds[fwd->flow_poll_start + i].revents & (G_IO_IN | G_IO_ERR))
      udp_from_container (fwd, fwd->polled_flows->pdata[i]);
  g_ptr_array_set_size (fwd->polled_flows, 0);
  expire_flows (fwd);
  for (guint i = 0; i < fwd->polled->len && fwd->poll_start + i < n; i++)
    if (pollfds[fwd->poll_start + i].revents & G_IO_IN)
      {
        Fwd *f = fwd->polled->pdata[i];

        if (f->udp)
          udp_from_clients (fwd, f);
        else
          accept_all (fwd, f);
      }
}
