/* helpers/net-tcp.c: the state machine of rrun-net's own TCP, driven as rrun-net drives it
   (net_tcp_handle_frame and net_tcp_flush for the container's frames, add_pollfds, g_poll
   and dispatch for its sockets and timers), with a socketpair as tap0 (one frame a
   message, no virtio-net header) and a real TCP server on 127.0.0.1 as the peer. The test
   plays the container: it writes the frames it sends itself, so frames are lost, repeated,
   reordered and withheld at will, which the end-to-end tests (tests/integration/
   net-tcp.bats, a real tap device) cannot do. Each case runs under alarm (10): no wait is
   unbounded. */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const guint8 guest_mac[6] = { 2, 0x52, 0x52, 0x4e, 0x45, 0x54 };
static const guint8 gw_mac[6] = { 0x52, 0x55, 10, 0, 2, 2 };

#define OUR_MSS 65480 /* mtu 65520 - 40 */
#define RTO_MS 300
/* The first timeout set for cases that check what is not sent while data is in flight,
   over several short waits: a loaded machine may keep the test from running for more
   than 300 ms, never for a second. */
#define SLOW_RTO_MS 1000

typedef struct
{
  NetTcpSegment s;
  guint8 buf[NET_TCP_HEADER_MAX + 65536];
  gint64 at; /* monotonic time it was read, in microseconds */
} Frame;

typedef struct
{
  NetConfig cfg;
  NetTcp *tcp;
  int tap[2]; /* [0] the helper's tap0, [1] the container's end */
  int lfd, srv;
  guint16 port;
  NetTcpKey key; /* as the container sees it: 10.0.2.100:gport -> 10.0.2.2:port */
  guint32 isn, iss;
  guint32 seq; /* the container's next sequence number */
  guint32 rcv; /* the next one it expects from the helper */
  guint shift; /* the window scale it announced */
} Fx;

/* ---- the harness ---- */

