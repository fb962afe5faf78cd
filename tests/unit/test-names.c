#include "storage/names.h"
#include "registry/reference.h"
#include "registry/registries-conf.h"
#include "error.h"

#include <string.h>

static void
check_norm (const char *in, const char *want)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  g_assert_true (rrun_names_normalize (in, &out, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, want);
}

static void
test_normalize (void)
{
  check_norm ("busybox", "localhost/busybox:latest");
  check_norm ("foo:1", "localhost/foo:1");
  check_norm ("docker.io/library/alpine", "docker.io/library/alpine:latest");
  check_norm ("localhost/busybox", "localhost/busybox:latest");
  check_norm ("localhost:5000/x/y:v1.2_3-a", "localhost:5000/x/y:v1.2_3-a");
  check_norm ("library/alpine", "localhost/library/alpine:latest");
  check_norm ("a__b.c-d--e", "localhost/a__b.c-d--e:latest");
}

static void
check_bad (const char *in)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  g_assert_false (rrun_names_normalize (in, &out, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, in));
  g_assert_null (out);
}

static void
test_bad_names (void)
{
  check_bad ("");
  check_bad ("Busybox");
  check_bad ("busy box");
  check_bad ("foo:");
  check_bad ("foo:-x");
  check_bad ("a/../b");
  check_bad ("-a");
  check_bad ("a_");
  check_bad ("a___b");
  check_bad ("localhost/");
  check_bad ("alpine@sha256:"
             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  check_bad ("alpine@sha256:1234");
}

static void
test_parse_digest (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunReference) ref = NULL;
  const char *d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  g_autofree char *text = g_strconcat ("ghcr.io/org/img@", d, NULL);
  g_autofree char *back = NULL;

  g_assert_true (rrun_reference_parse (text, &ref, &error));
  g_assert_cmpstr (ref->domain, ==, "ghcr.io");
  g_assert_cmpstr (ref->path, ==, "org/img");
  g_assert_null (ref->tag);
  g_assert_cmpstr (ref->digest, ==, d);
  back = rrun_reference_to_string (ref);
  g_assert_cmpstr (back, ==, text);
}

static RrunRegistriesConf *
conf_of (const char *text)
{
  g_autoptr(GError) error = NULL;
  RrunRegistriesConf *conf = rrun_registries_conf_new ();

  g_assert_true (rrun_registries_conf_merge_text (conf, text, "test.conf", &error));
  g_assert_no_error (error);
  return conf;
}

static char *
joined (const char *text, const RrunRegistriesConf *conf)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) c = rrun_names_candidates (text, conf, &error);

  g_assert_no_error (error);
  return g_strjoinv (" ", c);
}

static void
test_candidates (void)
{
  g_autoptr(RrunRegistriesConf) regs
      = conf_of ("unqualified-search-registries = [\"quay.io\", \"docker.io\"]\n");
  g_autoptr(RrunRegistriesConf) acc
      = conf_of ("unqualified-search-registries = [\"127.0.0.1:5001\", \"localhost\"]\n"
                 "[aliases]\nbb = \"127.0.0.1:5001/acc/busybox\"\n");
  g_autofree char *a = joined ("alpine", NULL);
  g_autofree char *q = joined ("docker.io/alpine:3", NULL);
  g_autofree char *s = joined ("x/y", regs);
  g_autofree char *big = joined ("acc/big", acc);
  g_autofree char *alias = joined ("bb:v1", acc);
  g_autofree char *qualified = joined ("127.0.0.1:5001/acc/big", acc);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) bad = rrun_names_candidates ("Alpine", acc, &error);

  /* No registries.conf: the built-in search list, docker.io. */
  g_assert_cmpstr (a, ==, "localhost/alpine:latest docker.io/library/alpine:latest");
  /* docker.io/alpine is docker.io/library/alpine (the reference parser says so). */
  g_assert_cmpstr (q, ==, "docker.io/library/alpine:3");
  g_assert_cmpstr (s, ==, "localhost/x/y:latest quay.io/x/y:latest docker.io/x/y:latest");
  /* localhost comes first, once, whatever its place in the search list. */
  g_assert_cmpstr (big, ==, "localhost/acc/big:latest 127.0.0.1:5001/acc/big:latest");
  /* An alias stands for its target, as it does for pull. */
  g_assert_cmpstr (alias, ==, "localhost/bb:v1 127.0.0.1:5001/acc/busybox:v1");
  g_assert_cmpstr (qualified, ==, "127.0.0.1:5001/acc/big:latest");
  g_assert_null (bad);
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
}

