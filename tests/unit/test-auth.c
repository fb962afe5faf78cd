#include "error.h"
#include "registry/auth.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

static RrunCredentials *
lookup (const char *text, const char *domain, const char *repo)
{
  g_autoptr(GError) error = NULL;
  RrunCredentials *c = NULL;

  g_assert_true (rrun_auth_lookup_text (text, "auth.json", domain, repo, &c, &error));
  g_assert_no_error (error);
  return c;
}

static void
test_lookup (void)
{
  /* dXNlcjpwYXNz = user:pass, b3JnOnNlY3JldDpjb2xvbg== = org:secret:colon,
     aHViOmh1YnB3 = hub:hubpw */
  const char *text = "{\"auths\":{"
                     "\"quay.io\":{\"auth\":\"dXNlcjpwYXNz\"},"
                     "\"quay.io/org\":{\"auth\":\"b3JnOnNlY3JldDpjb2xvbg==\"},"
                     "\"https://index.docker.io/v1/\":{\"auth\":\"aHViOmh1YnB3\"},"
                     "\"helper.io\":{}}}";
  g_autoptr(RrunCredentials) a = lookup (text, "quay.io", "other/img");
  g_autoptr(RrunCredentials) b = lookup (text, "quay.io", "org/img");
  g_autoptr(RrunCredentials) c = lookup (text, "docker.io", "library/alpine");
  g_autoptr(RrunCredentials) d = lookup (text, "quay.io.evil.com", NULL);
  g_autoptr(RrunCredentials) e = lookup (text, "helper.io", NULL);
  g_autoptr(RrunCredentials) f = lookup (text, "quay.io", "organisation/x");

  g_assert_cmpstr (a->username, ==, "user");
  g_assert_cmpstr (a->password, ==, "pass");
  g_assert_cmpstr (a->source, ==, "auth.json");
  g_assert_cmpstr (b->username, ==, "org");
  g_assert_cmpstr (b->password, ==, "secret:colon");
  g_assert_cmpstr (c->username, ==, "hub");
  g_assert_null (d);
  g_assert_null (e);
  g_assert_cmpstr (f->username, ==, "user");
}

/* A registry named twice means its last entry, as podman (Go's encoding/json) reads it. */
static void
test_lookup_duplicate (void)
{
  const char *text = "{\"auths\":{\"quay.io\":{\"auth\":\"aHViOmh1YnB3\"},"
                     "\"quay.io\":{\"auth\":\"dXNlcjpwYXNz\"}}}";
  g_autoptr(RrunCredentials) c = lookup (text, "quay.io", NULL);

  g_assert_cmpstr (c->username, ==, "user");
}

static void
check_error (const char *text, const char *message)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunCredentials) c = NULL;

  g_assert_false (rrun_auth_lookup_text (text, "auth.json", "quay.io", NULL, &c, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_CORRUPT);
  g_assert_cmpstr (error->message, ==, message);
}

static void
test_errors (void)
{
  check_error ("{\"auths\":[]}", "auth.json: auths must be an object");
  check_error ("{\"auths\":{\"quay.io\":{\"auth\":1}}}",
               "auth.json: auths.\"quay.io\".auth must be a string");
  check_error ("{\"auths\":{\"quay.io\":{\"auth\":\"bm9jb2xvbg==\"}}}",
               "auth.json: auths.\"quay.io\".auth is not base64 of \"user:password\"");
  check_error ("{\"auths\":{\"quay.io\":\"x\"}}", "auth.json: auths.\"quay.io\" must be an object");
  check_error ("[1]", "cannot parse \"auth.json\": not a JSON object");
  check_error ("{\"auths\":{},}",
               "cannot parse \"auth.json\": invalid JSON: expected a member name");
}

