/* rrun-net: the user-mode network helper (docs/architecture.md, "Helper processes", the slirp4netns design).

     rrun-net --netns-pid PID [--ready-fd N] [--exit-fd N] [--api-socket PATH]
              [--cidr 10.0.2.0/24] [--mtu 65520] [--tcp-mss N] [--enable-ipv6|--disable-ipv6]
              [--allow-host-loopback] [--dns-upstream IP[:PORT]] [--mac XX:XX:XX:XX:XX:XX]
     rrun-net --netns-path /proc/PID/ns/net --userns-path /proc/PID/ns/user ...
     rrun-net --netns-pid-fd N ...   (read the PID from fd N: start before the container)

   A namespace child creates tap0 inside the container's network namespace (net-ns.c); the
   helper stays in the host's, sandboxes itself (net-sandbox.c), writes "1" to the ready
   fd, then loops: fixed poll slots (tap, exit fd, pidfd), the API socket, published
   ports, pending DNS queries, then libslirp's sockets; timers every turn. It stops when
   the exit fd hangs up, the container's process exits (pidfd), or its parent dies
   (PR_SET_PDEATHSIG). */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- libslirp callbacks ---- */

typedef struct
{
  SlirpTimerId id;
  void *cb_opaque;
  SlirpTimerCb cb; /* only for the pre-version-4 timer_new */
  gint64 expire_ms; /* -1: not armed */
} Timer;

typedef struct
{
  NetConfig cfg;
  Slirp *slirp;
  int tap_fd;
  GArray *pollfds;
  GPtrArray *timers;
  NetDns *dns;
  NetTcp *tcp; /* NULL: libslirp keeps every TCP connection */
  guint8 syn[128]; /* a SYN being rewritten by net_mss_clamp; larger frames pass as they are */
} Net;

static ssize_t
cb_send_packet (const void *buf, size_t len, void *opaque)
{
  Net *net = opaque;
  ssize_t n;

  /* Only SYNs to rewrite (a handful per connection) are copied, into net->syn. */
  if (net->cfg.tcp_mss > 0
      && net_mss_clamp (buf, len, net->cfg.tcp_mss, net->cfg.mss_segments, net->syn,
                        sizeof net->syn))
    buf = net->syn;
  do
    n = net_tap_write (net->tap_fd, buf, len);
  while (n < 0 && errno == EINTR);
  /* A full tap queue drops the frame; TCP retransmits, as libslirp's contract allows. */
  if (n < 0 && errno == EAGAIN)
    return (ssize_t) len;
  return n;
}

static void
cb_guest_error (const char *msg, void *opaque)
{
  g_debug ("guest error: %s", msg);
}

static int64_t
cb_clock_get_ns (void *opaque)
{
  return g_get_monotonic_time () * 1000;
}

static void *
cb_timer_new (SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
  Net *net = opaque;
  Timer *t = g_new0 (Timer, 1);

  t->cb = cb;
  t->cb_opaque = cb_opaque;
  t->expire_ms = -1;
  g_ptr_array_add (net->timers, t);
  return t;
}

static void *
cb_timer_new_opaque (SlirpTimerId id, void *cb_opaque, void *opaque)
{
  Timer *t = cb_timer_new (NULL, cb_opaque, opaque);

  t->id = id;
  return t;
}

static void
cb_timer_free (void *timer, void *opaque)
{
  Net *net = opaque;

  g_ptr_array_remove_fast (net->timers, timer);
  g_free (timer);
}

static void
cb_timer_mod (void *timer, int64_t expire_time, void *opaque)
{
  ((Timer *) timer)->expire_ms = expire_time;
}

static void
cb_nop_fd (int fd, void *opaque)
{
}

static void
cb_notify (void *opaque)
{
}

static const SlirpCb slirp_callbacks = {
  .send_packet = cb_send_packet,
  .guest_error = cb_guest_error,
  .clock_get_ns = cb_clock_get_ns,
  .timer_new = cb_timer_new,
  .timer_free = cb_timer_free,
  .timer_mod = cb_timer_mod,
  .register_poll_fd = cb_nop_fd,
  .unregister_poll_fd = cb_nop_fd,
  .notify = cb_notify,
#if SLIRP_CONFIG_VERSION_MAX >= 4
  .timer_new_opaque = cb_timer_new_opaque,
#endif
};

