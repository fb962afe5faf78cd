/* User-defined network definitions: STORAGE/networks/NAME.json (network/netconf.h). */
#include "network/netconf.h"
#include "error.h"
#include "storage/lock.h"
#include "util/fd.h"
#include "util/path.h"
#include "util/sha256.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCK_FILE "lock"
/* podman's first automatic subnet for rootless networks; rrun takes 10.89.N.0/24 in order. */
#define AUTO_FIRST 0x0a590000u /* 10.89.0.0 */
/* The default network's link (rrun-net's slirp default). */
#define DEFAULT_SUBNET "10.0.2.0/24"
#define DEFAULT_GATEWAY "10.0.2.2"

void
rrun_netconf_free (RrunNetConf *c)
{
  if (c == NULL)
    return;
  g_free (c->name);
  g_free (c->id);
  g_free (c->driver);
  g_free (c->created);
  g_free (c->subnet);
  g_free (c->gateway);
  g_free (c->ip_range);
  g_free (c->interface);
  g_free (c->subnet6);
  g_free (c->gateway6);
  g_strfreev (c->labels);
  g_strfreev (c->options);
  g_free (c);
}

gboolean
rrun_netconf_name_valid (const char *name)
{
  if (name == NULL || !g_ascii_isalnum (name[0]) || strlen (name) > 128)
    return FALSE;
  for (const char *p = name + 1; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '.' && *p != '-')
      return FALSE;
  return TRUE;
}

const char *
rrun_netconf_kv (char *const *kv, const char *key)
{
  gsize n = strlen (key);

  for (guint i = 0; kv && kv[i]; i++)
    if (strncmp (kv[i], key, n) == 0 && kv[i][n] == '=')
      return kv[i] + n + 1;
  return NULL;
}

gboolean
rrun_netconf_parse_ip (const char *text, guint32 *out_addr)
{
  struct in_addr a;

  if (text == NULL || inet_pton (AF_INET, text, &a) != 1)
    return FALSE;
  *out_addr = ntohl (a.s_addr);
  return TRUE;
}

static guint32
mask_of (guint prefix)
{
  return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

static char *
ip_text (guint32 addr)
{
  struct in_addr a = { .s_addr = htonl (addr) };
  char buf[INET_ADDRSTRLEN];

  inet_ntop (AF_INET, &a, buf, sizeof buf);
  return g_strdup (buf);
}

static char *
cidr_text (guint32 addr, guint prefix)
{
  g_autofree char *ip = ip_text (addr);
  return g_strdup_printf ("%s/%u", ip, prefix);
}

gboolean
rrun_netconf_parse_cidr (const char *text, guint32 *out_addr, guint *out_prefix,
                         GError **error)
{
  const char *slash = text ? strchr (text, '/') : NULL;
  g_autofree char *ip = slash ? g_strndup (text, (gsize) (slash - text)) : NULL;
  guint32 addr;
  char *end;
  unsigned long prefix;

  if (slash == NULL || !rrun_netconf_parse_ip (ip, &addr) || !g_ascii_isdigit (slash[1]))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid subnet \"%s\": expected an IPv4 CIDR such as 10.90.0.0/24",
                       text ? text : "");
  errno = 0;
  prefix = strtoul (slash + 1, &end, 10);
  if (*end != '\0' || errno != 0 || prefix > 32)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid subnet \"%s\": the prefix length must be 0 to 32", text);
  if ((addr & ~mask_of ((guint) prefix)) != 0)
    {
      g_autofree char *want = cidr_text (addr & mask_of ((guint) prefix), (guint) prefix);
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "invalid subnet \"%s\": the address has bits set after the prefix", text);
      rrun_add_hint (error, "did you mean %s?", want);
      return FALSE;
    }
  *out_addr = addr;
  *out_prefix = (guint) prefix;
  return TRUE;
}

gboolean
rrun_netconf_overlaps (guint32 a, guint a_prefix, guint32 b, guint b_prefix)
{
  guint32 m = mask_of (MIN (a_prefix, b_prefix));
  return (a & m) == (b & m);
}

/* IPv6 */

gboolean
rrun_netconf_parse_ip6 (const char *text, guint8 out_addr[16])
{
  struct in6_addr a;

  if (text == NULL || inet_pton (AF_INET6, text, &a) != 1)
    return FALSE;
  memcpy (out_addr, &a, 16);
  return TRUE;
}

char *
rrun_netconf_ip6_text (const guint8 addr[16])
{
  char buf[INET6_ADDRSTRLEN];

  inet_ntop (AF_INET6, addr, buf, sizeof buf);
  return g_strdup (buf);
}

