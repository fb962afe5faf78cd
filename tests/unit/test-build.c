/* The Dockerfile parser, variable substitution, .dockerignore matching and the
   config-only instructions. */
#include "build/config-edit.h"
#include "build/dockerfile.h"
#include "build/dockerignore.h"
#include "build/fetch-url.h"
#include "build/run-mounts.h"
#include "error.h"

#include <string.h>

static RrunDockerfile *
parse_ok (const char *text)
{
  g_autoptr(GError) error = NULL;
  RrunDockerfile *df = NULL;

  g_assert_true (rrun_dockerfile_parse (text, "Dockerfile", &df, &error));
  g_assert_no_error (error);
  return df;
}

static RrunInstruction *
nth (RrunDockerfile *df, guint i)
{
  g_assert_cmpuint (i, <, df->instructions->len);
  return df->instructions->pdata[i];
}

static void
test_basic (void)
{
  g_autoptr(RrunDockerfile) df = parse_ok ("# a comment\n"
                                           "FROM busybox AS build\n"
                                           "\n"
                                           "run echo a \\\n"
                                           "  # inside\n"
                                           "  b\n"
                                           "COPY --from=build --chown=1:2 a b /dst/\n"
                                           "CMD [\"sh\", \"-c\", \"x\"]\n");
  g_assert_cmpuint (df->instructions->len, ==, 4);
  g_assert_cmpstr (nth (df, 0)->keyword, ==, "FROM");
  g_assert_cmpstr (nth (df, 0)->args, ==, "busybox AS build");
  g_assert_cmpuint (nth (df, 0)->line, ==, 2);
  g_assert_cmpstr (nth (df, 1)->keyword, ==, "RUN");
  g_assert_cmpstr (nth (df, 1)->args, ==, "echo a   b");
  g_assert_cmpuint (nth (df, 1)->line, ==, 4);
  g_assert_cmpstr (rrun_instruction_flag (nth (df, 2), "from"), ==, "build");
  g_assert_cmpstr (rrun_instruction_flag (nth (df, 2), "chown"), ==, "1:2");
  g_assert_null (rrun_instruction_flag (nth (df, 2), "chmod"));
  g_assert_cmpstr (nth (df, 2)->args, ==, "a b /dst/");
  g_assert_cmpuint (nth (df, 3)->line, ==, 8);
}

static void
test_escape_directive (void)
{
  g_autoptr(RrunDockerfile) df = parse_ok ("# escape=`\n"
                                           "FROM x\n"
                                           "RUN dir c:\\ `\n"
                                           "  && echo\n");
  g_assert_cmpint (df->escape, ==, '`');
  g_assert_cmpstr (nth (df, 1)->args, ==, "dir c:\\   && echo");
}

static void
test_heredoc (void)
{
  g_autoptr(RrunDockerfile) df = parse_ok ("FROM x\n"
                                           "RUN <<EOT\n"
                                           "echo one\n"
                                           "echo two\n"
                                           "EOT\n"
                                           "COPY <<-'EOF' /etc/conf\n"
                                           "\tkey=$v\n"
                                           "\tEOF\n"
                                           "USER 1\n");
  RrunHeredoc *h;

  g_assert_cmpuint (df->instructions->len, ==, 4);
  h = nth (df, 1)->heredocs->pdata[0];
  g_assert_cmpstr (h->name, ==, "EOT");
  g_assert_cmpstr (h->content, ==, "echo one\necho two\n");
  g_assert_true (h->expand);
  h = nth (df, 2)->heredocs->pdata[0];
  g_assert_cmpstr (h->content, ==, "key=$v\n");
  g_assert_false (h->expand);
  g_assert_cmpstr (nth (df, 3)->keyword, ==, "USER");
  g_assert_cmpuint (nth (df, 3)->line, ==, 9);
}

