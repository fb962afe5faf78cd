/* The holder's NAT and isolation rules through nf_tables' netlink API (libnftnl builds the
   messages, libmnl sends them), in one transaction, so no nft(8) is needed at run time:

     table ip rrun {
       chain postrouting { type nat hook postrouting priority srcnat; policy accept;
         ip saddr SUBNET oifname != "BRIDGE" masquerade          (each non-internal network)
       }
       chain forward { type filter hook forward priority filter; policy accept;
         iifname "BRIDGE" oifname "rrun*" oifname != "BRIDGE" drop   (networks isolated)
         iifname "BRIDGE" oifname != "BRIDGE" drop                  (internal: nothing out
         oifname "BRIDGE" iifname != "BRIDGE" drop                   and nothing in)
       }
       chain input { type filter hook input priority filter; policy accept;
         iifname "BRIDGE" ip daddr != GATEWAY drop   (the holder's own addresses: a container
       }                                              reaches its gateway, the DNS server,
     }                                                and no other network's)

   and, where a network has IPv6, the same isolation for it (no NAT: IPv6 stays inside and
   between containers, as docker's with a unique local subnet and no NAT66):

     table ip6 rrun {
       chain forward { ... the same lines ... }
       chain input { type filter hook input priority filter; policy accept;
         iifname "BRIDGE" ip6 daddr != GATEWAY6 ip6 daddr != fe80::/10 ip6 daddr != ff00::/8
           drop                               (neighbour discovery is link-local/multicast)
       }
     }

   The expressions are the ones nft(8) emits for those lines, so `nft list table ip rrun`
   prints them back as written. The table is created, deleted and made again in the same
   batch: the rules replace the old ones atomically. Only rrun-image links this
   (network/holder-ns.c), so `rrun` loads no libmnl at start. */
#include "network/holder.h"
#include "network/netconf.h"
#include "error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#define TABLE "rrun"

typedef struct
{
  char *buf;
  gsize size;
  struct mnl_nlmsg_batch *batch;
  guint32 seq;
  guint16 family; /* NFPROTO_IPV4 or NFPROTO_IPV6: the table being built */
} Batch;

static struct nlmsghdr *
next_hdr (Batch *b, guint16 type, guint16 flags)
{
  return nftnl_nlmsg_build_hdr (mnl_nlmsg_batch_current (b->batch), type, b->family, flags,
                                b->seq++);
}

static gboolean
advance (Batch *b, GError **error)
{
  if (!mnl_nlmsg_batch_next (b->batch))
    return rrun_throw (error, RRUN_ERROR_FAILED, "too many network rules for one batch");
  return TRUE;
}

static gboolean
add_table (Batch *b, guint16 type, guint16 flags, GError **error)
{
  struct nftnl_table *t = nftnl_table_alloc ();

  nftnl_table_set_u32 (t, NFTNL_TABLE_FAMILY, b->family);
  nftnl_table_set_str (t, NFTNL_TABLE_NAME, TABLE);
  nftnl_table_nlmsg_build_payload (next_hdr (b, type, flags), t);
  nftnl_table_free (t);
  return advance (b, error);
}

