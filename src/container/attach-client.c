/* The client's side of the attach socket (container/attach.h): rrun attach and
   rrun start -a -i. With the container's terminal, the local one is put in raw mode,
   its window size follows (SIGWINCH), and the detach keys leave the container running;
   without, output is split back into stdout and stderr, stdin's EOF closes the
   container's stdin, and signals may be passed on to PID 1. */
#include "container/attach.h"
#include "error.h"
#include "process/tty.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#define DETACH_KEYS_MAX 16

gboolean
rrun_attach_parse_detach_keys (const char *text, GByteArray **out_keys, GError **error)
{
  g_autoptr(GByteArray) keys = g_byte_array_new ();
  g_auto(GStrv) parts = NULL;

  if (*text == '\0')
    {
      *out_keys = g_steal_pointer (&keys);
      return TRUE;
    }
  parts = g_strsplit (text, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      const char *p = parts[i];
      int b = -1;

      if (strlen (p) == 1)
        b = (guchar) p[0];
      else if (strlen (p) == 6 && g_ascii_strncasecmp (p, "ctrl-", 5) == 0)
        {
          char x = g_ascii_tolower (p[5]);

          if (x >= 'a' && x <= 'z')
            b = x - 'a' + 1;
          else if (x == '@' || (x >= '[' && x <= '_'))
            b = x & 0x1f; /* @ [ \ ] ^ _: 0, 27 to 31 */
        }
      if (b < 0 || keys->len >= DETACH_KEYS_MAX)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid --detach-keys \"%s\": %s",
                      text,
                      b < 0 ? "each key is ctrl-X (X a letter or one of @[\\]^_) or one character"
                            : "at most 16 keys");
          rrun_add_hint (error, "keys are separated by commas: --detach-keys ctrl-p,ctrl-q "
                                "(the default), or --detach-keys \"\" for none");
          return FALSE;
        }
      g_byte_array_append (keys, (const guint8 *) &(guint8){ (guint8) b }, 1);
    }
  *out_keys = g_steal_pointer (&keys);
  return TRUE;
}

gboolean
rrun_attach_connect (const char *run_dir, int *out_fd, GError **error)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  rrun_autofd int dfd = -1;
  rrun_autofd int fd = -1;

  /* Through /proc/self/fd: a run dir path may be longer than sun_path's 108 bytes. */
  dfd = open (run_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 && errno == ENOENT)
    return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "no run dir \"%s\"", run_dir);
  if (dfd < 0)
    return rrun_throw_errno (error, errno, "cannot open \"%s\"", run_dir);
  g_snprintf (addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dfd,
              RRUN_ATTACH_SOCKET);
  fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot create a socket");
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    {
      if (errno == ENOENT || errno == ECONNREFUSED)
        return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "no attach socket in \"%s\"", run_dir);
      return rrun_throw_errno (error, errno, "cannot connect to the attach socket in \"%s\"",
                               run_dir);
    }
  *out_fd = rrun_steal_fd (&fd);
  return TRUE;
}

