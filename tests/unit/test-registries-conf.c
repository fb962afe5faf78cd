#include "error.h"
#include "registry/registries-conf.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static const char *sample =
  "# site configuration\n"
  "unqualified-search-registries = [\"registry.example.com\", 'docker.io',] # trailing\n"
  "\n"
  "[[registry]]\n"
  "prefix = \"example.com/foo\"\n"
  "location = \"internal.example.com/bar\"\n"
  "insecure = false\n"
  "\n"
  "[[registry.mirror]]\n"
  "location = \"mirror.local:5000/cache\"\n"
  "insecure = true\n"
  "\n"
  "[[registry]]\n"
  "location = \"127.0.0.1:5000\"\n"
  "insecure = true\n"
  "\n"
  "[[registry]]\n"
  "prefix = \"*.blocked.io\"\n"
  "blocked = true\n"
  "\n"
  "[aliases]\n"
  "  \"busybox\" = \"127.0.0.1:5000/busybox\"\n"
  "  \"my/tool\" = \"quay.io/me/tool\"\n";

static RrunRegistriesConf *
load (const char *text)
{
  g_autoptr(GError) error = NULL;
  RrunRegistriesConf *conf = rrun_registries_conf_new ();

  g_assert_true (rrun_registries_conf_merge_text (conf, text, "test.conf", &error));
  g_assert_no_error (error);
  return conf;
}

static char *
endpoints_of (RrunRegistriesConf *conf, const char *text)
{
  g_autoptr(RrunReference) ref = NULL;
  g_autoptr(GPtrArray) eps = NULL;
  g_autoptr(GError) error = NULL;
  GString *s = g_string_new (NULL);

  g_assert_true (rrun_reference_parse (text, &ref, NULL));
  if (!rrun_registries_conf_endpoints (conf, ref, &eps, &error))
    {
      g_string_append_printf (s, "error: %s", error->message);
      return g_string_free (s, FALSE);
    }
  for (guint i = 0; i < eps->len; i++)
    {
      RrunRegistryEndpoint *ep = g_ptr_array_index (eps, i);
      g_string_append_printf (s, "%s%s/%s%s%s", i ? " " : "", ep->domain, ep->path,
                              ep->insecure ? "(insecure)" : "", ep->mirror ? "(mirror)" : "");
    }
  return g_string_free (s, FALSE);
}

static void
test_parse (void)
{
  g_autoptr(RrunRegistriesConf) conf = load (sample);
  g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

  g_assert_cmpuint (g_strv_length (conf->search), ==, 2);
  g_assert_cmpstr (conf->search[0], ==, "registry.example.com");
  g_assert_cmpstr (conf->search[1], ==, "docker.io");
  g_assert_cmpuint (conf->registries->len, ==, 3);
  g_assert_cmpstr (g_hash_table_lookup (conf->aliases, "my/tool"), ==, "quay.io/me/tool");

  a = endpoints_of (conf, "example.com/foo/app:1");
  g_assert_cmpstr (a, ==, "mirror.local:5000/cache/app(insecure)(mirror) "
                          "internal.example.com/bar/app");
  b = endpoints_of (conf, "example.com/foobar/app");
  g_assert_cmpstr (b, ==, "example.com/foobar/app");
  c = endpoints_of (conf, "x.blocked.io/app");
  g_assert_cmpstr (c, ==, "error: cannot pull \"x.blocked.io/app\": registry \"*.blocked.io\" "
                          "is blocked in registries.conf");
  d = endpoints_of (conf, "127.0.0.1:5000/a/b");
  g_assert_cmpstr (d, ==, "127.0.0.1:5000/a/b(insecure)");
  g_assert_true (rrun_registries_conf_is_insecure (conf, "127.0.0.1:5000"));
  g_assert_true (rrun_registries_conf_is_insecure (conf, "mirror.local:5000"));
  g_assert_false (rrun_registries_conf_is_insecure (conf, "internal.example.com"));
}

