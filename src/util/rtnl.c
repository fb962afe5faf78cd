/* See rtnl.h. */
#include "util/rtnl.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

void
rrun_nl_init (RrunNlReq *req, guint16 type, guint16 flags, gsize body_size)
{
  memset (req, 0, sizeof *req);
  req->nh.nlmsg_len = NLMSG_LENGTH (body_size);
  req->nh.nlmsg_type = type;
  req->nh.nlmsg_flags = flags;
}

struct rtattr *
rrun_nl_add_attr (RrunNlReq *req, unsigned short type, const void *data, gsize len)
{
  struct rtattr *rta = (struct rtattr *) ((char *) req + NLMSG_ALIGN (req->nh.nlmsg_len));

  g_assert (NLMSG_ALIGN (req->nh.nlmsg_len) + RTA_SPACE (len) <= sizeof *req);
  rta->rta_type = type;
  rta->rta_len = RTA_LENGTH (len);
  if (len > 0)
    memcpy (RTA_DATA (rta), data, len);
  req->nh.nlmsg_len = NLMSG_ALIGN (req->nh.nlmsg_len) + RTA_ALIGN (rta->rta_len);
  return rta;
}

void
rrun_nl_end_nest (RrunNlReq *req, struct rtattr *nest)
{
  nest->rta_len = (unsigned short) ((char *) req + req->nh.nlmsg_len - (char *) nest);
}

int
rrun_nl_talk (int fd, RrunNlReq *req)
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
        if (h->nlmsg_seq == req->nh.nlmsg_seq && h->nlmsg_type == NLMSG_ERROR)
          return ((struct nlmsgerr *) NLMSG_DATA (h))->error;
    }
}

int
rrun_nl_link_up (int fd, int ifindex, guint mtu, const guint8 *mac)
{
  RrunNlReq req;

  rrun_nl_init (&req, RTM_NEWLINK, 0, sizeof (struct ifinfomsg));
  req.ifi.ifi_family = AF_UNSPEC;
  req.ifi.ifi_index = ifindex;
  req.ifi.ifi_flags = IFF_UP;
  req.ifi.ifi_change = IFF_UP;
  if (mtu > 0)
    {
      guint32 m = mtu;

      rrun_nl_add_attr (&req, IFLA_MTU, &m, sizeof m);
    }
  if (mac != NULL)
    rrun_nl_add_attr (&req, IFLA_ADDRESS, mac, 6);
  return rrun_nl_talk (fd, &req);
}

int
rrun_nl_addr_add (int fd, int ifindex, int family, const void *addr, guint prefix,
                  guint8 ifa_flags, guint16 nl_flags)
{
  RrunNlReq req;
  gsize len = family == AF_INET6 ? 16 : 4;

  rrun_nl_init (&req, RTM_NEWADDR, NLM_F_CREATE | nl_flags, sizeof (struct ifaddrmsg));
  req.ifa.ifa_family = (unsigned char) family;
  req.ifa.ifa_prefixlen = (unsigned char) prefix;
  req.ifa.ifa_flags = ifa_flags;
  req.ifa.ifa_index = (unsigned) ifindex;
  rrun_nl_add_attr (&req, IFA_LOCAL, addr, len);
  rrun_nl_add_attr (&req, IFA_ADDRESS, addr, len);
  return rrun_nl_talk (fd, &req);
}

int
rrun_nl_default_route_add (int fd, int ifindex, int family, const void *gw, guint16 nl_flags)
{
  RrunNlReq req;
  guint32 oif = (guint32) ifindex;

  rrun_nl_init (&req, RTM_NEWROUTE, NLM_F_CREATE | nl_flags, sizeof (struct rtmsg));
  req.rtm.rtm_family = (unsigned char) family;
  req.rtm.rtm_table = RT_TABLE_MAIN;
  req.rtm.rtm_protocol = RTPROT_BOOT;
  req.rtm.rtm_scope = RT_SCOPE_UNIVERSE;
  req.rtm.rtm_type = RTN_UNICAST;
  rrun_nl_add_attr (&req, RTA_GATEWAY, gw, family == AF_INET6 ? 16 : 4);
  rrun_nl_add_attr (&req, RTA_OIF, &oif, sizeof oif);
  return rrun_nl_talk (fd, &req);
}
