/* Small rtnetlink requests (links, addresses, default routes) over a plain NETLINK_ROUTE
   socket: the network holder's bridges and veths (src/network/holder-netlink.c) and
   rrun-net's tap0 (helpers/net-netlink.c). Requests are small and fixed, so no library. */
#pragma once

#include <glib.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

G_BEGIN_DECLS

typedef struct
{
  struct nlmsghdr nh;
  union
  {
    struct ifinfomsg ifi;
    struct ifaddrmsg ifa;
    struct rtmsg rtm;
  };
  char attrs[512];
} RrunNlReq;

/* Zero req and start a request of type with flags (NLM_F_CREATE...) and the body's size. */
void rrun_nl_init (RrunNlReq *req, guint16 type, guint16 flags, gsize body_size);
/* Append an attribute (a nest when data is NULL and len 0: close it with
   rrun_nl_end_nest); aborts if req is full (a programming error: requests are fixed). */
struct rtattr *rrun_nl_add_attr (RrunNlReq *req, unsigned short type, const void *data,
                                 gsize len);
void rrun_nl_end_nest (RrunNlReq *req, struct rtattr *nest);
/* Send req and wait for its ack: 0 or -errno (the kernel's, from the ack). */
int rrun_nl_talk (int fd, RrunNlReq *req);

/* The link up, with an MTU (0: unchanged) and a MAC (NULL: unchanged). */
int rrun_nl_link_up (int fd, int ifindex, guint mtu, const guint8 *mac);
/* An address (4 or 16 bytes, network order) of family; ifa_flags: IFA_F_NODAD...;
   nl_flags: NLM_F_EXCL or NLM_F_REPLACE. */
int rrun_nl_addr_add (int fd, int ifindex, int family, const void *addr, guint prefix,
                      guint8 ifa_flags, guint16 nl_flags);
/* A default route through gw (4 or 16 bytes, network order) on ifindex. */
int rrun_nl_default_route_add (int fd, int ifindex, int family, const void *gw,
                               guint16 nl_flags);

G_END_DECLS
