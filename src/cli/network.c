/* rrun network create|ls|inspect|rm|prune|exists: docker's network commands over the
   network definitions (network/netconf.h). */
#include "cli/cli.h"
#include "cli/common.h"
#include "error.h"
#include "log.h"
#include "network/netconf.h"
#include "network/usernet.h"
#include "util/template.h"

#include <stdio.h>
#include <string.h>

static gboolean
cmd_create (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autofree char *driver = NULL, *ip_range = NULL;
  g_auto(GStrv) labels = NULL, opts = NULL, subnets = NULL, gateways = NULL;
  gboolean help, internal = FALSE, ignore = FALSE, ipv6 = FALSE, created;
  GOptionEntry entries[] = {
    { "driver", 'd', 0, G_OPTION_ARG_STRING, &driver, "Network driver: bridge (the only one)",
      "DRIVER" },
    { "subnet", 0, 0, G_OPTION_ARG_STRING_ARRAY, &subnets,
      "Subnet in CIDR form, IPv4 (default: the first free 10.89.N.0/24) and, with --ipv6, "
      "IPv6 (default: a unique local /64)", "CIDR" },
    { "gateway", 0, 0, G_OPTION_ARG_STRING_ARRAY, &gateways,
      "Gateway address, one per subnet (default: the subnet's first address)", "IP" },
    { "ipv6", 0, 0, G_OPTION_ARG_NONE, &ipv6, "Give the network an IPv6 subnet too", NULL },
    { "ip-range", 0, 0, G_OPTION_ARG_STRING, &ip_range,
      "Give containers addresses from this part of the subnet only", "CIDR" },
    { "internal", 0, 0, G_OPTION_ARG_NONE, &internal, "No route out of the network", NULL },
    { "label", 0, 0, G_OPTION_ARG_STRING_ARRAY, &labels, "Set a label: KEY=VALUE", "LABEL" },
    { "opt", 'o', 0, G_OPTION_ARG_STRING_ARRAY, &opts,
      "Driver option: mtu=N, com.docker.network.bridge.name=NAME", "KEY=VALUE" },
    { "ignore", 0, 0, G_OPTION_ARG_NONE, &ignore,
      "No error when the network exists: keep it as it is (podman's --ignore)", NULL },
    { NULL },
  };
  const RrunCliSpec spec = { "network create", "NAME",
                             "Create a user-defined network.", 1, 1,
                             "rrun network create [OPTIONS] NAME", NULL, FALSE };
  RrunNetConfRequest req = { 0 };
  g_autoptr(RrunNetConf) c = NULL;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    return *out_status = 0, TRUE;
  req.name = argv[1];
  req.driver = driver;
  /* docker's form: one --subnet (and --gateway) per address family */
  for (guint i = 0; subnets && subnets[i]; i++)
    {
      gboolean v6 = strchr (subnets[i], ':') != NULL;
      const char **slot = v6 ? &req.subnet6 : &req.subnet;

      if (*slot != NULL)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "cannot create network: more than one %s --subnet (%s, %s)",
                      v6 ? "IPv6" : "IPv4", *slot, subnets[i]);
          rrun_add_hint (error, "give one IPv4 and, with --ipv6, one IPv6 --subnet");
          return FALSE;
        }
      *slot = subnets[i];
    }
  for (guint i = 0; gateways && gateways[i]; i++)
    {
      gboolean v6 = strchr (gateways[i], ':') != NULL;
      const char **slot = v6 ? &req.gateway6 : &req.gateway;

      if (*slot != NULL)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "cannot create network: more than one %s --gateway (%s, %s)",
                           v6 ? "IPv6" : "IPv4", *slot, gateways[i]);
      *slot = gateways[i];
    }
  req.ipv6 = ipv6;
  req.ip_range = ip_range;
  req.internal = internal;
  req.labels = labels;
  req.options = opts;
  if (!rrun_netconf_create (g->config, &req, ignore, &created, &c, error))
    {
      g_prefix_error (error, "cannot create network: ");
      return FALSE;
    }
  printf ("%s\n", c->name);
  *out_status = 0;
  return TRUE;
}

