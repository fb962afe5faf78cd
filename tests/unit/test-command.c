#include "error.h"
#include "process/command.h"

#include <glib/gstdio.h>
#include <string.h>

static const char *passwd = "root:x:0:0:root:/root:/bin/sh\n"
                            "tester:x:1000:1000:Tester:/home/tester:/bin/sh\n"
                            "nohome:x:1001:1001::::\n";
static const char *group = "root:x:0:\n"
                           "tester:x:1000:\n"
                           "wheel:x:10:tester,other\n"
                           "audio:x:29:other\n"
                           "video:x:44:tester\n";

static void
test_user_by_name (void)
{
  g_autoptr(RrunUser) u = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (rrun_user_resolve ("tester", passwd, group, &u, &error));
  g_assert_cmpuint (u->uid, ==, 1000);
  g_assert_cmpuint (u->gid, ==, 1000);
  g_assert_cmpstr (u->home, ==, "/home/tester");
  g_assert_cmpuint (u->groups->len, ==, 2);
  g_assert_cmpuint (g_array_index (u->groups, gid_t, 0), ==, 10);
  g_assert_cmpuint (g_array_index (u->groups, gid_t, 1), ==, 44);
}

static void
test_user_numeric (void)
{
  g_autoptr(RrunUser) u = NULL;
  g_autoptr(RrunUser) v = NULL;
  g_autoptr(RrunUser) r = NULL;
  g_autoptr(GError) error = NULL;

  /* Known uid: gid and home from passwd. Unknown uid: gid 0, home "/" (docker). */
  g_assert_true (rrun_user_resolve ("1000", passwd, group, &u, &error));
  g_assert_cmpuint (u->gid, ==, 1000);
  g_assert_cmpstr (u->home, ==, "/home/tester");
  g_assert_true (rrun_user_resolve ("4242:4343", passwd, group, &v, &error));
  g_assert_cmpuint (v->uid, ==, 4242);
  g_assert_cmpuint (v->gid, ==, 4343);
  g_assert_cmpstr (v->home, ==, "/");
  g_assert_cmpuint (v->groups->len, ==, 0);
  g_assert_true (rrun_user_resolve (NULL, passwd, group, &r, &error));
  g_assert_cmpuint (r->uid, ==, 0);
  g_assert_cmpstr (r->home, ==, "/root");
}

