/* The attach socket (container/attach.h): detach keys, and the monitor's server against
   a client, with no container: a pipe stands for its stdin. */
#include "container/attach.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void
test_parse_keys (void)
{
  g_autoptr(GByteArray) k = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (rrun_attach_parse_detach_keys ("ctrl-p,ctrl-q", &k, NULL));
  g_assert_cmpmem (k->data, k->len, "\x10\x11", 2);
  g_clear_pointer (&k, g_byte_array_unref);
  g_assert_true (rrun_attach_parse_detach_keys ("", &k, NULL));
  g_assert_cmpuint (k->len, ==, 0);
  g_clear_pointer (&k, g_byte_array_unref);
  g_assert_true (rrun_attach_parse_detach_keys ("CTRL-A,x,ctrl-@,ctrl-[,ctrl-_", &k, NULL));
  g_assert_cmpmem (k->data, k->len, "\x01x\x00\x1b\x1f", 5);
  g_clear_pointer (&k, g_byte_array_unref);
  g_assert_false (rrun_attach_parse_detach_keys ("ctrl-1", &k, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==,
                   "invalid --detach-keys \"ctrl-1\": each key is ctrl-X (X a letter or one "
                   "of @[\\]^_) or one character\nhint: keys are separated by commas: "
                   "--detach-keys ctrl-p,ctrl-q (the default), or --detach-keys \"\" for none");
  g_clear_error (&error);
  g_assert_false (rrun_attach_parse_detach_keys ("a,,b", &k, &error));
  g_clear_error (&error);
  g_assert_false (rrun_attach_parse_detach_keys ("ab", &k, &error));
  g_assert_null (k);
}

static void
test_filter_keys (void)
{
  g_autoptr(GByteArray) k = NULL;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  guint matched = 0;

  g_assert_true (rrun_attach_parse_detach_keys ("ctrl-p,ctrl-q", &k, NULL));
  /* ctrl-p held back, then sent on with the byte that breaks the sequence */
  g_assert_false (rrun_attach_filter_keys (k, &matched, "ab\x10", 3, out));
  g_assert_cmpmem (out->data, out->len, "ab", 2);
  g_assert_cmpuint (matched, ==, 1);
  g_assert_false (rrun_attach_filter_keys (k, &matched, "c", 1, out));
  g_assert_cmpmem (out->data, out->len, "ab\x10" "c", 4);
  /* ctrl-p ctrl-p: the first goes, the second may begin the sequence */
  g_byte_array_set_size (out, 0);
  g_assert_false (rrun_attach_filter_keys (k, &matched, "\x10\x10", 2, out));
  g_assert_cmpmem (out->data, out->len, "\x10", 1);
  /* completed across two reads */
  g_assert_true (rrun_attach_filter_keys (k, &matched, "\x11", 1, out));
  g_assert_cmpmem (out->data, out->len, "\x10", 1);
}

/* One packet from fd, within 5 s. */
static gssize
recv_packet (int fd, char *buf, gsize size)
{
  struct pollfd p = { fd, POLLIN, 0 };

  if (poll (&p, 1, 5000) <= 0)
    return -1;
  return recv (fd, buf, size, 0);
}

static void
test_server (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("rrun-attach-XXXXXX", NULL);
  /* A run dir past sun_path's 108 bytes: bound and reached through /proc/self/fd. */
  g_autofree char *dir = g_build_filename (tmp, "a-directory-name-long-enough-to-pass-the-"
                                           "limit-of-sun-path-in-struct-sockaddr-un-108-b",
                                           NULL);
  g_autofree char *sock_path = g_build_filename (dir, RRUN_ATTACH_SOCKET, NULL);
  RrunAttachServer *server = NULL;
  int in[2], c1 = -1, c2 = -1;
  char buf[256];
  gssize n;

  g_assert_cmpint (mkdir (dir, 0700), ==, 0);
  g_assert_cmpuint (strlen (sock_path), >, 108);
  g_assert_cmpint (pipe2 (in, O_CLOEXEC), ==, 0);
  g_assert_true (rrun_attach_server_new (FALSE, TRUE, in[1], &server, &error));
  g_assert_no_error (error);
  g_assert_true (rrun_attach_server_listen (server, dir, &error));
  rrun_attach_server_output (server, FALSE, "early\n", 6);
  /* listen is taken by the thread: retry the connect briefly */
  for (int i = 0; i < 100 && !rrun_attach_connect (dir, &c1, NULL); i++)
    g_usleep (10000);
  g_assert_cmpint (c1, >=, 0);
  g_assert_true (rrun_attach_connect (dir, &c2, NULL));
  g_assert_cmpint (recv_packet (c1, buf, sizeof buf), ==, 2);
  g_assert_cmpint (buf[0], ==, RRUN_ATTACH_HELLO);
  g_assert_cmpint (buf[1], ==, RRUN_ATTACH_FLAG_STDIN);
  g_assert_cmpint (recv_packet (c2, buf, sizeof buf), ==, 2);
  /* c1 asks for the replay, c2 for output from now on */
  g_assert_cmpint (send (c1, "s\x01", 2, 0), ==, 2);
  g_assert_cmpint (send (c2, "s\x00", 2, 0), ==, 2);
  n = recv_packet (c1, buf, sizeof buf);
  g_assert_cmpmem (buf, n, "1early\n", 7);
  /* c2 is subscribed once its next message is taken (one thread reads a client's
     messages in order): its input on the pipe says so, with no guess at a delay. */
  g_assert_cmpint (send (c2, "isync", 5, 0), ==, 5);
  n = read (in[0], buf, sizeof buf);
  g_assert_cmpmem (buf, n, "sync", 4);
  rrun_attach_server_output (server, TRUE, "err", 3);
  n = recv_packet (c1, buf, sizeof buf);
  g_assert_cmpmem (buf, n, "2err", 4);
  n = recv_packet (c2, buf, sizeof buf);
  g_assert_cmpmem (buf, n, "2err", 4);
  /* input reaches the pipe; a client's going does not close it; EOF does */
  g_assert_cmpint (send (c2, "ihello", 6, 0), ==, 6);
  n = read (in[0], buf, sizeof buf);
  g_assert_cmpmem (buf, n, "hello", 5);
  close (c2);
  g_assert_cmpint (send (c1, "iworld", 6, 0), ==, 6);
  n = read (in[0], buf, sizeof buf);
  g_assert_cmpmem (buf, n, "world", 5);
  g_assert_cmpint (send (c1, "e", 1, 0), ==, 1);
  g_assert_cmpint (read (in[0], buf, sizeof buf), ==, 0);
  /* the end: the client reads EOF */
  rrun_attach_server_free (server);
  g_assert_cmpint (recv_packet (c1, buf, sizeof buf), ==, 0);
  close (c1);
  close (in[0]);
  unlink (sock_path);
  rmdir (dir);
  rmdir (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/attach/parse-detach-keys", test_parse_keys);
  g_test_add_func ("/attach/filter-keys", test_filter_keys);
  g_test_add_func ("/attach/server", test_server);
  return g_test_run ();
}