static const char *const filter_keys[] = { "name=", "id=", "driver=", "label=", "type=", NULL };

static gboolean
check_filters (const char *command, char **filters, GError **error)
{
  for (guint i = 0; filters && filters[i]; i++)
    {
      gboolean ok = FALSE;
      for (guint k = 0; filter_keys[k] && !ok; k++)
        ok = g_str_has_prefix (filters[i], filter_keys[k]);
      if (ok && g_str_has_prefix (filters[i], "type=")
          && strcmp (filters[i] + 5, "custom") != 0 && strcmp (filters[i] + 5, "builtin") != 0)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid filter \"%s\": expected type=custom or type=builtin",
                           filters[i]);
      if (!ok)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid filter \"%s\"", filters[i]);
          rrun_add_hint (error, "%s filters: name=TEXT, id=PREFIX, driver=bridge, "
                                "label=KEY[=VALUE], type=custom|builtin",
                         command);
          return FALSE;
        }
    }
  return TRUE;
}

/* docker: each filter key must match (values of one key: any of them). */
static gboolean
matches (char **filters, const RrunNetConf *c)
{
  for (guint k = 0; filter_keys[k]; k++)
    {
      gboolean seen = FALSE, any = FALSE;
      gsize n = strlen (filter_keys[k]);

      for (guint i = 0; filters && filters[i]; i++)
        {
          const char *v = filters[i] + n;
          if (strncmp (filters[i], filter_keys[k], n) != 0)
            continue;
          seen = TRUE;
          if (k == 0)
            any |= strstr (c->name, v) != NULL;
          else if (k == 1)
            any |= g_str_has_prefix (c->id, v);
          else if (k == 2)
            any |= strcmp (c->driver, v) == 0;
          else if (k == 3)
            any |= rrun_cli_labels_match (c->labels, v);
          else
            any |= (strcmp (v, "builtin") == 0) == c->builtin;
        }
      if (seen && !any)
        return FALSE;
    }
  return TRUE;
}

static void
row_json (const RrunNetConf *c, RrunJsonBuilder *b)
{
  g_autofree char *short_id = g_strndup (c->id, 12);
  g_autoptr(GString) labels = g_string_new (NULL);

  for (guint i = 0; c->labels && c->labels[i]; i++)
    g_string_append_printf (labels, "%s%s", i ? "," : "", c->labels[i]);
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "ID", short_id);
  rrun_json_builder_member_string (b, "Name", c->name);
  rrun_json_builder_member_string (b, "Driver", c->driver);
  rrun_json_builder_member_string (b, "Scope", "local");
  rrun_json_builder_member_string (b, "Subnet", c->subnet);
  rrun_json_builder_member_string (b, "Gateway", c->gateway);
  rrun_json_builder_member_bool (b, "Internal", c->internal);
  rrun_json_builder_member_bool (b, "IPv6", c->ipv6);
  rrun_json_builder_member_string (b, "Labels", labels->str);
  rrun_json_builder_member_string (b, "CreatedAt", c->created);
  rrun_json_builder_end_object (b);
}

