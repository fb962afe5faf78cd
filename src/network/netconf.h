/* User-defined networks, their definitions (docs/rrun-network.1.md): one JSON file per
   network under the store,

     STORAGE/networks/NAME.json   docker's `network inspect` fields (Name, Id, Created,
                                  Driver, EnableIPv6, IPAM.Config[0].{Subnet,Gateway,
                                  IPRange}, IPAM.Config[1].{Subnet,Gateway} (IPv6), Internal,
                                  Options, Labels) and the bridge's name
     STORAGE/networks/lock        flock(2)ed exclusively while a network is made or removed

   A file is written to a temporary name and renamed, under the lock, so a network is
   either absent or whole and two creates at once cannot take one subnet twice.

   `bridge` is built in and stored nowhere: docker's name for the default network, which
   in rrun is the default per-container network (a network namespace and an rrun-net of
   its own, 10.0.2.0/24). It is listed and inspected, and cannot be made or removed. */
#pragma once

#include <glib.h>

#include "config.h"
#include "util/json-value.h"

G_BEGIN_DECLS

#define RRUN_NETCONF_DEFAULT "bridge"

typedef struct
{
  char *name;
  char *id;           /* 64 hex */
  char *driver;       /* "bridge" */
  char *created;      /* RFC 3339 */
  char *subnet;       /* "10.89.0.0/24" */
  char *gateway;      /* "10.89.0.1" */
  char *ip_range;     /* NULL: the whole subnet */
  char *interface;    /* the bridge in the network namespace: "rrun1" */
  gboolean internal;  /* no route out */
  gboolean ipv6;      /* --ipv6: subnet6 and gateway6 are set */
  char *subnet6;      /* "fd12:3456:789a::/64" */
  char *gateway6;     /* "fd12:3456:789a::1" */
  gboolean builtin;   /* `bridge` */
  char **labels;      /* "KEY=VALUE" */
  char **options;     /* "KEY=VALUE" */
} RrunNetConf;

void rrun_netconf_free (RrunNetConf *conf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunNetConf, rrun_netconf_free)

/* What `network create` asks for; NULL fields take defaults. */
typedef struct
{
  const char *name;
  const char *driver;   /* NULL: bridge */
  const char *subnet;   /* NULL: the first free 10.89.N.0/24 */
  const char *gateway;  /* NULL: the subnet's first address */
  const char *ip_range;
  gboolean internal;
  gboolean ipv6;         /* --ipv6 */
  const char *subnet6;   /* NULL with ipv6: a unique-local /64 derived from id */
  const char *gateway6;  /* NULL: the IPv6 subnet's first address */
  const char *id;        /* the new network's id (NULL: derived from the name) */
  char **labels;
  char **options;
} RrunNetConfRequest;

/* docker's rule for network names: [a-zA-Z0-9][a-zA-Z0-9_.-]* */
gboolean rrun_netconf_name_valid (const char *name);

/* Pure parsing, for the checks and for unit tests. An IPv4 CIDR with no host bits set
   ("10.89.0.0/24") into a host-order address and a prefix; an IPv4 address. */
gboolean rrun_netconf_parse_cidr (const char *text, guint32 *out_addr, guint *out_prefix,
                                  GError **error);
gboolean rrun_netconf_parse_ip (const char *text, guint32 *out_addr);
/* Whether two CIDRs (address, prefix) share an address. */
gboolean rrun_netconf_overlaps (guint32 a, guint a_prefix, guint32 b, guint b_prefix);

/* IPv6: an address (16 bytes, network order); a CIDR with no host bits set; whether two
   CIDRs share an address; an address's text (inet_ntop's, the form compared everywhere). */
gboolean rrun_netconf_parse_ip6 (const char *text, guint8 out_addr[16]);
gboolean rrun_netconf_parse_cidr6 (const char *text, guint8 out_addr[16], guint *out_prefix,
                                   GError **error);
gboolean rrun_netconf_overlaps6 (const guint8 a[16], guint a_prefix, const guint8 b[16],
                                 guint b_prefix);
char *rrun_netconf_ip6_text (const guint8 addr[16]);

/* Check a request against the networks that exist and fill in its defaults: the conf a
   create would write (no id, time or interface yet). existing: RrunNetConf. Errors are
   RRUN_ERROR_INVALID_ARGUMENT (bad input), RRUN_ERROR_BUSY (name or subnet taken) and
   RRUN_ERROR_UNSUPPORTED (a driver rootless cannot have), each one message. */
gboolean rrun_netconf_check (const RrunNetConfRequest *req, const GPtrArray *existing,
                             RrunNetConf **out_conf, GError **error);

/* Make a network. With ignore, an existing one of that name is the answer (podman's
   --ignore) and *out_created is FALSE. */
gboolean rrun_netconf_create (const RrunConfig *config, const RrunNetConfRequest *req,
                              gboolean ignore, gboolean *out_created, RrunNetConf **out_conf,
                              GError **error);

/* A network by name, full id or unique id prefix (3 characters at least);
   RRUN_ERROR_NOT_FOUND with a hint when there is none. */
gboolean rrun_netconf_lookup (const RrunConfig *config, const char *name_or_id,
                              RrunNetConf **out_conf, GError **error);

/* Every network: `bridge` first, then by name. */
gboolean rrun_netconf_list (const RrunConfig *config, GPtrArray **out_confs, GError **error);

/* Remove a user-defined network's definition (`bridge` is refused). The caller checks
   that no container uses it. */
gboolean rrun_netconf_remove (const RrunConfig *config, const char *name, GError **error);

/* docker's `network inspect` object; containers (may be NULL) is the Containers object's
   content, already built by the caller. */
void rrun_netconf_to_json (const RrunNetConf *conf, const RrunJson *containers,
                           RrunJsonBuilder *b);

/* The value of KEY in a conf's labels or options ("KEY=VALUE" strings), or NULL. */
const char *rrun_netconf_kv (char *const *kv, const char *key);

G_END_DECLS
