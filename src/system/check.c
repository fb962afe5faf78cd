/* The checks of `rrun system check` (check.h). */
#include "system/check.h"
#include "network/network.h"
#include "error.h"
#include "userns/idmap.h"
#include "overlay/overlay.h"
#include "rrun-config.h"
#include "storage/fsmagic.h"
#include "util/path.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#define FIX_SUBUID_SETUP "sudo subuid-setup.sh --fix"

RrunCheck *
rrun_check_new (const char *name, RrunCheckStatus status, const char *fix,
                const char *detail_fmt, ...)
{
  RrunCheck *c = g_new0 (RrunCheck, 1);
  va_list ap;

  c->name = g_strdup (name);
  c->status = status;
  c->fix = status == RRUN_CHECK_PASS ? NULL : g_strdup (fix);
  va_start (ap, detail_fmt);
  c->detail = g_strdup_vprintf (detail_fmt, ap);
  va_end (ap);
  return c;
}

void
rrun_check_free (RrunCheck *check)
{
  if (check == NULL)
    return;
  g_free (check->name);
  g_free (check->detail);
  g_free (check->fix);
  g_free (check);
}

const char *
rrun_check_status_name (RrunCheckStatus status)
{
  switch (status)
    {
    case RRUN_CHECK_PASS:
      return "PASS";
    case RRUN_CHECK_WARN:
      return "WARN";
    case RRUN_CHECK_FAIL:
    default:
      return "FAIL";
    }
}

char *
rrun_check_format (const RrunCheck *check)
{
  GString *out = g_string_new (NULL);

  g_string_append_printf (out, "%s  %s: %s\n", rrun_check_status_name (check->status),
                          check->name, check->detail);
  if (check->status != RRUN_CHECK_PASS && check->fix != NULL)
    g_string_append_printf (out, "      fix: %s\n", check->fix);
  return g_string_free (out, FALSE);
}

int
rrun_check_exit_status (GPtrArray *checks)
{
  for (guint i = 0; i < checks->len; i++)
    if (((RrunCheck *) checks->pdata[i])->status == RRUN_CHECK_FAIL)
      return 1;
  return 0;
}

gboolean
rrun_check_parse_sysctl (const char *text, gint64 *out_value)
{
  char *end;
  gint64 v;

  if (text == NULL)
    return FALSE;
  while (g_ascii_isspace (*text))
    text++;
  if (*text == '\0')
    return FALSE;
  errno = 0;
  v = g_ascii_strtoll (text, &end, 10);
  if (errno != 0 || end == text || (*end != '\0' && !g_ascii_isspace (*end)))
    return FALSE;
  *out_value = v;
  return TRUE;
}

gboolean
rrun_check_parse_ping_group_range (const char *text, guint32 *out_low, guint32 *out_high)
{
  g_auto(GStrv) parts = NULL;
  guint64 v[2];
  guint n = 0;

  if (text == NULL)
    return FALSE;
  parts = g_strsplit_set (text, " \t\n", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      char *end;

      if (*parts[i] == '\0')
        continue;
      if (n == 2)
        return FALSE;
      errno = 0;
      v[n] = g_ascii_strtoull (parts[i], &end, 10);
      if (errno != 0 || *end != '\0' || v[n] > G_MAXUINT32 || parts[i][0] == '-')
        return FALSE;
      n++;
    }
  if (n != 2)
    return FALSE;
  *out_low = (guint32) v[0];
  *out_high = (guint32) v[1];
  return TRUE;
}

