/* --network, -p, -P, --dns*, --add-host parsing and the generated /etc files. */
#include <string.h>

#include "error.h"
#include "network/join.h"
#include "network/network.h"

static RrunNetworkOptions *
new_opts (void)
{
  g_autoptr (GError) error = NULL;
  RrunNetworkOptions *o = rrun_network_options_new (NULL, &error);

  g_assert_no_error (error);
  return o;
}

static RrunPortMapping *
port (RrunNetworkOptions *o, guint i)
{
  g_assert_cmpuint (i, <, o->ports->len);
  return &g_array_index (o->ports, RrunPortMapping, i);
}

static void
test_mode (void)
{
  g_autoptr (RrunNetworkOptions) o = new_opts ();
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (o->mode, ==, RRUN_NETWORK_SLIRP);
  g_assert_true (rrun_network_options_set_mode (o, "none", &error));
  g_assert_cmpint (o->mode, ==, RRUN_NETWORK_NONE);
  g_assert_true (rrun_network_options_set_mode (o, "host", &error));
  g_assert_cmpint (o->mode, ==, RRUN_NETWORK_HOST);
  g_assert_false (rrun_network_options_needs_netns (o));
  g_assert_true (rrun_network_options_set_mode (o, "ns:/proc/42/ns/net", &error));
  g_assert_cmpint (o->mode, ==, RRUN_NETWORK_NS);
  g_assert_cmpstr (o->ns_path, ==, "/proc/42/ns/net");
  g_assert_true (rrun_network_options_joins (o));
  g_assert_false (rrun_network_options_needs_netns (o));
  g_assert_true (rrun_network_options_set_mode (o, "container:web", &error));
  g_assert_cmpint (o->mode, ==, RRUN_NETWORK_CONTAINER);
  g_assert_cmpstr (o->container, ==, "web");
  g_assert_true (rrun_network_options_joins (o));
  g_assert_false (rrun_network_options_needs_netns (o));
  g_assert_true (rrun_network_options_set_mode (
      o, "slirp:cidr=10.0.3.0/24,mtu=1500,tcp_mss=9000,enable_ipv6=false,"
         "allow_host_loopback=true,dns_upstream=127.0.0.1:5353,mac=02:00:00:00:00:01",
      &error));
  g_assert_no_error (error);
  g_assert_cmpint (o->mode, ==, RRUN_NETWORK_SLIRP);
  g_assert_cmpstr (o->cidr, ==, "10.0.3.0/24");
  g_assert_cmpuint (o->mtu, ==, 1500);
  g_assert_cmpint (o->tcp_mss, ==, 9000);
  g_assert_cmpint (o->enable_ipv6, ==, 0);
  g_assert_true (o->allow_host_loopback);
  g_assert_cmpstr (o->dns_upstream, ==, "127.0.0.1:5353");
  g_assert_cmpstr (o->mac, ==, "02:00:00:00:00:01");
}

