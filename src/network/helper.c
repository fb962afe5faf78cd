/* Starts helpers/rrun-net, owns its fds, publishes ports through its API socket, and stops
   it. Lifetime: the helper holds the read end of an exit pipe whose write end only this
   process has (O_CLOEXEC, so the container never inherits it): when rrun exits or is
   SIGKILLed it hangs up. The helper also sets PR_SET_PDEATHSIG and watches the container's
   pid through a pidfd. */
#include "network/network.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "util/own-program.h"
#include "util/fd.h"
#include "util/json-value.h"

#define READY_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 2000

struct RrunNetwork
{
  RrunNetworkMode mode;
  GPid pid;
  int exit_fd;  /* write end; closing it stops the helper */
  int pid_fd;   /* write end: the container's pid goes here (rrun_network_attach) */
  gboolean pid_sent; /* the helper has the pid: wait for its "ready" */
  int ready_fd; /* read end: "1" once tap0 is up, EOF when the helper failed */
  char *run_dir;
  char *log_path;
  GArray *ports; /* RrunPortMapping, host ports as bound */
};

char *
rrun_network_find_helper (GError **error)
{
  char *path = rrun_find_own_program ("rrun-net", "RRUN_NET", "the network helper", error);

  if (path == NULL)
    rrun_add_hint (error, "install rrun completely, set RRUN_NET, or use --network none");
  return path;
}

/* ---- who holds a port ---- */

static guint64
listening_inode (const char *table, guint port, gboolean udp)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (table, &text, NULL, NULL))
    return 0;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 1; lines[i] != NULL; i++)
    {
      char local[128], remote[128];
      unsigned int st, lport;
      unsigned long long inode;
      const char *colon;

      /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
      if (sscanf (lines[i], " %*s %127s %127s %x %*s %*s %*s %*s %*s %llu", local, remote, &st,
                  &inode)
          != 4)
        continue;
      colon = strrchr (local, ':');
      if (colon == NULL || sscanf (colon + 1, "%x", &lport) != 1 || lport != port)
        continue;
      if (udp || st == 0x0A) /* TCP_LISTEN */
        return inode;
    }
  return 0;
}

/* "process 1234 (nginx)" or NULL when not visible (another user's process). */
static char *
port_holder (guint port, gboolean udp)
{
  g_autofree char *target = NULL;
  g_autoptr (GDir) proc = NULL;
  guint64 inode = listening_inode (udp ? "/proc/net/udp" : "/proc/net/tcp", port, udp);
  const char *name;

  if (inode == 0)
    inode = listening_inode (udp ? "/proc/net/udp6" : "/proc/net/tcp6", port, udp);
  if (inode == 0)
    return NULL;
  target = g_strdup_printf ("socket:[%" G_GUINT64_FORMAT "]", inode);
  proc = g_dir_open ("/proc", 0, NULL);
  while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *fddir = NULL;
      g_autoptr (GDir) fds = NULL;
      const char *fd;

      if (!g_ascii_isdigit (name[0]))
        continue;
      fddir = g_build_filename ("/proc", name, "fd", NULL);
      fds = g_dir_open (fddir, 0, NULL);
      while (fds != NULL && (fd = g_dir_read_name (fds)) != NULL)
        {
          g_autofree char *link = g_build_filename (fddir, fd, NULL);
          g_autofree char *dest = g_file_read_link (link, NULL);

          if (dest != NULL && g_str_equal (dest, target))
            {
              g_autofree char *comm_path = g_build_filename ("/proc", name, "comm", NULL);
              g_autofree char *comm = NULL;

              if (g_file_get_contents (comm_path, &comm, NULL, NULL))
                g_strstrip (comm);
              return g_strdup_printf ("process %s (%s)", name, comm != NULL ? comm : "?");
            }
        }
    }
  return NULL;
}

static guint
unprivileged_port_start (void)
{
  g_autofree char *text = NULL;
  guint64 v;

  if (!g_file_get_contents ("/proc/sys/net/ipv4/ip_unprivileged_port_start", &text, NULL, NULL)
      || !g_ascii_string_to_unsigned (g_strstrip (text), 10, 0, 65536, &v, NULL))
    return 1024;
  return (guint) v;
}