/* addr with the bits after prefix cleared (keep) or tested (whether any is set). */
static gboolean
host_bits6 (const guint8 addr[16], guint prefix, guint8 out_net[16])
{
  gboolean any = FALSE;

  for (guint i = 0; i < 16; i++)
    {
      guint bits = prefix >= (i + 1) * 8 ? 8 : prefix > i * 8 ? prefix - i * 8 : 0;
      guint8 m = bits == 0 ? 0 : (guint8) (0xff << (8 - bits));

      any = any || (addr[i] & ~m) != 0;
      out_net[i] = addr[i] & m;
    }
  return any;
}

gboolean
rrun_netconf_overlaps6 (const guint8 a[16], guint a_prefix, const guint8 b[16], guint b_prefix)
{
  guint8 x[16], y[16];
  guint p = MIN (a_prefix, b_prefix);

  host_bits6 (a, p, x);
  host_bits6 (b, p, y);
  return memcmp (x, y, 16) == 0;
}

gboolean
rrun_netconf_parse_cidr6 (const char *text, guint8 out_addr[16], guint *out_prefix,
                          GError **error)
{
  const char *slash = text ? strchr (text, '/') : NULL;
  g_autofree char *ip = slash ? g_strndup (text, (gsize) (slash - text)) : NULL;
  guint8 addr[16], net[16];
  guint64 prefix = 0;

  if (slash == NULL || !rrun_netconf_parse_ip6 (ip, addr))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid subnet \"%s\": expected an IPv6 CIDR such as fd00:1::/64",
                       text ? text : "");
  if (!g_ascii_string_to_unsigned (slash + 1, 10, 0, 128, &prefix, NULL))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid subnet \"%s\": the prefix length must be 0 to 128", text);
  if (host_bits6 (addr, (guint) prefix, net))
    {
      g_autofree char *want = rrun_netconf_ip6_text (net);

      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "invalid subnet \"%s\": the address has bits set after the prefix", text);
      rrun_add_hint (error, "did you mean %s/%u?", want, (guint) prefix);
      return FALSE;
    }
  memcpy (out_addr, addr, 16);
  *out_prefix = (guint) prefix;
  return TRUE;
}

/* Ranges no network may hold: they mean something else on every link. */
static const struct
{
  const char *what;
  guint8 net[2];
  guint prefix;
} reserved6[] = {
  { "multicast", { 0xff, 0x00 }, 8 },
  { "link-local", { 0xfe, 0x80 }, 10 },
  { "reserved (loopback, unspecified, IPv4-mapped)", { 0x00, 0x00 }, 8 },
};

/* An IPv6 subnet (--subnet with a colon): parsed, a usable size, not reserved. */
static gboolean
check_subnet6 (const char *text, guint8 out_net[16], guint *out_prefix, GError **error)
{
  if (!rrun_netconf_parse_cidr6 (text, out_net, out_prefix, error))
    return FALSE;
  if (*out_prefix < 16 || *out_prefix > 124)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid subnet \"%s\": the IPv6 prefix length must be 16 to 124 (room "
                       "for a gateway and containers)",
                       text);
  for (guint i = 0; i < G_N_ELEMENTS (reserved6); i++)
    {
      guint8 r[16] = { reserved6[i].net[0], reserved6[i].net[1] };

      if (rrun_netconf_overlaps6 (out_net, *out_prefix, r, reserved6[i].prefix))
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "invalid subnet \"%s\": its addresses are %s", text, reserved6[i].what);
          rrun_add_hint (error, "use a unique local subnet such as fd00:1::/64, or leave the "
                                "IPv6 --subnet out for one");
          return FALSE;
        }
    }
  return TRUE;
}

/* The IPv6 half of a request: subnet (given, or a unique local /64 from the id, RFC 4193's
   global ID) free of every other network's, and the gateway in it. */
