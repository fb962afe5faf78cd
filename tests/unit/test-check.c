/* The pure parts of `rrun system check` and the storage relocation. */
#include "config.h"
#include "error.h"
#include "system/check.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
test_sysctl (void)
{
  gint64 v = -7;

  g_assert_true (rrun_check_parse_sysctl ("1\n", &v));
  g_assert_cmpint (v, ==, 1);
  g_assert_true (rrun_check_parse_sysctl ("  15000\n", &v));
  g_assert_cmpint (v, ==, 15000);
  g_assert_true (rrun_check_parse_sysctl ("0", &v));
  g_assert_cmpint (v, ==, 0);
  g_assert_true (rrun_check_parse_sysctl ("-1\n", &v));
  g_assert_cmpint (v, ==, -1);
  v = 42;
  g_assert_false (rrun_check_parse_sysctl ("", &v));
  g_assert_false (rrun_check_parse_sysctl ("\n", &v));
  g_assert_false (rrun_check_parse_sysctl ("abc\n", &v));
  g_assert_false (rrun_check_parse_sysctl ("12abc\n", &v));
  g_assert_false (rrun_check_parse_sysctl (NULL, &v));
  g_assert_cmpint (v, ==, 42);
}

static void
test_ping_range (void)
{
  guint32 lo = 9, hi = 9;

  g_assert_true (rrun_check_parse_ping_group_range ("0\t2147483647\n", &lo, &hi));
  g_assert_cmpuint (lo, ==, 0);
  g_assert_cmpuint (hi, ==, 2147483647);
  /* The kernel's "nobody may ping" default. */
  g_assert_true (rrun_check_parse_ping_group_range ("1\t0\n", &lo, &hi));
  g_assert_cmpuint (lo, ==, 1);
  g_assert_cmpuint (hi, ==, 0);
  g_assert_true (rrun_check_parse_ping_group_range ("100 200", &lo, &hi));
  g_assert_cmpuint (hi, ==, 200);
  g_assert_false (rrun_check_parse_ping_group_range ("100\n", &lo, &hi));
  g_assert_false (rrun_check_parse_ping_group_range ("1 2 3\n", &lo, &hi));
  g_assert_false (rrun_check_parse_ping_group_range ("-1 2\n", &lo, &hi));
  g_assert_false (rrun_check_parse_ping_group_range ("1 x\n", &lo, &hi));
  g_assert_false (rrun_check_parse_ping_group_range ("1 99999999999\n", &lo, &hi));
  g_assert_false (rrun_check_parse_ping_group_range (NULL, &lo, &hi));
}

static void
test_cgroup_mounts (void)
{
  const char *unified = "proc /proc proc rw 0 0\n"
                        "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev 0 0\n";
  const char *hybrid = "tmpfs /sys/fs/cgroup tmpfs ro 0 0\n"
                       "cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n"
                       "cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n";
  const char *v1 = "cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n";
  const char *spaced = "cgroup2 /mnt/my\\040cg cgroup2 rw 0 0\n";
  g_autofree char *path = NULL;
  g_autofree char *path2 = NULL;
  g_autofree char *path3 = NULL;
  char *none = (char *) "x";

  g_assert_cmpint (rrun_check_parse_cgroup_mounts (unified, &path), ==, RRUN_CGROUP_MOUNT_V2);
  g_assert_cmpstr (path, ==, "/sys/fs/cgroup");
  g_assert_cmpint (rrun_check_parse_cgroup_mounts (hybrid, &path2), ==,
                   RRUN_CGROUP_MOUNT_HYBRID);
  g_assert_cmpstr (path2, ==, "/sys/fs/cgroup/unified");
  g_assert_cmpint (rrun_check_parse_cgroup_mounts (v1, &none), ==, RRUN_CGROUP_MOUNT_V1);
  g_assert_null (none);
  g_assert_cmpint (rrun_check_parse_cgroup_mounts ("", NULL), ==, RRUN_CGROUP_MOUNT_NONE);
  g_assert_cmpint (rrun_check_parse_cgroup_mounts (spaced, &path3), ==, RRUN_CGROUP_MOUNT_V2);
  g_assert_cmpstr (path3, ==, "/mnt/my cg");
  g_assert_cmpstr (rrun_check_cgroup_mount_name (RRUN_CGROUP_MOUNT_HYBRID), ==, "hybrid");
}

