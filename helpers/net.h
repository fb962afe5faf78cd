/* rrun-net: shared declarations of the user-mode network helper (docs/architecture.md, "Helper processes").
   The helper keeps slirp4netns's shape: a namespace child creates and configures the tap
   device inside the container's network namespace and hands its fd back; the helper itself
   stays in the host network namespace, where its sockets are the user's own. */
#pragma once

#include <glib.h>

#include "util/json-value.h"
#include "util/json-write.h"

#include "error.h" /* rrun_add_hint, shared with rrun */
#include <netinet/in.h>
#include <stdint.h>
#include <sys/types.h>

#include <slirp/libslirp.h>

G_BEGIN_DECLS

#define NET_ERROR (net_error_quark ())
GQuark net_error_quark (void);

/* Every error names the helper once, in main(): "rrun-net: <what>: <why>". */
gboolean net_throw (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);
gboolean net_throw_errno (GError **error, int errsv, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

/* The MSS libslirp's SYN-ACKs announce to the container (net-mss.c): by default the window
   the SYN-ACK offers divided by a number of segments chosen at run time (two when tap0
   has TCP segmentation offload: 32767 for libslirp's 64 KiB; three without); --tcp-mss N
   fixes it, 0 leaves it alone. */
#define NET_TCP_MSS_AUTO G_MAXUINT

typedef struct
{
  /* namespaces to join */
  pid_t netns_pid;
  char *netns_path;
  char *userns_path;
  /* addresses, all derived from cidr */
  struct in_addr network, netmask, host, guest, dns;
  guint prefix_len;
  struct in6_addr prefix6, host6, guest6, dns6;
  gboolean ipv6;
  guint mtu;
  guint tcp_mss; /* clamp libslirp's announced TCP MSS to this; 0: leave it; NET_TCP_MSS_AUTO:
                    the SYN-ACK's window / mss_segments (net-mss.c) */
  guint mss_segments; /* with NET_TCP_MSS_AUTO: 2 with TSO on tap0, 3 without */
  guint8 mac[6];
  gboolean vnet_hdr; /* make tap0 with IFF_VNET_HDR and ask for its offloads (net-tap.c) */
  gboolean allow_host_loopback;
  /* --no-tap: forward published ports only (TCP and UDP, net-fwd.c), into a namespace
     whose interfaces are not ours (a user-defined network's container): no tap0, guest is
     --forward-addr */
  gboolean no_tap;
  /* upstream for the container's DNS (10.0.2.3), UDP; port 53 unless given */
  struct sockaddr_storage dns_upstream;
  socklen_t dns_upstream_len;
} NetConfig;

/* net-ns.c: the namespace side */
typedef struct
{
  int tap_fd;       /* tap0, non-blocking */
  int connector_fd; /* socketpair end to the connector process (sockets made in the netns) */
  pid_t connector_pid;
} NetNsResult;

typedef struct
{
  int sock;  /* our end of the socketpair to the namespace child */
  pid_t pid;
} NetNsChild;

/* Fork the namespace child. With pid_fd >= 0 the child first reads the container's pid
   from it (rrun starts the helper before the container exists, so the fork is done while
   rrun still sets the container up) and gives up when exit_fd hangs up first. */
gboolean net_ns_start (const NetConfig *cfg, int pid_fd, int exit_fd, NetNsChild *out,
                       GError **error);
/* Wait for the child's tap fd; *out_netns_pid: the pid whose namespaces it joined. FALSE
   with no error set: no pid came (rrun gave up before starting the container). */
gboolean net_ns_finish (NetNsChild *child, NetNsResult *out, pid_t *out_netns_pid,
                        GError **error);
/* Ask the connector for a socket (type SOCK_STREAM or SOCK_DGRAM) created inside the
   container's network namespace. */
int net_ns_socket (int connector_fd, int family, int type, GError **error);

/* net-netlink.c: configure a link inside the current network namespace */
gboolean net_netlink_configure (const char *ifname, const NetConfig *cfg, GError **error);

/* net-sandbox.c */
gboolean net_sandbox_apply (GError **error);

/* net-dns.c: answers the container's UDP queries to cfg->dns from our own upstream, so
   the upstream can be chosen (a test's dnsmasq on 127.0.0.1:PORT, systemd-resolved's real
   servers) without libslirp reading /etc/resolv.conf itself. */
typedef struct NetDns NetDns;
NetDns *net_dns_new (const NetConfig *cfg, int tap_fd);
void net_dns_free (NetDns *dns);
/* TRUE when the frame was a DNS query for us (then it is consumed). */
gboolean net_dns_handle_frame (NetDns *dns, const guint8 *frame, gsize len);
void net_dns_add_pollfds (NetDns *dns, GArray *pollfds);
void net_dns_dispatch (NetDns *dns, const GPollFD *pollfds, guint n);
gint64 net_dns_next_timeout_ms (NetDns *dns);

/* Read resolv.conf, the systemd-resolved stub replaced by its real servers. */
gboolean net_dns_default_upstream (struct sockaddr_storage *out, socklen_t *out_len,
                                   GError **error);
gboolean net_parse_sockaddr (const char *text, guint16 default_port,
                             struct sockaddr_storage *out, socklen_t *out_len, GError **error);

/* net-fwd.c: published ports */
typedef struct NetFwd NetFwd;
NetFwd *net_fwd_new (const NetConfig *cfg, int connector_fd);
void net_fwd_free (NetFwd *fwd);
/* host_port 0: a random port; the bound port goes to *out_host_port. */
gboolean net_fwd_add (NetFwd *fwd, gboolean udp, const char *host_addr, guint host_port,
                      guint guest_port, guint *out_id, guint *out_host_port, int *out_errno,
                      GError **error);
gboolean net_fwd_remove (NetFwd *fwd, guint id, GError **error);
/* Appends [{id, proto, host_addr, host_port, guest_port}, ...] as JSON. */
void net_fwd_list (NetFwd *fwd, GString *out);
void net_fwd_add_pollfds (NetFwd *fwd, GArray *pollfds);
void net_fwd_dispatch (NetFwd *fwd, const GPollFD *pollfds, guint n);

/* net-api.c: the unix socket for port-forward requests */
typedef struct NetApi NetApi;
NetApi *net_api_new (const char *path, NetFwd *fwd, GError **error);
void net_api_free (NetApi *api);
void net_api_add_pollfds (NetApi *api, GArray *pollfds);
void net_api_dispatch (NetApi *api, const GPollFD *pollfds, guint n);
/* Handle one request (exposed for tests); returns the reply text. */
char *net_api_handle_request (NetFwd *fwd, const char *text, gsize len);

/* net-mss.c: when frame is a TCP SYN announcing an MSS above mss (NET_TCP_MSS_AUTO: the
   SYN's own window divided by segments, at least 536; segments is used for nothing else), write it into out (out_size bytes)
   with the MSS lowered to mss and the checksum fixed, and return TRUE; otherwise (other
   frames, or one larger than out) return FALSE and leave out alone. */
gboolean net_mss_clamp (const guint8 *frame, gsize len, guint mss, guint segments, guint8 *out,
                        gsize out_size);

/* net-tap.c: tap frames behind a virtio-net header, and the offloads the kernel grants.
   net_tap_offload records whether the tap has the header and, when want, asks for
   checksum and TCP segmentation offload; it returns the TUN_F_* flags granted. */
unsigned int net_tap_offload (int tap_fd, gboolean vnet_hdr, gboolean want);
gsize net_tap_header_len (void);
/* Where a frame's checksum was left partial by the container's kernel (offload). */
typedef struct
{
  gboolean partial;
  gsize start, offset;
} NetTapCsum;
/* The frame behind the header of the n bytes read into buf; NULL for one to drop. Its
   checksum is not completed here: rrun-net's own TCP (net-tcp.c) never needs it, and
   net_tap_finish completes it for libslirp, which checks every checksum. */
guint8 *net_tap_frame (guint8 *buf, gsize n, gsize *len, NetTapCsum *csum);
gboolean net_tap_finish (guint8 *frame, gsize len, const NetTapCsum *csum);
/* The ones' complement checksum (RFC 1071) of len bytes, complemented. */
guint16 net_tap_checksum (const guint8 *p, gsize len);
/* The small sums of header fields, 16 bits a step: sum plus len bytes read as big-endian
   16-bit words (an odd last byte as the high half), and a sum folded to 16 bits (not
   complemented). net_tap_checksum is the fast one, for payloads. */
static inline guint32
net_sum16 (const guint8 *p, gsize len, guint32 sum)
{
  for (; len > 1; p += 2, len -= 2)
    sum += (guint32) p[0] << 8 | p[1];
  if (len == 1)
    sum += (guint32) p[0] << 8;
  return sum;
}

static inline guint16
net_fold (guint32 sum)
{
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return (guint16) sum;
}
/* One frame to the container, behind an all-zero header when the tap has one. */
ssize_t net_tap_write (int tap_fd, const void *frame, size_t len);
/* Store the ones' complement checksum of frame[start..len) at start + offset (the field
   holds the pseudo-header's sum); FALSE when the offsets do not fit. */
gboolean net_tap_complete_checksum (guint8 *frame, gsize len, gsize start, gsize offset);

/* net-tcp-wire.c: the TCP segments of rrun-net's own TCP, to and from tap0. */
#define NET_TCP_FIN 0x01
#define NET_TCP_SYN 0x02
#define NET_TCP_RST 0x04
#define NET_TCP_PSH 0x08
#define NET_TCP_ACK 0x10

/* One connection's addresses as the container sees them; zeroed before it is filled, so
   that it can be hashed and compared as bytes. */
typedef struct
{
  guint8 family; /* 4 or 6 */
  guint8 zero;
  guint16 gport, dport; /* the container's port, the destination's */
  guint8 gaddr[16], daddr[16];
} NetTcpKey;

typedef struct
{
  NetTcpKey key;
  guint32 seq, ack;
  guint8 flags;
  guint16 window;
  guint16 mss;  /* a SYN's MSS option; 0: none */
  gint wscale;  /* a SYN's window scale option; -1: none */
  const guint8 *payload;
  gsize len;
  guint8 guest_mac[6], our_mac[6];
} NetTcpSegment;

/* FALSE when frame is no IPv4 or IPv6 TCP segment this parser takes (a fragment, IPv6
   extension headers, lengths that do not fit): such frames go to libslirp. */
gboolean net_tcp_parse (const guint8 *frame, gsize len, NetTcpSegment *seg);
/* The headers (virtio-net header when vnet, Ethernet, IP, TCP with options_len bytes of
   options, a multiple of 4) of a segment to the container into out, which must hold
   NET_TCP_HEADER_MAX bytes, with the checksum left partial (vnet) or complete over the
   payload; returns their length. The payload is not copied. */
#define NET_TCP_HEADER_MAX (12 + 14 + 40 + 60)
gsize net_tcp_build (guint8 *out, gboolean vnet, const NetTcpKey *key, const guint8 *guest_mac,
                     const guint8 *our_mac, guint16 ip_id, guint32 seq, guint32 ack,
                     guint8 flags, guint16 window, const guint8 *options, gsize options_len,
                     const guint8 *payload, gsize len);

/* Mark the segment whose headers (hlen bytes, built with vnet) are in out as a TCP
   super-segment the container's kernel cuts into gso_size-byte segments (virtio-net
   GSO): one frame carries up to 64 KiB whatever the container's MSS. */
void net_tcp_set_gso (guint8 *out, const NetTcpKey *key, gsize hlen, guint16 gso_size);

/* An ICMP (v4 type 3, v6 type 1) destination unreachable with code, about the
   container's SYN to key with sequence syn_seq: the error its connect() then reports is
   the one the host's connect() met. Returns the frame's length (with the virtio-net
   header when vnet); out holds NET_TCP_HEADER_MAX bytes. */
gsize net_tcp_build_unreachable (guint8 *out, gboolean vnet, const NetTcpKey *key,
                                 const guint8 *guest_mac, const guint8 *our_mac,
                                 guint32 syn_seq, guint8 code);

/* net-tcp.c: rrun-net's own TCP for the connections the container opens (one host socket
   each, the container's side spoken here; docs/architecture.md, "Helper processes"). NULL
   when it is off (RRUN_NET_SPLICE=0) or the kernel lacks what it needs: then libslirp
   keeps every connection. */
typedef struct NetTcp NetTcp;
NetTcp *net_tcp_new (const NetConfig *cfg, int tap_fd, gboolean vnet);
void net_tcp_free (NetTcp *tcp);
/* The retransmission timer's first and largest timeout (300 ms and 10 s), set shorter by
   the unit tests to see a connection given up in less than a second. */
void net_tcp_set_timeouts (NetTcp *tcp, gint64 rto_init_us, gint64 rto_max_us);
/* TRUE when the frame belongs to (or opens) one of our connections: it is consumed. */
gboolean net_tcp_handle_frame (NetTcp *tcp, const guint8 *frame, gsize len);
/* After a batch of frames: the ACKs they call for, and data the container's window now
   takes. */
void net_tcp_flush (NetTcp *tcp);
void net_tcp_add_pollfds (NetTcp *tcp, GArray *pollfds);
void net_tcp_dispatch (NetTcp *tcp, const GPollFD *pollfds, guint n);
gint64 net_tcp_next_timeout_ms (NetTcp *tcp);
guint net_tcp_count (NetTcp *tcp);

G_END_DECLS
