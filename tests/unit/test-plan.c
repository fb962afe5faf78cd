#include "error.h"
#include "container/namespaces.h"
#include "rootfs/plan.h"

#include <errno.h>
#include <string.h>
#include <sys/mount.h>

static const RrunMountOp *
find_op (RrunMountPlan *plan, const char *target)
{
  for (guint i = 0; i < plan->ops->len; i++)
    {
      const RrunMountOp *op = &g_array_index (plan->ops, RrunMountOp, i);
      if (g_strcmp0 (op->target, target) == 0)
        return op;
    }
  return NULL;
}

static void
test_defaults (void)
{
  g_autoptr(RrunMountPlan) plan = rrun_mount_plan_new ();
  RrunMountPlanOptions o = { .new_netns = TRUE, .gid5_mapped = TRUE, .etc_hosts = "/run/h" };
  const RrunMountOp *op;

  rrun_mount_plan_add_defaults (plan, &o);
  rrun_mount_plan_add_protections (plan, FALSE, NULL, NULL);
  op = find_op (plan, "/proc");
  g_assert_nonnull (op);
  g_assert_cmpstr (op->fstype, ==, "proc");
  op = find_op (plan, "/sys");
  g_assert_cmpstr (op->fstype, ==, "sysfs");
  g_assert_true (op->flags & MS_RDONLY);
  op = find_op (plan, "/dev/pts");
  g_assert_nonnull (strstr (op->data, "gid=5"));
  g_assert_nonnull (strstr (op->data, "newinstance"));
  op = find_op (plan, "/etc/hosts");
  g_assert_cmpint (op->kind, ==, RRUN_MOUNT_OP_BIND);
  g_assert_cmpstr (op->source, ==, "/run/h");
  g_assert_null (find_op (plan, "/etc/resolv.conf"));
  op = find_op (plan, "/proc/kcore");
  g_assert_cmpint (op->kind, ==, RRUN_MOUNT_OP_MASK);
  op = find_op (plan, "/proc/sys");
  g_assert_cmpint (op->kind, ==, RRUN_MOUNT_OP_REMOUNT);
  g_assert_true (op->flags & MS_RDONLY);
}

static void
test_host_network_and_privileged (void)
{
  g_autoptr(RrunMountPlan) plan = rrun_mount_plan_new ();
  RrunMountPlanOptions o = { .new_netns = FALSE, .gid5_mapped = FALSE };
  const RrunMountOp *op;

  rrun_mount_plan_add_defaults (plan, &o);
  rrun_mount_plan_add_protections (plan, TRUE, NULL, NULL);
  op = find_op (plan, "/sys");
  g_assert_cmpint (op->kind, ==, RRUN_MOUNT_OP_BIND);
  g_assert_null (strstr (find_op (plan, "/dev/pts")->data, "gid=5"));
  g_assert_null (find_op (plan, "/proc/kcore"));
}

static void
test_check_target (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (rrun_mount_plan_check_target ("/data", &error));
  g_assert_false (rrun_mount_plan_check_target ("data", &error));
  g_assert_cmpstr (error->message, ==, "invalid container path \"data\": it must be absolute");
  g_clear_error (&error);
  g_assert_false (rrun_mount_plan_check_target ("/a/../b", &error));
  g_clear_error (&error);
  g_assert_false (rrun_mount_plan_check_target ("//", &error));
}

static void
test_report_messages (void)
{
  RrunChildReport r = { .step = RRUN_STEP_EXEC, .errsv = ENOENT };
  g_autoptr(GError) error = NULL;

  strcpy (r.subject, "/no/such/cmd");
  rrun_child_report_to_error (&r, NULL, &error);
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_EXEC_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "cannot execute \"/no/such/cmd\": No such file or directory");
  g_assert_cmpint (rrun_error_exit_code (error), ==, 127);
  g_clear_error (&error);
  strcpy (r.subject, "nosuch");
  rrun_child_report_to_error (&r, NULL, &error);
  g_assert_cmpstr (error->message, ==,
                   "cannot execute \"nosuch\": executable file not found in $PATH");
  g_clear_error (&error);
  r.errsv = EACCES;
  strcpy (r.subject, "/etc/passwd");
  rrun_child_report_to_error (&r, NULL, &error);
  g_assert_cmpint (rrun_error_exit_code (error), ==, 126);
  g_clear_error (&error);
  r.step = RRUN_STEP_WORKDIR;
  r.errsv = ENOTDIR;
  rrun_child_report_to_error (&r, NULL, &error);
  g_assert_true (g_str_has_prefix (error->message,
                                   "cannot change to working directory \"/etc/passwd\": Not a "
                                   "directory\nhint: "));
  g_assert_cmpint (rrun_error_exit_code (error), ==, 125);
  g_clear_error (&error);
  r.step = RRUN_STEP_FUSE_MOUNT;
  r.errsv = 1;
  rrun_child_report_to_error (&r, "fuse: device not found\nfuse: cannot open /dev/fuse\n", &error);
  g_assert_true (g_str_has_prefix (error->message, "cannot mount the image with fuse-overlayfs: "
                                                   "fuse: cannot open /dev/fuse\nhint: "));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/plan/defaults", test_defaults);
  g_test_add_func ("/plan/host-network-and-privileged", test_host_network_and_privileged);
  g_test_add_func ("/plan/check-target", test_check_target);
  g_test_add_func ("/plan/report-messages", test_report_messages);
  return g_test_run ();
}