static gboolean
check_ipv6 (const RrunNetConfRequest *req, const GPtrArray *existing, RrunNetConf *c,
            GError **error)
{
  guint8 net[16] = { 0 }, gw[16];
  guint prefix = 64;

  if (req->subnet6 != NULL)
    {
      if (!check_subnet6 (req->subnet6, net, &prefix, error))
        return FALSE;
    }
  else
    {
      g_autofree char *hash = req->id != NULL ? g_strdup (req->id)
                                              : rrun_sha256_data_hex (req->name,
                                                                      strlen (req->name));

      /* fdXX:XXXX:XXXX::/64, the 40 bits after fd from the id */
      net[0] = 0xfd;
      for (guint i = 0; i < 5; i++)
        {
          char two[3] = { hash[2 * i], hash[2 * i + 1], 0 };
          net[1 + i] = (guint8) g_ascii_strtoull (two, NULL, 16);
        }
    }
  /* rrun-net's IPv6 link (libslirp's fd00::/64) is the holder's tap0, as 10.0.2.0/24 is. */
  {
    static const guint8 slirp6[16] = { 0xfd };

    if (req->subnet6 == NULL && rrun_netconf_overlaps6 (net, prefix, slirp6, 64))
      net[7] = 1; /* an id beginning 0000000000: fd00:0:0:1::/64 */
    else if (rrun_netconf_overlaps6 (net, prefix, slirp6, 64))
      {
        rrun_throw (error, RRUN_ERROR_BUSY, "subnet %s overlaps rrun-net's IPv6 link (fd00::/64)",
                    req->subnet6);
        rrun_add_hint (error, "choose another IPv6 --subnet, or leave it out for a free one");
        return FALSE;
      }
  }
  /* The subnet must be free; an automatic one moves on to the next /64 (subnet ID). */
  for (guint tries = 0;; tries++)
    {
      const RrunNetConf *clash = NULL;

      for (guint i = 0; existing && i < existing->len && clash == NULL; i++)
        {
          const RrunNetConf *e = existing->pdata[i];
          guint8 en[16];
          guint ep;

          if (e->ipv6 && e->subnet6 != NULL && rrun_netconf_parse_cidr6 (e->subnet6, en, &ep, NULL)
              && rrun_netconf_overlaps6 (net, prefix, en, ep))
            clash = e;
        }
      if (clash == NULL)
        break;
      if (req->subnet6 != NULL)
        {
          g_autofree char *mine = rrun_netconf_ip6_text (net);

          rrun_throw (error, RRUN_ERROR_BUSY, "subnet %s/%u overlaps network \"%s\" (%s)", mine,
                      prefix, clash->name, clash->subnet6);
          rrun_add_hint (error, "choose another IPv6 --subnet, or leave it out for a free one");
          return FALSE;
        }
      if (tries == 0xffff)
        return rrun_throw (error, RRUN_ERROR_BUSY, "no free IPv6 subnet");
      net[7] = (guint8) (net[7] + 1);
      if (net[7] == 0)
        net[6] = (guint8) (net[6] + 1);
    }
  {
    g_autofree char *text = rrun_netconf_ip6_text (net);

    c->subnet6 = g_strdup_printf ("%s/%u", text, prefix);
  }
  if (req->gateway6 != NULL)
    {
      if (!rrun_netconf_parse_ip6 (req->gateway6, gw))
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid gateway \"%s\": expected an IP address", req->gateway6);
      if (!rrun_netconf_overlaps6 (gw, 128, net, prefix))
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "gateway %s is outside subnet %s",
                           req->gateway6, c->subnet6);
      if (memcmp (gw, net, 16) == 0)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "gateway %s is the subnet-router address of subnet %s",
                           req->gateway6, c->subnet6);
    }
  else
    {
      memcpy (gw, net, 16);
      gw[15] |= 1;
    }
  c->gateway6 = rrun_netconf_ip6_text (gw);
  c->ipv6 = TRUE;
  return TRUE;
}

/* An address of the subnet a container or gateway may have: not the network's own
   address, not the broadcast one. */
static gboolean
check_host_address (const char *what, const char *text, guint32 net, guint prefix,
                    const char *subnet, guint32 *out_addr, GError **error)
{
  guint32 addr, m = mask_of (prefix);

  if (!rrun_netconf_parse_ip (text, &addr))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid %s \"%s\": expected an IPv4 address", what, text);
  if ((addr & m) != net)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s %s is outside subnet %s", what,
                       text, subnet);
  if (addr == net || addr == (net | ~m))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "%s %s is the %s address of subnet %s", what, text,
                       addr == net ? "network" : "broadcast", subnet);
  *out_addr = addr;
  return TRUE;
}

static gboolean
check_driver (const char *driver, GError **error)
{
  if (driver == NULL || strcmp (driver, "bridge") == 0)
    return TRUE;
  if (strcmp (driver, "macvlan") == 0 || strcmp (driver, "ipvlan") == 0)
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                  "driver \"%s\" needs root: it attaches containers to a host interface, "
                  "which only CAP_NET_ADMIN in the host's network namespace may configure",
                  driver);
      rrun_add_hint (error, "use -d bridge (the default): containers on the network reach each "
                            "other by name and the outside through rrun-net; publish ports to "
                            "the host with -p");
      return FALSE;
    }
  rrun_throw (error, RRUN_ERROR_UNSUPPORTED, "driver \"%s\" is not available", driver);
  rrun_add_hint (error, "rrun has the bridge driver only (-d bridge)");
  return FALSE;
}