static gboolean
cmd_ls (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autofree char *format = NULL;
  g_auto(GStrv) filters = NULL;
  gboolean help, quiet = FALSE, no_trunc = FALSE;
  GOptionEntry entries[] = {
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print network names only", NULL },
    { "no-trunc", 0, 0, G_OPTION_ARG_NONE, &no_trunc, "Print full network ids", NULL },
    { "filter", 'f', 0, G_OPTION_ARG_STRING_ARRAY, &filters,
      "name=TEXT, id=PREFIX, driver=bridge, label=KEY[=VALUE], type=custom|builtin",
      "FILTER" },
    { NULL },
  };
  const RrunCliSpec spec = { "network ls", "", "List networks.", 0, 0,
                             "rrun network ls [OPTIONS]", &format, TRUE };
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) shown = g_ptr_array_new ();
  g_autoptr(RrunTemplate) tmpl = NULL;
  gboolean json;
  guint width = 4;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    return *out_status = 0, TRUE;
  if (!check_filters ("network ls", filters, error))
    return FALSE;
  json = rrun_cli_format_is_json (format);
  if (format != NULL && !json && strcmp (format, "table") != 0
      && (tmpl = rrun_template_new (format, error)) == NULL)
    return FALSE;
  if (!rrun_netconf_list (g->config, &all, error))
    return FALSE;
  for (guint i = 0; i < all->len; i++)
    if (matches (filters, all->pdata[i]))
      {
        g_ptr_array_add (shown, all->pdata[i]);
        width = MAX (width, strlen (((RrunNetConf *) all->pdata[i])->name));
      }
  if (json)
    {
      g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();
      rrun_json_builder_begin_array (b);
      for (guint i = 0; i < shown->len; i++)
        row_json (shown->pdata[i], b);
      rrun_json_builder_end_array (b);
      rrun_cli_print_json_builder (b);
      return *out_status = 0, TRUE;
    }
  if (!quiet && tmpl == NULL)
    printf ("%-*s   %-*s   %-8s%s\n", no_trunc ? 64 : 12, "NETWORK ID", width, "NAME",
            "DRIVER", "  SCOPE");
  for (guint i = 0; i < shown->len; i++)
    {
      const RrunNetConf *c = shown->pdata[i];
      if (quiet)
        printf ("%s\n", c->name);
      else if (tmpl != NULL)
        {
          g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();

          row_json (c, b);
          if (!rrun_cli_print_rendered (tmpl, b, error))
            return FALSE;
        }
      else
        printf ("%-*.*s   %-*s   %-8s  local\n", no_trunc ? 64 : 12, no_trunc ? 64 : 12, c->id,
                width, c->name, c->driver);
    }
  *out_status = 0;
  return TRUE;
}

/* docker's Containers object of a network: its running containers by full id. */
static RrunJson *
containers_json (RrunGlobal *g, const RrunNetConf *c)
{
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();
  g_autoptr(GPtrArray) links = NULL;

  if (c->builtin || !rrun_usernet_list (g->config, NULL, c->name, &links, NULL))
    return NULL;
  rrun_json_builder_begin_object (b);
  for (guint i = 0; i < links->len; i++)
    {
      const RrunUserNetLink *l = links->pdata[i];
      g_autofree char *v4 = g_strdup_printf ("%s/%u", l->ip, l->prefix);
      g_autofree char *v6 = l->ip6 ? g_strdup_printf ("%s/%u", l->ip6, l->prefix6) : g_strdup ("");

      rrun_json_builder_set_member_name (b, l->cid);
      rrun_json_builder_begin_object (b);
      rrun_json_builder_member_string (b, "Name", l->name ? l->name : "");
      rrun_json_builder_member_string (b, "EndpointID", l->host_ifname);
      rrun_json_builder_member_string (b, "MacAddress", l->mac);
      rrun_json_builder_member_string (b, "IPv4Address", v4);
      rrun_json_builder_member_string (b, "IPv6Address", v6);
      rrun_json_builder_member_strv (b, "Aliases", (const char *const *) l->aliases);
      rrun_json_builder_end_object (b);
    }
  rrun_json_builder_end_object (b);
  return rrun_json_builder_get_root (b);
}

static gboolean
inspect_one (RrunGlobal *g, const char *name, RrunJsonBuilder *b, GError **error)
{
  g_autoptr(RrunNetConf) c = NULL;
  g_autoptr(RrunJson) containers = NULL;

  if (!rrun_netconf_lookup (g->config, name, &c, error))
    return FALSE;
  containers = containers_json (g, c);
  rrun_netconf_to_json (c, containers, b);
  return TRUE;
}