/* The lookup and pull expand through one function: after its "localhost/NAME", the
   store's list is exactly the list pull tries, in the same order. */
static void
test_candidates_same_as_pull (void)
{
  g_autoptr(RrunRegistriesConf) conf
      = conf_of ("unqualified-search-registries = [\"registry.example.com\", \"docker.io\", "
                 "\"127.0.0.1:5001\"]\n[aliases]\n\"my/tool\" = \"quay.io/me/tool\"\n");
  const char *refs[] = { "alpine", "alpine:3.20", "acc/big", "my/tool:2", "ghcr.io/x/y",
                         "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                         NULL };

  for (guint i = 0; refs[i]; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) pull = NULL;
      g_autoptr(RrunReference) ref = NULL;
      g_auto(GStrv) local = rrun_names_candidates (refs[i], conf, &error);
      guint skip;

      g_assert_no_error (error);
      g_assert_true (rrun_registries_conf_candidates (conf, refs[i], &pull, &error));
      g_assert_true (rrun_reference_parse (refs[i], &ref, NULL));
      skip = rrun_reference_is_short (ref) ? 1 : 0;
      if (skip)
        g_assert_true (g_str_has_prefix (local[0], "localhost/"));
      g_assert_cmpuint (g_strv_length (local), ==, pull->len + skip);
      for (guint k = 0; k < pull->len; k++)
        {
          g_autofree char *name = rrun_reference_to_string (g_ptr_array_index (pull, k));
          g_assert_cmpstr (local[k + skip], ==, name);
        }
    }
}

static void
test_split_and_id (void)
{
  g_autofree char *r = NULL, *t = NULL, *r2 = NULL, *t2 = NULL;

  rrun_names_split ("localhost:5000/busybox:latest", &r, &t);
  g_assert_cmpstr (r, ==, "localhost:5000/busybox");
  g_assert_cmpstr (t, ==, "latest");
  rrun_names_split ("localhost:5000/busybox", &r2, &t2);
  g_assert_cmpstr (r2, ==, "localhost:5000/busybox");
  g_assert_cmpstr (t2, ==, "<none>");
  g_assert_true (rrun_names_is_id_prefix ("abc"));
  g_assert_true (rrun_names_is_id_prefix ("sha256:abc123"));
  g_assert_false (rrun_names_is_id_prefix ("ab"));
  g_assert_false (rrun_names_is_id_prefix ("busybox"));
  g_assert_false (rrun_names_is_id_prefix ("ABC"));
}

static void
test_match_reference (void)
{
  const char *local = "localhost/rrun-test-busybox:latest";
  const char *hub = "docker.io/library/alpine:3.20";
  const char *port = "127.0.0.1:5000/org/app:v1";

  g_assert_true (rrun_names_match_reference (local, "rrun-test-busybox"));
  g_assert_true (rrun_names_match_reference (local, "rrun-test-*"));
  g_assert_true (rrun_names_match_reference (local, "localhost/rrun-test-busybox:latest"));
  g_assert_true (rrun_names_match_reference (local, "*:latest"));
  g_assert_false (rrun_names_match_reference (local, "*:v1"));
  g_assert_false (rrun_names_match_reference (local, "busybox"));
  g_assert_true (rrun_names_match_reference (hub, "alpine"));
  g_assert_true (rrun_names_match_reference (hub, "alpine:3.*"));
  g_assert_true (rrun_names_match_reference (hub, "library/alpine"));
  g_assert_true (rrun_names_match_reference (hub, "docker.io/library/alpine"));
  g_assert_true (rrun_names_match_reference (port, "org/*"));
  g_assert_true (rrun_names_match_reference (port, "127.0.0.1:5000/org/app:v1"));
  /* '*' stays within one path component, as docker's filepath.Match */
  g_assert_false (rrun_names_match_reference (port, "*"));
  g_assert_false (rrun_names_match_reference (port, "app"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/names/normalize", test_normalize);
  g_test_add_func ("/names/bad", test_bad_names);
  g_test_add_func ("/names/parse-digest", test_parse_digest);
  g_test_add_func ("/names/candidates", test_candidates);
  g_test_add_func ("/names/candidates-same-as-pull", test_candidates_same_as_pull);
  g_test_add_func ("/names/split-and-id", test_split_and_id);
  g_test_add_func ("/names/match-reference", test_match_reference);
  return g_test_run ();
}