static gboolean
interface_name_valid (const char *name)
{
  gsize n = strlen (name);

  if (n == 0 || n > 15 || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '.' && *p != '-')
      return FALSE;
  return TRUE;
}

static gboolean
check_options (char **options, GError **error)
{
  for (guint i = 0; options && options[i]; i++)
    {
      const char *o = options[i], *eq = strchr (o, '=');
      g_autofree char *key = eq ? g_strndup (o, (gsize) (eq - o)) : g_strdup (o);
      const char *value = eq ? eq + 1 : "";

      if (strcmp (key, "mtu") == 0 || strcmp (key, "com.docker.network.driver.mtu") == 0)
        {
          char *end;
          unsigned long mtu = strtoul (value, &end, 10);
          if (*value == '\0' || *end != '\0' || mtu < 68 || mtu > 65520)
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               "invalid network option \"%s\": the MTU must be 68 to 65520", o);
        }
      else if (strcmp (key, "com.docker.network.bridge.name") == 0)
        {
          if (!interface_name_valid (value))
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               "invalid network option \"%s\": an interface name has 1 to "
                               "15 letters, digits, '_', '.' or '-'",
                               o);
        }
      else
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid network option \"%s\"", o);
          rrun_add_hint (error, "the bridge driver takes mtu=N (or "
                                "com.docker.network.driver.mtu=N) and "
                                "com.docker.network.bridge.name=NAME");
          return FALSE;
        }
    }
  return TRUE;
}

static const char *const reserved_names[] = { "bridge", "host", "none", "default", "slirp",
                                              "slirp4netns", "private", NULL };

