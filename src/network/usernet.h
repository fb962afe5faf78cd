/* Containers on user-defined networks (docs/architecture.md, "The network holder"): the
   container enters the holder's user namespace, makes its own network namespace, and gets
   one veth per network, its end on the network's bridge in the holder's namespace.

   Addresses are allocated on the run root, per network, under the network's lock:

     RUN_ROOT/net-holder/ipam/NET/lock   flock(2)ed while an address is taken or given back
     RUN_ROOT/net-holder/ipam/NET/IP     one per address in use: the container, its
                                         interface, MAC and aliases (a GKeyFile)
     RUN_ROOT/net-holder/hosts/NET       "IP NAME ID SHORTID ALIAS... [dns=IP,...]" per
                                         address (dns=: the container's --dns), rewritten
                                         (temp file and rename, under the lock) whenever a
                                         container joins or leaves: the DNS server reads it

   An address whose container's record lock nobody holds (its rrun or monitor was killed)
   is stale and taken back by the next allocation or listing on that network. The holder
   is stopped when the last address of every network is given back. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "config.h"
#include "network/network.h"

G_BEGIN_DECLS

typedef struct
{
  char *network;    /* name */
  char *network_id;
  char *ip;         /* "10.89.0.2" */
  guint prefix;
  char *gateway;    /* the network's gateway */
  char *ip6;        /* "fd12:3456:789a::2" on an IPv6 network, or NULL */
  guint prefix6;
  char *gateway6;
  gboolean internal; /* no default route through it */
  char *bridge;     /* the bridge in the holder's namespace */
  char *ifname;     /* eth0, eth1... in the container */
  char *host_ifname; /* the veth's end on the bridge */
  char *mac;        /* "02:42:0a:59:00:02" */
  char **aliases;
  guint mtu;
  char *cid;
  char *name;       /* the container's name, or NULL */
  char **dns;       /* its --dns servers (NULL-terminated, maybe empty): the network's DNS
                       server forwards its other names there */
} RrunUserNetLink;

void rrun_usernet_link_free (RrunUserNetLink *l);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunUserNetLink, rrun_usernet_link_free)

/* Take an address on each of opts' networks for container cid (its record's lock held by
   the caller), starting the holder when none runs. Fills opts->user_ip, user_ip6, user_gateway,
   user_dns, user_names for /etc/hosts and resolv.conf; *out_links (RrunUserNetLink) and the
   holder's pid (whose user namespace the container enters) on success. On failure nothing
   stays taken. */
gboolean rrun_usernet_join (const RrunConfig *config, RrunNetworkOptions *opts, const char *cid,
                            const char *name, GPtrArray **out_links, pid_t *out_holder,
                            GError **error);

/* Make the links' interfaces in the container whose network namespace ctr_pid is in
   (`rrun __internal net-attach`, in the holder's user namespace). */
gboolean rrun_usernet_attach (const RrunConfig *config, pid_t holder, const GPtrArray *links,
                              pid_t ctr_pid, GError **error);

/* Give back cid's addresses on network (NULL: every network), rewrite the hosts files, and
   stop the holder when no address is left anywhere. */
void rrun_usernet_leave (const RrunConfig *config, const char *cid, const char *network);

/* The addresses in use (stale ones given back first): of one container (cid), or on one
   network (network), or all (both NULL). */
gboolean rrun_usernet_list (const RrunConfig *config, const char *cid, const char *network,
                            GPtrArray **out_links, GError **error);

/* After `network rm`: the network's address records and DNS names go, and a running holder
   drops its bridge and DNS listener (it is synced); the holder is not started for it. */
void rrun_usernet_forget_network (const RrunConfig *config, const char *network);

/* network connect / disconnect on a running container. */
gboolean rrun_usernet_connect (const RrunConfig *config, const char *network,
                               const char *container, char **aliases, const char *ip,
                               const char *ip6, GError **error);
gboolean rrun_usernet_disconnect (const RrunConfig *config, const char *network,
                                  const char *container, gboolean force, GError **error);

/* The internal commands: net-attach HOLDER CTR LINK... and net-detach HOLDER CTR IFNAME. */
gboolean rrun_usernet_attach_main (const RrunConfig *config, int argc, char **argv,
                                   GError **error);
gboolean rrun_usernet_detach_main (const RrunConfig *config, int argc, char **argv,
                                   GError **error);

G_END_DECLS
