/* --network, -p, -P, --dns*, --add-host, and the text of the container's resolv.conf,
   hosts and hostname files. Pure logic: unit-tested in tests/unit/test-network.c. */
#include "network/network.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

#define DEFAULT_CIDR "10.0.2.0/24"
#define DEFAULT_MTU 65520

void
rrun_port_mapping_clear (RrunPortMapping *m)
{
  g_clear_pointer (&m->host_ip, g_free);
}

static void
host_entry_clear (RrunHostEntry *h)
{
  g_clear_pointer (&h->name, g_free);
  g_clear_pointer (&h->ip, g_free);
}

RrunNetworkOptions *
rrun_network_options_new (const RrunConfig *config, GError **error)
{
  g_autoptr (RrunNetworkOptions) opts = g_new0 (RrunNetworkOptions, 1);

  opts->mode = RRUN_NETWORK_SLIRP;
  opts->cidr = g_strdup (DEFAULT_CIDR);
  opts->mtu = DEFAULT_MTU;
  opts->tcp_mss = -1;
  opts->enable_ipv6 = -1;
  opts->ports = g_array_new (FALSE, TRUE, sizeof (RrunPortMapping));
  g_array_set_clear_func (opts->ports, (GDestroyNotify) rrun_port_mapping_clear);
  opts->hosts = g_array_new (FALSE, TRUE, sizeof (RrunHostEntry));
  g_array_set_clear_func (opts->hosts, (GDestroyNotify) host_entry_clear);
  opts->dns_servers = g_ptr_array_new_with_free_func (g_free);
  opts->dns_search = g_ptr_array_new_with_free_func (g_free);
  opts->dns_options = g_ptr_array_new_with_free_func (g_free);
  opts->user_networks = g_ptr_array_new_with_free_func (g_free);
  opts->aliases = g_ptr_array_new_with_free_func (g_free);
  if (config != NULL)
    {
      opts->allow_host_loopback = config->allow_host_loopback;
      opts->dns_upstream = g_strdup (config->dns_upstream);
      if (config->network != NULL && *config->network != '\0'
          && !rrun_network_options_set_mode (opts, config->network, error))
        {
          g_prefix_error (error, "rrun.conf [network] default: ");
          return NULL;
        }
    }
  return g_steal_pointer (&opts);
}

void
rrun_network_options_free (RrunNetworkOptions *opts)
{
  if (opts == NULL)
    return;
  g_free (opts->ns_path);
  g_free (opts->container);
  g_free (opts->cidr);
  g_free (opts->dns_upstream);
  g_free (opts->mac);
  g_array_unref (opts->ports);
  g_array_unref (opts->hosts);
  g_ptr_array_unref (opts->dns_servers);
  g_ptr_array_unref (opts->dns_search);
  g_ptr_array_unref (opts->dns_options);
  g_ptr_array_unref (opts->user_networks);
  g_ptr_array_unref (opts->aliases);
  g_free (opts->ip);
  g_free (opts->ip6);
  g_free (opts->user_ip);
  g_free (opts->user_ip6);
  g_free (opts->user_gateway);
  g_free (opts->user_dns);
  g_strfreev (opts->user_names);
  g_free (opts);
}

static gboolean
parse_bool (const char *key, const char *value, gboolean *out, GError **error)
{
  if (g_str_equal (value, "true"))
    *out = TRUE;
  else if (g_str_equal (value, "false"))
    *out = FALSE;
  else
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --network option \"%s=%s\": expected true or false", key, value);
  return TRUE;
}

static gboolean
parse_cidr (const char *text, guint32 *out_net, guint *out_len)
{
  g_auto (GStrv) parts = g_strsplit (text, "/", 2);
  struct in_addr a;
  guint64 len;

  if (g_strv_length (parts) != 2 || inet_pton (AF_INET, parts[0], &a) != 1
      || !g_ascii_string_to_unsigned (parts[1], 10, 8, 25, &len, NULL))
    return FALSE;
  *out_len = (guint) len;
  *out_net = ntohl (a.s_addr) & (~0u << (32 - len));
  return TRUE;
}