static void
test_normalize (void)
{
  const char *cases[][2] = {
    { "https://index.docker.io/v1/", "docker.io" },
    { "registry-1.docker.io", "docker.io" },
    { "http://localhost:5000/v2/", "localhost:5000" },
    { "quay.io/org/", "quay.io/org" },
    { "index.docker.io/me", "docker.io/me" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *k = rrun_auth_normalize_key (cases[i][0]);
      g_assert_cmpstr (k, ==, cases[i][1]);
    }
}

static void
test_store_remove (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rrun-auth-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "sub", "auth.json", NULL);
  g_autofree char *written = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunCredentials) c = NULL;
  struct stat st;

  g_setenv ("REGISTRY_AUTH_FILE", path, TRUE);
  written = rrun_auth_write_path ();
  g_assert_cmpstr (written, ==, path);
  g_assert_true (rrun_auth_store ("127.0.0.1:5000", "alice", "pw:1", &error));
  g_assert_no_error (error);
  g_assert_true (rrun_auth_store ("https://index.docker.io/v1/", "bob", "x", &error));
  g_assert_cmpint (stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_true (rrun_auth_lookup ("127.0.0.1:5000", "x", &c, &error));
  g_assert_cmpstr (c->username, ==, "alice");
  g_assert_cmpstr (c->password, ==, "pw:1");
  g_clear_pointer (&c, rrun_credentials_free);
  g_assert_true (rrun_auth_lookup ("docker.io", NULL, &c, &error));
  g_assert_cmpstr (c->username, ==, "bob");
  g_clear_pointer (&c, rrun_credentials_free);

  g_assert_true (rrun_auth_remove ("127.0.0.1:5000", &error));
  g_assert_true (rrun_auth_lookup ("127.0.0.1:5000", NULL, &c, &error));
  g_assert_null (c);
  g_assert_false (rrun_auth_remove ("127.0.0.1:5000", &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_NOT_FOUND);
  g_assert_true (g_str_has_prefix (error->message,
                                   "cannot log out of \"127.0.0.1:5000\": not logged in ("));
  g_clear_error (&error);
  g_assert_true (rrun_auth_remove (NULL, &error));
  g_assert_true (rrun_auth_lookup ("docker.io", NULL, &c, &error));
  g_assert_null (c);

  /* A file we cannot parse is never overwritten. */
  g_assert_true (g_file_set_contents (path, "{broken", -1, NULL));
  g_assert_false (rrun_auth_store ("x.io", "a", "b", &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_CORRUPT);
  {
    g_autofree char *text = NULL;
    g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
    g_assert_cmpstr (text, ==, "{broken");
  }
  g_unsetenv ("REGISTRY_AUTH_FILE");
  g_unlink (path);
  g_autofree char *sub = g_path_get_dirname (path);
  g_rmdir (sub);
  g_rmdir (dir);
}

static char *
file_text (const char *path)
{
  g_autofree char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return g_steal_pointer (&text);
}

/* The file as podman and skopeo write it (tabs, "name": value), and what rrun does not
   know kept: other members, other fields of an entry, a registry named twice once. */
static void
test_store_format (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rrun-auth-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "auth.json", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;

  g_setenv ("REGISTRY_AUTH_FILE", path, TRUE);
  g_assert_true (rrun_auth_store ("127.0.0.1:5000", "alice", "pw:1", &error));
  g_assert_no_error (error);
  text = file_text (path);
  g_assert_cmpstr (text, ==,
                   "{\n\t\"auths\": {\n\t\t\"127.0.0.1:5000\": {\n"
                   "\t\t\t\"auth\": \"YWxpY2U6cHc6MQ==\"\n\t\t}\n\t}\n}");
  g_clear_pointer (&text, g_free);

  g_assert_true (g_file_set_contents (
      path,
      "{\"auths\":{\"a.io\":{\"auth\":\"\",\"identitytoken\":\"t\"},"
      "\"b.io\":{\"auth\":\"b2xkOm9sZA==\"},\"b.io\":{\"auth\":\"bmV3Om5ldw==\"}},"
      "\"credHelpers\":{\"c.io\":\"x\"},\"n\":[1.5,null,true]}",
      -1, NULL));
  g_assert_true (rrun_auth_store ("https://index.docker.io/v1/", "bob", "x", &error));
  g_assert_no_error (error);
  text = file_text (path);
  g_assert_cmpstr (text, ==,
                   "{\n\t\"auths\": {\n"
                   "\t\t\"a.io\": {\n"
                   "\t\t\t\"auth\": \"\",\n\t\t\t\"identitytoken\": \"t\"\n\t\t},\n"
                   "\t\t\"b.io\": {\n\t\t\t\"auth\": \"bmV3Om5ldw==\"\n\t\t},\n"
                   "\t\t\"docker.io\": {\n\t\t\t\"auth\": \"Ym9iOng=\"\n\t\t}\n\t},\n"
                   "\t\"credHelpers\": {\n\t\t\"c.io\": \"x\"\n\t},\n"
                   "\t\"n\": [\n\t\t1.5,\n\t\tnull,\n\t\ttrue\n\t]\n}");
  g_clear_pointer (&text, g_free);

  g_assert_true (rrun_auth_remove ("b.io", &error));
  g_assert_no_error (error);
  text = file_text (path);
  g_assert_null (strstr (text, "b.io"));
  g_assert_nonnull (strstr (text, "\"identitytoken\": \"t\""));
  g_assert_nonnull (strstr (text, "\"credHelpers\""));

  g_unsetenv ("REGISTRY_AUTH_FILE");
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_write_path_fallback (void)
{
  g_autofree char *p1 = NULL, *p2 = NULL;

  g_unsetenv ("REGISTRY_AUTH_FILE");
  g_setenv ("XDG_RUNTIME_DIR", "/run/user/4242", TRUE);
  p1 = rrun_auth_write_path ();
  g_assert_cmpstr (p1, ==, "/run/user/4242/containers/auth.json");
  g_unsetenv ("XDG_RUNTIME_DIR");
  p2 = rrun_auth_write_path ();
  g_assert_true (g_str_has_suffix (p2, "/containers/auth.json"));
  g_assert_true (g_str_has_prefix (p2, g_get_user_config_dir ()));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/auth/lookup", test_lookup);
  g_test_add_func ("/auth/lookup-duplicate", test_lookup_duplicate);
  g_test_add_func ("/auth/errors", test_errors);
  g_test_add_func ("/auth/normalize", test_normalize);
  g_test_add_func ("/auth/store-remove", test_store_remove);
  g_test_add_func ("/auth/store-format", test_store_format);
  g_test_add_func ("/auth/write-path-fallback", test_write_path_fallback);
  return g_test_run ();
}