RrunCgroupMount
rrun_check_parse_cgroup_mounts (const char *text, char **out_v2_path)
{
  g_auto(GStrv) lines = g_strsplit (text ? text : "", "\n", -1);
  gboolean v1 = FALSE, v2 = FALSE;

  if (out_v2_path)
    *out_v2_path = NULL;
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], " ", 4);

      if (g_strv_length (f) < 3)
        continue;
      if (strcmp (f[2], "cgroup2") == 0)
        {
          if (!v2 && out_v2_path)
            *out_v2_path = g_strcompress (f[1]); /* \040 for spaces */
          v2 = TRUE;
        }
      else if (strcmp (f[2], "cgroup") == 0)
        v1 = TRUE;
    }
  if (v2)
    return v1 ? RRUN_CGROUP_MOUNT_HYBRID : RRUN_CGROUP_MOUNT_V2;
  return v1 ? RRUN_CGROUP_MOUNT_V1 : RRUN_CGROUP_MOUNT_NONE;
}

const char *
rrun_check_cgroup_mount_name (RrunCgroupMount mount)
{
  static const char *const names[] = { "none", "v1", "hybrid", "v2" };

  return names[mount];
}

void
rrun_cgroup_state_free (RrunCgroupState *state)
{
  if (state == NULL)
    return;
  g_free (state->v2_mount);
  g_free (state->own_dir);
  g_free (state->systemd_why);
  g_free (state);
}

RrunCgroupState *
rrun_check_cgroup_state (void)
{
  RrunCgroupState *s = g_new0 (RrunCgroupState, 1);
  g_autofree char *mounts = NULL;
  g_autofree char *self = NULL;
  const char *bus = g_getenv ("DBUS_SESSION_BUS_ADDRESS");
  const char *xdg = g_getenv ("XDG_RUNTIME_DIR");

  if (g_file_get_contents ("/proc/self/mounts", &mounts, NULL, NULL))
    s->mount = rrun_check_parse_cgroup_mounts (mounts, &s->v2_mount);
  if (s->v2_mount != NULL && g_file_get_contents ("/proc/self/cgroup", &self, NULL, NULL))
    {
      g_auto(GStrv) lines = g_strsplit (self, "\n", -1);

      for (guint i = 0; lines[i] != NULL; i++)
        if (g_str_has_prefix (lines[i], "0::/"))
          {
            /* Inside a cgroup namespace the path is relative to the mount's root, which
               is also what the mount shows: joining them is right in both cases. */
            g_autofree char *joined = g_build_filename (s->v2_mount, lines[i] + 3, NULL);

            s->own_dir = g_canonicalize_filename (joined, "/");
            break;
          }
    }
  if (s->own_dir != NULL)
    {
      g_autofree char *procs = g_build_filename (s->own_dir, "cgroup.procs", NULL);
      g_autofree char *subtree = g_build_filename (s->own_dir, "cgroup.subtree_control",
                                                   NULL);

      s->own_writable = access (s->own_dir, W_OK) == 0 && access (procs, W_OK) == 0
                        && access (subtree, W_OK) == 0;
    }
  if (bus != NULL && *bus != '\0')
    s->systemd_user = TRUE;
  else if (xdg != NULL && *xdg == '/')
    {
      g_autofree char *path = g_build_filename (xdg, "bus", NULL);

      s->systemd_user = g_file_test (path, G_FILE_TEST_EXISTS);
      if (!s->systemd_user)
        s->systemd_why = g_strdup_printf ("no session bus at %s", path);
    }
  else
    s->systemd_why = g_strdup ("XDG_RUNTIME_DIR is not set");
  return s;
}

char *
rrun_check_find_net_helper (void)
{
  /* The same lookup rrun run uses: $RRUN_NET, next to the binary, libexecdir. */
  return rrun_network_find_helper (NULL);
}