/* XX:XX:XX:XX:XX:XX, unicast (the group bit of the first byte clear), not all zero. */
static gboolean
valid_mac (const char *text)
{
  unsigned int b[6];
  char extra;

  return sscanf (text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
                 &extra)
             == 6
         && strlen (text) == 17 && (b[0] & 1) == 0
         && (b[0] | b[1] | b[2] | b[3] | b[4] | b[5]) != 0;
}

static gboolean
valid_ip (const char *text)
{
  guint8 buf[16];

  return inet_pton (AF_INET, text, buf) == 1 || inet_pton (AF_INET6, text, buf) == 1;
}

/* IP, IP:PORT, [IPv6]:PORT: the forms rrun-net's --dns-upstream takes. */
static gboolean
valid_upstream (const char *text)
{
  g_autofree char *host = NULL;
  const char *port = NULL;
  guint64 p;

  if (text[0] == '[')
    {
      const char *end = strchr (text, ']');
      if (end == NULL || (end[1] != '\0' && end[1] != ':'))
        return FALSE;
      host = g_strndup (text + 1, (gsize) (end - text - 1));
      port = end[1] == ':' ? end + 2 : NULL;
    }
  else if (strchr (text, ':') != NULL && strchr (text, ':') == strrchr (text, ':'))
    {
      host = g_strndup (text, (gsize) (strchr (text, ':') - text));
      port = strchr (text, ':') + 1;
    }
  else
    host = g_strdup (text);
  if (port != NULL && !g_ascii_string_to_unsigned (port, 10, 1, 65535, &p, NULL))
    return FALSE;
  return valid_ip (host);
}

static gboolean
set_slirp_option (RrunNetworkOptions *opts, const char *kv, GError **error)
{
  const char *eq = strchr (kv, '=');
  g_autofree char *key = NULL;
  const char *value;

  if (eq == NULL)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --network option \"%s\": expected key=value", kv);
  key = g_strndup (kv, (gsize) (eq - kv));
  value = eq + 1;
  if (g_str_equal (key, "cidr"))
    {
      guint32 net;
      guint len;

      if (!parse_cidr (value, &net, &len))
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid --network option \"cidr=%s\": expected A.B.C.D/N with N "
                           "from 8 to 25",
                           value);
      g_free (opts->cidr);
      opts->cidr = g_strdup (value);
    }
  else if (g_str_equal (key, "mtu"))
    {
      guint64 mtu;

      if (!g_ascii_string_to_unsigned (value, 10, 1280, 65520, &mtu, NULL))
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid --network option \"mtu=%s\": expected 1280 to 65520", value);
      opts->mtu = (guint) mtu;
    }
  else if (g_str_equal (key, "tcp_mss"))
    {
      guint64 mss;

      if (!g_ascii_string_to_unsigned (value, 10, 0, 65480, &mss, NULL)
          || (mss != 0 && mss < 536))
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid --network option \"tcp_mss=%s\": expected 0 (no clamp) or "
                           "536 to 65480",
                           value);
      opts->tcp_mss = (int) mss;
    }
  else if (g_str_equal (key, "enable_ipv6"))
    {
      gboolean b = FALSE;

      if (!parse_bool (key, value, &b, error))
        return FALSE;
      opts->enable_ipv6 = b ? 1 : 0;
    }
  else if (g_str_equal (key, "allow_host_loopback"))
    return parse_bool (key, value, &opts->allow_host_loopback, error);
  else if (g_str_equal (key, "dns_upstream"))
    {
      if (!valid_upstream (value))
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid --network option \"dns_upstream=%s\": expected IP, IP:PORT "
                           "or [IPv6]:PORT",
                           value);
      g_free (opts->dns_upstream);
      opts->dns_upstream = g_strdup (value);
    }
  else if (g_str_equal (key, "mac"))
    {
      if (!valid_mac (value))
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid --network option \"mac=%s\": expected a unicast, "
                           "non-zero XX:XX:XX:XX:XX:XX",
                           value);
      g_free (opts->mac);
      opts->mac = g_strdup (value);
    }
  else
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "unknown --network option \"%s\"", key);
      rrun_add_hint (error, "slirp takes cidr, mtu, tcp_mss, enable_ipv6, "
                            "allow_host_loopback, dns_upstream and mac");
      return FALSE;
    }
  return TRUE;
}