static int
add_poll (int fd, int events, void *opaque)
{
  Net *net = opaque;
  GPollFD pfd = { .fd = fd };

  if (events & SLIRP_POLL_IN)
    pfd.events |= G_IO_IN;
  if (events & SLIRP_POLL_OUT)
    pfd.events |= G_IO_OUT;
  if (events & SLIRP_POLL_PRI)
    pfd.events |= G_IO_PRI;
  if (events & SLIRP_POLL_ERR)
    pfd.events |= G_IO_ERR;
  if (events & SLIRP_POLL_HUP)
    pfd.events |= G_IO_HUP;
  g_array_append_val (net->pollfds, pfd);
  return (int) net->pollfds->len - 1;
}

static int
get_revents (int idx, void *opaque)
{
  Net *net = opaque;
  int ev = 0, r;

  if (idx < 0 || (guint) idx >= net->pollfds->len)
    return 0;
  r = g_array_index (net->pollfds, GPollFD, idx).revents;
  if (r & G_IO_IN)
    ev |= SLIRP_POLL_IN;
  if (r & G_IO_OUT)
    ev |= SLIRP_POLL_OUT;
  if (r & G_IO_PRI)
    ev |= SLIRP_POLL_PRI;
  if (r & G_IO_ERR)
    ev |= SLIRP_POLL_ERR;
  if (r & G_IO_HUP)
    ev |= SLIRP_POLL_HUP;
  return ev;
}

static gint64
now_ms (void)
{
  return g_get_monotonic_time () / 1000;
}

static void
run_timers (Net *net)
{
  gint64 now = now_ms ();

  /* A handler may free or add timers: restart the walk after each one that fires. */
  for (gboolean fired = TRUE; fired;)
    {
      fired = FALSE;
      for (guint i = 0; i < net->timers->len; i++)
        {
          Timer *t = net->timers->pdata[i];

          if (t->expire_ms < 0 || t->expire_ms > now)
            continue;
          t->expire_ms = -1;
          if (t->cb != NULL)
            t->cb (t->cb_opaque);
          else
            slirp_handle_timer (net->slirp, t->id, t->cb_opaque);
          fired = TRUE;
          break;
        }
    }
}

static guint32
timers_timeout (Net *net, guint32 timeout)
{
  gint64 now = now_ms ();

  for (guint i = 0; i < net->timers->len; i++)
    {
      Timer *t = net->timers->pdata[i];

      if (t->expire_ms >= 0)
        timeout = (guint32) MIN ((gint64) timeout, MAX (0, t->expire_ms - now));
    }
  return timeout;
}

/* ---- configuration ---- */

static gboolean
parse_cidr (const char *text, NetConfig *cfg, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, "/", 2);
  guint64 len;
  guint32 net, mask;

  if (g_strv_length (parts) != 2 || inet_pton (AF_INET, parts[0], &cfg->network) != 1
      || !g_ascii_string_to_unsigned (parts[1], 10, 8, 25, &len, NULL))
    return net_throw (error, "invalid cidr \"%s\": expected A.B.C.D/N with N from 8 to 25",
                      text);
  mask = len == 0 ? 0 : ~0u << (32 - len);
  net = ntohl (cfg->network.s_addr) & mask;
  cfg->prefix_len = (guint) len;
  cfg->network.s_addr = htonl (net);
  cfg->netmask.s_addr = htonl (mask);
  cfg->host.s_addr = htonl (net + 2);
  cfg->dns.s_addr = htonl (net + 3);
  cfg->guest.s_addr = htonl (net + 100);
  return TRUE;
}

static gboolean
parse_mac (const char *text, guint8 *mac, GError **error)
{
  unsigned int b[6];
  char extra;

  if (sscanf (text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
              &extra)
          != 6
      || (b[0] & 1))
    return net_throw (error, "invalid MAC address \"%s\": expected a unicast XX:XX:XX:XX:XX:XX",
                      text);
  for (int i = 0; i < 6; i++)
    mac[i] = (guint8) b[i];
  return TRUE;
}

static gboolean
host_has_ipv6 (void)
{
  g_autofree char *text = NULL;

  return g_file_get_contents ("/proc/net/if_inet6", &text, NULL, NULL) && text[0] != '\0';
}

static gboolean
fd_hung_up (int fd)
{
  GPollFD pfd = { .fd = fd, .events = G_IO_IN };

  return g_poll (&pfd, 1, 0) == 1 && (pfd.revents & (G_IO_HUP | G_IO_ERR | G_IO_IN));
}

/* ---- main ---- */


static guint tap_batch = 256;
static int opt_netns_pid = 0, opt_netns_pid_fd = -1, opt_ready_fd = -1, opt_exit_fd = -1,
           opt_mtu = 65520, opt_tcp_mss = -1;
