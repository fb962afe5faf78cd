/* One `rrun run`: resolve the image, prepare the container's directories and plan, start
   it, relay until it exits, and undo everything (processes, directories) on every path. */
#pragma once

#include <glib.h>

#include "cgroup/cgroup.h"
#include "config.h"

G_BEGIN_DECLS

typedef struct
{
  char *image;
  char **args;             /* command after the image (may be empty) */
  char *entrypoint;        /* --entrypoint, NULL when not given ("" clears) */
  char **env;              /* -e */
  char **env_files;        /* --env-file */
  char *workdir;           /* -w */
  char *user;              /* -u */
  char *hostname;          /* --hostname */
  char *name;              /* --name */
  gboolean tty;            /* -t */
  gboolean interactive;    /* -i */
  gboolean rm;             /* --rm */
  gboolean init;           /* --init */
  gboolean privileged;
  char **cap_add;
  char **cap_drop;
  char *network;           /* none, host, slirp[...], ns:PATH, container:NAME; NULL: config */
  char *mac_address;       /* --mac-address (slirp only) */
  char *userns;            /* auto, keep-id, nomap, single; NULL: config default */
  char **volumes;          /* -v SRC:DST[:ro] */
  char **tmpfs;            /* --tmpfs DST[:opts] */
  gboolean read_only;      /* --read-only */
  char *ipc;               /* --ipc: NULL/private or host */
  int root_emulation;      /* -1: default (on in single-ID mode), 0 off, 1 on */
  char **publish;          /* -p [hostIP:]hostPort:containerPort[/proto] */
  gboolean publish_all;    /* -P */
  char **dns;              /* --dns */
  char **dns_search;       /* --dns-search */
  char **dns_option;       /* --dns-option */
  char **add_host;         /* --add-host name:ip */
  char *cgroups;           /* --cgroups enabled|disabled; NULL: config */
  RrunCgroupLimits *limits;
  /* Implicit pull (issue 3): */
  char *pull;              /* --pull missing|always|never; NULL: config->pull_policy */
  gboolean no_tls_verify;  /* --tls-verify=false */
  gboolean quiet_pull;     /* no progress display (rrun -q) */
} RrunRunOptions;

void rrun_run_options_clear (RrunRunOptions *opts);

gboolean rrun_container_run (const RrunConfig *config, const RrunRunOptions *opts,
                             int *out_status, GError **error);

G_END_DECLS