gboolean
rrun_network_options_set_mode (RrunNetworkOptions *opts, const char *text, GError **error)
{
  if (g_str_equal (text, "none"))
    opts->mode = RRUN_NETWORK_NONE;
  else if (g_str_equal (text, "host"))
    opts->mode = RRUN_NETWORK_HOST;
  else if (g_str_has_prefix (text, "ns:"))
    {
      const char *path = text + 3;

      if (!g_path_is_absolute (path))
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid --network \"%s\": the namespace path must be absolute",
                           text);
      opts->mode = RRUN_NETWORK_NS;
      g_free (opts->ns_path);
      opts->ns_path = g_strdup (path);
    }
  else if (g_str_has_prefix (text, "container:"))
    {
      const char *what = text + strlen ("container:");

      if (*what == '\0')
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "invalid --network \"%s\": no container named", text);
          rrun_add_hint (error, "use --network container:NAME or container:ID (see rrun ps)");
          return FALSE;
        }
      opts->mode = RRUN_NETWORK_CONTAINER;
      g_free (opts->container);
      opts->container = g_strdup (what);
    }
  else if (g_str_equal (text, "slirp") || g_str_equal (text, "slirp4netns")
           || g_str_equal (text, "bridge") || g_str_equal (text, "default")
           || g_str_has_prefix (text, "slirp:") || g_str_has_prefix (text, "slirp4netns:"))
    {
      const char *colon = strchr (text, ':');

      opts->mode = RRUN_NETWORK_SLIRP;
      if (colon != NULL)
        {
          g_auto (GStrv) kvs = g_strsplit (colon + 1, ",", -1);

          for (guint i = 0; kvs[i] != NULL; i++)
            if (*kvs[i] != '\0' && !set_slirp_option (opts, kvs[i], error))
              return FALSE;
        }
    }
  else
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid --network \"%s\"", text);
      rrun_add_hint (error, "use slirp[:key=value,...] (or bridge, docker's name for it), none, "
                            "host, container:NAME or ns:/proc/PID/ns/net");
      return FALSE;
    }
  return TRUE;
}

static gboolean valid_hostname (const char *name);

void
rrun_network_options_set_user (RrunNetworkOptions *opts, char **names)
{
  opts->mode = RRUN_NETWORK_USER;
  g_ptr_array_set_size (opts->user_networks, 0);
  for (guint i = 0; names[i] != NULL; i++)
    g_ptr_array_add (opts->user_networks, g_strdup (names[i]));
}

gboolean
rrun_network_options_add_alias (RrunNetworkOptions *opts, const char *alias, GError **error)
{
  if (!valid_hostname (alias))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --network-alias \"%s\": expected a host name", alias);
  g_ptr_array_add (opts->aliases, g_strdup (alias));
  return TRUE;
}

gboolean
rrun_network_options_set_ip (RrunNetworkOptions *opts, const char *ip, GError **error)
{
  struct in_addr a;

  if (inet_pton (AF_INET, ip, &a) != 1)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --ip \"%s\": expected an IPv4 address", ip);
  g_free (opts->ip);
  opts->ip = g_strdup (ip);
  return TRUE;
}

gboolean
rrun_network_options_set_ip6 (RrunNetworkOptions *opts, const char *ip6, GError **error)
{
  struct in6_addr a;
  char buf[INET6_ADDRSTRLEN];

  if (strchr (ip6, ':') == NULL || inet_pton (AF_INET6, ip6, &a) != 1)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --ip6 \"%s\": expected an IPv6 address", ip6);
  g_free (opts->ip6);
  opts->ip6 = g_strdup (inet_ntop (AF_INET6, &a, buf, sizeof buf));
  return TRUE;
}

gboolean
rrun_network_options_needs_netns (const RrunNetworkOptions *opts)
{
  return opts->mode == RRUN_NETWORK_SLIRP || opts->mode == RRUN_NETWORK_NONE
         || opts->mode == RRUN_NETWORK_USER;
}

gboolean
rrun_network_options_joins (const RrunNetworkOptions *opts)
{
  return opts->mode == RRUN_NETWORK_NS || opts->mode == RRUN_NETWORK_CONTAINER;
}

