/* The cgroup module: limit flags (units, ranges, exact errors), docker's conversions,
   the StartTransientUnit message, /proc and mountinfo parsing, memory.events, and the
   delegated-directory backend on a temporary tree of plain files (RRUN_CGROUP_ROOT). */
#include "cgroup/cgroup-private.h"
#include "error.h"
#include "util/path.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <glib/gstdio.h>
#include <sys/wait.h>
#include <unistd.h>

static RrunCgroupLimits *
parse_ok (const char *flag, const char *value)
{
  RrunCgroupLimits *l = rrun_cgroup_limits_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (rrun_cgroup_limits_add_option (l, flag, value, &error));
  g_assert_no_error (error);
  return l;
}

static void
assert_bad (const char *flag, const char *value, const char *message)
{
  g_autoptr(RrunCgroupLimits) l = rrun_cgroup_limits_new ();
  g_autoptr(GError) error = NULL;

  g_assert_false (rrun_cgroup_limits_add_option (l, flag, value, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, message);
  g_assert_false (rrun_cgroup_limits_any (l));
}

static void
test_memory (void)
{
  struct { const char *text; guint64 bytes; } good[] = {
    { "256m", 256ull << 20 }, { "256M", 256ull << 20 }, { "1g", 1ull << 30 },
    { "1.5g", 3ull << 29 }, { "6m", 6ull << 20 }, { "6291456", 6291456 },
    { "7000k", 7000ull << 10 }, { "1gb", 1ull << 30 }, { "2GiB", 2ull << 30 },
    { "8388608b", 8388608 }, { "1t", 1ull << 40 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(RrunCgroupLimits) l = parse_ok ("--memory", good[i].text);
      g_assert_cmpuint (l->memory, ==, good[i].bytes);
      g_assert_true (rrun_cgroup_limits_any (l));
    }
  assert_bad ("--memory", "5m",
              "invalid value \"5m\" for --memory: the minimum is 6m");
  assert_bad ("--memory", "abc",
              "invalid value \"abc\" for --memory: expected a size such as 512m or 2g");
  assert_bad ("--memory", "-1",
              "invalid value \"-1\" for --memory: expected a size such as 512m or 2g");
  assert_bad ("--memory", "12x",
              "invalid value \"12x\" for --memory: expected a size such as 512m or 2g");
  assert_bad ("--memory", "",
              "invalid value \"\" for --memory: expected a size such as 512m or 2g");
  assert_bad ("memory-reservation", "1k",
              "invalid value \"1k\" for --memory-reservation: the minimum is 6m");
  {
    g_autoptr(RrunCgroupLimits) l = parse_ok ("memory-reservation", "100m");
    g_assert_cmpuint (l->memory_reservation, ==, 100ull << 20);
  }
}

static void
test_memory_swap (void)
{
  g_autoptr(RrunCgroupLimits) l = rrun_cgroup_limits_new ();
  g_autoptr(GError) error = NULL;
  guint64 swap = 0;
  char *argv_unlimited[] = { "run", "--memory", "512m", "--memory-swap", "-1", NULL };

  /* docker: --memory alone allows as much swap as memory */
  g_assert_true (rrun_cgroup_limits_add_option (l, "memory", "512m", &error));
  g_assert_true (rrun_cgroup_limits_finish (l, &error));
  g_assert_true (rrun_cgroup_limits_swap_max (l, &swap));
  g_assert_cmpuint (swap, ==, 512ull << 20);
  /* memory + swap = 1g: 512m of swap */
  g_assert_true (rrun_cgroup_limits_add_option (l, "memory-swap", "768m", &error));
  g_assert_true (rrun_cgroup_limits_finish (l, &error));
  g_assert_true (rrun_cgroup_limits_swap_max (l, &swap));
  g_assert_cmpuint (swap, ==, 256ull << 20);
  /* equal: no swap */
  g_assert_true (rrun_cgroup_limits_add_option (l, "memory-swap", "512m", &error));
  g_assert_true (rrun_cgroup_limits_swap_max (l, &swap));
  g_assert_cmpuint (swap, ==, 0);
  g_assert_no_error (error);

  /* -1: unlimited, through the option group */
  {
    g_autoptr(RrunCgroupLimits) u = rrun_cgroup_limits_new ();
    g_autoptr(GOptionContext) ctx = g_option_context_new (NULL);
    char **argv = argv_unlimited;
    int argc = 5;

    g_option_context_add_group (ctx, rrun_cgroup_limits_option_group (u));
    g_assert_true (g_option_context_parse (ctx, &argc, &argv, &error));
    g_assert_true (rrun_cgroup_limits_finish (u, &error));
    g_assert_no_error (error);
    g_assert_cmpint (u->memory_swap, ==, -1);
    g_assert_true (rrun_cgroup_limits_swap_max (u, &swap));
    g_assert_cmpuint (swap, ==, G_MAXUINT64);
  }
  /* no memory: no swap setting at all */
  {
    g_autoptr(RrunCgroupLimits) n = rrun_cgroup_limits_new ();
    g_assert_false (rrun_cgroup_limits_swap_max (n, &swap));
  }
  assert_bad ("memory-swap", "lots",
              "invalid value \"lots\" for --memory-swap: expected a size such as 1g (memory "
              "plus swap), or -1 for no limit");
}

static void
finish_bad (char **argv, const char *message)
{
  g_autoptr(RrunCgroupLimits) l = rrun_cgroup_limits_new ();
  g_autoptr(GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  int argc = (int) g_strv_length (argv);

  g_option_context_add_group (ctx, rrun_cgroup_limits_option_group (l));
  g_assert_true (g_option_context_parse (ctx, &argc, &argv, &error));
  g_assert_false (rrun_cgroup_limits_finish (l, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, message);
}

static void
test_cross_checks (void)
{
  char *a1[] = { "run", "--memory-swap", "1g", NULL };
  char *a2[] = { "run", "-m", "1g", "--memory-swap", "512m", NULL };
  char *a3[] = { "run", "-m", "64m", "--memory-reservation", "128m", NULL };
  char *a4[] = { "run", "--cpu-shares", "512", "--cpu-weight", "50", NULL };
  char *a5[] = { "run", "--memory", "1m", "--cpus", "x", NULL };

  finish_bad (a1, "invalid value \"1g\" for --memory-swap: it needs --memory as well");
  finish_bad (a2, "invalid value \"512m\" for --memory-swap: it counts memory plus swap and "
                  "must not be below --memory (1g)");
  finish_bad (a3, "invalid value \"128m\" for --memory-reservation: it must not be above "
                  "--memory (64m)");
  finish_bad (a4, "cannot use --cpu-shares with --cpu-weight: both set cpu.weight");
  /* the first bad flag in table order is the one named */
  finish_bad (a5, "invalid value \"1m\" for --memory: the minimum is 6m");
}

static void
test_cpus (void)
{
  guint ncpu = g_get_num_processors ();
  g_autofree char *range = g_strdup_printf ("the range is 0.01 to %u (the CPUs available)",
                                            ncpu);
  g_autofree char *too_many = g_strdup_printf ("%u.5", ncpu);
  g_autofree char *msg_small = g_strdup_printf ("invalid value \"0.001\" for --cpus: %s", range);
  g_autofree char *msg_big = g_strdup_printf ("invalid value \"%s\" for --cpus: %s", too_many,
                                              range);
  {
    g_autoptr(RrunCgroupLimits) l = parse_ok ("cpus", "0.5");
    g_assert_cmpuint (l->cpu_quota_us, ==, 50000);
    g_assert_cmpuint (l->cpu_period_us, ==, 100000);
  }
  {
    g_autoptr(RrunCgroupLimits) l = parse_ok ("cpus", "0.01");
    g_assert_cmpuint (l->cpu_quota_us, ==, 1000);
  }
  {
    g_autoptr(RrunCgroupLimits) l = parse_ok ("cpus", "1");
    g_assert_cmpuint (l->cpu_quota_us, ==, 100000);
  }
  {
    g_autoptr(RrunCgroupLimits) l = parse_ok ("cpus", "0");
    g_assert_false (rrun_cgroup_limits_any (l)); /* docker: 0 is no limit */
  }
  assert_bad ("cpus", "0.001", msg_small);
  assert_bad ("cpus", too_many, msg_big);
  assert_bad ("cpus", "half",
              "invalid value \"half\" for --cpus: expected a number of CPUs such as 0.5 or 2");
  assert_bad ("cpus", "-1",
              "invalid value \"-1\" for --cpus: expected a number of CPUs such as 0.5 or 2");
  assert_bad ("cpus", "1.5x",
              "invalid value \"1.5x\" for --cpus: expected a number of CPUs such as 0.5 or 2");
}

static void
test_cpu_weight (void)
{
  /* runc's ConvertCPUSharesToCgroupV2Value */
  g_assert_cmpuint (rrun_cgroup_shares_to_weight (2), ==, 1);
  g_assert_cmpuint (rrun_cgroup_shares_to_weight (1024), ==, 39);
  g_assert_cmpuint (rrun_cgroup_shares_to_weight (512), ==, 20);
  g_assert_cmpuint (rrun_cgroup_shares_to_weight (262144), ==, 10000);
  g_assert_cmpuint (rrun_cgroup_shares_to_weight (0), ==, 0);
  {
    g_autoptr(RrunCgroupLimits) l = parse_ok ("cpu-shares", "1024");
    g_assert_cmpuint (l->cpu_weight, ==, 39);
  }
  {
    g_autoptr(RrunCgroupLimits) l = parse_ok ("cpu-weight", "500");
    g_assert_cmpuint (l->cpu_weight, ==, 500);
  }
  assert_bad ("cpu-shares", "1", "invalid value \"1\" for --cpu-shares: the range is 2 to 262144");
  assert_bad ("cpu-shares", "262145",
              "invalid value \"262145\" for --cpu-shares: the range is 2 to 262144");
  assert_bad ("cpu-shares", "+5", "invalid value \"+5\" for --cpu-shares: the range is 2 to 262144");
  assert_bad ("cpu-weight", "0", "invalid value \"0\" for --cpu-weight: the range is 1 to 10000");
  assert_bad ("cpu-weight", "10001",
              "invalid value \"10001\" for --cpu-weight: the range is 1 to 10000");
}

static void
test_cpuset (void)
{
  const char *good[] = { "0", "0-3", "0-3,5", "1,3,5-7", "0-0" };
  const char *bad[] = { "", "0-", "-1", "3-1", "a", ",1", "1,,2", "1-2-3", "99999", "1 ,2" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(RrunCgroupLimits) l = parse_ok ("cpuset-cpus", good[i]);
      g_assert_cmpstr (l->cpuset_cpus, ==, good[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *m = g_strdup_printf (
          "invalid value \"%s\" for --cpuset-cpus: expected a list of CPUs such as 0-3,5",
          bad[i]);
      assert_bad ("cpuset-cpus", bad[i], m);
    }
  assert_bad ("cpuset-mems", "0-",
              "invalid value \"0-\" for --cpuset-mems: expected a list of memory nodes such "
              "as 0-1,3");
}

static void
test_pids_blkio (void)
{
  {
    g_autoptr(RrunCgroupLimits) l = parse_ok ("pids-limit", "100");
    g_assert_cmpuint (l->pids_limit, ==, 100);
  }
  {
    g_autoptr(RrunCgroupLimits) l = parse_ok ("pids-limit", "-1");
    g_assert_false (rrun_cgroup_limits_any (l));
  }
  {
    g_autoptr(RrunCgroupLimits) l = parse_ok ("pids-limit", "0");
    g_assert_false (rrun_cgroup_limits_any (l));
  }
  assert_bad ("pids-limit", "-2",
              "invalid value \"-2\" for --pids-limit: expected a number of tasks, or -1 for no "
              "limit");
  assert_bad ("pids-limit", "many",
              "invalid value \"many\" for --pids-limit: expected a number of tasks, or -1 for "
              "no limit");

  g_assert_cmpuint (rrun_cgroup_blkio_to_io_weight (10), ==, 1);
  g_assert_cmpuint (rrun_cgroup_blkio_to_io_weight (500), ==, 4950);
  g_assert_cmpuint (rrun_cgroup_blkio_to_io_weight (1000), ==, 10000);
  {
    g_autoptr(RrunCgroupLimits) l = parse_ok ("blkio-weight", "500");
    g_assert_cmpuint (l->io_weight, ==, 4950);
  }
  assert_bad ("blkio-weight", "5", "invalid value \"5\" for --blkio-weight: the range is 10 to 1000");
  assert_bad ("blkio-weight", "1001",
              "invalid value \"1001\" for --blkio-weight: the range is 10 to 1000");
}

/* A block device to name: the first one in /dev. */
static char *
find_block_device (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/dev", 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *p = g_build_filename ("/dev", name, NULL);
      struct stat st;

      if (stat (p, &st) == 0 && S_ISBLK (st.st_mode))
        return g_steal_pointer (&p);
    }
  return NULL;
}

static void
test_devices (void)
{
  g_autofree char *dev = find_block_device ();
  g_autoptr(RrunCgroupLimits) l = rrun_cgroup_limits_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *bps = NULL;
  g_autofree char *iops = NULL;
  g_autofree char *bad_iops = NULL;
  g_autofree char *bad_iops_msg = NULL;
  const RrunCgroupDeviceLimit *d;
  struct stat st;

  assert_bad ("device-read-bps", "sda:1m",
              "invalid value \"sda:1m\" for --device-read-bps: expected DEVICE:RATE such as "
              "/dev/sda:10m");
  assert_bad ("device-write-iops", "/dev/sda",
              "invalid value \"/dev/sda\" for --device-write-iops: expected DEVICE:RATE such "
              "as /dev/sda:1000");
  assert_bad ("device-read-bps", "/dev/no-such-disk:1m",
              "invalid value \"/dev/no-such-disk:1m\" for --device-read-bps: cannot stat "
              "\"/dev/no-such-disk\": No such file or directory");
  assert_bad ("device-write-bps", "/dev/null:1m",
              "invalid value \"/dev/null:1m\" for --device-write-bps: \"/dev/null\" is not a "
              "block device");
  assert_bad ("device-read-bps", "/dev/null:fast",
              "invalid value \"/dev/null:fast\" for --device-read-bps: expected a rate in bytes "
              "per second such as 10m");
  assert_bad ("device-read-bps", "/dev/null:0",
              "invalid value \"/dev/null:0\" for --device-read-bps: the rate must be above 0");
  if (dev == NULL)
    {
      g_test_skip ("no block device in /dev");
      return;
    }
  g_assert_cmpint (stat (dev, &st), ==, 0);
  bps = g_strdup_printf ("%s:10m", dev);
  iops = g_strdup_printf ("%s:1000", dev);
  bad_iops = g_strdup_printf ("%s:1k", dev);
  bad_iops_msg = g_strdup_printf ("invalid value \"%s\" for --device-read-iops: expected a rate "
                                  "in operations per second such as 1000", bad_iops);
  assert_bad ("device-read-iops", bad_iops, bad_iops_msg);
  g_assert_true (rrun_cgroup_limits_add_option (l, "device-read-bps", bps, &error));
  g_assert_true (rrun_cgroup_limits_add_option (l, "device-write-iops", iops, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (l->devices->len, ==, 1); /* one device, two rates */
  d = &g_array_index (l->devices, RrunCgroupDeviceLimit, 0);
  g_assert_cmpstr (d->path, ==, dev);
  g_assert_cmpuint (d->major, ==, major (st.st_rdev));
  g_assert_cmpuint (d->minor, ==, minor (st.st_rdev));
  g_assert_cmpuint (d->read_bps, ==, 10ull << 20);
  g_assert_cmpuint (d->write_iops, ==, 1000);
  g_assert_cmpuint (d->write_bps, ==, 0);
  g_assert_cmpuint (rrun_cgroup_limits_controllers (l), ==, RRUN_CGROUP_IO);
}

static void
test_option_group (void)
{
  g_autoptr(RrunCgroupLimits) l = rrun_cgroup_limits_new ();
  g_autoptr(GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  char *args[] = { "run", "-m", "256m", "--cpus", "0.5", "--pids-limit", "100", "-c", "512",
                   "--cpuset-cpus", "0", "--blkio-weight", "10", "alpine", "sh", NULL };
  char **argv = args;
  int argc = G_N_ELEMENTS (args) - 1;

  g_option_context_add_group (ctx, rrun_cgroup_limits_option_group (l));
  g_option_context_set_strict_posix (ctx, TRUE);
  g_assert_true (g_option_context_parse (ctx, &argc, &argv, &error));
  g_assert_true (rrun_cgroup_limits_finish (l, &error));
  g_assert_no_error (error);
  g_assert_cmpint (argc, ==, 3);
  g_assert_cmpstr (argv[1], ==, "alpine");
  g_assert_cmpuint (l->memory, ==, 256ull << 20);
  g_assert_cmpuint (l->cpu_quota_us, ==, 50000);
  g_assert_cmpuint (l->pids_limit, ==, 100);
  g_assert_cmpuint (l->cpu_weight, ==, 20);
  g_assert_cmpuint (l->io_weight, ==, 1);
  g_assert_cmpuint (rrun_cgroup_limits_controllers (l), ==,
                    RRUN_CGROUP_MEMORY | RRUN_CGROUP_CPU | RRUN_CGROUP_PIDS | RRUN_CGROUP_CPUSET
                        | RRUN_CGROUP_IO);
}

static void
test_dbus_message (void)
{
  g_autoptr(GVariant) v = NULL;
  g_autofree char *text = NULL;

  /* The scope is an envelope handed over with Delegate=yes: limits go into the
     container leaf below it (where rrun update writes them too), never into systemd's
     own properties of the scope. */
  v = g_variant_ref_sink (rrun_cgroup_systemd_start_parameters ("abc123", 4242, NULL));
  g_assert_true (g_variant_is_of_type (v, G_VARIANT_TYPE ("(ssa(sv)a(sa(sv)))")));
  text = g_variant_print (v, TRUE);
  g_assert_cmpstr (text, ==,
                   "('rrun-abc123.scope', 'fail', [('Description', <'rrun container abc123'>), "
                   "('PIDs', <[uint32 4242]>), ('Delegate', <true>), "
                   "('CollectMode', <'inactive-or-failed'>)], @a(sa(sv)) [])");
}

static void
test_proc_cgroup (void)
{
  g_autofree char *path = NULL;

  g_assert_true (rrun_cgroup_parse_proc_cgroup (
      "12:pids:/user.slice\n1:name=systemd:/user.slice/x\n0::/user.slice/user-1000.slice/"
      "session-1.scope\n",
      &path));
  g_assert_cmpstr (path, ==, "/user.slice/user-1000.slice/session-1.scope");
  g_clear_pointer (&path, g_free);
  g_assert_true (rrun_cgroup_parse_proc_cgroup ("0::/\n", &path));
  g_assert_cmpstr (path, ==, "/");
  g_clear_pointer (&path, g_free);
  /* pure v1: no unified line */
  g_assert_false (rrun_cgroup_parse_proc_cgroup ("4:memory:/a\n1:cpu:/\n", &path));
  g_assert_null (path);
}

static void
test_mountinfo (void)
{
  const char *hybrid =
      "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
      "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
  const char *pure =
      "22 1 0:21 / /sys rw - sysfs sysfs rw\n"
      "28 22 0:25 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n";
  const char *nested =
      "600 500 0:25 /user.slice/job\\0401 /sys/fs/cgroup ro master:9 - cgroup2 cgroup2 rw\n";
  g_autofree char *mount = NULL;
  g_autofree char *root = NULL;
  g_autofree char *dir = NULL;
  gboolean v1 = FALSE;

  g_assert_true (rrun_cgroup_parse_mountinfo (hybrid, &mount, &root, &v1));
  g_assert_cmpstr (mount, ==, "/sys/fs/cgroup/unified");
  g_assert_cmpstr (root, ==, "/");
  g_assert_true (v1);
  g_clear_pointer (&mount, g_free);
  g_clear_pointer (&root, g_free);

  g_assert_true (rrun_cgroup_parse_mountinfo (pure, &mount, &root, &v1));
  g_assert_cmpstr (mount, ==, "/sys/fs/cgroup");
  g_assert_false (v1);
  dir = rrun_cgroup_dir_for (mount, root, "/user.slice/a.scope");
  g_assert_cmpstr (dir, ==, "/sys/fs/cgroup/user.slice/a.scope");
  g_clear_pointer (&dir, g_free);
  dir = rrun_cgroup_dir_for (mount, root, "/");
  g_assert_cmpstr (dir, ==, "/sys/fs/cgroup");
  g_clear_pointer (&dir, g_free);
  g_clear_pointer (&mount, g_free);
  g_clear_pointer (&root, g_free);

  /* a bind mount of part of the hierarchy, with an escaped space */
  g_assert_true (rrun_cgroup_parse_mountinfo (nested, &mount, &root, &v1));
  g_assert_cmpstr (root, ==, "/user.slice/job 1");
  dir = rrun_cgroup_dir_for (mount, root, "/user.slice/job 1/step");
  g_assert_cmpstr (dir, ==, "/sys/fs/cgroup/step");
  g_clear_pointer (&dir, g_free);
  g_assert_null (rrun_cgroup_dir_for (mount, root, "/user.slice/job 10"));
  g_assert_null (rrun_cgroup_dir_for (mount, root, "/other"));

  g_assert_false (rrun_cgroup_parse_mountinfo ("34 30 0:31 / /x rw - cgroup cgroup rw\n",
                                               &mount, &root, &v1));
}

static void
test_keyed (void)
{
  const char *events = "low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n";
  guint64 v = 99;

  g_assert_true (rrun_cgroup_parse_keyed (events, "oom_kill", &v));
  g_assert_cmpuint (v, ==, 1);
  g_assert_true (rrun_cgroup_parse_keyed (events, "oom", &v));
  g_assert_cmpuint (v, ==, 2);
  g_assert_false (rrun_cgroup_parse_keyed (events, "oom_k", &v));
  g_assert_false (rrun_cgroup_parse_keyed ("oom_kill x\n", "oom_kill", &v));
}

/* ---- a fake cgroup tree of plain files ---- */

static char *
make_tree (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("rrun-cgroup-XXXXXX", &error);

  g_assert_no_error (error);
  g_setenv ("RRUN_CGROUP_ROOT", dir, TRUE);
  return dir;
}

static void
put (const char *dir, const char *name, const char *text)
{
  g_autofree char *p = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (p, text, -1, &error));
}

static char *
get (const char *dir, const char *name)
{
  g_autofree char *p = g_build_filename (dir, name, NULL);
  char *text = NULL;

  g_assert_true (g_file_get_contents (p, &text, NULL, NULL));
  return text;
}

static void
drop_tree (char *dir)
{
  g_assert_true (rrun_path_rm_rf (dir, NULL));
  g_unsetenv ("RRUN_CGROUP_ROOT");
  g_free (dir);
}

static void
test_fs_write_limits (void)
{
  g_autofree char *dev = find_block_device ();
  g_autoptr(RrunCgroupLimits) l = rrun_cgroup_limits_new ();
  g_autoptr(GError) error = NULL;
  char *dir = make_tree ();
  const char *files[] = { "cpuset.cpus", "cpuset.mems", "memory.low", "memory.max",
                          "memory.swap.max", "cpu.max", "cpu.weight", "pids.max", "io.weight",
                          "io.max" };
  int fd;

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    put (dir, files[i], "");
  g_assert_true (rrun_cgroup_limits_add_option (l, "memory", "256m", &error));
  g_assert_true (rrun_cgroup_limits_add_option (l, "memory-reservation", "64m", &error));
  g_assert_true (rrun_cgroup_limits_add_option (l, "memory-swap", "-1", &error));
  g_assert_true (rrun_cgroup_limits_add_option (l, "cpus", "1.5", &error));
  g_assert_true (rrun_cgroup_limits_add_option (l, "cpu-shares", "1024", &error));
  g_assert_true (rrun_cgroup_limits_add_option (l, "cpuset-cpus", "0", &error));
  g_assert_true (rrun_cgroup_limits_add_option (l, "cpuset-mems", "0", &error));
  g_assert_true (rrun_cgroup_limits_add_option (l, "pids-limit", "100", &error));
  g_assert_true (rrun_cgroup_limits_add_option (l, "blkio-weight", "1000", &error));
  if (dev)
    {
      g_autofree char *a = g_strdup_printf ("%s:1m", dev);
      g_autofree char *b = g_strdup_printf ("%s:20", dev);
      g_assert_true (rrun_cgroup_limits_add_option (l, "device-write-bps", a, &error));
      g_assert_true (rrun_cgroup_limits_add_option (l, "device-read-iops", b, &error));
    }
  g_assert_true (rrun_cgroup_limits_finish (l, &error));
  fd = open (dir, O_RDONLY | O_DIRECTORY);
  g_assert_true (rrun_cgroup_fs_write_limits (fd, dir, l, &error));
  g_assert_no_error (error);
  close (fd);
#define CHECK(name, want)                                                                  \
  do                                                                                       \
    {                                                                                      \
      g_autofree char *got = get (dir, name);                                              \
      g_assert_cmpstr (got, ==, want);                                                     \
    }                                                                                      \
  while (0)
  CHECK ("memory.max", "268435456");
  CHECK ("memory.low", "67108864");
  CHECK ("memory.swap.max", "max");
  CHECK ("cpu.max", "150000 100000");
  CHECK ("cpu.weight", "39");
  CHECK ("cpuset.cpus", "0");
  CHECK ("cpuset.mems", "0");
  CHECK ("pids.max", "100");
  CHECK ("io.weight", "default 10000");
  if (dev)
    {
      struct stat st;
      g_autofree char *want = NULL;

      g_assert_cmpint (stat (dev, &st), ==, 0);
      want = g_strdup_printf ("%u:%u wbps=1048576 riops=20", major (st.st_rdev),
                              minor (st.st_rdev));
      CHECK ("io.max", want);
    }
  drop_tree (dir);
}

static void
test_fs_missing_controller_file (void)
{
  g_autoptr(RrunCgroupLimits) l = rrun_cgroup_limits_new ();
  g_autoptr(GError) error = NULL;
  char *dir = make_tree ();
  g_autofree char *msg = NULL;
  int fd;

  g_assert_true (rrun_cgroup_limits_add_option (l, "pids-limit", "10", &error));
  fd = open (dir, O_RDONLY | O_DIRECTORY);
  g_assert_false (rrun_cgroup_fs_write_limits (fd, dir, l, &error));
  close (fd);
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_UNSUPPORTED);
  msg = g_strdup_printf ("cannot set pids.max in cgroup \"%s\": the pids controller is not "
                         "enabled there", dir);
  g_assert_cmpstr (error->message, ==, msg);
  drop_tree (dir);
}

static void
test_fs_controller_not_delegated (void)
{
  g_autoptr(RrunCgroupLimits) l = rrun_cgroup_limits_new ();
  g_autoptr(RrunCgroup) cg = NULL;
  g_autoptr(GError) error = NULL;
  char *dir = make_tree ();
  g_autofree char *want = NULL;
  g_autofree char *leaf = NULL;

  put (dir, "cgroup.procs", "");
  put (dir, "cgroup.controllers", "cpu io memory pids\n");
  put (dir, "cgroup.subtree_control", "");
  g_assert_true (rrun_cgroup_limits_add_option (l, "cpuset-cpus", "0", &error));
  g_assert_false (rrun_cgroup_prepare ("enabled", l, "c1", &cg, &error));
  g_assert_null (cg);
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_UNSUPPORTED);
  /* the root check sees it first: the fake tree is the mount root */
  want = g_strdup_printf ("cannot apply --cpuset-cpus: the cpuset controller is not available "
                          "in cgroup v2 (\"%s\")", dir);
  g_assert_true (g_str_has_prefix (error->message, want));
  g_assert_nonnull (strstr (error->message, "\nhint: "));
  leaf = g_build_filename (dir, "rrun-c1", NULL);
  g_assert_false (g_file_test (leaf, G_FILE_TEST_EXISTS));
  drop_tree (dir);
}

/* rrun update on a fake tree: base/rrun-c1 as run left it. */
static RrunCgroupLimits *
update_limits (char **args)
{
  RrunCgroupLimits *l = rrun_cgroup_limits_new ();
  g_autoptr(GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  int argc = (int) g_strv_length (args);

  g_option_context_add_group (ctx, rrun_cgroup_limits_option_group (l));
  g_assert_true (g_option_context_parse (ctx, &argc, &args, &error));
  l->updating = TRUE;
  g_assert_true (rrun_cgroup_limits_finish (l, &error));
  g_assert_no_error (error);
  return l;
}

static void
test_update (void)
{
  char *dir = make_tree ();
  g_autofree char *leaf = g_build_filename (dir, "rrun-c1", NULL);
  g_autoptr(GError) error = NULL;
  const char *files[] = { "memory.low", "memory.max", "memory.swap.max", "pids.max",
                          "cpu.max" };

  g_assert_cmpint (g_mkdir (leaf, 0755), ==, 0);
  put (dir, "cgroup.controllers", "cpu memory pids\n");
  put (dir, "cgroup.subtree_control", "memory pids\n");
  put (leaf, "cgroup.controllers", "memory pids\n");
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    put (leaf, files[i], "");
  put (leaf, "memory.max", "268435456\n");

  /* Only what is given changes: --memory alone leaves swap as it is (no implied swap). */
  {
    char *args[] = { "update", "--memory", "512m", "--pids-limit", "-1", NULL };
    g_autoptr(RrunCgroupLimits) l = update_limits (args);
    g_autofree char *mem = NULL, *swap = NULL, *pids = NULL, *low = NULL;

    g_assert_true (rrun_cgroup_update (leaf, l, &error));
    g_assert_no_error (error);
    mem = get (leaf, "memory.max");
    swap = get (leaf, "memory.swap.max");
    pids = get (leaf, "pids.max");
    low = get (leaf, "memory.low");
    g_assert_cmpstr (mem, ==, "268435456\n536870912"); /* O_APPEND keeps both */
    g_assert_cmpstr (swap, ==, "");
    g_assert_cmpstr (pids, ==, "max");                  /* -1 lifts the limit */
    g_assert_cmpstr (low, ==, "");
  }
  /* --memory-swap alone counts against the memory.max in place. */
  {
    char *args[] = { "update", "--memory-swap", "1g", NULL };
    g_autoptr(RrunCgroupLimits) l = update_limits (args);
    g_autofree char *swap = NULL;

    put (leaf, "memory.max", "536870912\n");
    g_assert_true (rrun_cgroup_update (leaf, l, &error));
    g_assert_no_error (error);
    swap = get (leaf, "memory.swap.max");
    g_assert_cmpstr (swap, ==, "536870912");
  }
  {
    char *args[] = { "update", "--memory-swap", "256m", NULL };
    g_autoptr(RrunCgroupLimits) l = update_limits (args);

    g_assert_false (rrun_cgroup_update (leaf, l, &error));
    g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
    g_assert_cmpstr (error->message, ==,
                     "invalid value \"256m\" for --memory-swap: it counts memory plus swap and "
                     "must not be below the memory limit (536870912 bytes)");
    g_clear_error (&error);
    put (leaf, "memory.max", "max\n");
    g_assert_false (rrun_cgroup_update (leaf, l, &error));
    g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
    g_assert_true (g_str_has_prefix (error->message,
                                     "invalid value \"256m\" for --memory-swap: it needs "
                                     "--memory as well (the container has no memory limit)\n"
                                     "hint: "));
    g_clear_error (&error);
  }
  /* A controller the container was started without: its parent enables it. */
  {
    char *args[] = { "update", "--cpus", "1", NULL };
    g_autoptr(RrunCgroupLimits) l = update_limits (args);
    g_autofree char *control = NULL, *cpu = NULL;

    g_assert_true (rrun_cgroup_update (leaf, l, &error));
    g_assert_no_error (error);
    control = get (dir, "cgroup.subtree_control");
    g_assert_nonnull (strstr (control, "+cpu"));
    cpu = get (leaf, "cpu.max");
    g_assert_cmpstr (cpu, ==, "100000 100000");
  }
  /* One the parent does not have either: the run message, with update's hint. */
  {
    char *args[] = { "update", "--cpuset-cpus", "0", NULL };
    g_autoptr(RrunCgroupLimits) l = update_limits (args);
    g_autofree char *want = g_strdup_printf ("cannot apply --cpuset-cpus: the cpuset "
                                             "controller is not delegated to cgroup \"%s\"\n",
                                             dir);

    g_assert_false (rrun_cgroup_update (leaf, l, &error));
    g_assert_error (error, RRUN_ERROR, RRUN_ERROR_UNSUPPORTED);
    g_assert_true (g_str_has_prefix (error->message, want));
    g_assert_nonnull (strstr (error->message, "\nhint: or update without --cpuset-cpus"));
    g_clear_error (&error);
  }
  /* The container ended meanwhile. */
  {
    char *args[] = { "update", "--pids-limit", "5", NULL };
    g_autoptr(RrunCgroupLimits) l = update_limits (args);
    g_autofree char *gone = g_build_filename (dir, "rrun-gone", NULL);

    g_assert_false (rrun_cgroup_update (gone, l, &error));
    g_assert_error (error, RRUN_ERROR, RRUN_ERROR_NOT_FOUND);
  }
  drop_tree (dir);
}

static void
test_fs_lifecycle (void)
{
  g_autoptr(RrunCgroupLimits) l = rrun_cgroup_limits_new ();
  g_autoptr(GError) error = NULL;
  RrunCgroup *cg = NULL;
  char *dir = make_tree ();
  g_autofree char *leaf = g_build_filename (dir, "rrun-abc", NULL);
  g_autofree char *sub = g_build_filename (leaf, "nested", NULL);
  g_autofree char *procs = NULL;
  g_autofree char *pidtext = NULL;
  g_autofree char *subtree = NULL;
  RrunCgroup *again = NULL;
  int status;
  pid_t child;

  put (dir, "cgroup.procs", "1\n");
  put (dir, "cgroup.controllers", "cpuset cpu io memory pids\n");
  put (dir, "cgroup.subtree_control", "");

  /* with a limit: the controllers get enabled (the root may have processes) */
  g_assert_true (rrun_cgroup_limits_add_option (l, "pids-limit", "50", &error));
  g_assert_false (rrun_cgroup_prepare ("enabled", l, "abc", &cg, &error));
  /* ... and the leaf, a plain directory here, has no pids.max: clear error, no leaf */
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_UNSUPPORTED);
  g_assert_true (g_str_has_prefix (error->message, "cannot set pids.max in cgroup \""));
  g_assert_false (g_file_test (leaf, G_FILE_TEST_EXISTS));
  subtree = get (dir, "cgroup.subtree_control");
  g_assert_cmpstr (subtree, ==, "+cpu+cpuset+io+memory+pids");
  g_clear_error (&error);

  /* no limits: a leaf, locked, that gc leaves alone */
  g_assert_true (rrun_cgroup_prepare ("enabled", NULL, "abc", &cg, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (rrun_cgroup_backend_name (cg), ==, "delegated");
  g_assert_cmpstr (rrun_cgroup_path (cg), ==, leaf);
  g_assert_true (g_file_test (leaf, G_FILE_TEST_IS_DIR));
  g_assert_true (rrun_cgroup_gc (&error));
  g_assert_true (g_file_test (leaf, G_FILE_TEST_IS_DIR));

  /* the same id twice is refused */
  g_assert_false (rrun_cgroup_prepare ("enabled", NULL, "abc", &again, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_BUSY);
  g_clear_error (&error);

  /* enter writes the pid to the leaf's cgroup.procs */
  child = fork ();
  if (child == 0)
    {
      pause ();
      _exit (0);
    }
  put (leaf, "cgroup.procs", "");
  g_assert_true (rrun_cgroup_enter (cg, child, &error));
  g_assert_no_error (error);
  procs = get (leaf, "cgroup.procs");
  pidtext = g_strdup_printf ("%d", (int) child);
  g_assert_cmpstr (procs, ==, pidtext);
  g_assert_cmpint (g_mkdir_with_parents (sub, 0755), ==, 0);

  /* memory.events: no oom_kill yet, then one */
  put (leaf, "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n");
  g_assert_false (rrun_cgroup_oom_killed (cg, NULL));
  put (leaf, "memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
  put (leaf, "memory.max", "268435456\n");
  {
    guint64 limit = 0;
    g_assert_true (rrun_cgroup_oom_killed (cg, &limit));
    g_assert_cmpuint (limit, ==, 268435456);
  }

  /* free kills what is in cgroup.procs (no cgroup.kill here); the files of the fake
     tree keep the directory, which a real cgroup's interface files do not */
  rrun_cgroup_free (cg);
  g_assert_cmpint (waitpid (child, &status, 0), ==, child);
  g_assert_true (WIFSIGNALED (status));
  g_assert_cmpint (WTERMSIG (status), ==, SIGKILL);
  g_assert_false (g_file_test (sub, G_FILE_TEST_EXISTS)); /* nested ones go first */
  drop_tree (dir);
}

static void
test_fs_free_removes_leaf (void)
{
  g_autoptr(GError) error = NULL;
  RrunCgroup *cg = NULL;
  char *dir = make_tree ();
  g_autofree char *leaf = g_build_filename (dir, "rrun-x1", NULL);

  put (dir, "cgroup.procs", "");
  g_assert_true (rrun_cgroup_prepare (NULL, NULL, "x1", &cg, &error));
  g_assert_true (g_file_test (leaf, G_FILE_TEST_IS_DIR));
  rrun_cgroup_free (cg);
  g_assert_false (g_file_test (leaf, G_FILE_TEST_EXISTS));
  drop_tree (dir);
}

static void
test_fs_gc (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = make_tree ();
  const char *dirs[] = { "rrun-stale", "rrun-busy", "rrun-locked", "rrun-host", "user" };
  g_autofree char *busy = g_build_filename (dir, "rrun-busy", NULL);
  g_autofree char *locked = g_build_filename (dir, "rrun-locked", NULL);
  g_autofree char *stale = g_build_filename (dir, "rrun-stale", NULL);
  int lockfd;

  put (dir, "cgroup.procs", "");
  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *p = g_build_filename (dir, dirs[i], NULL);
      g_assert_cmpint (mkdir (p, 0755), ==, 0);
    }
  put (busy, "cgroup.procs", "12345\n");
  lockfd = open (locked, O_RDONLY | O_DIRECTORY);
  g_assert_cmpint (flock (lockfd, LOCK_EX), ==, 0);

  g_assert_true (rrun_cgroup_gc (&error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (stale, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (busy, G_FILE_TEST_IS_DIR));
  g_assert_true (g_file_test (locked, G_FILE_TEST_IS_DIR));
  for (guint i = 3; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *p = g_build_filename (dir, dirs[i], NULL);
      g_assert_true (g_file_test (p, G_FILE_TEST_IS_DIR));
    }
  close (lockfd);
  drop_tree (dir);
}

static void
test_disabled_and_bad_mode (void)
{
  g_autoptr(RrunCgroupLimits) l = rrun_cgroup_limits_new ();
  g_autoptr(GError) error = NULL;
  RrunCgroup *cg = NULL;

  g_assert_true (rrun_cgroup_limits_add_option (l, "memory", "1g", &error));
  g_assert_true (rrun_cgroup_prepare ("disabled", l, "d1", &cg, &error));
  g_assert_cmpstr (rrun_cgroup_backend_name (cg), ==, "none");
  g_assert_null (rrun_cgroup_path (cg));
  g_assert_true (rrun_cgroup_enter (cg, getpid (), &error));
  g_assert_false (rrun_cgroup_oom_killed (cg, NULL));
  rrun_cgroup_free (cg);
  cg = NULL;
  g_assert_false (rrun_cgroup_prepare ("on", l, "d1", &cg, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==,
                   "invalid value \"on\" for --cgroups: expected enabled or disabled");
}

static void
test_stats (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = make_tree ();
  RrunCgroupStats s;

  put (dir, "cgroup.procs", "1\n");
  put (dir, "cpu.stat", "usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\n");
  put (dir, "memory.current", "1048576\n");
  put (dir, "memory.max", "max\n");
  put (dir, "pids.current", "3\n");
  put (dir, "pids.max", "100\n");
  put (dir, "io.stat", "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n"
                       "254:0 rbytes=1 wbytes=2 rios=1 wios=1 dbytes=0 dios=0\n");
  g_assert_true (rrun_cgroup_read_stats (dir, &s, &error));
  g_assert_no_error (error);
  g_assert_true (s.has_cpu);
  g_assert_cmpuint (s.cpu_usage_usec, ==, 123456);
  g_assert_true (s.has_memory);
  g_assert_cmpuint (s.memory_current, ==, 1048576);
  g_assert_cmpuint (s.memory_max, ==, G_MAXUINT64);
  g_assert_true (s.has_pids);
  g_assert_cmpuint (s.pids_current, ==, 3);
  g_assert_cmpuint (s.pids_max, ==, 100);
  g_assert_true (s.has_io);
  g_assert_cmpuint (s.io_read_bytes, ==, 4097);
  g_assert_cmpuint (s.io_write_bytes, ==, 8194);

  /* controllers off: the has_ flags say so */
  {
    g_autofree char *p = g_build_filename (dir, "memory.current", NULL);
    g_unlink (p);
  }
  g_assert_true (rrun_cgroup_read_stats (dir, &s, &error));
  g_assert_false (s.has_memory);
  g_assert_false (rrun_cgroup_read_stats ("/no/such/cgroup", &s, &error));
  g_assert_true (g_str_has_prefix (error->message,
                                   "cannot read the stats of cgroup \"/no/such/cgroup\": "));
  drop_tree (dir);
}

/* /proc/self/cgroup of a task of Slurm job 42 (v1 freezer, and v2), and of other jobs. */
static void
test_in_slurm_job (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rrun-slurm-XXXXXX", NULL);
  g_autofree char *proc = g_build_filename (dir, "cgroup", NULL);
  g_autofree char *job = NULL;
  static const char *const in_job[] = {
    "6:freezer:/slurm_node1/uid_1000/job_42/step_0\n0::/\n",
    "0::/system.slice/slurmstepd.scope/job_42/step_0/user/task_0\n",
    "4:memory:/slurm/uid_1000/job_42\n",
  };
  static const char *const not_in_job[] = {
    "6:freezer:/slurm/uid_1000/job_421/step_0\n",
    "0::/user.slice/user-1000.slice/session-3.scope\n",
  };

  g_setenv ("RRUN_CGROUP_PROC_SELF", proc, TRUE);
  g_unsetenv ("SLURM_JOB_ID");
  g_assert_true (g_file_set_contents (proc, in_job[0], -1, NULL));
  g_assert_false (rrun_cgroup_in_slurm_job (NULL)); /* no SLURM_JOB_ID */
  g_setenv ("SLURM_JOB_ID", "42", TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (in_job); i++)
    {
      g_assert_true (g_file_set_contents (proc, in_job[i], -1, NULL));
      g_assert_true (rrun_cgroup_in_slurm_job (&job));
      g_assert_cmpstr (job, ==, "42");
      g_clear_pointer (&job, g_free);
    }
  for (guint i = 0; i < G_N_ELEMENTS (not_in_job); i++)
    {
      g_assert_true (g_file_set_contents (proc, not_in_job[i], -1, NULL));
      g_assert_false (rrun_cgroup_in_slurm_job (&job));
      g_assert_null (job);
    }
  g_unsetenv ("SLURM_JOB_ID");
  g_unsetenv ("RRUN_CGROUP_PROC_SELF");
  g_unlink (proc);
  g_rmdir (dir);
}

/* cgroup v1 in a Slurm step: the step's directory of each hierarchy. */
static void
test_v1_step_dir (void)
{
  const char *text = "12:pids:/slurm_n1/uid_1000/job_42/step_0/task_0\n"
                     "5:cpu,cpuacct:/slurm_n1/uid_1000/job_42/step_0\n"
                     "4:memory:/slurm_n1/uid_1000/job_42/step_batch/task_0\n"
                     "3:freezer:/slurm_n1/uid_1000/job_42/step_0\n"
                     "1:name=systemd:/user.slice\n"
                     "0::/user.slice\n";
  g_autofree char *pids = rrun_cgroup_v1_step_dir (text, "/sys/fs/cgroup", "pids");
  g_autofree char *cpu = rrun_cgroup_v1_step_dir (text, "/sys/fs/cgroup", "cpu");
  g_autofree char *mem = rrun_cgroup_v1_step_dir (text, "/r", "memory");
  g_autofree char *none = rrun_cgroup_v1_step_dir (text, "/r", "blkio");
  g_autofree char *outside = rrun_cgroup_v1_step_dir ("4:memory:/user.slice\n", "/r", "memory");

  g_assert_cmpstr (pids, ==, "/sys/fs/cgroup/pids/slurm_n1/uid_1000/job_42/step_0");
  g_assert_cmpstr (cpu, ==, "/sys/fs/cgroup/cpu,cpuacct/slurm_n1/uid_1000/job_42/step_0");
  g_assert_cmpstr (mem, ==, "/r/memory/slurm_n1/uid_1000/job_42/step_batch");
  g_assert_null (none);
  g_assert_null (outside);
}

/* Not the user's directories: no cgroup of its own, no error (the caller warns). */
static void
test_v1_not_yours (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunCgroupLimits) limits = rrun_cgroup_limits_new ();
  RrunCgroup cg = { .id = (char *) "abc", .lock_fd = -1 };

  limits->memory = 64 << 20;
  g_assert_false (rrun_cgroup_v1_slurm_prepare (
    &cg, "4:memory:/slurm_n/uid_1/job_1/step_0\n", "/nonexistent-rrun-test", limits, &error));
  g_assert_no_error (error);
  g_assert_null (cg.v1_paths);
}

/* --cgroup-parent: the syntax, then a path made below the (fake) delegated tree. */
static void
test_cgroup_parent (void)
{
  g_autoptr(RrunCgroupLimits) l = NULL;
  g_autoptr(RrunCgroupLimits) abs = NULL;
  g_autoptr(RrunCgroup) cg = NULL;
  g_autoptr(GError) error = NULL;
  char *dir;
  g_autofree char *leaf = NULL, *leaf2 = NULL;

  assert_bad ("cgroup-parent", "jobs/../x",
              "invalid value \"jobs/../x\" for --cgroup-parent: each part of the path must be "
              "a name (no empty, \".\" or \"..\" parts)");
  assert_bad ("cgroup-parent", "a//b",
              "invalid value \"a//b\" for --cgroup-parent: each part of the path must be a "
              "name (no empty, \".\" or \"..\" parts)");
  assert_bad ("cgroup-parent", "jobs/rrun-1",
              "invalid value \"jobs/rrun-1\" for --cgroup-parent: names starting with rrun- "
              "are rrun's own, and cgroup.*, cpu.*, memory.*, io.* and pids.* are the kernel's");
  assert_bad ("cgroup-parent", "memory.max",
              "invalid value \"memory.max\" for --cgroup-parent: names starting with rrun- "
              "are rrun's own, and cgroup.*, cpu.*, memory.*, io.* and pids.* are the kernel's");
  /* as the option group and the stored spec give it: the text, checked by finish */
  l = rrun_cgroup_limits_new ();
  l->text.cgroup_parent = g_strdup ("jobs/batch");
  g_assert_true (rrun_cgroup_limits_finish (l, &error));

  dir = make_tree ();
  put (dir, "cgroup.procs", "");
  put (dir, "cgroup.controllers", "cpu io memory pids\n");
  put (dir, "cgroup.subtree_control", "");
  g_assert_true (rrun_cgroup_prepare ("enabled", l, "p1", &cg, &error));
  g_assert_no_error (error);
  leaf = g_build_filename (dir, "jobs", "batch", "rrun-p1", NULL);
  g_assert_cmpstr (rrun_cgroup_path (cg), ==, leaf);
  g_assert_true (g_file_test (leaf, G_FILE_TEST_IS_DIR));
  g_clear_pointer (&cg, rrun_cgroup_free);
  g_assert_false (g_file_test (leaf, G_FILE_TEST_EXISTS));
  /* the parent stays; an absolute path from the top of the (fake) hierarchy is the same */
  abs = rrun_cgroup_limits_new ();
  abs->text.cgroup_parent = g_strdup ("/jobs/batch");
  g_assert_true (rrun_cgroup_limits_finish (abs, &error));
  g_assert_true (rrun_cgroup_prepare ("enabled", abs, "p2", &cg, &error));
  g_assert_no_error (error);
  leaf2 = g_build_filename (dir, "jobs", "batch", "rrun-p2", NULL);
  g_assert_cmpstr (rrun_cgroup_path (cg), ==, leaf2);
  g_clear_pointer (&cg, rrun_cgroup_free);
  /* with --cgroups=disabled it cannot be honoured */
  g_assert_false (rrun_cgroup_prepare ("disabled", l, "p3", &cg, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "cannot use --cgroup-parent with --cgroups=disabled");
  drop_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cgroup/in-slurm-job", test_in_slurm_job);
  g_test_add_func ("/cgroup/cgroup-parent", test_cgroup_parent);
  g_test_add_func ("/cgroup/limits/memory", test_memory);
  g_test_add_func ("/cgroup/limits/memory-swap", test_memory_swap);
  g_test_add_func ("/cgroup/limits/cross-checks", test_cross_checks);
  g_test_add_func ("/cgroup/limits/cpus", test_cpus);
  g_test_add_func ("/cgroup/limits/cpu-weight", test_cpu_weight);
  g_test_add_func ("/cgroup/limits/cpuset", test_cpuset);
  g_test_add_func ("/cgroup/limits/pids-blkio", test_pids_blkio);
  g_test_add_func ("/cgroup/limits/devices", test_devices);
  g_test_add_func ("/cgroup/limits/option-group", test_option_group);
  g_test_add_func ("/cgroup/systemd/message", test_dbus_message);
  g_test_add_func ("/cgroup/parse/proc-cgroup", test_proc_cgroup);
  g_test_add_func ("/cgroup/parse/mountinfo", test_mountinfo);
  g_test_add_func ("/cgroup/parse/keyed", test_keyed);
  g_test_add_func ("/cgroup/fs/write-limits", test_fs_write_limits);
  g_test_add_func ("/cgroup/fs/missing-controller-file", test_fs_missing_controller_file);
  g_test_add_func ("/cgroup/fs/controller-not-delegated", test_fs_controller_not_delegated);
  g_test_add_func ("/cgroup/fs/lifecycle", test_fs_lifecycle);
  g_test_add_func ("/cgroup/update", test_update);
  g_test_add_func ("/cgroup/fs/free-removes-leaf", test_fs_free_removes_leaf);
  g_test_add_func ("/cgroup/fs/gc", test_fs_gc);
  g_test_add_func ("/cgroup/prepare/disabled-and-bad-mode", test_disabled_and_bad_mode);
  g_test_add_func ("/cgroup/stats", test_stats);
  g_test_add_func ("/cgroup/v1/step-dir", test_v1_step_dir);
  g_test_add_func ("/cgroup/v1/not-yours", test_v1_not_yours);
  return g_test_run ();
}