char *
rrun_check_fs_type (const char *path)
{
  static const struct
  {
    unsigned int magic;
    const char *name;
  } local[] = {
    { 0xEF53, "ext4" },        { 0x58465342, "xfs" },    { 0x9123683E, "btrfs" },
    { 0x01021994, "tmpfs" },   { 0x794C7630, "overlay" }, { 0x2FC12FC1, "zfs" },
    { 0x65735546, "fuse" },    { 0x858458F6, "ramfs" },  { 0xF2F52010, "f2fs" },
    { 0x4D44, "vfat" },        { 0x5346544E, "ntfs" },   { 0x73717368, "squashfs" },
  };
  g_autofree char *probe = g_strdup (path);
  const char *net = NULL;
  struct statfs sfs;

  if (g_getenv ("RRUN_TEST_FSTYPE") != NULL && rrun_fsmagic_network_fs (path, &net, NULL)
      && net != NULL)
    return g_strdup (net);
  while (statfs (probe, &sfs) < 0)
    {
      char *slash = strrchr (probe, '/');

      if (errno != ENOENT || slash == NULL || strcmp (probe, "/") == 0)
        return g_strdup ("unknown");
      if (slash == probe)
        slash[1] = '\0';
      else
        *slash = '\0';
    }
  net = rrun_fsmagic_network_name ((long) sfs.f_type);
  if (net != NULL)
    return g_strdup (net);
  for (guint i = 0; i < G_N_ELEMENTS (local); i++)
    if (local[i].magic == (unsigned int) sfs.f_type)
      return g_strdup (local[i].name);
  return g_strdup_printf ("0x%lx", (unsigned long) sfs.f_type);
}

const char *
rrun_check_auto_driver (char **out_why)
{
  struct utsname u;
  g_autofree char *fuse = g_find_program_in_path ("fuse-overlayfs");

  uname (&u);
  if (rrun_overlay_kernel_at_least (5, 11))
    {
      *out_why = g_strdup_printf ("Linux %s allows overlay in a user namespace (>= 5.11)%s",
                                  u.release,
                                  fuse ? "; fuse-overlayfs is the fallback" : "");
      return "overlay";
    }
  *out_why = g_strdup_printf ("Linux %s is older than 5.11, which kernel overlay in a user "
                              "namespace needs", u.release);
  return "fuse-overlayfs";
}

/* --- the checks --- */

static char *
read_proc_sys (const char *name)
{
  g_autofree char *path = g_strdup_printf ("/proc/sys/%s", name);
  char *text = NULL;

  for (char *p = path + strlen ("/proc/sys/"); *p; p++)
    if (*p == '.')
      *p = '/';
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return text;
}

static char *
format_ranges (GArray *ranges)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < ranges->len; i++)
    {
      RrunIdRange *r = &g_array_index (ranges, RrunIdRange, i);
      g_string_append_printf (s, "%s%u:%u", s->len ? ", " : "", r->start, r->count);
    }
  return g_string_free (s, FALSE);
}

static RrunCheck *
check_subid (gboolean groups)
{
  const char *name = groups ? "subgid" : "subuid";
  const char *env = g_getenv (groups ? "RRUN_SUBGID_FILE" : "RRUN_SUBUID_FILE");
  const char *path = env ? env : groups ? "/etc/subgid" : "/etc/subuid";
  const char *user = g_get_user_name ();
  g_autofree char *fix = g_strdup_printf ("sudo subuid-setup.sh %s", user);
  g_autoptr(GArray) ranges = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  if (rrun_idmap_read_ranges (path, user, getuid (), &ranges, &error))
    {
      text = format_ranges (ranges);
      return rrun_check_new (name, RRUN_CHECK_PASS, NULL, "%s has %s for %s", path, text,
                             user);
    }
  if (env == NULL && rrun_idmap_query_getsubids (user, groups, &ranges, NULL)
      && ranges->len > 0)
    {
      text = format_ranges (ranges);
      return rrun_check_new (name, RRUN_CHECK_PASS, NULL, "getsubids has %s for %s", text,
                             user);
    }
  return rrun_check_new (name, RRUN_CHECK_FAIL, fix,
                         "no range for \"%s\" in %s or from getsubids: only your own id is "
                         "mapped (single-ID mode: root, apt-get, dpkg, rpm, dnf and pip work; "
                         "chown to another owner and switching to another user fail with "
                         "EINVAL)",
                         user, path);
}

