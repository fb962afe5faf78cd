/* The network holder's child and its sync (network/holder.h): the set-up inside the
   holder's namespaces (links, forwarding, the rules) and the DNS server. rrun-image's
   alone: the rules' libnftnl and libmnl stay out of `rrun`, whose every start would load
   them (docs/performance.md). */
#include "network/holder.h"
#include "network/dns.h"
#include "network/netconf.h"
#include "network/network.h"
#include "error.h"
#include "log.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

/* How long a sync waits for the DNS server to listen on a new network. */
#define DNS_RELOAD_TIMEOUT_US (2 * G_USEC_PER_SEC)

/* In the holder's namespaces: links, forwarding, rules. Idempotent. */
static gboolean
configure (const RrunConfig *config, GError **error)
{
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) confs = g_ptr_array_new ();

  if (!rrun_netconf_list (config, &all, error))
    return FALSE;
  for (guint i = 0; i < all->len; i++)
    if (!((RrunNetConf *) g_ptr_array_index (all, i))->builtin)
      g_ptr_array_add (confs, g_ptr_array_index (all, i));
  if (!rrun_net_holder_setup_links (confs, error))
    return FALSE;
  if (!g_file_set_contents ("/proc/sys/net/ipv4/ip_forward", "1\n", -1, NULL))
    {
      /* g_file_set_contents renames; a sysctl is written in place. */
      rrun_autofd int fd = open ("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);

      if (fd < 0 || write (fd, "1\n", 2) != 2)
        return rrun_throw_errno (error, errno, "cannot enable net.ipv4.ip_forward");
    }
  /* IPv6 is routed between networks too (and dropped by the rules where isolated), so a
     container's IPv6 default route ends here. A host without IPv6 has no such file. */
  for (guint i = 0; i < confs->len; i++)
    if (((RrunNetConf *) g_ptr_array_index (confs, i))->ipv6)
      {
        rrun_autofd int fd = open ("/proc/sys/net/ipv6/conf/all/forwarding", O_WRONLY | O_CLOEXEC);

        if (fd < 0 || write (fd, "1\n", 2) != 2)
          return rrun_throw_errno (error, errno, "cannot enable net.ipv6.conf.all.forwarding");
        break;
      }
  /* NAT and isolation rules through netlink (holder-nft.c) */
  return rrun_net_holder_load_rules (confs, error);
}

/* The DNS server (network/dns.h) runs in the holder's child, on each network's gateway. */
typedef struct
{
  const RrunConfig *config;
  guint generation;
} DnsContext;

/* "GATEWAY:53=NAME" for network c (its IPv6 gateway with v6: names resolve over both). */
static gboolean
add_listen (GPtrArray *listens, const RrunNetConf *c, gboolean v6, GError **error)
{
  g_autofree char *text = v6 ? g_strdup_printf ("[%s]:53=%s", c->gateway6, c->name)
                             : g_strdup_printf ("%s:53=%s", c->gateway, c->name);
  RrunDnsListen *l = rrun_dns_listen_parse (text, error);

  if (l == NULL)
    return FALSE;
  l->internal = c->internal;
  g_ptr_array_add (listens, l);
  return TRUE;
}

/* "GATEWAY:53=NAME" for each user-defined network. */
static GPtrArray *
dns_listens (const RrunConfig *config, GError **error)
{
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) listens = g_ptr_array_new_with_free_func (
      (GDestroyNotify) rrun_dns_listen_free);

  if (!rrun_netconf_list (config, &all, error))
    return NULL;
  for (guint i = 0; i < all->len; i++)
    {
      const RrunNetConf *c = g_ptr_array_index (all, i);

      if (c->builtin || c->gateway == NULL)
        continue;
      if (!add_listen (listens, c, FALSE, error)
          || (c->ipv6 && !add_listen (listens, c, TRUE, error)))
        return NULL;
    }
  return g_steal_pointer (&listens);
}

/* RUNROOT/net-holder/dns: "GENERATION" of the last (re)load, for the sync to wait on. */
static void
dns_write_generation (DnsContext *ctx)
{
  g_autofree char *dir = rrun_net_holder_dir (ctx->config);
  g_autofree char *path = g_build_filename (dir, "dns", NULL);
  g_autofree char *text = g_strdup_printf ("%u\n", ++ctx->generation);
  g_autoptr(GError) local = NULL;

  if (!g_file_set_contents (path, text, -1, &local))
    rrun_warning ("%s", local->message);
}

static void
dns_reload (RrunDnsServer *server, gpointer data)
{
  DnsContext *ctx = data;
  g_autoptr(GError) local = NULL;
  g_autoptr(GPtrArray) listens = dns_listens (ctx->config, &local);

  if (listens == NULL || !rrun_dns_server_set_listeners (server, listens, &local))
    rrun_warning ("DNS: %s", local->message);
  dns_write_generation (ctx);
}

/* A UDP socket in the current (the host's) network namespace, bound to its loopback: it
   can reach a server there and nothing else. -1 when it cannot be made (no IPv6). */
static int
host_loopback_socket (int family)
{
  struct sockaddr_storage ss = { 0 };
  socklen_t len;
  rrun_autofd int fd = socket (family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

  if (family == AF_INET)
    {
      struct sockaddr_in *sin = (struct sockaddr_in *) &ss;

      sin->sin_family = AF_INET;
      sin->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
      len = sizeof *sin;
    }
  else
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;

      sin6->sin6_family = AF_INET6;
      sin6->sin6_addr = in6addr_loopback;
      len = sizeof *sin6;
    }
  if (fd < 0 || bind (fd, (struct sockaddr *) &ss, len) < 0)
    {
      g_debug ("no host loopback socket for family %d: %s", family, g_strerror (errno));
      return -1;
    }
  return rrun_steal_fd (&fd);
}

