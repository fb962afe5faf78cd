#include "error.h"
#include "rootfs/mount-args.h"

#include <string.h>
#include <sys/mount.h>

static void
test_volume_ok (void)
{
  g_autoptr(RrunMountSpec) v = NULL;
  g_autoptr(RrunMountSpec) f = NULL;
  g_autoptr(RrunMountSpec) named = NULL;
  g_autoptr(RrunMountSpec) anon = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (rrun_mount_parse_volume ("/tmp:/data:ro", &v, &error));
  g_assert_cmpint (v->type, ==, RRUN_MOUNT_TYPE_BIND);
  g_assert_cmpstr (v->source, ==, "/tmp");
  g_assert_cmpstr (v->target, ==, "/data");
  g_assert_true (v->read_only);
  g_assert_true (v->is_dir);
  g_assert_true (rrun_mount_parse_volume ("/etc/hostname:/etc/h:rw,z", &f, &error));
  g_assert_false (f->read_only);
  g_assert_false (f->is_dir);
  g_assert_true (rrun_mount_parse_volume ("data:/data:nocopy,ro", &named, &error));
  g_assert_cmpint (named->type, ==, RRUN_MOUNT_TYPE_VOLUME);
  g_assert_cmpstr (named->source, ==, "data");
  g_assert_true (named->nocopy);
  g_assert_true (named->read_only);
  g_assert_true (rrun_mount_parse_volume ("/cache", &anon, &error));
  g_assert_cmpint (anon->type, ==, RRUN_MOUNT_TYPE_VOLUME);
  g_assert_null (anon->source);
  g_assert_cmpstr (anon->target, ==, "/cache");
}

static void
test_volume_errors (void)
{
  g_autoptr(RrunMountSpec) v = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (rrun_mount_parse_volume ("./data:/data", &v, &error));
  g_assert_true (g_str_has_prefix (error->message, "invalid volume \"./data:/data\": \"./data\" "
                                                   "is neither an absolute host path nor a "
                                                   "volume name\nhint: "));
  g_clear_error (&error);
  g_assert_false (rrun_mount_parse_volume ("tmp", &v, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (rrun_mount_parse_volume ("/tmp:relative:ro", &v, &error));
  g_clear_error (&error);
  g_assert_false (rrun_mount_parse_volume ("/tmp:/x:bogus", &v, &error));
  g_assert_nonnull (strstr (error->message, "unknown option \"bogus\""));
  g_clear_error (&error);
  g_assert_false (rrun_mount_parse_volume ("/tmp:/x:nocopy", &v, &error));
  g_assert_nonnull (strstr (error->message, "nocopy applies to volumes"));
  g_clear_error (&error);
  g_assert_false (rrun_mount_parse_volume ("/no/such/dir:/x", &v, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "mkdir -p /no/such/dir"));
}

static void
test_mount (void)
{
  g_autoptr(RrunMountSpec) m = NULL, b = NULL, t = NULL;
  g_autoptr(GError) error = NULL;

  /* docker's default type is volume */
  g_assert_true (rrun_mount_parse_mount ("source=v1,target=/app", &m, &error));
  g_assert_cmpint (m->type, ==, RRUN_MOUNT_TYPE_VOLUME);
  g_assert_cmpstr (m->source, ==, "v1");
  g_assert_cmpstr (m->target, ==, "/app");
  g_assert_false (m->read_only);
  g_assert_true (rrun_mount_parse_mount ("type=bind,src=/tmp,dst=/t,readonly,"
                                         "bind-propagation=rslave,bind-nonrecursive",
                                         &b, &error));
  g_assert_cmpint (b->type, ==, RRUN_MOUNT_TYPE_BIND);
  g_assert_true (b->read_only);
  g_assert_true (b->nonrecursive);
  g_assert_cmpstr (b->propagation, ==, "rslave");
  g_assert_true (rrun_mount_parse_mount ("type=tmpfs,destination=/s,tmpfs-size=1m,"
                                         "tmpfs-mode=700,ro=false",
                                         &t, &error));
  g_assert_cmpstr (t->tmpfs_data, ==, "size=1048576,mode=700");
  g_assert_false (t->read_only);

  g_assert_false (rrun_mount_parse_mount ("target=/a,colour=red", &m, &error));
  g_assert_cmpstr (error->message, ==, "invalid --mount \"target=/a,colour=red\": unknown key "
                                       "\"colour\"\nhint: keys: type, source (src), target "
                                       "(destination, dst), readonly (ro), bind-propagation, "
                                       "bind-nonrecursive, volume-nocopy, volume-opt, "
                                       "tmpfs-size, tmpfs-mode");
  g_clear_error (&error);
  g_assert_false (rrun_mount_parse_mount ("source=v", &m, &error));
  g_assert_true (g_str_has_prefix (error->message, "invalid --mount \"source=v\": no target"));
  g_clear_error (&error);
  g_assert_false (rrun_mount_parse_mount ("type=tmpfs,target=/a,bind-propagation=shared", &m,
                                          &error));
  g_assert_cmpstr (error->message, ==, "invalid --mount \"type=tmpfs,target=/a,"
                                       "bind-propagation=shared\": bind-propagation does not "
                                       "apply to type=tmpfs");
  g_clear_error (&error);
  /* a quoted field keeps its commas; nfs needs root */
  g_assert_false (rrun_mount_parse_mount ("source=nv,target=/n,\"volume-opt=type=nfs\","
                                          "\"volume-opt=o=addr=10.0.0.1,rw\"",
                                          &m, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "rootless containers cannot mount it"));
  g_assert_nonnull (strstr (error->message, "\nhint: mount it on the host"));
}

static void
test_duplicates (void)
{
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GError) error = NULL;
  char *volumes[] = { "a1:/data", NULL };
  char *tmpfs[] = { "/data/", NULL };

  g_assert_false (rrun_mount_parse_all (volumes, NULL, tmpfs, &all, &error));
  g_assert_cmpstr (error->message, ==, "duplicate mount point \"/data/\"");
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
  RrunMountSpec *v = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = NULL, *data = NULL;
  unsigned long flags = 0;
  static const char *const refused[] = { "/tmp:/proc", "/tmp://proc/", "/tmp:/./proc",
                                         "/tmp:/proc/sys", "/tmp:/proc/1/environ", NULL };

  for (guint i = 0; refused[i]; i++)
    {
      g_assert_false (rrun_mount_parse_volume (refused[i], &v, &error));
      g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "cannot mount over or into /proc\nhint: "));
      g_clear_error (&error);
    }
  g_assert_false (rrun_mount_parse_volume ("/tmp:/proc", &v, &error));
  g_assert_cmpstr (error->message, ==,
                   "invalid volume \"/tmp:/proc\": invalid container path \"/proc\": cannot "
                   "mount over or into /proc\nhint: /proc is the container's own; mount the "
                   "host path elsewhere");
  g_clear_error (&error);
  g_assert_false (rrun_tmpfs_parse ("/proc", &target, &data, &flags, &error));
  g_clear_error (&error);
  /* lxcfs's files, as runc allows them, and names that only start with "proc" */
  g_assert_true (rrun_mount_parse_volume ("/tmp:/proc/meminfo", &v, &error));
  g_clear_pointer (&v, rrun_mount_spec_free);
  g_assert_true (rrun_mount_parse_volume ("/tmp:/procfs", &v, &error));
  g_clear_pointer (&v, rrun_mount_spec_free);
  g_assert_true (rrun_mount_parse_volume ("/tmp:/data/proc", &v, &error));
  g_clear_pointer (&v, rrun_mount_spec_free);
}

