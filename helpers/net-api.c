/* The API socket: one JSON request per connection, one JSON reply, then the helper closes
   it (slirp4netns's protocol and names):
     {"execute": "add_hostfwd", "arguments": {"proto": "tcp"|"udp", "host_addr": "0.0.0.0",
                                              "host_port": 8080, "guest_port": 80}}
       -> {"return": {"id": 1, "host_port": 8080}}
     {"execute": "list_hostfwd"}                      -> {"return": {"entries": [...]}}
     {"execute": "remove_hostfwd", "arguments": {"id": 1}}  -> {"return": {}}
   An error is {"error": {"desc": "...", "errno": N}} (errno 0 when none applies). Every
   member is checked: unknown, missing or mistyped members are errors naming the member. */
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_REQUEST 65536

struct NetApi
{
  int listen_fd;
  char *path;
  NetFwd *fwd;
  guint poll_index;
};

static char *
reply_error (const char *desc, int errsv)
{
  GString *out = g_string_new ("{\"error\":{\"desc\":");

  rrun_json_write_string (out, desc);
  g_string_append_printf (out, ",\"errno\":%d}}", errsv);
  return g_string_free (out, FALSE);
}

/* {"return": VALUE}, VALUE already JSON text. */
static char *
reply_return (const char *value)
{
  return g_strdup_printf ("{\"return\":%s}", value);
}

/* Members must be among `allowed`. */
static gboolean
check_members (const RrunJson *o, const char *what, const char *const *allowed, GError **error)
{
  for (guint i = 0; i < rrun_json_size (o); i++)
    if (!g_strv_contains (allowed, rrun_json_member_name (o, i)))
      return net_throw (error, "%s: unknown member \"%s\"", what, rrun_json_member_name (o, i));
  return TRUE;
}

static gboolean
get_int (const RrunJson *o, const char *name, gboolean required, gint64 min, gint64 max,
         gint64 *out, GError **error)
{
  const RrunJson *n = rrun_json_member (o, name);

  if (n == NULL)
    {
      if (required)
        return net_throw (error, "arguments: missing member \"%s\"", name);
      return TRUE;
    }
  if (rrun_json_type (n) != RRUN_JSON_INT)
    return net_throw (error, "arguments: \"%s\" must be an integer", name);
  *out = rrun_json_int (n);
  if (*out < min || *out > max)
    return net_throw (error, "arguments: \"%s\" must be between %" G_GINT64_FORMAT
                      " and %" G_GINT64_FORMAT, name, min, max);
  return TRUE;
}

static gboolean
get_string (const RrunJson *o, const char *name, gboolean required, const char **out,
            GError **error)
{
  const RrunJson *n = rrun_json_member (o, name);

  if (n == NULL)
    {
      if (required)
        return net_throw (error, "arguments: missing member \"%s\"", name);
      return TRUE;
    }
  if (rrun_json_type (n) != RRUN_JSON_STRING)
    return net_throw (error, "arguments: \"%s\" must be a string", name);
  *out = rrun_json_string (n);
  return TRUE;
}

char *
net_api_handle_request (NetFwd *fwd, const char *text, gsize len)
{
  static const char *const top_members[] = { "execute", "arguments", NULL };
  static const char *const add_members[] = { "proto", "host_addr", "host_port", "guest_port",
                                             NULL };
  static const char *const remove_members[] = { "id", NULL };
  g_autoptr (RrunJson) req = NULL;
  g_autoptr (GError) error = NULL;
  const RrunJson *args;
  const char *execute = NULL;

  if ((req = rrun_json_parse (text, len, RRUN_JSON_UNIQUE_NAMES, &error)) == NULL)
    return reply_error (error->message, EINVAL);
  if (rrun_json_type (req) != RRUN_JSON_OBJECT)
    return reply_error ("the request must be a JSON object", EINVAL);
  if (!check_members (req, "request", top_members, &error)
      || !get_string (req, "execute", TRUE, &execute, &error))
    return reply_error (error->message, EINVAL);
  args = rrun_json_member (req, "arguments");
  if (args != NULL && rrun_json_type (args) != RRUN_JSON_OBJECT)
    return reply_error ("\"arguments\" must be an object", EINVAL);

  if (g_str_equal (execute, "add_hostfwd"))
    {
      const char *proto = NULL, *host_addr = NULL;
      gint64 host_port = -1, guest_port = -1;
      guint id, bound_port;
      int errsv = 0;
      g_autofree char *value = NULL;

      if (args == NULL)
        return reply_error ("add_hostfwd: missing member \"arguments\"", EINVAL);
      if (!check_members (args, "arguments", add_members, &error)
          || !get_string (args, "proto", TRUE, &proto, &error)
          || !get_string (args, "host_addr", FALSE, &host_addr, &error)
          || !get_int (args, "host_port", TRUE, 0, 65535, &host_port, &error)
          || !get_int (args, "guest_port", TRUE, 1, 65535, &guest_port, &error))
        return reply_error (error->message, EINVAL);
      if (!g_str_equal (proto, "tcp") && !g_str_equal (proto, "udp"))
        return reply_error ("arguments: \"proto\" must be \"tcp\" or \"udp\"", EINVAL);
      if (!net_fwd_add (fwd, g_str_equal (proto, "udp"), host_addr, (guint) host_port,
                        (guint) guest_port, &id, &bound_port, &errsv, &error))
        return reply_error (error->message, errsv);
      value = g_strdup_printf ("{\"id\":%u,\"host_port\":%u}", id, bound_port);
      return reply_return (value);
    }
  if (g_str_equal (execute, "remove_hostfwd"))
    {
      gint64 id = -1;

      if (args == NULL)
        return reply_error ("remove_hostfwd: missing member \"arguments\"", EINVAL);
      if (!check_members (args, "arguments", remove_members, &error)
          || !get_int (args, "id", TRUE, 1, G_MAXUINT32, &id, &error))
        return reply_error (error->message, EINVAL);
      if (!net_fwd_remove (fwd, (guint) id, &error))
        return reply_error (error->message, ENOENT);
      return reply_return ("{}");
    }
  if (g_str_equal (execute, "list_hostfwd"))
    {
      g_autoptr (GString) value = g_string_new ("{\"entries\":");

      if (args != NULL && rrun_json_size (args) != 0)
        return reply_error ("list_hostfwd takes no arguments", EINVAL);
      net_fwd_list (fwd, value);
      g_string_append_c (value, '}');
      return reply_return (value->str);
    }
  {
    g_autofree char *msg = g_strdup_printf ("unknown request \"%s\"", execute);
    return reply_error (msg, EINVAL);
  }
}