static gboolean
cmd_inspect (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autofree char *format = NULL;
  gboolean help;
  const RrunCliSpec spec = { "network inspect", "NETWORK...", "Show networks as JSON.", 1, -1,
                             "rrun network inspect [--format F] NETWORK...", &format, TRUE };

  if (!rrun_cli_parse_args (&spec, NULL, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    return *out_status = 0, TRUE;
  return rrun_cli_inspect_each (g, format, argv + 1, argc - 1, inspect_one, out_status, error);
}

/* No running container uses c; with force, disconnect those that do. */
static gboolean
network_unused (RrunGlobal *g, const RrunNetConf *c, gboolean force, GError **error)
{
  g_autoptr(GPtrArray) links = NULL;

  if (c->builtin)
    return TRUE; /* rrun_netconf_remove refuses it */
  if (!rrun_usernet_list (g->config, NULL, c->name, &links, error))
    return FALSE;
  if (links->len == 0)
    return TRUE;
  if (!force)
    {
      const RrunUserNetLink *l = links->pdata[0];

      rrun_throw (error, RRUN_ERROR_BUSY,
                  "cannot remove network \"%s\": %u container%s use%s it (\"%s\"%s)", c->name,
                  links->len, links->len == 1 ? "" : "s", links->len == 1 ? "s" : "",
                  l->name ? l->name : l->cid, links->len > 1 ? ", ..." : "");
      rrun_add_hint (error, "disconnect them (rrun network disconnect %s CONTAINER), or "
                            "remove it anyway with: rrun network rm -f %s", c->name, c->name);
      return FALSE;
    }
  for (guint i = 0; i < links->len; i++)
    {
      const RrunUserNetLink *l = links->pdata[i];
      g_autoptr(GError) local = NULL;

      if (!rrun_usernet_disconnect (g->config, c->name, l->cid, TRUE, &local))
        rrun_warning ("%s", local->message);
    }
  return TRUE;
}

static gboolean
cmd_rm (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help, force = FALSE;
  GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force,
      "Disconnect the containers that use it; no error for networks that do not exist", NULL },
    { NULL },
  };
  const RrunCliSpec spec = { "network rm", "NETWORK...", "Remove user-defined networks.", 1,
                             -1, "rrun network rm [-f] NETWORK...", NULL, FALSE };
  int failed = 0;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    return *out_status = 0, TRUE;
  for (int i = 1; i < argc; i++)
    {
      g_autoptr(RrunNetConf) c = NULL;
      GError *local = NULL;

      if (rrun_netconf_lookup (g->config, argv[i], &c, &local)
          && network_unused (g, c, force, &local)
          && rrun_netconf_remove (g->config, c->name, &local))
        rrun_usernet_forget_network (g->config, c->name);
      rrun_cli_report_removal (argv[i], force, local, &failed);
    }
  *out_status = failed ? RRUN_EXIT_FAILED : 0;
  return TRUE;
}

static gboolean
cmd_prune (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help, force = FALSE, first = TRUE;
  g_auto(GStrv) filters = NULL;
  GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Do not ask for confirmation", NULL },
    { "filter", 0, 0, G_OPTION_ARG_STRING_ARRAY, &filters, "label=KEY[=VALUE], name=TEXT",
      "FILTER" },
    { NULL },
  };
  const RrunCliSpec spec = { "network prune", "",
                             "Remove the user-defined networks no container uses.", 0, 0,
                             "rrun network prune [-f]", NULL, FALSE };
  g_autoptr(GPtrArray) all = NULL;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    return *out_status = 0, TRUE;
  if (!check_filters ("network prune", filters, error))
    return FALSE;
  if (!force && !rrun_cli_confirm ("all custom networks not used by at least one container"))
    return *out_status = 0, TRUE;
  if (!rrun_netconf_list (g->config, &all, error))
    return FALSE;
  for (guint i = 0; i < all->len; i++)
    {
      const RrunNetConf *c = all->pdata[i];
      g_autoptr(GError) local = NULL;

      if (c->builtin || !matches (filters, c) || !network_unused (g, c, FALSE, NULL))
        continue;
      if (!rrun_netconf_remove (g->config, c->name, &local))
        {
          rrun_log_print_error (local);
          continue;
        }
      rrun_usernet_forget_network (g->config, c->name);
      if (first)
        printf ("Deleted Networks:\n"), first = FALSE;
      printf ("%s\n", c->name);
    }
  *out_status = 0;
  return TRUE;
}

