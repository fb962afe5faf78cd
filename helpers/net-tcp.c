/* rrun-net's own TCP for the connections the container opens (docs/architecture.md,
   "Helper processes": outbound TCP).

   libslirp terminates the container's TCP in its own BSD stack, which has no window
   scaling: at most 64 KiB in flight to the container, whatever the machine could do. Here,
   as in pasta, the container's side of each connection is spoken directly over tap0 and
   the other side is a host socket of our own, so the host kernel's TCP does all the work
   towards the peer:
   - host -> container: data stays in the host socket until the container acknowledges
     it. It is read with MSG_PEEK at the socket's peek offset (SO_PEEK_OFF) into one
     segment, written to tap0, and dropped from the socket (MSG_TRUNC) when acknowledged;
     a retransmission rewinds the peek offset. No copy is kept here. The window is the
     container's own, scaled: as far as its receive buffer goes. A kernel without
     SO_PEEK_OFF for TCP (before 6.10) gets the same with a copy: data is read out of the
     socket into a ring of RING_CAP bytes per connection (allocated while data is in
     flight, 64 MiB for all), sent from there and dropped from it when acknowledged;
     RRUN_NET_PEEK_OFF=0 chooses that on any kernel (tests/integration/net-tcp.bats).
   - container -> host: each segment in order is sent to the host socket at once and
     acknowledged; what the socket does not take waits in a buffer of PEND_CAP bytes
     (allocated only then), and the window offered is what is left of it.
   - the handshake completes with the container only once connect() has: a refused
     connection is a reset, as from the peer itself. FIN and RST go both ways; the
     connection is freed when both sides have closed or either reset.
   Only connections the container opens to addresses outside its virtual network are
   taken (and to the gateway when it stands for the host's loopback, as libslirp maps it):
   everything else (DNS over TCP to 10.0.2.3, addresses libslirp refuses, fragments,
   IPv6 extension headers) still goes to libslirp. Off with RRUN_NET_SPLICE=0 in the
   helper's environment. */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_CONNS 4096
/* Container -> host bytes held while the host socket is full: the window offered. */
#define PEND_CAP (1u << 20)
/* ... and all connections together: 4096 slow ones must not hold 4 GiB. Past it a
   segment is not acknowledged, and the container sends it again later. */
#define PEND_TOTAL_CAP (64u << 20)
/* Without SO_PEEK_OFF: host -> container bytes held until acknowledged, per connection
   and for all. */
#define RING_CAP (1u << 20)
#define RING_TOTAL_CAP (64u << 20)
#define OUR_WSCALE 7 /* PEND_CAP >> 7 fits the 16-bit window field */
#define RTO_INIT_US (300 * 1000)
#define RTO_MAX_US (10 * G_USEC_PER_SEC)
/* Timeouts in a row without an answer before the connection is given up: about a minute
   and a half of silence with the back-off. A closed window's probes count only while
   unanswered, as Linux's do: a container that keeps answering with a zero window (an
   application that does not read) keeps its connection. */
#define MAX_RETRIES 12

#define SEQ_LT(a, b) ((gint32) ((a) - (b)) < 0)
#define SEQ_LEQ(a, b) ((gint32) ((a) - (b)) <= 0)
#define SEQ_GT(a, b) ((gint32) ((a) - (b)) > 0)

typedef enum
{
  CONNECTING, /* the container's SYN taken, connect() in progress */
  SYN_RCVD,   /* our SYN-ACK sent, its ACK awaited */
  ESTABLISHED,
} State;

/* A segment from the container that came before the ones in front of it. */
typedef struct
{
  guint32 seq;
  guint32 len;
  gboolean fin;
  guint8 data[];
} Ooo;

typedef struct
{
  NetTcpKey key;
  int fd;
  State state;
  gboolean dead, dirty, ack_due;
  gint pidx; /* its slot in this turn's poll set; -1: none */
  guint8 guest_mac[6], our_mac[6];
  /* container -> host */
  guint32 irs, rcv_nxt;
  gboolean guest_fin, shut_wr;
  guint8 *pend;
  gsize pend_off, pend_len;
  /* Segments that came ahead of rcv_nxt (Ooo, by sequence): a user-defined network's
     veths reorder a flow whose sender moves between CPUs. */
  GSList *ooo;
  gsize ooo_bytes;
  guint32 wnd_sent; /* the window last offered, in bytes */
  /* host -> container: [snd_una, snd_nxt) is in flight, at the socket's peek offset */
  guint32 iss, snd_una, snd_nxt, snd_max, fin_seq;
  guint32 snd_wnd;
  guint snd_wscale, rcv_wscale;
  guint mss;
  gboolean host_eof, fin_sent, fin_acked;
  /* without SO_PEEK_OFF: the bytes from snd_una on, read out of the socket already */
  guint8 *ring;
  gsize ring_start, ring_len;
  /* retransmission and window probes */
  gint64 rto_at; /* 0: not armed */
  gint64 rto_us;
  guint retries, dupacks;
  /* After a rewind on three duplicate ACKs, until all that was sent before it is
     acknowledged (snd_una reaches recover): the container's duplicate ACKs are for the
     loss already answered. */
  gboolean recovering;
  guint32 recover;
} Conn;