static char *
candidates (RrunRegistriesConf *conf, const char *text)
{
  g_autoptr(GPtrArray) refs = NULL;
  g_autoptr(GError) error = NULL;
  GString *s = g_string_new (NULL);

  if (!rrun_registries_conf_candidates (conf, text, &refs, &error))
    {
      g_string_append (s, error->message);
      return g_string_free (s, FALSE);
    }
  for (guint i = 0; i < refs->len; i++)
    {
      g_autofree char *r = rrun_reference_to_string (g_ptr_array_index (refs, i));
      g_string_append_printf (s, "%s%s", i ? " " : "", r);
    }
  return g_string_free (s, FALSE);
}

static void
test_candidates (void)
{
  g_autoptr(RrunRegistriesConf) conf = load (sample);
  g_autoptr(RrunRegistriesConf) empty = load ("unqualified-search-registries = []\n");
  g_autofree char *a = candidates (conf, "alpine:3.20");
  g_autofree char *b = candidates (conf, "busybox:1");
  g_autofree char *c = candidates (conf, "ghcr.io/x/y");
  g_autofree char *d = candidates (conf, "my/tool@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  g_autofree char *e = candidates (empty, "alpine");

  g_assert_cmpstr (a, ==, "registry.example.com/alpine:3.20 docker.io/library/alpine:3.20");
  g_assert_cmpstr (b, ==, "127.0.0.1:5000/busybox:1");
  g_assert_cmpstr (c, ==, "ghcr.io/x/y:latest");
  g_assert_cmpstr (d, ==, "quay.io/me/tool@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  g_assert_cmpstr (e, ==, "cannot resolve short name \"alpine\": no unqualified-search-registries "
                          "are set\nhint: use a fully qualified name such as "
                          "docker.io/library/alpine, or set unqualified-search-registries in "
                          "registries.conf");
}

static void
test_merge_and_rrun_config (void)
{
  g_autoptr(RrunRegistriesConf) conf = load (sample);
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunConfig) config = rrun_config_new_defaults ();
  const RrunRegistryEntry *e;

  /* A drop-in replaces the entry with the same prefix and removes an alias. */
  g_assert_true (rrun_registries_conf_merge_text (
      conf, "[[registry]]\nlocation=\"127.0.0.1:5000\"\n[aliases]\nbusybox=\"\"\n", "dropin.conf",
      &error));
  g_assert_no_error (error);
  g_assert_false (rrun_registries_conf_is_insecure (conf, "127.0.0.1:5000"));
  g_assert_null (g_hash_table_lookup (conf->aliases, "busybox"));
  g_assert_cmpuint (conf->files_read->len, ==, 2);

  /* rrun.conf: the default search list does not override; an explicit one does. */
  rrun_registries_conf_apply_rrun_config (conf, config);
  g_assert_cmpstr (conf->search[0], ==, "registry.example.com");
  g_strfreev (config->unqualified_search_registries);
  config->unqualified_search_registries = g_strsplit ("localhost:5000", ",", -1);
  g_strfreev (config->insecure_registries);
  config->insecure_registries = g_strsplit ("localhost:5000,127.0.0.1:5000", ",", -1);
  rrun_registries_conf_apply_rrun_config (conf, config);
  g_assert_cmpstr (conf->search[0], ==, "localhost:5000");
  g_assert_null (conf->search[1]);
  g_assert_true (rrun_registries_conf_is_insecure (conf, "localhost:5000"));
  g_assert_true (rrun_registries_conf_is_insecure (conf, "127.0.0.1:5000"));
  e = rrun_registries_conf_find (conf, "localhost:5000/x");
  g_assert_nonnull (e);
}

static void
test_v1 (void)
{
  g_autoptr(RrunRegistriesConf) conf
      = load ("[registries.search]\nregistries = ['quay.io']\n"
              "[registries.insecure]\nregistries = [\"10.0.0.1:5000\"]\n"
              "[registries.block]\nregistries = [\"evil.io\"]\n");
  g_autoptr(RrunReference) ref = NULL;
  g_autoptr(GPtrArray) eps = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpstr (conf->search[0], ==, "quay.io");
  g_assert_true (rrun_registries_conf_is_insecure (conf, "10.0.0.1:5000"));
  g_assert_true (rrun_reference_parse ("evil.io/x", &ref, NULL));
  g_assert_false (rrun_registries_conf_endpoints (conf, ref, &eps, &error));
}