NetApi *
net_api_new (const char *path, NetFwd *fwd, GError **error)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  const char *bind_path = path;
  int fd, dirfd = -1;
  NetApi *api;

  /* A run directory can be longer than sun_path: bind through /proc/self/fd/N/name then. */
  if (strlen (path) >= sizeof sa.sun_path)
    {
      g_autofree char *via = NULL;

      dirfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (dirfd < 0)
        {
          net_throw_errno (error, errno, "cannot open \"%s\"", dir);
          return NULL;
        }
      via = g_strdup_printf ("/proc/self/fd/%d/%s", dirfd, base);
      if (strlen (via) >= sizeof sa.sun_path)
        {
          close (dirfd);
          net_throw (error, "cannot bind \"%s\": the name is too long", path);
          return NULL;
        }
      memcpy (sa.sun_path, via, strlen (via) + 1);
    }
  else
    memcpy (sa.sun_path, bind_path, strlen (bind_path) + 1);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0 || bind (fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen (fd, 16) < 0)
    {
      int errsv = errno;
      if (fd >= 0)
        close (fd);
      if (dirfd >= 0)
        close (dirfd);
      net_throw_errno (error, errsv, "cannot listen on \"%s\"", path);
      return NULL;
    }
  if (dirfd >= 0)
    close (dirfd);
  api = g_new0 (NetApi, 1);
  api->listen_fd = fd;
  api->path = g_strdup (path);
  api->fwd = fwd;
  return api;
}

void
net_api_free (NetApi *api)
{
  if (api == NULL)
    return;
  close (api->listen_fd);
  /* The socket file goes with the run directory; unlinking needs the file system, which
     the sandbox may have taken away. */
  g_free (api->path);
  g_free (api);
}

void
net_api_add_pollfds (NetApi *api, GArray *pollfds)
{
  GPollFD pfd = { .fd = api->listen_fd, .events = G_IO_IN };

  api->poll_index = pollfds->len;
  g_array_append_val (pollfds, pfd);
}

static void
serve_one (NetApi *api, int fd)
{
  struct timeval tv = { .tv_sec = 2 };
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  g_autofree char *reply = NULL;
  char chunk[4096];

  /* A stuck client must not stall the packet loop for long. */
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  while (buf->len < MAX_REQUEST)
    {
      ssize_t n = recv (fd, chunk, sizeof chunk, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return;
      if (n == 0)
        break;
      g_byte_array_append (buf, (guint8 *) chunk, (guint) n);
      if (memchr (chunk, '\n', (gsize) n) != NULL)
        break;
    }
  reply = net_api_handle_request (api->fwd, (const char *) buf->data, buf->len);
  {
    g_autofree char *line = g_strconcat (reply, "\n", NULL);
    gsize len = strlen (line), off = 0;

    while (off < len)
      {
        ssize_t n = send (fd, line + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
          continue;
        if (n <= 0)
          return;
        off += (gsize) n;
      }
  }
}

void
net_api_dispatch (NetApi *api, const GPollFD *pollfds, guint n)
{
  if (api->poll_index >= n || !(pollfds[api->poll_index].revents & G_IO_IN))
    return;
  for (guint i = 0; i < 16; i++)
    {
      int fd = accept4 (api->listen_fd, NULL, NULL, SOCK_CLOEXEC);

      if (fd < 0)
        return;
      serve_one (api, fd);
      close (fd);
    }
}