gboolean
rrun_network_options_set_mac (RrunNetworkOptions *opts, const char *mac, GError **error)
{
  if (!valid_mac (mac))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid --mac-address \"%s\": expected "
                  "a unicast, non-zero XX:XX:XX:XX:XX:XX", mac);
      rrun_add_hint (error, "the first byte must be even, e.g. 02:42:ac:11:00:02");
      return FALSE;
    }
  g_free (opts->mac);
  opts->mac = g_strdup (mac);
  return TRUE;
}

static const char *
mode_text (const RrunNetworkOptions *opts)
{
  switch (opts->mode)
    {
    case RRUN_NETWORK_NONE: return "none";
    case RRUN_NETWORK_HOST: return "host";
    case RRUN_NETWORK_NS: return "ns:";
    case RRUN_NETWORK_CONTAINER: return "container:";
    case RRUN_NETWORK_USER: return "";
    default: return "slirp";
    }
}

static gboolean
conflict (GError **error, const char *option, const RrunNetworkOptions *opts, const char *why)
{
  const char *arg = opts->mode == RRUN_NETWORK_NS ? opts->ns_path
                    : opts->mode == RRUN_NETWORK_CONTAINER ? opts->container
                    : opts->mode == RRUN_NETWORK_USER ? (const char *) opts->user_networks->pdata[0]
                                                        : "";

  rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "cannot use %s with --network %s%s: %s",
              option, mode_text (opts), arg, why);
  return FALSE;
}

gboolean
rrun_network_options_check (const RrunNetworkOptions *opts, gboolean hostname_given,
                            GError **error)
{
  if (opts->mode != RRUN_NETWORK_USER
      && (opts->aliases->len > 0 || opts->ip != NULL || opts->ip6 != NULL))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "cannot use %s with --network %s: only user-defined networks have them",
                  opts->ip != NULL    ? "--ip"
                  : opts->ip6 != NULL ? "--ip6"
                                      : "--network-alias",
                  mode_text (opts));
      rrun_add_hint (error, "create a network (rrun network create NET) and run with "
                            "--network NET");
      return FALSE;
    }
  if (opts->mode == RRUN_NETWORK_SLIRP)
    return TRUE;
  if (opts->mode == RRUN_NETWORK_USER)
    {
      if ((opts->ip != NULL || opts->ip6 != NULL) && opts->user_networks->len > 1)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "cannot use %s with more than one network: it is the address on "
                      "the first, and each network needs its own",
                      opts->ip != NULL ? "--ip" : "--ip6");
          rrun_add_hint (error, "run with one --network, then: rrun network connect "
                                "[%s] NET2 CONTAINER",
                         opts->ip != NULL ? "--ip IP" : "--ip6 IPV6");
          return FALSE;
        }
    }
  if (opts->ports->len > 0 && opts->mode != RRUN_NETWORK_USER)
    {
      conflict (error, "-p/-P", opts,
                opts->mode == RRUN_NETWORK_CONTAINER
                    ? "ports are published by the container that owns the network"
                    : "ports are published only by the slirp network");
      rrun_add_hint (error, opts->mode == RRUN_NETWORK_CONTAINER
                                ? "publish the port when starting that container"
                                : "leave out -p, or use --network slirp");
      return FALSE;
    }
  if (opts->mac != NULL && opts->mode != RRUN_NETWORK_USER)
    {
      conflict (error, "--mac-address", opts,
                "only the slirp network creates an interface whose address rrun sets");
      rrun_add_hint (error, "leave out --mac-address, or use --network slirp");
      return FALSE;
    }
  if (opts->mode != RRUN_NETWORK_CONTAINER)
    return TRUE;
  if (hostname_given)
    conflict (error, "--hostname", opts, "the host name is the joined container's");
  else if (opts->dns_servers->len > 0 || opts->dns_search->len > 0
           || opts->dns_options->len > 0)
    conflict (error, "--dns, --dns-search or --dns-option", opts,
              "/etc/resolv.conf is the joined container's");
  else if (opts->hosts->len > 0)
    conflict (error, "--add-host", opts, "/etc/hosts is the joined container's");
  else
    return TRUE;
  rrun_add_hint (error, "give the option to the container that owns the network");
  return FALSE;
}

