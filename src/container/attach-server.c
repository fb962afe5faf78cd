/* The monitor's attach socket (container/attach.h): a thread of the monitor, all
   signals blocked as the log writer's, that accepts clients, copies the container's
   output to them (from the log writer's thread, rrun_attach_server_output) and their
   input to the container's stdin pipe or pty master. Nothing here may block: the
   container's output and the monitor's wait go on whatever clients do. */
#include "container/attach.h"
#include "error.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

typedef struct
{
  int fd;
  gboolean subscribed;
  gboolean dead;  /* closed and removed by the server's thread */
  GQueue queue;   /* GBytes packets not sent yet */
  gsize queued;   /* their bytes */
} Client;

struct _RrunAttachServer
{
  GMutex lock;
  gboolean tty, interactive;
  int listen_fd, next_listen_fd;
  int input_fd;          /* the stdin pipe's write end, or the pty master */
  int next_input_fd;
  gboolean input_changed;
  gboolean eof_pending;  /* a client closed stdin: close the pipe once drained */
  gboolean stdin_closed; /* it is: input_fd is /dev/null now */
  GByteArray *pending_in;
  GPtrArray *replay;     /* GBytes: this run's first output packets */
  gsize replay_len;
  GPtrArray *clients;
  int wake_fd;
  gboolean stopping;
  GThread *thread;
};

static void
client_free (Client *c)
{
  rrun_close_fdp (&c->fd);
  g_queue_clear_full (&c->queue, (GDestroyNotify) g_bytes_unref);
  g_free (c);
}

static void
wake (RrunAttachServer *s)
{
  guint64 one = 1;

  (void) !write (s->wake_fd, &one, sizeof one);
}

