/* --device, --gpus syntax, CDI's YAML reading and the dynamic linker's cache. */
#include "device/device.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
test_device_parse (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *h = NULL, *c = NULL, *p = NULL;

  g_assert_true (rrun_device_parse ("/dev/sdc:/dev/xvdc:r", &h, &c, &p, &error));
  g_assert_cmpstr (h, ==, "/dev/sdc");
  g_assert_cmpstr (c, ==, "/dev/xvdc");
  g_assert_cmpstr (p, ==, "r");
  g_clear_pointer (&h, g_free);
  g_clear_pointer (&c, g_free);
  g_clear_pointer (&p, g_free);
  /* HOST:PERMS, as docker reads a second field that is not a path */
  g_assert_true (rrun_device_parse ("/dev/fuse:rw", &h, &c, &p, &error));
  g_assert_cmpstr (c, ==, "/dev/fuse");
  g_assert_cmpstr (p, ==, "rw");
  g_assert_false (rrun_device_parse ("/dev/fuse:rr", &h, &c, &p, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (rrun_device_parse ("/dev/fuse:/a:/b:rw", &h, &c, &p, &error));
  g_clear_error (&error);
  g_assert_false (rrun_device_parse ("/dev/fuse:/proc/x", &h, &c, &p, &error));
  g_clear_error (&error);
  g_assert_true (rrun_device_is_cdi_name ("nvidia.com/gpu=all"));
  g_assert_true (rrun_device_is_cdi_name ("nvidia.com/gpu=GPU-1a2b:0"));
  g_assert_false (rrun_device_is_cdi_name ("/dev/nvidia0"));
  g_assert_false (rrun_device_is_cdi_name ("nvidia.com/gpu="));
  g_assert_false (rrun_device_is_cdi_name ("nvidia.com=0"));
}

static void
test_cgroup_rule (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (rrun_device_cgroup_rule_check ("c 195:* rwm", NULL));
  g_assert_true (rrun_device_cgroup_rule_check ("a *:* r", NULL));
  g_assert_true (rrun_device_cgroup_rule_check ("b 8:0  w", NULL));
  g_assert_false (rrun_device_cgroup_rule_check ("c 195:* rwx", &error));
  g_assert_nonnull (strstr (error->message, "\nhint: "));
  g_assert_false (rrun_device_cgroup_rule_check ("c 195 rw", NULL));
  g_assert_false (rrun_device_cgroup_rule_check ("d 1:1 rw", NULL));
}

static void
test_gpus_parse (void)
{
  RrunGpuRequest r = { 0 };
  g_autoptr(GError) error = NULL;

  g_assert_true (rrun_gpu_request_parse ("all", &r, NULL));
  g_assert_true (r.all);
  rrun_gpu_request_clear (&r);
  g_assert_true (rrun_gpu_request_parse ("2", &r, NULL));
  g_assert_cmpint (r.count, ==, 2);
  rrun_gpu_request_clear (&r);
  g_assert_true (rrun_gpu_request_parse ("\"device=0,GPU-abc\",capabilities=utility", &r, NULL));
  g_assert_cmpuint (g_strv_length (r.ids), ==, 2);
  g_assert_cmpstr (r.ids[1], ==, "GPU-abc");
  rrun_gpu_request_clear (&r);
  g_assert_true (rrun_gpu_request_parse ("count=all", &r, NULL));
  g_assert_true (r.all);
  rrun_gpu_request_clear (&r);
  g_assert_false (rrun_gpu_request_parse ("", &r, &error));
  g_clear_error (&error);
  g_assert_false (rrun_gpu_request_parse ("count=0", &r, &error));
  g_clear_error (&error);
  g_assert_false (rrun_gpu_request_parse ("gpu=1", &r, &error));
  g_assert_cmpstr (error->message, ==,
                   "invalid --gpus \"gpu=1\": unknown field \"gpu=1\"\nhint: --gpus all, --gpus 2 "
                   "(the first two), --gpus device=0,1 or --gpus '\"device=GPU-UUID\"'");
}

static void
test_yaml (void)
{
  static const char text[] = "cdiVersion: 0.6.0\n"
                             "kind: nvidia.com/gpu\n"
                             "devices:\n"
                             "- name: \"0\"\n"
                             "  containerEdits:\n"
                             "    deviceNodes:\n"
                             "    - {path: /dev/nvidia0, major: 195, fileMode: 0666}\n"
                             "    env: [A=1, 'B=two']\n"
                             "empty: ~\n"
                             "flag: true\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunJson) v = rrun_cdi_yaml_to_json (text, strlen (text), &error);
  RrunJson *d, *node;

  g_assert_no_error (error);
  g_assert_cmpstr (rrun_json_member_string (v, "cdiVersion"), ==, "0.6.0");
  d = rrun_json_element (rrun_json_member_value (v, "devices"), 0);
  g_assert_cmpstr (rrun_json_member_string (d, "name"), ==, "0");
  node = rrun_json_element (
      rrun_json_member_value (rrun_json_member_value (d, "containerEdits"), "deviceNodes"), 0);
  g_assert_cmpint (rrun_json_int (rrun_json_member_value (node, "major")), ==, 195);
  g_assert_cmpint (rrun_json_int (rrun_json_member_value (node, "fileMode")), ==, 0666);
  g_assert_cmpuint (rrun_json_size (rrun_json_member_value (
                        rrun_json_member_value (d, "containerEdits"), "env")), ==, 2);
  g_assert_null (rrun_json_member_value (v, "empty"));
  g_assert_cmpint (rrun_json_type (rrun_json_member_value (v, "flag")), ==, RRUN_JSON_BOOL);

  g_assert_null (rrun_cdi_yaml_to_json ("a: [1, 2\n", 9, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_CORRUPT);
  g_clear_error (&error);
  g_assert_null (rrun_cdi_yaml_to_json ("a: &x 1\nb: *x\n", 14, &error));
  g_assert_nonnull (strstr (error->message, "aliases"));
}

/* The host's own cache: glibc's format 1.1 has libc.so.6 in it. */
static void
test_ld_cache (void)
{
  g_autofree char *data = NULL;
  g_autoptr(GPtrArray) pairs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  gboolean libc = FALSE;
  gsize len;

  if (!g_file_get_contents ("/etc/ld.so.cache", &data, &len, NULL))
    {
      g_test_skip ("no /etc/ld.so.cache");
      return;
    }
  g_assert_true (rrun_gpu_ld_cache_parse (data, len, pairs, &error));
  for (guint i = 0; i + 1 < pairs->len; i += 2)
    if (strcmp (pairs->pdata[i], "libc.so.6") == 0)
      {
        libc = TRUE;
        g_assert_true (g_str_has_prefix (pairs->pdata[i + 1], "/"));
      }
  g_assert_true (libc);
  /* truncated: refused, not read past the end */
  g_ptr_array_set_size (pairs, 0);
  g_assert_false (rrun_gpu_ld_cache_parse (data, 60, pairs, &error) && pairs->len > 0);
  g_assert_false (rrun_gpu_ld_cache_parse ("nonsense", 8, pairs, NULL));
}

/* A glibc 1.1 ld.so.cache with the given (name, path, flags) entries. */
static GBytes *
make_cache (const char *const *names, const char *const *paths, const gint32 *flags, guint n)
{
  GByteArray *b = g_byte_array_new ();
  GString *strings = g_string_new (NULL);
  guint8 header[48] = { 0 };
  guint32 strings_at = 48 + 24 * n;

  memcpy (header, "glibc-ld.so.cache1.1", 20);
  memcpy (header + 20, &n, 4);
  g_byte_array_append (b, header, sizeof header);
  for (guint i = 0; i < n; i++)
    {
      guint8 e[24] = { 0 };
      guint32 key = strings_at + (guint32) strings->len, value;

      g_string_append (strings, names[i]);
      g_string_append_c (strings, '\0');
      value = strings_at + (guint32) strings->len;
      g_string_append (strings, paths[i]);
      g_string_append_c (strings, '\0');
      memcpy (e, &flags[i], 4);
      memcpy (e + 4, &key, 4);
      memcpy (e + 8, &value, 4);
      g_byte_array_append (b, e, sizeof e);
    }
  g_byte_array_append (b, (const guint8 *) strings->str, (guint) strings->len);
  g_string_free (strings, TRUE);
  return g_byte_array_free_to_bytes (b);
}

/* Discovery through a cache: the driver's libraries only, of this machine's ABI, at
   their paths below RRUN_GPU_ROOT. */
static void
test_discover_with_cache (void)
{
  static const char *const names[] = { "libcuda.so.1", "libcuda.so.1", "libnvidia-ml.so.1",
                                       "libz.so.1" };
  static const char *const paths[] = { "/usr/lib/x86_64-linux-gnu/libcuda.so.1",
                                       "/usr/lib/i386-linux-gnu/libcuda.so.1",
                                       "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1",
                                       "/usr/lib/x86_64-linux-gnu/libz.so.1" };
#if defined(__x86_64__)
  static const gint32 flags[] = { 0x0303, 0x0003 /* i386 */, 0x0303, 0x0303 };
#else
  static const gint32 flags[] = { 0, 0, 0, 0 };
#endif
  g_autofree char *root = g_dir_make_tmp ("rrun-gpu-XXXXXX", NULL);
  g_autofree char *dev = g_build_filename (root, "dev", NULL);
  g_autofree char *etc = g_build_filename (root, "etc", NULL);
  g_autofree char *cache = g_build_filename (etc, "ld.so.cache", NULL);
  g_autofree char *n0 = g_build_filename (dev, "nvidia0", NULL);
  g_autofree char *ctl = g_build_filename (dev, "nvidiactl", NULL);
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", root);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(RrunDeviceEdits) e = rrun_device_edits_new ();
  g_autoptr(GError) error = NULL;
  RrunGpuRequest r = { .all = TRUE };
  gsize len;
  const char *data;

#if !defined(__x86_64__)
  g_test_skip ("the fixture's flags are x86-64's");
  return;
#endif
  bytes = make_cache (names, paths, flags, G_N_ELEMENTS (names));
  data = g_bytes_get_data (bytes, &len);
  g_mkdir_with_parents (dev, 0755);
  g_mkdir_with_parents (etc, 0755);
  g_assert_true (g_file_set_contents (cache, data, (gssize) len, NULL));
  g_assert_cmpint (symlink ("/dev/zero", n0), ==, 0);
  g_assert_cmpint (symlink ("/dev/null", ctl), ==, 0);
  g_setenv ("RRUN_GPU_ROOT", root, TRUE);
  g_unsetenv ("NVIDIA_VISIBLE_DEVICES");
  g_assert_true (rrun_gpu_discover (&r, e, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (e->nodes->len, ==, 2);
  g_assert_cmpuint (e->mounts->len, ==, 2);
  {
    RrunDeviceBind *b = e->mounts->pdata[0];
    g_autofree char *want = g_strconcat (root, paths[0], NULL);

    g_assert_cmpstr (b->host, ==, want);
    g_assert_cmpstr (b->container, ==, "/usr/local/nvidia/lib64/libcuda.so.1");
    g_assert_true (b->read_only);
    b = e->mounts->pdata[1];
    g_assert_cmpstr (b->container, ==, "/usr/local/nvidia/lib64/libnvidia-ml.so.1");
  }
  g_assert_cmpstr (e->ld_dirs->pdata[0], ==, "/usr/local/nvidia/lib64");
  /* no /dev/nvidia-uvm: a note says CUDA needs it */
  g_assert_cmpuint (e->notes->len, ==, 1);
  g_assert_nonnull (strstr (e->notes->pdata[0], "nvidia-modprobe"));
  g_unsetenv ("RRUN_GPU_ROOT");
  g_assert_cmpint (system (cmd), ==, 0);
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* -m perf: --gpus all discovery over a fake driver tree with the host's real
   ld.so.cache (the part that grows with the machine), median of 101 runs. */
static void
test_discovery_time (void)
{
  g_autofree char *root = g_dir_make_tmp ("rrun-gpu-XXXXXX", NULL);
  g_autofree char *dev = g_build_filename (root, "dev", NULL);
  g_autofree char *etc = g_build_filename (root, "etc", NULL);
  g_autofree char *cache = g_build_filename (etc, "ld.so.cache", NULL);
  g_autofree char *data = NULL;
  const char *nodes[] = { "nvidia0", "nvidia1", "nvidia2", "nvidia3", "nvidiactl",
                          "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset", NULL };
  double times[101];
  gsize len;

  if (!g_test_perf ())
    return;
  g_assert_true (g_file_get_contents ("/etc/ld.so.cache", &data, &len, NULL));
  g_mkdir_with_parents (dev, 0755);
  g_mkdir_with_parents (etc, 0755);
  g_assert_true (g_file_set_contents (cache, data, (gssize) len, NULL));
  for (guint i = 0; nodes[i]; i++)
    {
      g_autofree char *p = g_build_filename (dev, nodes[i], NULL);
      g_assert_cmpint (symlink ("/dev/zero", p), ==, 0);
    }
  g_setenv ("RRUN_GPU_ROOT", root, TRUE);
  g_setenv ("RRUN_CDI_SPEC_DIRS", root, TRUE);
  for (guint r = 0; r < G_N_ELEMENTS (times); r++)
    {
      g_autoptr(RrunDeviceEdits) e = NULL;
      g_autoptr(GError) error = NULL;
      gint64 t0 = g_get_monotonic_time ();

      g_assert_true (rrun_device_resolve (NULL, NULL, "all", NULL, &e, &error));
      times[r] = (double) (g_get_monotonic_time () - t0) / 1000.0;
      g_assert_cmpuint (e->nodes->len, ==, 8);
    }
  qsort (times, G_N_ELEMENTS (times), sizeof times[0], compare_doubles);
  g_test_message ("--gpus all discovery: median %.3f ms, max %.3f ms (ld.so.cache %zu bytes)",
                  times[50], times[100], len);
  g_test_minimized_result (times[50] / 1000.0, "discovery median %.3f ms", times[50]);
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", root);
    g_assert_cmpint (system (cmd), ==, 0);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/device/parse", test_device_parse);
  g_test_add_func ("/device/cgroup-rule", test_cgroup_rule);
  g_test_add_func ("/device/gpus-parse", test_gpus_parse);
  g_test_add_func ("/device/cdi-yaml", test_yaml);
  g_test_add_func ("/device/ld-cache", test_ld_cache);
  g_test_add_func ("/device/discover-with-cache", test_discover_with_cache);
  g_test_add_func ("/device/discovery-time", test_discovery_time);
  return g_test_run ();
}
