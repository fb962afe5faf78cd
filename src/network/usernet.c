/* Containers on user-defined networks: network/usernet.h. */
#include "network/usernet.h"
#include "network/dns.h"
#include "network/holder.h"
#include "network/netconf.h"
#include "container/record.h"
#include "error.h"
#include "log.h"
#include "storage/lock.h"
#include "util/fd.h"
#include "util/keyfile.h"
#include "util/path.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINK_GROUP "link"

void
rrun_usernet_link_free (RrunUserNetLink *l)
{
  if (l == NULL)
    return;
  g_free (l->network);
  g_free (l->network_id);
  g_free (l->ip);
  g_free (l->gateway);
  g_free (l->ip6);
  g_free (l->gateway6);
  g_free (l->bridge);
  g_free (l->ifname);
  g_free (l->host_ifname);
  g_free (l->mac);
  g_strfreev (l->aliases);
  g_free (l->cid);
  g_free (l->name);
  g_strfreev (l->dns);
  g_free (l);
}

static char *
ipam_dir (const RrunConfig *config, const char *network)
{
  return g_build_filename (config->run_root, "net-holder", "ipam", network, NULL);
}

static char *
hosts_dir (const RrunConfig *config)
{
  return g_build_filename (config->run_root, "net-holder", "hosts", NULL);
}

/* The network's lock, its directories made (0700). */
static gboolean
lock_network (const RrunConfig *config, const char *network, int *out_fd, GError **error)
{
  g_autofree char *dir = ipam_dir (config, network);
  g_autofree char *hosts = hosts_dir (config);
  g_autofree char *path = g_build_filename (dir, "lock", NULL);

  if (!rrun_config_ensure_run_root (config, error))
    return FALSE;
  if (g_mkdir_with_parents (dir, 0700) < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", dir);
  if (g_mkdir_with_parents (hosts, 0700) < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", hosts);
  return rrun_fd_lock_path (path, out_fd, error);
}

static RrunUserNetLink *
link_read (const char *path)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(RrunUserNetLink) l = g_new0 (RrunUserNetLink, 1);

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, NULL)
      || !rrun_key_file_check_escapes (kf, path, NULL))
    return NULL;
  l->network = g_key_file_get_string (kf, LINK_GROUP, "network", NULL);
  l->network_id = g_key_file_get_string (kf, LINK_GROUP, "network_id", NULL);
  l->ip = g_key_file_get_string (kf, LINK_GROUP, "ip", NULL);
  l->prefix = (guint) g_key_file_get_integer (kf, LINK_GROUP, "prefix", NULL);
  l->gateway = g_key_file_get_string (kf, LINK_GROUP, "gateway", NULL);
  l->internal = g_key_file_get_boolean (kf, LINK_GROUP, "internal", NULL);
  l->ip6 = g_key_file_get_string (kf, LINK_GROUP, "ip6", NULL);
  l->prefix6 = (guint) g_key_file_get_integer (kf, LINK_GROUP, "prefix6", NULL);
  l->gateway6 = g_key_file_get_string (kf, LINK_GROUP, "gateway6", NULL);
  if (l->ip6 != NULL && (l->gateway6 == NULL || l->prefix6 == 0 || l->prefix6 > 128))
    return NULL;
  l->bridge = g_key_file_get_string (kf, LINK_GROUP, "bridge", NULL);
  l->ifname = g_key_file_get_string (kf, LINK_GROUP, "ifname", NULL);
  l->host_ifname = g_key_file_get_string (kf, LINK_GROUP, "host_ifname", NULL);
  l->mac = g_key_file_get_string (kf, LINK_GROUP, "mac", NULL);
  l->aliases = g_key_file_get_string_list (kf, LINK_GROUP, "aliases", NULL, NULL);
  l->mtu = (guint) g_key_file_get_integer (kf, LINK_GROUP, "mtu", NULL);
  l->cid = g_key_file_get_string (kf, LINK_GROUP, "cid", NULL);
  l->name = g_key_file_get_string (kf, LINK_GROUP, "name", NULL);
  l->dns = g_key_file_get_string_list (kf, LINK_GROUP, "dns", NULL, NULL);
  if (l->network == NULL || l->ip == NULL || l->cid == NULL || l->ifname == NULL
      || l->bridge == NULL || l->host_ifname == NULL || l->mac == NULL)
    return NULL;
  if (l->aliases == NULL)
    l->aliases = g_new0 (char *, 1);
  if (l->dns == NULL)
    l->dns = g_new0 (char *, 1);
  return g_steal_pointer (&l);
}