static void
test_errors (void)
{
  struct { const char *text; const char *message; } cases[] = {
    { "FROM x\nFROBNICATE y\n", "Dockerfile:2: FROBNICATE: unknown instruction" },
    { "RUN x\n", "Dockerfile:1: RUN: the first instruction must be FROM (or ARG before it)" },
    { "FROM x\nRUN <<EOT\necho\n", "Dockerfile:2: RUN: heredoc \"EOT\" has no closing line \"EOT\"" },
    { "FROM x\nWORKDIR\n", "Dockerfile:2: WORKDIR: needs at least one argument" },
    { "# escape=x\nFROM x\n", "Dockerfile:1: invalid escape directive \"x\": expected \\ or `" },
    { "ARG A=1\n", "Dockerfile: no FROM instruction" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(RrunDockerfile) df = NULL;
      g_assert_false (rrun_dockerfile_parse (cases[i].text, "Dockerfile", &df, &error));
      g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (error->message, ==, cases[i].message);
    }
}

static const char *
lookup (const char *name, gpointer user_data)
{
  return g_hash_table_lookup (user_data, name);
}

static void
test_expand (void)
{
  g_autoptr(GHashTable) vars = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  struct { const char *in, *out; } cases[] = {
    { "$A/${A}/$B-x", "one/one/-x" },
    { "${B:-dflt} ${A:-dflt} ${E:-dflt} ${E-dflt}", "dflt one dflt " },
    { "${A:+alt} ${B:+alt} ${E:+alt} ${E+alt}", "alt   alt" },
    { "'$A' \"$A\" \\$A $", "'$A' \"one\" \\$A $" },
    { "${B:-${A}x}", "onex" },
  };

  g_hash_table_insert (vars, (gpointer) "A", (gpointer) "one");
  g_hash_table_insert (vars, (gpointer) "E", (gpointer) "");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *out = NULL;
      g_assert_true (rrun_build_expand (cases[i].in, '\\', lookup, vars, used, &out, &error));
      g_assert_cmpstr (out, ==, cases[i].out);
    }
  g_assert_true (g_hash_table_contains (used, "A"));
  g_assert_true (g_hash_table_contains (used, "B"));
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    g_assert_false (rrun_build_expand ("${A", '\\', lookup, vars, NULL, &out, &error));
    g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  }
}

static void
test_ignore (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunIgnore) ig = NULL;

  g_assert_true (rrun_ignore_parse ("# comment\n"
                                    "*.log\n"
                                    "/build\n"
                                    "**/tmp\n"
                                    "docs/**/*.md\n"
                                    "!docs/keep/README.md\n"
                                    "secret?\n"
                                    "[ab].txt\n"
                                    "node_modules\n"
                                    "!node_modules/keep\n",
                                    &ig, &error));
  g_assert_no_error (error);
  g_assert_true (rrun_ignore_matches (ig, "a.log"));
  g_assert_false (rrun_ignore_matches (ig, "dir/a.log")); /* '*' stops at '/' */
  g_assert_true (rrun_ignore_matches (ig, "build"));
  g_assert_true (rrun_ignore_matches (ig, "build/x/y"));  /* in an excluded directory */
  g_assert_true (rrun_ignore_matches (ig, "tmp"));
  g_assert_true (rrun_ignore_matches (ig, "a/b/tmp/file"));
  g_assert_true (rrun_ignore_matches (ig, "docs/x.md"));
  g_assert_true (rrun_ignore_matches (ig, "docs/a/b/x.md"));
  g_assert_false (rrun_ignore_matches (ig, "docs/keep/README.md"));
  g_assert_false (rrun_ignore_matches (ig, "docs/x.txt"));
  g_assert_true (rrun_ignore_matches (ig, "secret1"));
  g_assert_false (rrun_ignore_matches (ig, "secret12"));
  g_assert_true (rrun_ignore_matches (ig, "a.txt"));
  g_assert_false (rrun_ignore_matches (ig, "c.txt"));
  g_assert_true (rrun_ignore_matches (ig, "node_modules/x"));
  g_assert_false (rrun_ignore_matches (ig, "node_modules/keep"));
  g_assert_false (rrun_ignore_matches (ig, "src/main.c"));
  g_assert_true (rrun_ignore_has_exceptions (ig));

  g_assert_true (rrun_build_glob_match ("*.c", "main.c"));
  g_assert_false (rrun_build_glob_match ("*.c", "src/main.c"));
  g_assert_true (rrun_build_glob_match ("src/?ain.[ch]", "src/main.h"));
}