static RrunDnsServer *
dns_start (DnsContext *ctx, int host4, int host6, GError **error)
{
  rrun_autofd int fd4 = host4; /* taken over: closed on failure */
  rrun_autofd int fd6 = host6;
  g_autofree char *dir = rrun_net_holder_dir (ctx->config);
  g_autofree char *hosts = g_build_filename (dir, "hosts", NULL);
  g_autofree char *up_ip = NULL, *guest = NULL, *gw = NULL, *up_text = NULL;
  g_autoptr(RrunNetworkOptions) opts = rrun_network_options_new (NULL, error);
  g_autoptr(RrunDnsServer) server = NULL;
  g_autoptr(GPtrArray) listens = NULL;
  g_autoptr(GError) local = NULL;
  struct sockaddr_storage up;
  socklen_t up_len = 0;

  /* The upstream: rrun-net's DNS forwarder on the holder's tap0 (the default slirp
     addresses, as rrun_net_holder_main starts it), which relays to the host's resolvers. */
  if (opts == NULL || !rrun_network_options_addresses (opts, &guest, &gw, &up_ip, error))
    return NULL;
  up_text = g_strdup_printf ("%s:53", up_ip);
  if (!rrun_dns_parse_address (up_text, 53, &up, &up_len, error))
    return NULL;
  server = rrun_dns_server_new (hosts, (struct sockaddr *) &up, up_len, error);
  if (server == NULL)
    return NULL;
  rrun_dns_server_set_host_sockets (server, rrun_steal_fd (&fd4), rrun_steal_fd (&fd6));
  listens = dns_listens (ctx->config, error);
  if (listens == NULL)
    return NULL;
  if (!rrun_dns_server_set_listeners (server, listens, &local))
    rrun_warning ("DNS: %s", local->message);
  dns_write_generation (ctx);
  return g_steal_pointer (&server);
}

static guint
dns_read_generation (const RrunConfig *config)
{
  g_autofree char *dir = rrun_net_holder_dir (config);
  g_autofree char *path = g_build_filename (dir, "dns", NULL);
  g_autofree char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  return (guint) g_ascii_strtoull (text, NULL, 10);
}

gboolean
rrun_net_holder_ns_main (const RrunConfig *config, int argc, char **argv, GError **error)
{
  g_autoptr(RrunDnsServer) dns = NULL;
  g_autoptr(GError) local = NULL;
  DnsContext ctx = { .config = config };
  rrun_autofd int host4 = -1;
  rrun_autofd int host6 = -1;
  pid_t parent;
  char one = '1';

  if (argc != 2)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "usage: rrun __internal net-holder-ns PARENT (fds 3: userns, 4: ready)");
  parent = (pid_t) g_ascii_strtoll (argv[1], NULL, 10);
  if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid () != parent)
    return rrun_throw (error, RRUN_ERROR_FAILED, "the network holder's parent is gone");
  if (setns (3, CLONE_NEWUSER) < 0)
    return rrun_throw_errno (error, errno, "cannot enter the holder's user namespace");
  close (3);
  /* Made before the namespace is left: a container's --dns server on the host's loopback
     is reached through them (network/dns.h). */
  host4 = host_loopback_socket (AF_INET);
  host6 = host_loopback_socket (AF_INET6);
  if (unshare (CLONE_NEWNET) < 0)
    return rrun_throw_errno (error, errno, "cannot create the holder's network namespace");
  if (!configure (config, error))
    return FALSE;
  dns = dns_start (&ctx, rrun_steal_fd (&host4), rrun_steal_fd (&host6), &local);
  if (dns == NULL)
    rrun_warning ("%s; user-defined networks have no DNS", local->message);
  if (write (4, &one, 1) != 1)
    return rrun_throw_errno (error, errno, "cannot tell the holder it is ready");
  close (4);
  if (dns != NULL && !rrun_dns_server_run (dns, dns_reload, &ctx, &local))
    rrun_warning ("the DNS server stopped: %s", local->message);
  for (;;)
    pause (); /* SIGKILL from the parent or its death */
  return TRUE;
}

gboolean
rrun_net_holder_sync_main (const RrunConfig *config, int argc, char **argv, GError **error)
{
  g_autofree char *user = NULL;
  g_autofree char *net = NULL;
  rrun_autofd int user_fd = -1;
  rrun_autofd int net_fd = -1;
  guint generation;

  if (argc != 2)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "usage: rrun __internal net-holder-sync PID");
  user = g_strdup_printf ("/proc/%s/ns/user", argv[1]);
  net = g_strdup_printf ("/proc/%s/ns/net", argv[1]);
  user_fd = open (user, O_RDONLY | O_CLOEXEC);
  net_fd = open (net, O_RDONLY | O_CLOEXEC);
  if (user_fd < 0 || net_fd < 0)
    return rrun_throw_errno (error, errno, "cannot open the holder's namespaces");
  if (setns (user_fd, CLONE_NEWUSER) < 0 || setns (net_fd, CLONE_NEWNET) < 0)
    return rrun_throw_errno (error, errno, "cannot enter the holder's namespaces");
  if (!configure (config, error))
    return FALSE;
  /* The DNS server listens on the networks made since: SIGHUP has it list them again; it
     writes a new generation once it has (bounded: a holder without DNS still routes). */
  generation = dns_read_generation (config);
  if (kill ((pid_t) g_ascii_strtoll (argv[1], NULL, 10), SIGHUP) < 0)
    return rrun_throw_errno (error, errno, "cannot signal the network holder");
  for (gint64 end = g_get_monotonic_time () + DNS_RELOAD_TIMEOUT_US;
       dns_read_generation (config) == generation && g_get_monotonic_time () < end;)
    g_usleep (2000);
  return TRUE;
}