static gboolean
link_write (const char *dir, const RrunUserNetLink *l, GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *path = g_build_filename (dir, l->ip, NULL);
  g_autofree char *text = NULL;

  g_key_file_set_string (kf, LINK_GROUP, "network", l->network);
  g_key_file_set_string (kf, LINK_GROUP, "network_id", l->network_id ? l->network_id : "");
  g_key_file_set_string (kf, LINK_GROUP, "ip", l->ip);
  g_key_file_set_integer (kf, LINK_GROUP, "prefix", (gint) l->prefix);
  g_key_file_set_string (kf, LINK_GROUP, "gateway", l->gateway ? l->gateway : "");
  g_key_file_set_boolean (kf, LINK_GROUP, "internal", l->internal);
  if (l->ip6 != NULL)
    {
      g_key_file_set_string (kf, LINK_GROUP, "ip6", l->ip6);
      g_key_file_set_integer (kf, LINK_GROUP, "prefix6", (gint) l->prefix6);
      g_key_file_set_string (kf, LINK_GROUP, "gateway6", l->gateway6);
    }
  g_key_file_set_string (kf, LINK_GROUP, "bridge", l->bridge);
  g_key_file_set_string (kf, LINK_GROUP, "ifname", l->ifname);
  g_key_file_set_string (kf, LINK_GROUP, "host_ifname", l->host_ifname);
  g_key_file_set_string (kf, LINK_GROUP, "mac", l->mac);
  g_key_file_set_string_list (kf, LINK_GROUP, "aliases", (const char *const *) l->aliases,
                              g_strv_length (l->aliases));
  g_key_file_set_integer (kf, LINK_GROUP, "mtu", (gint) l->mtu);
  g_key_file_set_string (kf, LINK_GROUP, "cid", l->cid);
  if (l->name != NULL)
    g_key_file_set_string (kf, LINK_GROUP, "name", l->name);
  if (l->dns != NULL && l->dns[0] != NULL)
    g_key_file_set_string_list (kf, LINK_GROUP, "dns", (const char *const *) l->dns,
                                g_strv_length (l->dns));
  text = g_key_file_to_data (kf, NULL, NULL);
  return rrun_path_write_atomic (path, text, strlen (text), 0600, error);
}

static gboolean
container_live (const RrunConfig *config, const char *cid)
{
  g_autofree char *dir = rrun_record_dir (config, cid);

  return rrun_lock_dir_is_held (dir);
}

/* The network's addresses (the lock held), stale ones removed. */
static GPtrArray *
read_links_locked (const RrunConfig *config, const char *network, gboolean *out_changed)
{
  g_autofree char *dir = ipam_dir (config, network);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  GPtrArray *links = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_usernet_link_free);
  const char *e;

  while (d != NULL && (e = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = NULL;
      RrunUserNetLink *l;

      if (strcmp (e, "lock") == 0 || g_str_has_suffix (e, ".tmp"))
        continue;
      path = g_build_filename (dir, e, NULL);
      l = link_read (path);
      if (l == NULL || !container_live (config, l->cid))
        {
          g_debug ("network %s: address %s is stale", network, e);
          unlink (path);
          rrun_usernet_link_free (l);
          if (out_changed != NULL)
            *out_changed = TRUE;
          continue;
        }
      g_ptr_array_add (links, l);
    }
  return links;
}

/* An IPv4 or IPv6 address and nothing else (what a link file says is checked before it
   goes into a hosts line). */
static gboolean
is_ip_literal (const char *text)
{
  guint8 buf[16];

  return inet_pton (AF_INET, text, buf) == 1 || inet_pton (AF_INET6, text, buf) == 1;
}

/* RUN_ROOT/net-holder/hosts/NET from the addresses (the lock held). */
static gboolean
write_hosts_locked (const RrunConfig *config, const char *network, const GPtrArray *links,
                    GError **error)
{
  g_autofree char *dir = hosts_dir (config);
  g_autofree char *path = g_build_filename (dir, network, NULL);
  g_autoptr(GString) out = g_string_new (NULL);

  /* A line per address: the IPv4 one, and the IPv6 one with the same names. */
  for (guint i = 0; i < links->len; i++)
    for (guint v6 = 0; v6 < 2; v6++)
      {
        const RrunUserNetLink *l = links->pdata[i];

        if (v6 && l->ip6 == NULL)
          continue;
        g_string_append (out, v6 ? l->ip6 : l->ip);
        if (l->name != NULL)
          g_string_append_printf (out, " %s", l->name);
        g_string_append_printf (out, " %s %.12s", l->cid, l->cid);
        for (guint j = 0; l->aliases[j] != NULL; j++)
          g_string_append_printf (out, " %s", l->aliases[j]);
        /* Its --dns servers (docker forwards a container's other names to them); the
           server reads at most RRUN_DNS_MAX_UPSTREAMS, IP literals only. */
        for (guint j = 0, n = 0; l->dns[j] != NULL && n < RRUN_DNS_MAX_UPSTREAMS; j++)
          if (is_ip_literal (l->dns[j]))
            g_string_append_printf (out, "%s%s", n++ == 0 ? " dns=" : ",", l->dns[j]);
        g_string_append_c (out, '\n');
      }
  return rrun_path_write_atomic (path, out->str, out->len, 0600, error);
}

static char *
ip_text (guint32 host_order)
{
  struct in_addr a = { .s_addr = htonl (host_order) };
  char buf[INET_ADDRSTRLEN];

  return g_strdup (inet_ntop (AF_INET, &a, buf, sizeof buf));
}

static guint
conf_mtu (const RrunNetConf *c)
{
  const char *v = rrun_netconf_kv (c->options, "mtu");
  guint64 n = 0;

  if (v == NULL)
    v = rrun_netconf_kv (c->options, "com.docker.network.driver.mtu");
  if (v != NULL && g_ascii_string_to_unsigned (v, 10, 68, 65535, &n, NULL))
    return (guint) n;
  return 1500;
}

/* Pick the address for a container on c (the lock held): want (checked) or the lowest free
   one of the ip range. */
