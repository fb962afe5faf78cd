/* Configure tap0 and lo through rtnetlink, inside the container's network namespace
   (called by the namespace child after setns). */
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct
{
  struct nlmsghdr nh;
  union
  {
    struct ifinfomsg ifi;
    struct ifaddrmsg ifa;
    struct rtmsg rt;
  };
  char attrs[256];
} NlReq;

static void
add_attr (NlReq *req, unsigned short type, const void *data, size_t len)
{
  struct rtattr *rta = (struct rtattr *) ((char *) req + NLMSG_ALIGN (req->nh.nlmsg_len));

  rta->rta_type = type;
  rta->rta_len = RTA_LENGTH (len);
  memcpy (RTA_DATA (rta), data, len);
  req->nh.nlmsg_len = NLMSG_ALIGN (req->nh.nlmsg_len) + RTA_ALIGN (rta->rta_len);
}

/* Send one request and wait for its ack; the kernel's errno comes back in the ack. */
static int
nl_talk (int fd, NlReq *req)
{
  static guint32 seq;
  char buf[4096];
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
  ssize_t n;

  req->nh.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  req->nh.nlmsg_seq = ++seq;
  if (sendto (fd, req, req->nh.nlmsg_len, 0, (struct sockaddr *) &sa, sizeof sa) < 0)
    return -errno;
  for (;;)
    {
      n = recv (fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -errno;
      for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK (h, (size_t) n);
           h = NLMSG_NEXT (h, n))
        {
          if (h->nlmsg_seq != req->nh.nlmsg_seq)
            continue;
          if (h->nlmsg_type == NLMSG_ERROR)
            return ((struct nlmsgerr *) NLMSG_DATA (h))->error;
        }
    }
}

static int
link_set (int fd, int ifindex, guint mtu, const guint8 *mac)
{
  NlReq req = { 0 };

  req.nh.nlmsg_len = NLMSG_LENGTH (sizeof (struct ifinfomsg));
  req.nh.nlmsg_type = RTM_NEWLINK;
  req.ifi.ifi_family = AF_UNSPEC;
  req.ifi.ifi_index = ifindex;
  req.ifi.ifi_flags = IFF_UP;
  req.ifi.ifi_change = IFF_UP;
  if (mtu > 0)
    {
      guint32 m = mtu;
      add_attr (&req, IFLA_MTU, &m, sizeof m);
    }
  if (mac != NULL)
    add_attr (&req, IFLA_ADDRESS, mac, 6);
  return nl_talk (fd, &req);
}

static int
addr_add4 (int fd, int ifindex, struct in_addr addr, guint prefix_len)
{
  NlReq req = { 0 };

  req.nh.nlmsg_len = NLMSG_LENGTH (sizeof (struct ifaddrmsg));
  req.nh.nlmsg_type = RTM_NEWADDR;
  req.nh.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  req.ifa.ifa_family = AF_INET;
  req.ifa.ifa_prefixlen = prefix_len;
  req.ifa.ifa_index = ifindex;
  add_attr (&req, IFA_LOCAL, &addr, sizeof addr);
  add_attr (&req, IFA_ADDRESS, &addr, sizeof addr);
  return nl_talk (fd, &req);
}

static int
route_default4 (int fd, int ifindex, struct in_addr gw)
{
  NlReq req = { 0 };
  guint32 oif = ifindex;

  req.nh.nlmsg_len = NLMSG_LENGTH (sizeof (struct rtmsg));
  req.nh.nlmsg_type = RTM_NEWROUTE;
  req.nh.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  req.rt.rtm_family = AF_INET;
  req.rt.rtm_table = RT_TABLE_MAIN;
  req.rt.rtm_protocol = RTPROT_BOOT;
  req.rt.rtm_scope = RT_SCOPE_UNIVERSE;
  req.rt.rtm_type = RTN_UNICAST;
  add_attr (&req, RTA_GATEWAY, &gw, sizeof gw);
  add_attr (&req, RTA_OIF, &oif, sizeof oif);
  return nl_talk (fd, &req);
}

static void
write_proc (const char *path, const char *value)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);

  if (fd < 0)
    return;
  (void) !write (fd, value, strlen (value));
  close (fd);
}

gboolean
net_netlink_configure (const char *ifname, const NetConfig *cfg, GError **error)
{
  int fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  int ifindex, r;
  gboolean ok = FALSE;

  if (fd < 0)
    return net_throw_errno (error, errno, "cannot open a netlink socket");
  ifindex = (int) if_nametoindex (ifname);
  if (ifindex == 0)
    {
      net_throw_errno (error, errno, "cannot find \"%s\"", ifname);
      goto out;
    }
  /* Best effort: without DAD the SLAAC address from libslirp's router advertisement is
     usable at once; with IPv6 off the link keeps no address at all. */
  {
    g_autofree char *p = g_strdup_printf ("/proc/sys/net/ipv6/conf/%s/accept_dad", ifname);
    g_autofree char *q = g_strdup_printf ("/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
    write_proc (p, "0");
    write_proc (q, cfg->ipv6 ? "0" : "1");
  }
  if ((r = link_set (fd, ifindex, cfg->mtu, cfg->mac)) < 0)
    {
      net_throw_errno (error, -r, "cannot set up \"%s\" (mtu %u)", ifname, cfg->mtu);
      goto out;
    }
  if ((r = addr_add4 (fd, ifindex, cfg->guest, cfg->prefix_len)) < 0)
    {
      net_throw_errno (error, -r, "cannot add an address to \"%s\"", ifname);
      goto out;
    }
  if ((r = route_default4 (fd, ifindex, cfg->host)) < 0)
    {
      net_throw_errno (error, -r, "cannot add the default route");
      goto out;
    }
  if ((r = link_set (fd, (int) if_nametoindex ("lo"), 0, NULL)) < 0)
    {
      net_throw_errno (error, -r, "cannot set up \"lo\"");
      goto out;
    }
  ok = TRUE;
out:
  close (fd);
  return ok;
}