static gboolean
cmd_exists (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help;
  const RrunCliSpec spec = { "network exists", "NETWORK",
                             "Exit 0 when the network exists, 1 when it does not.", 1, 1,
                             "rrun network exists NETWORK", NULL, FALSE };
  g_autoptr(RrunNetConf) c = NULL;
  GError *local = NULL;

  if (!rrun_cli_parse_args (&spec, NULL, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    return *out_status = 0, TRUE;
  rrun_netconf_lookup (g->config, argv[1], &c, &local);
  return rrun_cli_exists_status (local, out_status, error);
}

static gboolean
cmd_connect (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_auto(GStrv) aliases = NULL;
  g_autofree char *ip = NULL, *ip6 = NULL;
  gboolean help;
  GOptionEntry entries[] = {
    { "alias", 0, 0, G_OPTION_ARG_STRING_ARRAY, &aliases,
      "Another name of the container on this network", "NAME" },
    { "ip", 0, 0, G_OPTION_ARG_STRING, &ip, "The container's address on this network",
      "IPV4" },
    { "ip6", 0, 0, G_OPTION_ARG_STRING, &ip6,
      "The container's IPv6 address on this network (made with --ipv6)", "IPV6" },
    { NULL },
  };
  const RrunCliSpec spec = { "network connect", "NETWORK CONTAINER",
                             "Connect a running container to a network: a new interface.", 2,
                             2,
                             "rrun network connect [--alias NAME] [--ip IP] [--ip6 IPV6] "
                             "NETWORK CONTAINER",
                             NULL, FALSE };

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    return *out_status = 0, TRUE;
  for (guint i = 0; aliases && aliases[i]; i++)
    if (!rrun_netconf_name_valid (aliases[i]))
      return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid --alias \"%s\"",
                         aliases[i]);
  if (!rrun_usernet_connect (g->config, argv[1], argv[2], aliases, ip, ip6, error))
    return FALSE;
  *out_status = 0;
  return TRUE;
}

static gboolean
cmd_disconnect (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help, force = FALSE;
  GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force,
      "No error when it is not connected; give the address back even when the interface "
      "cannot be removed", NULL },
    { NULL },
  };
  const RrunCliSpec spec = { "network disconnect", "NETWORK CONTAINER",
                             "Disconnect a container from a network.", 2, 2,
                             "rrun network disconnect [-f] NETWORK CONTAINER", NULL, FALSE };

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    return *out_status = 0, TRUE;
  if (!rrun_usernet_disconnect (g->config, argv[1], argv[2], force, error))
    return FALSE;
  *out_status = 0;
  return TRUE;
}

static const RrunCommand network_commands[] = {
  { "connect", cmd_connect, "connect a running container to a network", FALSE },
  { "disconnect", cmd_disconnect, "disconnect a container from a network", FALSE },
  { "create", cmd_create, "create a network", FALSE },
  { "ls", cmd_ls, "list networks", FALSE },
  { "list", cmd_ls, "list networks (same as ls)", TRUE },
  { "inspect", cmd_inspect, "show networks as JSON", FALSE },
  { "rm", cmd_rm, "remove networks", FALSE },
  { "remove", cmd_rm, "remove networks (same as rm)", TRUE },
  { "prune", cmd_prune, "remove networks no container uses", FALSE },
  { "exists", cmd_exists, "tell whether a network exists (exit status)", FALSE },
  { NULL, NULL, NULL, FALSE },
};

gboolean
rrun_cmd_network (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return rrun_cli_run_group ("network", network_commands, "ls", g, argc, argv, out_status,
                             error);
}
