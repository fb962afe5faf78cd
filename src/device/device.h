/* Devices for a container: --device HOST[:CONTAINER][:PERMS], CDI names
   (vendor.com/class=NAME), --gpus and --device-cgroup-rule, resolved into edits the
   container's plan applies (docs/architecture.md, "Devices and GPUs"). A rootless
   container cannot mknod: every device node is the host's, bound in. */
#pragma once

#include <glib.h>

#include "config.h"
#include "util/json-value.h"
#include "rootfs/plan.h"

G_BEGIN_DECLS

typedef struct
{
  char *host;       /* a path on the host */
  char *container;  /* an absolute path in the container */
  gboolean dir;     /* a directory (bind mounts), else a file or a node */
  gboolean read_only;
} RrunDeviceBind;

/* The OCI hook points (runtime-spec config.md, "POSIX-platform Hooks"), in the order a
   container reaches them; prestart, deprecated, runs with createRuntime. */
typedef enum
{
  RRUN_HOOK_CREATE_RUNTIME,   /* host side, once PID 1 exists, before pivot_root */
  RRUN_HOOK_CREATE_CONTAINER, /* in the container's namespaces, before pivot_root */
  RRUN_HOOK_START_CONTAINER,  /* in the container, just before the command's exec */
  RRUN_HOOK_POSTSTART,        /* host side, once the command runs */
  RRUN_HOOK_POSTSTOP,         /* host side, once the container is gone */
  RRUN_HOOK_N_PHASES
} RrunHookPhase;

/* One OCI hook from a CDI spec. */
typedef struct
{
  RrunHookPhase phase;
  char *name;       /* the hookName as the spec spells it ("prestart" stays) */
  char *path;       /* absolute; in the container for startContainer, else on the host */
  char **argv;      /* args (argv[0] included); {path} when the spec gives none */
  char **env;       /* exactly the hook's environment (none inherited) */
  int timeout_s;    /* 0: none */
  char *device;     /* the CDI device (or kind) whose spec holds it, for messages */
} RrunOciHook;

/* What the devices asked for add to a container. */
typedef struct
{
  GPtrArray *nodes;     /* RrunDeviceBind: device nodes */
  GPtrArray *mounts;    /* RrunDeviceBind: files and directories (libraries, binaries) */
  GPtrArray *env;       /* "K=V", set in the container (override the image's) */
  GPtrArray *ld_dirs;   /* container dirs for the dynamic linker (ld.so.conf.d, LD_LIBRARY_PATH) */
  GPtrArray *bin_dirs;  /* container dirs added to PATH */
  GPtrArray *symlinks;  /* pairs: target, link (link absolute in the container) */
  GPtrArray *notes;     /* what was not done, said once as a warning */
  GPtrArray *hooks;     /* RrunOciHook, in the specs' order: run at their hook points */
} RrunDeviceEdits;

RrunDeviceEdits *rrun_device_edits_new (void);
void rrun_device_edits_free (RrunDeviceEdits *edits);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunDeviceEdits, rrun_device_edits_free)
gboolean rrun_device_edits_empty (const RrunDeviceEdits *edits);
void rrun_device_edits_add_node (RrunDeviceEdits *edits, const char *host, const char *container);
void rrun_device_edits_add_mount (RrunDeviceEdits *edits, const char *host,
                                  const char *container, gboolean dir, gboolean read_only);

/* The hooks of one phase, in order (a new array; the hooks stay edits'). */
GPtrArray *rrun_device_edits_hooks (const RrunDeviceEdits *edits, RrunHookPhase phase);
/* "createRuntime", ... */
const char *rrun_hook_phase_name (RrunHookPhase phase);

/* A CDI qualified name: vendor.com/class=NAME (checked syntax). */
gboolean rrun_device_is_cdi_name (const char *spec);

/* docker's --device HOST[:CONTAINER][:PERMS] (no checks on the host). */
gboolean rrun_device_parse (const char *spec, char **out_host, char **out_container,
                            char **out_perms, GError **error);
