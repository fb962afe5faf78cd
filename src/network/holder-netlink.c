/* The holder's links through rtnetlink (src/util/rtnl.c): lo up, a bridge per network
   with its gateway address, the containers' veths. */
#include "network/holder.h"
#include "network/netconf.h"
#include "error.h"
#include "util/fd.h"
#include "util/rtnl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/veth.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>

static int
bridge_add (int fd, const char *name)
{
  RrunNlReq req = { 0 };
  struct rtattr *info;

  req.nh.nlmsg_len = NLMSG_LENGTH (sizeof (struct ifinfomsg));
  req.nh.nlmsg_type = RTM_NEWLINK;
  req.nh.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  req.ifi.ifi_family = AF_UNSPEC;
  rrun_nl_add_attr (&req, IFLA_IFNAME, name, strlen (name) + 1);
  info = rrun_nl_add_attr (&req, IFLA_LINKINFO, NULL, 0);
  rrun_nl_add_attr (&req, IFLA_INFO_KIND, "bridge", strlen ("bridge"));
  rrun_nl_end_nest (&req, info);
  return rrun_nl_talk (fd, &req);
}

/* The holder's addresses and routes replace what a killed holder may have left. */
static int
addr_add (int fd, int ifindex, guint32 addr_host, guint prefix)
{
  guint32 addr = htonl (addr_host);

  return rrun_nl_addr_add (fd, ifindex, AF_INET, &addr, prefix, 0, NLM_F_REPLACE);
}

/* An IPv6 address, without duplicate address detection: the subnet is rrun's own, and an
   address still tentative (DAD takes a second or more) could not be bound or reached. */
static int
addr6_add (int fd, int ifindex, const guint8 addr[16], guint prefix)
{
  return rrun_nl_addr_add (fd, ifindex, AF_INET6, addr, prefix, IFA_F_NODAD, NLM_F_REPLACE);
}

static int
default_route_add (int fd, int ifindex, int family, const void *gw)
{
  return rrun_nl_default_route_add (fd, ifindex, family, gw, NLM_F_REPLACE);
}

static int link_del (int fd, int ifindex);

/* The bridges (rrunN) of networks removed since the holder made them: gone, so that their
   addresses no longer answer and a new network may take the name or the subnet. */
static gboolean
remove_stale_bridges (int fd, const GPtrArray *confs, GError **error)
{
  struct if_nameindex *all = if_nameindex ();

  if (all == NULL)
    return rrun_throw_errno (error, errno, "cannot list the holder's interfaces");
  for (struct if_nameindex *i = all; i->if_index != 0; i++)
    {
      gboolean wanted = FALSE;
      int r;

      if (!g_str_has_prefix (i->if_name, "rrun") || i->if_name[4] == '\0'
          || strspn (i->if_name + 4, "0123456789") != strlen (i->if_name + 4))
        continue;
      for (guint k = 0; k < confs->len && !wanted; k++)
        wanted = g_strcmp0 (((const RrunNetConf *) confs->pdata[k])->interface, i->if_name) == 0;
      if (!wanted && (r = link_del (fd, (int) i->if_index)) < 0 && r != -ENODEV)
        {
          rrun_throw_errno (error, -r, "cannot remove the bridge \"%s\" of a removed network",
                            i->if_name);
          if_freenameindex (all);
          return FALSE;
        }
    }
  if_freenameindex (all);
  return TRUE;
}