static char *opt_netns_path, *opt_userns_path, *opt_api_socket, *opt_cidr, *opt_dns_upstream,
    *opt_mac;
static char *opt_forward_addr;
static gboolean opt_no_tap;
static gboolean opt_enable_ipv6, opt_disable_ipv6, opt_allow_host_loopback, opt_debug;

static const GOptionEntry entries[] = {
  { "netns-pid", 0, 0, G_OPTION_ARG_INT, &opt_netns_pid, "A process in the container", "PID" },
  { "netns-pid-fd", 0, 0, G_OPTION_ARG_INT, &opt_netns_pid_fd,
    "Read that PID from this fd (a line), once the container exists", "FD" },
  { "netns-path", 0, 0, G_OPTION_ARG_FILENAME, &opt_netns_path, "Network namespace", "PATH" },
  { "userns-path", 0, 0, G_OPTION_ARG_FILENAME, &opt_userns_path, "Its user namespace", "PATH" },
  { "ready-fd", 0, 0, G_OPTION_ARG_INT, &opt_ready_fd, "Write \"1\" once the tap is up", "FD" },
  { "exit-fd", 0, 0, G_OPTION_ARG_INT, &opt_exit_fd, "Stop when this hangs up", "FD" },
  { "api-socket", 0, 0, G_OPTION_ARG_FILENAME, &opt_api_socket, "Port-forward API", "PATH" },
  { "cidr", 0, 0, G_OPTION_ARG_STRING, &opt_cidr, "Network (10.0.2.0/24)", "CIDR" },
  { "mtu", 0, 0, G_OPTION_ARG_INT, &opt_mtu, "MTU (65520)", "N" },
  { "tcp-mss", 0, 0, G_OPTION_ARG_INT, &opt_tcp_mss,
    "Largest TCP segment the container sends through libslirp, for the connections "
    "libslirp has (0: MTU's; default: half or a third of libslirp's window)", "N" },
  { "enable-ipv6", 0, 0, G_OPTION_ARG_NONE, &opt_enable_ipv6, "IPv6 (fd00::/64)", NULL },
  { "disable-ipv6", 0, 0, G_OPTION_ARG_NONE, &opt_disable_ipv6, "No IPv6", NULL },
  { "allow-host-loopback", 0, 0, G_OPTION_ARG_NONE, &opt_allow_host_loopback,
    "Let the gateway address reach the host's 127.0.0.1", NULL },
  { "dns-upstream", 0, 0, G_OPTION_ARG_STRING, &opt_dns_upstream, "DNS upstream", "IP[:PORT]" },
  { "mac", 0, 0, G_OPTION_ARG_STRING, &opt_mac, "MAC address of tap0", "MAC" },
  { "no-tap", 0, 0, G_OPTION_ARG_NONE, &opt_no_tap,
    "Make no tap0: only forward published TCP and UDP ports into the namespace", NULL },
  { "forward-addr", 0, 0, G_OPTION_ARG_STRING, &opt_forward_addr,
    "With --no-tap: the container's address (TCP tries 127.0.0.1 first)", "IP" },
  { "debug", 0, 0, G_OPTION_ARG_NONE, &opt_debug, "Debug messages", NULL },
  { NULL },
};

static int
cmp_int (const void *a, const void *b)
{
  return *(const int *) a - *(const int *) b;
}

/* rrun spawns us with posix_spawn (no fork of rrun, no fd walk: ~3 ms less on its critical
   path), which leaves every inherited fd without O_CLOEXEC open: close all but stdio and
   the fds named on the command line, so that a pipe of rrun's caller is never held here. */
static void
close_other_fds (void)
{
  int keep[] = { 2, opt_ready_fd, opt_exit_fd, opt_netns_pid_fd };
  unsigned int from;

  qsort (keep, G_N_ELEMENTS (keep), sizeof keep[0], cmp_int);
  from = 3;
  for (gsize i = 0; i < G_N_ELEMENTS (keep); i++)
    {
      if (keep[i] < (int) from)
        continue;
      if ((unsigned int) keep[i] > from)
        syscall (SYS_close_range, from, (unsigned int) keep[i] - 1, 0);
      from = (unsigned int) keep[i] + 1;
    }
  syscall (SYS_close_range, from, ~0U, 0);
}

/* One socket per connection the container opens: the usual soft limit of 1024 fds would
   refuse connections long before the hard limit does (what is allowed is the user's). */