static RrunCheck *
check_map_helper (const char *name)
{
  g_autofree char *path = g_find_program_in_path (name);
  struct stat st;

  if (path == NULL || stat (path, &st) < 0)
    return rrun_check_new (name, RRUN_CHECK_FAIL, "sudo apt-get install uidmap",
                           "%s is not installed", name);
  if ((st.st_mode & S_ISUID) && st.st_uid == 0)
    return rrun_check_new (name, RRUN_CHECK_PASS, NULL, "%s is setuid root", path);
  if (getxattr (path, "security.capability", NULL, 0) > 0)
    return rrun_check_new (name, RRUN_CHECK_PASS, NULL, "%s has file capabilities", path);
  return rrun_check_new (name, RRUN_CHECK_FAIL, FIX_SUBUID_SETUP,
                         "%s is neither setuid root nor has file capabilities", path);
}

/* The sysctls with one integer value, one row each. A check reads
   "<sysctl> is <value><good or bad>", or "missing" when the kernel has no such file. */
typedef enum
{
  WANT_POSITIVE,
  WANT_NONZERO,
  WANT_ZERO, /* 0 (a port start cannot go below it) */
} SysctlWant;

typedef struct
{
  const char *name;           /* the check's name */
  const char *sysctl;         /* dotted: /proc/sys/ with the dots as slashes */
  SysctlWant want;            /* the values that pass */
  const char *good;           /* after "<sysctl> is <value>" when it passes */
  RrunCheckStatus bad_status; /* when it does not: */
  const char *bad;            /* after "<sysctl> is <value>" */
  const char *fix;            /* the command that fixes it */
  RrunCheckStatus missing_status;
  const char *missing;        /* the detail when the file does not exist */
  const char *allowed_by;     /* a file whose presence makes a bad value pass, or NULL */
  const char *allowed;        /* the detail then */
} SysctlCheck;

static const SysctlCheck sysctl_checks[] = {
  { .name = "max_user_namespaces",
    .sysctl = "user.max_user_namespaces",
    .want = WANT_POSITIVE,
    .good = "",
    .bad_status = RRUN_CHECK_FAIL,
    .bad = "",
    .fix = "sudo sysctl user.max_user_namespaces=15000",
    .missing_status = RRUN_CHECK_WARN,
    .missing = "cannot read /proc/sys/user/max_user_namespaces" },
  { .name = "unprivileged_userns_clone",
    .sysctl = "kernel.unprivileged_userns_clone",
    .want = WANT_NONZERO,
    .good = "",
    .bad_status = RRUN_CHECK_FAIL,
    .bad = ": user namespaces are disabled for unprivileged users",
    .fix = FIX_SUBUID_SETUP,
    .missing_status = RRUN_CHECK_PASS,
    .missing = "kernel.unprivileged_userns_clone does not exist on this kernel" },
  { .name = "apparmor_userns",
    .sysctl = "kernel.apparmor_restrict_unprivileged_userns",
    .want = WANT_ZERO,
    .good = "",
    .bad_status = RRUN_CHECK_FAIL,
    .bad = " and there is no AppArmor profile for rrun (/etc/apparmor.d/rrun)",
    .fix = FIX_SUBUID_SETUP,
    .missing_status = RRUN_CHECK_PASS,
    .missing = "kernel.apparmor_restrict_unprivileged_userns does not exist",
    .allowed_by = "/etc/apparmor.d/rrun",
    .allowed = "user namespaces are restricted by AppArmor; the profile "
               "/etc/apparmor.d/rrun allows them for rrun" },
  { .name = "unprivileged_ports",
    .sysctl = "net.ipv4.ip_unprivileged_port_start",
    .want = WANT_ZERO,
    .good = ": any host port can be published",
    .bad_status = RRUN_CHECK_WARN,
    .bad = ": host ports below it cannot be published (-p)",
    .fix = "sudo sysctl net.ipv4.ip_unprivileged_port_start=0",
    .missing_status = RRUN_CHECK_WARN,
    .missing = "cannot read net.ipv4.ip_unprivileged_port_start" },
};