/* The link among links that has address text (its IPv6 one with v6), or NULL. */
static const RrunUserNetLink *
link_with_address (const GPtrArray *links, gboolean v6, const char *text)
{
  for (guint i = 0; i < links->len; i++)
    {
      const RrunUserNetLink *l = links->pdata[i];

      if (g_strcmp0 (v6 ? l->ip6 : l->ip, text) == 0)
        return l;
    }
  return NULL;
}

static gboolean
pick_address (const RrunNetConf *c, const GPtrArray *links, const char *want, char **out_ip,
              guint *out_prefix, GError **error)
{
  guint32 net = 0, gw = 0, lo, hi, addr = 0;
  guint prefix = 0;

  if (!rrun_netconf_parse_cidr (c->subnet, &net, &prefix, error))
    return FALSE;
  rrun_netconf_parse_ip (c->gateway, &gw);
  lo = net + 1;
  hi = prefix >= 31 ? net + (prefix == 32 ? 0 : 1) : (net | (G_MAXUINT32 >> prefix)) - 1;
  if (want != NULL)
    {
      g_autofree char *text = NULL;
      const RrunUserNetLink *l;

      if (!rrun_netconf_parse_ip (want, &addr) || prefix == 0
          || (addr & ~(G_MAXUINT32 >> prefix)) != net || addr < lo || addr > hi)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "cannot use --ip %s: it is not a host address of network \"%s\" "
                           "(%s)", want, c->name, c->subnet);
      if (addr == gw)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "cannot use --ip %s: it is the gateway of network \"%s\"", want,
                           c->name);
      text = ip_text (addr);
      if ((l = link_with_address (links, FALSE, text)) != NULL)
        {
          rrun_throw (error, RRUN_ERROR_BUSY,
                      "cannot use --ip %s: container \"%s\" has it on network \"%s\"", want,
                      l->name ? l->name : l->cid, c->name);
          rrun_add_hint (error, "leave out --ip for a free address");
          return FALSE;
        }
      *out_ip = g_steal_pointer (&text);
      *out_prefix = prefix;
      return TRUE;
    }
  if (c->ip_range != NULL)
    {
      guint32 rn = 0;
      guint rp = 0;

      if (!rrun_netconf_parse_cidr (c->ip_range, &rn, &rp, error))
        return FALSE;
      lo = MAX (lo, rn);
      hi = MIN (hi, rp >= 32 ? rn : rn | (G_MAXUINT32 >> rp));
    }
  for (guint64 a = lo; a <= hi; a++)
    {
      g_autofree char *text = NULL;

      if ((guint32) a == gw)
        continue;
      text = ip_text ((guint32) a);
      if (link_with_address (links, FALSE, text) == NULL)
        {
          *out_ip = g_steal_pointer (&text);
          *out_prefix = prefix;
          return TRUE;
        }
    }
  rrun_throw (error, RRUN_ERROR_BUSY, "network \"%s\" has no free address (%s)", c->name,
              c->ip_range ? c->ip_range : c->subnet);
  rrun_add_hint (error, "remove a container from it, or create a network with a larger subnet");
  return FALSE;
}

/* Pick the IPv6 address for a container on c (the lock held): want (checked) or the lowest
   free one after the subnet-router address, the gateway skipped. */
static gboolean
pick_address6 (const RrunNetConf *c, const GPtrArray *links, const char *want, char **out_ip,
               guint *out_prefix, GError **error)
{
  guint8 net[16], gw[16], addr[16];
  guint prefix = 0;

  if (!c->ipv6)
    {
      if (want == NULL)
        return TRUE;
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "cannot use --ip6 %s: network \"%s\" has no IPv6", want, c->name);
      rrun_add_hint (error, "leave out --ip6, or use a network made with: rrun network create "
                            "--ipv6 NAME");
      return FALSE;
    }
  if (!rrun_netconf_parse_cidr6 (c->subnet6, net, &prefix, error)
      || !rrun_netconf_parse_ip6 (c->gateway6, gw))
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "network \"%s\": bad IPv6 subnet or gateway",
                       c->name);
  if (want != NULL)
    {
      g_autofree char *text = NULL;
      const RrunUserNetLink *l;

      if (!rrun_netconf_parse_ip6 (want, addr) || !rrun_netconf_overlaps6 (addr, 128, net, prefix)
          || memcmp (addr, net, 16) == 0)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "cannot use --ip6 %s: it is not a host address of network \"%s\" "
                           "(%s)", want, c->name, c->subnet6);
      if (memcmp (addr, gw, 16) == 0)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "cannot use --ip6 %s: it is the gateway of network \"%s\"", want,
                           c->name);
      text = rrun_netconf_ip6_text (addr);
      if ((l = link_with_address (links, TRUE, text)) != NULL)
        {
          rrun_throw (error, RRUN_ERROR_BUSY,
                      "cannot use --ip6 %s: container \"%s\" has it on network \"%s\"",
                      want, l->name ? l->name : l->cid, c->name);
          rrun_add_hint (error, "leave out --ip6 for a free address");
          return FALSE;
        }
      *out_ip = g_steal_pointer (&text);
      *out_prefix = prefix;
      return TRUE;
    }
  /* The host part counts up in the last 16 bits (a /124 has 15 addresses, a /64 plenty). */
  for (guint n = 1; n < (prefix >= 112 ? 1u << (128 - prefix) : 0x10000u); n++)
    {
      g_autofree char *text = NULL;

      memcpy (addr, net, 16);
      addr[14] = (guint8) (net[14] | (n >> 8));
      addr[15] = (guint8) (net[15] | (n & 0xff));
      if (memcmp (addr, gw, 16) == 0)
        continue;
      text = rrun_netconf_ip6_text (addr);
      if (link_with_address (links, TRUE, text) == NULL)
        {
          *out_ip = g_steal_pointer (&text);
          *out_prefix = prefix;
          return TRUE;
        }
    }
  rrun_throw (error, RRUN_ERROR_BUSY, "network \"%s\" has no free IPv6 address (%s)", c->name,
              c->subnet6);
  rrun_add_hint (error, "remove a container from it, or create a network with a larger subnet");
  return FALSE;
}