gboolean
rrun_netconf_check (const RrunNetConfRequest *req, const GPtrArray *existing,
                    RrunNetConf **out_conf, GError **error)
{
  g_autoptr(RrunNetConf) c = g_new0 (RrunNetConf, 1);
  guint32 net = 0, gw = 0, lo, hi;
  guint prefix = 24;
  const char *ifname;

  if (!rrun_netconf_name_valid (req->name))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid network name \"%s\"",
                  req->name ? req->name : "");
      rrun_add_hint (error, "a network name is a letter or digit, then letters, digits, '_', "
                            "'.' or '-' (as with docker)");
      return FALSE;
    }
  if (g_strv_contains (reserved_names, req->name))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "network name \"%s\" is reserved for a built-in network mode",
                  req->name);
      rrun_add_hint (error, "choose another name");
      return FALSE;
    }
  if (!check_driver (req->driver, error) || !check_options (req->options, error))
    return FALSE;
  for (guint i = 0; req->labels && req->labels[i]; i++)
    if (req->labels[i][0] == '\0' || req->labels[i][0] == '=')
      return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                         "invalid label \"%s\": expected KEY=VALUE", req->labels[i]);
  for (guint i = 0; existing && i < existing->len; i++)
    {
      const RrunNetConf *e = existing->pdata[i];
      if (strcmp (e->name, req->name) == 0)
        return rrun_throw (error, RRUN_ERROR_BUSY, "network \"%s\" already exists", req->name);
    }
  if (!req->ipv6 && (req->subnet6 != NULL || req->gateway6 != NULL))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "an IPv6 %s needs --ipv6",
                  req->subnet6 ? "--subnet" : "--gateway");
      rrun_add_hint (error, "add --ipv6: rrun network create --ipv6 --subnet %s %s",
                     req->subnet6 ? req->subnet6 : "fd00:1::/64", req->name);
      return FALSE;
    }
  if (req->subnet6 == NULL && req->gateway6 != NULL)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "an IPv6 --gateway needs an IPv6 --subnet");
      rrun_add_hint (error, "for example: --subnet fd00:1::/64 --gateway fd00:1::1");
      return FALSE;
    }
  if (req->subnet == NULL && (req->gateway != NULL || req->ip_range != NULL))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s needs --subnet",
                  req->gateway ? "--gateway" : "--ip-range");
      rrun_add_hint (error, "for example: --subnet 10.90.0.0/24 --gateway 10.90.0.1");
      return FALSE;
    }
  if (req->subnet != NULL)
    {
      if (!rrun_netconf_parse_cidr (req->subnet, &net, &prefix, error))
        return FALSE;
      if (prefix > 30 || prefix < 8)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid subnet \"%s\": the prefix length must be 8 to 30 (room "
                           "for a gateway and containers)",
                           req->subnet);
    }
  /* The subnet must be free: every other network's, and the default network's link. */
  for (guint32 n = AUTO_FIRST;; n += 0x100)
    {
      const RrunNetConf *clash = NULL;
      guint32 try = req->subnet ? net : n;

      for (guint i = 0; existing && i < existing->len && clash == NULL; i++)
        {
          const RrunNetConf *e = existing->pdata[i];
          guint32 en;
          guint ep;
          if (rrun_netconf_parse_cidr (e->subnet, &en, &ep, NULL)
              && rrun_netconf_overlaps (try, prefix, en, ep))
            clash = e;
        }
      if (clash == NULL)
        {
          net = try;
          break;
        }
      if (req->subnet != NULL)
        {
          g_autofree char *mine = cidr_text (net, prefix);
          rrun_throw (error, RRUN_ERROR_BUSY, "subnet %s overlaps network \"%s\" (%s)", mine,
                      clash->name, clash->subnet);
          rrun_add_hint (error, "choose another --subnet, or leave it out for a free one");
          return FALSE;
        }
      if (n == 0x0a59ff00u)
        return rrun_throw (error, RRUN_ERROR_BUSY,
                           "no free subnet: 10.89.0.0/24 to 10.89.255.0/24 are all taken");
    }
  c->subnet = cidr_text (net, prefix);
  if (req->gateway != NULL)
    {
      if (!check_host_address ("gateway", req->gateway, net, prefix, c->subnet, &gw, error))
        return FALSE;
    }
  else
    gw = net + 1;
  c->gateway = ip_text (gw);
  if (req->ip_range != NULL)
    {
      guint32 rn;
      guint rp;
      if (!rrun_netconf_parse_cidr (req->ip_range, &rn, &rp, error))
        {
          g_prefix_error (error, "--ip-range: ");
          return FALSE;
        }
      if (rp < prefix || (rn & mask_of (prefix)) != net)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "ip range %s is outside subnet %s", req->ip_range, c->subnet);
      /* At least one address of the range is left for a container. */
      lo = MAX (rn, net + 1);
      hi = MIN (rn | ~mask_of (rp), (net | ~mask_of (prefix)) - 1);
      if (lo > hi || (lo == hi && lo == gw))
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "ip range %s leaves no address for a container", req->ip_range);
      c->ip_range = cidr_text (rn, rp);
    }
  if (req->ipv6 && !check_ipv6 (req, existing, c, error))
    return FALSE;
  c->name = g_strdup (req->name);
  c->driver = g_strdup ("bridge");
  c->internal = req->internal;
  c->labels = g_strdupv (req->labels ? req->labels : (char *[]){ NULL });
  c->options = g_strdupv (req->options ? req->options : (char *[]){ NULL });
  ifname = rrun_netconf_kv (c->options, "com.docker.network.bridge.name");
  if (ifname != NULL)
    {
      for (guint i = 0; existing && i < existing->len; i++)
        {
          const RrunNetConf *e = existing->pdata[i];
          if (g_strcmp0 (e->interface, ifname) == 0)
            return rrun_throw (error, RRUN_ERROR_BUSY,
                               "bridge name \"%s\" is taken by network \"%s\"", ifname,
                               e->name);
        }
      c->interface = g_strdup (ifname);
    }
  else
    for (guint k = 1; c->interface == NULL; k++)
      {
        g_autofree char *want = g_strdup_printf ("rrun%u", k);
        gboolean taken = FALSE;
        for (guint i = 0; existing && i < existing->len && !taken; i++)
          taken = g_strcmp0 (((const RrunNetConf *) existing->pdata[i])->interface, want) == 0;
        if (!taken)
          c->interface = g_steal_pointer (&want);
      }
  *out_conf = g_steal_pointer (&c);
  return TRUE;
}

/* JSON */

static void
add_kv_object (RrunJsonBuilder *b, const char *member, char **kv)
{
  rrun_json_builder_set_member_name (b, member);
  rrun_json_builder_begin_object (b);
  for (guint i = 0; kv && kv[i]; i++)
    {
      const char *eq = strchr (kv[i], '=');
      g_autofree char *key = eq ? g_strndup (kv[i], (gsize) (eq - kv[i])) : g_strdup (kv[i]);

      rrun_json_builder_member_string (b, key, eq ? eq + 1 : "");
    }
  rrun_json_builder_end_object (b);
}

static char **
kv_from_object (const RrunJson *o)
{
  GPtrArray *a = g_ptr_array_new ();

  for (guint i = 0; o && rrun_json_type (o) == RRUN_JSON_OBJECT && i < rrun_json_size (o); i++)
    {
      const char *value = rrun_json_string (rrun_json_element (o, i));
      g_ptr_array_add (a, g_strdup_printf ("%s=%s", rrun_json_member_name (o, i),
                                           value ? value : ""));
    }
  g_ptr_array_add (a, NULL);
  return (char **) g_ptr_array_free (a, FALSE);
}