/* "80" or "8000-8002"; an empty text is a range of length 0 (random). */
static gboolean
parse_range (const char *text, guint min, guint *out_first, guint *out_count)
{
  const char *dash = strchr (text, '-');
  guint64 a, b;

  if (dash == NULL)
    {
      if (!g_ascii_string_to_unsigned (text, 10, min, 65535, &a, NULL))
        return FALSE;
      *out_first = (guint) a;
      *out_count = 1;
      return TRUE;
    }
  {
    g_autofree char *first = g_strndup (text, (gsize) (dash - text));

    if (!g_ascii_string_to_unsigned (first, 10, min, 65535, &a, NULL)
        || !g_ascii_string_to_unsigned (dash + 1, 10, min, 65535, &b, NULL) || b < a)
      return FALSE;
  }
  *out_first = (guint) a;
  *out_count = (guint) (b - a + 1);
  return TRUE;
}

gboolean
rrun_network_options_add_publish (RrunNetworkOptions *opts, const char *text, GError **error)
{
  g_autofree char *spec = g_strdup (text);
  g_autofree char *host_ip = NULL;
  char *slash, *rest, *colon;
  const char *host_part = NULL, *container_part;
  gboolean udp = FALSE;
  guint cfirst, ccount, hfirst = 0, hcount = 0;

  slash = strrchr (spec, '/');
  if (slash != NULL)
    {
      if (g_str_equal (slash + 1, "udp"))
        udp = TRUE;
      else if (!g_str_equal (slash + 1, "tcp"))
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid -p \"%s\": the protocol must be tcp or udp", text);
      *slash = '\0';
    }
  rest = spec;
  /* [IPv6]:hostPort:containerPort */
  if (rest[0] == '[')
    {
      char *end = strchr (rest, ']');

      if (end == NULL || end[1] != ':')
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid -p \"%s\": expected [IPv6]:hostPort:containerPort", text);
      host_ip = g_strndup (rest + 1, (gsize) (end - rest - 1));
      rest = end + 2;
      colon = strchr (rest, ':');
      if (colon == NULL)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid -p \"%s\": expected [IPv6]:hostPort:containerPort", text);
      *colon = '\0';
      host_part = rest;
      container_part = colon + 1;
    }
  else
    {
      g_auto (GStrv) parts = g_strsplit (rest, ":", -1);
      guint n = g_strv_length (parts);

      if (n == 1)
        container_part = rest;
      else if (n == 2)
        {
          colon = strchr (rest, ':');
          *colon = '\0';
          host_part = rest;
          container_part = colon + 1;
        }
      else if (n == 3)
        {
          char *c1 = strchr (rest, ':'), *c2 = strchr (c1 + 1, ':');

          *c1 = '\0';
          *c2 = '\0';
          host_ip = g_strdup (rest);
          host_part = c1 + 1;
          container_part = c2 + 1;
        }
      else
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid -p \"%s\": expected [hostIP:][hostPort:]containerPort", text);
    }
  if (host_ip != NULL && *host_ip != '\0' && !valid_ip (host_ip))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid -p \"%s\": \"%s\" is not an IP address", text, host_ip);
  if (host_ip != NULL && *host_ip == '\0')
    g_clear_pointer (&host_ip, g_free);
  if (host_ip != NULL && udp && strchr (host_ip, ':') != NULL)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid -p \"%s\": UDP ports are published on IPv4 addresses only", text);
  if (!parse_range (container_part, 1, &cfirst, &ccount))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid -p \"%s\": bad container port \"%s\" (1-65535 or a range A-B)",
                       text, container_part);
  if (host_part != NULL && *host_part != '\0'
      && !parse_range (host_part, 1, &hfirst, &hcount))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid -p \"%s\": bad host port \"%s\" (1-65535 or a range A-B)", text,
                       host_part);
  if (hcount != 0 && hcount != ccount)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid -p \"%s\": the host range has %u ports, the container range %u",
                       text, hcount, ccount);
  /* The same host port twice would fail later at bind with a less clear message. The
     ports published so far go into a set first: a range of 60000 ports checked against
     the list one by one took minutes (found by fuzzing). */
  if (hcount != 0)
    {
      g_autoptr(GHashTable) taken = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                           NULL);

      for (guint j = 0; j < opts->ports->len; j++)
        {
          RrunPortMapping *o = &g_array_index (opts->ports, RrunPortMapping, j);
          if (o->host_port != 0)
            g_hash_table_add (taken, g_strdup_printf ("%u/%d/%s", o->host_port, o->udp,
                                                      o->host_ip ? o->host_ip : ""));
        }
      for (guint i = 0; i < hcount; i++)
        {
          g_autofree char *key = g_strdup_printf ("%u/%d/%s", hfirst + i, udp,
                                                  host_ip ? host_ip : "");
          if (g_hash_table_contains (taken, key))
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               "invalid -p \"%s\": host port %u/%s is published twice", text,
                               hfirst + i, udp ? "udp" : "tcp");
        }
    }
  for (guint i = 0; i < ccount; i++)
    {
      RrunPortMapping m = { .host_ip = g_strdup (host_ip),
                            .host_port = hcount != 0 ? hfirst + i : 0,
                            .container_port = cfirst + i,
                            .udp = udp };
      g_array_append_val (opts->ports, m);
    }
  return TRUE;
}