struct NetTcp
{
  const NetConfig *cfg;
  int tap_fd;
  gboolean vnet;
  gboolean peek_off; /* SO_PEEK_OFF on TCP sockets: no ring */
  gsize ring_total;  /* bytes of rings allocated */
  GHashTable *by_key;
  GPtrArray *conns; /* dead ones are freed at the end of a dispatch */
  GPtrArray *dirty; /* touched since the last flush */
  guint16 ip_id;
  gsize pend_total; /* bytes held by all connections */
  gint64 rto_init_us, rto_max_us;
  guint8 hdr[NET_TCP_HEADER_MAX];
  guint8 data[65536];
};

static guint
key_hash (gconstpointer p)
{
  const guint8 *b = p;
  guint32 h = 2166136261u; /* FNV-1a */

  for (gsize i = 0; i < sizeof (NetTcpKey); i++)
    h = (h ^ b[i]) * 16777619u;
  return h;
}

static gboolean
key_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, sizeof (NetTcpKey)) == 0;
}

NetTcp *
net_tcp_new (const NetConfig *cfg, int tap_fd, gboolean vnet)
{
  NetTcp *t;
  int fd, zero = 0;
  gboolean peek_off;

  if (g_strcmp0 (g_getenv ("RRUN_NET_SPLICE"), "0") == 0)
    return NULL;
  /* A peek offset on TCP sockets spares the copy of what is in flight. */
  fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  peek_off = fd >= 0 && setsockopt (fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof zero) == 0
             && g_strcmp0 (g_getenv ("RRUN_NET_PEEK_OFF"), "0") != 0;
  if (fd >= 0)
    close (fd);
  g_debug ("tcp: %s", peek_off ? "data in flight stays in the host socket (SO_PEEK_OFF)"
                               : "data in flight is held in a ring per connection");
  t = g_new0 (NetTcp, 1);
  t->peek_off = peek_off;
  t->cfg = cfg;
  t->tap_fd = tap_fd;
  t->vnet = vnet;
  t->by_key = g_hash_table_new (key_hash, key_equal);
  t->conns = g_ptr_array_new ();
  t->dirty = g_ptr_array_new ();
  t->rto_init_us = RTO_INIT_US;
  t->rto_max_us = RTO_MAX_US;
  return t;
}

static void
conn_free (Conn *c)
{
  if (c->fd >= 0)
    close (c->fd);
  g_slist_free_full (c->ooo, g_free);
  g_free (c->pend);
  g_free (c->ring);
  g_free (c);
}

void
net_tcp_set_timeouts (NetTcp *t, gint64 rto_init_us, gint64 rto_max_us)
{
  t->rto_init_us = rto_init_us;
  t->rto_max_us = rto_max_us;
}

void
net_tcp_free (NetTcp *t)
{
  if (t == NULL)
    return;
  for (guint i = 0; i < t->conns->len; i++)
    conn_free (t->conns->pdata[i]);
  g_ptr_array_free (t->conns, TRUE);
  g_ptr_array_free (t->dirty, TRUE);
  g_hash_table_destroy (t->by_key);
  g_free (t);
}

guint
net_tcp_count (NetTcp *t)
{
  return t == NULL ? 0 : g_hash_table_size (t->by_key);
}

/* ---- the host side's address ---- */

static gboolean
in_v4_net (const NetConfig *cfg, const guint8 *a)
{
  guint32 v;

  memcpy (&v, a, 4);
  return (v & cfg->netmask.s_addr) == cfg->network.s_addr;
}

/* Where a connection to key's destination goes on the host, or FALSE when it is not
   ours to take (libslirp decides about it, as before). */
static gboolean
map_destination (const NetConfig *cfg, const NetTcpKey *key, struct sockaddr_storage *sa,
                 socklen_t *salen)
{
  memset (sa, 0, sizeof *sa);
  if (key->family == 4)
    {
      struct sockaddr_in *in = (struct sockaddr_in *) sa;
      guint8 first = key->daddr[0];

      in->sin_family = AF_INET;
      in->sin_port = htons (key->dport);
      *salen = sizeof *in;
      if (in_v4_net (cfg, key->daddr))
        {
          if (!cfg->allow_host_loopback || memcmp (key->daddr, &cfg->host, 4) != 0)
            return FALSE;
          in->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
          return TRUE;
        }
      /* This host, loopback, multicast and broadcast stay libslirp's to refuse. */
      if (first == 0 || first == 127 || first >= 224)
        return FALSE;
      memcpy (&in->sin_addr, key->daddr, 4);
      return TRUE;
    }
  else
    {
      struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) sa;
      struct in6_addr d;

      if (!cfg->ipv6)
        return FALSE;
      memcpy (&d, key->daddr, 16);
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons (key->dport);
      *salen = sizeof *in6;
      if (memcmp (&d, &cfg->prefix6, 8) == 0) /* the virtual /64 */
        {
          if (!cfg->allow_host_loopback || memcmp (&d, &cfg->host6, 16) != 0)
            return FALSE;
          in6->sin6_addr = in6addr_loopback;
          return TRUE;
        }
      if (IN6_IS_ADDR_UNSPECIFIED (&d) || IN6_IS_ADDR_LOOPBACK (&d) || IN6_IS_ADDR_MULTICAST (&d)
          || IN6_IS_ADDR_LINKLOCAL (&d) || IN6_IS_ADDR_V4MAPPED (&d))
        return FALSE;
      in6->sin6_addr = d;
      return TRUE;
    }
}