static void
fx_init (Fx *f, gboolean ring, int backlog)
{
  struct sockaddr_in sa = { .sin_family = AF_INET };
  socklen_t salen = sizeof sa;
  int size = 1 << 20;

  memset (f, 0, sizeof *f);
  alarm (10);
  inet_pton (AF_INET, "10.0.2.0", &f->cfg.network);
  inet_pton (AF_INET, "255.255.255.0", &f->cfg.netmask);
  inet_pton (AF_INET, "10.0.2.2", &f->cfg.host);
  inet_pton (AF_INET, "10.0.2.100", &f->cfg.guest);
  inet_pton (AF_INET, "10.0.2.3", &f->cfg.dns);
  f->cfg.prefix_len = 24;
  f->cfg.mtu = 65520;
  f->cfg.allow_host_loopback = TRUE;

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, f->tap));
  for (int i = 0; i < 2; i++)
    {
      g_assert_no_errno (fcntl (f->tap[i], F_SETFL, O_NONBLOCK));
      setsockopt (f->tap[i], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
      setsockopt (f->tap[i], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
  g_unsetenv ("RRUN_NET_SPLICE");
  if (ring)
    g_setenv ("RRUN_NET_PEEK_OFF", "0", TRUE);
  else
    g_unsetenv ("RRUN_NET_PEEK_OFF");
  f->tcp = net_tcp_new (&f->cfg, f->tap[0], FALSE);
  g_assert_nonnull (f->tcp);

  f->lfd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  g_assert_cmpint (f->lfd, >=, 0);
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_no_errno (bind (f->lfd, (struct sockaddr *) &sa, sizeof sa));
  g_assert_no_errno (getsockname (f->lfd, (struct sockaddr *) &sa, &salen));
  f->port = ntohs (sa.sin_port);
  if (backlog >= 0)
    g_assert_no_errno (listen (f->lfd, backlog));
  f->srv = -1;

  f->key.family = 4;
  f->key.gport = (guint16) g_test_rand_int_range (33000, 60000);
  f->key.dport = f->port;
  inet_pton (AF_INET, "10.0.2.100", f->key.gaddr);
  inet_pton (AF_INET, "10.0.2.2", f->key.daddr);
}

static void
fx_clear (Fx *f)
{
  net_tcp_free (f->tcp);
  close (f->tap[0]);
  close (f->tap[1]);
  close (f->lfd);
  if (f->srv >= 0)
    close (f->srv);
  g_unsetenv ("RRUN_NET_PEEK_OFF");
  alarm (0);
}

static gint64
ms_since (gint64 at)
{
  return (g_get_monotonic_time () - at) / 1000;
}

/* One turn of rrun-net's loop, at most ms long: poll the helper's sockets (and the tap's
   other end and extra, to wake up for them), then dispatch. */
static void
turn (Fx *f, int extra, gint ms)
{
  g_autoptr (GArray) pfds = g_array_new (FALSE, TRUE, sizeof (GPollFD));
  GPollFD more[2] = { { .fd = f->tap[1], .events = G_IO_IN }, { .fd = extra, .events = G_IO_IN } };
  gint64 next;
  guint n;

  net_tcp_add_pollfds (f->tcp, pfds);
  n = pfds->len;
  g_array_append_vals (pfds, more, extra >= 0 ? 2 : 1);
  next = net_tcp_next_timeout_ms (f->tcp);
  if (next >= 0 && next < ms)
    ms = (gint) next;
  g_poll ((GPollFD *) pfds->data, pfds->len, MAX (ms, 0));
  net_tcp_dispatch (f->tcp, (GPollFD *) pfds->data, n);
}

/* The ones' complement sum over the pseudo-header and the TCP segment: 0 when right. */
static guint16
tcp_checksum (const guint8 *eth, gsize len)
{
  const guint8 *ip = eth + 14;
  gsize tcp_len = len - 14 - 20;
  g_autofree guint8 *buf = g_malloc0 (12 + tcp_len);

  memcpy (buf, ip + 12, 8);
  buf[9] = 6;
  buf[10] = (guint8) (tcp_len >> 8);
  buf[11] = (guint8) tcp_len;
  memcpy (buf + 12, ip + 20, tcp_len);
  return net_tap_checksum (buf, 12 + tcp_len);
}

/* The next frame the helper writes to tap0 within ms; FALSE when none came. Every frame is
   checked: Ethernet addresses, IPv4 and TCP checksums, and the connection's 4-tuple seen
   from the destination's side. */
static gboolean
next_frame (Fx *f, Frame *fr, gint ms)
{
  gint64 start = g_get_monotonic_time ();

  for (;;)
    {
      ssize_t n = recv (f->tap[1], fr->buf, sizeof fr->buf, MSG_DONTWAIT);

      if (n > 0)
        {
          fr->at = g_get_monotonic_time ();
          g_assert_true (net_tcp_parse (fr->buf, (gsize) n, &fr->s));
          g_assert_cmpuint (fr->s.len + 14 + 20 + 20, <=, (gsize) n);
          g_assert_cmpuint (net_tap_checksum (fr->buf + 14, 20), ==, 0);
          g_assert_cmpuint (tcp_checksum (fr->buf, (gsize) n), ==, 0);
          g_assert_cmpmem (fr->s.guest_mac, 6, gw_mac, 6); /* source */
          g_assert_cmpmem (fr->s.our_mac, 6, guest_mac, 6); /* destination */
          g_assert_cmpuint (fr->s.key.family, ==, 4);
          g_assert_cmpuint (fr->s.key.gport, ==, f->key.dport);
          g_assert_cmpuint (fr->s.key.dport, ==, f->key.gport);
          g_assert_cmpmem (fr->s.key.gaddr, 4, f->key.daddr, 4);
          g_assert_cmpmem (fr->s.key.daddr, 4, f->key.gaddr, 4);
          return TRUE;
        }
      g_assert_true (n < 0 && errno == EAGAIN);
      if (ms_since (start) >= ms)
        return FALSE;
      turn (f, -1, (gint) (ms - ms_since (start)));
    }
}

/* Both name the caller's line when they fail. */
#define expect_frame(f, fr, ms) expect_frame_at (f, fr, ms, __LINE__)
static void
expect_frame_at (Fx *f, Frame *fr, gint ms, int line)
{
  if (!next_frame (f, fr, ms))
    g_error ("line %d: no frame from the helper within %d ms", line, ms);
}

#define expect_silence(f, ms) expect_silence_at (f, ms, __LINE__)
static void
expect_silence_at (Fx *f, gint ms, int line)
{
  Frame *fr = g_new (Frame, 1);

  if (next_frame (f, fr, ms))
    g_error ("line %d: unexpected frame: seq %u ack %u flags 0x%x len %zu", line, fr->s.seq,
             fr->s.ack, fr->s.flags, fr->s.len);
  g_free (fr);
}

/* A segment from the container, handled and flushed as one batch of tap reads. */
static gboolean
feed_batch (Fx *f, guint32 seq, guint32 ack, guint8 flags, guint16 win, const guint8 *opt,
            gsize olen, const void *data, gsize len, gboolean flush)
{
  guint8 frame[NET_TCP_HEADER_MAX + 8192];
  NetTcpKey k = { 0 };
  NetTcpSegment s;
  gsize h;
  gboolean taken;

  /* net_tcp_build writes frames to the container: a frame from it is one to the key with
     its ends swapped. */
  g_assert_cmpuint (len, <=, 8192);
  k.family = 4;
  k.gport = f->key.dport;
  k.dport = f->key.gport;
  memcpy (k.gaddr, f->key.daddr, 4);
  memcpy (k.daddr, f->key.gaddr, 4);
  h = net_tcp_build (frame, FALSE, &k, gw_mac, guest_mac, 1, seq, ack, flags, win, opt, olen,
                     data, len);
  if (len > 0)
    memcpy (frame + h, data, len);
  g_assert_true (net_tcp_parse (frame, h + len, &s));
  g_assert_cmpmem (&s.key, sizeof s.key, &f->key, sizeof f->key);
  g_assert_cmpmem (s.guest_mac, 6, guest_mac, 6);
  g_assert_cmpuint (s.seq, ==, seq);
  g_assert_cmpuint (s.len, ==, len);
  taken = net_tcp_handle_frame (f->tcp, frame, h + len);
  if (flush)
    net_tcp_flush (f->tcp);
  return taken;
}

static gboolean
feed (Fx *f, guint32 seq, guint32 ack, guint8 flags, guint16 win, const void *data, gsize len)
{
  return feed_batch (f, seq, ack, flags, win, NULL, 0, data, len, TRUE);
}

static gboolean
feed_syn (Fx *f, guint32 isn, guint16 mss, gint wscale, guint16 win)
{
  guint8 opt[8] = { 2, 4, (guint8) (mss >> 8), (guint8) mss, 1, 3, 3, (guint8) wscale };

  return feed_batch (f, isn, 0, NET_TCP_SYN, win, opt, wscale >= 0 ? 8 : 4, NULL, 0, TRUE);
}

static void
check_synack (Fx *f, const Frame *fr, guint32 isn, gint wscale)
{
  g_assert_cmphex (fr->s.flags, ==, NET_TCP_SYN | NET_TCP_ACK);
  g_assert_cmpuint (fr->s.ack, ==, isn + 1);
  g_assert_cmpuint (fr->s.mss, ==, OUR_MSS);
  g_assert_cmpint (fr->s.wscale, ==, wscale >= 0 ? 7 : -1);
  g_assert_cmpuint (fr->s.window, ==, 65535);
  g_assert_cmpuint (fr->s.len, ==, 0);
}

/* Accept the helper's connection on the server, within ms. */
static int
srv_accept (Fx *f, gint ms)
{
  gint64 start = g_get_monotonic_time ();

  for (;;)
    {
      int fd = accept4 (f->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

      if (fd >= 0)
        return fd;
      g_assert_true (errno == EAGAIN);
      if (ms_since (start) >= ms)
        g_error ("the server accepted nothing within %d ms", ms);
      turn (f, f->lfd, (gint) (ms - ms_since (start)));
    }
}

/* Read up to want bytes from fd within ms (less at its end); -errno on an error before
   any byte. */
static gssize
srv_read (Fx *f, int fd, void *buf, gsize want, gint ms)
{
  gint64 start = g_get_monotonic_time ();
  gsize got = 0;

  while (got < want)
    {
      ssize_t n = read (fd, (guint8 *) buf + got, want - got);

      if (n == 0)
        break;
      if (n < 0 && errno != EAGAIN)
        return got > 0 ? (gssize) got : -errno;
      if (n > 0)
        {
          got += (gsize) n;
          continue;
        }
      if (ms_since (start) >= ms)
        break;
      turn (f, fd, (gint) (ms - ms_since (start)));
    }
  return (gssize) got;
}

/* What the server's next read gives within ms: 0 at its end, -errno, -EAGAIN when
   nothing came; data is an error. */
static gssize
srv_read_end (Fx *f, int fd, gint ms)
{
  gint64 start = g_get_monotonic_time ();

  for (;;)
    {
      char c;
      ssize_t n = read (fd, &c, 1);

      if (n == 0)
        return 0;
      if (n > 0)
        g_error ("the server read data, not its end");
      if (errno != EAGAIN)
        return -errno;
      if (ms_since (start) >= ms)
        return -EAGAIN;
      turn (f, fd, (gint) (ms - ms_since (start)));
    }
}

static void
srv_write_all (int fd, const void *data, gsize len)
{
  g_assert_cmpint (write (fd, data, len), ==, (gssize) len);
}

/* The handshake, up to the SYN-ACK; the container's ACK is the caller's. */
static void
open_conn (Fx *f, guint32 isn, guint16 mss, gint wscale, guint16 win)
{
  Frame *fr = g_new (Frame, 1);

  f->isn = isn;
  f->shift = wscale >= 0 ? (guint) wscale : 0;
  g_assert_true (feed_syn (f, isn, mss, wscale, win));
  g_assert_cmpuint (net_tcp_count (f->tcp), ==, 1);
  expect_frame (f, fr, 1000);
  check_synack (f, fr, isn, wscale);
  f->iss = fr->s.seq;
  f->seq = isn + 1;
  f->rcv = f->iss + 1;
  g_free (fr);
}

static void
establish (Fx *f, guint32 isn, guint16 mss, gint wscale, guint16 syn_win, guint16 win)
{
  open_conn (f, isn, mss, wscale, syn_win);
  g_assert_true (feed (f, f->seq, f->rcv, NET_TCP_ACK, win, NULL, 0));
  f->srv = srv_accept (f, 1000);
}

static guint8
pattern (gsize i)
{
  return (guint8) (i * 7 + (i >> 9) + 3);
}

static void expect_data (Fx *f, Frame *fr, guint32 seq, gsize len, gint ms);

/* ---- 1. the handshake ---- */

static void
test_handshake (void)
{
  Fx f;
  Frame *fr = g_new (Frame, 1);
  gint64 first;
  char buf[8];
  guint8 data[1000];

  fx_init (&f, FALSE, 16);
  f.isn = 0x12345678;
  first = g_get_monotonic_time ();
  g_assert_true (feed_syn (&f, f.isn, 1460, 7, 65535));
  g_assert_cmpuint (net_tcp_count (f.tcp), ==, 1);
  expect_frame (&f, fr, 1000);
  check_synack (&f, fr, f.isn, 7);
  f.iss = fr->s.seq;
  /* connect() has completed: the server has the connection to accept (as soon as its
     kernel has taken our ACK). */
  f.srv = srv_accept (&f, 1000);

  /* Our ACK was lost: the SYN comes again and gets the same SYN-ACK at once (while the
     frame is handled). */
  g_assert_true (feed_syn (&f, f.isn, 1460, 7, 65535));
  expect_frame (&f, fr, 0);
  check_synack (&f, fr, f.isn, 7);
  g_assert_cmpuint (fr->s.seq, ==, f.iss);
  /* Nothing at all: the SYN-ACK comes again after the retransmission timeout. */
  expect_frame (&f, fr, 1000);
  check_synack (&f, fr, f.isn, 7);
  g_assert_cmpuint (fr->s.seq, ==, f.iss);
  g_assert_cmpint ((fr->at - first) / 1000, >=, RTO_MS);

  /* An ACK for something else does not complete it; the right one does. */
  f.seq = f.isn + 1;
  g_assert_true (feed (&f, f.seq, f.iss + 7, NET_TCP_ACK, 8, NULL, 0));
  for (gsize i = 0; i < sizeof data; i++)
    data[i] = pattern (i);
  srv_write_all (f.srv, data, sizeof data);
  expect_silence (&f, 30);
  /* Established: data flows, in the window scaled by 7 (8: 1024 bytes), and ours is
     scaled by 7 too. */
  g_assert_true (feed (&f, f.seq, f.iss + 1, NET_TCP_ACK, 8, NULL, 0));
  expect_data (&f, fr, f.iss + 1, sizeof data, 1000);
  g_assert_cmpuint (fr->s.window, ==, (1u << 20) >> 7);
  g_assert_true (feed (&f, f.seq, f.iss + 1 + sizeof data, NET_TCP_ACK, 8, "y", 1));
  g_assert_cmpint (srv_read (&f, f.srv, buf, 1, 1000), ==, 1);
  g_assert_cmpint (buf[0], ==, 'y');
  expect_frame (&f, fr, 1000);
  g_assert_cmphex (fr->s.flags, ==, NET_TCP_ACK);
  g_assert_cmpuint (fr->s.ack, ==, f.isn + 2);
  g_assert_cmpuint (net_tcp_count (f.tcp), ==, 1);
  fx_clear (&f);
  g_free (fr);
}

/* The SYN-ACK waits for connect(): with the server's accept queue full its kernel drops
   our SYN, and the container hears nothing (not even for a retransmitted SYN) until the
   host's connect() completes, after the server made room and the host's kernel sent its
   SYN again (1 s). */
static void
test_handshake_waits (void)
{
  Fx f;
  Frame *fr = g_new (Frame, 1);
  struct sockaddr_in sa = { .sin_family = AF_INET };
  int filler, fd;

  fx_init (&f, FALSE, 0);
  filler = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  sa.sin_port = htons (f.port);
  g_assert_no_errno (connect (filler, (struct sockaddr *) &sa, sizeof sa));
  f.isn = 777;
  g_assert_true (feed_syn (&f, f.isn, 1460, 7, 65535));
  expect_silence (&f, 100);
  g_assert_true (feed_syn (&f, f.isn, 1460, 7, 65535));
  expect_silence (&f, 30);
  g_assert_cmpuint (net_tcp_count (f.tcp), ==, 1);
  fd = accept4 (f.lfd, NULL, NULL, SOCK_CLOEXEC);
  g_assert_no_errno (fd);
  close (fd);
  close (filler);
  expect_frame (&f, fr, 2000);
  check_synack (&f, fr, f.isn, 7);
  f.srv = srv_accept (&f, 1000);
  fx_clear (&f);
  g_free (fr);
}

/* ---- 2. container -> host ---- */

#define expect_ack(f, ack) expect_ack_at (f, ack, __LINE__)
static void
expect_ack_at (Fx *f, guint32 ack, int line)
{
  Frame *fr = g_new (Frame, 1);

  expect_frame_at (f, fr, 1000, line);
  g_assert_cmphex (fr->s.flags, ==, NET_TCP_ACK);
  g_assert_cmpuint (fr->s.len, ==, 0);
  g_assert_cmpuint (fr->s.seq, ==, f->rcv);
  g_assert_cmpuint (fr->s.ack, ==, ack);
  g_free (fr);
}

static void
expect_srv_nothing (Fx *f)
{
  g_assert_cmpint (srv_read_end (f, f->srv, 10), ==, -EAGAIN);
}

static void
test_upload (void)
{
  Fx f;
  char buf[64];
  guint32 s0;

  fx_init (&f, FALSE, 16);
  /* Sequence numbers that wrap around 2^32 on the way. */
  establish (&f, 0xfffffff8u, 1460, 7, 65535, 512);
  s0 = f.seq;
  /* In order: taken and acknowledged, once for the batch. */
  g_assert_true (feed_batch (&f, s0, f.rcv, NET_TCP_ACK, 512, NULL, 0, "hello", 5, FALSE));
  g_assert_true (feed_batch (&f, s0 + 5, f.rcv, NET_TCP_ACK, 512, NULL, 0, " world", 6, FALSE));
  net_tcp_flush (f.tcp);
  expect_ack (&f, s0 + 11);
  expect_silence (&f, 20);
  g_assert_cmpint (srv_read (&f, f.srv, buf, 11, 1000), ==, 11);
  g_assert_cmpmem (buf, 11, "hello world", 11);

  /* A gap: not taken, and the duplicate ACK names what is missing. */
  g_assert_true (feed (&f, s0 + 11 + 100, f.rcv, NET_TCP_ACK, 512, "XYZ", 3));
  expect_ack (&f, s0 + 11);
  expect_srv_nothing (&f);

  /* An old duplicate, and a keep-alive (one byte before rcv_nxt, empty): ACKs. */
  g_assert_true (feed (&f, s0, f.rcv, NET_TCP_ACK, 512, "hello", 5));
  expect_ack (&f, s0 + 11);
  g_assert_true (feed (&f, s0 + 10, f.rcv, NET_TCP_ACK, 512, NULL, 0));
  expect_ack (&f, s0 + 11);
  expect_srv_nothing (&f);

  /* Overlapping: only the new part is delivered. */
  g_assert_true (feed (&f, s0 + 9, f.rcv, NET_TCP_ACK, 512, "ld, again", 9));
  expect_ack (&f, s0 + 18);
  g_assert_cmpint (srv_read (&f, f.srv, buf, 7, 1000), ==, 7);
  g_assert_cmpmem (buf, 7, ", again", 7);
  expect_srv_nothing (&f);
  /* And on. */
  g_assert_true (feed (&f, s0 + 18, f.rcv, NET_TCP_ACK, 512, "!", 1));
  expect_ack (&f, s0 + 19);
  g_assert_cmpint (srv_read (&f, f.srv, buf, 1, 1000), ==, 1);
  g_assert_cmpint (buf[0], ==, '!');
  expect_srv_nothing (&f);
  g_assert_cmpuint (net_tcp_count (f.tcp), ==, 1);
  fx_clear (&f);
}

/* Segments out of order (a user-defined network's veths reorder a flow whose sender
   moves between CPUs): each one ahead of the gap gets a duplicate ACK at once, not once
   per batch, and is kept; when the gap is filled, all of it goes to the server in order,
   a FIN kept ahead too. */
static void
test_upload_reorder (void)
{
  Fx f;
  char buf[64];
  guint32 s0;

  fx_init (&f, FALSE, 16);
  establish (&f, 1000, 1460, 7, 65535, 512);
  s0 = f.seq;
  g_assert_true (feed_batch (&f, s0 + 5, f.rcv, NET_TCP_ACK, 512, NULL, 0, "world", 5, FALSE));
  expect_ack (&f, s0); /* before any flush */
  g_assert_true (feed_batch (&f, s0 + 10, f.rcv, NET_TCP_ACK | NET_TCP_FIN, 512, NULL, 0, "!", 1,
                             FALSE));
  expect_ack (&f, s0);
  /* the same segment again is kept once */
  g_assert_true (feed_batch (&f, s0 + 5, f.rcv, NET_TCP_ACK, 512, NULL, 0, "world", 5, FALSE));
  expect_ack (&f, s0);
  net_tcp_flush (f.tcp);
  expect_silence (&f, 20);
  expect_srv_nothing (&f);
  /* the gap filled: everything, then the FIN */
  g_assert_true (feed (&f, s0, f.rcv, NET_TCP_ACK, 512, "hello", 5));
  expect_ack (&f, s0 + 12); /* 11 bytes and the FIN */
  g_assert_cmpint (srv_read (&f, f.srv, buf, 11, 1000), ==, 11);
  g_assert_cmpmem (buf, 11, "helloworld!", 11);
  g_assert_cmpint (srv_read_end (&f, f.srv, 1000), ==, 0); /* the FIN: end of file */
  fx_clear (&f);
}

/* The server reads nothing and its socket fills: what the host socket does not take
   waits in the helper (1 MiB), whose window is the room left; past it nothing is taken
   (the container sends it again later), and once the server reads, the window opens with
   an ACK of its own. All bytes arrive, in order, then the FIN. */
#define PEND_CAP (1u << 20)
#define UPLOAD_MAX (16u << 20)

/* Read from the server until it has want bytes in all (*off so far), checking them. */
static void
srv_read_pattern (Fx *f, gsize want, gsize *off, gint ms)
{
  g_autofree guint8 *buf = g_malloc (65536);
  gint64 start = g_get_monotonic_time ();

  while (*off < want)
    {
      gssize n = srv_read (f, f->srv, buf, MIN (65536, want - *off), 50);

      g_assert_cmpint (n, >=, 0);
      for (gssize i = 0; i < n; i++)
        if (buf[i] != pattern (*off + (gsize) i))
          g_error ("server byte %zu: %u, not %u", *off + (gsize) i, buf[i],
                   pattern (*off + (gsize) i));
      *off += (gsize) n;
      if (ms_since (start) > ms)
        g_error ("the server has %zu bytes of %zu after %d ms", *off, want, ms);
    }
}

static void
test_upload_backpressure (void)
{
  Fx f;
  Frame *fr = g_new (Frame, 1);
  g_autofree guint8 *chunk = g_malloc (8192);
  int small = 4096;
  guint32 s0, wnd = 0;
  gsize pos = 0, roff = 0, total = 0;
  gboolean updated = FALSE;

  fx_init (&f, FALSE, 16);
  g_assert_no_errno (setsockopt (f.lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small));
  establish (&f, 0x7ffffff0, 1460, 7, 65535, 65535);
  s0 = f.seq;
  /* Fill: every segment is acknowledged, as far as the room it finds. */
  for (;;)
    {
      gsize taken;

      for (gsize i = 0; i < 8192; i++)
        chunk[i] = pattern (pos + i);
      g_assert_true (feed (&f, s0 + (guint32) pos, f.rcv, NET_TCP_ACK | NET_TCP_PSH, 65535,
                           chunk, 8192));
      expect_frame (&f, fr, 1000);
      g_assert_cmphex (fr->s.flags, ==, NET_TCP_ACK);
      taken = fr->s.ack - (s0 + (guint32) pos);
      g_assert_cmpuint (taken, <=, 8192);
      /* Once data waits, no more is taken than the window offered. */
      if (wnd > 0 && wnd < PEND_CAP)
        g_assert_cmpuint (taken, <=, wnd);
      /* The window only closes while the server reads nothing. */
      if (wnd > 0)
        g_assert_cmpuint ((guint32) fr->s.window << 7, <=, wnd);
      wnd = (guint32) fr->s.window << 7;
      pos += taken;
      if (taken < 8192)
        {
          g_assert_cmpuint (wnd, ==, 0);
          break;
        }
      if (pos >= UPLOAD_MAX)
        g_error ("the host socket took %u bytes: no back pressure", UPLOAD_MAX);
    }
  g_test_message ("full after %zu bytes", pos);
  g_assert_cmpuint (pos, >=, PEND_CAP);
  /* Full: a segment now is not taken at all; the ACK says so again. */
  g_assert_true (feed (&f, s0 + (guint32) pos, f.rcv, NET_TCP_ACK, 65535, chunk, 100));
  expect_ack (&f, s0 + (guint32) pos);
  expect_silence (&f, 20);
  g_assert_cmpuint (net_tcp_count (f.tcp), ==, 1);

  /* The server reads: the window opens, and the container is told without asking. */
  srv_read_pattern (&f, pos, &roff, 2000);
  while (next_frame (&f, fr, 20))
    {
      g_assert_cmphex (fr->s.flags, ==, NET_TCP_ACK);
      g_assert_cmpuint (fr->s.ack, ==, s0 + (guint32) pos);
      updated |= fr->s.window >= (PEND_CAP / 2) >> 7;
    }
  g_assert_true (updated);

  /* The rest, then the FIN, as the server reads. */
  total = pos + 3 * PEND_CAP / 2;
  while (pos < total)
    {
      gsize len = MIN (8192, total - pos);
      guint8 flags = NET_TCP_ACK | NET_TCP_PSH | (pos + len == total ? NET_TCP_FIN : 0);

      for (gsize i = 0; i < len; i++)
        chunk[i] = pattern (pos + i);
      g_assert_true (feed (&f, s0 + (guint32) pos, f.rcv, flags, 65535, chunk, len));
      expect_frame (&f, fr, 1000);
      pos = fr->s.ack - s0;
      if (pos > total)
        g_assert_cmpuint (pos, ==, total + 1);
      srv_read_pattern (&f, MIN (pos, total), &roff, 1000);
    }
  g_assert_cmpuint (pos, ==, total + 1);
  g_assert_cmpint (srv_read_end (&f, f.srv, 1000), ==, 0);
  fx_clear (&f);
  g_free (fr);
}

/* ---- 3. host -> container ---- */

/* Read data segments until the container has all of total bytes (from iss + 1), checking
   each against the pattern and the window win it offered (acked: the last ACK), and
   acknowledging each as it comes. */
static void
download_rest (Fx *f, gsize total, guint32 win, guint32 acked)
{
  Frame *fr = g_new (Frame, 1);

  while (f->rcv - (f->iss + 1) < total)
    {
      gsize off;

      expect_frame (f, fr, 1000);
      g_assert_cmphex (fr->s.flags & ~NET_TCP_PSH, ==, NET_TCP_ACK);
      g_assert_cmpuint (fr->s.ack, ==, f->seq);
      if (fr->s.len == 0)
        continue;
      /* Never past the window: the last ACK sent and its window. */
      g_assert_cmpint ((gint32) (fr->s.seq + (guint32) fr->s.len - acked), <=, win);
      g_assert_false ((gint32) (fr->s.seq - f->rcv) > 0); /* no gap */
      g_assert_cmpuint (fr->s.len, <=, 1000);
      off = fr->s.seq - (f->iss + 1);
      g_assert_cmpuint (off + fr->s.len, <=, total);
      for (gsize i = 0; i < fr->s.len; i++)
        if (fr->s.payload[i] != pattern (off + i))
          g_error ("byte %zu: %u, not %u", off + i, fr->s.payload[i], pattern (off + i));
      if ((gint32) (fr->s.seq + (guint32) fr->s.len - f->rcv) > 0)
        f->rcv = fr->s.seq + (guint32) fr->s.len;
      acked = f->rcv;
      g_assert_true (feed (f, f->seq, acked, NET_TCP_ACK, (guint16) (win >> f->shift), NULL, 0));
    }
  g_free (fr);
}

static void
expect_data (Fx *f, Frame *fr, guint32 seq, gsize len, gint ms)
{
  expect_frame (f, fr, ms);
  g_assert_cmphex (fr->s.flags, ==, NET_TCP_ACK | NET_TCP_PSH);
  g_assert_cmpuint (fr->s.seq, ==, seq);
  g_assert_cmpuint (fr->s.len, ==, len);
  g_assert_cmpuint (fr->s.ack, ==, f->seq);
  for (gsize i = 0; i < len; i++)
    g_assert_cmpuint (fr->s.payload[i], ==, pattern (seq - (f->iss + 1) + i));
}

static void
download (gboolean ring)
{
  Fx f;
  Frame *fr = g_new (Frame, 1);
  guint8 *data = g_malloc (10000);

  guint32 d;
  gint64 first;

  fx_init (&f, ring, 16);
  net_tcp_set_timeouts (f.tcp, SLOW_RTO_MS * 1000, 10 * G_USEC_PER_SEC);
  /* No window scale: the window is 4096 bytes as written; segments of 1000. */
  establish (&f, 5000, 1000, -1, 4096, 4096);
  d = f.iss + 1;
  for (gsize i = 0; i < 10000; i++)
    data[i] = pattern (i);
  first = g_get_monotonic_time ();
  srv_write_all (f.srv, data, 10000);

  /* Four segments fill the window (a fifth would pass it, a part of one would be silly). */
  expect_data (&f, fr, d, 1000, 1000);
  for (guint i = 1; i < 4; i++)
    expect_data (&f, fr, d + 1000 * i, 1000, 1000);
  expect_silence (&f, 30);
  /* None acknowledged: after the retransmission timeout, all again from snd_una. */
  for (guint i = 0; i < 4; i++)
    expect_data (&f, fr, d + 1000 * i, 1000, 2000);
  g_assert_cmpint ((fr->at - first) / 1000, >=, SLOW_RTO_MS);
  expect_silence (&f, 20);

  /* The first acknowledged: one more segment fits. */
  g_assert_true (feed (&f, f.seq, d + 1000, NET_TCP_ACK, 4096, NULL, 0));
  expect_data (&f, fr, d + 4000, 1000, 1000);
  expect_silence (&f, 20);
  /* Two duplicate ACKs are no loss yet, the third is: the rest again, at once. */
  g_assert_true (feed (&f, f.seq, d + 1000, NET_TCP_ACK, 4096, NULL, 0));
  g_assert_true (feed (&f, f.seq, d + 1000, NET_TCP_ACK, 4096, NULL, 0));
  expect_silence (&f, 30);
  g_assert_true (feed (&f, f.seq, d + 1000, NET_TCP_ACK, 4096, NULL, 0));
  /* At once: written while the batch is flushed, not by the timer. */
  expect_data (&f, fr, d + 1000, 1000, 0);
  for (guint i = 2; i < 5; i++)
    expect_data (&f, fr, d + 1000 * i, 1000, 1000);
  expect_silence (&f, 20);
  /* The container sends a duplicate ACK for each segment after the lost one that it
     receives: those of the same loss are no new loss, nothing is sent a third time. */
  for (guint i = 0; i < 3; i++)
    g_assert_true (feed (&f, f.seq, d + 1000, NET_TCP_ACK, 4096, NULL, 0));
  expect_silence (&f, 30);

  /* From the container's side it has d + 1000 .. d + 5000 already: acknowledging all of
     it lets the rest flow. */
  f.rcv = d + 5000;
  g_assert_true (feed (&f, f.seq, f.rcv, NET_TCP_ACK, 4096, NULL, 0));
  download_rest (&f, 10000, 4096, f.rcv);
  expect_silence (&f, 20);

  /* Sent again on the third duplicate ACK, and in the same batch of frames the ACK for
     all of it (the segments were not lost, only late): nothing more is sent, and the
     next data follows on from there (the peek offset, or the ring, moved with it). */
  for (gsize i = 0; i < 3000; i++)
    data[i] = pattern (10000 + i);
  srv_write_all (f.srv, data, 2000);
  expect_data (&f, fr, d + 10000, 1000, 1000);
  expect_data (&f, fr, d + 11000, 1000, 1000);
  g_assert_true (feed (&f, f.seq, d + 10000, NET_TCP_ACK, 4096, NULL, 0));
  g_assert_true (feed (&f, f.seq, d + 10000, NET_TCP_ACK, 4096, NULL, 0));
  g_assert_true (feed_batch (&f, f.seq, d + 10000, NET_TCP_ACK, 4096, NULL, 0, NULL, 0, FALSE));
  g_assert_true (feed_batch (&f, f.seq, d + 12000, NET_TCP_ACK, 4096, NULL, 0, NULL, 0, FALSE));
  net_tcp_flush (f.tcp);
  expect_silence (&f, 30);
  srv_write_all (f.srv, data + 2000, 1000);
  expect_data (&f, fr, d + 12000, 1000, 1000);
  g_assert_true (feed (&f, f.seq, d + 13000, NET_TCP_ACK, 4096, NULL, 0));
  expect_silence (&f, 20);
  g_assert_cmpuint (net_tcp_count (f.tcp), ==, 1);
  fx_clear (&f);
  g_free (data);
  g_free (fr);
}

static void
test_download (void)
{
  download (FALSE);
}

static void
test_download_ring (void)
{
  download (TRUE);
}

/* A long transfer with a window of 128 KiB kept partly full (the container acknowledges
   all but the last 16 KiB as segments come), and every 37 segments three duplicate ACKs
   to have what is in flight sent again: the ring, without SO_PEEK_OFF, wraps around
   several times, and is read across its end; the peek offset moves back by each
   acknowledgement and to 0 by each rewind. */
#define LONG_TOTAL (3u << 20)
#define LONG_WIN (128u << 10)

static void
download_long (gboolean ring)
{
  Fx f;
  Frame *fr = g_new (Frame, 1);
  g_autofree guint8 *data = g_malloc (LONG_TOTAL);
  gsize woff = 0;
  guint32 d, acked;
  guint frames = 0, resent = 0;

  fx_init (&f, ring, 16);
  establish (&f, 77, 8192, 7, 65535, LONG_WIN >> 7);
  d = f.iss + 1;
  acked = d;
  for (gsize i = 0; i < LONG_TOTAL; i++)
    data[i] = pattern (i);
  while (f.rcv - d < LONG_TOTAL)
    {
      gssize n;
      gsize off;

      if (woff < LONG_TOTAL && (n = write (f.srv, data + woff, LONG_TOTAL - woff)) > 0)
        woff += (gsize) n;
      if (!next_frame (&f, fr, 20))
        {
          /* Nothing more in flight fits: everything acknowledged. */
          g_assert_cmpuint (acked, !=, f.rcv);
          acked = f.rcv;
          g_assert_true (feed (&f, f.seq, acked, NET_TCP_ACK, LONG_WIN >> 7, NULL, 0));
          continue;
        }
      g_assert_cmphex (fr->s.flags, ==, NET_TCP_ACK | NET_TCP_PSH);
      g_assert_false ((gint32) (fr->s.seq - f.rcv) > 0); /* nothing lost */
      g_assert_cmpuint (fr->s.len, >, 0);
      g_assert_cmpuint (fr->s.len, <=, 8192);
      /* Within the window of the last ACK (later ACKs only move its right edge on). */
      g_assert_cmpint ((gint32) (fr->s.seq + (guint32) fr->s.len - acked), <=, (gint32) LONG_WIN);
      off = fr->s.seq - d;
      g_assert_cmpuint (off + fr->s.len, <=, LONG_TOTAL);
      if (memcmp (fr->s.payload, data + off, fr->s.len) != 0)
        g_error ("bytes %zu..%zu differ", off, off + fr->s.len);
      if (fr->s.seq != f.rcv)
        resent++;
      if ((gint32) (fr->s.seq + (guint32) fr->s.len - f.rcv) > 0)
        f.rcv = fr->s.seq + (guint32) fr->s.len;
      if (++frames % 37 == 0 && f.rcv != acked)
        for (guint i = 0; i < 3; i++)
          g_assert_true (feed (&f, f.seq, acked, NET_TCP_ACK, LONG_WIN >> 7, NULL, 0));
      else if (f.rcv - acked > 16384 + 8192)
        {
          acked = f.rcv - 16384;
          g_assert_true (feed (&f, f.seq, acked, NET_TCP_ACK, LONG_WIN >> 7, NULL, 0));
        }
    }
  g_test_message ("%u segments, %u of them sent again", frames, resent);
  g_assert_cmpuint (resent, >, 0);
  g_assert_true (feed (&f, f.seq, f.rcv, NET_TCP_ACK, LONG_WIN >> 7, NULL, 0));
  /* What was sent again before that ACK may still be on its way; then nothing. */
  while (next_frame (&f, fr, 20))
    {
      g_assert_cmphex (fr->s.flags, ==, NET_TCP_ACK | NET_TCP_PSH);
      g_assert_false ((gint32) (fr->s.seq + (guint32) fr->s.len - f.rcv) > 0);
      g_assert_cmpmem (fr->s.payload, fr->s.len, data + (fr->s.seq - d), fr->s.len);
    }
  fx_clear (&f);
  g_free (fr);
}

static void
test_download_long (void)
{
  download_long (FALSE);
}

static void
test_download_long_ring (void)
{
  download_long (TRUE);
}

/* ---- 4. a zero window ---- */

/* A connection whose window the container closed in its handshake's ACK, with 3000
   bytes from the server waiting; rto_init_us > 0 is the first timeout (0: rrun-net's),
   doubling to at most 4 times it. Returns when the window was closed. */
static gint64
closed_window (Fx *f, gint64 rto_init_us)
{
  guint8 data[3000];
  gint64 t;

  fx_init (f, FALSE, 16);
  if (rto_init_us > 0)
    net_tcp_set_timeouts (f->tcp, rto_init_us, 4 * rto_init_us);
  /* Window scale 3: 512 is 4096 bytes. */
  open_conn (f, 1, 1000, 3, 4096);
  t = g_get_monotonic_time ();
  g_assert_true (feed (f, f->seq, f->rcv, NET_TCP_ACK, 0, NULL, 0));
  f->srv = srv_accept (f, 1000);
  for (gsize i = 0; i < sizeof data; i++)
    data[i] = pattern (i);
  srv_write_all (f->srv, data, sizeof data);
  return t;
}

static void
test_zero_window (void)
{
  Fx f;
  Frame *fr = g_new (Frame, 1);
  gint64 t = closed_window (&f, 0);

  /* No data into a closed window: after the timeout, a probe at snd_una - 1. */
  expect_frame (&f, fr, 1000);
  g_assert_cmphex (fr->s.flags, ==, NET_TCP_ACK);
  g_assert_cmpuint (fr->s.len, ==, 0);
  g_assert_cmpuint (fr->s.seq, ==, f.iss);
  g_assert_cmpuint (fr->s.ack, ==, f.seq);
  g_assert_cmpuint (fr->s.window, ==, (1u << 20) >> 7);
  g_assert_cmpint ((fr->at - t) / 1000, >=, RTO_MS);
  /* Its answer: still closed. Nothing but the next probe, later (the timer backs off). */
  g_assert_true (feed (&f, f.seq, f.rcv, NET_TCP_ACK, 0, NULL, 0));
  expect_silence (&f, 30);
  /* Open: the data comes. */
  g_assert_true (feed (&f, f.seq, f.rcv, NET_TCP_ACK, 4096 >> 3, NULL, 0));
  expect_data (&f, fr, f.iss + 1, 1000, 1000);
  f.rcv = f.iss + 1001;
  download_rest (&f, 3000, 4096, f.iss + 1);
  g_assert_cmpuint (net_tcp_count (f.tcp), ==, 1);
  fx_clear (&f);
  g_free (fr);
}

/* The window opens late, just before the backed-off timer of the last probe would fire:
   that timer is done with, and the data sent now gets a fresh one, a whole first timeout
   away (with the probe's timer kept, the data went out again 600 ms after it). */
static void
test_zero_window_opens_late (void)
{
  Fx f;
  Frame *fr = g_new (Frame, 1);
  gint64 opened;

  closed_window (&f, SLOW_RTO_MS * 1000);
  expect_frame (&f, fr, 2000); /* the first probe; the next is 2 x 1 s after it */
  g_assert_cmpuint (fr->s.len, ==, 0);
  g_assert_true (feed (&f, f.seq, f.rcv, NET_TCP_ACK, 0, NULL, 0));
  expect_silence (&f, 1400);
  opened = g_get_monotonic_time ();
  g_assert_true (feed (&f, f.seq, f.rcv, NET_TCP_ACK, 4096 >> 3, NULL, 0));
  for (guint i = 0; i < 3; i++)
    expect_data (&f, fr, f.iss + 1 + i * 1000, 1000, 1000);
  /* Not acknowledged: sent again after 1 s, not before. */
  expect_data (&f, fr, f.iss + 1, 1000, 2000);
  g_assert_cmpint ((fr->at - opened) / 1000, >=, SLOW_RTO_MS);
  fx_clear (&f);
  g_free (fr);
}

/* The end of a connection the container no longer answers, with the timeouts shortened
   to 20 ms doubling to at most 80 ms (net_tcp_set_timeouts; 300 ms and 10 s in rrun-net):
   after MAX_RETRIES (12) timeouts in a row, 0.86 s, a reset, to the container at the end
   of what was sent and to the server, which reads ECONNRESET. Returns how many frames came
   before the reset (each len bytes from the oldest byte not acknowledged, or probes when
   len is 0). */
static guint
count_until_reset (Fx *f, guint32 rst_seq, gsize len)
{
  Frame *fr = g_new (Frame, 1);
  guint sent = 0;

  for (;;)
    {
      expect_frame (f, fr, 1000);
      if (fr->s.flags & NET_TCP_RST)
        break;
      g_assert_cmphex (fr->s.flags & ~NET_TCP_PSH, ==, NET_TCP_ACK);
      g_assert_cmpuint (fr->s.len, ==, len);
      g_assert_cmpuint (fr->s.seq, ==, len > 0 ? f->iss + 1 : f->iss);
      sent++;
      g_assert_cmpuint (sent, <=, 20);
    }
  g_assert_cmphex (fr->s.flags, ==, NET_TCP_RST | NET_TCP_ACK);
  g_assert_cmpuint (fr->s.seq, ==, rst_seq);
  g_assert_cmpint (srv_read_end (f, f->srv, 1000), ==, -ECONNRESET);
  g_assert_cmpuint (net_tcp_count (f->tcp), ==, 0);
  g_free (fr);
  return sent;
}

static void
test_give_up (void)
{
  Fx f;
  guint8 data[1000];

  fx_init (&f, FALSE, 16);
  net_tcp_set_timeouts (f.tcp, 20 * 1000, 80 * 1000);
  establish (&f, 1, 1000, 7, 65535, 65535);
  for (gsize i = 0; i < sizeof data; i++)
    data[i] = pattern (i);
  srv_write_all (f.srv, data, sizeof data);
  /* Never acknowledged: the data once and again at each of 12 timeouts. */
  g_assert_cmpuint (count_until_reset (&f, f.iss + 1 + sizeof data, sizeof data), ==, 1 + 12);
  fx_clear (&f);
}

/* A closed window's probes: answered (the window still closed), they go on past 12
   timeouts and the connection lives; unanswered, 12 of them end it. (A test kept from
   running for 0.86 s would see the answered connection end too: it never is.) */
static void
zero_window_probes (gboolean answered)
{
  Fx f;
  Frame *fr = g_new (Frame, 1);

  closed_window (&f, 20 * 1000);
  if (!answered)
    g_assert_cmpuint (count_until_reset (&f, f.iss + 1, 0), ==, 12);
  else
    {
      for (guint i = 0; i < 16; i++)
        {
          expect_frame (&f, fr, 1000);
          g_assert_cmphex (fr->s.flags, ==, NET_TCP_ACK);
          g_assert_cmpuint (fr->s.len, ==, 0);
          g_assert_cmpuint (fr->s.seq, ==, f.iss);
          g_assert_true (feed (&f, f.seq, f.rcv, NET_TCP_ACK, 0, NULL, 0));
        }
      g_assert_cmpuint (net_tcp_count (f.tcp), ==, 1);
      g_assert_true (feed (&f, f.seq, f.rcv, NET_TCP_ACK, 4096 >> 3, NULL, 0));
      expect_data (&f, fr, f.iss + 1, 1000, 1000);
    }
  fx_clear (&f);
  g_free (fr);
}

static void
test_zero_window_answered (void)
{
  zero_window_probes (TRUE);
}

static void
test_zero_window_unanswered (void)
{
  zero_window_probes (FALSE);
}

/* ---- 5. FIN both ways ---- */

static void
expect_fin (Fx *f, guint32 seq)
{
  Frame *fr = g_new (Frame, 1);

  expect_frame (f, fr, 1000);
  g_assert_cmphex (fr->s.flags, ==, NET_TCP_FIN | NET_TCP_ACK);
  g_assert_cmpuint (fr->s.seq, ==, seq);
  g_assert_cmpuint (fr->s.ack, ==, f->seq);
  g_assert_cmpuint (fr->s.len, ==, 0);
  g_free (fr);
}

static void
fin (gboolean ring, gboolean host_first)
{
  Fx f;
  Frame *fr = g_new (Frame, 1);
  char buf[8];

  fx_init (&f, ring, 16);
  establish (&f, 100, 1460, 7, 65535, 65535);
  if (host_first)
    {
      srv_write_all (f.srv, "bye", 3);
      g_assert_no_errno (shutdown (f.srv, SHUT_WR));
      expect_frame (&f, fr, 1000);
      g_assert_cmphex (fr->s.flags, ==, NET_TCP_ACK | NET_TCP_PSH);
      g_assert_cmpuint (fr->s.seq, ==, f.iss + 1);
      g_assert_cmpmem (fr->s.payload, fr->s.len, "bye", 3);
      expect_fin (&f, f.iss + 4);
      /* The data acknowledged, the FIN not: the FIN alone comes again after the
         retransmission timeout. */
      g_assert_true (feed (&f, f.seq, f.iss + 4, NET_TCP_ACK, 65535, NULL, 0));
      expect_fin (&f, f.iss + 4);
      f.rcv = f.iss + 5;
      g_assert_true (feed (&f, f.seq, f.rcv, NET_TCP_ACK, 65535, NULL, 0));
      expect_silence (&f, 20);
      g_assert_cmpuint (net_tcp_count (f.tcp), ==, 1);
    }
  /* The container's data and FIN: the server reads them, then its end. */
  g_assert_true (feed (&f, f.seq, f.rcv, NET_TCP_ACK | NET_TCP_PSH | NET_TCP_FIN, 65535, "abc",
                       3));
  if (host_first)
    g_assert_cmpuint (net_tcp_count (f.tcp), ==, 0);
  f.seq += 4;
  expect_ack (&f, f.seq);
  g_assert_cmpint (srv_read (&f, f.srv, buf, sizeof buf, 1000), ==, 3);
  g_assert_cmpmem (buf, 3, "abc", 3);
  g_assert_cmpint (srv_read_end (&f, f.srv, 1000), ==, 0);
  if (!host_first)
    {
      /* Half closed: the server still sends. */
      g_assert_cmpuint (net_tcp_count (f.tcp), ==, 1);
      srv_write_all (f.srv, "late", 4);
      g_assert_no_errno (shutdown (f.srv, SHUT_WR));
      expect_frame (&f, fr, 1000);
      g_assert_cmpuint (fr->s.seq, ==, f.iss + 1);
      g_assert_cmpmem (fr->s.payload, fr->s.len, "late", 4);
      expect_fin (&f, f.iss + 5);
      f.rcv = f.iss + 6;
      /* A retransmitted FIN of the container's is acknowledged again. */
      g_assert_true (feed (&f, f.seq - 4, f.iss + 1, NET_TCP_ACK | NET_TCP_FIN, 65535, "abc", 3));
      expect_ack (&f, f.seq);
      g_assert_cmpuint (net_tcp_count (f.tcp), ==, 1);
      g_assert_true (feed (&f, f.seq, f.rcv, NET_TCP_ACK, 65535, NULL, 0));
      g_assert_cmpuint (net_tcp_count (f.tcp), ==, 0);
    }
  expect_silence (&f, 20);
  fx_clear (&f);
  g_free (fr);
}

static void
test_fin_host_first (void)
{
  fin (FALSE, TRUE);
}

static void
test_fin_container_first (void)
{
  fin (FALSE, FALSE);
}

static void
test_fin_ring (void)
{
  fin (TRUE, TRUE);
  fin (TRUE, FALSE);
}

/* ---- 6. resets ---- */

static void
test_reset_from_container (void)
{
  Fx f;

  fx_init (&f, FALSE, 16);
  establish (&f, 42, 1460, 7, 65535, 65535);
  g_assert_true (feed (&f, f.seq, 0, NET_TCP_RST, 0, NULL, 0));
  g_assert_cmpuint (net_tcp_count (f.tcp), ==, 0);
  g_assert_cmpint (srv_read_end (&f, f.srv, 1000), ==, -ECONNRESET);
  expect_silence (&f, 20);
  /* Whatever comes on the 4-tuple now is not ours (libslirp answers it). */
  g_assert_false (feed (&f, f.seq, f.rcv, NET_TCP_ACK, 65535, "x", 1));
  fx_clear (&f);
}

static void
test_reset_from_host (void)
{
  Fx f;
  Frame *fr = g_new (Frame, 1);
  struct linger l = { .l_onoff = 1, .l_linger = 0 };

  fx_init (&f, FALSE, 16);
  establish (&f, 42, 1460, 7, 65535, 65535);
  /* Four bytes sent, not yet acknowledged: the reset's sequence is after them. */
  srv_write_all (f.srv, "data", 4);
  expect_frame (&f, fr, 1000);
  g_assert_cmpuint (fr->s.len, ==, 4);
  g_assert_no_errno (setsockopt (f.srv, SOL_SOCKET, SO_LINGER, &l, sizeof l));
  close (f.srv);
  f.srv = -1;
  expect_frame (&f, fr, 1000);
  g_assert_cmphex (fr->s.flags, ==, NET_TCP_RST | NET_TCP_ACK);
  g_assert_cmpuint (fr->s.seq, ==, f.iss + 5);
  g_assert_cmpuint (fr->s.ack, ==, f.seq);
  g_assert_cmpuint (net_tcp_count (f.tcp), ==, 0);
  expect_silence (&f, 20);
  fx_clear (&f);
  g_free (fr);
}

/* ---- 7. refused ---- */

static void
test_refused (void)
{
  Fx f;
  Frame *fr = g_new (Frame, 1);

  /* Bound, not listening: nothing takes the connection. */
  fx_init (&f, FALSE, -1);
  g_assert_true (feed_syn (&f, 9999, 1460, 7, 65535));
  expect_frame (&f, fr, 1000);
  g_assert_cmphex (fr->s.flags, ==, NET_TCP_RST | NET_TCP_ACK);
  g_assert_cmpuint (fr->s.ack, ==, 10000);
  g_assert_cmpuint (fr->s.seq, ==, 0);
  g_assert_cmpuint (net_tcp_count (f.tcp), ==, 0);
  expect_silence (&f, 20);
  fx_clear (&f);
  g_free (fr);
}

/* ---- 9. a new connection on a live one's 4-tuple ---- */

static void
test_syn_replaces (void)
{
  Fx f;
  int old;
  char buf[4];

  fx_init (&f, FALSE, 16);
  establish (&f, 1000, 1460, 7, 65535, 65535);
  old = f.srv;
  /* The same ISN again is the old connection's SYN: nothing changes. */
  g_assert_true (feed_syn (&f, 1000, 1460, 7, 65535));
  expect_silence (&f, 20);
  g_assert_cmpint (srv_read_end (&f, old, 20), ==, -EAGAIN);
  /* Another: the container has forgotten the old one, which is reset on the host. */
  open_conn (&f, 5000000, 1460, 7, 65535);
  g_assert_cmpuint (net_tcp_count (f.tcp), ==, 1);
  g_assert_cmpint (srv_read_end (&f, old, 1000), ==, -ECONNRESET);
  close (old);
  g_assert_true (feed (&f, f.seq, f.rcv, NET_TCP_ACK | NET_TCP_PSH, 65535, "new", 3));
  f.srv = srv_accept (&f, 1000);
  g_assert_cmpint (srv_read (&f, f.srv, buf, 3, 1000), ==, 3);
  g_assert_cmpmem (buf, 3, "new", 3);
  expect_ack (&f, f.seq + 3);
  fx_clear (&f);
}

int
main (int argc, char **argv)
{
  signal (SIGPIPE, SIG_IGN);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net-tcp-state/handshake", test_handshake);
  g_test_add_func ("/net-tcp-state/handshake-waits-for-connect", test_handshake_waits);
  g_test_add_func ("/net-tcp-state/upload", test_upload);
  g_test_add_func ("/net-tcp-state/upload-backpressure", test_upload_backpressure);
  g_test_add_func ("/net-tcp-state/upload-reorder", test_upload_reorder);
  g_test_add_func ("/net-tcp-state/download", test_download);
  g_test_add_func ("/net-tcp-state/download-long", test_download_long);
  g_test_add_func ("/net-tcp-state/zero-window", test_zero_window);
  g_test_add_func ("/net-tcp-state/zero-window-opens-late", test_zero_window_opens_late);
  g_test_add_func ("/net-tcp-state/zero-window-answered", test_zero_window_answered);
  g_test_add_func ("/net-tcp-state/zero-window-unanswered", test_zero_window_unanswered);
  g_test_add_func ("/net-tcp-state/give-up", test_give_up);
  g_test_add_func ("/net-tcp-state/fin-host-first", test_fin_host_first);
  g_test_add_func ("/net-tcp-state/fin-container-first", test_fin_container_first);
  g_test_add_func ("/net-tcp-state/reset-from-container", test_reset_from_container);
  g_test_add_func ("/net-tcp-state/reset-from-host", test_reset_from_host);
  g_test_add_func ("/net-tcp-state/refused", test_refused);
  g_test_add_func ("/net-tcp-state/ring/download", test_download_ring);
  g_test_add_func ("/net-tcp-state/ring/download-long", test_download_long_ring);
  g_test_add_func ("/net-tcp-state/ring/fin", test_fin_ring);
  g_test_add_func ("/net-tcp-state/syn-replaces", test_syn_replaces);
  return g_test_run ();
}
