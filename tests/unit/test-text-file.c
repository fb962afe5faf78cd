/* issue 19: the one bounded reader of the text files rrun reads. */
#include "error.h"
#include "util/text-file.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *
write_tmp (const char *name, const char *data, gsize len)
{
  g_autofree char *dir = g_dir_make_tmp ("rrun-text-XXXXXX", NULL);
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, data, (gssize) len, NULL));
  return path;
}

static void
test_regular (void)
{
  g_autofree char *path = write_tmp ("ok", "A=1\nB=é\n", 9);
  g_autofree char *text = NULL;
  gsize len = 0;

  g_assert_true (rrun_text_file_read (path, "env file", 100, RRUN_TEXT_FILE_DEFAULT, &text,
                                      &len, NULL));
  g_assert_cmpstr (text, ==, "A=1\nB=é\n");
  g_assert_cmpuint (len, ==, 9);
}

static void
test_missing (void)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (rrun_text_file_read ("/nonexistent/x", "env file", 100,
                                       RRUN_TEXT_FILE_DEFAULT, &text, NULL, &error));
  g_assert_error (error, RRUN_ERRNO_ERROR, ENOENT);
  g_assert_cmpstr (error->message, ==,
                   "cannot read env file \"/nonexistent/x\": No such file or directory");
}

/* issue 19: --env-file /dev/zero grew without bound (3.5 GB in 5 s) */
static void
test_device_refused (void)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (rrun_text_file_read ("/dev/zero", "env file", 100, RRUN_TEXT_FILE_ALLOW_PIPE,
                                       &text, NULL, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==,
                   "cannot read env file \"/dev/zero\": a character device, not a regular "
                   "file");
  g_clear_error (&error);
  g_assert_false (rrun_text_file_read ("/", "config", 100, 0, &text, NULL, &error));
  g_assert_cmpstr (error->message, ==,
                   "cannot read config \"/\": a directory, not a regular file");
}

