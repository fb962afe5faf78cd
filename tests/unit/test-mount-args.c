#include "error.h"
#include "rootfs/mount-args.h"

#include <string.h>
#include <sys/mount.h>

static void
test_volume_ok (void)
{
  g_autoptr(RrunVolume) v = NULL;
  g_autoptr(RrunVolume) f = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (rrun_volume_parse ("/tmp:/data:ro", &v, &error));
  g_assert_cmpstr (v->source, ==, "/tmp");
  g_assert_cmpstr (v->target, ==, "/data");
  g_assert_true (v->read_only);
  g_assert_true (v->is_dir);
  g_assert_true (rrun_volume_parse ("/etc/hostname:/etc/h:rw,z", &f, &error));
  g_assert_false (f->read_only);
  g_assert_false (f->is_dir);
}

static void
test_volume_errors (void)
{
  g_autoptr(RrunVolume) v = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (rrun_volume_parse ("data:/data", &v, &error));
  g_assert_true (g_str_has_prefix (error->message, "invalid volume \"data:/data\": the host path "
                                                   "\"data\" is not absolute\nhint: "));
  g_clear_error (&error);
  g_assert_false (rrun_volume_parse ("/tmp", &v, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (rrun_volume_parse ("/tmp:relative", &v, &error));
  g_clear_error (&error);
  g_assert_false (rrun_volume_parse ("/tmp:/x:bogus", &v, &error));
  g_assert_nonnull (strstr (error->message, "unknown option \"bogus\""));
  g_clear_error (&error);
  g_assert_false (rrun_volume_parse ("/no/such/dir:/x", &v, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "mkdir -p /no/such/dir"));
}

static void
test_tmpfs (void)
{
  g_autofree char *target = NULL, *data = NULL;
  g_autofree char *t2 = NULL, *d2 = NULL;
  unsigned long flags = 0;
  g_autoptr(GError) error = NULL;

  g_assert_true (rrun_tmpfs_parse ("/scratch", &target, &data, &flags, &error));
  g_assert_cmpstr (target, ==, "/scratch");
  g_assert_cmpstr (data, ==, "mode=1777");
  g_assert_true (flags & MS_NOSUID);
  g_assert_true (rrun_tmpfs_parse ("/s:size=64m,mode=700,ro,noexec", &t2, &d2, &flags, &error));
  g_assert_cmpstr (d2, ==, "size=64m,mode=700");
  g_assert_true (flags & MS_RDONLY);
  g_assert_true (flags & MS_NOEXEC);
  g_assert_false (rrun_tmpfs_parse ("/s:huge=1", &t2, &d2, &flags, &error));
  g_assert_cmpstr (error->message, ==, "invalid --tmpfs \"/s:huge=1\": unknown option \"huge=1\"");
}

/* issue 19: -v X:/proc was accepted and hid the container's procfs */
static void
test_proc_targets (void)
{
  g_autoptr(RrunVolume) v = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = NULL, *data = NULL;
  unsigned long flags = 0;
  static const char *const refused[] = { "/tmp:/proc", "/tmp://proc/", "/tmp:/./proc",
                                         "/tmp:/proc/sys", "/tmp:/proc/1/environ", NULL };

  for (guint i = 0; refused[i]; i++)
    {
      g_assert_false (rrun_volume_parse (refused[i], &v, &error));
      g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "cannot mount over or into /proc\nhint: "));
      g_clear_error (&error);
    }
  g_assert_false (rrun_volume_parse ("/tmp:/proc", &v, &error));
  g_assert_cmpstr (error->message, ==,
                   "invalid volume \"/tmp:/proc\": invalid container path \"/proc\": cannot "
                   "mount over or into /proc\nhint: /proc is the container's own; mount the "
                   "host path elsewhere");
  g_clear_error (&error);
  g_assert_false (rrun_tmpfs_parse ("/proc", &target, &data, &flags, &error));
  g_clear_error (&error);
  /* lxcfs's files, as runc allows them, and names that only start with "proc" */
  g_assert_true (rrun_volume_parse ("/tmp:/proc/meminfo", &v, &error));
  g_clear_pointer (&v, rrun_volume_free);
  g_assert_true (rrun_volume_parse ("/tmp:/procfs", &v, &error));
  g_clear_pointer (&v, rrun_volume_free);
  g_assert_true (rrun_volume_parse ("/tmp:/data/proc", &v, &error));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/volumes/volume-ok", test_volume_ok);
  g_test_add_func ("/volumes/volume-errors", test_volume_errors);
  g_test_add_func ("/volumes/tmpfs", test_tmpfs);
  g_test_add_func ("/volumes/proc-targets", test_proc_targets);
  return g_test_run ();
}