/* Take an address on network c for cid (under the network's lock): the link, written. */
static gboolean
take_address (const RrunConfig *config, const RrunNetConf *c, const char *cid,
              const char *name, const char *ifname, char **aliases, const char *want_ip,
              const char *want_ip6, const char *mac, char **dns, RrunUserNetLink **out,
              GError **error)
{
  g_autofree char *dir = ipam_dir (config, c->name);
  g_autoptr(GPtrArray) links = NULL;
  g_autoptr(RrunUserNetLink) l = g_new0 (RrunUserNetLink, 1);
  rrun_autofd int lock = -1;
  guint32 a = 0;
  guint idx = 0;

  if (!lock_network (config, c->name, &lock, error))
    return FALSE;
  links = read_links_locked (config, c->name, NULL);
  for (guint i = 0; i < links->len; i++)
    if (strcmp (((RrunUserNetLink *) links->pdata[i])->cid, cid) == 0)
      return rrun_throw (error, RRUN_ERROR_BUSY, "container \"%s\" is already on network \"%s\"",
                         name ? name : cid, c->name);
  if (!pick_address (c, links, want_ip, &l->ip, &l->prefix, error)
      || !pick_address6 (c, links, want_ip6, &l->ip6, &l->prefix6, error))
    return FALSE;
  if (l->ip6 != NULL)
    l->gateway6 = g_strdup (c->gateway6);
  l->network = g_strdup (c->name);
  l->network_id = g_strdup (c->id);
  l->gateway = g_strdup (c->gateway);
  l->internal = c->internal;
  l->bridge = g_strdup (c->interface);
  l->ifname = g_strdup (ifname);
  sscanf (ifname, "eth%u", &idx);
  l->host_ifname = g_strdup_printf ("rv%.8s%u", cid, idx);
  rrun_netconf_parse_ip (l->ip, &a);
  /* docker's MAC: 02:42 and the IPv4 address, unless --mac-address. */
  l->mac = mac != NULL ? g_ascii_strdown (mac, -1)
                       : g_strdup_printf ("02:42:%02x:%02x:%02x:%02x", a >> 24, (a >> 16) & 0xff,
                                          (a >> 8) & 0xff, a & 0xff);
  l->aliases = g_strdupv (aliases != NULL ? aliases : (char *[]){ NULL });
  l->mtu = conf_mtu (c);
  l->cid = g_strdup (cid);
  l->name = g_strdup (name);
  l->dns = g_strdupv (dns != NULL ? dns : (char *[]){ NULL });
  if (!link_write (dir, l, error))
    return FALSE;
  g_ptr_array_add (links, l);
  if (!write_hosts_locked (config, c->name, links, error))
    {
      g_autofree char *path = g_build_filename (dir, l->ip, NULL);

      unlink (path);
      g_ptr_array_steal_index (links, links->len - 1);
      return FALSE;
    }
  *out = g_ptr_array_steal_index (links, links->len - 1);
  l = NULL;
  return TRUE;
}

/* Give cid's address on network back (under its lock); whether it had one. */
static gboolean
give_back (const RrunConfig *config, const char *network, const char *cid)
{
  g_autofree char *dir = ipam_dir (config, network);
  g_autoptr(GPtrArray) links = NULL;
  g_autoptr(GError) local = NULL;
  rrun_autofd int lock = -1;
  gboolean changed = FALSE;

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR) || !lock_network (config, network, &lock, NULL))
    return FALSE;
  links = read_links_locked (config, network, &changed);
  for (guint i = links->len; i > 0; i--)
    {
      RrunUserNetLink *l = links->pdata[i - 1];

      if (cid != NULL && strcmp (l->cid, cid) == 0)
        {
          g_autofree char *path = g_build_filename (dir, l->ip, NULL);

          unlink (path);
          g_ptr_array_remove_index (links, i - 1);
          changed = TRUE;
        }
    }
  if (changed && !write_hosts_locked (config, network, links, &local))
    rrun_warning ("cannot update the names of network \"%s\": %s", network, local->message);
  return changed;
}