void
rrun_netconf_to_json (const RrunNetConf *c, const RrunJson *containers, RrunJsonBuilder *b)
{
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "Name", c->name);
  rrun_json_builder_member_string (b, "Id", c->id);
  rrun_json_builder_member_string (b, "Created", c->created);
  rrun_json_builder_member_string (b, "Scope", "local");
  rrun_json_builder_member_string (b, "Driver", c->driver);
  rrun_json_builder_member_bool (b, "EnableIPv6", c->ipv6);
  rrun_json_builder_set_member_name (b, "IPAM");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "Driver", "default");
  rrun_json_builder_set_member_name (b, "Options");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_end_object (b);
  rrun_json_builder_set_member_name (b, "Config");
  rrun_json_builder_begin_array (b);
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "Subnet", c->subnet);
  if (c->ip_range != NULL)
    rrun_json_builder_member_string (b, "IPRange", c->ip_range);
  rrun_json_builder_member_string (b, "Gateway", c->gateway);
  rrun_json_builder_end_object (b);
  if (c->ipv6)
    {
      rrun_json_builder_begin_object (b);
      rrun_json_builder_member_string (b, "Subnet", c->subnet6);
      rrun_json_builder_member_string (b, "Gateway", c->gateway6);
      rrun_json_builder_end_object (b);
    }
  rrun_json_builder_end_array (b);
  rrun_json_builder_end_object (b);
  rrun_json_builder_member_bool (b, "Internal", c->internal);
  rrun_json_builder_member_bool (b, "Attachable", FALSE);
  rrun_json_builder_member_bool (b, "Ingress", FALSE);
  rrun_json_builder_set_member_name (b, "Containers");
  if (containers != NULL)
    rrun_json_builder_add_value (b, rrun_json_copy (containers));
  else
    {
      rrun_json_builder_begin_object (b);
      rrun_json_builder_end_object (b);
    }
  add_kv_object (b, "Options", c->options);
  add_kv_object (b, "Labels", c->labels);
  rrun_json_builder_member_string (b, "NetworkInterface", c->interface);
  rrun_json_builder_end_object (b);
}

static RrunNetConf *
default_conf (void)
{
  RrunNetConf *c = g_new0 (RrunNetConf, 1);

  c->name = g_strdup (RRUN_NETCONF_DEFAULT);
  /* A fixed id, as docker's default network has one per host. */
  c->id = rrun_sha256_data_hex ("rrun-network-bridge", strlen ("rrun-network-bridge"));
  c->driver = g_strdup ("bridge");
  c->created = g_strdup ("0001-01-01T00:00:00Z");
  c->subnet = g_strdup (DEFAULT_SUBNET);
  c->gateway = g_strdup (DEFAULT_GATEWAY);
  c->interface = g_strdup ("tap0");
  c->builtin = TRUE;
  c->labels = g_new0 (char *, 1);
  c->options = g_new0 (char *, 1);
  return c;
}

static char *
networks_dir (const RrunConfig *config)
{
  return g_build_filename (config->storage_root, "networks", NULL);
}