gboolean
rrun_network_options_publish_all (RrunNetworkOptions *opts, const char *const *exposed_ports,
                                  GError **error)
{
  for (guint i = 0; exposed_ports != NULL && exposed_ports[i] != NULL; i++)
    {
      g_autofree char *spec = NULL;
      guint64 port;
      g_auto (GStrv) parts = g_strsplit (exposed_ports[i], "/", 2);

      if (!g_ascii_string_to_unsigned (parts[0], 10, 1, 65535, &port, NULL)
          || (parts[1] != NULL && !g_str_equal (parts[1], "tcp") && !g_str_equal (parts[1], "udp")))
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid exposed port \"%s\" in the image: expected PORT[/tcp|/udp]",
                           exposed_ports[i]);
      /* -P and -p for the same container port: -p wins. */
      for (guint j = 0; j < opts->ports->len; j++)
        {
          RrunPortMapping *m = &g_array_index (opts->ports, RrunPortMapping, j);
          if (m->container_port == port && m->udp == (parts[1] != NULL && parts[1][0] == 'u'))
            goto next;
        }
      spec = g_strdup_printf ("%u/%s", (guint) port, parts[1] != NULL ? parts[1] : "tcp");
      if (!rrun_network_options_add_publish (opts, spec, error))
        return FALSE;
    next:;
    }
  return TRUE;
}

gboolean
rrun_network_options_add_dns (RrunNetworkOptions *opts, const char *ip, GError **error)
{
  if (!valid_ip (ip))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --dns \"%s\": not an IP address", ip);
  g_ptr_array_add (opts->dns_servers, g_strdup (ip));
  return TRUE;
}

static gboolean
has_space (const char *s)
{
  for (; *s; s++)
    if (g_ascii_isspace (*s))
      return TRUE;
  return FALSE;
}

gboolean
rrun_network_options_add_dns_search (RrunNetworkOptions *opts, const char *domain,
                                     GError **error)
{
  if (*domain == '\0' || has_space (domain))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --dns-search \"%s\": a domain has no spaces", domain);
  g_ptr_array_add (opts->dns_search, g_strdup (domain));
  return TRUE;
}

gboolean
rrun_network_options_add_dns_option (RrunNetworkOptions *opts, const char *option,
                                     GError **error)
{
  if (*option == '\0' || has_space (option))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --dns-option \"%s\": an option has no spaces", option);
  g_ptr_array_add (opts->dns_options, g_strdup (option));
  return TRUE;
}

static gboolean
valid_hostname (const char *name)
{
  if (*name == '\0' || strlen (name) > 253)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.' && *p != '_')
      return FALSE;
  return TRUE;
}

gboolean
rrun_network_options_add_host (RrunNetworkOptions *opts, const char *text, GError **error)
{
  /* name:ip, where ip may be IPv6 (its colons follow the first one) */
  const char *colon = strchr (text, ':');
  g_autofree char *name = NULL;
  RrunHostEntry h;

  if (colon == NULL)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --add-host \"%s\": expected name:ip", text);
  name = g_strndup (text, (gsize) (colon - text));
  if (!valid_hostname (name))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --add-host \"%s\": \"%s\" is not a host name", text, name);
  if (!valid_ip (colon + 1))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --add-host \"%s\": \"%s\" is not an IP address", text, colon + 1);
  h.name = g_steal_pointer (&name);
  h.ip = g_strdup (colon + 1);
  g_array_append_val (opts->hosts, h);
  return TRUE;
}