static gboolean
sysctl_wanted (SysctlWant want, gint64 v)
{
  switch (want)
    {
    case WANT_POSITIVE:
      return v > 0;
    case WANT_NONZERO:
      return v != 0;
    case WANT_ZERO:
      return v <= 0;
    }
  g_assert_not_reached ();
}

RrunCheck *
rrun_check_sysctl_text (const char *sysctl, const char *text)
{
  const SysctlCheck *row = NULL;
  gint64 v;

  for (gsize i = 0; i < G_N_ELEMENTS (sysctl_checks) && row == NULL; i++)
    if (strcmp (sysctl_checks[i].sysctl, sysctl) == 0)
      row = &sysctl_checks[i];
  g_return_val_if_fail (row != NULL, NULL);

  if (text == NULL)
    return rrun_check_new (row->name, row->missing_status, NULL, "%s", row->missing);
  if (!rrun_check_parse_sysctl (text, &v))
    return rrun_check_new (row->name, RRUN_CHECK_WARN, NULL, "cannot parse %s", row->sysctl);
  if (sysctl_wanted (row->want, v))
    return rrun_check_new (row->name, RRUN_CHECK_PASS, NULL, "%s is %" G_GINT64_FORMAT "%s",
                           row->sysctl, v, row->good);
  if (row->allowed_by != NULL && g_file_test (row->allowed_by, G_FILE_TEST_EXISTS))
    return rrun_check_new (row->name, RRUN_CHECK_PASS, NULL, "%s", row->allowed);
  return rrun_check_new (row->name, row->bad_status, row->fix, "%s is %" G_GINT64_FORMAT "%s",
                         row->sysctl, v, row->bad);
}

static RrunCheck *
check_sysctl (const char *sysctl)
{
  g_autofree char *text = read_proc_sys (sysctl);

  return rrun_check_sysctl_text (sysctl, text);
}

/* Create a user namespace in a child that exits at once. */
static RrunCheck *
check_userns_create (void)
{
  int status;
  pid_t pid = fork ();

  if (pid < 0)
    return rrun_check_new ("userns", RRUN_CHECK_WARN, NULL, "cannot fork: %s",
                           g_strerror (errno));
  if (pid == 0)
    _exit (unshare (CLONE_NEWUSER) == 0 ? 0 : (errno & 0x7f) + 1);
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return rrun_check_new ("userns", RRUN_CHECK_WARN, NULL, "cannot wait: %s",
                             g_strerror (errno));
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return rrun_check_new ("userns", RRUN_CHECK_PASS, NULL, "a user namespace can be created");
  if (WIFEXITED (status))
    {
      int errsv = WEXITSTATUS (status) - 1;

      if (errsv == ENOSPC)
        return rrun_check_new ("userns", RRUN_CHECK_FAIL,
                               "sudo sysctl user.max_user_namespaces=15000",
                               "cannot create a user namespace: %s (user.max_user_namespaces "
                               "is exhausted or 0)", g_strerror (errsv));
      return rrun_check_new ("userns", RRUN_CHECK_FAIL, FIX_SUBUID_SETUP,
                             "cannot create a user namespace: %s (unprivileged user "
                             "namespaces are disabled here)", g_strerror (errsv));
    }
  return rrun_check_new ("userns", RRUN_CHECK_FAIL, NULL,
                         "the test child died with signal %d", WTERMSIG (status));
}

static RrunCheck *
check_dev (const char *name, const char *path, RrunCheckStatus on_fail, const char *why)
{
  int fd = open (path, O_RDWR | O_CLOEXEC);
  int errsv = errno;

  if (fd >= 0)
    {
      close (fd);
      return rrun_check_new (name, RRUN_CHECK_PASS, NULL, "%s can be opened read-write", path);
    }
  if (errsv == ENOENT || errsv == ENODEV || errsv == ENXIO)
    return rrun_check_new (name, on_fail,
                           strcmp (name, "fuse") == 0 ? "sudo modprobe fuse"
                                                      : "sudo modprobe tun",
                           "cannot open \"%s\": %s (%s)", path, g_strerror (errsv), why);
  return rrun_check_new (name, on_fail, FIX_SUBUID_SETUP, "cannot open \"%s\": %s (%s)", path,
                         g_strerror (errsv), why);
}