/* Rows of the sysctl table: a value that passes, one that does not (with the fix), a file
   the kernel lacks, and text that is no number. */
static void
test_sysctl_rows (void)
{
  g_autoptr(RrunCheck) max_ok = rrun_check_sysctl_text ("user.max_user_namespaces", "15000\n");
  g_autoptr(RrunCheck) max_zero = rrun_check_sysctl_text ("user.max_user_namespaces", "0\n");
  g_autoptr(RrunCheck) max_missing = rrun_check_sysctl_text ("user.max_user_namespaces", NULL);
  g_autoptr(RrunCheck) clone_off = rrun_check_sysctl_text ("kernel.unprivileged_userns_clone",
                                                           "0\n");
  g_autoptr(RrunCheck) clone_missing
      = rrun_check_sysctl_text ("kernel.unprivileged_userns_clone", NULL);
  g_autoptr(RrunCheck) ports = rrun_check_sysctl_text ("net.ipv4.ip_unprivileged_port_start",
                                                       "1024\n");
  g_autoptr(RrunCheck) ports_ok
      = rrun_check_sysctl_text ("net.ipv4.ip_unprivileged_port_start", "0\n");
  g_autoptr(RrunCheck) garbage = rrun_check_sysctl_text ("user.max_user_namespaces", "x\n");
  g_autofree char *text = rrun_check_format (max_zero);

  g_assert_cmpint (max_ok->status, ==, RRUN_CHECK_PASS);
  g_assert_cmpstr (max_ok->detail, ==, "user.max_user_namespaces is 15000");
  g_assert_cmpstr (text, ==, "FAIL  max_user_namespaces: user.max_user_namespaces is 0\n"
                             "      fix: sudo sysctl user.max_user_namespaces=15000\n");
  g_assert_cmpint (max_missing->status, ==, RRUN_CHECK_WARN);
  g_assert_cmpstr (max_missing->detail, ==, "cannot read /proc/sys/user/max_user_namespaces");
  g_assert_cmpint (clone_off->status, ==, RRUN_CHECK_FAIL);
  g_assert_cmpstr (clone_off->detail, ==, "kernel.unprivileged_userns_clone is 0: user "
                                          "namespaces are disabled for unprivileged users");
  g_assert_cmpstr (clone_off->fix, ==, "sudo subuid-setup.sh --fix");
  g_assert_cmpint (clone_missing->status, ==, RRUN_CHECK_PASS);
  g_assert_cmpint (ports->status, ==, RRUN_CHECK_WARN);
  g_assert_cmpstr (ports->detail, ==, "net.ipv4.ip_unprivileged_port_start is 1024: host "
                                      "ports below it cannot be published (-p)");
  g_assert_cmpstr (ports->fix, ==, "sudo sysctl net.ipv4.ip_unprivileged_port_start=0");
  g_assert_cmpint (ports_ok->status, ==, RRUN_CHECK_PASS);
  g_assert_cmpstr (ports_ok->detail, ==,
                   "net.ipv4.ip_unprivileged_port_start is 0: any host port can be published");
  g_assert_cmpint (garbage->status, ==, RRUN_CHECK_WARN);
  g_assert_cmpstr (garbage->detail, ==, "cannot parse user.max_user_namespaces");
}

static void
test_format (void)
{
  g_autoptr(RrunCheck) pass = rrun_check_new ("tun", RRUN_CHECK_PASS, "ignored", "%s ok",
                                              "/dev/net/tun");
  g_autoptr(RrunCheck) fail = rrun_check_new ("subuid", RRUN_CHECK_FAIL,
                                              "sudo subuid-setup.sh alice", "no range for %s",
                                              "alice");
  g_autoptr(RrunCheck) warn = rrun_check_new ("rrun-net", RRUN_CHECK_WARN, NULL, "missing");
  g_autofree char *p = rrun_check_format (pass);
  g_autofree char *f = rrun_check_format (fail);
  g_autofree char *w = rrun_check_format (warn);
  g_autoptr(GPtrArray) all = g_ptr_array_new ();

  g_assert_cmpstr (p, ==, "PASS  tun: /dev/net/tun ok\n");
  g_assert_null (pass->fix);
  g_assert_cmpstr (f, ==, "FAIL  subuid: no range for alice\n"
                          "      fix: sudo subuid-setup.sh alice\n");
  g_assert_cmpstr (w, ==, "WARN  rrun-net: missing\n");

  g_ptr_array_add (all, pass);
  g_ptr_array_add (all, warn);
  g_assert_cmpint (rrun_check_exit_status (all), ==, 0);
  g_ptr_array_add (all, fail);
  g_assert_cmpint (rrun_check_exit_status (all), ==, 1);
}