gboolean
rrun_network_options_addresses (const RrunNetworkOptions *opts, char **out_guest,
                                char **out_gateway, char **out_dns, GError **error)
{
  guint32 net;
  guint len;

  if (!parse_cidr (opts->cidr, &net, &len))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid cidr \"%s\"", opts->cidr);
  if (out_guest)
    *out_guest = g_strdup_printf ("%u.%u.%u.%u", net >> 24, (net >> 16) & 255,
                                  (net >> 8) & 255, (net & 255) + 100);
  if (out_gateway)
    *out_gateway = g_strdup_printf ("%u.%u.%u.%u", net >> 24, (net >> 16) & 255,
                                    (net >> 8) & 255, (net & 255) + 2);
  if (out_dns)
    *out_dns = g_strdup_printf ("%u.%u.%u.%u", net >> 24, (net >> 16) & 255, (net >> 8) & 255,
                                (net & 255) + 3);
  return TRUE;
}

static gboolean
is_loopback_ip (const char *ip)
{
  return g_str_has_prefix (ip, "127.") || g_str_equal (ip, "::1");
}

char *
rrun_network_resolv_conf_text (const RrunNetworkOptions *opts, const char *host_resolv_conf)
{
  g_autofree char *host_text = NULL;
  g_autoptr (GPtrArray) host_ns = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) host_search = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) host_options = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) out = g_string_new (NULL);
  g_auto (GStrv) lines = NULL;
  GPtrArray *search, *options;

  if (host_resolv_conf == NULL)
    g_file_get_contents ("/etc/resolv.conf", &host_text, NULL, NULL);
  else
    host_text = g_strdup (host_resolv_conf);
  lines = g_strsplit (host_text != NULL ? host_text : "", "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) w = g_strsplit_set (g_strstrip (lines[i]), " \t", -1);
      GPtrArray *into = NULL;

      if (w[0] == NULL)
        continue;
      if (g_str_equal (w[0], "nameserver"))
        into = host_ns;
      else if (g_str_equal (w[0], "search") || g_str_equal (w[0], "domain"))
        {
          g_ptr_array_set_size (host_search, 0); /* the last search/domain line wins */
          into = host_search;
        }
      else if (g_str_equal (w[0], "options"))
        into = host_options;
      for (guint j = 1; into != NULL && w[j] != NULL; j++)
        if (*w[j] != '\0')
          g_ptr_array_add (into, g_strdup (w[j]));
    }

  if (opts->mode == RRUN_NETWORK_USER && opts->user_dns != NULL)
    {
      /* The first network's DNS server answers on its gateway (names of the network's
         containers, the rest from upstream), with docker's search domain and then
         --dns-search's. --dns does not replace it, as on docker's user-defined networks:
         the server forwards this container's other names to those servers (its hosts
         line's dns=, network/usernet.c). */
      g_string_append (out, "search dns.rrun");
      for (guint i = 0; i < opts->dns_search->len; i++)
        g_string_append_printf (out, " %s", (const char *) opts->dns_search->pdata[i]);
      g_string_append_c (out, '\n');
      g_string_append_printf (out, "nameserver %s\n", opts->user_dns);
      if (opts->dns_options->len > 0)
        {
          g_string_append (out, "options");
          for (guint i = 0; i < opts->dns_options->len; i++)
            g_string_append_printf (out, " %s", (const char *) opts->dns_options->pdata[i]);
          g_string_append_c (out, '\n');
        }
      return g_string_free (g_steal_pointer (&out), FALSE);
    }
  search = opts->dns_search->len > 0 ? opts->dns_search : host_search;
  options = opts->dns_options->len > 0 ? opts->dns_options : host_options;
  if (search->len > 0)
    {
      g_string_append (out, "search");
      for (guint i = 0; i < search->len; i++)
        g_string_append_printf (out, " %s", (const char *) search->pdata[i]);
      g_string_append_c (out, '\n');
    }
  if (opts->mode == RRUN_NETWORK_SLIRP)
    {
      g_autofree char *dns = NULL;

      if (rrun_network_options_addresses (opts, NULL, NULL, &dns, NULL))
        g_string_append_printf (out, "nameserver %s\n", dns);
    }
  if (opts->dns_servers->len > 0)
    for (guint i = 0; i < opts->dns_servers->len; i++)
      g_string_append_printf (out, "nameserver %s\n", (const char *) opts->dns_servers->pdata[i]);
  else if (opts->mode != RRUN_NETWORK_SLIRP)
    for (guint i = 0; i < host_ns->len; i++)
      {
        const char *ns = host_ns->pdata[i];
        /* The host's loopback resolver is not the container's, except with the host's
           network itself. */
        if (opts->mode == RRUN_NETWORK_HOST || !is_loopback_ip (ns))
          g_string_append_printf (out, "nameserver %s\n", ns);
      }
  if (options->len > 0)
    {
      g_string_append (out, "options");
      for (guint i = 0; i < options->len; i++)
        g_string_append_printf (out, " %s", (const char *) options->pdata[i]);
      g_string_append_c (out, '\n');
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
rrun_network_hosts_text (const RrunNetworkOptions *opts, const char *hostname)
{
  GString *out = g_string_new ("127.0.0.1\tlocalhost\n"
                               "::1\tlocalhost ip6-localhost ip6-loopback\n");

  if (opts->mode == RRUN_NETWORK_SLIRP)
    {
      g_autofree char *guest = NULL, *gateway = NULL;

      if (rrun_network_options_addresses (opts, &guest, &gateway, NULL, NULL))
        {
          if (hostname != NULL && *hostname != '\0')
            g_string_append_printf (out, "%s\t%s\n", guest, hostname);
          /* podman's name for the host: only where the host's loopback answers on it */
          if (opts->allow_host_loopback)
            g_string_append_printf (out, "%s\thost.containers.internal\n", gateway);
        }
    }
  else if (opts->mode == RRUN_NETWORK_USER && opts->user_ip != NULL)
    {
      g_string_append_printf (out, "%s\t%s", opts->user_ip, hostname ? hostname : "");
      for (guint i = 0; opts->user_names != NULL && opts->user_names[i] != NULL; i++)
        if (g_strcmp0 (opts->user_names[i], hostname) != 0)
          g_string_append_printf (out, " %s", opts->user_names[i]);
      g_string_append_c (out, '\n');
      if (opts->user_ip6 != NULL)
        {
          g_string_append_printf (out, "%s\t%s", opts->user_ip6, hostname ? hostname : "");
          for (guint i = 0; opts->user_names != NULL && opts->user_names[i] != NULL; i++)
            if (g_strcmp0 (opts->user_names[i], hostname) != 0)
              g_string_append_printf (out, " %s", opts->user_names[i]);
          g_string_append_c (out, '\n');
        }
    }
  else if (hostname != NULL && *hostname != '\0')
    g_string_append_printf (out, "127.0.1.1\t%s\n", hostname);
  for (guint i = 0; i < opts->hosts->len; i++)
    {
      RrunHostEntry *h = &g_array_index (opts->hosts, RrunHostEntry, i);
      g_string_append_printf (out, "%s\t%s\n", h->ip, h->name);
    }
  return g_string_free (out, FALSE);
}

char *
rrun_network_hostname_text (const char *hostname)
{
  return g_strdup_printf ("%s\n", hostname);
}

char *
rrun_network_ports_text (const GArray *ports)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; ports != NULL && i < ports->len; i++)
    {
      const RrunPortMapping *m = &g_array_index (ports, RrunPortMapping, i);
      const char *ip = m->host_ip != NULL ? m->host_ip : "0.0.0.0";

      if (strchr (ip, ':') != NULL)
        g_string_append_printf (out, "%u/%s -> [%s]:%u\n", m->container_port,
                                m->udp ? "udp" : "tcp", ip, m->host_port);
      else
        g_string_append_printf (out, "%u/%s -> %s:%u\n", m->container_port,
                                m->udp ? "udp" : "tcp", ip, m->host_port);
    }
  return g_string_free (out, FALSE);
}