static RrunCheck *
check_fuse_overlayfs (void)
{
  g_autofree char *path = g_find_program_in_path ("fuse-overlayfs");
  gboolean kernel = rrun_overlay_kernel_at_least (5, 11);

  if (path != NULL)
    return rrun_check_new ("fuse-overlayfs", RRUN_CHECK_PASS, NULL, "%s", path);
  return rrun_check_new ("fuse-overlayfs", kernel ? RRUN_CHECK_WARN : RRUN_CHECK_FAIL,
                         "sudo apt-get install fuse-overlayfs",
                         "fuse-overlayfs is not installed%s",
                         kernel ? " (kernel overlay is used; there is no fallback)" : "");
}

static RrunCheck *
check_kernel_overlay (void)
{
  struct utsname u;

  uname (&u);
  if (rrun_overlay_kernel_at_least (5, 11))
    return rrun_check_new ("kernel_overlay", RRUN_CHECK_PASS, NULL,
                           "Linux %s allows overlay in a user namespace", u.release);
  return rrun_check_new ("kernel_overlay", RRUN_CHECK_WARN, "rrun --storage-driver fuse-overlayfs",
                         "Linux %s does not allow overlay in a user namespace (needs 5.11): "
                         "fuse-overlayfs is used",
                         u.release);
}

static RrunCheck *
check_net_helper (void)
{
  g_autofree char *path = rrun_check_find_net_helper ();

  if (path != NULL)
    return rrun_check_new ("rrun-net", RRUN_CHECK_PASS, NULL, "%s", path);
  return rrun_check_new ("rrun-net", RRUN_CHECK_WARN,
                         "install rrun with its helpers, or set RRUN_NET=/path/to/rrun-net",
                         "the network helper rrun-net was not found ($RRUN_NET, "
                         "../helpers next to rrun, %s): only --network none and host work",
                         RRUN_LIBEXECDIR);
}

/* A local directory of the user's own, written into the user's config. */
static char *
storage_fix (void)
{
  return g_strdup_printf ("mkdir -p ~/.config/rrun && printf '[storage]\\nroot=/var/tmp/"
                          "rrun-%u/storage\\n' >> ~/.config/rrun/rrun.conf",
                          (unsigned) getuid ());
}

static RrunCheck *
check_storage (const RrunConfig *config)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *fix = NULL;
  const char *fs = NULL;

  if (!rrun_fsmagic_network_fs (config->storage_root, &fs, &error))
    return rrun_check_new ("storage", RRUN_CHECK_WARN, NULL, "%s", error->message);
  if (fs == NULL)
    return rrun_check_new ("storage", RRUN_CHECK_PASS, NULL, "%s is on a local file system",
                           config->storage_root);
  fix = storage_fix ();
  return rrun_check_new ("storage", RRUN_CHECK_FAIL, fix,
                         "%s is on %s, which cannot hold overlay layers or files of "
                         "subordinate IDs",
                         config->storage_root, fs);
}

/* Where the storage root would be without the relocation (to say what it did). */
static RrunCheck *
check_storage_relocated (const RrunConfig *config)
{
  g_autofree char *fix = storage_fix ();

  return rrun_check_new ("storage", RRUN_CHECK_WARN, fix,
                         "the default storage %s is on %s; images are kept in %s instead "
                         "(local, may be cleaned by the system)",
                         config->storage_relocated_from, config->storage_relocated_fs,
                         config->storage_root);
}