static gboolean
send_packet (int fd, char type, const void *data, gsize len)
{
  char buf[RRUN_ATTACH_PACKET_MAX + 1];

  g_assert (len <= RRUN_ATTACH_PACKET_MAX);
  buf[0] = type;
  if (len > 0)
    memcpy (buf + 1, data, len);
  for (;;)
    {
      ssize_t n = send (fd, buf, len + 1, MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      return n >= 0;
    }
}

/* The local terminal's size to the container's pty. */
static void
send_winsize (int fd)
{
  struct winsize ws;

  if (ioctl (STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 && ioctl (STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
    return;
  if (ws.ws_row > 0 && ws.ws_col > 0)
    {
      uint16_t rc[2] = { ws.ws_row, ws.ws_col };
      send_packet (fd, RRUN_ATTACH_RESIZE, rc, sizeof rc);
    }
}

gboolean
rrun_attach_filter_keys (const GByteArray *keys, guint *matched, const char *in, gsize len,
                         GByteArray *out)
{
  for (gsize i = 0; i < len; i++)
    {
      guint8 b = (guint8) in[i];

      if (b == keys->data[*matched])
        {
          if (++*matched == keys->len)
            return TRUE;
          continue;
        }
      if (*matched > 0)
        {
          g_byte_array_append (out, keys->data, *matched);
          *matched = 0;
          if (b == keys->data[0])
            {
              if (++*matched == keys->len)
                return TRUE;
              continue;
            }
        }
      g_byte_array_append (out, &b, 1);
    }
  return FALSE;
}

gboolean
rrun_attach_run (int fd, const RrunAttachOptions *o, RrunAttachEnd *out_end, GError **error)
{
  static const int proxied[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
  char buf[RRUN_ATTACH_PACKET_MAX + 64];
  char hello[2];
  struct pollfd p = { fd, POLLIN, 0 };
  gboolean tty, send_stdin, detached = FALSE, ok = TRUE;
  RrunAttachEnd end = RRUN_ATTACH_ENDED;
  sigset_t set, old;
  rrun_autofd int sigfd = -1;
  RrunTty term = { 0 };
  guint matched = 0;
  char sub[1];
  ssize_t n;

  /* The monitor says hello as it accepts. */
  if (poll (&p, 1, 10000) <= 0 || recv (fd, hello, sizeof hello, 0) != 2
      || hello[0] != RRUN_ATTACH_HELLO)
    return rrun_throw (error, RRUN_ERROR_FAILED,
                       "the container's monitor did not answer on its attach socket");
  tty = (hello[1] & RRUN_ATTACH_FLAG_TTY) != 0;
  send_stdin = (hello[1] & RRUN_ATTACH_FLAG_STDIN) != 0 && !o->no_stdin;
  sub[0] = o->replay ? 1 : 0;
  if (!send_packet (fd, RRUN_ATTACH_SUBSCRIBE, sub, 1))
    return rrun_throw_errno (error, errno, "cannot write to the attach socket");

  sigemptyset (&set);
  if (tty)
    {
      /* The terminal is raw: these end the attach (the container goes on), with the
         terminal restored. */
      sigaddset (&set, SIGWINCH);
      sigaddset (&set, SIGTERM);
      sigaddset (&set, SIGHUP);
      sigaddset (&set, SIGINT);
    }
  /* With a terminal, Ctrl-C is a byte for the container's pty (docker proxies no
     signals then). */
  if (!tty && o->sig_proxy_pidfd >= 0)
    for (guint i = 0; i < G_N_ELEMENTS (proxied); i++)
      sigaddset (&set, proxied[i]);
  sigprocmask (SIG_BLOCK, &set, &old);
  sigfd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sigfd < 0)
    {
      sigprocmask (SIG_SETMASK, &old, NULL);
      return rrun_throw_errno (error, errno, "cannot create a signalfd");
    }
  if (tty && send_stdin && !rrun_tty_make_raw (&term, STDIN_FILENO, error))
    {
      sigprocmask (SIG_SETMASK, &old, NULL);
      return FALSE;
    }
  if (tty)
    send_winsize (fd);

  for (;;)
    {
      struct pollfd fds[3] = {
        { fd, POLLIN, 0 },
        { sigfd, POLLIN, 0 },
        { send_stdin ? STDIN_FILENO : -1, POLLIN, 0 },
      };

      if (poll (fds, 3, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          ok = rrun_throw_errno (error, errno, "poll");
          break;
        }
      if (fds[1].revents & POLLIN)
        {
          struct signalfd_siginfo si;

          while (!detached && read (sigfd, &si, sizeof si) == (ssize_t) sizeof si)
            if (si.ssi_signo == SIGWINCH)
              send_winsize (fd);
            else if (tty)
              {
                detached = TRUE;
                end = RRUN_ATTACH_SIGNALLED;
              }
            else if (o->sig_proxy_pidfd >= 0)
              syscall (SYS_pidfd_send_signal, o->sig_proxy_pidfd, (int) si.ssi_signo, NULL, 0);
          if (detached)
            break;
        }
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
        {
          n = recv (fd, buf, sizeof buf, MSG_DONTWAIT);
          if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
          if (n <= 0)
            break; /* the monitor is done: the container has exited */
          if (buf[0] == RRUN_ATTACH_STDOUT || buf[0] == RRUN_ATTACH_STDERR)
            rrun_fd_write_all (buf[0] == RRUN_ATTACH_STDERR && !tty ? STDERR_FILENO
                                                                    : STDOUT_FILENO,
                               buf + 1, (gsize) n - 1, NULL);
        }
      if (fds[2].revents & (POLLIN | POLLHUP | POLLERR))
        {
          n = read (STDIN_FILENO, buf, RRUN_ATTACH_PACKET_MAX);
          if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
          if (n <= 0)
            {
              /* Without a terminal, EOF closes the container's stdin (docker's run -i). */
              send_stdin = FALSE;
              if (!tty)
                send_packet (fd, RRUN_ATTACH_STDIN_EOF, NULL, 0);
              continue;
            }
          if (tty && o->detach_keys != NULL && o->detach_keys->len > 0)
            {
              g_autoptr(GByteArray) out = g_byte_array_new ();

              detached = rrun_attach_filter_keys (o->detach_keys, &matched, buf, (gsize) n, out);
              for (guint off = 0; off < out->len; off += RRUN_ATTACH_PACKET_MAX)
                send_packet (fd, RRUN_ATTACH_STDIN, out->data + off,
                             MIN (out->len - off, RRUN_ATTACH_PACKET_MAX));
              if (detached)
                {
                  end = RRUN_ATTACH_DETACHED;
                  break;
                }
            }
          else
            send_packet (fd, RRUN_ATTACH_STDIN, buf, (gsize) n);
        }
    }
  rrun_tty_restore (&term);
  sigprocmask (SIG_SETMASK, &old, NULL);
  if (ok)
    *out_end = end;
  return ok;
}