/* ---- segments to the container ---- */

/* What a connection may still hold: its own room, within what all may hold. */
static gsize
pend_room (const NetTcp *t, const Conn *c)
{
  return MIN (PEND_CAP - c->pend_len, PEND_TOTAL_CAP - t->pend_total);
}

static guint16
window_field (const NetTcp *t, Conn *c, gboolean syn)
{
  guint32 room = (guint32) pend_room (t, c);
  guint32 field = syn ? MIN (room, 65535u) : MIN (room >> c->rcv_wscale, 65535u);

  c->wnd_sent = syn ? field : field << c->rcv_wscale;
  return (guint16) field;
}

static void
send_segment (NetTcp *t, Conn *c, guint32 seq, guint8 flags, const guint8 *options,
              gsize options_len, const guint8 *payload, gsize len)
{
  gsize hlen = net_tcp_build (t->hdr, t->vnet, &c->key, c->guest_mac, c->our_mac, t->ip_id++,
                              seq, (flags & NET_TCP_ACK) ? c->rcv_nxt : 0, flags,
                              window_field (t, c, (flags & NET_TCP_SYN) != 0), options,
                              options_len, payload, len);
  struct iovec iov[2] = { { t->hdr, hlen }, { (void *) payload, len } };
  ssize_t n;

  if (len > c->mss)
    net_tcp_set_gso (t->hdr, &c->key, hlen, (guint16) c->mss);

  /* A frame the tap does not take is as good as lost: the retransmission timer resends. */
  do
    n = writev (t->tap_fd, iov, len > 0 ? 2 : 1);
  while (n < 0 && errno == EINTR);
  if (flags & NET_TCP_ACK)
    c->ack_due = FALSE;
}

static void
arm_timer (Conn *c)
{
  if (c->rto_at == 0)
    c->rto_at = g_get_monotonic_time () + c->rto_us;
}

static void
send_synack (NetTcp *t, Conn *c)
{
  guint mss = t->cfg->mtu - (c->key.family == 4 ? 40 : 60);
  guint8 opt[8] = { 2, 4, (guint8) (MIN (mss, 65535u) >> 8), (guint8) MIN (mss, 65535u),
                    1, 3, 3, OUR_WSCALE };

  send_segment (t, c, c->iss, NET_TCP_SYN | NET_TCP_ACK, opt, c->rcv_wscale ? 8 : 4, NULL, 0);
  arm_timer (c);
}

/* A reset to the container for a connection it opened (refused, or reset on the host). */
static void
send_reset (NetTcp *t, Conn *c)
{
  /* Linux takes a reset only at exactly the sequence it expects next (RFC 5961): the
     end of all we sent. Should it ask again (a challenge ACK), the connection is gone
     from here and libslirp answers it with a reset at the sequence it names. */
  guint32 seq = c->state == CONNECTING ? 0 : c->snd_max;

  send_segment (t, c, seq, NET_TCP_RST | NET_TCP_ACK, NULL, 0, NULL, 0);
}

static void
mark_dirty (NetTcp *t, Conn *c)
{
  if (!c->dirty && !c->dead)
    {
      c->dirty = TRUE;
      g_ptr_array_add (t->dirty, c);
    }
}

/* A connection's ring (kernels without SO_PEEK_OFF) goes back to the total: none is kept
   while nothing is in flight. */
static void
ring_release (NetTcp *t, Conn *c)
{
  if (c->ring != NULL)
    t->ring_total -= RING_CAP;
  g_clear_pointer (&c->ring, g_free);
}

/* The connection leaves the table now and is freed at the end of the dispatch.
   abortive: the host peer gets a reset rather than a FIN. */