/* Volumes hold files of the containers' owners, subordinate IDs included. */
static RrunCheck *
check_volumes (const RrunConfig *config)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *fix = g_strdup_printf ("mkdir -p ~/.config/rrun && printf '[storage]\\n"
                                          "volume_path=/var/tmp/rrun-%u/volumes\\n' >> "
                                          "~/.config/rrun/rrun.conf",
                                          (unsigned) getuid ());
  const char *fs = NULL;

  if (config->volume_relocated_from != NULL)
    return rrun_check_new ("volumes", RRUN_CHECK_WARN, fix,
                           "the default volume directory %s is on %s; volumes are kept in %s "
                           "instead (local to this machine)",
                           config->volume_relocated_from, config->volume_relocated_fs,
                           config->volume_path);
  if (!rrun_fsmagic_network_fs (config->volume_path, &fs, &error))
    return rrun_check_new ("volumes", RRUN_CHECK_WARN, NULL, "%s", error->message);
  if (fs == NULL)
    return rrun_check_new ("volumes", RRUN_CHECK_PASS, NULL, "%s is on a local file system",
                           config->volume_path);
  return rrun_check_new ("volumes", RRUN_CHECK_WARN, fix,
                         "%s is on %s, which cannot hold files of subordinate IDs: copying an "
                         "image's files into a new volume will fail",
                         config->volume_path, fs);
}

static RrunCheck *
check_runtime_dir (const RrunConfig *config)
{
  const char *xdg = g_getenv ("XDG_RUNTIME_DIR");
  g_autoptr(GError) error = NULL;
  g_autofree char *linger = g_strdup_printf ("sudo loginctl enable-linger %s (gives "
                                             "/run/user/%u at login)",
                                             g_get_user_name (), (unsigned) getuid ());

  if (!rrun_config_ensure_run_root (config, &error))
    return rrun_check_new ("run_root", RRUN_CHECK_FAIL,
                           "export XDG_RUNTIME_DIR=/run/user/$(id -u), or pass --runroot DIR",
                           "%s", error->message);
  if (xdg == NULL || *xdg != '/')
    return rrun_check_new ("run_root", RRUN_CHECK_WARN, linger,
                           "XDG_RUNTIME_DIR is not set: the /tmp fallback %s is used "
                           "(owned by you, mode 0700)",
                           config->run_root);
  return rrun_check_new ("run_root", RRUN_CHECK_PASS, NULL, "%s (owned by you, mode 0700)",
                         config->run_root);
}

static RrunCheck *
check_cgroups (void)
{
  g_autoptr(RrunCgroupState) s = rrun_check_cgroup_state ();
  g_autofree char *fix = g_strdup_printf (
      "sudo loginctl enable-linger %s; an administrator can set Delegate=cpu cpuset io "
      "memory pids for user@.service", g_get_user_name ());

  if (s->v2_mount == NULL)
    return rrun_check_new ("cgroups", RRUN_CHECK_WARN,
                           "boot with systemd.unified_cgroup_hierarchy=1",
                           "cgroup v2 is not mounted (%s): --memory, --cpus and other limits "
                           "will not work",
                           rrun_check_cgroup_mount_name (s->mount));
  if (s->systemd_user)
    return rrun_check_new ("cgroups", s->mount == RRUN_CGROUP_MOUNT_HYBRID ? RRUN_CHECK_WARN
                                                                           : RRUN_CHECK_PASS,
                           "boot with systemd.unified_cgroup_hierarchy=1",
                           "cgroup %s at %s, systemd user manager on the session bus%s",
                           rrun_check_cgroup_mount_name (s->mount), s->v2_mount,
                           s->mount == RRUN_CGROUP_MOUNT_HYBRID
                               ? ": controllers are held by cgroup v1, limits may not work"
                               : "");
  if (s->own_writable)
    return rrun_check_new ("cgroups", s->mount == RRUN_CGROUP_MOUNT_HYBRID ? RRUN_CHECK_WARN
                                                                           : RRUN_CHECK_PASS,
                           "boot with systemd.unified_cgroup_hierarchy=1",
                           "cgroup %s, delegated cgroup %s is writable%s",
                           rrun_check_cgroup_mount_name (s->mount), s->own_dir,
                           s->mount == RRUN_CGROUP_MOUNT_HYBRID
                               ? ": controllers are held by cgroup v1, limits may not work"
                               : "");
  return rrun_check_new ("cgroups", RRUN_CHECK_WARN, fix,
                         "cgroup %s, no systemd user manager (%s) and cgroup \"%s\" is not "
                         "writable: resource limits will not work",
                         rrun_check_cgroup_mount_name (s->mount),
                         s->systemd_why ? s->systemd_why : "none", s->own_dir ? s->own_dir : "?");
}