/* The error for a host port that cannot be bound, keyed by errno. */
static void
throw_port_error (GError **error, const RrunPortMapping *m, int errsv, const char *why)
{
  const char *proto = m->udp ? "udp" : "tcp";
  const char *ip = m->host_ip != NULL ? m->host_ip : "0.0.0.0";

  if (errsv == EACCES && m->host_port < unprivileged_port_start ())
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "cannot publish port %s:%u/%s: ports below %u are privileged", ip,
                  m->host_port, proto, unprivileged_port_start ());
      rrun_add_hint (error, "use a host port of %u or above (-p %u:%u), or an administrator "
                            "lowers the sysctl net.ipv4.ip_unprivileged_port_start",
                     unprivileged_port_start (), m->host_port + 8000, m->container_port);
      return;
    }
  if (errsv == EADDRINUSE)
    {
      g_autofree char *holder = port_holder (m->host_port, m->udp);

      if (holder != NULL)
        rrun_throw (error, RRUN_ERROR_BUSY, "cannot publish port %s:%u/%s: it is in use by %s",
                    ip, m->host_port, proto, holder);
      else
        rrun_throw (error, RRUN_ERROR_BUSY, "cannot publish port %s:%u/%s: it is in use", ip,
                    m->host_port, proto);
      rrun_add_hint (error, "choose another host port, or -p %u for a random one",
                     m->container_port);
      return;
    }
  rrun_throw (error, RRUN_ERROR_FAILED, "cannot publish port %s:%u/%s: %s", ip, m->host_port,
              proto, why != NULL ? why : g_strerror (errsv));
}

