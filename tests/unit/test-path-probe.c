/* rrun_path_probe_absent: which PATH entries the container's search may skip. */
#include "rootfs/path-probe.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

typedef struct
{
  char *top;
  char *layers[2]; /* [0] the lower, [1] the upper */
} Fixture;

static void
touch (const char *layer, const char *rel)
{
  g_autofree char *path = g_build_filename (layer, rel, NULL);
  g_autofree char *dir = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (path, "", 0, NULL));
}

static void
setup (Fixture *f, gconstpointer data)
{
  f->top = g_dir_make_tmp ("rrun-path-probe-XXXXXX", NULL);
  g_assert_nonnull (f->top);
  f->layers[0] = g_build_filename (f->top, "lower", NULL);
  f->layers[1] = g_build_filename (f->top, "upper", NULL);
  g_assert_cmpint (g_mkdir (f->layers[0], 0755), ==, 0);
  g_assert_cmpint (g_mkdir (f->layers[1], 0755), ==, 0);
  /* busybox's layout: true in /bin, other applets elsewhere. */
  touch (f->layers[0], "bin/true");
  touch (f->layers[0], "usr/bin/env");
  touch (f->layers[0], "sbin/init");
  touch (f->layers[1], "usr/sbin/added");
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", f->top);

  g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, NULL, NULL));
  g_free (f->layers[0]);
  g_free (f->layers[1]);
  g_free (f->top);
}

static guint64
probe (Fixture *f, const char *path, const char *cmd, const RrunMountOp *mounts, gsize n)
{
  return rrun_path_probe_absent (path, cmd, (const char *const *) f->layers, 2, mounts, n);
}

static void
test_layers (Fixture *f, gconstpointer data)
{
  /* Every entry before /bin lacks true, in both layers; /bin has it. */
  g_assert_cmphex (probe (f, PATH, "true", NULL, 0), ==, 0x1f);
  /* env in the lower layer's /usr/bin: every other entry lacks it (those after /usr/bin
     are never reached anyway). */
  g_assert_cmphex (probe (f, PATH, "env", NULL, 0), ==, 0x37);
  /* A file of the upper layer counts as much as one of the lower. */
  g_assert_cmphex (probe (f, PATH, "added", NULL, 0), ==, 0x3b);
  /* Nowhere: every entry may be skipped (the search ends in ENOENT, as it would). */
  g_assert_cmphex (probe (f, PATH, "missing", NULL, 0), ==, 0x3f);
}

static void
test_not_judged (Fixture *f, gconstpointer data)
{
  /* A command with a slash is not searched at all. */
  g_assert_cmphex (probe (f, PATH, "bin/true", NULL, 0), ==, 0);
  g_assert_cmphex (probe (f, NULL, "true", NULL, 0), ==, 0);
  /* Relative and empty entries depend on the working directory; "." and ".." on more. */
  g_assert_cmphex (probe (f, "bin::.:/usr/../bin:/usr/./sbin:/sbin", "true", NULL, 0), ==,
                   0x20);
  /* Trailing and repeated slashes are the same directory. */
  g_assert_cmphex (probe (f, "/usr/bin/:/bin", "true", NULL, 0), ==, 0x1);
  g_assert_cmphex (probe (f, "/usr//bin:/bin", "true", NULL, 0), ==, 0x1);
}

static void
test_symlinks (Fixture *f, gconstpointer data)
{
  g_autofree char *bin = g_build_filename (f->layers[1], "sbin", NULL);

  /* Merged /usr (sbin -> usr/sbin): whatever lies behind a symlink is not judged. */
  g_assert_cmpint (symlink ("usr/sbin", bin), ==, 0);
  g_assert_cmphex (probe (f, "/sbin:/bin", "true", NULL, 0), ==, 0);
}

static void
test_mounts (Fixture *f, gconstpointer data)
{
  RrunMountOp vol = { 0 };

  /* A volume at, above or below a PATH entry may bring the command with it. */
  vol.kind = RRUN_MOUNT_OP_BIND;
  vol.target = "/usr/local/bin";
  g_assert_cmphex (probe (f, PATH, "true", &vol, 1), ==, 0x1d);
  /* The same directory however the volume spells it. */
  vol.target = "/usr//local/bin/";
  g_assert_cmphex (probe (f, PATH, "true", &vol, 1), ==, 0x1d);
  vol.target = "/usr/./local/bin";
  g_assert_cmphex (probe (f, PATH, "true", &vol, 1), ==, 0x1d);
  vol.target = "/usr";
  g_assert_cmphex (probe (f, PATH, "true", &vol, 1), ==, 0x10);
  vol.target = "/sbin/true";
  g_assert_cmphex (probe (f, PATH, "true", &vol, 1), ==, 0x0f);
  vol.target = "/usr/binaries";
  g_assert_cmphex (probe (f, PATH, "true", &vol, 1), ==, 0x1f);
  vol.target = "/";
  g_assert_cmphex (probe (f, PATH, "true", &vol, 1), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn) g_test_add (name, Fixture, NULL, setup, fn, teardown)
  ADD ("/path-probe/layers", test_layers);
  ADD ("/path-probe/not-judged", test_not_judged);
  ADD ("/path-probe/symlinks", test_symlinks);
  ADD ("/path-probe/mounts", test_mounts);
  return g_test_run ();
}
