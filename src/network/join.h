/* --network container:NAME|ID and --network ns:PATH, host side: find the network namespace,
   the user namespace that owns it (which the container enters instead of creating its own,
   since setns(CLONE_NEWNET) needs CAP_SYS_ADMIN there), and check that this user can join
   it and that its id map is the one this container would get. */
#pragma once

#include <glib.h>

#include "config.h"
#include "userns/idmap.h"
#include "network/network.h"

G_BEGIN_DECLS

typedef struct
{
  int userns_fd;  /* the owner of netns_fd: the container enters it (setns) */
  int netns_fd;
  char *what;     /* for messages: "container \"web\"" or "\"/proc/123/ns/net\"" */
  char *run_dir;  /* container: the joined container's run dir (hosts, resolv.conf) */
  char *hostname; /* container: the joined container's host name; else NULL */
} RrunNetnsJoin;

void rrun_netns_join_free (RrunNetnsJoin *join);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunNetnsJoin, rrun_netns_join_free)

/* Open the namespaces that opts (mode RRUN_NETWORK_CONTAINER or RRUN_NETWORK_NS) names.
   Fails with a hint when the namespace is not a network namespace, belongs to the host's
   user namespace (made by root) or to another user, or when its user namespace maps ids
   differently from map (the joining container's --userns). */
gboolean rrun_netns_join_open (const RrunConfig *config, const RrunNetworkOptions *opts,
                               const RrunIdMap *map, RrunNetnsJoin **out, GError **error);

/* --pid container:NAME and --ipc container:NAME: the user namespace of the running
   container target, which the new container enters, and its PID and/or IPC namespace. */
typedef struct
{
  int userns_fd;
  int pidns_fd;   /* -1: not joined */
  int ipcns_fd;   /* -1: not joined */
  char *what;     /* for messages: "container \"web\"" */
} RrunNsJoin;

void rrun_ns_join_free (RrunNsJoin *join);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunNsJoin, rrun_ns_join_free)

/* Open them, with the checks of rrun_netns_join_open (owner, id map); exit 125 with a hint
   when target is not a running container. */
gboolean rrun_ns_join_open (const RrunConfig *config, const char *target, gboolean pid,
                            gboolean ipc, const RrunIdMap *map, RrunNsJoin **out,
                            GError **error);

/* Whether uid_map/gid_map text (as /proc/PID/uid_map shows it) holds exactly mappings, in
   any order. */
gboolean rrun_netns_join_map_matches (const char *proc_text, GArray *mappings);

/* "0 1001 1, 1 100000 65536": map text on one line, for messages. */
char *rrun_netns_join_map_text (const char *proc_text);

G_END_DECLS