static void
test_mode_errors (void)
{
  static const struct
  {
    const char *text, *message;
  } cases[] = {
    { "bridge0", "invalid --network \"bridge0\"\nhint: use slirp[:key=value,...] (or bridge, "
                 "docker's name for it), none, host, container:NAME or ns:/proc/PID/ns/net" },
    { "container:", "invalid --network \"container:\": no container named\nhint: use --network "
                    "container:NAME or container:ID (see rrun ps)" },
    { "ns:relative", "invalid --network \"ns:relative\": the namespace path must be absolute" },
    { "slirp:mtu=70000", "invalid --network option \"mtu=70000\": expected 1280 to 65520" },
    { "slirp:tcp_mss=100", "invalid --network option \"tcp_mss=100\": expected 0 (no clamp) "
                           "or 536 to 65480" },
    { "slirp:cidr=10.0.2.0/30",
      "invalid --network option \"cidr=10.0.2.0/30\": expected A.B.C.D/N with N from 8 to 25" },
    { "slirp:allow_host_loopback=yes",
      "invalid --network option \"allow_host_loopback=yes\": expected true or false" },
    { "slirp:mac=01:00:00:00:00:01",
      "invalid --network option \"mac=01:00:00:00:00:01\": expected a unicast, non-zero "
      "XX:XX:XX:XX:XX:XX" },
    { "slirp:mac=00:00:00:00:00:00",
      "invalid --network option \"mac=00:00:00:00:00:00\": expected a unicast, non-zero "
      "XX:XX:XX:XX:XX:XX" },
    { "slirp:dns_upstream=dns.example",
      "invalid --network option \"dns_upstream=dns.example\": expected IP, IP:PORT or "
      "[IPv6]:PORT" },
    { "slirp:foo=1", "unknown --network option \"foo\"\nhint: slirp takes cidr, mtu, "
                     "tcp_mss, enable_ipv6, allow_host_loopback, dns_upstream and mac" },
    { "slirp:mtu", "invalid --network option \"mtu\": expected key=value" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (RrunNetworkOptions) o = new_opts ();
      g_autoptr (GError) error = NULL;

      g_assert_false (rrun_network_options_set_mode (o, cases[i].text, &error));
      g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (error->message, ==, cases[i].message);
    }
}

static void
test_config_defaults (void)
{
  g_autoptr (RrunConfig) c = rrun_config_new_defaults ();
  g_autoptr (RrunNetworkOptions) o = NULL;
  g_autoptr (GError) error = NULL;

  c->allow_host_loopback = TRUE;
  c->dns_upstream = g_strdup ("192.0.2.1");
  g_free (c->network);
  c->network = g_strdup ("none");
  o = rrun_network_options_new (c, &error);
  g_assert_no_error (error);
  g_assert_true (o->allow_host_loopback);
  g_assert_cmpstr (o->dns_upstream, ==, "192.0.2.1");
  g_assert_cmpint (o->mode, ==, RRUN_NETWORK_NONE);

  g_free (c->network);
  c->network = g_strdup ("wifi");
  g_clear_pointer (&o, rrun_network_options_free);
  o = rrun_network_options_new (c, &error);
  g_assert_null (o);
  g_assert_nonnull (strstr (error->message, "rrun.conf [network] default: invalid --network"));
}

static void
test_publish (void)
{
  g_autoptr (RrunNetworkOptions) o = new_opts ();
  g_autoptr (GError) error = NULL;

  g_assert_true (rrun_network_options_add_publish (o, "8080:80", &error));
  g_assert_true (rrun_network_options_add_publish (o, "127.0.0.1:9090:90/udp", &error));
  g_assert_true (rrun_network_options_add_publish (o, "443", &error));
  g_assert_true (rrun_network_options_add_publish (o, "8000-8002:70-72", &error));
  g_assert_true (rrun_network_options_add_publish (o, "[::1]:7000:700/tcp", &error));
  g_assert_true (rrun_network_options_add_publish (o, "127.0.0.1::53", &error));
  g_assert_true (rrun_network_options_add_publish (o, "60-61", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (o->ports->len, ==, 10);
  g_assert_null (port (o, 0)->host_ip);
  g_assert_cmpuint (port (o, 0)->host_port, ==, 8080);
  g_assert_cmpuint (port (o, 0)->container_port, ==, 80);
  g_assert_false (port (o, 0)->udp);
  g_assert_cmpstr (port (o, 1)->host_ip, ==, "127.0.0.1");
  g_assert_cmpuint (port (o, 1)->host_port, ==, 9090);
  g_assert_true (port (o, 1)->udp);
  g_assert_cmpuint (port (o, 2)->host_port, ==, 0);
  g_assert_cmpuint (port (o, 2)->container_port, ==, 443);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_cmpuint (port (o, 3 + i)->host_port, ==, 8000 + i);
      g_assert_cmpuint (port (o, 3 + i)->container_port, ==, 70 + i);
    }
  g_assert_cmpstr (port (o, 6)->host_ip, ==, "::1");
  g_assert_cmpuint (port (o, 6)->host_port, ==, 7000);
  g_assert_cmpstr (port (o, 7)->host_ip, ==, "127.0.0.1");
  g_assert_cmpuint (port (o, 7)->host_port, ==, 0);
  g_assert_cmpuint (port (o, 8)->container_port, ==, 60);
  g_assert_cmpuint (port (o, 9)->container_port, ==, 61);
  g_assert_cmpuint (port (o, 9)->host_port, ==, 0);
}

static void
test_publish_errors (void)
{
  static const struct
  {
    const char *text, *message;
  } cases[] = {
    { "80/sctp", "invalid -p \"80/sctp\": the protocol must be tcp or udp" },
    { "0", "invalid -p \"0\": bad container port \"0\" (1-65535 or a range A-B)" },
    { "8080:99999", "invalid -p \"8080:99999\": bad container port \"99999\" (1-65535 or a "
                    "range A-B)" },
    { "x:80", "invalid -p \"x:80\": bad host port \"x\" (1-65535 or a range A-B)" },
    { "8000-8001:80-82",
      "invalid -p \"8000-8001:80-82\": the host range has 2 ports, the container range 3" },
    { "82-80", "invalid -p \"82-80\": bad container port \"82-80\" (1-65535 or a range A-B)" },
    { "nohost:8080:80", "invalid -p \"nohost:8080:80\": \"nohost\" is not an IP address" },
    { "1:2:3:4", "invalid -p \"1:2:3:4\": expected [hostIP:][hostPort:]containerPort" },
    { "[::1]:53:53/udp",
      "invalid -p \"[::1]:53:53/udp\": UDP ports are published on IPv4 addresses only" },
    { "[::1:80", "invalid -p \"[::1:80\": expected [IPv6]:hostPort:containerPort" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (RrunNetworkOptions) o = new_opts ();
      g_autoptr (GError) error = NULL;

      g_assert_false (rrun_network_options_add_publish (o, cases[i].text, &error));
      g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (error->message, ==, cases[i].message);
      g_assert_cmpuint (o->ports->len, ==, 0);
    }
}

static void
test_publish_twice (void)
{
  g_autoptr (RrunNetworkOptions) o = new_opts ();
  g_autoptr (GError) error = NULL;

  g_assert_true (rrun_network_options_add_publish (o, "8080:80", &error));
  g_assert_true (rrun_network_options_add_publish (o, "8080:80/udp", &error));
  g_assert_false (rrun_network_options_add_publish (o, "8079-8080:81-82", &error));
  g_assert_cmpstr (error->message, ==,
                   "invalid -p \"8079-8080:81-82\": host port 8080/tcp is published twice");
}

static void
test_publish_all (void)
{
  g_autoptr (RrunNetworkOptions) o = new_opts ();
  g_autoptr (GError) error = NULL;
  const char *exposed[] = { "80/tcp", "53/udp", "8080", NULL };
  const char *bad[] = { "80/sctp", NULL };

  g_assert_true (rrun_network_options_add_publish (o, "9000:80", &error));
  g_assert_true (rrun_network_options_publish_all (o, exposed, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (o->ports->len, ==, 3); /* 80/tcp kept its -p mapping */
  g_assert_cmpuint (port (o, 0)->host_port, ==, 9000);
  g_assert_cmpuint (port (o, 1)->container_port, ==, 53);
  g_assert_true (port (o, 1)->udp);
  g_assert_cmpuint (port (o, 1)->host_port, ==, 0);
  g_assert_cmpuint (port (o, 2)->container_port, ==, 8080);
  g_assert_false (port (o, 2)->udp);
  g_assert_false (rrun_network_options_publish_all (o, bad, &error));
  g_assert_cmpstr (error->message, ==,
                   "invalid exposed port \"80/sctp\" in the image: expected PORT[/tcp|/udp]");
}

static const char host_resolv[] = "# generated\n"
                                   "nameserver 127.0.0.53\n"
                                   "nameserver 192.0.2.53\n"
                                   "search corp.example lab.example\n"
                                   "options edns0 trust-ad\n";

static void
test_resolv_conf_slirp (void)
{
  g_autoptr (RrunNetworkOptions) o = new_opts ();
  g_autoptr (GError) error = NULL;
  g_autofree char *text = rrun_network_resolv_conf_text (o, host_resolv);
  g_autofree char *text2 = NULL;

  g_assert_cmpstr (text, ==,
                   "search corp.example lab.example\n"
                   "nameserver 10.0.2.3\n"
                   "options edns0 trust-ad\n");
  g_assert_true (rrun_network_options_set_mode (o, "slirp:cidr=10.9.0.0/16", &error));
  g_assert_true (rrun_network_options_add_dns (o, "1.1.1.1", &error));
  g_assert_true (rrun_network_options_add_dns (o, "2001:db8::1", &error));
  g_assert_true (rrun_network_options_add_dns_search (o, "example.org", &error));
  g_assert_true (rrun_network_options_add_dns_option (o, "ndots:2", &error));
  g_assert_no_error (error);
  text2 = rrun_network_resolv_conf_text (o, host_resolv);
  g_assert_cmpstr (text2, ==,
                   "search example.org\n"
                   "nameserver 10.9.0.3\n"
                   "nameserver 1.1.1.1\n"
                   "nameserver 2001:db8::1\n"
                   "options ndots:2\n");
}

static void
test_resolv_conf_other_modes (void)
{
  g_autoptr (RrunNetworkOptions) o = new_opts ();
  g_autoptr (GError) error = NULL;
  g_autofree char *host = NULL, *none = NULL;

  g_assert_true (rrun_network_options_set_mode (o, "host", &error));
  host = rrun_network_resolv_conf_text (o, host_resolv);
  g_assert_cmpstr (host, ==,
                   "search corp.example lab.example\n"
                   "nameserver 127.0.0.53\n"
                   "nameserver 192.0.2.53\n"
                   "options edns0 trust-ad\n");
  g_assert_true (rrun_network_options_set_mode (o, "none", &error));
  none = rrun_network_resolv_conf_text (o, host_resolv);
  g_assert_cmpstr (none, ==,
                   "search corp.example lab.example\n"
                   "nameserver 192.0.2.53\n"
                   "options edns0 trust-ad\n");
}

/* A user-defined network: the network's DNS server stays the nameserver with --dns (it
   forwards to them, network/usernet.c); --dns-search follows dns.rrun. */
static void
test_resolv_conf_user (void)
{
  g_autoptr (RrunNetworkOptions) o = new_opts ();
  g_autoptr (GError) error = NULL;
  g_autofree char *plain = NULL, *with_dns = NULL;
  char *names[] = { (char *) "net1", NULL };

  rrun_network_options_set_user (o, names);
  o->user_dns = g_strdup ("10.91.0.1");
  plain = rrun_network_resolv_conf_text (o, host_resolv);
  g_assert_cmpstr (plain, ==, "search dns.rrun\nnameserver 10.91.0.1\n");
  g_assert_true (rrun_network_options_add_dns (o, "192.0.2.53", &error));
  g_assert_true (rrun_network_options_add_dns (o, "127.0.0.1", &error));
  g_assert_true (rrun_network_options_add_dns_search (o, "example.org", &error));
  g_assert_true (rrun_network_options_add_dns_option (o, "ndots:2", &error));
  g_assert_no_error (error);
  with_dns = rrun_network_resolv_conf_text (o, host_resolv);
  g_assert_cmpstr (with_dns, ==,
                   "search dns.rrun example.org\n"
                   "nameserver 10.91.0.1\n"
                   "options ndots:2\n");
}

static void
test_dns_errors (void)
{
  g_autoptr (RrunNetworkOptions) o = new_opts ();
  g_autoptr (GError) error = NULL;

  g_assert_false (rrun_network_options_add_dns (o, "dns.example", &error));
  g_assert_cmpstr (error->message, ==, "invalid --dns \"dns.example\": not an IP address");
  g_clear_error (&error);
  g_assert_false (rrun_network_options_add_dns_search (o, "a b", &error));
  g_assert_cmpstr (error->message, ==, "invalid --dns-search \"a b\": a domain has no spaces");
  g_clear_error (&error);
  g_assert_false (rrun_network_options_add_dns_option (o, "", &error));
  g_assert_cmpstr (error->message, ==, "invalid --dns-option \"\": an option has no spaces");
}

static void
test_hosts (void)
{
  g_autoptr (RrunNetworkOptions) o = new_opts ();
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL, *text2 = NULL, *hn = NULL;

  g_assert_true (rrun_network_options_add_host (o, "db:192.0.2.7", &error));
  g_assert_true (rrun_network_options_add_host (o, "v6.example:2001:db8::7", &error));
  g_assert_no_error (error);
  text = rrun_network_hosts_text (o, "box");
  g_assert_cmpstr (text, ==,
                   "127.0.0.1\tlocalhost\n"
                   "::1\tlocalhost ip6-localhost ip6-loopback\n"
                   "10.0.2.100\tbox\n"
                   "192.0.2.7\tdb\n"
                   "2001:db8::7\tv6.example\n");
  o->allow_host_loopback = TRUE;
  g_assert_true (rrun_network_options_set_mode (o, "none", &error));
  text2 = rrun_network_hosts_text (o, "box");
  g_assert_cmpstr (text2, ==,
                   "127.0.0.1\tlocalhost\n"
                   "::1\tlocalhost ip6-localhost ip6-loopback\n"
                   "127.0.1.1\tbox\n"
                   "192.0.2.7\tdb\n"
                   "2001:db8::7\tv6.example\n");
  hn = rrun_network_hostname_text ("box");
  g_assert_cmpstr (hn, ==, "box\n");
}

static void
test_hosts_loopback_name (void)
{
  g_autoptr (RrunNetworkOptions) o = new_opts ();
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  g_assert_true (rrun_network_options_set_mode (o, "slirp:allow_host_loopback=true", &error));
  text = rrun_network_hosts_text (o, NULL);
  g_assert_cmpstr (text, ==,
                   "127.0.0.1\tlocalhost\n"
                   "::1\tlocalhost ip6-localhost ip6-loopback\n"
                   "10.0.2.2\thost.containers.internal\n");
}

static void
test_add_host_errors (void)
{
  g_autoptr (RrunNetworkOptions) o = new_opts ();
  g_autoptr (GError) error = NULL;

  g_assert_false (rrun_network_options_add_host (o, "db", &error));
  g_assert_cmpstr (error->message, ==, "invalid --add-host \"db\": expected name:ip");
  g_clear_error (&error);
  g_assert_false (rrun_network_options_add_host (o, "db:300.1.1.1", &error));
  g_assert_cmpstr (error->message, ==,
                   "invalid --add-host \"db:300.1.1.1\": \"300.1.1.1\" is not an IP address");
  g_clear_error (&error);
  g_assert_false (rrun_network_options_add_host (o, "a b:1.2.3.4", &error));
  g_assert_cmpstr (error->message, ==,
                   "invalid --add-host \"a b:1.2.3.4\": \"a b\" is not a host name");
}

static void
test_ports_text (void)
{
  g_autoptr (RrunNetworkOptions) o = new_opts ();
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  g_assert_true (rrun_network_options_add_publish (o, "8080:80", &error));
  g_assert_true (rrun_network_options_add_publish (o, "127.0.0.1:5353:53/udp", &error));
  g_assert_true (rrun_network_options_add_publish (o, "[::1]:7000:700", &error));
  text = rrun_network_ports_text (o->ports);
  g_assert_cmpstr (text, ==,
                   "80/tcp -> 0.0.0.0:8080\n"
                   "53/udp -> 127.0.0.1:5353\n"
                   "700/tcp -> [::1]:7000\n");
}

static void
test_addresses (void)
{
  g_autoptr (RrunNetworkOptions) o = new_opts ();
  g_autoptr (GError) error = NULL;
  g_autofree char *guest = NULL, *gw = NULL, *dns = NULL;

  g_assert_true (rrun_network_options_set_mode (o, "slirp:cidr=172.16.5.77/24", &error));
  g_assert_true (rrun_network_options_addresses (o, &guest, &gw, &dns, &error));
  g_assert_cmpstr (guest, ==, "172.16.5.100");
  g_assert_cmpstr (gw, ==, "172.16.5.2");
  g_assert_cmpstr (dns, ==, "172.16.5.3");
}

static void
test_mac_address (void)
{
  static const char *const bad[] = { "01:00:5e:00:00:01", "00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff",
                                     "02:00:00:00:00", "02:00:00:00:00:00:00", "zz:00:00:00:00:00",
                                     "02-00-00-00-00-01" };
  g_autoptr (RrunNetworkOptions) o = new_opts ();
  g_autoptr (GError) error = NULL;

  g_assert_true (rrun_network_options_set_mac (o, "02:42:ac:11:00:02", &error));
  g_assert_no_error (error);
  g_assert_cmpstr (o->mac, ==, "02:42:ac:11:00:02");
  g_assert_true (rrun_network_options_check (o, TRUE, &error));
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) e = NULL;
      g_autofree char *want = g_strdup_printf (
          "invalid --mac-address \"%s\": expected a unicast, non-zero XX:XX:XX:XX:XX:XX\n"
          "hint: the first byte must be even, e.g. 02:42:ac:11:00:02", bad[i]);

      g_assert_false (rrun_network_options_set_mac (o, bad[i], &e));
      g_assert_error (e, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (e->message, ==, want);
    }
  g_assert_cmpstr (o->mac, ==, "02:42:ac:11:00:02");
}

/* docker's "conflicting options", with rrun's wording. */
static void
test_conflicts (void)
{
  static const struct
  {
    const char *mode, *option, *message;
  } cases[] = {
    { "none", "-p", "cannot use -p/-P with --network none: ports are published only by the slirp "
                    "network\nhint: leave out -p, or use --network slirp" },
    { "host", "mac", "cannot use --mac-address with --network host: only the slirp network "
                     "creates an interface whose address rrun sets\nhint: leave out "
                     "--mac-address, or use --network slirp" },
    { "ns:/run/netns/a", "-p", "cannot use -p/-P with --network ns:/run/netns/a: ports are "
                               "published only by the slirp network\nhint: leave out -p, or use "
                               "--network slirp" },
    { "container:web", "-p", "cannot use -p/-P with --network container:web: ports are published "
                             "by the container that owns the network\nhint: publish the port when "
                             "starting that container" },
    { "container:web", "mac", "cannot use --mac-address with --network container:web: only the "
                              "slirp network creates an interface whose address rrun sets\nhint: "
                              "leave out --mac-address, or use --network slirp" },
    { "container:web", "hostname", "cannot use --hostname with --network container:web: the host "
                                   "name is the joined container's\nhint: give the option to the "
                                   "container that owns the network" },
    { "container:web", "dns", "cannot use --dns, --dns-search or --dns-option with --network "
                              "container:web: /etc/resolv.conf is the joined container's\nhint: "
                              "give the option to the container that owns the network" },
    { "container:web", "dns-search", "cannot use --dns, --dns-search or --dns-option with "
                                     "--network container:web: /etc/resolv.conf is the joined "
                                     "container's\nhint: give the option to the container that "
                                     "owns the network" },
    { "container:web", "add-host", "cannot use --add-host with --network container:web: /etc/hosts "
                                   "is the joined container's\nhint: give the option to the "
                                   "container that owns the network" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (RrunNetworkOptions) o = new_opts ();
      g_autoptr (GError) error = NULL;
      gboolean hostname = FALSE;

      g_assert_true (rrun_network_options_set_mode (o, cases[i].mode, &error));
      g_assert_true (rrun_network_options_check (o, FALSE, &error));
      if (g_str_equal (cases[i].option, "-p"))
        g_assert_true (rrun_network_options_add_publish (o, "8080:80", &error));
      else if (g_str_equal (cases[i].option, "mac"))
        g_assert_true (rrun_network_options_set_mac (o, "02:00:00:00:00:01", &error));
      else if (g_str_equal (cases[i].option, "hostname"))
        hostname = TRUE;
      else if (g_str_equal (cases[i].option, "dns"))
        g_assert_true (rrun_network_options_add_dns (o, "192.0.2.1", &error));
      else if (g_str_equal (cases[i].option, "dns-search"))
        g_assert_true (rrun_network_options_add_dns_search (o, "example.com", &error));
      else
        g_assert_true (rrun_network_options_add_host (o, "db:192.0.2.2", &error));
      g_assert_no_error (error);
      g_assert_false (rrun_network_options_check (o, hostname, &error));
      g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (error->message, ==, cases[i].message);
    }
  {
    /* What a joined network namespace of one's own (ns:) still allows. */
    g_autoptr (RrunNetworkOptions) o = new_opts ();
    g_autoptr (GError) error = NULL;

    g_assert_true (rrun_network_options_set_mode (o, "ns:/run/netns/a", &error));
    g_assert_true (rrun_network_options_add_dns (o, "192.0.2.1", &error));
    g_assert_true (rrun_network_options_add_host (o, "db:192.0.2.2", &error));
    g_assert_true (rrun_network_options_check (o, TRUE, &error));
    g_assert_no_error (error);
  }
}

static void
test_join_map_matches (void)
{
  static const RrunIdMapping auto_map[] = { { 0, 1001, 1 }, { 1, 100000, 65536 } };
  g_autoptr (GArray) m = g_array_new (FALSE, FALSE, sizeof (RrunIdMapping));
  g_autofree char *text = NULL;

  g_array_append_vals (m, auto_map, G_N_ELEMENTS (auto_map));
  /* As /proc/PID/uid_map prints it, and in another order (the kernel sorts past 5 lines). */
  g_assert_true (rrun_netns_join_map_matches ("         0       1001          1\n"
                                              "         1     100000      65536\n", m));
  g_assert_true (rrun_netns_join_map_matches ("1 100000 65536\n0 1001 1\n", m));
  g_assert_false (rrun_netns_join_map_matches ("0 1001 1\n", m));
  g_assert_false (rrun_netns_join_map_matches ("0 1001 1\n1 100000 65535\n", m));
  g_assert_false (rrun_netns_join_map_matches ("0 1001 1\n1 100000 65536\n2 3 4\n", m));
  g_assert_false (rrun_netns_join_map_matches ("0 1001\n1 100000 65536\n", m));
  g_assert_false (rrun_netns_join_map_matches ("", m));
  text = rrun_netns_join_map_text ("1 100000 65536\n         0       1001          1\n");
  g_assert_cmpstr (text, ==, "0 1001 1, 1 100000 65536");
  g_free (text);
  text = rrun_netns_join_map_text ("");
  g_assert_cmpstr (text, ==, "(none)");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/network/mode", test_mode);
  g_test_add_func ("/network/mode/errors", test_mode_errors);
  g_test_add_func ("/network/config-defaults", test_config_defaults);
  g_test_add_func ("/network/publish", test_publish);
  g_test_add_func ("/network/publish/errors", test_publish_errors);
  g_test_add_func ("/network/publish/twice", test_publish_twice);
  g_test_add_func ("/network/publish-all", test_publish_all);
  g_test_add_func ("/network/resolv-conf/slirp", test_resolv_conf_slirp);
  g_test_add_func ("/network/resolv-conf/other-modes", test_resolv_conf_other_modes);
  g_test_add_func ("/network/resolv-conf/user", test_resolv_conf_user);
  g_test_add_func ("/network/dns-errors", test_dns_errors);
  g_test_add_func ("/network/hosts", test_hosts);
  g_test_add_func ("/network/hosts/loopback-name", test_hosts_loopback_name);
  g_test_add_func ("/network/add-host-errors", test_add_host_errors);
  g_test_add_func ("/network/ports-text", test_ports_text);
  g_test_add_func ("/network/addresses", test_addresses);
  g_test_add_func ("/network/mac-address", test_mac_address);
  g_test_add_func ("/network/conflicts", test_conflicts);
  g_test_add_func ("/network/join/map-matches", test_join_map_matches);
  return g_test_run ();
}