gboolean
rrun_net_holder_setup_links (const GPtrArray *confs, GError **error)
{
  rrun_autofd int fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  int r;

  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot open a netlink socket");
  r = rrun_nl_link_up (fd, (int) if_nametoindex ("lo"), 0, NULL);
  if (r < 0)
    return rrun_throw_errno (error, -r, "cannot bring lo up");
  if (!remove_stale_bridges (fd, confs, error))
    return FALSE;
  for (guint i = 0; i < confs->len; i++)
    {
      const RrunNetConf *c = g_ptr_array_index (confs, i);
      guint32 subnet = 0, gw = 0;
      guint prefix = 0;
      int ifindex;

      if (c->builtin || c->interface == NULL || c->gateway == NULL)
        continue;
      if (!rrun_netconf_parse_cidr (c->subnet, &subnet, &prefix, error))
        return FALSE;
      if (!rrun_netconf_parse_ip (c->gateway, &gw))
        return rrun_throw (error, RRUN_ERROR_CORRUPT, "network \"%s\": bad gateway \"%s\"",
                           c->name, c->gateway);
      r = bridge_add (fd, c->interface);
      if (r < 0 && r != -EEXIST)
        return rrun_throw_errno (error, -r, "cannot create the bridge \"%s\" of network \"%s\"",
                                 c->interface, c->name);
      ifindex = (int) if_nametoindex (c->interface);
      if (ifindex == 0)
        return rrun_throw_errno (error, errno, "cannot find the bridge \"%s\"", c->interface);
      r = addr_add (fd, ifindex, gw, prefix);
      if (r < 0 && r != -EEXIST)
        return rrun_throw_errno (error, -r, "cannot give the bridge \"%s\" the address %s",
                                 c->interface, c->gateway);
      if (c->ipv6)
        {
          guint8 net6[16], gw6[16];
          guint prefix6 = 0;

          if (!rrun_netconf_parse_cidr6 (c->subnet6, net6, &prefix6, error))
            return FALSE;
          if (!rrun_netconf_parse_ip6 (c->gateway6, gw6))
            return rrun_throw (error, RRUN_ERROR_CORRUPT, "network \"%s\": bad gateway \"%s\"",
                               c->name, c->gateway6);
          r = addr6_add (fd, ifindex, gw6, prefix6);
          if (r < 0 && r != -EEXIST)
            {
              rrun_throw_errno (error, -r, "cannot give the bridge \"%s\" the address %s",
                                c->interface, c->gateway6);
              if (r == -EAFNOSUPPORT || r == -EACCES)
                rrun_add_hint (error, "IPv6 is disabled on this host (ipv6.disable=1 or the "
                                      "sysctl net.ipv6.conf.default.disable_ipv6)");
              return FALSE;
            }
        }
      r = rrun_nl_link_up (fd, ifindex, 0, NULL);
      if (r < 0)
        return rrun_throw_errno (error, -r, "cannot bring the bridge \"%s\" up", c->interface);
    }
  return TRUE;
}

/* A veth pair: host_name here, enslaved to the bridge master (its index), and its peer
   peer_name made directly in the network namespace netns_fd with the address mac. Both
   with mtu. */
static int
veth_add (int fd, const char *host_name, int master, const char *peer_name, int netns_fd,
          const guint8 mac[6], guint mtu)
{
  RrunNlReq req = { 0 };
  struct rtattr *info, *data, *peer;
  struct ifinfomsg *pi;
  guint32 m = mtu;
  guint32 ns = (guint32) netns_fd;
  guint32 master_index = (guint32) master;

  req.nh.nlmsg_len = NLMSG_LENGTH (sizeof (struct ifinfomsg));
  req.nh.nlmsg_type = RTM_NEWLINK;
  req.nh.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  req.ifi.ifi_family = AF_UNSPEC;
  rrun_nl_add_attr (&req, IFLA_IFNAME, host_name, strlen (host_name) + 1);
  rrun_nl_add_attr (&req, IFLA_MTU, &m, sizeof m);
  rrun_nl_add_attr (&req, IFLA_MASTER, &master_index, sizeof master_index);
  info = rrun_nl_add_attr (&req, IFLA_LINKINFO, NULL, 0);
  rrun_nl_add_attr (&req, IFLA_INFO_KIND, "veth", strlen ("veth"));
  data = rrun_nl_add_attr (&req, IFLA_INFO_DATA, NULL, 0);
  peer = rrun_nl_add_attr (&req, VETH_INFO_PEER, NULL, 0);
  /* The peer's attributes follow an ifinfomsg of their own. */
  pi = (struct ifinfomsg *) ((char *) &req + req.nh.nlmsg_len);
  memset (pi, 0, sizeof *pi);
  pi->ifi_family = AF_UNSPEC;
  req.nh.nlmsg_len += NLMSG_ALIGN (sizeof *pi);
  rrun_nl_add_attr (&req, IFLA_IFNAME, peer_name, strlen (peer_name) + 1);
  rrun_nl_add_attr (&req, IFLA_NET_NS_FD, &ns, sizeof ns);
  rrun_nl_add_attr (&req, IFLA_MTU, &m, sizeof m);
  rrun_nl_add_attr (&req, IFLA_ADDRESS, mac, 6);
  rrun_nl_end_nest (&req, peer);
  rrun_nl_end_nest (&req, data);
  rrun_nl_end_nest (&req, info);
  return rrun_nl_talk (fd, &req);
}