static GPtrArray *
network_names (const RrunConfig *config)
{
  g_autofree char *root = g_build_filename (config->run_root, "net-holder", "ipam", NULL);
  g_autoptr(GDir) d = g_dir_open (root, 0, NULL);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *e;

  while (d != NULL && (e = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (e));
  return names;
}

/* No address anywhere (stale ones given back): stop the holder. The holder's lock held. */
static void
stop_if_unused_held (const RrunConfig *config)
{
  g_autoptr(GPtrArray) names = network_names (config);

  for (guint i = 0; i < names->len; i++)
    {
      g_autoptr(GPtrArray) links = NULL;
      rrun_autofd int lock = -1;

      if (!lock_network (config, names->pdata[i], &lock, NULL))
        return;
      links = read_links_locked (config, names->pdata[i], NULL);
      if (links->len > 0)
        return;
    }
  if (rrun_net_holder_running (config) > 0)
    {
      g_debug ("no container on a user-defined network: stopping the holder");
      rrun_net_holder_stop_held (config);
    }
}

void
rrun_usernet_leave (const RrunConfig *config, const char *cid, const char *network)
{
  g_autoptr(GPtrArray) names = NULL;
  g_autofree char *root = g_build_filename (config->run_root, "net-holder", "ipam", NULL);
  rrun_autofd int lock = -1;

  if (!g_file_test (root, G_FILE_TEST_IS_DIR))
    return; /* no container was ever on a user-defined network */
  if (network != NULL)
    give_back (config, network, cid);
  else
    {
      names = network_names (config);
      for (guint i = 0; i < names->len; i++)
        give_back (config, names->pdata[i], cid);
    }
  if (rrun_net_holder_lock (config, &lock, NULL))
    stop_if_unused_held (config);
}

gboolean
rrun_usernet_list (const RrunConfig *config, const char *cid, const char *network,
                   GPtrArray **out_links, GError **error)
{
  g_autoptr(GPtrArray) names = NULL;
  g_autoptr(GPtrArray) all
      = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_usernet_link_free);

  if (network != NULL)
    {
      names = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (names, g_strdup (network));
    }
  else
    names = network_names (config);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *dir = ipam_dir (config, names->pdata[i]);
      g_autoptr(GPtrArray) links = NULL;
      rrun_autofd int lock = -1;
      gboolean changed = FALSE;

      if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
        continue;
      if (!lock_network (config, names->pdata[i], &lock, error))
        return FALSE;
      links = read_links_locked (config, names->pdata[i], &changed);
      if (changed)
        write_hosts_locked (config, names->pdata[i], links, NULL);
      for (guint j = 0; j < links->len; j++)
        {
          RrunUserNetLink *l = links->pdata[j];

          if (cid == NULL || strcmp (l->cid, cid) == 0)
            g_ptr_array_add (all, g_steal_pointer (&links->pdata[j]));
        }
    }
  *out_links = g_steal_pointer (&all);
  return TRUE;
}

/* Whether every link's bridge exists in the holder's network namespace (its
   /proc/PID/net/dev, readable by the namespace's owner). */
static gboolean
bridges_present (pid_t holder, const GPtrArray *links)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/net/dev", (int) holder);
  g_autofree char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  for (guint i = 0; i < links->len; i++)
    {
      g_autofree char *needle
          = g_strdup_printf (" %s:", ((RrunUserNetLink *) links->pdata[i])->bridge);
      g_autofree char *needle0
          = g_strdup_printf ("\n%s:", ((RrunUserNetLink *) links->pdata[i])->bridge);

      if (strstr (text, needle) == NULL && strstr (text, needle0) == NULL)
        return FALSE;
    }
  return TRUE;
}

gboolean
rrun_usernet_join (const RrunConfig *config, RrunNetworkOptions *opts, const char *cid,
                   const char *name, GPtrArray **out_links, pid_t *out_holder, GError **error)
{
  g_autoptr(GPtrArray) links
      = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_usernet_link_free);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  rrun_autofd int lock = -1;
  pid_t holder = 0;
  RrunUserNetLink *first;

  g_auto(GStrv) dns = g_new0 (char *, opts->dns_servers->len + 1);
  /* take_address wants a NULL-terminated list; a GPtrArray's pdata is not one. */
  g_auto(GStrv) aliases = g_new0 (char *, opts->aliases->len + 1);

  for (guint i = 0; i < opts->dns_servers->len; i++)
    dns[i] = g_strdup (opts->dns_servers->pdata[i]);
  for (guint i = 0; i < opts->aliases->len; i++)
    aliases[i] = g_strdup (opts->aliases->pdata[i]);
  /* Under the holder's lock: a last container leaving meanwhile cannot stop it. */
  if (!rrun_net_holder_lock (config, &lock, error))
    return FALSE;
  for (guint i = 0; i < opts->user_networks->len; i++)
    {
      g_autoptr(RrunNetConf) c = NULL;
      g_autofree char *ifname = g_strdup_printf ("eth%u", i);
      RrunUserNetLink *l = NULL;

      if (!rrun_netconf_lookup (config, opts->user_networks->pdata[i], &c, error)
          || !take_address (config, c, cid, name, ifname, aliases,
                            i == 0 ? opts->ip : NULL, i == 0 ? opts->ip6 : NULL,
                            i == 0 ? opts->mac : NULL, dns, &l, error))
        goto fail;
      g_ptr_array_add (links, l);
    }
  if (!rrun_net_holder_ensure_held (config, FALSE, &holder, error))
    goto fail;
  /* A network made since the holder started has no bridge there yet (nor rules, nor a
     DNS server on its gateway): sync it then, and only then. */
  if (!bridges_present (holder, links)
      && !rrun_net_holder_ensure_held (config, TRUE, &holder, error))
    goto fail;
  first = links->pdata[0];
  g_free (opts->user_ip);
  opts->user_ip = g_strdup (first->ip);
  g_free (opts->user_ip6);
  opts->user_ip6 = g_strdup (first->ip6);
  g_free (opts->user_dns);
  opts->user_dns = g_strdup (first->gateway);
  g_free (opts->user_gateway);
  opts->user_gateway = first->internal ? NULL : g_strdup (first->gateway);
  if (name != NULL)
    g_ptr_array_add (names, g_strdup (name));
  for (guint i = 0; i < opts->aliases->len; i++)
    g_ptr_array_add (names, g_strdup (opts->aliases->pdata[i]));
  g_ptr_array_add (names, NULL);
  g_strfreev (opts->user_names);
  opts->user_names = (char **) g_ptr_array_free (g_steal_pointer (&names), FALSE);
  *out_links = g_steal_pointer (&links);
  *out_holder = holder;
  return TRUE;