/* A FIFO is refused at once (no wait for a writer) unless allowed. */
static void
test_fifo (void)
{
  g_autofree char *dir = g_dir_make_tmp ("rrun-text-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "fifo", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (mkfifo (path, 0600), ==, 0);
  g_assert_false (rrun_text_file_read (path, "config", 100, 0, &text, NULL, &error));
  g_assert_true (g_str_has_suffix (error->message, ": a pipe, not a regular file"));
  g_unlink (path);
}

/* A pipe (--env-file <(cmd)) is read when allowed, up to the limit. */
static void
test_pipe (void)
{
  int fds[2];
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  char big[200];

  g_assert_cmpint (pipe (fds), ==, 0);
  g_assert_cmpint (write (fds[1], "A=1\n", 4), ==, 4);
  close (fds[1]);
  path = g_strdup_printf ("/proc/self/fd/%d", fds[0]);
  g_assert_true (rrun_text_file_read (path, "env file", 100, RRUN_TEXT_FILE_ALLOW_PIPE, &text,
                                      NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "A=1\n");
  close (fds[0]);
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&path, g_free);

  memset (big, 'a', sizeof big);
  g_assert_cmpint (pipe (fds), ==, 0);
  g_assert_cmpint (write (fds[1], big, sizeof big), ==, sizeof big);
  close (fds[1]);
  path = g_strdup_printf ("/proc/self/fd/%d", fds[0]);
  g_assert_false (rrun_text_file_read (path, "env file", 100, RRUN_TEXT_FILE_ALLOW_PIPE, &text,
                                       NULL, &error));
  g_assert_true (g_str_has_suffix (error->message, ": larger than 100 bytes"));
  close (fds[0]);
}

static void
test_too_big (void)
{
  g_autofree char *path = write_tmp ("big", "0123456789", 10);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (rrun_text_file_read (path, "config", 10, 0, &text, NULL, NULL));
  g_clear_pointer (&text, g_free);
  g_assert_false (rrun_text_file_read (path, "config", 9, 0, &text, NULL, &error));
  g_assert_true (g_str_has_suffix (error->message, ": larger than 9 bytes"));
}

/* issue 19: a NUL byte silently dropped the rest of an env file; an ELF binary was
   accepted; a random binary file printed raw bytes to the terminal. */
static void
test_nul_and_utf8 (void)
{
  static const char nul[] = "A=1\nB=2\nC=\0x\nD=4\n";
  static const char bad[] = "A=1\nB=\xff\xfe\n";
  static const char elf[] = "\x7f" "ELF\x02\x01\x01\0\0\0";
  g_autofree char *pnul = write_tmp ("nul", nul, sizeof nul - 1);
  g_autofree char *pbad = write_tmp ("bad\x1b[31m", bad, sizeof bad - 1);
  g_autofree char *pelf = write_tmp ("elf", elf, sizeof elf - 1);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *want = NULL;
  g_autofree char *dir = NULL;

  g_assert_false (rrun_text_file_read (pnul, "env file", 100, 0, &text, NULL, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  want = g_strdup_printf ("cannot read env file \"%s\": line 3 holds a NUL byte\nhint: ", pnul);
  g_assert_true (g_str_has_prefix (error->message, want));
  g_clear_error (&error);
  g_clear_pointer (&want, g_free);

  /* the path's escape sequence is shown escaped */
  g_assert_false (rrun_text_file_read (pbad, "env file", 100, 0, &text, NULL, &error));
  dir = g_path_get_dirname (pbad);
  want = g_strdup_printf ("cannot read env file \"%s/bad\\x1b[31m\": line 2 is not valid UTF-8",
                          dir);
  g_assert_true (g_str_has_prefix (error->message, want));
  g_clear_error (&error);

  g_assert_false (rrun_text_file_read (pelf, "env file", 100, 0, &text, NULL, &error));
  g_assert_true (strstr (error->message, ": line 1 holds a NUL byte") != NULL);
  g_clear_error (&error);

  /* an image's file may hold Latin-1, never a NUL */
  g_assert_true (rrun_text_file_read (pbad, "passwd", 100, RRUN_TEXT_FILE_ANY_BYTES, &text,
                                      NULL, NULL));
  g_clear_pointer (&text, g_free);
  g_assert_false (rrun_text_file_read (pnul, "passwd", 100, RRUN_TEXT_FILE_ANY_BYTES, &text,
                                       NULL, &error));
  g_assert_true (strstr (error->message, ": line 3 holds a NUL byte") != NULL);
}

static void
test_escape (void)
{
  g_autofree char *a = rrun_text_escape ("a\x1b[31m\n\t\\ \xff é \xc2\x9b", -1);
  g_autofree char *b = rrun_text_escape ("x\0y", 3);

  g_assert_cmpstr (a, ==, "a\\x1b[31m\\n\\t\\\\ \\xff é \\u009b");
  g_assert_cmpstr (b, ==, "x\\x00y");
}

/* every message printed: the hint lines stay, an escape sequence does not reach the
   terminal, text escaped already is not escaped twice */
static void
test_escape_lines (void)
{
  g_autofree char *a = rrun_text_escape_lines ("bad \x1b[2J \\x1b\nhint: \ttab\r");

  g_assert_cmpstr (a, ==, "bad \\x1b[2J \\x1b\nhint: \\ttab\\r");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/text-file/regular", test_regular);
  g_test_add_func ("/text-file/missing", test_missing);
  g_test_add_func ("/text-file/device-refused", test_device_refused);
  g_test_add_func ("/text-file/fifo", test_fifo);
  g_test_add_func ("/text-file/pipe", test_pipe);
  g_test_add_func ("/text-file/too-big", test_too_big);
  g_test_add_func ("/text-file/nul-and-utf8", test_nul_and_utf8);
  g_test_add_func ("/text-file/escape", test_escape);
  g_test_add_func ("/text-file/escape-lines", test_escape_lines);
  return g_test_run ();
}