static void
test_config_edit (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunJson) root = rrun_json_new_object ();
  g_autofree char *text = NULL;

  g_assert_true (rrun_build_config_apply_line (root, "ENV A=1 B=\"two words\"", &error));
  g_assert_true (rrun_build_config_apply_line (root, "ENV A 3 4", &error));
  g_assert_true (rrun_build_config_apply_line (root, "CMD echo hi", &error));
  g_assert_true (rrun_build_config_apply_line (root, "WORKDIR /app", &error));
  g_assert_true (rrun_build_config_apply_line (root, "WORKDIR sub/../src", &error));
  g_assert_true (rrun_build_config_apply_line (root, "EXPOSE 80 53/udp", &error));
  g_assert_true (rrun_build_config_apply_line (root, "LABEL a=b \"c d\"=e", &error));
  g_assert_true (rrun_build_config_apply_line (root, "VOLUME [\"/data\"]", &error));
  g_assert_true (rrun_build_config_apply_line (root, "HEALTHCHECK --interval=5s --retries=2 CMD true", &error));
  g_assert_true (rrun_build_config_apply_line (root, "STOPSIGNAL SIGINT", &error));
  g_assert_no_error (error);
  text = rrun_json_value_to_text (root, FALSE);
  g_assert_cmpstr (text, ==,
                   "{\"config\":{\"Env\":[\"A=3 4\",\"B=two words\"],"
                   "\"Cmd\":[\"/bin/sh\",\"-c\",\"echo hi\"],\"WorkingDir\":\"/app/src\","
                   "\"ExposedPorts\":{\"80/tcp\":{},\"53/udp\":{}},"
                   "\"Labels\":{\"a\":\"b\",\"c d\":\"e\"},\"Volumes\":{\"/data\":{}},"
                   "\"Healthcheck\":{\"Interval\":5000000000,\"Retries\":2,"
                   "\"Test\":[\"CMD-SHELL\",\"true\"]},\"StopSignal\":\"SIGINT\"}}");
  g_assert_false (rrun_build_config_apply_line (root, "ENV A=1 junk", &error));
  g_assert_cmpstr (error->message, ==, "invalid change \"ENV A=1 junk\": ENV: \"junk\" is not NAME=VALUE");
}

static void
mount_bad (const char *value, const char *why)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunRunMount) m = NULL;

  g_assert_false (rrun_run_mount_parse (value, &m, &error));
  g_assert_nonnull (error);
  if (strstr (error->message, why) == NULL)
    g_error ("%s: got \"%s\", expected \"%s\"", value, error->message, why);
}

static void
test_run_mounts (void)
{
  const char *good[] = { "target=/x", "type=bind,source=a,target=/x,rw",
                         "type=cache,target=/c,id=pip,sharing=locked,mode=0700",
                         "type=tmpfs,target=/t,size=1m", "type=secret,id=tok",
                         "type=secret,target=/etc/tok,required", "type=cache,target=c,ro=true",
                         "type=bind,target=/x,from=build,source=/out" };
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(RrunRunMount) m = NULL;
      g_assert_true (rrun_run_mount_parse (good[i], &m, &error));
      g_assert_no_error (error);
    }
  mount_bad ("type=bind", "a target is needed");
  mount_bad ("type=secret", "a target is needed");
  mount_bad ("type=ssh,target=/x", "type=ssh is not supported");
  mount_bad ("type=nfs,target=/x", "unknown type \"nfs\"");
  mount_bad ("target=/", "the target cannot be /");
  mount_bad ("target=/x,uid=1000", "uid=/gid= other than 0");
  mount_bad ("type=cache,target=/x,sharing=sometimes", "sharing=sometimes");
  mount_bad ("type=bind,target=/x,sharing=locked", "sharing=locked");
  mount_bad ("type=cache,target=/x,from=build", "from= is supported on bind mounts only");
  mount_bad ("type=cache,target=/x,mode=999", "mode=999");
  mount_bad ("type=bind,target=/x,size=1m", "size= applies to type=tmpfs");
  mount_bad ("target=/x,ro=maybe", "ro=maybe: expected true or false");
  mount_bad ("target=/x,colour=red", "unknown key \"colour\"");
  mount_bad ("target", "\"target\" needs a value");
}