/* Send what a client has queued, as far as its socket takes it now. Lock held. */
static void
client_flush (Client *c)
{
  GBytes *b;

  while (!c->dead && (b = g_queue_peek_head (&c->queue)) != NULL)
    {
      gsize len;
      const char *data = g_bytes_get_data (b, &len);
      ssize_t n = send (c->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
      if (n < 0)
        {
          c->dead = TRUE;
          return;
        }
      g_queue_pop_head (&c->queue);
      c->queued -= len;
      g_bytes_unref (b);
    }
}

/* Queue a packet for a client; a client that lets too much pile up is dropped. */
static void
client_push (Client *c, GBytes *packet)
{
  if (c->dead)
    return;
  c->queued += g_bytes_get_size (packet);
  g_queue_push_tail (&c->queue, g_bytes_ref (packet));
  if (c->queued > RRUN_ATTACH_QUEUE_MAX)
    c->dead = TRUE;
}

static GBytes *
make_packet (char type, const char *data, gsize len)
{
  char *p = g_malloc (len + 1);

  p[0] = type;
  memcpy (p + 1, data, len);
  return g_bytes_new_take (p, len + 1);
}

void
rrun_attach_server_output (gpointer server, gboolean is_stderr, const char *data, gsize len)
{
  RrunAttachServer *s = server;
  gboolean need_wake = FALSE;

  g_mutex_lock (&s->lock);
  while (len > 0)
    {
      gsize n = MIN (len, RRUN_ATTACH_PACKET_MAX);
      g_autoptr(GBytes) packet
          = make_packet (is_stderr ? RRUN_ATTACH_STDERR : RRUN_ATTACH_STDOUT, data, n);

      if (s->replay_len + n <= RRUN_ATTACH_REPLAY_MAX)
        {
          g_ptr_array_add (s->replay, g_bytes_ref (packet));
          s->replay_len += n;
        }
      for (guint i = 0; i < s->clients->len; i++)
        {
          Client *c = s->clients->pdata[i];

          if (!c->subscribed)
            continue;
          client_push (c, packet);
          client_flush (c);
          /* Left over, or dead: the thread polls for POLLOUT or closes it. */
          if (c->dead || c->queued > 0)
            need_wake = TRUE;
        }
      data += n;
      len -= n;
    }
  g_mutex_unlock (&s->lock);
  if (need_wake)
    wake (s);
}

/* Write what clients sent to the container's stdin, as far as it takes it now. */
static void
flush_input (RrunAttachServer *s)
{
  while (s->pending_in->len > 0 && s->input_fd >= 0)
    {
      ssize_t n = write (s->input_fd, s->pending_in->data, s->pending_in->len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
      if (n < 0)
        {
          /* EIO: the terminal's other side is gone; the input is of no use. */
          g_byte_array_set_size (s->pending_in, 0);
          break;
        }
      g_byte_array_remove_range (s->pending_in, 0, (guint) n);
    }
  if (s->pending_in->len == 0 && s->eof_pending)
    {
      /* The container reads EOF: the monitor holds no other write end. /dev/null takes
         the fd's place, whose number the namespace holders of later runs close
         (RrunChildPlan's close_fds): it must not be reused for another file. */
      int null = open ("/dev/null", O_WRONLY | O_CLOEXEC);

      if (null < 0 || dup3 (null, s->input_fd, O_CLOEXEC) < 0)
        rrun_close_fdp (&s->input_fd);
      if (null >= 0)
        close (null);
      s->eof_pending = FALSE;
      s->stdin_closed = TRUE;
    }
}

static void
client_message (RrunAttachServer *s, Client *c)
{
  static __thread char buf[RRUN_ATTACH_PACKET_MAX + 64];
  ssize_t n = recv (c->fd, buf, sizeof buf, MSG_DONTWAIT);

  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return;
  if (n <= 0)
    {
      /* Gone (or killed): nothing else changes, the container goes on. */
      c->dead = TRUE;
      return;
    }
  switch (buf[0])
    {
    case RRUN_ATTACH_SUBSCRIBE:
      if (!c->subscribed && n >= 2 && buf[1] == 1)
        for (guint i = 0; i < s->replay->len; i++)
          client_push (c, s->replay->pdata[i]);
      c->subscribed = TRUE;
      client_flush (c);
      break;
    case RRUN_ATTACH_STDIN:
      if (s->interactive && s->input_fd >= 0 && !s->eof_pending && !s->stdin_closed)
        {
          g_byte_array_append (s->pending_in, (const guint8 *) buf + 1, (guint) (n - 1));
          flush_input (s);
        }
      break;
    case RRUN_ATTACH_STDIN_EOF:
      /* With a terminal, EOF is a byte the client sends (Ctrl-D); the pty stays. */
      if (!s->tty && s->interactive && s->input_fd >= 0 && !s->stdin_closed)
        {
          s->eof_pending = TRUE;
          flush_input (s);
        }
      break;
    case RRUN_ATTACH_RESIZE:
      if (s->tty && s->input_fd >= 0 && n >= 5)
        {
          struct winsize ws = { 0 };
          uint16_t rc[2];

          memcpy (rc, buf + 1, sizeof rc);
          ws.ws_row = rc[0];
          ws.ws_col = rc[1];
          if (ws.ws_row > 0 && ws.ws_col > 0)
            ioctl (s->input_fd, TIOCSWINSZ, &ws);
        }
      break;
    default:
      break; /* a newer client's message: ignored */
    }
}

static void
accept_client (RrunAttachServer *s)
{
  struct ucred cred;
  socklen_t len = sizeof cred;
  char hello[2] = { RRUN_ATTACH_HELLO, 0 };
  Client *c;
  int fd = accept4 (s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

  if (fd < 0)
    return;
  /* The socket is the user's (mode 0600 in a 0700 directory); the peer's uid is checked
     all the same. */
  if (getsockopt (fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != getuid ())
    {
      close (fd);
      return;
    }
  hello[1] = (char) ((s->tty ? RRUN_ATTACH_FLAG_TTY : 0)
                     | (s->interactive ? RRUN_ATTACH_FLAG_STDIN : 0));
  c = g_new0 (Client, 1);
  c->fd = fd;
  g_queue_init (&c->queue);
  {
    g_autoptr(GBytes) b = g_bytes_new (hello, sizeof hello);
    client_push (c, b);
  }
  client_flush (c);
  g_ptr_array_add (s->clients, c);
}

static gpointer
server_thread (gpointer data)
{
  RrunAttachServer *s = data;
  g_autofree struct pollfd *fds = NULL;
  guint cap = 0;

  g_mutex_lock (&s->lock);
  for (;;)
    {
      guint n = 0, first_client;
      int i_listen = -1, i_input = -1;

      if (s->stopping)
        break;
      if (s->next_listen_fd != -2)
        {
          rrun_close_fdp (&s->listen_fd);
          s->listen_fd = s->next_listen_fd;
          s->next_listen_fd = -2;
        }
      if (s->input_changed)
        {
          rrun_close_fdp (&s->input_fd);
          s->input_fd = s->next_input_fd;
          s->next_input_fd = -1;
          s->input_changed = FALSE;
          s->eof_pending = FALSE;
          g_byte_array_set_size (s->pending_in, 0);
        }
      for (guint i = s->clients->len; i-- > 0;)
        if (((Client *) s->clients->pdata[i])->dead)
          g_ptr_array_remove_index (s->clients, i);
      if (cap < s->clients->len + 3)
        {
          cap = s->clients->len + 16;
          fds = g_renew (struct pollfd, fds, cap);
        }
      fds[n++] = (struct pollfd){ s->wake_fd, POLLIN, 0 };
      if (s->listen_fd >= 0)
        {
          i_listen = (int) n;
          fds[n++] = (struct pollfd){ s->listen_fd, POLLIN, 0 };
        }
      if (s->input_fd >= 0 && s->pending_in->len > 0)
        {
          i_input = (int) n;
          fds[n++] = (struct pollfd){ s->input_fd, POLLOUT, 0 };
        }
      first_client = n;
      for (guint i = 0; i < s->clients->len; i++)
        {
          Client *c = s->clients->pdata[i];
          /* Input waiting for the container: read no more until it is taken. */
          short ev = s->pending_in->len > 0 ? 0 : POLLIN;

          if (c->queued > 0)
            ev |= POLLOUT;
          fds[n++] = (struct pollfd){ c->fd, ev, 0 };
        }
      g_mutex_unlock (&s->lock);
      if (poll (fds, n, -1) < 0 && errno != EINTR)
        {
          g_mutex_lock (&s->lock);
          break;
        }
      g_mutex_lock (&s->lock);
      if (fds[0].revents & POLLIN)
        {
          guint64 v;
          (void) !read (s->wake_fd, &v, sizeof v);
        }
      if (i_input >= 0 && fds[i_input].revents)
        flush_input (s);
      /* Clients polled are still the first ones of the array: only this thread removes
         them, and accept adds at the end. */
      for (guint i = first_client; i < n; i++)
        {
          Client *c = s->clients->pdata[i - first_client];

          if (fds[i].revents & POLLOUT)
            client_flush (c);
          if (fds[i].revents & POLLIN)
            client_message (s, c);
          else if (fds[i].revents & (POLLHUP | POLLERR | POLLNVAL))
            c->dead = TRUE;
        }
      if (i_listen >= 0 && (fds[i_listen].revents & POLLIN))
        accept_client (s);
    }
  g_mutex_unlock (&s->lock);
  return NULL;
}

gboolean
rrun_attach_server_new (gboolean tty, gboolean interactive, int stdin_fd,
                        RrunAttachServer **out_server, GError **error)
{
  RrunAttachServer *s = g_new0 (RrunAttachServer, 1);
  sigset_t all, old;

  g_mutex_init (&s->lock);
  s->tty = tty;
  s->interactive = interactive;
  s->listen_fd = -1;
  s->next_listen_fd = -2;
  s->input_fd = stdin_fd;
  s->next_input_fd = -1;
  if (stdin_fd >= 0)
    fcntl (stdin_fd, F_SETFL, fcntl (stdin_fd, F_GETFL) | O_NONBLOCK);
  s->pending_in = g_byte_array_new ();
  s->replay = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  s->clients = g_ptr_array_new_with_free_func ((GDestroyNotify) client_free);
  s->wake_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (s->wake_fd < 0)
    {
      int errsv = errno;
      rrun_attach_server_free (s);
      return rrun_throw_errno (error, errsv, "cannot create an eventfd");
    }
  /* As the log writer's: the monitor's signals go to its signalfd, not this thread. */
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  s->thread = g_thread_new ("attach", server_thread, s);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
  *out_server = s;
  return TRUE;
}

gboolean
rrun_attach_server_listen (RrunAttachServer *s, const char *run_dir, GError **error)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  rrun_autofd int dfd = -1;
  rrun_autofd int fd = -1;

  /* Through /proc/self/fd: a run dir path may be longer than sun_path's 108 bytes. */
  dfd = open (run_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return rrun_throw_errno (error, errno, "cannot open \"%s\"", run_dir);
  g_snprintf (addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dfd,
              RRUN_ATTACH_SOCKET);
  fd = socket (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot create the attach socket");
  unlink (addr.sun_path);
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    return rrun_throw_errno (error, errno, "cannot bind the attach socket in \"%s\"", run_dir);
  /* The run root is 0700 already; the socket itself is the user's only too. */
  if (chmod (addr.sun_path, 0600) < 0 || listen (fd, 16) < 0)
    return rrun_throw_errno (error, errno, "cannot listen on the attach socket in \"%s\"",
                             run_dir);
  g_mutex_lock (&s->lock);
  if (s->next_listen_fd >= 0)
    close (s->next_listen_fd);
  s->next_listen_fd = rrun_steal_fd (&fd);
  /* A new run: start -a -i replays its output from here. */
  g_ptr_array_set_size (s->replay, 0);
  s->replay_len = 0;
  g_mutex_unlock (&s->lock);
  wake (s);
  return TRUE;
}

void
rrun_attach_server_set_pty (RrunAttachServer *s, int pty_master)
{
  if (pty_master >= 0)
    fcntl (pty_master, F_SETFL, fcntl (pty_master, F_GETFL) | O_NONBLOCK);
  g_mutex_lock (&s->lock);
  if (s->input_changed)
    rrun_close_fdp (&s->next_input_fd);
  s->next_input_fd = pty_master;
  s->input_changed = TRUE;
  g_mutex_unlock (&s->lock);
  wake (s);
}

void
rrun_attach_server_free (RrunAttachServer *s)
{
  if (s == NULL)
    return;
  if (s->thread != NULL)
    {
      g_mutex_lock (&s->lock);
      s->stopping = TRUE;
      g_mutex_unlock (&s->lock);
      wake (s);
      g_thread_join (s->thread);
    }
  /* The container is gone: what is queued still goes to clients that read it within
     two seconds in all (a stopped client must not hold the exit up). */
  {
    gint64 deadline = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;

    for (guint i = 0; i < s->clients->len; i++)
      {
        Client *c = s->clients->pdata[i];

        client_flush (c);
        while (!c->dead && c->queued > 0)
          {
            gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
            struct pollfd p = { c->fd, POLLOUT, 0 };

            if (left <= 0 || poll (&p, 1, (int) left) <= 0)
              break;
            client_flush (c);
          }
      }
  }
  g_ptr_array_unref (s->clients);
  g_ptr_array_unref (s->replay);
  g_byte_array_unref (s->pending_in);
  rrun_close_fdp (&s->listen_fd);
  if (s->next_listen_fd >= 0)
    close (s->next_listen_fd);
  rrun_close_fdp (&s->input_fd);
  rrun_close_fdp (&s->next_input_fd);
  rrun_close_fdp (&s->wake_fd);
  g_mutex_clear (&s->lock);
  g_free (s);
}
