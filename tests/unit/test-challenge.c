#include "error.h"
#include "registry/challenge.h"
#include "registry/client.h"

static void
test_bearer (void)
{
  g_autoptr(RrunAuthChallenge) c = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (rrun_auth_challenge_parse (
      "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
      "scope=\"repository:library/alpine:pull\"",
      &c, &error));
  g_assert_no_error (error);
  g_assert_cmpint (c->scheme, ==, RRUN_AUTH_BEARER);
  g_assert_cmpstr (c->realm, ==, "https://auth.docker.io/token");
  g_assert_cmpstr (c->service, ==, "registry.docker.io");
  g_assert_cmpstr (c->scope, ==, "repository:library/alpine:pull");
}

static void
test_basic_and_quoting (void)
{
  g_autoptr(RrunAuthChallenge) c = NULL;
  g_autoptr(RrunAuthChallenge) d = NULL;

  g_assert_true (rrun_auth_challenge_parse ("Basic realm=\"Registry \\\"Realm\\\"\"", &c, NULL));
  g_assert_cmpint (c->scheme, ==, RRUN_AUTH_BASIC);
  g_assert_cmpstr (c->realm, ==, "Registry \"Realm\"");
  /* Several challenges: Bearer wins; unknown schemes and token68 are skipped; case and
     spaces do not matter; unquoted values are tokens. */
  g_assert_true (rrun_auth_challenge_parse (
      "Negotiate abc==, basic realm=x, BEARER  realm = \"http://127.0.0.1:1/t\" , service=reg",
      &d, NULL));
  g_assert_cmpint (d->scheme, ==, RRUN_AUTH_BEARER);
  g_assert_cmpstr (d->realm, ==, "http://127.0.0.1:1/t");
  g_assert_cmpstr (d->service, ==, "reg");
  g_assert_null (d->scope);
}

static void
check_error (const char *header, const char *message)
{
  g_autoptr(RrunAuthChallenge) c = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (rrun_auth_challenge_parse (header, &c, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_REGISTRY);
  g_assert_cmpstr (error->message, ==, message);
}

static void
test_errors (void)
{
  check_error ("Negotiate abc", "the registry asks for an authentication scheme rrun does not "
                                "know: \"Negotiate abc\"");
  check_error ("Bearer service=\"x\"",
               "the registry's Bearer challenge has no realm: \"Bearer service=\"x\"\"");
  check_error ("Bearer realm=\"file:///etc/passwd\"",
               "the registry's token realm \"file:///etc/passwd\" is not an http(s) URL");
  check_error ("Bearer realm=\"https://x",
               "cannot parse the registry's WWW-Authenticate header \"Bearer realm=\"https://x\"");
}

static void
test_error_body (void)
{
  const char *body = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest "
                     "unknown\",\"detail\":{\"Tag\":\"x\"}},{\"code\":\"DENIED\"}]}";
  g_autofree char *s = rrun_registry_format_error_body (body, strlen (body));
  g_autofree char *t = rrun_registry_format_error_body ("<html>", 6);
  const char *evil = "{\"errors\":[{\"code\":\"X\",\"message\":\"a\\nb\\u001b[31m\"}]}";
  g_autofree char *u = rrun_registry_format_error_body (evil, strlen (evil));

  g_assert_cmpstr (s, ==, "manifest unknown (MANIFEST_UNKNOWN); DENIED");
  g_assert_null (t);
  g_assert_cmpstr (u, ==, "a b [31m (X)");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/www-authenticate/bearer", test_bearer);
  g_test_add_func ("/www-authenticate/basic-and-quoting", test_basic_and_quoting);
  g_test_add_func ("/www-authenticate/errors", test_errors);
  g_test_add_func ("/www-authenticate/error-body", test_error_body);
  return g_test_run ();
}