static gboolean
add_chain (Batch *b, const char *name, const char *type, guint32 hook, gint32 prio,
           GError **error)
{
  struct nftnl_chain *c = nftnl_chain_alloc ();

  nftnl_chain_set_str (c, NFTNL_CHAIN_TABLE, TABLE);
  nftnl_chain_set_str (c, NFTNL_CHAIN_NAME, name);
  nftnl_chain_set_str (c, NFTNL_CHAIN_TYPE, type);
  nftnl_chain_set_u32 (c, NFTNL_CHAIN_HOOKNUM, hook);
  nftnl_chain_set_s32 (c, NFTNL_CHAIN_PRIO, prio);
  nftnl_chain_set_u32 (c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
  nftnl_chain_nlmsg_build_payload (next_hdr (b, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_ACK), c);
  nftnl_chain_free (c);
  return advance (b, error);
}

/* meta load IIFNAME/OIFNAME => reg 1; cmp OP reg 1 NAME (the whole 16 bytes, or only the
   prefix when wildcard: "rrun*"). */
static void
match_ifname (struct nftnl_rule *r, guint32 key, guint32 op, const char *name,
              gboolean wildcard)
{
  struct nftnl_expr *meta = nftnl_expr_alloc ("meta");
  struct nftnl_expr *cmp = nftnl_expr_alloc ("cmp");
  char data[IFNAMSIZ] = { 0 };

  strncpy (data, name, sizeof data - 1);
  nftnl_expr_set_u32 (meta, NFTNL_EXPR_META_KEY, key);
  nftnl_expr_set_u32 (meta, NFTNL_EXPR_META_DREG, NFT_REG_1);
  nftnl_rule_add_expr (r, meta);
  nftnl_expr_set_u32 (cmp, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32 (cmp, NFTNL_EXPR_CMP_OP, op);
  nftnl_expr_set (cmp, NFTNL_EXPR_CMP_DATA, data, wildcard ? strlen (name) : sizeof data);
  nftnl_rule_add_expr (r, cmp);
}

/* ip saddr ADDR/PREFIX: payload load 4b @ network header + 12 => reg 1; bitwise with the
   mask; cmp eq. Addresses in host order. */
static void
match_saddr (struct nftnl_rule *r, guint32 addr, guint prefix)
{
  struct nftnl_expr *payload = nftnl_expr_alloc ("payload");
  struct nftnl_expr *bitwise = nftnl_expr_alloc ("bitwise");
  struct nftnl_expr *cmp = nftnl_expr_alloc ("cmp");
  guint32 mask = htonl (prefix == 0 ? 0 : 0xffffffffu << (32 - prefix));
  guint32 xor = 0;
  guint32 net = htonl (addr) & mask;

  nftnl_expr_set_u32 (payload, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
  nftnl_expr_set_u32 (payload, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
  nftnl_expr_set_u32 (payload, NFTNL_EXPR_PAYLOAD_OFFSET, 12);
  nftnl_expr_set_u32 (payload, NFTNL_EXPR_PAYLOAD_LEN, 4);
  nftnl_rule_add_expr (r, payload);
  nftnl_expr_set_u32 (bitwise, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
  nftnl_expr_set_u32 (bitwise, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
  nftnl_expr_set_u32 (bitwise, NFTNL_EXPR_BITWISE_LEN, 4);
  nftnl_expr_set (bitwise, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
  nftnl_expr_set (bitwise, NFTNL_EXPR_BITWISE_XOR, &xor, 4);
  nftnl_rule_add_expr (r, bitwise);
  nftnl_expr_set_u32 (cmp, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32 (cmp, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
  nftnl_expr_set (cmp, NFTNL_EXPR_CMP_DATA, &net, 4);
  nftnl_rule_add_expr (r, cmp);
}

/* ip daddr != ADDR: payload load 4b @ network header + 16 => reg 1; cmp neq. Host order. */
static void
match_daddr_not (struct nftnl_rule *r, guint32 addr)
{
  struct nftnl_expr *payload = nftnl_expr_alloc ("payload");
  struct nftnl_expr *cmp = nftnl_expr_alloc ("cmp");
  guint32 net = htonl (addr);

  nftnl_expr_set_u32 (payload, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
  nftnl_expr_set_u32 (payload, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
  nftnl_expr_set_u32 (payload, NFTNL_EXPR_PAYLOAD_OFFSET, 16);
  nftnl_expr_set_u32 (payload, NFTNL_EXPR_PAYLOAD_LEN, 4);
  nftnl_rule_add_expr (r, payload);
  nftnl_expr_set_u32 (cmp, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32 (cmp, NFTNL_EXPR_CMP_OP, NFT_CMP_NEQ);
  nftnl_expr_set (cmp, NFTNL_EXPR_CMP_DATA, &net, 4);
  nftnl_rule_add_expr (r, cmp);
}

/* ip6 daddr != ADDR/PREFIX (prefix 128: the address): payload load 16b @ network header +
   24 => reg 1; bitwise with the mask (a prefix); cmp neq. Network order. */
static void
match_daddr6_not (struct nftnl_rule *r, const guint8 addr[16], guint prefix)
{
  struct nftnl_expr *payload = nftnl_expr_alloc ("payload");
  struct nftnl_expr *cmp = nftnl_expr_alloc ("cmp");
  guint8 mask[16] = { 0 }, xor[16] = { 0 }, net[16];

  for (guint i = 0; i < 16; i++)
    {
      guint bits = prefix >= (i + 1) * 8 ? 8 : prefix > i * 8 ? prefix - i * 8 : 0;

      mask[i] = bits == 0 ? 0 : (guint8) (0xff << (8 - bits));
      net[i] = addr[i] & mask[i];
    }
  nftnl_expr_set_u32 (payload, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
  nftnl_expr_set_u32 (payload, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
  nftnl_expr_set_u32 (payload, NFTNL_EXPR_PAYLOAD_OFFSET, 24);
  nftnl_expr_set_u32 (payload, NFTNL_EXPR_PAYLOAD_LEN, 16);
  nftnl_rule_add_expr (r, payload);
  if (prefix < 128)
    {
      struct nftnl_expr *bitwise = nftnl_expr_alloc ("bitwise");

      nftnl_expr_set_u32 (bitwise, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
      nftnl_expr_set_u32 (bitwise, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
      nftnl_expr_set_u32 (bitwise, NFTNL_EXPR_BITWISE_LEN, 16);
      nftnl_expr_set (bitwise, NFTNL_EXPR_BITWISE_MASK, mask, 16);
      nftnl_expr_set (bitwise, NFTNL_EXPR_BITWISE_XOR, xor, 16);
      nftnl_rule_add_expr (r, bitwise);
    }
  nftnl_expr_set_u32 (cmp, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32 (cmp, NFTNL_EXPR_CMP_OP, NFT_CMP_NEQ);
  nftnl_expr_set (cmp, NFTNL_EXPR_CMP_DATA, net, 16);
  nftnl_rule_add_expr (r, cmp);
}

static struct nftnl_rule *
new_rule (Batch *b, const char *chain)
{
  struct nftnl_rule *r = nftnl_rule_alloc ();

  nftnl_rule_set_u32 (r, NFTNL_RULE_FAMILY, b->family);
  nftnl_rule_set_str (r, NFTNL_RULE_TABLE, TABLE);
  nftnl_rule_set_str (r, NFTNL_RULE_CHAIN, chain);
  return r;
}

static gboolean
add_rule (Batch *b, struct nftnl_rule *r, GError **error)
{
  nftnl_rule_nlmsg_build_payload (
      next_hdr (b, NFT_MSG_NEWRULE, NLM_F_APPEND | NLM_F_CREATE | NLM_F_ACK), r);
  nftnl_rule_free (r);
  return advance (b, error);
}

static gboolean
add_drop (Batch *b, struct nftnl_rule *r, GError **error)
{
  struct nftnl_expr *imm = nftnl_expr_alloc ("immediate");

  nftnl_expr_set_u32 (imm, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_u32 (imm, NFTNL_EXPR_IMM_VERDICT, NF_DROP);
  nftnl_rule_add_expr (r, imm);
  return add_rule (b, r, error);
}

/* "table FAMILY rrun {}; delete table FAMILY rrun": made if missing, then gone. */
static gboolean
drop_table (Batch *b, GError **error)
{
  return add_table (b, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_ACK, error)
         && add_table (b, NFT_MSG_DELTABLE, NLM_F_ACK, error);
}

/* The forward chain: networks isolated from each other, internal ones from everything. The
   same rules for both families (they match interface names only). */
static gboolean
build_forward (Batch *b, const GPtrArray *confs, gboolean v6, GError **error)
{
  if (!add_chain (b, "forward", "filter", NF_INET_FORWARD, 0, error))
    return FALSE;
  for (guint i = 0; i < confs->len; i++)
    {
      const RrunNetConf *c = g_ptr_array_index (confs, i);
      struct nftnl_rule *r;

      if (c->builtin || c->interface == NULL || (v6 && !c->ipv6))
        continue;
      r = new_rule (b, "forward");
      match_ifname (r, NFT_META_IIFNAME, NFT_CMP_EQ, c->interface, FALSE);
      match_ifname (r, NFT_META_OIFNAME, NFT_CMP_EQ, "rrun", TRUE);
      match_ifname (r, NFT_META_OIFNAME, NFT_CMP_NEQ, c->interface, FALSE);
      if (!add_drop (b, r, error))
        return FALSE;
      if (!c->internal)
        continue;
      r = new_rule (b, "forward");
      match_ifname (r, NFT_META_IIFNAME, NFT_CMP_EQ, c->interface, FALSE);
      match_ifname (r, NFT_META_OIFNAME, NFT_CMP_NEQ, c->interface, FALSE);
      if (!add_drop (b, r, error))
        return FALSE;
      r = new_rule (b, "forward");
      match_ifname (r, NFT_META_OIFNAME, NFT_CMP_EQ, c->interface, FALSE);
      match_ifname (r, NFT_META_IIFNAME, NFT_CMP_NEQ, c->interface, FALSE);
      if (!add_drop (b, r, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
build_ip (Batch *b, const GPtrArray *confs, GError **error)
{
  b->family = NFPROTO_IPV4;
  if (!drop_table (b, error)
      || !add_table (b, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_ACK, error)
      || !add_chain (b, "postrouting", "nat", NF_INET_POST_ROUTING, 100, error))
    return FALSE;
  for (guint i = 0; i < confs->len; i++)
    {
      const RrunNetConf *c = g_ptr_array_index (confs, i);
      guint32 subnet = 0;
      guint prefix = 0;
      struct nftnl_rule *r;

      if (c->builtin || c->internal || c->interface == NULL)
        continue;
      if (!rrun_netconf_parse_cidr (c->subnet, &subnet, &prefix, error))
        return FALSE;
      r = new_rule (b, "postrouting");
      match_saddr (r, subnet, prefix);
      match_ifname (r, NFT_META_OIFNAME, NFT_CMP_NEQ, c->interface, FALSE);
      nftnl_rule_add_expr (r, nftnl_expr_alloc ("masq"));
      if (!add_rule (b, r, error))
        return FALSE;
    }
  if (!build_forward (b, confs, FALSE, error)
      || !add_chain (b, "input", "filter", NF_INET_LOCAL_IN, 0, error))
    return FALSE;
  for (guint i = 0; i < confs->len; i++)
    {
      const RrunNetConf *c = g_ptr_array_index (confs, i);
      guint32 gateway = 0;
      struct nftnl_rule *r;

      if (c->builtin || c->interface == NULL || c->gateway == NULL)
        continue;
      if (!rrun_netconf_parse_ip (c->gateway, &gateway))
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "network \"%s\": invalid gateway \"%s\"", c->name, c->gateway);
      r = new_rule (b, "input");
      match_ifname (r, NFT_META_IIFNAME, NFT_CMP_EQ, c->interface, FALSE);
      match_daddr_not (r, gateway);
      if (!add_drop (b, r, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
build_ip6 (Batch *b, const GPtrArray *confs, GError **error)
{
  static const guint8 link_local[16] = { 0xfe, 0x80 }, multicast[16] = { 0xff };

  b->family = NFPROTO_IPV6;
  if (!add_table (b, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_ACK, error)
      || !build_forward (b, confs, TRUE, error)
      || !add_chain (b, "input", "filter", NF_INET_LOCAL_IN, 0, error))
    return FALSE;
  for (guint i = 0; i < confs->len; i++)
    {
      const RrunNetConf *c = g_ptr_array_index (confs, i);
      guint8 gateway[16];
      struct nftnl_rule *r;

      if (c->builtin || c->interface == NULL || !c->ipv6)
        continue;
      if (!rrun_netconf_parse_ip6 (c->gateway6, gateway))
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "network \"%s\": invalid gateway \"%s\"", c->name, c->gateway6);
      r = new_rule (b, "input");
      match_ifname (r, NFT_META_IIFNAME, NFT_CMP_EQ, c->interface, FALSE);
      match_daddr6_not (r, gateway, 128);
      match_daddr6_not (r, link_local, 10);
      match_daddr6_not (r, multicast, 8);
      if (!add_drop (b, r, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
build (Batch *b, const GPtrArray *confs, GError **error)
{
  gboolean any6 = FALSE;

  for (guint i = 0; i < confs->len; i++)
    any6 = any6 || ((const RrunNetConf *) g_ptr_array_index (confs, i))->ipv6;
  nftnl_batch_begin (mnl_nlmsg_batch_current (b->batch), b->seq++);
  if (!advance (b, error) || !build_ip (b, confs, error))
    return FALSE;
  /* table ip6 rrun: replaced when a network has IPv6, gone when none has (a host without
     IPv6 never needs it, and may lack the family) */
  if (any6 || g_file_test ("/proc/sys/net/ipv6", G_FILE_TEST_IS_DIR))
    {
      b->family = NFPROTO_IPV6;
      if (!drop_table (b, error) || (any6 && !build_ip6 (b, confs, error)))
        return FALSE;
    }
  nftnl_batch_end (mnl_nlmsg_batch_current (b->batch), b->seq++);
  return advance (b, error);
}

gboolean
rrun_net_holder_load_rules (const GPtrArray *confs, GError **error)
{
  /* ~400 bytes a rule, nine rules a network at most (both families) */
  gsize size = MNL_SOCKET_BUFFER_SIZE * 2 + confs->len * 6144;
  g_autofree char *buf = g_malloc0 (size);
  Batch b = { .buf = buf, .size = size, .seq = (guint32) time (NULL) };
  struct mnl_socket *nl = NULL;
  guint32 first_seq = b.seq, portid;
  char rbuf[MNL_SOCKET_BUFFER_SIZE];
  gboolean ok = FALSE;
  int r;

  b.batch = mnl_nlmsg_batch_start (buf, size);
  if (!build (&b, confs, error))
    goto out;
  nl = mnl_socket_open (NETLINK_NETFILTER);
  if (nl == NULL || mnl_socket_bind (nl, 0, MNL_SOCKET_AUTOPID) < 0)
    {
      rrun_throw_errno (error, errno, "cannot open a netfilter netlink socket");
      goto out;
    }
  portid = mnl_socket_get_portid (nl);
  {
    /* The kernel acks each message; a lost one must not hang the holder. */
    struct timeval tv = { .tv_sec = 5 };

    (void) setsockopt (mnl_socket_get_fd (nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  if (mnl_socket_sendto (nl, mnl_nlmsg_batch_head (b.batch), mnl_nlmsg_batch_size (b.batch))
      < 0)
    {
      rrun_throw_errno (error, errno, "cannot send the network rules");
      goto out;
    }
  /* One ack per message but the batch's begin and end; the first error is the answer. */
  for (guint32 pending = b.seq - first_seq - 2; pending > 0;)
    {
      ssize_t got = mnl_socket_recvfrom (nl, rbuf, sizeof rbuf);
      int n = (int) got;

      if (got < 0)
        {
          rrun_throw_errno (error, errno, "cannot read the answer to the network rules");
          goto out;
        }
      for (struct nlmsghdr *h = (struct nlmsghdr *) rbuf; mnl_nlmsg_ok (h, n);
           h = mnl_nlmsg_next (h, &n))
        {
          if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_pid != portid)
            continue;
          r = ((struct nlmsgerr *) mnl_nlmsg_get_payload (h))->error;
          if (r < 0)
            {
              rrun_throw_errno (error, -r, "cannot load the network rules");
              goto out;
            }
          pending--;
        }
    }
  ok = TRUE;
out:
  if (nl != NULL)
    mnl_socket_close (nl);
  return ok;
}
