/* A container's spec: every option of `rrun run` (and later `create`), validated before
   any image lookup or pull, and stored with the container as JSON (docs/architecture.md,
   "Containers: spec, verbs, record"). Strings keep the user's spelling, as docker's
   HostConfig does; validation checks them and derives what start needs (net). */
#pragma once

#include <glib.h>

#include "cgroup/cgroup.h"
#include "config.h"
#include "network/network.h"
#include "process/seccomp.h"
#include "util/json-value.h"

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
  gboolean slurm_env;      /* --slurm-env: the caller's variables the image lacks (Slurm) */
  gboolean privileged;
  char **cap_add;
  char **cap_drop;
  char *network;           /* none, host, slirp[...], ns:PATH, container:NAME; NULL: config */
  char *mac_address;       /* --mac-address (slirp, or a user network's eth0) */
  char **network_aliases;  /* --network-alias (user-defined networks) */
  char *ip;                /* --ip: the address on the (first) user-defined network */
  char *ip6;               /* --ip6: its IPv6 address there */
  char *userns;            /* auto, keep-id, nomap, single; NULL: config default */
  char **volumes;          /* -v SRC:DST[:OPTS], NAME:DST[:OPTS] or DST (rootfs/mount-args.h) */
  char **mounts;           /* --mount type=...,source=...,target=... */
  char **tmpfs;            /* --tmpfs DST[:opts] */
  char **volumes_from;     /* --volumes-from CONTAINER[:ro|rw] */
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
  char *pull;              /* --pull missing|always|never; NULL: config->pull_policy */
  gboolean no_tls_verify;  /* --tls-verify=false */
  gboolean quiet_pull;     /* no progress display (rrun -q); not stored */
  gboolean detach;         /* -d: a monitor runs it (container/monitor.c) */
  char *stop_signal;       /* --stop-signal: NULL, the image's STOPSIGNAL or SIGTERM */
  char *stop_timeout;      /* --stop-timeout seconds: NULL, 10 */
  char **labels;           /* --label K=V (and --label-file's lines, read by the CLI) */
  char *cidfile;           /* --cidfile: the full ID is written there at create; not stored */
  char **security_opt;     /* --security-opt seccomp=unconfined|FILE, no-new-privileges,
                              mask=PATHS, unmask=ALL|PATHS, label=disable */
  char *seccomp_profile;   /* the text of seccomp=FILE: read once, at validation, and stored,
                              so start and exec use the profile the container was made with */
  char *restart;           /* --restart no|on-failure[:N]|always|unless-stopped */
  char *health_cmd;        /* --health-cmd: a shell command, or a JSON array (exec form) */
  char *health_interval;   /* --health-interval, a Go duration */
  char *health_timeout;    /* --health-timeout */
  char *health_retries;    /* --health-retries */
  char *health_start_period; /* --health-start-period */
  gboolean no_healthcheck; /* --no-healthcheck: not even the image's */
  char *log_driver;        /* --log-driver k8s-file|none|passthrough */
  char **log_opts;         /* --log-opt max-size=SIZE, max-file=N */
  char **devices;          /* --device HOST[:CONTAINER][:PERMS] or vendor.com/class=NAME */
  char **device_cgroup_rules; /* --device-cgroup-rule "c 195:* rwm" (checked, not applied) */
  char *gpus;              /* --gpus all|N|device=LIST (CDI nvidia.com/gpu, else the driver) */
  char *rootfs;            /* --rootfs DIR: an unpacked root file system; image is NULL */

  /* docker's and podman's other run flags (container/spec-flags.c checks them). */
  char **ulimits;          /* --ulimit NAME=SOFT[:HARD] */
  char *shm_size;          /* --shm-size: /dev/shm's size */
  char **sysctls;          /* --sysctl KEY=VALUE, namespaced keys only */
  char **group_add;        /* --group-add GROUP|GID|keep-groups */
  char *pid;               /* --pid private (default) or host */
  char *uts;               /* --uts private (default) or host */
  char *cgroupns;          /* --cgroupns private (default) or host */
  char *tz;                /* --tz local or Area/City */
  char *umask;             /* --umask, octal */
  gboolean no_hosts;       /* --no-hosts: the image's /etc/hosts stays */
  char **expose;           /* --expose PORT[/PROTO] or a range: ports -P publishes */
  gboolean env_host;       /* --env-host */
  char **env_merge;        /* --env-merge K=TEXT with ${K} of the image's value */
  char **unsetenv;         /* --unsetenv K */
  gboolean unsetenv_all;   /* --unsetenv-all */
  gboolean no_http_proxy;  /* --http-proxy=false: the host's proxy variables stay out */
  char *passwd_entry;      /* --passwd-entry template ($USERNAME, $UID, $GID, $NAME, $HOME) */
  gboolean no_passwd;      /* --passwd=false: no /etc/passwd line for -u UID */
  char **hostuser;         /* --hostuser NAME: the host's passwd line in the container */
  char **annotations;      /* --annotation K=V */
  char *oom_score_adj;     /* --oom-score-adj -1000..1000 */
  char *personality;       /* --personality LINUX|LINUX32 */
  char *preserve_fds;      /* --preserve-fds N: fds 3..N+2 reach the command */
  char *pidfile;           /* --pidfile: PID 1's host pid written there */
  char *timeout;           /* --timeout N: killed after N seconds, exit 255 */
  gboolean replace;        /* --replace: remove the container holding --name first */
  char *sdnotify;          /* --sdnotify container|conmon|ignore */
  gboolean no_read_only_tmpfs; /* --read-only-tmpfs=false */
  char *image_volume;      /* --image-volume bind (default)|tmpfs|ignore */
  gboolean rmi;            /* --rmi: remove the image after the container */
  char *authfile;          /* --authfile for the implicit pull */
  gboolean no_sig_proxy;   /* --sig-proxy=false */
  char *detach_keys;       /* --detach-keys, checked (rrun attach keys) */
  char *init_path;         /* --init-path: an init program of the user's */
  char **chrootdirs;       /* --chrootdirs: paths treated as chroots (stored) */
  char **requires;         /* --requires: containers that must exist (started first) */
  gboolean create_only;    /* not stored: rrun create (the required need not run yet) */
  gboolean from_record;    /* not stored: read back from a record (its networks may be gone
                              since; start finds out) */
  char *platform;          /* --platform OS/ARCH[/VARIANT] (or --os, --arch, --variant) */
  char **secrets;          /* --secret NAME[,type=mount|env][,target=][,mode=] */
  char **uidmaps;          /* --uidmap CONTAINER:INTERMEDIATE:COUNT (podman's) */
  char **gidmaps;          /* --gidmap; the --uidmap ones when not given */
  char *subuidname;        /* --subuidname: must be the caller (newuidmap's rule) */
  char *subgidname;

  /* Derived by rrun_container_spec_validate, not stored: the network options with the
     network mode, -p, --dns, --add-host and --mac-address applied. */
  RrunNetworkOptions *net;
  /* ... and --security-opt's: */
  gboolean seccomp_unconfined;
  RrunSeccompProfile *seccomp;   /* parsed seccomp_profile; NULL: the default profile */
  char **mask_paths;             /* mask=, split at ':' */
  char **unmask_paths;           /* unmask= */
} RrunContainerSpec;

