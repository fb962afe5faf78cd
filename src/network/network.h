/* The container's network, host side: --network / -p / -P / --dns* / --add-host parsing,
   the text of /etc/resolv.conf, /etc/hosts and /etc/hostname, and the lifecycle of
   helpers/rrun-net (started after the container's namespaces exist, before its command
   runs; stopped with rrun_network_free, no orphans). */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "config.h"

G_BEGIN_DECLS

typedef enum
{
  RRUN_NETWORK_SLIRP, /* own network namespace, rrun-net (default) */
  RRUN_NETWORK_NONE,  /* own network namespace with lo only */
  RRUN_NETWORK_HOST,  /* no network namespace: the host's interfaces */
  RRUN_NETWORK_NS,    /* join an existing namespace: ns:/proc/PID/ns/net or any netns file */
  RRUN_NETWORK_CONTAINER, /* join a running container's namespace: container:NAME|ID */
  RRUN_NETWORK_USER,  /* own network namespace in the network holder's user namespace, a
                         veth to each user-defined network's bridge (network/usernet.h) */
} RrunNetworkMode;

typedef struct
{
  char *host_ip;  /* NULL: every address */
  guint host_port; /* 0: a random port (after start: the port bound) */
  guint container_port;
  gboolean udp;
} RrunPortMapping;

typedef struct
{
  char *name;
  char *ip;
} RrunHostEntry;

typedef struct
{
  RrunNetworkMode mode;
  char *ns_path;            /* RRUN_NETWORK_NS */
  char *container;          /* RRUN_NETWORK_CONTAINER: its name or id */
  /* slirp:k=v,... */
  char *cidr;               /* "10.0.2.0/24" */
  guint mtu;                /* 65520 */
  int tcp_mss;              /* -1: the helper's default clamp; 0: none (net-mss.c) */
  int enable_ipv6;          /* -1: when the host has IPv6; 0; 1 */
  gboolean allow_host_loopback;
  char *dns_upstream;       /* NULL: the host's resolv.conf */
  char *mac;                /* NULL: the helper's fixed default */
  GArray *ports;            /* RrunPortMapping */
  GPtrArray *dns_servers;   /* --dns */
  GPtrArray *dns_search;    /* --dns-search */
  GPtrArray *dns_options;   /* --dns-option */
  GArray *hosts;            /* RrunHostEntry, --add-host */
  /* RRUN_NETWORK_USER: */
  GPtrArray *user_networks; /* the networks' names, in --network's order */
  GPtrArray *aliases;       /* --network-alias */
  char *ip;                 /* --ip: the first network's address; NULL: allocated */
  char *ip6;                /* --ip6: its IPv6 address; NULL: allocated (IPv6 networks) */
  char *user_ip;            /* after allocation: the first network's address */
  char *user_ip6;           /* ... and its IPv6 address (NULL: the network has none) */
  char *user_gateway;       /* ... and its gateway (NULL for an internal network) */
  char *user_dns;           /* the first network's gateway: its DNS server */
  char **user_names;        /* the container's names for /etc/hosts (name, aliases) */
} RrunNetworkOptions;

/* Defaults from rrun.conf ([network] default, allow_host_loopback, dns_upstream);
   config may be NULL for built-in defaults. */
RrunNetworkOptions *rrun_network_options_new (const RrunConfig *config, GError **error);
void rrun_network_options_free (RrunNetworkOptions *opts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunNetworkOptions, rrun_network_options_free)

/* --network slirp[:k=v,...] | none | host | ns:PATH | container:NAME|ID.
   Keys: cidr, mtu, tcp_mss, enable_ipv6, allow_host_loopback, dns_upstream, mac. */
gboolean rrun_network_options_set_mode (RrunNetworkOptions *opts, const char *text,
                                        GError **error);
/* --network NAME[,NAME2...]: user-defined networks (the caller checked they exist). */
void rrun_network_options_set_user (RrunNetworkOptions *opts, char **names);
/* --network-alias, --ip and --ip6 (user-defined networks only; checked by _check). */
gboolean rrun_network_options_add_alias (RrunNetworkOptions *opts, const char *alias,
                                         GError **error);
gboolean rrun_network_options_set_ip (RrunNetworkOptions *opts, const char *ip,
                                      GError **error);
gboolean rrun_network_options_set_ip6 (RrunNetworkOptions *opts, const char *ip6,
                                       GError **error);
/* --mac-address XX:XX:XX:XX:XX:XX: tap0's address (slirp only; unicast, not all zero). */
gboolean rrun_network_options_set_mac (RrunNetworkOptions *opts, const char *mac,
                                       GError **error);
/* Once every option is in: refuse combinations that cannot work, as docker does ("conflicting
   options"): -p/-P and --mac-address without slirp; --hostname, --dns*, --add-host with
   container: (the joined container's files and host name are used). hostname_given: whether
   --hostname was passed. */
gboolean rrun_network_options_check (const RrunNetworkOptions *opts, gboolean hostname_given,
                                     GError **error);
/* -p [hostIP:][hostPort:]containerPort[/tcp|/udp]; ports may be ranges (8000-8002:80-82);
   a bare containerPort (or an empty hostPort) gets a random host port. */
gboolean rrun_network_options_add_publish (RrunNetworkOptions *opts, const char *text,
                                           GError **error);