fail:
  for (guint i = 0; i < links->len; i++)
    give_back (config, ((RrunUserNetLink *) links->pdata[i])->network, cid);
  stop_if_unused_held (config);
  return FALSE;
}

/* "bridge,host_ifname,ifname,ip/prefix,gateway|-,mtu,mac,ip6/prefix6|-,gateway6|-" for
   net-attach. */
static char *
link_arg (const RrunUserNetLink *l, gboolean route)
{
  g_autofree char *ip6 = l->ip6 ? g_strdup_printf ("%s/%u", l->ip6, l->prefix6) : g_strdup ("-");

  return g_strdup_printf ("%s,%s,%s,%s/%u,%s,%u,%s,%s,%s", l->bridge, l->host_ifname, l->ifname,
                          l->ip, l->prefix,
                          route && !l->internal && l->gateway && *l->gateway ? l->gateway : "-",
                          l->mtu, l->mac, ip6,
                          route && !l->internal && l->ip6 && l->gateway6 ? l->gateway6 : "-");
}

static gboolean
run_internal (const RrunConfig *config, GPtrArray *args, GError **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *err = NULL;
  int status = 0;

  g_ptr_array_add (argv, g_strdup ("/proc/self/exe"));
  g_ptr_array_add (argv, g_strdup ("--root"));
  g_ptr_array_add (argv, g_strdup (config->storage_root));
  g_ptr_array_add (argv, g_strdup ("--runroot"));
  g_ptr_array_add (argv, g_strdup (config->run_root));
  g_ptr_array_add (argv, g_strdup ("__internal"));
  for (guint i = 0; i < args->len; i++)
    g_ptr_array_add (argv, g_strdup (args->pdata[i]));
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync ("/", (char **) argv->pdata, NULL,
                     G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_LEAVE_DESCRIPTORS_OPEN, NULL, NULL,
                     NULL, &err, &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, NULL))
    {
      const char *msg = err != NULL && *err ? g_strchomp (err) : "it failed";

      if (g_str_has_prefix (msg, "rrun: "))
        msg += strlen ("rrun: ");
      return rrun_throw (error, RRUN_ERROR_FAILED, "%s", msg);
    }
  return TRUE;
}

gboolean
rrun_usernet_attach (const RrunConfig *config, pid_t holder, const GPtrArray *links,
                     pid_t ctr_pid, GError **error)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  gboolean route = TRUE;

  g_ptr_array_add (args, g_strdup ("net-attach"));
  g_ptr_array_add (args, g_strdup_printf ("%d", (int) holder));
  g_ptr_array_add (args, g_strdup_printf ("%d", (int) ctr_pid));
  for (guint i = 0; i < links->len; i++)
    {
      const RrunUserNetLink *l = links->pdata[i];

      /* The default route through the first network that has one out. */
      g_ptr_array_add (args, link_arg (l, route));
      if (!l->internal)
        route = FALSE;
    }
  if (!run_internal (config, args, error))
    {
      g_prefix_error (error, "cannot connect the container to its network: ");
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_link_arg (const char *text, RrunNetLinkSpec *out, GError **error)
{
  g_auto(GStrv) f = g_strsplit (text, ",", -1);
  g_autofree char *ip = NULL;
  guint64 mtu = 0, prefix = 0;
  unsigned int mac[6];
  char *slash;

  memset (out, 0, sizeof *out);
  if (g_strv_length (f) != 9 || strlen (f[0]) >= 16 || strlen (f[1]) >= 16
      || strlen (f[2]) >= 16 || (slash = strchr (f[3], '/')) == NULL)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid link \"%s\"", text);
  strcpy (out->bridge, f[0]);
  strcpy (out->host_ifname, f[1]);
  strcpy (out->ifname, f[2]);
  ip = g_strndup (f[3], (gsize) (slash - f[3]));
  if (!rrun_netconf_parse_ip (ip, &out->ip)
      || !g_ascii_string_to_unsigned (slash + 1, 10, 1, 32, &prefix, NULL)
      || (strcmp (f[4], "-") != 0 && !rrun_netconf_parse_ip (f[4], &out->gateway))
      || !g_ascii_string_to_unsigned (f[5], 10, 68, 65535, &mtu, NULL)
      || sscanf (f[6], "%x:%x:%x:%x:%x:%x", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4],
                 &mac[5]) != 6)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid link \"%s\"", text);
  out->prefix = (guint) prefix;
  out->mtu = (guint) mtu;
  if (strcmp (f[7], "-") != 0)
    {
      g_autofree char *ip6 = NULL;

      slash = strchr (f[7], '/');
      ip6 = slash ? g_strndup (f[7], (gsize) (slash - f[7])) : NULL;
      if (slash == NULL || !rrun_netconf_parse_ip6 (ip6, out->ip6)
          || !g_ascii_string_to_unsigned (slash + 1, 10, 1, 128, &prefix, NULL)
          || (strcmp (f[8], "-") != 0 && !rrun_netconf_parse_ip6 (f[8], out->gateway6)))
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid link \"%s\"", text);
      out->has_ip6 = TRUE;
      out->prefix6 = (guint) prefix;
      out->has_gateway6 = strcmp (f[8], "-") != 0;
    }
  for (int i = 0; i < 6; i++)
    out->mac[i] = (guint8) mac[i];
  return TRUE;
}