static void
raise_fd_limit (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < MIN (rl.rlim_max, (rlim_t) 8192))
    {
      rl.rlim_cur = MIN (rl.rlim_max, (rlim_t) 8192);
      setrlimit (RLIMIT_NOFILE, &rl);
    }
}

static gboolean
configure (NetConfig *cfg, GError **error)
{
  memset (cfg, 0, sizeof *cfg);
  if ((opt_netns_pid > 0) + (opt_netns_path != NULL) + (opt_netns_pid_fd >= 0) != 1)
    return net_throw (error, "invalid arguments: give one of --netns-pid, --netns-pid-fd or "
                             "--netns-path");
  cfg->netns_pid = opt_netns_pid;
  cfg->netns_path = opt_netns_path;
  cfg->userns_path = opt_userns_path;
  if (!parse_cidr (opt_cidr != NULL ? opt_cidr : "10.0.2.0/24", cfg, error))
    return FALSE;
  if (opt_mtu < 1280 || opt_mtu > 65520)
    return net_throw (error, "invalid mtu %d: it must be between 1280 and 65520", opt_mtu);
  cfg->mtu = (guint) opt_mtu;
  if (opt_tcp_mss > 0 && (opt_tcp_mss < 536 || opt_tcp_mss > 65480))
    return net_throw (error, "invalid tcp-mss %d: it must be 0 or between 536 and 65480",
                      opt_tcp_mss);
  cfg->tcp_mss = opt_tcp_mss < 0 ? NET_TCP_MSS_AUTO : (guint) opt_tcp_mss;
  if (opt_mac != NULL && !parse_mac (opt_mac, cfg->mac, error))
    return FALSE;
  if (opt_mac == NULL)
    {
      /* Fixed like slirp4netns' tap: a stable MAC keeps libslirp's ARP table valid. */
      static const guint8 def[6] = { 0x02, 0x52, 0x52, 0x4e, 0x45, 0x54 };
      memcpy (cfg->mac, def, 6);
    }
  cfg->ipv6 = opt_disable_ipv6 ? FALSE : opt_enable_ipv6 ? TRUE : host_has_ipv6 ();
  inet_pton (AF_INET6, "fd00::", &cfg->prefix6);
  inet_pton (AF_INET6, "fd00::2", &cfg->host6);
  inet_pton (AF_INET6, "fd00::3", &cfg->dns6);
  cfg->allow_host_loopback = opt_allow_host_loopback;
  cfg->no_tap = opt_no_tap;
  if (opt_forward_addr != NULL && inet_pton (AF_INET, opt_forward_addr, &cfg->guest) != 1)
    return net_throw (error, "invalid forward-addr \"%s\"", opt_forward_addr);
  /* RRUN_NET_OFFLOAD=0: plain frames, for measuring what the offloads bring. */
  cfg->vnet_hdr = g_strcmp0 (g_getenv ("RRUN_NET_OFFLOAD"), "0") != 0;
  if (opt_dns_upstream != NULL)
    {
      if (!net_parse_sockaddr (opt_dns_upstream, 53, &cfg->dns_upstream, &cfg->dns_upstream_len,
                               error))
        {
          g_prefix_error (error, "invalid dns_upstream: ");
          return FALSE;
        }
    }
  else if (!net_dns_default_upstream (&cfg->dns_upstream, &cfg->dns_upstream_len, error))
    return FALSE;
  return TRUE;
}