static void
test_user_group_name_and_errors (void)
{
  g_autoptr(RrunUser) u = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (rrun_user_resolve ("tester:audio", passwd, group, &u, &error));
  g_assert_cmpuint (u->gid, ==, 29);
  g_assert_cmpuint (u->groups->len, ==, 0);
  g_assert_false (rrun_user_resolve ("nobody", passwd, group, &u, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_NOT_FOUND);
  g_assert_true (g_str_has_prefix (error->message, "cannot find user \"nobody\""));
  g_assert_nonnull (strstr (error->message, "\nhint: "));
  g_clear_error (&error);
  g_assert_false (rrun_user_resolve ("tester:nogroup", passwd, group, &u, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (rrun_user_resolve ("tester:", passwd, group, &u, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* No passwd file at all: numeric ids still work. */
  g_clear_pointer (&u, rrun_user_free);
  g_assert_true (rrun_user_resolve ("5", NULL, NULL, &u, &error));
  g_assert_cmpuint (u->uid, ==, 5);
}

static void
test_argv_rules (void)
{
  char *ep[] = { (char *) "/entry", (char *) "-x", NULL };
  char *cmd[] = { (char *) "default", NULL };
  char *args[] = { (char *) "mine", (char *) "arg", NULL };
  char *none[] = { NULL };
  g_auto(GStrv) a = NULL, b = NULL, c = NULL, d = NULL;
  g_autoptr(GError) error = NULL;

  g_autofree char *joined = NULL;

  g_assert_true (rrun_spec_build_argv (ep, cmd, NULL, none, &a, &error));
  joined = g_strjoinv (" ", a);
  g_assert_cmpstr (joined, ==, "/entry -x default");
  g_assert_true (rrun_spec_build_argv (ep, cmd, NULL, args, &b, &error));
  g_assert_cmpstr (b[2], ==, "mine");
  g_assert_cmpuint (g_strv_length (b), ==, 4);
  /* --entrypoint replaces Entrypoint and drops Cmd. */
  g_assert_true (rrun_spec_build_argv (ep, cmd, "/bin/other", none, &c, &error));
  g_assert_cmpuint (g_strv_length (c), ==, 1);
  /* An empty --entrypoint clears it. */
  g_assert_true (rrun_spec_build_argv (ep, cmd, "", args, &d, &error));
  g_assert_cmpstr (d[0], ==, "mine");
  g_assert_false (rrun_spec_build_argv (NULL, NULL, NULL, none, &a, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
}

static void
test_env_merge (void)
{
  char *image_env[] = { (char *) "PATH=/image/bin", (char *) "A=image", (char *) "B=image",
                        NULL };
  char *cli[] = { (char *) "A=cli", (char *) "FROM_HOST", (char *) "UNSET_ON_HOST",
                  (char *) "EMPTY=", NULL };
  char *host[] = { (char *) "FROM_HOST=yes", NULL };
  g_auto(GStrv) env = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *file = NULL;
  char *files[2] = { NULL, NULL };
  int fd = g_file_open_tmp ("rrun-env-XXXXXX", &file, NULL);

  close (fd);
  g_assert_true (g_file_set_contents (file, "# comment\nB=file\n\nC=with spaces \n", -1, NULL));
  files[0] = file;
  g_assert_true (rrun_spec_build_env (image_env, files, cli, host, "box", "/root", TRUE, &env,
                                      &error));
  g_assert_no_error (error);
  g_assert_cmpstr (rrun_spec_env_get (env, "PATH"), ==, "/image/bin");
  g_assert_cmpstr (rrun_spec_env_get (env, "HOSTNAME"), ==, "box");
  g_assert_cmpstr (rrun_spec_env_get (env, "A"), ==, "cli");
  g_assert_cmpstr (rrun_spec_env_get (env, "B"), ==, "file");
  g_assert_cmpstr (rrun_spec_env_get (env, "C"), ==, "with spaces ");
  g_assert_cmpstr (rrun_spec_env_get (env, "FROM_HOST"), ==, "yes");
  g_assert_null (rrun_spec_env_get (env, "UNSET_ON_HOST"));
  g_assert_cmpstr (rrun_spec_env_get (env, "EMPTY"), ==, "");
  g_assert_cmpstr (rrun_spec_env_get (env, "HOME"), ==, "/root");
  g_assert_cmpstr (rrun_spec_env_get (env, "TERM"), ==, "xterm");
  g_unlink (file);
}

static void
test_env_errors (void)
{
  char *bad[] = { (char *) "=x", NULL };
  char *files[] = { (char *) "/nonexistent/env", NULL };
  g_auto(GStrv) env = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (rrun_spec_build_env (NULL, NULL, bad, NULL, "h", "/", FALSE, &env, &error));
  g_assert_cmpstr (error->message, ==, "invalid environment variable \"=x\"");
  g_clear_error (&error);
  g_assert_false (rrun_spec_build_env (NULL, files, NULL, NULL, "h", "/", FALSE, &env, &error));
  g_assert_true (g_str_has_prefix (error->message, "cannot read env file \"/nonexistent/env\""));
}

/* issue 19: --env-file /dev/zero grew without bound; a NUL byte dropped the rest of the
   file silently; a control character reached the terminal raw. */
static void
test_env_file_bounded (void)
{
  char *zero[] = { (char *) "/dev/zero", NULL };
  g_autofree char *dir = g_dir_make_tmp ("rrun-env-XXXXXX", NULL);
  g_autofree char *nul = g_build_filename (dir, "nul", NULL);
  g_autofree char *esc = g_build_filename (dir, "esc", NULL);
  char *nul_files[] = { nul, NULL };
  char *esc_files[] = { esc, NULL };
  g_auto(GStrv) env = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *want = NULL;

  g_assert_false (rrun_spec_build_env (NULL, zero, NULL, NULL, "h", "/", FALSE, &env, &error));
  g_assert_cmpstr (error->message, ==,
                   "cannot read env file \"/dev/zero\": a character device, not a regular "
                   "file");
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (nul, "A=1\nB=2\0C=3\n", 12, NULL));
  g_assert_false (rrun_spec_build_env (NULL, nul_files, NULL, NULL, "h", "/", FALSE, &env,
                                       &error));
  want = g_strdup_printf ("cannot read env file \"%s\": line 2 holds a NUL byte", nul);
  g_assert_true (g_str_has_prefix (error->message, want));
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (esc, "A B\x1b[2J=1\n", -1, NULL));
  g_assert_false (rrun_spec_build_env (NULL, esc_files, NULL, NULL, "h", "/", FALSE, &env,
                                       &error));
  g_assert_null (strchr (error->message, '\x1b'));
  g_assert_true (strstr (error->message, "\"A B\\x1b[2J=1\"") != NULL);
}

/* issue 19: env files parsed in quadratic time (20k lines 3 s, 40k lines 12 s, so ~75 s
   for these 100,000 distinct variables). 100,000 distinct variables and 100,000 overrides
   of one: linear, well under the limit (even under ASan on a loaded machine). */
static void
test_env_file_linear (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rrun-env-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "env", NULL);
  char *files[] = { path, NULL };
  char *cli[] = { (char *) "V7=flag", NULL };
  g_autoptr(GString) text = g_string_new (NULL);
  g_auto(GStrv) env = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;
  double secs;

  for (guint i = 0; i < 100000; i++)
    g_string_append_printf (text, "V%u=%u\nSAME=%u\n", i, i, i);
  g_assert_true (g_file_set_contents (path, text->str, (gssize) text->len, NULL));
  start = g_get_monotonic_time ();
  g_assert_true (rrun_spec_build_env (NULL, files, cli, NULL, "h", "/", FALSE, &env, &error));
  secs = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  g_test_message ("100,000 + 100,000 lines: %.3f s", secs);
  g_assert_cmpfloat (secs, <, 10.0);
  /* PATH, HOSTNAME, V0..V99999 with SAME after V0 (its first place), HOME */
  g_assert_cmpuint (g_strv_length (env), ==, 100004);
  g_assert_cmpstr (env[2], ==, "V0=0");
  g_assert_cmpstr (env[3], ==, "SAME=99999");
  g_assert_cmpstr (rrun_spec_env_get (env, "V7"), ==, "flag");
  g_unlink (path);
}

/* --slurm-env: the job's variables come in where the image (and -e) set nothing */
static void
test_env_add_missing (void)
{
  char *image_env[] = { (char *) "LANG=C", (char *) "PATH=/opt/bin", NULL };
  char *host[] = { (char *) "PATH=/host/bin", (char *) "LANG=de_DE.UTF-8",
                   (char *) "SLURM_PROCID=1", (char *) "PMI_RANK=1", (char *) "=odd", NULL };
  g_auto(GStrv) env = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (rrun_spec_build_env (image_env, NULL, NULL, host, "h", "/", FALSE, &env,
                                      &error));
  rrun_spec_env_add_missing (&env, host);
  g_assert_cmpstr (rrun_spec_env_get (env, "PATH"), ==, "/opt/bin");
  g_assert_cmpstr (rrun_spec_env_get (env, "LANG"), ==, "C");
  g_assert_cmpstr (rrun_spec_env_get (env, "SLURM_PROCID"), ==, "1");
  g_assert_cmpstr (rrun_spec_env_get (env, "PMI_RANK"), ==, "1");
  g_assert_cmpstr (rrun_spec_env_get (env, "HOSTNAME"), ==, "h");
  /* PATH, HOSTNAME, LANG, HOME, SLURM_PROCID, PMI_RANK */
  g_assert_cmpuint (g_strv_length (env), ==, 6);
}

/* issue 19: a newline in --name or --hostname reached ps, state and /etc/hosts */
static void
test_name_and_hostname (void)
{
  static const char *const good_names[] = { "web", "a", "Web_1.x-y", "0abc", NULL };
  static const char *const bad_names[] = { "", "-web", ".web", "a\nb", "a b", "a/b", "é", NULL };
  static const char *const good_hosts[] = { "h", "web-1", "a.b.c", "0", "A-b.C9", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *label64 = g_strnfill (64, 'a');
  g_autofree char *label63 = g_strnfill (63, 'a');

  for (guint i = 0; good_names[i]; i++)
    g_assert_true (rrun_spec_check_name (good_names[i], NULL));
  for (guint i = 0; bad_names[i]; i++)
    g_assert_false (rrun_spec_check_name (bad_names[i], NULL));
  g_assert_false (rrun_spec_check_name ("a\nb", &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==,
                   "invalid container name \"a\\nb\": only [a-zA-Z0-9][a-zA-Z0-9_.-]* is "
                   "allowed");
  g_clear_error (&error);

  for (guint i = 0; good_hosts[i]; i++)
    g_assert_true (rrun_spec_check_hostname (good_hosts[i], NULL));
  g_assert_true (rrun_spec_check_hostname (label63, NULL));
#define BAD_HOST(h, why)                                                            \
  do                                                                                \
    {                                                                               \
      g_assert_false (rrun_spec_check_hostname (h, &error));                        \
      g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);              \
      g_assert_true (g_str_has_suffix (error->message, why));                       \
      g_clear_error (&error);                                                       \
    }                                                                               \
  while (0)
  BAD_HOST ("h\n1.2.3.4 evil", "\"h\\n1.2.3.4 evil\": only letters, digits, '-' and '.' are "
                               "allowed");
  BAD_HOST ("", "it is empty");
  BAD_HOST ("-h", "a label starts with '-'");
  BAD_HOST ("h-", "a label ends with '-'");
  BAD_HOST ("a..b", "a label is empty");
  BAD_HOST ("a.", "a label is empty");
  BAD_HOST ("a_b", "only letters, digits, '-' and '.' are allowed");
  BAD_HOST (label64, "a label is longer than 63 characters");
  BAD_HOST ("aaaaaaaaaa.aaaaaaaaaa.aaaaaaaaaa.aaaaaaaaaa.aaaaaaaaaa.aaaaaaaaaa.a",
            "longer than 64 characters");
#undef BAD_HOST
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/command/env-file-bounded", test_env_file_bounded);
  g_test_add_func ("/command/env-file-linear", test_env_file_linear);
  g_test_add_func ("/command/env-add-missing", test_env_add_missing);
  g_test_add_func ("/spec/user/by-name", test_user_by_name);
  g_test_add_func ("/spec/user/numeric", test_user_numeric);
  g_test_add_func ("/spec/user/group-name-and-errors", test_user_group_name_and_errors);
  g_test_add_func ("/spec/argv/rules", test_argv_rules);
  g_test_add_func ("/spec/env/merge", test_env_merge);
  g_test_add_func ("/spec/env/errors", test_env_errors);
  g_test_add_func ("/spec/name-and-hostname", test_name_and_hostname);
  return g_test_run ();
}