static gboolean
read_conf (const char *path, const char *name, RrunNetConf **out_conf, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(RrunJson) o = NULL;
  g_autoptr(RrunNetConf) c = g_new0 (RrunNetConf, 1);
  const RrunJson *cfg0;
  gsize len;

  if (!g_file_get_contents (path, &text, &len, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          rrun_throw (error, RRUN_ERROR_NOT_FOUND, "no such network \"%s\"", name);
          rrun_add_hint (error, "list networks with: rrun network ls");
          return FALSE;
        }
      return rrun_throw (error, RRUN_ERROR_FAILED, "cannot read network \"%s\": %s", name,
                         local->message);
    }
  o = rrun_json_parse (text, len, RRUN_JSON_DEFAULT, &local);
  cfg0 = o ? rrun_json_member (rrun_json_member (o, "IPAM"), "Config") : NULL;
  cfg0 = cfg0 && rrun_json_type (cfg0) == RRUN_JSON_ARRAY && rrun_json_size (cfg0) > 0
             ? rrun_json_element (cfg0, 0)
             : NULL;
  if (o == NULL || rrun_json_member_string (o, "Name") == NULL
      || rrun_json_member_string (o, "Id") == NULL || cfg0 == NULL
      || rrun_json_member_string (cfg0, "Subnet") == NULL
      || rrun_json_member_string (cfg0, "Gateway") == NULL
      || rrun_json_member_string (o, "NetworkInterface") == NULL)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot read network \"%s\": %s: %s", name,
                       path, local ? local->message : "Name, Id, IPAM.Config or "
                                                      "NetworkInterface missing");
  c->name = g_strdup (rrun_json_member_string (o, "Name"));
  c->id = g_strdup (rrun_json_member_string (o, "Id"));
  c->driver = g_strdup (rrun_json_member_string (o, "Driver"));
  if (c->driver == NULL)
    c->driver = g_strdup ("bridge");
  c->created = g_strdup (rrun_json_member_string (o, "Created"));
  if (c->created == NULL)
    c->created = g_strdup ("");
  c->subnet = g_strdup (rrun_json_member_string (cfg0, "Subnet"));
  c->gateway = g_strdup (rrun_json_member_string (cfg0, "Gateway"));
  c->ip_range = g_strdup (rrun_json_member_string (cfg0, "IPRange"));
  c->interface = g_strdup (rrun_json_member_string (o, "NetworkInterface"));
  c->internal = rrun_json_member (o, "Internal") != NULL
                && rrun_json_int (rrun_json_member (o, "Internal")) != 0;
  c->labels = kv_from_object (rrun_json_member (o, "Labels"));
  c->options = kv_from_object (rrun_json_member (o, "Options"));
  /* IPv6: the IPAM config whose subnet has a colon, when EnableIPv6 */
  if (rrun_json_member (o, "EnableIPv6") != NULL
      && rrun_json_int (rrun_json_member (o, "EnableIPv6")) != 0)
    {
      const RrunJson *cfgs = rrun_json_member (rrun_json_member (o, "IPAM"), "Config");

      for (guint i = 1; i < rrun_json_size (cfgs) && !c->ipv6; i++)
        {
          const RrunJson *e = rrun_json_element (cfgs, i);
          const char *sub = rrun_json_member_string (e, "Subnet");
          const char *gw = rrun_json_member_string (e, "Gateway");

          if (sub != NULL && gw != NULL && strchr (sub, ':') != NULL)
            {
              c->subnet6 = g_strdup (sub);
              c->gateway6 = g_strdup (gw);
              c->ipv6 = TRUE;
            }
        }
      if (!c->ipv6)
        return rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot read network \"%s\": %s: "
                           "EnableIPv6 without an IPv6 IPAM.Config", name, path);
    }
  *out_conf = g_steal_pointer (&c);
  return TRUE;
}

static gint
by_name (gconstpointer a, gconstpointer b)
{
  const RrunNetConf *x = *(RrunNetConf *const *) a, *y = *(RrunNetConf *const *) b;
  if (x->builtin != y->builtin)
    return x->builtin ? -1 : 1;
  return strcmp (x->name, y->name);
}

gboolean
rrun_netconf_list (const RrunConfig *config, GPtrArray **out_confs, GError **error)
{
  g_autoptr(GPtrArray) confs
      = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_netconf_free);
  g_autofree char *dir = networks_dir (config);
  g_autoptr(GDir) d = NULL;
  g_autoptr(GError) local = NULL;
  const char *entry;

  g_ptr_array_add (confs, default_conf ());
  d = g_dir_open (dir, 0, &local);
  if (d == NULL && !g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    return rrun_throw (error, RRUN_ERROR_FAILED, "cannot list networks: %s", local->message);
  while (d != NULL && (entry = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *name = NULL, *path = NULL;
      RrunNetConf *c = NULL;
      g_autoptr(GError) e = NULL;

      if (!g_str_has_suffix (entry, ".json") || entry[0] == '.')
        continue;
      name = g_strndup (entry, strlen (entry) - 5);
      path = g_build_filename (dir, entry, NULL);
      if (!rrun_netconf_name_valid (name) || !read_conf (path, name, &c, &e))
        continue; /* a file being written, or not ours */
      g_ptr_array_add (confs, c);
    }
  g_ptr_array_sort (confs, by_name);
  *out_confs = g_steal_pointer (&confs);
  return TRUE;
}

gboolean
rrun_netconf_lookup (const RrunConfig *config, const char *name_or_id, RrunNetConf **out_conf,
                     GError **error)
{
  g_autoptr(GPtrArray) all = NULL;
  const RrunNetConf *found = NULL;
  gsize n = strlen (name_or_id);
  guint matches = 0;

  if (!rrun_netconf_list (config, &all, error))
    return FALSE;
  for (guint i = 0; i < all->len; i++)
    {
      const RrunNetConf *c = all->pdata[i];
      if (strcmp (c->name, name_or_id) == 0)
        {
          *out_conf = g_ptr_array_steal_index (all, i);
          return TRUE;
        }
    }
  /* An id prefix: 3 hex characters at least, and unique. */
  for (guint i = 0; n >= 3 && i < all->len; i++)
    {
      const RrunNetConf *c = all->pdata[i];
      if (strncmp (c->id, name_or_id, n) == 0)
        found = c, matches++;
    }
  if (matches == 1)
    {
      for (guint i = 0; i < all->len; i++)
        if (all->pdata[i] == found)
          *out_conf = g_ptr_array_steal_index (all, i);
      return TRUE;
    }
  if (matches > 1)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "network id prefix \"%s\" is ambiguous: %u networks match", name_or_id,
                       matches);
  rrun_throw (error, RRUN_ERROR_NOT_FOUND, "no such network \"%s\"", name_or_id);
  rrun_add_hint (error, "list networks with: rrun network ls");
  return FALSE;
}