/* -P: every exposed port ("80/tcp", "53/udp", "8080") on a random host port. */
gboolean rrun_network_options_publish_all (RrunNetworkOptions *opts,
                                           const char *const *exposed_ports, GError **error);
gboolean rrun_network_options_add_dns (RrunNetworkOptions *opts, const char *ip,
                                       GError **error);
gboolean rrun_network_options_add_dns_search (RrunNetworkOptions *opts, const char *domain,
                                              GError **error);
gboolean rrun_network_options_add_dns_option (RrunNetworkOptions *opts, const char *option,
                                              GError **error);
/* --add-host name:ip (ip may be IPv6). */
gboolean rrun_network_options_add_host (RrunNetworkOptions *opts, const char *text,
                                        GError **error);
/* Whether the container gets a network namespace of its own (slirp, none). */
gboolean rrun_network_options_needs_netns (const RrunNetworkOptions *opts);
/* Whether it joins an existing one (ns:, container:). */
gboolean rrun_network_options_joins (const RrunNetworkOptions *opts);

/* The container's address, gateway and DNS address for opts' cidr ("10.0.2.100", ...). */
gboolean rrun_network_options_addresses (const RrunNetworkOptions *opts, char **out_guest,
                                         char **out_gateway, char **out_dns, GError **error);

/* Text of the container's /etc/resolv.conf. host_resolv_conf is the host's file's text
   (NULL: read /etc/resolv.conf), used for search/options and for host/none/ns modes. */
char *rrun_network_resolv_conf_text (const RrunNetworkOptions *opts,
                                     const char *host_resolv_conf);
/* Text of /etc/hosts: localhost lines, the hostname on the container's address,
   host.containers.internal when the host's loopback is reachable, then --add-host. */
char *rrun_network_hosts_text (const RrunNetworkOptions *opts, const char *hostname);
/* Text of /etc/hostname. */
char *rrun_network_hostname_text (const char *hostname);

/* Before the container starts: each TCP/UDP host port can be bound (errors name the sysctl
   net.ipv4.ip_unprivileged_port_start or the process holding the port). */
gboolean rrun_network_check_ports (const RrunNetworkOptions *opts, GError **error);

typedef struct RrunNetwork RrunNetwork;

/* Start rrun-net for the network namespace of container_pid (a process inside the
   container's user and network namespaces) and publish opts' ports. Returns once tap0 is
   up and every port is published. run_dir holds net.sock (the helper's API) and
   rrun-net.log. For host/none/ns modes nothing is started and *out is still set.
   Call from the thread that will live as long as the container (PR_SET_PDEATHSIG fires
   when the forking thread exits). */
gboolean rrun_network_start (const RrunNetworkOptions *opts, pid_t container_pid,
                             const char *run_dir, RrunNetwork **out, GError **error);
/* The same in two steps, so that the helper's start (exec, libraries, libslirp) overlaps
   the container's: spawn it before the container's namespaces exist (it waits for a pid);
   attach once PID 1 exists (returns when tap0 is up and every port is published). For
   host/none/ns/container modes spawn starts nothing and attach does nothing. */
gboolean rrun_network_spawn (const RrunNetworkOptions *opts, const char *run_dir,
                             RrunNetwork **out, GError **error);
gboolean rrun_network_attach (RrunNetwork *net, const RrunNetworkOptions *opts,
                              pid_t container_pid, GError **error);
/* The first half of attach alone: hand the helper the pid as soon as the container's
   network namespace exists, so that tap0 is made while the root file system is mounted;
   attach then only waits. Does nothing when there is no helper or it has the pid. */
void rrun_network_attach_begin (RrunNetwork *net, pid_t container_pid);
/* The fds rrun holds for the helper (exit, pid, ready; -1 when none): the container's
   setup processes close their inherited copies, so only rrun's exit stops the helper. */
void rrun_network_get_setup_fds (const RrunNetwork *net, int out_fds[3]);

/* Stop the helper (its exit fd hangs up; SIGKILL after 2 s) and reap it. NULL is fine. */
void rrun_network_free (RrunNetwork *net);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunNetwork, rrun_network_free)

/* Stop the helper without waiting for its exit: hang up its exit fd and reap it only when
   it is gone already. For rrun's own teardown, where its exit (the kernel removes tap0)
   would cost milliseconds; the caller's process must end soon, or reap it. */
void rrun_network_detach (RrunNetwork *net);

/* The helper's pid (0 when none runs). */
pid_t rrun_network_get_helper_pid (const RrunNetwork *net);
/* The published ports with the host ports actually bound. */
const GArray *rrun_network_get_ports (const RrunNetwork *net);
/* "80/tcp -> 0.0.0.0:8080\n" lines, as `podman port` prints them. */
char *rrun_network_ports_text (const GArray *ports);
/* For `rrun port` from another process: ask the helper of the container whose run dir
   this is; NULL ports text "" when none are published. */
gboolean rrun_network_query_ports (const char *run_dir, GArray **out_ports, GError **error);

/* Find the helper: $RRUN_NET, then ../helpers/rrun-net beside the rrun binary (build
   tree), then RRUN_LIBEXECDIR/rrun-net. */
char *rrun_network_find_helper (GError **error);

void rrun_port_mapping_clear (RrunPortMapping *m);

G_END_DECLS