RrunContainerSpec *rrun_container_spec_new (void);
void rrun_container_spec_clear (RrunContainerSpec *spec);
void rrun_container_spec_free (RrunContainerSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunContainerSpec, rrun_container_spec_free)

/* Check every option that can be checked without the image (RRUN_ERROR_INVALID_ARGUMENT
   naming the option), with the config's defaults, and derive spec->net. What needs the
   image (-P's exposed ports, the user's name in /etc/passwd) or the machine's state now
   (a busy port, a container to join) is checked when the container is created. */
gboolean rrun_container_spec_validate (const RrunConfig *config, RrunContainerSpec *spec,
                                       GError **error);

/* The stored form: an object with one member per option that is set. */
void rrun_container_spec_to_json (const RrunContainerSpec *spec, RrunJsonBuilder *b);
/* Read the stored form back and validate it (a record written by hand or damaged gives
   RRUN_ERROR_CORRUPT or the option's own error). */
gboolean rrun_container_spec_from_json (const RrunConfig *config, const RrunJson *object,
                                        RrunContainerSpec **out_spec, GError **error);

/* --stop-timeout in seconds (10 when not given). */
gboolean rrun_container_spec_stop_timeout (const RrunContainerSpec *spec, int *out_seconds,
                                           GError **error);

/* Container names as docker takes them: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 128 bytes. */
gboolean rrun_container_name_valid (const char *name);

G_END_DECLS