gboolean
rrun_network_check_ports (const RrunNetworkOptions *opts, GError **error)
{
  for (guint i = 0; i < opts->ports->len; i++)
    {
      const RrunPortMapping *m = &g_array_index (opts->ports, RrunPortMapping, i);
      struct sockaddr_storage ss = { 0 };
      struct sockaddr_in *sin = (struct sockaddr_in *) &ss;
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;
      rrun_autofd int fd = -1;
      socklen_t len;
      int one = 1;

      if (m->host_port == 0)
        continue;
      if (m->host_ip == NULL || inet_pton (AF_INET, m->host_ip, &sin->sin_addr) == 1)
        {
          sin->sin_family = AF_INET; /* no address: 0.0.0.0 */
          sin->sin_port = htons ((guint16) m->host_port);
          len = sizeof *sin;
        }
      else if (inet_pton (AF_INET6, m->host_ip, &sin6->sin6_addr) == 1)
        {
          sin6->sin6_family = AF_INET6;
          sin6->sin6_port = htons ((guint16) m->host_port);
          len = sizeof *sin6;
        }
      else
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid host address \"%s\"",
                           m->host_ip);
      fd = socket (ss.ss_family, (m->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
      if (fd < 0)
        return rrun_throw_errno (error, errno, "cannot create a socket");
      if (!m->udp)
        setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (bind (fd, (struct sockaddr *) &ss, len) < 0)
        {
          throw_port_error (error, m, errno, NULL);
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- the API client ---- */

static int
connect_api (const char *run_dir, GError **error)
{
  g_autofree char *path = g_build_filename (run_dir, "net.sock", NULL);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  rrun_autofd int dirfd = -1;
  rrun_autofd int fd = -1;
  g_autofree char *via = NULL;

  if (strlen (path) >= sizeof sa.sun_path)
    {
      /* Long run directories: reach the socket through the directory's fd. */
      dirfd = open (run_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (dirfd < 0)
        return rrun_throw_errno (error, errno, "cannot open \"%s\"", run_dir), -1;
      via = g_strdup_printf ("/proc/self/fd/%d/net.sock", dirfd);
    }
  g_strlcpy (sa.sun_path, via != NULL ? via : path, sizeof sa.sun_path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot create a socket"), -1;
  if (connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    {
      rrun_throw_errno (error, errno, "cannot reach the network helper at \"%s\"", path);
      if (errno == ENOENT || errno == ECONNREFUSED)
        rrun_add_hint (error, "the container is not running, or runs without --network slirp");
      return -1;
    }
  return rrun_steal_fd (&fd);
}

/* One request (JSON text), one reply: returns the whole reply and in *out_ret its "return"
   object, or an error with the helper's desc; *out_errno gets its errno member. */
static RrunJson *
api_call (const char *run_dir, const char *request, const RrunJson **out_ret, int *out_errno,
          GError **error)
{
  g_autofree char *line = g_strconcat (request, "\n", NULL);
  g_autoptr (GByteArray) reply = g_byte_array_new ();
  g_autoptr (RrunJson) root = NULL;
  rrun_autofd int fd = connect_api (run_dir, error);
  const RrunJson *e, *ret;
  char buf[4096];

  *out_errno = 0;
  if (fd < 0)
    return NULL;
  if (!rrun_fd_write_all (fd, line, strlen (line), error))
    return NULL;
  shutdown (fd, SHUT_WR);
  for (;;)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      ssize_t n;

      if (poll (&pfd, 1, READY_TIMEOUT_MS) == 0)
        return rrun_throw (error, RRUN_ERROR_FAILED,
                           "cannot talk to the network helper: no answer in %d s",
                           READY_TIMEOUT_MS / 1000),
               NULL;
      n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return rrun_throw_errno (error, errno, "cannot read the network helper's answer"), NULL;
      if (n == 0)
        break;
      g_byte_array_append (reply, (guint8 *) buf, (guint) n);
    }
  root = rrun_json_parse ((const char *) reply->data, reply->len, RRUN_JSON_DEFAULT, error);
  if (root == NULL)
    {
      g_prefix_error (error, "the network helper's answer: ");
      return NULL;
    }
  if (rrun_json_type (root) != RRUN_JSON_OBJECT)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "the network helper's answer is not an object"),
           NULL;
  if ((e = rrun_json_member (root, "error")) != NULL)
    {
      const char *desc = rrun_json_member_string (e, "desc");
      const RrunJson *en = rrun_json_member (e, "errno");

      if (desc == NULL)
        return rrun_throw (error, RRUN_ERROR_CORRUPT,
                           "the network helper's error has no \"desc\" string"),
               NULL;
      if (en != NULL && rrun_json_type (en) == RRUN_JSON_INT)
        *out_errno = (int) rrun_json_int (en);
      return rrun_throw (error, RRUN_ERROR_FAILED, "%s", desc), NULL;
    }
  ret = rrun_json_member (root, "return");
  if (ret == NULL || rrun_json_type (ret) != RRUN_JSON_OBJECT)
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "the network helper's answer has no \"return\" object"),
           NULL;
  *out_ret = ret;
  return g_steal_pointer (&root);
}

static gboolean
get_port_member (const RrunJson *o, const char *name, guint *out, GError **error)
{
  const RrunJson *n = rrun_json_member (o, name);
  gint64 v;

  if (n == NULL || rrun_json_type (n) != RRUN_JSON_INT)
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "the network helper's answer: \"%s\" is missing or not an integer", name);
  v = rrun_json_int (n);
  if (v < 0 || v > 65535)
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "the network helper's answer: \"%s\" is out of range", name);
  *out = (guint) v;
  return TRUE;
}

static gboolean
publish_one (const char *run_dir, RrunPortMapping *m, GError **error)
{
  g_autoptr (RrunJsonBuilder) b = rrun_json_builder_new ();
  g_autoptr (RrunJson) reply = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *req = NULL;
  const RrunJson *ret = NULL;
  int errsv;
  guint port;

  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "execute", "add_hostfwd");
  rrun_json_builder_set_member_name (b, "arguments");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "proto", m->udp ? "udp" : "tcp");
  if (m->host_ip != NULL)
    rrun_json_builder_member_string (b, "host_addr", m->host_ip);
  rrun_json_builder_member_int (b, "host_port", m->host_port);
  rrun_json_builder_member_int (b, "guest_port", m->container_port);
  rrun_json_builder_end_object (b);
  rrun_json_builder_end_object (b);
  req = rrun_json_builder_to_text (b, FALSE);
  reply = api_call (run_dir, req, &ret, &errsv, &local_error);
  if (reply == NULL)
    {
      if (errsv == EACCES || errsv == EADDRINUSE)
        throw_port_error (error, m, errsv, NULL);
      else if (errsv != 0 && g_error_matches (local_error, RRUN_ERROR, RRUN_ERROR_FAILED))
        throw_port_error (error, m, errsv, local_error->message);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (!get_port_member (ret, "host_port", &port, error))
    return FALSE;
  m->host_port = port;
  return TRUE;
}

gboolean
rrun_network_query_ports (const char *run_dir, GArray **out_ports, GError **error)
{
  g_autoptr (RrunJson) reply = NULL;
  g_autoptr (GArray) ports = g_array_new (FALSE, TRUE, sizeof (RrunPortMapping));
  const RrunJson *ret = NULL, *entries;
  int errsv;

  g_array_set_clear_func (ports, (GDestroyNotify) rrun_port_mapping_clear);
  reply = api_call (run_dir, "{\"execute\":\"list_hostfwd\"}", &ret, &errsv, error);
  if (reply == NULL)
    return FALSE;
  entries = rrun_json_member (ret, "entries");
  if (entries == NULL || rrun_json_type (entries) != RRUN_JSON_ARRAY)
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "the network helper's answer has no \"entries\" array");
  for (guint i = 0; i < rrun_json_size (entries); i++)
    {
      const RrunJson *o = rrun_json_element (entries, i);
      const char *proto, *addr;
      RrunPortMapping m = { 0 };

      if (rrun_json_type (o) != RRUN_JSON_OBJECT)
        return rrun_throw (error, RRUN_ERROR_CORRUPT, "the network helper's entry %u is not "
                                                      "an object", i);
      proto = rrun_json_member_string (o, "proto");
      addr = rrun_json_member_string (o, "host_addr");
      if (proto == NULL || addr == NULL
          || (!g_str_equal (proto, "tcp") && !g_str_equal (proto, "udp")))
        return rrun_throw (error, RRUN_ERROR_CORRUPT,
                           "the network helper's entry %u: bad \"proto\" or \"host_addr\"", i);
      if (!get_port_member (o, "host_port", &m.host_port, error)
          || !get_port_member (o, "guest_port", &m.container_port, error))
        return FALSE;
      m.udp = g_str_equal (proto, "udp");
      m.host_ip = g_str_equal (addr, "0.0.0.0") ? NULL : g_strdup (addr);
      g_array_append_val (ports, m);
    }
  *out_ports = g_steal_pointer (&ports);
  return TRUE;
}

