/* User-defined network definitions: CIDR parsing, overlap, and the checks of create. */
#include <string.h>

#include "error.h"
#include "network/netconf.h"

static void
test_parse_cidr (void)
{
  guint32 addr;
  guint prefix;
  g_autoptr (GError) error = NULL;

  g_assert_true (rrun_netconf_parse_cidr ("10.89.3.0/24", &addr, &prefix, &error));
  g_assert_no_error (error);
  g_assert_cmphex (addr, ==, 0x0a590300);
  g_assert_cmpuint (prefix, ==, 24);
  g_assert_true (rrun_netconf_parse_cidr ("0.0.0.0/0", &addr, &prefix, NULL));

  g_assert_false (rrun_netconf_parse_cidr ("10.89.3.7/24", &addr, &prefix, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==,
                   "invalid subnet \"10.89.3.7/24\": the address has bits set after the "
                   "prefix\nhint: did you mean 10.89.3.0/24?");
  g_clear_error (&error);
  for (const char *const *bad = (const char *const[]){ "10.0.0.0", "10.0.0.0/", "10.0.0.0/x",
                                                       "10.0.0/8", "10.0.0.0/24x", "/24",
                                                       "10.0.0.0/-1", NULL };
       *bad; bad++)
    {
      g_assert_false (rrun_netconf_parse_cidr (*bad, &addr, &prefix, &error));
      g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
  /* an IPv6 subnet is not an IPv4 one (rrun_netconf_parse_cidr6 reads those) */
  g_assert_false (rrun_netconf_parse_cidr ("fd00::/64", &addr, &prefix, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
}

static void
test_parse_cidr6 (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  guint8 addr[16], other[16];
  guint prefix = 0;

  g_assert_true (rrun_netconf_parse_cidr6 ("fd00:1:0::/64", addr, &prefix, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (prefix, ==, 64);
  text = rrun_netconf_ip6_text (addr);
  g_assert_cmpstr (text, ==, "fd00:1::");
  g_assert_false (rrun_netconf_parse_cidr6 ("fd00:1::1/64", addr, &prefix, &error));
  g_assert_cmpstr (error->message, ==, "invalid subnet \"fd00:1::1/64\": the address has bits "
                                       "set after the prefix\nhint: did you mean fd00:1::/64?");
  g_clear_error (&error);
  for (const char *const *bad = (const char *const[]){ "fd00::", "fd00::/", "fd00::/129",
                                                       "fd00::/x", "10.0.0.0/8", "fd00:::/64",
                                                       NULL };
       *bad; bad++)
    {
      g_assert_false (rrun_netconf_parse_cidr6 (*bad, addr, &prefix, &error));
      g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
  g_assert_true (rrun_netconf_parse_ip6 ("fd00:1::8000", addr));
  g_assert_true (rrun_netconf_parse_ip6 ("fd00:1::", other));
  g_assert_true (rrun_netconf_overlaps6 (addr, 128, other, 64));
  g_assert_true (rrun_netconf_overlaps6 (other, 112, addr, 128));
  g_assert_false (rrun_netconf_overlaps6 (other, 113, addr, 128));
  g_assert_true (rrun_netconf_parse_ip6 ("fd00:2::", addr));
  g_assert_false (rrun_netconf_overlaps6 (addr, 64, other, 64));
  g_assert_true (rrun_netconf_overlaps6 (addr, 14, other, 64));
  g_assert_false (rrun_netconf_parse_ip6 ("10.0.0.1", addr));
}

static void
test_overlaps (void)
{
  g_assert_true (rrun_netconf_overlaps (0x0a590000, 16, 0x0a590300, 24));
  g_assert_true (rrun_netconf_overlaps (0x0a590300, 24, 0x0a590000, 16));
  g_assert_false (rrun_netconf_overlaps (0x0a590300, 24, 0x0a590400, 24));
  g_assert_true (rrun_netconf_overlaps (0x0a000000, 8, 0x0a000280, 25));
}

static RrunNetConf *
existing (const char *name, const char *subnet, const char *ifname)
{
  RrunNetConf *c = g_new0 (RrunNetConf, 1);

  c->name = g_strdup (name);
  c->subnet = g_strdup (subnet);
  c->interface = g_strdup (ifname);
  return c;
}

static void
test_check_defaults (void)
{
  g_autoptr (GPtrArray) nets = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_netconf_free);
  RrunNetConfRequest req = { .name = "web" };
  g_autoptr (RrunNetConf) c = NULL;
  g_autoptr (GError) error = NULL;

  g_ptr_array_add (nets, existing ("bridge", "10.0.2.0/24", "tap0"));
  g_ptr_array_add (nets, existing ("a", "10.89.0.0/24", "rrun1"));
  g_ptr_array_add (nets, existing ("b", "10.89.2.0/23", "rrun3"));
  g_assert_true (rrun_netconf_check (&req, nets, &c, &error));
  g_assert_no_error (error);
  /* the first free /24 of 10.89.N.0, the first free rrunN */
  g_assert_cmpstr (c->subnet, ==, "10.89.1.0/24");
  g_assert_cmpstr (c->gateway, ==, "10.89.1.1");
  g_assert_cmpstr (c->interface, ==, "rrun2");
  g_assert_cmpstr (c->driver, ==, "bridge");
  g_assert_null (c->ip_range);
  g_clear_pointer (&c, rrun_netconf_free);

  req.subnet = "192.168.5.0/24";
  req.gateway = "192.168.5.200";
  req.ip_range = "192.168.5.128/26";
  g_assert_true (rrun_netconf_check (&req, nets, &c, &error));
  g_assert_cmpstr (c->subnet, ==, "192.168.5.0/24");
  g_assert_cmpstr (c->gateway, ==, "192.168.5.200");
  g_assert_cmpstr (c->ip_range, ==, "192.168.5.128/26");
  g_assert_false (c->ipv6);
  g_assert_null (c->subnet6);
}

static void
test_check_ipv6 (void)
{
  g_autoptr (GPtrArray) nets = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_netconf_free);
  RrunNetConfRequest req = { .name = "v6", .ipv6 = TRUE,
                             .id = "0123456789abcdef0123456789abcdef" };
  g_autoptr (RrunNetConf) c = NULL;
  g_autoptr (GError) error = NULL;
  RrunNetConf *e;

  g_ptr_array_add (nets, existing ("bridge", "10.0.2.0/24", "tap0"));
  /* no subnet: fd and 40 bits of the id, a /64; the gateway ::1 */
  g_assert_true (rrun_netconf_check (&req, nets, &c, &error));
  g_assert_no_error (error);
  g_assert_true (c->ipv6);
  g_assert_cmpstr (c->subnet6, ==, "fd01:2345:6789::/64");
  g_assert_cmpstr (c->gateway6, ==, "fd01:2345:6789::1");
  /* taken: the next /64 */
  e = existing ("a", "10.89.0.0/24", "rrun1");
  e->ipv6 = TRUE;
  e->subnet6 = g_strdup ("fd01:2345:6789::/64");
  e->gateway6 = g_strdup ("fd01:2345:6789::1");
  g_ptr_array_add (nets, e);
  g_clear_pointer (&c, rrun_netconf_free);
  g_assert_true (rrun_netconf_check (&req, nets, &c, &error));
  g_assert_cmpstr (c->subnet6, ==, "fd01:2345:6789:1::/64");
  g_clear_pointer (&c, rrun_netconf_free);
  req.subnet6 = "fd00:9::/80";
  req.gateway6 = "fd00:9::ff";
  g_assert_true (rrun_netconf_check (&req, nets, &c, &error));
  g_assert_cmpstr (c->subnet6, ==, "fd00:9::/80");
  g_assert_cmpstr (c->gateway6, ==, "fd00:9::ff");
  g_assert_cmpstr (c->subnet, ==, "10.89.1.0/24");
  /* errors */
  g_clear_pointer (&c, rrun_netconf_free);
  req.gateway6 = NULL;
  req.subnet6 = "fd01:2345::/32";
  g_assert_false (rrun_netconf_check (&req, nets, &c, &error));
  g_assert_cmpstr (error->message, ==, "subnet fd01:2345::/32 overlaps network \"a\" "
                                       "(fd01:2345:6789::/64)\nhint: choose another IPv6 "
                                       "--subnet, or leave it out for a free one");
  g_clear_error (&error);
  req.subnet6 = "fd00::/16";
  g_assert_false (rrun_netconf_check (&req, nets, &c, &error));
  g_assert_cmpstr (error->message, ==, "subnet fd00::/16 overlaps rrun-net's IPv6 link "
                                       "(fd00::/64)\nhint: choose another IPv6 --subnet, or "
                                       "leave it out for a free one");
  g_clear_error (&error);
  req.subnet6 = NULL;
  req.id = "0000000000ff";
  g_assert_true (rrun_netconf_check (&req, nets, &c, &error));
  g_assert_cmpstr (c->subnet6, ==, "fd00:0:0:1::/64");
  g_clear_pointer (&c, rrun_netconf_free);
  req.ipv6 = FALSE;
  req.subnet6 = "fd00:9::/64";
  g_assert_false (rrun_netconf_check (&req, nets, &c, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_assert_true (g_str_has_prefix (error->message, "an IPv6 --subnet needs --ipv6\nhint: "));
  g_clear_error (&error);
  req.ipv6 = TRUE;
  req.subnet6 = "fe80::/64";
  g_assert_false (rrun_netconf_check (&req, nets, &c, &error));
  g_assert_true (g_str_has_prefix (error->message,
                                   "invalid subnet \"fe80::/64\": its addresses are link-local"));
  g_clear_error (&error);
  req.subnet6 = "fd00:9::/64";
  req.gateway6 = "fd00:9::";
  g_assert_false (rrun_netconf_check (&req, nets, &c, &error));
  g_assert_cmpstr (error->message, ==, "gateway fd00:9:: is the subnet-router address of "
                                       "subnet fd00:9::/64");
  g_assert_null (c);
}

static void
test_check_errors (void)
{
  static char *mtu20[] = { "mtu=20", NULL };
  static char *taken_if[] = { "com.docker.network.bridge.name=rrun1", NULL };
  const struct
  {
    RrunNetConfRequest req;
    gint code;
    const char *message;
  } cases[] = {
    { { .name = "a" }, RRUN_ERROR_BUSY, "network \"a\" already exists" },
    { { .name = "-x" }, RRUN_ERROR_INVALID_ARGUMENT,
      "invalid network name \"-x\"\nhint: a network name is a letter or digit, then letters, "
      "digits, '_', '.' or '-' (as with docker)" },
    { { .name = "host" }, RRUN_ERROR_INVALID_ARGUMENT,
      "network name \"host\" is reserved for a built-in network mode\nhint: choose another "
      "name" },
    { { .name = "n", .subnet = "10.89.0.128/25" }, RRUN_ERROR_BUSY,
      "subnet 10.89.0.128/25 overlaps network \"a\" (10.89.0.0/24)\nhint: choose another "
      "--subnet, or leave it out for a free one" },
    { { .name = "n", .subnet = "10.0.0.0/8" }, RRUN_ERROR_BUSY,
      "subnet 10.0.0.0/8 overlaps network \"bridge\" (10.0.2.0/24)\nhint: choose another "
      "--subnet, or leave it out for a free one" },
    { { .name = "n", .subnet = "10.9.0.0/31" }, RRUN_ERROR_INVALID_ARGUMENT,
      "invalid subnet \"10.9.0.0/31\": the prefix length must be 8 to 30 (room for a gateway "
      "and containers)" },
    { { .name = "n", .subnet = "10.9.0.0/24", .gateway = "10.9.0.0" },
      RRUN_ERROR_INVALID_ARGUMENT, "gateway 10.9.0.0 is the network address of subnet "
                                   "10.9.0.0/24" },
    { { .name = "n", .subnet = "10.9.0.0/24", .gateway = "gw" }, RRUN_ERROR_INVALID_ARGUMENT,
      "invalid gateway \"gw\": expected an IPv4 address" },
    { { .name = "n", .subnet = "10.9.0.0/24", .ip_range = "10.9.0.0/23" },
      RRUN_ERROR_INVALID_ARGUMENT, "ip range 10.9.0.0/23 is outside subnet 10.9.0.0/24" },
    { { .name = "n", .subnet = "10.9.0.0/30", .gateway = "10.9.0.2", .ip_range = "10.9.0.2/32" },
      RRUN_ERROR_INVALID_ARGUMENT, "ip range 10.9.0.2/32 leaves no address for a container" },
    { { .name = "n", .ip_range = "10.9.0.0/24" }, RRUN_ERROR_INVALID_ARGUMENT,
      "--ip-range needs --subnet\nhint: for example: --subnet 10.90.0.0/24 --gateway "
      "10.90.0.1" },
    { { .name = "n", .driver = "ipvlan" }, RRUN_ERROR_UNSUPPORTED, NULL },
    { { .name = "n", .options = mtu20 }, RRUN_ERROR_INVALID_ARGUMENT,
      "invalid network option \"mtu=20\": the MTU must be 68 to 65520" },
    { { .name = "n", .options = taken_if },
      RRUN_ERROR_BUSY, "bridge name \"rrun1\" is taken by network \"a\"" },
  };
  g_autoptr (GPtrArray) nets = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_netconf_free);

  g_ptr_array_add (nets, existing ("bridge", "10.0.2.0/24", "tap0"));
  g_ptr_array_add (nets, existing ("a", "10.89.0.0/24", "rrun1"));
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (RrunNetConf) c = NULL;
      g_autoptr (GError) error = NULL;

      g_assert_false (rrun_netconf_check (&cases[i].req, nets, &c, &error));
      g_assert_error (error, RRUN_ERROR, cases[i].code);
      if (cases[i].message)
        g_assert_cmpstr (error->message, ==, cases[i].message);
      g_assert_null (c);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/netconf/parse-cidr", test_parse_cidr);
  g_test_add_func ("/netconf/parse-cidr6", test_parse_cidr6);
  g_test_add_func ("/netconf/overlaps", test_overlaps);
  g_test_add_func ("/netconf/check-ipv6", test_check_ipv6);
  g_test_add_func ("/netconf/check-defaults", test_check_defaults);
  g_test_add_func ("/netconf/check-errors", test_check_errors);
  return g_test_run ();
}
