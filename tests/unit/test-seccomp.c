/* The seccomp profiles: docker's default compiles for every capability set rrun gives, a
   JSON profile parses, and a bad one is refused naming the field. */
#include "error.h"
#include "process/caps.h"
#include "process/seccomp.h"

#include <glib/gstdio.h>
#include <string.h>

static void
test_default_builds (void)
{
  guint64 all = 0;
  guint64 sets[3];

  g_assert_true (rrun_caps_parse_name ("ALL", &all, NULL));
  sets[0] = rrun_caps_default_set ();
  sets[1] = all;
  sets[2] = 0;
  for (guint i = 0; i < G_N_ELEMENTS (sets); i++)
    for (int emulate = RRUN_ROOT_EMULATION_NONE; emulate <= RRUN_ROOT_EMULATION_SINGLE_ID;
         emulate++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) bpf = NULL;

        rrun_seccomp_build (NULL, TRUE, sets[i], emulate, NULL, &bpf, &error);
        g_assert_no_error (error);
        g_assert_nonnull (bpf);
        /* at most BPF_MAXINSNS (4096) instructions of 8 bytes */
        g_assert_cmpuint (g_bytes_get_size (bpf) / 8, <=, 4096);
        g_assert_cmpuint (g_bytes_get_size (bpf) % 8, ==, 0);
      }
}

static void
test_unconfined (void)
{
  g_autoptr(GBytes) bpf = NULL;

  g_assert_true (rrun_seccomp_build (NULL, FALSE, 0, FALSE, NULL, &bpf, NULL));
  g_assert_null (bpf);
  g_assert_true (rrun_seccomp_build (NULL, FALSE, 0, TRUE, NULL, &bpf, NULL));
  g_assert_nonnull (bpf);
}

/* The default in single-ID mode is the honest policy; --root-emulation (1) the fake one,
   with or without a range; --no-root-emulation (0) none. */
static void
test_root_emulation_policy (void)
{
  g_assert_cmpint (rrun_seccomp_root_emulation (-1, TRUE), ==, RRUN_ROOT_EMULATION_SINGLE_ID);
  g_assert_cmpint (rrun_seccomp_root_emulation (-1, FALSE), ==, RRUN_ROOT_EMULATION_NONE);
  g_assert_cmpint (rrun_seccomp_root_emulation (1, TRUE), ==, RRUN_ROOT_EMULATION_FAKE);
  g_assert_cmpint (rrun_seccomp_root_emulation (1, FALSE), ==, RRUN_ROOT_EMULATION_FAKE);
  g_assert_cmpint (rrun_seccomp_root_emulation (0, TRUE), ==, RRUN_ROOT_EMULATION_NONE);
}

/* A second build reads the first one's program back from the cache directory; another
   capability set is another program. */