/* Enter the holder's user and network namespaces; the container's network namespace
   (opened first: after setns /proc is read as another user) in *out_ctr_fd. */
static gboolean
enter_holder (const char *holder, const char *ctr, int *out_ctr_fd, GError **error)
{
  g_autofree char *user = g_strdup_printf ("/proc/%s/ns/user", holder);
  g_autofree char *net = g_strdup_printf ("/proc/%s/ns/net", holder);
  g_autofree char *ctr_net = g_strdup_printf ("/proc/%s/ns/net", ctr);
  g_autofree char *ctr_user = g_strdup_printf ("/proc/%s/ns/user", ctr);
  rrun_autofd int user_fd = open (user, O_RDONLY | O_CLOEXEC);
  rrun_autofd int net_fd = open (net, O_RDONLY | O_CLOEXEC);
  rrun_autofd int ctr_fd = open (ctr_net, O_RDONLY | O_CLOEXEC);
  struct stat a, b;

  if (user_fd < 0 || net_fd < 0)
    return rrun_throw_errno (error, errno, "cannot open the network holder's namespaces");
  if (ctr_fd < 0)
    return rrun_throw_errno (error, errno, "cannot open the container's network namespace");
  /* The container must be in the holder's user namespace (which owns its network one). */
  if (stat (ctr_user, &a) < 0 || fstat (user_fd, &b) < 0 || a.st_ino != b.st_ino
      || a.st_dev != b.st_dev)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "the container is not in the network holder's user namespace");
      rrun_add_hint (error, "only containers started with --network NET (a user-defined "
                            "network) can be connected: run it again with --network");
      return FALSE;
    }
  if (setns (user_fd, CLONE_NEWUSER) < 0 || setns (net_fd, CLONE_NEWNET) < 0)
    return rrun_throw_errno (error, errno, "cannot enter the network holder's namespaces");
  *out_ctr_fd = rrun_steal_fd (&ctr_fd);
  return TRUE;
}

gboolean
rrun_usernet_attach_main (const RrunConfig *config, int argc, char **argv, GError **error)
{
  g_autofree RrunNetLinkSpec *specs = NULL;
  rrun_autofd int ctr_fd = -1;
  int n = argc - 3;

  if (argc < 4)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "usage: rrun __internal net-attach HOLDER CONTAINER LINK...");
  specs = g_new0 (RrunNetLinkSpec, n);
  for (int i = 0; i < n; i++)
    if (!parse_link_arg (argv[3 + i], &specs[i], error))
      return FALSE;
  if (!enter_holder (argv[1], argv[2], &ctr_fd, error))
    return FALSE;
  for (int i = 0; i < n; i++)
    {
      if (!rrun_net_holder_veth_add (&specs[i], ctr_fd, error))
        return FALSE;
    }
  if (setns (ctr_fd, CLONE_NEWNET) < 0)
    return rrun_throw_errno (error, errno, "cannot enter the container's network namespace");
  for (int i = 0; i < n; i++)
    if (!rrun_net_holder_veth_configure (&specs[i], error))
      return FALSE;
  return TRUE;
}

gboolean
rrun_usernet_detach_main (const RrunConfig *config, int argc, char **argv, GError **error)
{
  rrun_autofd int ctr_fd = -1;

  (void) config;
  if (argc != 4)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "usage: rrun __internal net-detach HOLDER CONTAINER IFNAME");
  if (!enter_holder (argv[1], argv[2], &ctr_fd, error))
    return FALSE;
  if (setns (ctr_fd, CLONE_NEWNET) < 0)
    return rrun_throw_errno (error, errno, "cannot enter the container's network namespace");
  return rrun_net_holder_link_delete (argv[3], error);
}

/* A running container by name or id: its record and PID 1. */
static gboolean
find_running (const RrunConfig *config, const char *container, RrunState **out, GError **error)
{
  g_autoptr(RrunState) s = NULL;

  if (!rrun_state_find (config, container, &s, error))
    return FALSE;
  if (s->pid <= 0 || s->status != RRUN_STATUS_RUNNING)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "container \"%s\" is not running",
                       container);
  *out = g_steal_pointer (&s);
  return TRUE;
}