static RrunCheck *
check_ping (void)
{
  g_autofree char *text = read_proc_sys ("net.ipv4.ping_group_range");
  guint32 lo, hi;
  gid_t gid = getgid ();
  gid_t groups[256];
  int n = getgroups (G_N_ELEMENTS (groups), groups);

  if (!rrun_check_parse_ping_group_range (text, &lo, &hi))
    return rrun_check_new ("ping_group_range", RRUN_CHECK_WARN, NULL,
                           "cannot read net.ipv4.ping_group_range");
  if (lo <= gid && gid <= hi)
    return rrun_check_new ("ping_group_range", RRUN_CHECK_PASS, NULL,
                           "net.ipv4.ping_group_range %u %u covers gid %u", lo, hi,
                           (unsigned) gid);
  for (int i = 0; i < n; i++)
    if (lo <= groups[i] && groups[i] <= hi)
      return rrun_check_new ("ping_group_range", RRUN_CHECK_PASS, NULL,
                             "net.ipv4.ping_group_range %u %u covers gid %u", lo, hi,
                             (unsigned) groups[i]);
  return rrun_check_new ("ping_group_range", RRUN_CHECK_WARN,
                         "sudo sysctl net.ipv4.ping_group_range=\"0 2147483647\"",
                         "net.ipv4.ping_group_range %u %u does not cover gid %u: ping does "
                         "not work in containers", lo, hi, (unsigned) gid);
}

GPtrArray *
rrun_check_all (const RrunConfig *config)
{
  GPtrArray *checks = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_check_free);

  g_ptr_array_add (checks, check_subid (FALSE));
  g_ptr_array_add (checks, check_subid (TRUE));
  g_ptr_array_add (checks, check_map_helper ("newuidmap"));
  g_ptr_array_add (checks, check_map_helper ("newgidmap"));
  g_ptr_array_add (checks, check_sysctl ("user.max_user_namespaces"));
  g_ptr_array_add (checks, check_sysctl ("kernel.unprivileged_userns_clone"));
  g_ptr_array_add (checks, check_sysctl ("kernel.apparmor_restrict_unprivileged_userns"));
  g_ptr_array_add (checks, check_userns_create ());
  g_ptr_array_add (checks, check_dev ("fuse", "/dev/fuse",
                                      rrun_overlay_kernel_at_least (5, 11) ? RRUN_CHECK_WARN
                                                                           : RRUN_CHECK_FAIL,
                                      "fuse-overlayfs needs it"));
  g_ptr_array_add (checks, check_fuse_overlayfs ());
  g_ptr_array_add (checks, check_kernel_overlay ());
  g_ptr_array_add (checks, check_dev ("tun", "/dev/net/tun", RRUN_CHECK_WARN,
                                      "the network helper needs it for --network slirp"));
  g_ptr_array_add (checks, check_net_helper ());
  if (config->storage_relocated_from != NULL)
    g_ptr_array_add (checks, check_storage_relocated (config));
  else
    g_ptr_array_add (checks, check_storage (config));
  g_ptr_array_add (checks, check_volumes (config));
  g_ptr_array_add (checks, check_runtime_dir (config));
  g_ptr_array_add (checks, check_cgroups ());
  g_ptr_array_add (checks, check_ping ());
  g_ptr_array_add (checks, check_sysctl ("net.ipv4.ip_unprivileged_port_start"));
  return checks;
}