static int
link_del (int fd, int ifindex)
{
  RrunNlReq req = { 0 };

  req.nh.nlmsg_len = NLMSG_LENGTH (sizeof (struct ifinfomsg));
  req.nh.nlmsg_type = RTM_DELLINK;
  req.ifi.ifi_family = AF_UNSPEC;
  req.ifi.ifi_index = ifindex;
  return rrun_nl_talk (fd, &req);
}

gboolean
rrun_net_holder_veth_add (const RrunNetLinkSpec *l, int ctr_netns_fd, GError **error)
{
  rrun_autofd int fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  int master, host, r;

  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot open a netlink socket");
  master = (int) if_nametoindex (l->bridge);
  if (master == 0)
    return rrun_throw_errno (error, errno, "cannot find the bridge \"%s\"", l->bridge);
  /* A veth of an earlier container with this name (its namespace is gone, or going). */
  host = (int) if_nametoindex (l->host_ifname);
  if (host > 0)
    link_del (fd, host);
  r = veth_add (fd, l->host_ifname, master, l->ifname, ctr_netns_fd, l->mac, l->mtu);
  if (r < 0)
    return rrun_throw_errno (error, -r, "cannot create the interface \"%s\" on \"%s\"",
                             l->ifname, l->bridge);
  host = (int) if_nametoindex (l->host_ifname);
  if (host == 0 || (r = rrun_nl_link_up (fd, host, 0, NULL)) < 0)
    return rrun_throw_errno (error, host == 0 ? errno : -r, "cannot bring \"%s\" up",
                             l->host_ifname);
  return TRUE;
}

gboolean
rrun_net_holder_veth_configure (const RrunNetLinkSpec *l, GError **error)
{
  rrun_autofd int fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  int index, r;

  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot open a netlink socket");
  index = (int) if_nametoindex (l->ifname);
  if (index == 0)
    return rrun_throw_errno (error, errno, "cannot find \"%s\" in the container", l->ifname);
  if ((r = addr_add (fd, index, l->ip, l->prefix)) < 0 && r != -EEXIST)
    return rrun_throw_errno (error, -r, "cannot give \"%s\" its address", l->ifname);
  if (l->has_ip6 && (r = addr6_add (fd, index, l->ip6, l->prefix6)) < 0 && r != -EEXIST)
    return rrun_throw_errno (error, -r, "cannot give \"%s\" its IPv6 address", l->ifname);
  if ((r = rrun_nl_link_up (fd, index, 0, NULL)) < 0)
    return rrun_throw_errno (error, -r, "cannot bring \"%s\" up", l->ifname);
  if (l->gateway != 0)
    {
      guint32 gw = htonl (l->gateway);

      if ((r = default_route_add (fd, index, AF_INET, &gw)) < 0)
        return rrun_throw_errno (error, -r, "cannot add the default route of \"%s\"",
                                 l->ifname);
    }
  if (l->has_gateway6 && (r = default_route_add (fd, index, AF_INET6, l->gateway6)) < 0)
    return rrun_throw_errno (error, -r, "cannot add the IPv6 default route of \"%s\"",
                             l->ifname);
  return TRUE;
}

gboolean
rrun_net_holder_link_delete (const char *ifname, GError **error)
{
  rrun_autofd int fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  int index, r;

  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot open a netlink socket");
  index = (int) if_nametoindex (ifname);
  if (index == 0)
    return TRUE; /* gone already */
  if ((r = link_del (fd, index)) < 0 && r != -ENODEV)
    return rrun_throw_errno (error, -r, "cannot remove \"%s\"", ifname);
  return TRUE;
}