/* ---- lifecycle ---- */

static char *
read_helper_error (const char *log_path)
{
  g_autofree char *text = NULL;
  const char *start;

  if (!g_file_get_contents (log_path, &text, NULL, NULL) || *text == '\0')
    return g_strdup ("rrun-net: exited without a message");
  g_strchomp (text);
  /* The last "rrun-net: " line and the hint lines after it. */
  start = g_strrstr (text, "\nrrun-net: ");
  start = start != NULL ? start + 1 : text;
  return g_strdup (start);
}

/* Hang up its exit fd and reap it: it exits at once (it also watches the container's
   PID 1, gone by now). A pidfd wakes us the moment it does, instead of polling with sleeps
   (which cost up to 10 ms of every run's exit); SIGKILL after STOP_TIMEOUT_MS. */
static void
stop_helper (GPid pid, int *exit_fd)
{
  rrun_autofd int pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  int status;

  rrun_close_fdp (exit_fd);
  if (pidfd >= 0)
    {
      struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
      int r;

      do
        r = poll (&pfd, 1, STOP_TIMEOUT_MS);
      while (r < 0 && errno == EINTR);
      if (r == 0)
        kill (pid, SIGKILL);
    }
  else
    {
      for (int waited = 0; waited < STOP_TIMEOUT_MS; waited += 1)
        {
          pid_t r = waitpid (pid, &status, WNOHANG);

          if (r == pid || (r < 0 && errno == ECHILD))
            return;
          g_usleep (1000);
        }
      kill (pid, SIGKILL);
    }
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
}

