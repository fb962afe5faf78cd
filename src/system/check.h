/* `rrun system check`: one diagnosis per thing the machine must provide for rootless
   containers (issue 6), each with the exact command that fixes it. The wording of the
   fixes is the one rrun's own errors use in their hints, so a failed command and the
   check point at the same remedy.
   Use:
     g_autoptr(GPtrArray) checks = rrun_check_all (config);    // of RrunCheck*
     for each: g_autofree char *text = rrun_check_format (check); fputs (text, stdout);
     status = rrun_check_exit_status (checks);                  // 0 or 1 */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "config.h"

G_BEGIN_DECLS

typedef enum
{
  RRUN_CHECK_PASS,
  RRUN_CHECK_WARN, /* works, with less: limits, ports, a fallback in use */
  RRUN_CHECK_FAIL, /* containers will not start (or not with the default settings) */
} RrunCheckStatus;

typedef struct
{
  char *name;   /* short, stable: "subuid", "newuidmap", "userns", ... */
  RrunCheckStatus status;
  char *detail; /* one line: what was found */
  char *fix;    /* the exact command (or NULL for PASS) */
} RrunCheck;

RrunCheck *rrun_check_new (const char *name, RrunCheckStatus status, const char *fix,
                           const char *detail_fmt, ...) G_GNUC_PRINTF (4, 5);
void rrun_check_free (RrunCheck *check);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunCheck, rrun_check_free)

/* "PASS", "WARN", "FAIL". */
const char *rrun_check_status_name (RrunCheckStatus status);

/* "PASS  name: detail\n", plus "      fix: command\n" when not PASS and a fix is known. */
char *rrun_check_format (const RrunCheck *check);

/* 0 when every check is PASS or WARN, else 1. */
int rrun_check_exit_status (GPtrArray *checks);

/* Every check, in a fixed order (of RrunCheck*, freed with the array). */
GPtrArray *rrun_check_all (const RrunConfig *config);

/* --- Pure parts, exposed for unit tests --- */

/* The first integer of a /proc/sys file's text ("1\n"); FALSE when there is none. */
gboolean rrun_check_parse_sysctl (const char *text, gint64 *out_value);

/* The check of a sysctl of the table in check.c (dotted name: "user.max_user_namespaces",
   "kernel.unprivileged_userns_clone", "kernel.apparmor_restrict_unprivileged_userns",
   "net.ipv4.ip_unprivileged_port_start") given the text of its /proc/sys file, NULL when
   the file does not exist. */
RrunCheck *rrun_check_sysctl_text (const char *sysctl, const char *text);

/* net.ipv4.ping_group_range text ("0\t2147483647\n"): the two gids. */
gboolean rrun_check_parse_ping_group_range (const char *text, guint32 *out_low,
                                            guint32 *out_high);

typedef enum
{
  RRUN_CGROUP_MOUNT_NONE,   /* no cgroup file system mounted */
  RRUN_CGROUP_MOUNT_V1,     /* only v1 hierarchies */
  RRUN_CGROUP_MOUNT_HYBRID, /* v1 controllers and a cgroup2 hierarchy beside them */
  RRUN_CGROUP_MOUNT_V2,     /* unified: cgroup2 only */
} RrunCgroupMount;

/* From /proc/self/mounts text; *out_v2_path (may be NULL) gets the cgroup2 mount point. */
RrunCgroupMount rrun_check_parse_cgroup_mounts (const char *text, char **out_v2_path);
/* "none", "v1", "hybrid", "v2" */
const char *rrun_check_cgroup_mount_name (RrunCgroupMount mount);

/* The cgroup v2 state for info and checks: version, own cgroup directory, whether it is
   writable (delegated), and whether a systemd user manager answers on the bus. */
typedef struct
{
  RrunCgroupMount mount;
  char *v2_mount;   /* cgroup2 mount point or NULL */
  char *own_dir;    /* our cgroup's directory under v2_mount, or NULL */
  gboolean own_writable;
  gboolean systemd_user; /* $DBUS_SESSION_BUS_ADDRESS or $XDG_RUNTIME_DIR/bus exists */
  char *systemd_why;     /* why not, when not */
} RrunCgroupState;

void rrun_cgroup_state_free (RrunCgroupState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunCgroupState, rrun_cgroup_state_free)
RrunCgroupState *rrun_check_cgroup_state (void);

/* The network helper rrun-net: $RRUN_NET, next to the binary (../helpers/rrun-net), the
   libexec directory, or PATH. NULL when none is found. */
char *rrun_check_find_net_helper (void);

/* The file system type under path ("ext4", "tmpfs", "nfs", or "0x1234abcd"), honouring
   RRUN_TEST_FSTYPE like rrun_fsmagic_network_fs; the nearest existing parent is used. */
char *rrun_check_fs_type (const char *path);

/* The storage driver "auto" picks on this machine and why. */
const char *rrun_check_auto_driver (char **out_why);

G_END_DECLS
