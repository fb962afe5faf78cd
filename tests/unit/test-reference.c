#include "error.h"
#include "registry/reference.h"

#include <string.h>

static void
check (const char *text, const char *domain, const char *path, const char *tag,
       const char *digest, const char *full)
{
  g_autoptr(RrunReference) ref = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *s = NULL;

  g_assert_true (rrun_reference_parse (text, &ref, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (ref->domain, ==, domain);
  g_assert_cmpstr (ref->path, ==, path);
  g_assert_cmpstr (ref->tag, ==, tag);
  g_assert_cmpstr (ref->digest, ==, digest);
  s = rrun_reference_to_string (ref);
  g_assert_cmpstr (s, ==, full);
}

#define D "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
test_forms (void)
{
  check ("alpine", NULL, "alpine", "latest", NULL, "alpine:latest");
  check ("alpine:3.20", NULL, "alpine", "3.20", NULL, "alpine:3.20");
  check ("library/alpine", NULL, "library/alpine", "latest", NULL, "library/alpine:latest");
  check ("docker.io/alpine", "docker.io", "library/alpine", "latest", NULL,
         "docker.io/library/alpine:latest");
  check ("docker.io/library/alpine", "docker.io", "library/alpine", "latest", NULL,
         "docker.io/library/alpine:latest");
  check ("index.docker.io/foo/bar:1", "docker.io", "foo/bar", "1", NULL,
         "docker.io/foo/bar:1");
  check ("ghcr.io/org/img:tag", "ghcr.io", "org/img", "tag", NULL, "ghcr.io/org/img:tag");
  check ("localhost:5000/x", "localhost:5000", "x", "latest", NULL, "localhost:5000/x:latest");
  check ("localhost/x", "localhost", "x", "latest", NULL, "localhost/x:latest");
  check ("127.0.0.1:5000/a/b/c", "127.0.0.1:5000", "a/b/c", "latest", NULL,
         "127.0.0.1:5000/a/b/c:latest");
  check ("[::1]:5000/x", "[::1]:5000", "x", "latest", NULL, "[::1]:5000/x:latest");
  check ("name@" D, NULL, "name", NULL, D, "name@" D);
  check ("name:tag@" D, NULL, "name", "tag", D, "name:tag@" D);
  check ("my-org/my__img.v2:x", NULL, "my-org/my__img.v2", "x", NULL, "my-org/my__img.v2:x");
  check ("a---b", NULL, "a---b", "latest", NULL, "a---b:latest");
}

static void
check_error (const char *text, int code, const char *message)
{
  g_autoptr(RrunReference) ref = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (rrun_reference_parse (text, &ref, &error));
  g_assert_error (error, RRUN_ERROR, code);
  g_assert_cmpstr (error->message, ==, message);
  g_assert_null (ref);
}

static void
test_errors (void)
{
  check_error ("", RRUN_ERROR_INVALID_ARGUMENT, "invalid image reference \"\": it is empty");
  check_error ("Alpine", RRUN_ERROR_INVALID_ARGUMENT,
               "invalid image reference \"Alpine\": repository name must be lowercase\n"
               "hint: write it as \"alpine\"");
  check_error ("docker.io/Library/alpine", RRUN_ERROR_INVALID_ARGUMENT,
               "invalid image reference \"docker.io/Library/alpine\": repository name must be "
               "lowercase\nhint: write it as \"docker.io/library/alpine\"");
  check_error ("alpine@sha256:abc", RRUN_ERROR_INVALID_ARGUMENT,
               "invalid image reference \"alpine@sha256:abc\": invalid digest \"sha256:abc\": "
               "expected \"sha256:\" and 64 lowercase hex digits");
  check_error ("alpine@md5:abc", RRUN_ERROR_UNSUPPORTED,
               "invalid image reference \"alpine@md5:abc\": unsupported digest algorithm "
               "\"md5\": rrun verifies sha256 only");
  check_error ("alpine@abc", RRUN_ERROR_INVALID_ARGUMENT,
               "invalid image reference \"alpine@abc\": invalid digest \"abc\": expected "
               "\"sha256:\" and 64 hex digits");
  check_error ("alpine:.x", RRUN_ERROR_INVALID_ARGUMENT,
               "invalid image reference \"alpine:.x\": invalid tag \".x\": a tag is 1 to 128 "
               "letters, digits, '_', '.' or '-', not starting with '.' or '-'");
  check_error ("alpine:", RRUN_ERROR_INVALID_ARGUMENT,
               "invalid image reference \"alpine:\": invalid tag \"\": a tag is 1 to 128 "
               "letters, digits, '_', '.' or '-', not starting with '.' or '-'");
  check_error ("a//b", RRUN_ERROR_INVALID_ARGUMENT,
               "invalid image reference \"a//b\": empty path component");
  check_error ("a/-b", RRUN_ERROR_INVALID_ARGUMENT,
               "invalid image reference \"a/-b\": path component \"-b\" must start and end "
               "with a lowercase letter or digit");
  check_error ("a..b", RRUN_ERROR_INVALID_ARGUMENT,
               "invalid image reference \"a..b\": invalid separator sequence in \"a..b\"");
  check_error ("a___b", RRUN_ERROR_INVALID_ARGUMENT,
               "invalid image reference \"a___b\": invalid separator sequence in \"a___b\"");
  /* issue 19: the hint was "bad tag", as invalid; the space is the first problem */
  check_error ("BAD TAG", RRUN_ERROR_INVALID_ARGUMENT,
               "invalid image reference \"BAD TAG\": invalid character ' ' in repository name");
  /* uppercase whose lowercase form is still invalid: no hint */
  check_error ("Ab..c", RRUN_ERROR_INVALID_ARGUMENT,
               "invalid image reference \"Ab..c\": repository name must be lowercase");
  check_error ("a b", RRUN_ERROR_INVALID_ARGUMENT,
               "invalid image reference \"a b\": invalid character ' ' in repository name");
  check_error ("exa_mple.com/x", RRUN_ERROR_INVALID_ARGUMENT,
               "invalid image reference \"exa_mple.com/x\": invalid registry \"exa_mple.com\"");
  check_error ("localhost:port/x", RRUN_ERROR_INVALID_ARGUMENT,
               "invalid image reference \"localhost:port/x\": invalid registry "
               "\"localhost:port\"");
  check_error ("ghcr.io/", RRUN_ERROR_INVALID_ARGUMENT,
               "invalid image reference \"ghcr.io/\": empty path component");
}

static void
test_long_name (void)
{
  g_autoptr(RrunReference) ref = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_strnfill (256, 'a');

  g_assert_false (rrun_reference_parse (name, &ref, &error));
  g_assert_true (g_str_has_suffix (error->message,
                                   "repository name longer than 255 characters"));
}

static void
test_qualify (void)
{
  g_autoptr(RrunReference) ref = NULL;
  g_autoptr(RrunReference) q1 = NULL, q2 = NULL, q3 = NULL;
  g_autofree char *s1 = NULL, *s2 = NULL, *repo = NULL;

  g_assert_true (rrun_reference_parse ("alpine:3.20", &ref, NULL));
  g_assert_true (rrun_reference_is_short (ref));
  q1 = rrun_reference_qualify (ref, "docker.io");
  q2 = rrun_reference_qualify (ref, "quay.io");
  s1 = rrun_reference_to_string (q1);
  s2 = rrun_reference_to_string (q2);
  g_assert_cmpstr (s1, ==, "docker.io/library/alpine:3.20");
  g_assert_cmpstr (s2, ==, "quay.io/alpine:3.20");
  q3 = rrun_reference_qualify (q2, "docker.io");
  repo = rrun_reference_repository (q3);
  g_assert_cmpstr (repo, ==, "quay.io/alpine");
  g_assert_cmpstr (rrun_reference_manifest_ref (q1), ==, "3.20");
  g_assert_cmpstr (rrun_registry_domain_endpoint ("docker.io"), ==, "registry-1.docker.io");
  g_assert_cmpstr (rrun_registry_domain_endpoint ("ghcr.io"), ==, "ghcr.io");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/reference/forms", test_forms);
  g_test_add_func ("/reference/errors", test_errors);
  g_test_add_func ("/reference/long-name", test_long_name);
  g_test_add_func ("/reference/qualify", test_qualify);
  return g_test_run ();
}