/* docker's --device-cgroup-rule "TYPE MAJOR:MINOR PERMS" (c 195:* rwm). */
gboolean rrun_device_cgroup_rule_check (const char *rule, GError **error);

/* Where CDI specs are read: $RRUN_CDI_SPEC_DIRS (colon-separated), rrun.conf's
   [engine] cdi_spec_dirs, else /etc/cdi then /var/run/cdi (later wins). */
char **rrun_device_cdi_dirs (const RrunConfig *config);

/* All of it: the devices (paths and CDI names) and --gpus (NULL: none), checked against
   the host now. Warnings for what rootless cannot do are in the edits' notes. */
gboolean rrun_device_resolve (const RrunConfig *config, char **devices, const char *gpus,
                              char **cgroup_rules, RrunDeviceEdits **out_edits,
                              GError **error);

/* The binds, symlinks and the ld.so.conf.d file (written in run_dir) into the plan. */
gboolean rrun_device_edits_add_to_plan (const RrunDeviceEdits *edits, RrunMountPlan *plan,
                                        const char *run_dir, GError **error);
/* The environment after the edits: CDI's variables, PATH and LD_LIBRARY_PATH extended. */
void rrun_device_edits_apply_env (const RrunDeviceEdits *edits, char ***envp);

/* ---- CDI (cdi.c) ---- */
typedef struct RrunCdiRegistry RrunCdiRegistry;
/* Reads every *.json, *.yaml and *.yml spec in dirs (a missing dir is empty). A spec
   that does not parse or validate is an error naming its file. */
gboolean rrun_cdi_registry_load (char **dirs, RrunCdiRegistry **out_registry, GError **error);
void rrun_cdi_registry_free (RrunCdiRegistry *registry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunCdiRegistry, rrun_cdi_registry_free)
/* Whether a device of this kind (nvidia.com/gpu) is known. */
gboolean rrun_cdi_has_kind (const RrunCdiRegistry *registry, const char *kind);
/* Apply vendor.com/class=NAME ("all": every device of the kind, unless a spec names one
   "all"). what: the flag, for messages. */
gboolean rrun_cdi_resolve (const RrunCdiRegistry *registry, const char *name, const char *what,
                           RrunDeviceEdits *edits, GError **error);
/* "kind=name (file)" lines, for rrun info. */
char **rrun_cdi_list (const RrunCdiRegistry *registry);
/* YAML text to the JSON value tree (the subset CDI specs use: no anchors or tags). */
RrunJson *rrun_cdi_yaml_to_json (const char *text, gsize len, GError **error);

/* ---- GPU discovery (gpu.c) ---- */
typedef struct
{
  gboolean all;        /* all, count=all */
  int count;           /* N, count=N: the first N (0: not given) */
  char **ids;          /* device=0,1 or UUIDs */
} RrunGpuRequest;

gboolean rrun_gpu_request_parse (const char *value, RrunGpuRequest *out, GError **error);
void rrun_gpu_request_clear (RrunGpuRequest *request);

/* $RRUN_GPU_ROOT, or "" (the host's root): tests point it at a fake tree. */
const char *rrun_gpu_root (void);

typedef struct
{
  char *vendor;        /* "nvidia" or "amd" */
  char *node;          /* /dev/nvidia0, /dev/dri/renderD128 (container path) */
  char *uuid;          /* NVIDIA: GPU-..., when /proc/driver/nvidia tells; else NULL */
  int index;
} RrunGpu;

/* The GPUs of the machine, NVIDIA first, by index. */
GPtrArray *rrun_gpu_list (void);
void rrun_gpu_free (RrunGpu *gpu);
/* Without CDI: the nodes, libraries and binaries of the driver, as Apptainer's --nv. */
gboolean rrun_gpu_discover (const RrunGpuRequest *request, RrunDeviceEdits *edits,
                            GError **error);
/* The driver's libraries from the dynamic linker's cache (exposed for tests). */
gboolean rrun_gpu_ld_cache_parse (const char *data, gsize len, GPtrArray *out_pairs,
                                  GError **error);

G_END_DECLS