/* A default root on "nfs" moves to the local base; an explicit one stays. */
static void
test_relocate (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("rrun-check-XXXXXX", NULL);
  g_autofree char *home = g_build_filename (tmp, "home", NULL);
  g_autofree char *local = g_build_filename (tmp, "local", NULL);
  g_autofree char *forced = g_strdup_printf ("nfs:%s", home);
  g_autofree char *expect = g_strdup_printf ("%s/rrun-%u/storage", local, (unsigned) getuid ());
  g_autoptr(RrunConfig) c = rrun_config_new_defaults ();
  g_autoptr(RrunConfig) explicit = rrun_config_new_defaults ();
  g_autoptr(GError) error = NULL;
  g_autofree char *base = NULL;
  g_autofree char *cmd = NULL;
  struct stat st;

  g_assert_nonnull (tmp);
  g_assert_cmpint (g_mkdir (local, 0755), ==, 0);
  g_setenv ("RRUN_TEST_FSTYPE", forced, TRUE);
  g_setenv ("RRUN_TEST_LOCAL_BASE", local, TRUE);

  g_free (c->storage_root);
  c->storage_root = g_build_filename (home, ".local/share/rrun/storage", NULL);
  g_assert_true (rrun_config_relocate_storage (c, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (c->storage_root, ==, expect);
  g_assert_cmpstr (c->storage_relocated_fs, ==, "nfs");
  g_assert_true (g_str_has_prefix (c->storage_relocated_from, home));
  g_assert_cmpint (stat (expect, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);

  g_free (explicit->storage_root);
  explicit->storage_root = g_build_filename (home, "explicit", NULL);
  explicit->storage_root_from_config = TRUE;
  g_assert_true (rrun_config_relocate_storage (explicit, &error));
  g_assert_true (g_str_has_prefix (explicit->storage_root, home));
  g_assert_null (explicit->storage_relocated_from);

  /* A base open to others is refused, not used. */
  base = g_strdup_printf ("%s/rrun-%u", local, (unsigned) getuid ());
  g_assert_cmpint (chmod (base, 0777), ==, 0);
  g_clear_pointer (&c, rrun_config_free);
  c = rrun_config_new_defaults ();
  g_free (c->storage_root);
  c->storage_root = g_build_filename (home, "s", NULL);
  g_assert_false (rrun_config_relocate_storage (c, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "closed to others"));

  g_unsetenv ("RRUN_TEST_FSTYPE");
  g_unsetenv ("RRUN_TEST_LOCAL_BASE");
  cmd = g_strdup_printf ("rm -rf '%s'", tmp);
  g_assert_cmpint (system (cmd), ==, 0);
}

static void
test_fs_type (void)
{
  g_autofree char *t = NULL;
  g_autofree char *n = NULL;

  g_unsetenv ("RRUN_TEST_FSTYPE");
  t = rrun_check_fs_type ("/proc/self/nonexistent/deeper");
  g_assert_cmpstr (t, ==, "0x9fa0"); /* proc */
  g_setenv ("RRUN_TEST_FSTYPE", "lustre:/scratch", TRUE);
  n = rrun_check_fs_type ("/scratch/u/x");
  g_assert_cmpstr (n, ==, "lustre");
  g_unsetenv ("RRUN_TEST_FSTYPE");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/check/sysctl", test_sysctl);
  g_test_add_func ("/check/ping-range", test_ping_range);
  g_test_add_func ("/check/sysctl-rows", test_sysctl_rows);
  g_test_add_func ("/check/cgroup-mounts", test_cgroup_mounts);
  g_test_add_func ("/check/format", test_format);
  g_test_add_func ("/check/relocate", test_relocate);
  g_test_add_func ("/check/fs-type", test_fs_type);
  return g_test_run ();
}