gboolean
rrun_network_spawn (const RrunNetworkOptions *opts, const char *run_dir, RrunNetwork **out,
                    GError **error)
{
  g_autoptr (RrunNetwork) net = g_new0 (RrunNetwork, 1);
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *helper = NULL;
  g_autofree char *api_path = g_build_filename (run_dir, "net.sock", NULL);
  rrun_autofd int log_fd = -1;
  int ready[2] = { -1, -1 }, exit_pipe[2] = { -1, -1 }, pid_pipe[2] = { -1, -1 };
  rrun_autofd int ready_w = -1;
  rrun_autofd int exit_r = -1;
  rrun_autofd int pid_r = -1;
  gint source_fds[3], target_fds[3] = { 3, 4, 5 };

  net->mode = opts->mode;
  net->exit_fd = -1;
  net->pid_fd = -1;
  net->ready_fd = -1;
  net->run_dir = g_strdup (run_dir);
  net->log_path = g_build_filename (run_dir, "rrun-net.log", NULL);
  net->ports = g_array_new (FALSE, TRUE, sizeof (RrunPortMapping));
  g_array_set_clear_func (net->ports, (GDestroyNotify) rrun_port_mapping_clear);
  /* A user-defined network's container gets a helper only to publish ports: it forwards
     TCP and UDP into the container's namespace, whose interfaces are the veths (--no-tap). */
  if (opts->mode != RRUN_NETWORK_SLIRP
      && !(opts->mode == RRUN_NETWORK_USER && opts->ports->len > 0))
    {
      if (opts->ports->len > 0)
        {
          /* rrun_network_options_check refuses this first, with the mode named */
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "cannot publish ports with this --network: only the slirp network and "
                      "user-defined networks publish ports");
          rrun_add_hint (error, "run with --network slirp or --network NET (rrun network "
                                "create NET)");
          return FALSE;
        }
      *out = g_steal_pointer (&net);
      return TRUE;
    }
  helper = rrun_network_find_helper (error);
  if (helper == NULL)
    return FALSE;
  if (pipe2 (ready, O_CLOEXEC) < 0)
    return rrun_throw_errno (error, errno, "cannot create a pipe");
  net->ready_fd = ready[0];
  ready_w = ready[1];
  if (pipe2 (exit_pipe, O_CLOEXEC) < 0)
    return rrun_throw_errno (error, errno, "cannot create a pipe");
  exit_r = exit_pipe[0];
  net->exit_fd = exit_pipe[1];
  /* A socket, not a pipe: a helper that died early must not kill rrun with SIGPIPE. */
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pid_pipe) < 0)
    return rrun_throw_errno (error, errno, "cannot create a socket pair");
  pid_r = pid_pipe[0];
  net->pid_fd = pid_pipe[1];
  log_fd = open (net->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", net->log_path);
  unlink (api_path); /* a stale socket of an earlier run of this container */

  g_ptr_array_add (argv, g_strdup (helper));
  g_ptr_array_add (argv, g_strdup ("--netns-pid-fd=5"));
  g_ptr_array_add (argv, g_strdup ("--ready-fd=3"));
  g_ptr_array_add (argv, g_strdup ("--exit-fd=4"));
  g_ptr_array_add (argv, g_strdup_printf ("--api-socket=%s", api_path));
  g_ptr_array_add (argv, g_strdup_printf ("--cidr=%s", opts->cidr));
  g_ptr_array_add (argv, g_strdup_printf ("--mtu=%u", opts->mtu));
  if (opts->tcp_mss >= 0)
    g_ptr_array_add (argv, g_strdup_printf ("--tcp-mss=%d", opts->tcp_mss));
  if (opts->enable_ipv6 == 1)
    g_ptr_array_add (argv, g_strdup ("--enable-ipv6"));
  else if (opts->enable_ipv6 == 0)
    g_ptr_array_add (argv, g_strdup ("--disable-ipv6"));
  if (opts->allow_host_loopback)
    g_ptr_array_add (argv, g_strdup ("--allow-host-loopback"));
  if (opts->dns_upstream != NULL)
    g_ptr_array_add (argv, g_strdup_printf ("--dns-upstream=%s", opts->dns_upstream));
  if (opts->mac != NULL && opts->mode == RRUN_NETWORK_SLIRP)
    g_ptr_array_add (argv, g_strdup_printf ("--mac=%s", opts->mac));
  if (opts->mode == RRUN_NETWORK_USER)
    {
      g_ptr_array_add (argv, g_strdup ("--no-tap"));
      if (opts->user_ip != NULL)
        g_ptr_array_add (argv, g_strdup_printf ("--forward-addr=%s", opts->user_ip));
    }
  {
    const char *lvl = g_getenv ("RRUN_LOG");
    if (lvl != NULL && g_str_equal (lvl, "debug"))
      g_ptr_array_add (argv, g_strdup ("--debug"));
  }
  g_ptr_array_add (argv, NULL);

  source_fds[0] = ready_w;
  source_fds[1] = exit_r;
  source_fds[2] = pid_r;
  if (!g_spawn_async_with_pipes_and_fds (NULL, (const char *const *) argv->pdata, NULL,
                                         G_SPAWN_DO_NOT_REAP_CHILD
                                             | G_SPAWN_LEAVE_DESCRIPTORS_OPEN,
                                         NULL, NULL, -1, log_fd, log_fd, source_fds,
                                         target_fds, 3, &net->pid, NULL,
                                         NULL, NULL, error))
    {
      g_prefix_error (error, "cannot start the network helper \"%s\": ", helper);
      return FALSE;
    }
  *out = g_steal_pointer (&net);
  return TRUE;
}