static void
check_error (const char *text, const char *message)
{
  g_autoptr(RrunRegistriesConf) conf = rrun_registries_conf_new ();
  g_autoptr(GError) error = NULL;

  g_assert_false (rrun_registries_conf_merge_text (conf, text, "test.conf", &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, message);
}

static void
test_errors (void)
{
  check_error ("unqualified-search-registries = \"docker.io\"\n",
               "test.conf: unqualified-search-registries must be an array of strings");
  check_error ("unqualified-search-registries = [\"docker.io\", 1]\n",
               "test.conf: unqualified-search-registries must be an array of strings");
  check_error ("unqualified-search-registries = [\"https://docker.io\"]\n",
               "test.conf: invalid search registry \"https://docker.io\": expected "
               "host[:port][/path] without a scheme");
  check_error ("[[registry]]\nlocation = \"x.io\"\ninsecure = \"yes\"\n",
               "test.conf: registry[0].insecure must be true or false");
  check_error ("[[registry]]\ninsecure = true\n",
               "test.conf: registry[0].prefix or registry[0].location must be set");
  check_error ("[[registry]]\nlocation = \"x.io\"\n[[registry.mirror]]\ninsecure = true\n",
               "test.conf: registry[0].mirror[0].location must be set");
  check_error ("[registry]\nlocation = \"x.io\"\n",
               "test.conf: registry must be an array of tables ([[registry]])");
  check_error ("[aliases]\nfoo = \"foo\"\n",
               "test.conf: aliases.\"foo\" = \"foo\": expected a fully qualified name without "
               "tag or digest");
  check_error ("[aliases]\nfoo = \"quay.io/foo:1\"\n",
               "test.conf: aliases.\"foo\" = \"quay.io/foo:1\": expected a fully qualified "
               "name without tag or digest");
  /* The TOML reader's own errors name the line. */
  check_error ("a = 1\n\nb = \"unterminated\n", "test.conf:3: unterminated string");
  check_error ("a = 1\na = 2\n", "test.conf:2: duplicate key \"a\"");
  check_error ("a = 1 2\n", "test.conf:1: unexpected text after the value");
  check_error ("a = {x = 1}\n", "test.conf:1: inline tables are not supported here");
  check_error ("a.b = 1\n", "test.conf:1: dotted keys are not supported here");
  check_error ("a = \"\"\"x\"\"\"\n", "test.conf:1: multi-line strings are not supported here");
  check_error ("a = [1,\n 2\n", "test.conf:3: expected ',' or ']' in an array");
  check_error ("x = 1\n[x]\n", "test.conf:2: table name used before as something else");
  check_error ("a = 1.5\n", "test.conf:1: only decimal integers are supported here");
  check_error ("a = tru\n", "test.conf:1: expected a value (string, boolean, integer or array)");
}

static void
test_load_env (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunRegistriesConf) conf = NULL;
  g_autofree char *path = NULL;
  int fd = g_file_open_tmp ("rrun-registries-XXXXXX.conf", &path, NULL);

  g_assert_cmpint (fd, >=, 0);
  close (fd);
  g_assert_true (g_file_set_contents (path, "unqualified-search-registries = [\"a.io\"]\n", -1,
                                      NULL));
  g_setenv ("RRUN_REGISTRIES_CONF", path, TRUE);
  g_assert_true (rrun_registries_conf_load (NULL, &conf, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (conf->search[0], ==, "a.io");
  g_assert_cmpuint (conf->files_read->len, ==, 1);
  g_unlink (path);
  g_clear_pointer (&conf, rrun_registries_conf_free);
  g_assert_false (rrun_registries_conf_load (NULL, &conf, &error));
  g_assert_true (g_str_has_suffix (error->message, "(RRUN_REGISTRIES_CONF): no such file"));
  g_unsetenv ("RRUN_REGISTRIES_CONF");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/registries-conf/parse", test_parse);
  g_test_add_func ("/registries-conf/candidates", test_candidates);
  g_test_add_func ("/registries-conf/merge-and-rrun-config", test_merge_and_rrun_config);
  g_test_add_func ("/registries-conf/v1", test_v1);
  g_test_add_func ("/registries-conf/errors", test_errors);
  g_test_add_func ("/registries-conf/load-env", test_load_env);
  return g_test_run ();
}