static void
test_secret_parse (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunBuildSecret) a = NULL, b = NULL, c = NULL;

  g_assert_true (rrun_build_secret_parse ("id=x,src=/etc/hostname", &a, &error));
  g_assert_cmpstr (a->id, ==, "x");
  g_assert_cmpstr (a->path, ==, "/etc/hostname");
  g_setenv ("RRUN_TEST_SECRET", "v", TRUE);
  g_assert_true (rrun_build_secret_parse ("id=y,env=RRUN_TEST_SECRET", &b, &error));
  g_assert_cmpstr (b->value, ==, "v");
  g_assert_true (rrun_build_secret_parse ("id=RRUN_TEST_SECRET", &c, &error));
  g_assert_cmpstr (c->value, ==, "v");
  g_assert_false (rrun_build_secret_parse ("id=z,src=/nonexistent", &a, &error));
  g_assert_nonnull (strstr (error->message, "cannot read \"/nonexistent\""));
  g_clear_error (&error);
  g_assert_false (rrun_build_secret_parse ("id=../z,src=/etc/hostname", &a, &error));
  g_assert_nonnull (strstr (error->message, "the id cannot be a path"));
  g_clear_error (&error);
  g_assert_false (rrun_build_secret_parse ("id=z,colour=red", &a, &error));
  g_assert_nonnull (strstr (error->message, "unknown key \"colour\""));
  g_clear_error (&error);
  g_assert_false (rrun_build_secret_parse ("id=z,env=RRUN_TEST_UNSET_VAR", &a, &error));
  g_assert_nonnull (strstr (error->message, "RRUN_TEST_UNSET_VAR is not set"));
}

static void
test_url_file_name (void)
{
  const char *cases[][2] = { { "https://h/a/b.tar.gz", "b.tar.gz" },
                             { "https://h/a/b.txt?x=1#f", "b.txt" },
                             { "https://h/dir/", "dir" },
                             { "https://h", "__unnamed__" },
                             { "http://h/..", "__unnamed__" } };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *n = rrun_build_url_file_name (cases[i][0]);
      g_assert_cmpstr (n, ==, cases[i][1]);
    }
}

static void
test_flags (void)
{
  g_autoptr(GError) error = NULL;
  RrunDockerfile *df = NULL;

  g_assert_false (rrun_dockerfile_parse ("FROM a\nRUN --nope true\n", "Dockerfile", &df, &error));
  g_assert_cmpstr (error->message, ==, "Dockerfile:2: RUN: unknown flag --nope");
  g_clear_error (&error);
  g_assert_false (rrun_dockerfile_parse ("FROM --from=x a\n", "Dockerfile", &df, &error));
  g_assert_cmpstr (error->message, ==, "Dockerfile:1: FROM: unknown flag --from");
  g_clear_error (&error);
  g_assert_true (rrun_dockerfile_parse ("FROM --platform=linux/amd64 a\nCOPY --link a b\n"
                                        "ADD --checksum=sha256:00 --link u b\n"
                                        "RUN --mount=type=cache,target=/c --network=none true\n",
                                        "Dockerfile", &df, &error));
  g_assert_no_error (error);
  rrun_dockerfile_free (df);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/build/dockerfile/basic", test_basic);
  g_test_add_func ("/build/dockerfile/escape-directive", test_escape_directive);
  g_test_add_func ("/build/dockerfile/heredoc", test_heredoc);
  g_test_add_func ("/build/dockerfile/errors", test_errors);
  g_test_add_func ("/build/expand", test_expand);
  g_test_add_func ("/build/dockerignore", test_ignore);
  g_test_add_func ("/build/config-edit", test_config_edit);
  g_test_add_func ("/build/run-mounts", test_run_mounts);
  g_test_add_func ("/build/secret-parse", test_secret_parse);
  g_test_add_func ("/build/url-file-name", test_url_file_name);
  g_test_add_func ("/build/flags", test_flags);
  return g_test_run ();
}