static int
run (GError **error)
{
  Net net = { 0 };
  NetNsResult ns = { .tap_fd = -1, .connector_fd = -1 };
  NetNsChild child = { -1, 0 };
  SlirpConfig sc = { 0 };
  NetFwd *fwd = NULL;
  NetApi *api = NULL;
  int pidfd = -1, status = 1;
  /* One buffer for every tap read, no per-packet malloc: the largest frame is a 64 KiB TCP
     segment from the container's segmentation offload, behind its virtio-net header. */
  static guint8 buf[65536 + 64];

  if (!configure (&net.cfg, error))
    return 1;
  net.tap_fd = -1;
  net.pollfds = g_array_sized_new (FALSE, FALSE, sizeof (GPollFD), 64);
  net.timers = g_ptr_array_new ();

  sc.version = MIN (4, SLIRP_CONFIG_VERSION_MAX);
  sc.in_enabled = TRUE;
  sc.vnetwork = net.cfg.network;
  sc.vnetmask = net.cfg.netmask;
  sc.vhost = net.cfg.host;
  sc.in6_enabled = net.cfg.ipv6;
  sc.vprefix_addr6 = net.cfg.prefix6;
  sc.vprefix_len = 64;
  sc.vhost6 = net.cfg.host6;
  sc.vhostname = NULL;
  sc.vdhcp_start.s_addr = htonl (ntohl (net.cfg.network.s_addr) + 15);
  sc.vnameserver = net.cfg.dns;
  sc.vnameserver6 = net.cfg.dns6;
  sc.if_mtu = net.cfg.mtu;
  sc.if_mru = net.cfg.mtu;
  sc.disable_host_loopback = !net.cfg.allow_host_loopback;
  /* libslirp needs no namespace: set it up while the container is still being made. */
  net.slirp = slirp_new (&sc, &slirp_callbacks, &net);
  if (net.slirp == NULL)
    {
      net_throw (error, "cannot start libslirp: slirp_new failed");
      goto out;
    }
  /* With --netns-pid-fd the child is forked now and waits for the pid itself: the fork
     (milliseconds on a busy machine) is off the container's start-up path. */
  if (!net_ns_start (&net.cfg, opt_netns_pid_fd, opt_exit_fd, &child, error))
    goto out;
  if (!net_ns_finish (&child, &ns, &net.cfg.netns_pid, error))
    {
      status = *error != NULL ? 1 : 0;
      goto out;
    }
  if (opt_netns_pid_fd >= 0)
    {
      close (opt_netns_pid_fd);
      g_debug ("container pid %d", (int) net.cfg.netns_pid);
    }
  net.tap_fd = ns.tap_fd;
  {
    unsigned int granted = net_tap_offload (net.tap_fd, net.cfg.vnet_hdr, TRUE);

    /* With TSO the container's TCP sends frames of at most half libslirp's window
       whatever the MSS: two segments per window (net-mss.c). RRUN_NET_MSS_SEGMENTS=N
       overrides it, for measuring. */
    net.cfg.mss_segments = (granted & TUN_F_TSO4) ? 2 : 3;
    if (g_getenv ("RRUN_NET_MSS_SEGMENTS") != NULL)
      net.cfg.mss_segments = (guint) CLAMP (atoi (g_getenv ("RRUN_NET_MSS_SEGMENTS")), 1, 16);
    g_debug ("tap0: virtio-net header %s, offloads 0x%x, MSS clamp: window / %u",
             net.cfg.vnet_hdr ? "on" : "off", granted, net.cfg.mss_segments);
  }
  net.dns = net_dns_new (&net.cfg, net.tap_fd);
  net.tcp = net_tcp_new (&net.cfg, net.tap_fd, net.cfg.vnet_hdr);
  if (net.tcp != NULL)
    raise_fd_limit ();
  g_debug ("outbound TCP: %s", net.tcp != NULL ? "rrun-net's own (net-tcp.c)" : "libslirp's");
  fwd = net_fwd_new (&net.cfg, ns.connector_fd);
  if (opt_api_socket != NULL && (api = net_api_new (opt_api_socket, fwd, error)) == NULL)
    goto out;
  if (net.cfg.netns_pid > 0)
    {
      pidfd = (int) syscall (SYS_pidfd_open, net.cfg.netns_pid, 0);
      if (pidfd < 0)
        {
          net_throw_errno (error, errno, "cannot watch process %d", (int) net.cfg.netns_pid);
          goto out;
        }
    }
  if (!net_sandbox_apply (error))
    goto out;
  if (opt_ready_fd >= 0)
    {
      if (write (opt_ready_fd, "1", 1) != 1)
        {
          net_throw_errno (error, errno, "cannot write to the ready fd %d", opt_ready_fd);
          goto out;
        }
      close (opt_ready_fd);
    }
  g_debug ("tap0 is up; looping");

  for (;;)
    {
      GPollFD fixed[3] = { { .fd = net.tap_fd, .events = G_IO_IN },
                           { .fd = opt_exit_fd, .events = G_IO_IN },
                           { .fd = pidfd, .events = G_IO_IN } };
      guint32 timeout = 1000;
      gint64 dns_timeout;
      GPollFD *p;
      int r;

      g_array_set_size (net.pollfds, 0);
      g_array_append_vals (net.pollfds, fixed, 3);
      if (api != NULL)
        net_api_add_pollfds (api, net.pollfds);
      net_fwd_add_pollfds (fwd, net.pollfds);
      net_dns_add_pollfds (net.dns, net.pollfds);
      net_tcp_add_pollfds (net.tcp, net.pollfds);
      slirp_pollfds_fill (net.slirp, &timeout, add_poll, &net);
      timeout = timers_timeout (&net, timeout);
      dns_timeout = net_dns_next_timeout_ms (net.dns);
      if (dns_timeout >= 0)
        timeout = (guint32) MIN ((gint64) timeout, dns_timeout);
      dns_timeout = net_tcp_next_timeout_ms (net.tcp);
      if (dns_timeout >= 0)
        timeout = (guint32) MIN ((gint64) timeout, dns_timeout);
      r = g_poll ((GPollFD *) net.pollfds->data, net.pollfds->len, (gint) timeout);
      if (r < 0 && errno != EINTR)
        {
          net_throw_errno (error, errno, "poll");
          goto out;
        }
      p = (GPollFD *) net.pollfds->data;
      if (p[1].revents != 0 || p[2].revents != 0)
        {
          g_debug ("%s; stopping", p[1].revents != 0 ? "the exit fd hung up"
                                                     : "the container's process exited");
          break;
        }
      if (p[0].revents & G_IO_IN)
        {
          /* Drain a batch of frames per turn: one poll per frame caps throughput. */
          for (guint i = 0; i < tap_batch; i++)
            {
              ssize_t n = read (net.tap_fd, buf, sizeof buf);
              NetTapCsum csum;
              guint8 *f;
              gsize len;

              if (n <= 0)
                break;
              if ((f = net_tap_frame (buf, (gsize) n, &len, &csum)) == NULL)
                continue;
              /* Our own TCP needs no checksum of the container's; libslirp checks it. */
              if (net.tcp != NULL && net_tcp_handle_frame (net.tcp, f, len))
                continue;
              if (!net_tap_finish (f, len, &csum))
                continue;
              if (!net_dns_handle_frame (net.dns, f, len))
                slirp_input (net.slirp, f, (int) len);
            }
          /* One ACK per connection for the whole batch. */
          net_tcp_flush (net.tcp);
        }
      else if (p[0].revents & (G_IO_HUP | G_IO_ERR))
        {
          g_debug ("the tap device is gone; stopping");
          break;
        }
      slirp_pollfds_poll (net.slirp, r < 0, get_revents, &net);
      run_timers (&net);
      if (api != NULL)
        net_api_dispatch (api, p, net.pollfds->len);
      net_fwd_dispatch (fwd, p, net.pollfds->len);
      net_dns_dispatch (net.dns, p, net.pollfds->len);
      net_tcp_dispatch (net.tcp, p, net.pollfds->len);
    }
  status = 0;
out:
  /* The connector exits when its socket closes; kill it as well, so nothing outlives us. */
  if (ns.connector_pid > 0)
    {
      kill (ns.connector_pid, SIGKILL);
      waitpid (ns.connector_pid, NULL, 0);
    }
  net_api_free (api);
  net_fwd_free (fwd);
  net_tcp_free (net.tcp);
  net_dns_free (net.dns);
  if (net.slirp != NULL)
    slirp_cleanup (net.slirp);
  if (pidfd >= 0)
    close (pidfd);
  if (ns.connector_fd >= 0)
    close (ns.connector_fd);
  if (ns.tap_fd >= 0)
    close (ns.tap_fd);
  if (net.timers != NULL)
    g_ptr_array_free (net.timers, TRUE);
  if (net.pollfds != NULL)
    g_array_free (net.pollfds, TRUE);
  return status;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- rrun's user-mode network helper");
  g_autoptr (GError) error = NULL;
  int status;

  /* The parent may die at any moment, even before this line: the exit fd check below
     covers that window, the death signal everything after it. */
  prctl (PR_SET_PDEATHSIG, SIGTERM);
  signal (SIGPIPE, SIG_IGN);
  g_log_writer_default_set_use_stderr (TRUE); /* debug lines too: stdout is not ours */
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "rrun-net: invalid arguments: %s\n", error->message);
      return 2;
    }
  close_other_fds ();
  if (g_getenv ("RRUN_NET_BATCH") != NULL)
    tap_batch = (guint) CLAMP (atoi (g_getenv ("RRUN_NET_BATCH")), 1, 1024);
  if (opt_debug)
    g_setenv ("G_MESSAGES_DEBUG", "all", TRUE);
  if (opt_exit_fd >= 0 && fd_hung_up (opt_exit_fd))
    return 0;
  status = run (&error);
  if (error != NULL)
    {
      fprintf (stderr, "rrun-net: %s\n", error->message);
      return status != 0 ? status : 1;
    }
  return status;
}