static void
conn_kill (NetTcp *t, Conn *c, gboolean abortive)
{
  if (c->dead)
    return;
  if (abortive && c->fd >= 0)
    {
      struct linger l = { .l_onoff = 1, .l_linger = 0 };

      setsockopt (c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
  if (c->fd >= 0)
    close (c->fd);
  c->fd = -1;
  c->dead = TRUE;
  t->pend_total -= c->pend_len + c->ooo_bytes;
  c->pend_len = 0;
  c->ooo_bytes = 0;
  g_slist_free_full (g_steal_pointer (&c->ooo), g_free);
  ring_release (t, c);
  g_hash_table_remove (t->by_key, &c->key);
}

/* The host side failed: the container gets a reset. */
static void
conn_reset (NetTcp *t, Conn *c, int errsv)
{
  g_debug ("tcp: port %u: %s: reset", c->key.gport, g_strerror (errsv));
  send_reset (t, c);
  conn_kill (t, c, TRUE);
}

/* connect() failed: the container's connect() fails the same way. A refusal is a reset,
   as from the peer; an unreachable network or host, or a firewall's refusal, is the ICMP
   error a router would send, so that it reads "Network is unreachable" and not
   "Connection refused". */
static void
conn_refuse (NetTcp *t, Conn *c, int errsv)
{
  gboolean v4 = c->key.family == 4;
  gint code = -1;
  gsize n;

  if (errsv == ENETUNREACH)
    code = 0; /* v4 net unreachable, v6 no route */
  else if (errsv == EHOSTUNREACH || errsv == ETIMEDOUT)
    code = v4 ? 1 : 3; /* host / address unreachable */
  else if (errsv == EACCES || errsv == EPERM)
    code = v4 ? 13 : 1; /* administratively prohibited */
  if (code < 0)
    {
      conn_reset (t, c, errsv);
      return;
    }
  g_debug ("tcp: port %u: connect: %s", c->key.gport, g_strerror (errsv));
  n = net_tcp_build_unreachable (t->hdr, t->vnet, &c->key, c->guest_mac, c->our_mac, c->irs,
                                 (guint8) code);
  while (write (t->tap_fd, t->hdr, n) < 0 && errno == EINTR)
    ;
  conn_kill (t, c, TRUE);
}

static void
check_done (NetTcp *t, Conn *c)
{
  if (!c->dead && c->guest_fin && c->shut_wr && c->fin_acked)
    conn_kill (t, c, FALSE);
}

/* ---- host -> container ---- */

/* Whether a segment can go now: the window has room, and (sender-side silly window
   avoidance) either nothing is in flight or at least half a window or a full segment
   fits. */
/* The most bytes one frame to the container carries: its MSS, or with the virtio-net
   header a super-segment of up to 64 KiB its kernel cuts at its MSS (a user-defined
   network's containers announce 1460: the holder's kernel forwards the super-segment,
   and cuts it only where a link needs it). */
static guint
seg_max (const NetTcp *t, const Conn *c)
{
  gsize iplen = c->key.family == 4 ? 20 : 40;

  if (!t->vnet || c->mss >= 32768)
    return c->mss;
  return (guint) MIN (65535 - iplen - 20, sizeof t->data);
}

/* The container's window, within what a ring may hold when data in flight is held in one
   (none while all rings together are at their cap: such a connection waits, unpolled,
   until acknowledgements free some). */
static guint32
send_window (const NetTcp *t, const Conn *c)
{
  if (t->peek_off)
    return c->snd_wnd;
  if (c->ring == NULL && t->ring_total + RING_CAP > RING_TOTAL_CAP)
    return 0;
  return MIN (c->snd_wnd, RING_CAP);
}

static gboolean
can_send (const NetTcp *t, const Conn *c)
{
  guint32 in_flight = c->snd_nxt - c->snd_una, wnd = send_window (t, c), room;

  if (c->state != ESTABLISHED || c->fin_sent || c->dead || in_flight >= wnd)
    return FALSE;
  room = wnd - in_flight;
  return in_flight == 0 || room >= MIN (seg_max (t, c), wnd / 2);
}

/* Up to want bytes of the host's data at offset from snd_una, into *data: > 0 bytes, 0
   at its end, -1 with errno (EAGAIN: none yet). With SO_PEEK_OFF, offset is the socket's
   peek offset; without, it is read out of the ring or, past what it holds, from the
   socket into it (send_window keeps offset below RING_CAP). */
static gssize
host_read (NetTcp *t, Conn *c, guint32 offset, gsize want, const guint8 **data)
{
  gsize tail, room;
  ssize_t n;

  if (t->peek_off)
    {
      *data = t->data;
      return recv (c->fd, t->data, want, MSG_PEEK | MSG_DONTWAIT);
    }
  if (offset < c->ring_len)
    {
      gsize at = (c->ring_start + offset) % RING_CAP;

      *data = c->ring + at;
      return (gssize) MIN (MIN (want, c->ring_len - offset), RING_CAP - at);
    }
  if (c->ring == NULL)
    {
      c->ring = g_malloc (RING_CAP);
      t->ring_total += RING_CAP;
      c->ring_start = 0;
    }
  tail = (c->ring_start + c->ring_len) % RING_CAP;
  room = tail >= c->ring_start && c->ring_len < RING_CAP ? RING_CAP - tail
                                                         : c->ring_start - tail;
  if (room == 0)
    {
      errno = EAGAIN;
      return -1;
    }
  n = recv (c->fd, c->ring + tail, MIN (want, room), MSG_DONTWAIT);
  if (n > 0)
    c->ring_len += (gsize) n;
  *data = c->ring + tail;
  if (c->ring_len == 0)
    {
      int errsv = errno;

      /* Nothing came: no ring is kept for an idle connection. */
      ring_release (t, c);
      errno = errsv;
    }
  return n;
}

static void
push_data (NetTcp *t, Conn *c)
{
  while (can_send (t, c))
    {
      guint32 in_flight = c->snd_nxt - c->snd_una;
      gsize want = MIN ((gsize) seg_max (t, c), (gsize) (send_window (t, c) - in_flight));
      const guint8 *data;
      gssize n = host_read (t, c, in_flight, want, &data);

      if (n < 0)
        {
          if (errno != EAGAIN && errno != EINTR)
            conn_reset (t, c, errno);
          return;
        }
      if (n == 0)
        {
          /* End of the host's data, all of it sent: our FIN follows it. */
          c->host_eof = TRUE;
          c->fin_seq = c->snd_nxt;
          c->fin_sent = TRUE;
          send_segment (t, c, c->snd_nxt, NET_TCP_FIN | NET_TCP_ACK, NULL, 0, NULL, 0);
          c->snd_nxt++;
        }
      else
        {
          send_segment (t, c, c->snd_nxt, NET_TCP_ACK | NET_TCP_PSH, NULL, 0, data, (gsize) n);
          c->snd_nxt += (guint32) n;
        }
      if (SEQ_GT (c->snd_nxt, c->snd_max))
        c->snd_max = c->snd_nxt;
      arm_timer (c);
    }
  /* A closed window: probe it, in case the container's update is lost. */
  if (c->state == ESTABLISHED && !c->dead && c->snd_wnd == 0 && !c->fin_sent)
    arm_timer (c);
}

/* Everything in flight is sent again, from the oldest byte the container has not
   acknowledged. */
static void
rewind_send (NetTcp *t, Conn *c)
{
  int zero = 0;

  c->snd_nxt = c->snd_una;
  if (c->fin_sent && !c->fin_acked)
    c->fin_sent = FALSE;
  if (t->peek_off)
    setsockopt (c->fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof zero);
  c->dupacks = 0;
}

/* Drop n acknowledged bytes from the host socket (the peek offset moves back with them)
   or from the ring, which goes when empty. */
static gboolean
consume (NetTcp *t, Conn *c, guint32 n)
{
  if (!t->peek_off)
    {
      n = MIN (n, (guint32) c->ring_len);
      c->ring_start = (c->ring_start + n) % RING_CAP;
      c->ring_len -= n;
      if (c->ring_len == 0)
        ring_release (t, c);
      return TRUE;
    }
  while (n > 0)
    {
      ssize_t r = recv (c->fd, NULL, n, MSG_TRUNC | MSG_DONTWAIT);

      if (r <= 0)
        {
          conn_reset (t, c, r < 0 ? errno : EPIPE);
          return FALSE;
        }
      n -= (guint32) r;
    }
  return TRUE;
}

static void
take_ack (NetTcp *t, Conn *c, const NetTcpSegment *s)
{
  guint32 wnd = (guint32) s->window << c->snd_wscale;

  if (SEQ_GT (s->ack, c->snd_max))
    return; /* acknowledges what was never sent */
  if (SEQ_GT (s->ack, c->snd_una))
    {
      guint32 acked = s->ack - c->snd_una;

      /* fin_seq holds from the first FIN on, a rewind or not: no data comes after it. */
      if (c->host_eof && !c->fin_acked && SEQ_GT (s->ack, c->fin_seq))
        {
          c->fin_acked = c->fin_sent = TRUE;
          acked--;
        }
      if (acked > 0 && !consume (t, c, acked))
        return;
      c->snd_una = s->ack;
      if (c->recovering && !SEQ_LT (c->snd_una, c->recover))
        c->recovering = FALSE;
      if (SEQ_GT (c->snd_una, c->snd_nxt))
        c->snd_nxt = c->snd_una; /* an answer to segments sent before a rewind */
      c->retries = 0;
      c->dupacks = 0;
      c->rto_us = t->rto_init_us;
      c->rto_at = 0;
      if (c->snd_nxt != c->snd_una)
        arm_timer (c);
    }
  else if (s->ack == c->snd_una && s->len == 0 && !(s->flags & NET_TCP_FIN)
           && c->snd_nxt != c->snd_una && wnd == c->snd_wnd && !c->recovering
           && ++c->dupacks == 3)
    {
      /* Three duplicate ACKs: a segment to the container was lost. Everything from it on
         is sent again, once: the duplicate ACKs that follow, one for each segment after
         the lost one that the container still receives, would otherwise send it all
         again for every three of them. */
      c->recover = c->snd_max;
      c->recovering = TRUE;
      rewind_send (t, c);
    }
  if (c->snd_wnd == 0 && s->ack == c->snd_una)
    c->retries = 0; /* a probe answered, its window open or not */
  if (c->snd_wnd == 0 && wnd > 0 && c->snd_nxt == c->snd_una)
    {
      /* The window opened: the probes' timer and its back-off are done with. Kept, it
         would fire for the data sent now too early, whenever it was close to firing. */
      c->rto_at = 0;
      c->rto_us = t->rto_init_us;
      c->retries = 0;
    }
  c->snd_wnd = wnd;
}

/* ---- container -> host ---- */

static void
maybe_shutdown (Conn *c)
{
  if (c->guest_fin && c->pend_len == 0 && !c->shut_wr && !c->dead)
    {
      shutdown (c->fd, SHUT_WR);
      c->shut_wr = TRUE;
    }
}

/* Send what waits to the host socket; FALSE when the connection was reset. */
static gboolean
flush_pending (NetTcp *t, Conn *c)
{
  guint32 before = c->wnd_sent;

  while (c->pend_len > 0)
    {
      ssize_t n = send (c->fd, c->pend + c->pend_off, c->pend_len, MSG_DONTWAIT | MSG_NOSIGNAL);

      if (n < 0)
        {
          if (errno == EAGAIN || errno == EINTR)
            break;
          conn_reset (t, c, errno);
          return FALSE;
        }
      c->pend_off += (gsize) n;
      c->pend_len -= (gsize) n;
      t->pend_total -= (gsize) n;
    }
  if (c->pend_len == 0)
    {
      g_clear_pointer (&c->pend, g_free);
      c->pend_off = 0;
    }
  /* Tell the container its window opened once a good part of it is free again. */
  if (before < PEND_CAP / 2 && PEND_CAP - c->pend_len >= PEND_CAP / 2)
    c->ack_due = TRUE;
  maybe_shutdown (c);
  return TRUE;
}

/* Hand len bytes to the host socket, keeping what it does not take; returns how many
   were taken (what the window allows), or -1 when the connection was reset. */
static gssize
deliver (NetTcp *t, Conn *c, const guint8 *p, gsize len)
{
  gsize sent = 0, keep;

  if (c->pend_len == 0)
    {
      ssize_t n = send (c->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);

      if (n < 0 && errno != EAGAIN && errno != EINTR)
        {
          conn_reset (t, c, errno);
          return -1;
        }
      sent = n > 0 ? (gsize) n : 0;
    }
  keep = MIN (len - sent, pend_room (t, c));
  if (keep > 0)
    {
      if (c->pend == NULL)
        c->pend = g_malloc (PEND_CAP);
      if (c->pend_off + c->pend_len + keep > PEND_CAP)
        {
          memmove (c->pend, c->pend + c->pend_off, c->pend_len);
          c->pend_off = 0;
        }
      memcpy (c->pend + c->pend_off + c->pend_len, p + sent, keep);
      c->pend_len += keep;
      t->pend_total += keep;
    }
  return (gssize) (sent + keep);
}

/* Keep a segment that came ahead of rcv_nxt, within the window offered and the caps of
   what is held (it counts as held); a copy of one kept already is not kept twice. */
static void
ooo_keep (NetTcp *t, Conn *c, guint32 seq, const guint8 *p, gsize len, gboolean fin)
{
  GSList **link = &c->ooo;
  Ooo *o;

  if ((gsize) (seq - c->rcv_nxt) + len > pend_room (t, c) || c->ooo_bytes + len > PEND_CAP)
    return;
  while (*link != NULL && SEQ_LT (((Ooo *) (*link)->data)->seq, seq))
    link = &(*link)->next;
  if (*link != NULL && ((Ooo *) (*link)->data)->seq == seq
      && ((Ooo *) (*link)->data)->len >= len)
    return;
  o = g_malloc (sizeof *o + len);
  o->seq = seq;
  o->len = (guint32) len;
  o->fin = fin;
  memcpy (o->data, p, len);
  *link = g_slist_prepend (*link, o);
  c->ooo_bytes += len;
  t->pend_total += len;
}

/* Deliver the kept segments that rcv_nxt has reached, in order. */
static void
ooo_drain (NetTcp *t, Conn *c)
{
  while (c->ooo != NULL && !c->dead && !c->guest_fin)
    {
      g_autofree Ooo *o = NULL;
      guint32 skip;

      if (SEQ_GT (((Ooo *) c->ooo->data)->seq, c->rcv_nxt))
        return;
      o = c->ooo->data;
      c->ooo = g_slist_delete_link (c->ooo, c->ooo);
      c->ooo_bytes -= o->len;
      t->pend_total -= o->len;
      skip = c->rcv_nxt - o->seq;
      if (skip < o->len)
        {
          gssize taken = deliver (t, c, o->data + skip, o->len - skip);

          if (taken < 0)
            return;
          c->rcv_nxt += (guint32) taken;
          c->ack_due = TRUE;
          if ((gsize) taken < o->len - skip)
            return; /* the rest comes again */
        }
      if (o->fin && c->rcv_nxt == o->seq + o->len)
        {
          c->rcv_nxt++;
          c->guest_fin = TRUE;
          c->ack_due = TRUE;
          maybe_shutdown (c);
        }
    }
}

static void
take_data (NetTcp *t, Conn *c, const NetTcpSegment *s)
{
  const guint8 *p = s->payload;
  gsize len = s->len;
  guint32 seq = s->seq;
  gboolean fin = (s->flags & NET_TCP_FIN) != 0;

  if (c->guest_fin)
    {
      c->ack_due = TRUE; /* a retransmission: the ACK was lost */
      return;
    }
  if (SEQ_LT (seq, c->rcv_nxt))
    {
      guint32 old = c->rcv_nxt - seq;

      c->ack_due = TRUE;
      if (old > len)
        return; /* all of it taken already (a keep-alive too) */
      p += old;
      len -= old;
      seq = c->rcv_nxt;
    }
  if (seq != c->rcv_nxt)
    {
      /* A gap: kept for when it is filled, and a duplicate ACK at once (not once per
         batch), so that three of them make the container send what is missing now. */
      ooo_keep (t, c, seq, p, len, fin);
      send_segment (t, c, c->snd_nxt, NET_TCP_ACK, NULL, 0, NULL, 0);
      return;
    }
  if (len > 0)
    {
      gssize taken = deliver (t, c, p, len);

      if (taken < 0)
        return;
      c->rcv_nxt += (guint32) taken;
      if ((gsize) taken < len)
        fin = FALSE; /* it comes after bytes not taken */
      c->ack_due = TRUE;
    }
  if (fin)
    {
      c->rcv_nxt++;
      c->guest_fin = TRUE;
      c->ack_due = TRUE;
      maybe_shutdown (c);
    }
  ooo_drain (t, c);
}

/* ---- connections ---- */

static void
open_conn (NetTcp *t, const NetTcpSegment *s, const struct sockaddr_storage *sa,
           socklen_t salen)
{
  Conn *c;
  int fd, zero = 0, one = 1;
  guint cap;

  fd = socket (s->key.family == 4 ? AF_INET : AF_INET6,
               SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  c = g_new0 (Conn, 1);
  c->key = s->key;
  c->fd = fd;
  c->pidx = -1;
  memcpy (c->guest_mac, s->guest_mac, 6);
  memcpy (c->our_mac, s->our_mac, 6);
  c->irs = s->seq;
  c->rcv_nxt = s->seq + 1;
  c->iss = g_random_int ();
  c->snd_una = c->iss;
  c->snd_nxt = c->snd_max = c->iss + 1;
  c->snd_wnd = s->window;
  if (s->wscale >= 0)
    {
      c->snd_wscale = (guint) s->wscale;
      c->rcv_wscale = OUR_WSCALE;
    }
  cap = t->cfg->mtu - (s->key.family == 4 ? 40 : 60);
  c->mss = MIN (s->mss != 0 ? s->mss : (s->key.family == 4 ? 536u : 1220u), cap);
  c->mss = MIN (c->mss, (guint) sizeof t->data);
  c->rto_us = t->rto_init_us;
  g_ptr_array_add (t->conns, c);
  g_hash_table_insert (t->by_key, &c->key, c);
  if (fd < 0 || (t->peek_off && setsockopt (fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof zero) < 0))
    {
      conn_reset (t, c, errno);
      return;
    }
  /* Segments the container sends go out as they come: it has done its own Nagle. */
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect (fd, (const struct sockaddr *) sa, salen) == 0)
    {
      c->state = SYN_RCVD;
      send_synack (t, c);
    }
  else if (errno == EINPROGRESS)
    c->state = CONNECTING;
  else
    conn_refuse (t, c, errno);
}

static void
connected (NetTcp *t, Conn *c)
{
  int err = 0;
  socklen_t len = sizeof err;

  if (getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
    err = errno;
  if (err == EINPROGRESS || err == EALREADY)
    return;
  if (err != 0)
    {
      conn_refuse (t, c, err);
      return;
    }
  c->state = SYN_RCVD;
  send_synack (t, c);
}

gboolean
net_tcp_handle_frame (NetTcp *t, const guint8 *frame, gsize len)
{
  NetTcpSegment s;
  struct sockaddr_storage sa;
  socklen_t salen;
  Conn *c;

  if (!net_tcp_parse (frame, len, &s))
    return FALSE;
  c = g_hash_table_lookup (t->by_key, &s.key);
  /* A new connection on the 4-tuple of one not yet freed: the old one is over. */
  if (c != NULL && (s.flags & (NET_TCP_SYN | NET_TCP_ACK)) == NET_TCP_SYN && s.seq != c->irs)
    {
      conn_kill (t, c, TRUE);
      c = NULL;
    }
  if (c == NULL)
    {
      if ((s.flags & (NET_TCP_SYN | NET_TCP_ACK | NET_TCP_RST | NET_TCP_FIN)) != NET_TCP_SYN
          || !map_destination (t->cfg, &s.key, &sa, &salen)
          || g_hash_table_size (t->by_key) >= MAX_CONNS)
        return FALSE;
      open_conn (t, &s, &sa, salen);
      return TRUE;
    }
  if (s.flags & NET_TCP_RST)
    {
      conn_kill (t, c, TRUE);
      return TRUE;
    }
  if (s.flags & NET_TCP_SYN)
    {
      if (c->state == SYN_RCVD)
        send_synack (t, c); /* our SYN-ACK was lost */
      return TRUE;
    }
  if (c->state == CONNECTING || !(s.flags & NET_TCP_ACK))
    return TRUE;
  if (c->state == SYN_RCVD)
    {
      if (s.ack != c->iss + 1)
        return TRUE;
      c->state = ESTABLISHED;
      c->snd_una = c->iss + 1;
      c->rto_at = 0;
      c->retries = 0;
      c->rto_us = t->rto_init_us;
      c->snd_wnd = (guint32) s.window << c->snd_wscale;
    }
  else
    take_ack (t, c, &s);
  /* Data, a FIN, or an empty segment from before rcv_nxt: a keep-alive (RFC 1122
     4.2.3.6: the byte before, no data), which must be answered with an ACK, or the
     container's kernel gives an idle connection with SO_KEEPALIVE up after its probes. */
  if (!c->dead && (s.len > 0 || (s.flags & NET_TCP_FIN) || SEQ_LT (s.seq, c->rcv_nxt)))
    take_data (t, c, &s);
  mark_dirty (t, c);
  return TRUE;
}

void
net_tcp_flush (NetTcp *t)
{
  if (t == NULL)
    return;
  for (guint i = 0; i < t->dirty->len; i++)
    {
      Conn *c = t->dirty->pdata[i];

      c->dirty = FALSE;
      if (c->dead)
        continue;
      push_data (t, c);
      if (!c->dead && c->ack_due)
        send_segment (t, c, c->snd_nxt, NET_TCP_ACK, NULL, 0, NULL, 0);
      check_done (t, c);
    }
  g_ptr_array_set_size (t->dirty, 0);
}

void
net_tcp_add_pollfds (NetTcp *t, GArray *pollfds)
{
  if (t == NULL)
    return;
  for (guint i = 0; i < t->conns->len; i++)
    {
      Conn *c = t->conns->pdata[i];
      GPollFD pfd = { .fd = c->fd };

      c->pidx = -1;
      if (c->dead)
        continue;
      if (c->state == CONNECTING)
        pfd.events = G_IO_OUT;
      else if (c->state == ESTABLISHED)
        {
          if (can_send (t, c))
            pfd.events |= G_IO_IN;
          if (c->pend_len > 0)
            pfd.events |= G_IO_OUT;
        }
      if (pfd.events == 0)
        continue;
      c->pidx = (gint) pollfds->len;
      g_array_append_val (pollfds, pfd);
    }
}

static void
timer_fired (NetTcp *t, Conn *c)
{
  c->rto_at = 0;
  if (c->state == CONNECTING)
    return;
  if (++c->retries > MAX_RETRIES)
    {
      conn_reset (t, c, ETIMEDOUT);
      return;
    }
  c->rto_us = MIN (c->rto_us * 2, t->rto_max_us);
  if (c->state == SYN_RCVD)
    send_synack (t, c);
  else if (c->snd_nxt != c->snd_una)
    {
      rewind_send (t, c);
      mark_dirty (t, c);
    }
  else if (c->snd_wnd == 0)
    {
      /* A window probe: an old sequence number, which the container answers with an ACK
         carrying its window. */
      send_segment (t, c, c->snd_una - 1, NET_TCP_ACK, NULL, 0, NULL, 0);
      arm_timer (c);
    }
}

void
net_tcp_dispatch (NetTcp *t, const GPollFD *pollfds, guint n)
{
  gint64 now;

  if (t == NULL)
    return;
  now = g_get_monotonic_time ();
  for (guint i = 0; i < t->conns->len; i++)
    {
      Conn *c = t->conns->pdata[i];
      gushort re = 0;

      if (c->dead)
        continue;
      if (c->pidx >= 0 && (guint) c->pidx < n && pollfds[c->pidx].fd == c->fd)
        re = pollfds[c->pidx].revents;
      if (re != 0)
        {
          if (c->state == CONNECTING)
            connected (t, c);
          else
            {
              if ((re & (G_IO_OUT | G_IO_ERR | G_IO_HUP)) && c->pend_len > 0
                  && flush_pending (t, c))
                mark_dirty (t, c);
              if (re & (G_IO_IN | G_IO_ERR | G_IO_HUP))
                mark_dirty (t, c);
            }
        }
      if (!c->dead && c->rto_at != 0 && now >= c->rto_at)
        timer_fired (t, c);
    }
  net_tcp_flush (t);
  /* The dead are freed last: nothing holds them any more. */
  for (guint i = 0; i < t->conns->len;)
    {
      Conn *c = t->conns->pdata[i];

      if (c->dead)
        {
          g_ptr_array_remove_index_fast (t->conns, i);
          conn_free (c);
        }
      else
        i++;
    }
}

gint64
net_tcp_next_timeout_ms (NetTcp *t)
{
  gint64 next = -1, now;

  if (t == NULL)
    return -1;
  now = g_get_monotonic_time ();
  for (guint i = 0; i < t->conns->len; i++)
    {
      Conn *c = t->conns->pdata[i];

      if (!c->dead && c->rto_at != 0)
        {
          gint64 ms = MAX (0, (c->rto_at - now + 999) / 1000);

          next = next < 0 ? ms : MIN (next, ms);
        }
    }
  return next;
}
