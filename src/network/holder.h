/* The per-user network holder (docs/architecture.md, "User-defined networks"): one
   long-lived process pair per user that owns the bridges of the user-defined networks.

     rrun __internal net-holder      the parent, in the host's namespaces: it makes a user
                                     namespace with the user's full subordinate map (the
                                     keeper of userns/keeper.h), starts the child in it, then
                                     attaches one rrun-net to the child's network namespace
                                     for outbound traffic, and waits
     rrun __internal net-holder-ns   the child: enters that user namespace, makes a network
                                     namespace, brings lo up, makes one bridge per network
                                     (its gateway address, up), sets ip_forward and the
                                     masquerade rules (netlink, holder-nft.c), and waits

   State under RUN_ROOT/net-holder/: `state` ("PARENT_PID PARENT_START CHILD_PID"), `lock`
   (flock(2)ed while a holder is checked or started), holder.log and rrun-net's files. A
   holder whose parent is gone (SIGKILL) is stale: its child and rrun-net die with it (death
   signal, exit fd) and the next ensure starts a new one. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "config.h"

G_BEGIN_DECLS

/* Make sure a holder runs, starting one when none does or the recorded one is stale. Its
   child's pid (the process whose /proc/PID/ns/{user,net} containers use) in *out_pid. */
gboolean rrun_net_holder_ensure (const RrunConfig *config, pid_t *out_pid, GError **error);

/* The running holder's child pid, or 0 when none runs (stale state counts as none). */
pid_t rrun_net_holder_running (const RrunConfig *config);

/* Stop the holder (SIGTERM to its parent, which stops rrun-net and the child) and wait up
   to 5 s for it to go (SIGKILL then). No holder is fine. */
gboolean rrun_net_holder_stop (const RrunConfig *config, GError **error);

/* The holder's lock (RUN_ROOT/net-holder/lock), held until *out_fd is closed: whoever
   starts, stops or adds a container to the holder holds it, so that the last container's
   leave (which stops the holder) and a new container's join do not cross. */
gboolean rrun_net_holder_lock (const RrunConfig *config, int *out_fd, GError **error);
/* rrun_net_holder_ensure with the lock held; without sync a running holder is trusted to
   have every network's bridge (the attach syncs it when one is missing). */
gboolean rrun_net_holder_ensure_held (const RrunConfig *config, gboolean sync, pid_t *out_pid,
                                      GError **error);
/* rrun_net_holder_stop with the lock held. */
void rrun_net_holder_stop_held (const RrunConfig *config);

/* RUN_ROOT/net-holder. */
char *rrun_net_holder_dir (const RrunConfig *config);

/* The internal commands' bodies: argv[0] is the command's name. net-holder-ns and
   net-holder-sync are rrun-image's (holder-ns.c), which links the rules' libraries. */
gboolean rrun_net_holder_main (const RrunConfig *config, int argc, char **argv, GError **error);
gboolean rrun_net_holder_ns_main (const RrunConfig *config, int argc, char **argv,
                                  GError **error);
/* net-holder-sync PID: enter the running holder's namespaces and repeat the set-up. */
gboolean rrun_net_holder_sync_main (const RrunConfig *config, int argc, char **argv,
                                    GError **error);

/* Bring up, in the calling process's network namespace: lo, then each user-defined
   network's bridge with its gateway address. Through rtnetlink (holder-netlink.c). */
gboolean rrun_net_holder_setup_links (const GPtrArray *confs, GError **error);

/* One interface of a container on a user-defined network (network/usernet.c). */
typedef struct
{
  char bridge[16];      /* the network's bridge in the holder's namespace */
  char host_ifname[16]; /* the veth's end on the bridge */
  char ifname[16];      /* its end in the container: eth0, eth1... */
  guint32 ip;           /* host order */
  guint prefix;
  guint32 gateway;      /* host order; 0: no default route through it */
  guint mtu;
  guint8 mac[6];
  gboolean has_ip6;     /* an IPv6 network: */
  guint8 ip6[16];       /* network order */
  guint prefix6;
  gboolean has_gateway6; /* the IPv6 default route through it */
  guint8 gateway6[16];
} RrunNetLinkSpec;

/* In the holder's namespaces: the veth pair, its peer moved into ctr_netns_fd. */
gboolean rrun_net_holder_veth_add (const RrunNetLinkSpec *l, int ctr_netns_fd, GError **error);
/* In the container's network namespace: the peer's address, up, default route. */
gboolean rrun_net_holder_veth_configure (const RrunNetLinkSpec *l, GError **error);
/* In the calling process's network namespace: remove an interface (no such one is fine). */
gboolean rrun_net_holder_link_delete (const char *ifname, GError **error);

/* Load the masquerade and isolation rules of these networks (table ip rrun, replaced as a
   whole) in the calling process's network namespace. Through libnftnl (holder-nft.c). */
gboolean rrun_net_holder_load_rules (const GPtrArray *confs, GError **error);

G_END_DECLS