gboolean
rrun_usernet_connect (const RrunConfig *config, const char *network, const char *container,
                      char **aliases, const char *ip, const char *ip6, GError **error)
{
  g_autoptr(RrunState) s = NULL;
  g_autoptr(RrunNetConf) c = NULL;
  g_autoptr(GPtrArray) mine = NULL;
  g_autoptr(GPtrArray) one
      = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_usernet_link_free);
  g_autofree char *ifname = NULL;
  g_auto(GStrv) dns = NULL;
  RrunContainerSpec spec = { 0 };
  rrun_autofd int lock = -1;
  RrunUserNetLink *l = NULL;
  pid_t holder;
  guint idx = 0;

  if (!rrun_netconf_lookup (config, network, &c, error))
    return FALSE;
  if (c->builtin)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "network \"%s\" is the default per-container network: a running container "
                  "cannot join it", c->name);
      rrun_add_hint (error, "connect the container to a user-defined network (rrun network "
                            "create NET)");
      return FALSE;
    }
  if (!find_running (config, container, &s, error))
    return FALSE;
  if (!rrun_net_holder_lock (config, &lock, error))
    return FALSE;
  holder = rrun_net_holder_running (config);
  if (holder <= 0)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "container \"%s\" is not on a user-defined network", container);
      rrun_add_hint (error, "only containers started with --network NET can be connected: run "
                            "it again with --network %s", c->name);
      return FALSE;
    }
  if (!rrun_usernet_list (config, s->id, NULL, &mine, error))
    return FALSE;
  /* The next free ethN. */
  for (gboolean used = TRUE; used; idx++)
    {
      g_free (ifname);
      ifname = g_strdup_printf ("eth%u", idx);
      used = FALSE;
      for (guint i = 0; i < mine->len; i++)
        used = used || strcmp (((RrunUserNetLink *) mine->pdata[i])->ifname, ifname) == 0;
    }
  /* Its --dns servers go on with it: the new network's DNS server forwards there too. */
  if (rrun_state_read_spec (config, s->id, &spec, NULL))
    {
      dns = g_strdupv (spec.dns);
      rrun_container_spec_clear (&spec);
    }
  if (!take_address (config, c, s->id, s->name, ifname, aliases, ip, ip6, NULL, dns, &l,
                     error))
    return FALSE;
  g_ptr_array_add (one, l);
  if (!bridges_present (holder, one) && !rrun_net_holder_ensure_held (config, TRUE, &holder, error))
    {
      give_back (config, c->name, s->id);
      return FALSE;
    }
  if (!rrun_usernet_attach (config, holder, one, s->pid, error))
    {
      give_back (config, c->name, s->id);
      return FALSE;
    }
  return TRUE;
}

gboolean
rrun_usernet_disconnect (const RrunConfig *config, const char *network, const char *container,
                         gboolean force, GError **error)
{
  g_autoptr(RrunState) s = NULL;
  g_autoptr(RrunNetConf) c = NULL;
  g_autoptr(GPtrArray) mine = NULL;
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) local = NULL;
  const RrunUserNetLink *l = NULL;
  pid_t holder;

  if (!rrun_netconf_lookup (config, network, &c, error))
    return FALSE;
  if (!rrun_state_find_any (config, container, &s, error))
    return FALSE;
  if (!rrun_usernet_list (config, s->id, c->name, &mine, error))
    return FALSE;
  if (mine->len == 0)
    {
      if (force)
        return TRUE;
      return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                         "container \"%s\" is not connected to network \"%s\"", container,
                         c->name);
    }
  l = mine->pdata[0];
  holder = rrun_net_holder_running (config);
  if (holder > 0 && s->pid > 0)
    {
      g_ptr_array_add (args, g_strdup ("net-detach"));
      g_ptr_array_add (args, g_strdup_printf ("%d", (int) holder));
      g_ptr_array_add (args, g_strdup_printf ("%d", (int) s->pid));
      g_ptr_array_add (args, g_strdup (l->ifname));
      if (!run_internal (config, args, &local) && !force)
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local),
                                      "cannot disconnect \"%s\": ", container);
          return FALSE;
        }
    }
  /* A container that still runs keeps the holder, even on no network now: it lives in the
     holder's user namespace and can only be connected again through this holder. Its
     exit gives the holder up (rrun_usernet_leave). */
  if (s->live && s->pid > 0)
    give_back (config, c->name, s->id);
  else
    rrun_usernet_leave (config, s->id, c->name);
  return TRUE;
}

void
rrun_usernet_forget_network (const RrunConfig *config, const char *network)
{
  g_autofree char *ipam = ipam_dir (config, network);
  g_autofree char *hosts = hosts_dir (config);
  g_autofree char *hosts_file = g_build_filename (hosts, network, NULL);
  g_autoptr(GError) local = NULL;
  rrun_autofd int lock = -1;
  pid_t holder = 0;

  if (!rrun_net_holder_lock (config, &lock, &local))
    {
      rrun_warning ("%s", local->message);
      return;
    }
  if ((unlink (hosts_file) < 0 && errno != ENOENT) || !rrun_path_rm_rf (ipam, &local))
    {
      rrun_warning ("cannot remove the addresses of network \"%s\": %s", network,
                    local != NULL ? local->message : g_strerror (errno));
      g_clear_error (&local);
    }
  if (rrun_net_holder_running (config) > 0
      && !rrun_net_holder_ensure_held (config, TRUE, &holder, &local))
    rrun_warning ("%s", local->message);
}