void
rrun_network_get_setup_fds (const RrunNetwork *net, int out_fds[3])
{
  out_fds[0] = net != NULL ? net->exit_fd : -1;
  out_fds[1] = net != NULL ? net->pid_fd : -1;
  out_fds[2] = net != NULL ? net->ready_fd : -1;
}

void
rrun_network_attach_begin (RrunNetwork *net, pid_t container_pid)
{
  g_autofree char *pid_text = NULL;
  gssize sent;

  if (net == NULL || net->pid <= 0 || net->pid_fd < 0)
    return; /* host, none, ns:, container:; or told already */
  pid_text = g_strdup_printf ("%d\n", (int) container_pid);
  do
    sent = send (net->pid_fd, pid_text, strlen (pid_text), MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  rrun_close_fdp (&net->pid_fd);
  /* A failed send means the helper is gone: finish sees EOF and reads its log. */
  net->pid_sent = sent > 0;
}

gboolean
rrun_network_attach (RrunNetwork *net, const RrunNetworkOptions *opts, pid_t container_pid,
                     GError **error)
{
  char byte = 0;

  if (net->pid <= 0)
    return TRUE; /* host, none, ns:, container: */
  rrun_network_attach_begin (net, container_pid);

  /* Wait for "1" (tap up) or EOF (the helper failed; its log says why). A failed send
     means it is gone already: the same. */
  for (; net->pid_sent;)
    {
      struct pollfd pfd = { .fd = net->ready_fd, .events = POLLIN };
      int r = poll (&pfd, 1, READY_TIMEOUT_MS);
      ssize_t n;

      if (r < 0 && errno == EINTR)
        continue;
      if (r == 0)
        return rrun_throw (error, RRUN_ERROR_FAILED,
                           "cannot start the network helper: not ready after %d s",
                           READY_TIMEOUT_MS / 1000);
      n = read (net->ready_fd, &byte, 1);
      if (n < 0 && errno == EINTR)
        continue;
      break;
    }
  rrun_close_fdp (&net->ready_fd);
  if (byte != '1')
    {
      g_autofree char *msg = NULL;

      stop_helper (net->pid, &net->exit_fd);
      net->pid = 0;
      msg = read_helper_error (net->log_path);
      return rrun_throw (error, RRUN_ERROR_FAILED, "%s", msg);
    }

  for (guint i = 0; i < opts->ports->len; i++)
    {
      const RrunPortMapping *src = &g_array_index (opts->ports, RrunPortMapping, i);
      RrunPortMapping m = { .host_ip = g_strdup (src->host_ip),
                            .host_port = src->host_port,
                            .container_port = src->container_port,
                            .udp = src->udp };

      if (!publish_one (net->run_dir, &m, error))
        {
          rrun_port_mapping_clear (&m);
          return FALSE; /* net's free stops the helper */
        }
      g_array_append_val (net->ports, m);
    }
  return TRUE;
}

gboolean
rrun_network_start (const RrunNetworkOptions *opts, pid_t container_pid, const char *run_dir,
                    RrunNetwork **out, GError **error)
{
  g_autoptr (RrunNetwork) net = NULL;

  if (!rrun_network_spawn (opts, run_dir, &net, error)
      || !rrun_network_attach (net, opts, container_pid, error))
    return FALSE;
  *out = g_steal_pointer (&net);
  return TRUE;
}

void
rrun_network_free (RrunNetwork *net)
{
  if (net == NULL)
    return;
  /* No pid sent: the helper stops when its pid fd or exit fd hangs up. */
  rrun_close_fdp (&net->pid_fd);
  rrun_close_fdp (&net->ready_fd);
  if (net->pid > 0)
    stop_helper (net->pid, &net->exit_fd);
  rrun_close_fdp (&net->exit_fd);
  if (net->ports != NULL)
    g_array_unref (net->ports);
  g_free (net->run_dir);
  g_free (net->log_path);
  g_free (net);
}

void
rrun_network_detach (RrunNetwork *net)
{
  if (net == NULL)
    return;
  if (net->pid > 0)
    {
      rrun_close_fdp (&net->exit_fd);
      waitpid (net->pid, NULL, WNOHANG);
      net->pid = 0;
    }
  rrun_network_free (net);
}

pid_t
rrun_network_get_helper_pid (const RrunNetwork *net)
{
  return net != NULL ? net->pid : 0;
}

const GArray *
rrun_network_get_ports (const RrunNetwork *net)
{
  return net != NULL ? net->ports : NULL;
}
