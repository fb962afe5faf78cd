/* Configure tap0 and lo through rtnetlink (src/util/rtnl.c), inside the container's
   network namespace (called by the namespace child after setns). */
#include "net.h"
#include "util/rtnl.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
  if ((r = rrun_nl_link_up (fd, ifindex, cfg->mtu, cfg->mac)) < 0)
    {
      net_throw_errno (error, -r, "cannot set up \"%s\" (mtu %u)", ifname, cfg->mtu);
      goto out;
    }
  if ((r = rrun_nl_addr_add (fd, ifindex, AF_INET, &cfg->guest, cfg->prefix_len, 0,
                             NLM_F_EXCL)) < 0)
    {
      net_throw_errno (error, -r, "cannot add an address to \"%s\"", ifname);
      goto out;
    }
  if ((r = rrun_nl_default_route_add (fd, ifindex, AF_INET, &cfg->host, NLM_F_EXCL)) < 0)
    {
      net_throw_errno (error, -r, "cannot add the default route");
      goto out;
    }
  if ((r = rrun_nl_link_up (fd, (int) if_nametoindex ("lo"), 0, NULL)) < 0)
    {
      net_throw_errno (error, -r, "cannot set up \"lo\"");
      goto out;
    }
  ok = TRUE;
out:
  close (fd);
  return ok;
}