static void
test_cache (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rrun-seccomp-XXXXXX", NULL);
  g_autoptr(GBytes) first = NULL, second = NULL, other = NULL;
  g_autoptr(GDir) d = NULL;
  guint n = 0;

  g_assert_true (rrun_seccomp_build (NULL, TRUE, rrun_caps_default_set (), FALSE, dir, &first,
                                     NULL));
  g_assert_true (rrun_seccomp_build (NULL, TRUE, rrun_caps_default_set (), FALSE, dir, &second,
                                     NULL));
  g_assert_true (g_bytes_equal (first, second));
  g_assert_true (rrun_seccomp_build (NULL, TRUE, 0, FALSE, dir, &other, NULL));
  g_assert_false (g_bytes_equal (first, other));
  d = g_dir_open (dir, 0, NULL);
  while (g_dir_read_name (d) != NULL)
    n++;
  g_assert_cmpuint (n, ==, 2);
  /* remove what the test made */
  g_dir_rewind (d);
  for (const char *name; (name = g_dir_read_name (d)) != NULL;)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_assert_cmpint (g_unlink (path), ==, 0);
    }
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_profile (void)
{
  static const char text[] =
    "{ \"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1,"
    "  \"archMap\": [ { \"architecture\": \"SCMP_ARCH_X86_64\","
    "                   \"subArchitectures\": [\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"] },"
    "                 { \"architecture\": \"SCMP_ARCH_AARCH64\","
    "                   \"subArchitectures\": [\"SCMP_ARCH_ARM\"] } ],"
    "  \"syscalls\": ["
    "    { \"names\": [\"read\", \"write\", \"exit_group\", \"no_such_call\"],"
    "      \"action\": \"SCMP_ACT_ALLOW\" },"
    "    { \"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\","
    "      \"args\": [ { \"index\": 0, \"value\": 4294967295, \"op\": \"SCMP_CMP_EQ\" } ] },"
    "    { \"names\": [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\","
    "      \"args\": [ { \"index\": 0, \"value\": 2114060288, \"op\": \"SCMP_CMP_MASKED_EQ\" } ],"
    "      \"excludes\": { \"caps\": [\"CAP_SYS_ADMIN\"] } },"
    "    { \"names\": [\"mount\"], \"action\": \"SCMP_ACT_ALLOW\","
    "      \"includes\": { \"caps\": [\"CAP_SYS_ADMIN\"], \"minKernel\": \"4.8\" } },"
    "    { \"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_ALLOW\","
    "      \"includes\": { \"caps\": [\"CAP_NO_SUCH_THING\"] } },"
    "    { \"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13 }"
    "  ] }";
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunSeccompProfile) p = rrun_seccomp_profile_parse (text, strlen (text), &error);
  g_autoptr(GBytes) bpf = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (p);
  g_assert_true (rrun_seccomp_build (p, TRUE, rrun_caps_default_set (), FALSE, NULL, &bpf, &error));
  g_assert_no_error (error);
  g_clear_pointer (&bpf, g_bytes_unref);
  g_assert_true (rrun_seccomp_build (p, TRUE, G_MAXUINT64 >> 20, TRUE, NULL, &bpf, &error));
  g_assert_no_error (error);
}

static void
test_bad_profiles (void)
{
  static const struct { const char *text, *message; } cases[] = {
    { "", "the file is empty" },
    { "[]", "expected an object" },
    { "{}", "defaultAction: expected an action such as \"SCMP_ACT_ERRNO\"" },
    { "{\"defaultAction\": \"SCMP_ACT_NOPE\"}",
      "defaultAction: unknown action \"SCMP_ACT_NOPE\"" },
    { "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": -1}",
      "defaultAction: errnoRet: expected an errno number (0 to 4095)" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_VAX\"]}",
      "architectures: unknown architecture \"SCMP_ARCH_VAX\"" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": {}}",
      "syscalls: expected an array" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ {\"action\": \"SCMP_ACT_ERRNO\"} ]}",
      "syscalls[0]: no \"names\"" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ {\"names\": [\"read\"]} ]}",
      "syscalls[0]: expected an action name such as \"SCMP_ACT_ERRNO\"" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ {\"names\": [\"read\"],"
      " \"action\": \"SCMP_ACT_ERRNO\", \"args\": [ {\"index\": 1, \"value\": 1, \"op\": \"EQ\"} ]} ]}",
      "syscalls[0]: args: op: expected SCMP_CMP_EQ, _NE, _LT, _LE, _GE, _GT or _MASKED_EQ" },
    { "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ {\"names\": [\"read\"],"
      " \"action\": \"SCMP_ACT_NOTIFY\"} ]}",
      "syscalls[0]: SCMP_ACT_NOTIFY is not supported (rrun has no seccomp agent)" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(RrunSeccompProfile) p =
        rrun_seccomp_profile_parse (cases[i].text, strlen (cases[i].text), &error);

      g_assert_null (p);
      g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (error->message, ==, cases[i].message);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/seccomp/default-builds", test_default_builds);
  g_test_add_func ("/seccomp/unconfined", test_unconfined);
  g_test_add_func ("/seccomp/root-emulation-policy", test_root_emulation_policy);
  g_test_add_func ("/seccomp/cache", test_cache);
  g_test_add_func ("/seccomp/profile", test_profile);
  g_test_add_func ("/seccomp/bad-profiles", test_bad_profiles);
  return g_test_run ();
}