static char *
now_rfc3339 (void)
{
  g_autoptr(GDateTime) dt = g_date_time_new_now_local ();
  return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S.%f%:z");
}

/* The store's networks directory (made 0700) and its lock, held exclusively. */
static gboolean
lock_networks (const RrunConfig *config, int *out_fd, GError **error)
{
  g_autofree char *dir = networks_dir (config);
  g_autofree char *path = g_build_filename (dir, LOCK_FILE, NULL);
  int fd = -1;

  if (!rrun_path_mkdir_p (dir, 0700, error))
    return FALSE;
  if (!rrun_lock_open (AT_FDCWD, path, &fd, error))
    return FALSE;
  if (!rrun_lock_take (fd, TRUE, TRUE, "the network definitions", error))
    {
      close (fd);
      return FALSE;
    }
  *out_fd = fd;
  return TRUE;
}

gboolean
rrun_netconf_create (const RrunConfig *config, const RrunNetConfRequest *req, gboolean ignore,
                     gboolean *out_created, RrunNetConf **out_conf, GError **error)
{
  rrun_autofd int lock = -1;
  g_autoptr(GPtrArray) existing = NULL;
  g_autoptr(RrunNetConf) c = NULL;
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();
  g_autofree char *text = NULL, *path = NULL, *dir = networks_dir (config);

  if (!lock_networks (config, &lock, error) || !rrun_netconf_list (config, &existing, error))
    return FALSE;
  if (ignore)
    for (guint i = 0; i < existing->len; i++)
      if (strcmp (((RrunNetConf *) existing->pdata[i])->name, req->name) == 0)
        {
          *out_created = FALSE;
          *out_conf = g_ptr_array_steal_index (existing, i);
          return TRUE;
        }
  {
    g_autofree char *id = rrun_path_random_hex (32);
    RrunNetConfRequest with_id = *req;

    with_id.id = id;
    if (!rrun_netconf_check (&with_id, existing, &c, error))
      return FALSE;
    c->id = g_steal_pointer (&id);
  }
  c->created = now_rfc3339 ();
  rrun_netconf_to_json (c, NULL, b);
  text = rrun_json_builder_to_text (b, TRUE);
  path = g_strdup_printf ("%s/%s.json", dir, c->name);
  if (!rrun_path_write_atomic (path, text, strlen (text), 0600, error))
    {
      g_prefix_error (error, "cannot write \"%s\": ", path);
      return FALSE;
    }
  *out_created = TRUE;
  *out_conf = g_steal_pointer (&c);
  return TRUE;
}

gboolean
rrun_netconf_remove (const RrunConfig *config, const char *name, GError **error)
{
  rrun_autofd int lock = -1;
  g_autofree char *dir = networks_dir (config);
  g_autofree char *path = NULL;

  if (strcmp (name, RRUN_NETCONF_DEFAULT) == 0)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "cannot remove network \"%s\": it is the built-in default network", name);
      return FALSE;
    }
  if (!rrun_netconf_name_valid (name))
    {
      rrun_throw (error, RRUN_ERROR_NOT_FOUND, "no such network \"%s\"", name);
      rrun_add_hint (error, "list networks with: rrun network ls");
      return FALSE;
    }
  if (!lock_networks (config, &lock, error))
    return FALSE;
  path = g_strdup_printf ("%s/%s.json", dir, name);
  if (unlink (path) < 0)
    {
      if (errno == ENOENT)
        {
          rrun_throw (error, RRUN_ERROR_NOT_FOUND, "no such network \"%s\"", name);
          rrun_add_hint (error, "list networks with: rrun network ls");
          return FALSE;
        }
      return rrun_throw_errno (error, errno, "cannot remove network \"%s\"", name);
    }
  return TRUE;
}