static void
test_volumes_from (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ctr = NULL, *mode = NULL;
  g_autoptr(RrunMountSpec) v = NULL, b = NULL, missing = NULL;

  g_assert_true (rrun_mount_parse_volumes_from ("db", &ctr, &mode, &error));
  g_assert_cmpstr (ctr, ==, "db");
  g_assert_null (mode);
  g_clear_pointer (&ctr, g_free);
  g_assert_true (rrun_mount_parse_volumes_from ("db:ro", &ctr, &mode, &error));
  g_assert_cmpstr (ctr, ==, "db");
  g_assert_cmpstr (mode, ==, "ro");
  g_assert_false (rrun_mount_parse_volumes_from ("db:rx", NULL, NULL, &error));
  g_assert_cmpstr (error->message, ==, "invalid --volumes-from \"db:rx\": unknown mode \"rx\"\n"
                                       "hint: the form is CONTAINER, CONTAINER:ro or CONTAINER:rw");
  g_clear_error (&error);
  g_assert_false (rrun_mount_parse_volumes_from (":ro", NULL, NULL, &error));
  g_assert_cmpstr (error->message, ==, "invalid --volumes-from \":ro\": no container");
  g_clear_error (&error);

  /* a volume keeps its own mode unless ro/rw says otherwise; never copied up again */
  g_assert_true (rrun_mount_spec_inherit (RRUN_MOUNT_TYPE_VOLUME, "data", "/data", FALSE, "",
                                          NULL, &v, &error));
  g_assert_true (v->read_only);
  g_assert_true (v->nocopy);
  g_assert_cmpstr (v->source, ==, "data");
  g_clear_pointer (&v, rrun_mount_spec_free);
  g_assert_true (rrun_mount_spec_inherit (RRUN_MOUNT_TYPE_VOLUME, "data", "/data", FALSE, "",
                                          "rw", &v, &error));
  g_assert_false (v->read_only);
  g_assert_true (rrun_mount_spec_inherit (RRUN_MOUNT_TYPE_BIND, "/tmp", "/t", TRUE, "rslave",
                                          "ro", &b, &error));
  g_assert_true (b->read_only);
  g_assert_true (b->is_dir);
  g_assert_cmpstr (b->propagation, ==, "rslave");
  g_assert_false (rrun_mount_spec_inherit (RRUN_MOUNT_TYPE_BIND, "/no/such/dir", "/t", TRUE,
                                           "", NULL, &missing, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_NOT_FOUND);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/volumes/volume-ok", test_volume_ok);
  g_test_add_func ("/volumes/volume-errors", test_volume_errors);
  g_test_add_func ("/volumes/tmpfs", test_tmpfs);
  g_test_add_func ("/volumes/proc-targets", test_proc_targets);
  g_test_add_func ("/volumes/mount", test_mount);
  g_test_add_func ("/volumes/duplicates", test_duplicates);
  g_test_add_func ("/volumes/volumes-from", test_volumes_from);
  return g_test_run ();
}
