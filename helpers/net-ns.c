/* The namespace side of rrun-net. A forked child joins the container's user and network
   namespaces, creates tap0, configures it, and sends its fd back over SCM_RIGHTS (the
   slirp4netns design). The child then stays as the "connector": a socket keeps the
   network namespace it was created in, so the helper asks it for TCP sockets made inside
   the container's namespace and connects them itself (rootlesskit's builtin port driver
   connects from inside the namespace in the same way). setns(CLONE_NEWUSER) is refused to
   a threaded process, so a thread of the helper could not do this.

   The helper is single-threaded when it forks, so the child may use GLib until it sends
   the tap fd; the connector loop afterwards uses plain syscalls only. */
#include "net.h"
#include "child/fd-pass.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct
{
  gint32 errsv;    /* 0: the tap fd comes along; -1: no pid came, stop quietly */
  gint32 netns_pid;
  char message[1000];
} SetupReply;

static gboolean
same_ns (const char *a, int fd_b)
{
  struct stat sa, sb;

  return stat (a, &sa) == 0 && fstat (fd_b, &sb) == 0 && sa.st_ino == sb.st_ino
         && sa.st_dev == sb.st_dev;
}

/* Map the whole mapped gid range to ICMP echo sockets, as podman does, so `ping` works
   for every user of the container without CAP_NET_RAW. */
static gboolean
set_ping_group_range (GError **error)
{
  g_autofree char *map = NULL;
  g_auto (GStrv) lines = NULL;
  gint64 lo = G_MAXINT64, hi = -1;
  g_autofree char *value = NULL;
  int fd;

  if (!g_file_get_contents ("/proc/self/gid_map", &map, NULL, error))
    return FALSE;
  lines = g_strsplit (map, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      guint64 inside, outside, count;

      if (sscanf (lines[i], "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                  &inside, &outside, &count)
              != 3
          || count == 0)
        continue;
      lo = MIN (lo, (gint64) inside);
      hi = MAX (hi, (gint64) (inside + count - 1));
    }
  if (hi < 0)
    return net_throw (error, "cannot set net.ipv4.ping_group_range: no gid is mapped");
  /* The kernel keeps gids as int: 2147483647 is the largest value it accepts. */
  hi = MIN (hi, (gint64) G_MAXINT32);
  value = g_strdup_printf ("%" G_GINT64_FORMAT " %" G_GINT64_FORMAT, lo, hi);
  fd = open ("/proc/sys/net/ipv4/ping_group_range", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write (fd, value, strlen (value)) < 0)
    {
      int errsv = errno;
      if (fd >= 0)
        close (fd);
      net_throw_errno (error, errsv, "cannot set net.ipv4.ping_group_range to \"%s\"", value);
      rrun_add_hint (error, "ping needs ICMP echo sockets; other traffic is not affected");
      return FALSE;
    }
  close (fd);
  return TRUE;
}

static int
open_tap (const char *name, gboolean vnet_hdr, GError **error)
{
  struct ifreq ifr = { 0 };
  int fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

  if (fd < 0)
    {
      int errsv = errno;
      struct stat st;

      net_throw_errno (error, errsv, "cannot open /dev/net/tun");
      if (errsv == ENOENT)
        rrun_add_hint (error, "load the tun module: an administrator runs \"modprobe tun\"");
      else if ((errsv == EACCES || errsv == EPERM) && stat ("/dev/net/tun", &st) == 0
               && (st.st_mode & 0006) != 0006)
        rrun_add_hint (error,
                      "/dev/net/tun is mode %04o here; an administrator runs "
                      "\"chmod 0666 /dev/net/tun\" or \"subuid-setup.sh --fix\"",
                      st.st_mode & 07777);
      return -1;
    }
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0);
  g_strlcpy (ifr.ifr_name, name, sizeof ifr.ifr_name);
  if (ioctl (fd, TUNSETIFF, &ifr) < 0)
    {
      net_throw_errno (error, errno, "cannot create the tap device \"%s\"", name);
      if (errno == EPERM)
        rrun_add_hint (error, "the network namespace must belong to the container's user "
                             "namespace");
      close (fd);
      return -1;
    }
  return fd;
}

static int
join_and_make_tap (const NetConfig *cfg, GError **error)
{
  g_autofree char *user_path = NULL, *net_path = NULL;
  int userns_fd, netns_fd, tap;

  if (cfg->netns_path != NULL)
    {
      net_path = g_strdup (cfg->netns_path);
      user_path = g_strdup (cfg->userns_path);
    }
  else
    {
      net_path = g_strdup_printf ("/proc/%d/ns/net", (int) cfg->netns_pid);
      user_path = g_strdup_printf ("/proc/%d/ns/user", (int) cfg->netns_pid);
    }
  /* Open both before joining either: after setns(user) /proc paths may resolve differently. */
  netns_fd = open (net_path, O_RDONLY | O_CLOEXEC);
  if (netns_fd < 0)
    {
      net_throw_errno (error, errno, "cannot open \"%s\"", net_path);
      if (errno == ENOENT)
        rrun_add_hint (error, "the container's process is gone");
      return -1;
    }
  userns_fd = user_path != NULL ? open (user_path, O_RDONLY | O_CLOEXEC) : -1;
  if (user_path != NULL && userns_fd < 0)
    {
      net_throw_errno (error, errno, "cannot open \"%s\"", user_path);
      close (netns_fd);
      return -1;
    }
  /* Joining our own user namespace is EINVAL; it is also not needed. */
  if (userns_fd >= 0 && !same_ns ("/proc/self/ns/user", userns_fd)
      && setns (userns_fd, CLONE_NEWUSER) < 0)
    {
      net_throw_errno (error, errno, "cannot join the user namespace \"%s\"", user_path);
      close (netns_fd);
      close (userns_fd);
      return -1;
    }
  if (userns_fd >= 0)
    close (userns_fd);
  if (setns (netns_fd, CLONE_NEWNET) < 0)
    {
      net_throw_errno (error, errno, "cannot join the network namespace \"%s\"", net_path);
      close (netns_fd);
      return -1;
    }
  close (netns_fd);
  if (cfg->no_tap)
    {
      /* A stand-in that never becomes readable: the main loop stays as it is. */
      tap = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (tap < 0)
        net_throw_errno (error, errno, "cannot create an eventfd");
      return tap;
    }
  tap = open_tap ("tap0", cfg->vnet_hdr, error);
  if (tap < 0)
    return -1;
  if (!net_netlink_configure ("tap0", cfg, error))
    {
      close (tap);
      return -1;
    }
  return tap;
}

/* One request is one byte: the address family (4 or 6), CONNECTOR_DGRAM added for a UDP
   socket; the answer carries errno and, when 0, the socket. Plain syscalls only: this loop
   outlives the setup. */
#define CONNECTOR_DGRAM 0x80

static void G_GNUC_NORETURN
connector_loop (int sock)
{
  for (;;)
    {
      unsigned char req;
      ssize_t n = recv (sock, &req, 1, 0);
      gint32 errsv = 0;
      int s;

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        _exit (0);
      s = socket ((req & ~CONNECTOR_DGRAM) == 6 ? AF_INET6 : AF_INET,
                  ((req & CONNECTOR_DGRAM) ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
      if (s < 0)
        errsv = errno;
      if (rrun_fd_send (sock, &errsv, sizeof errsv, s) < 0)
        _exit (0);
      if (s >= 0)
        close (s);
    }
}

/* --netns-pid-fd: the pid arrives as a line once rrun has made the container's namespaces.
   0: rrun hung up first (it gave up), stop quietly. */
static pid_t
wait_for_pid (int pid_fd, int exit_fd, GError **error)
{
  char buf[32];
  gsize len = 0;
  guint64 v;

  for (;;)
    {
      GPollFD pfd[2] = { { .fd = pid_fd, .events = G_IO_IN },
                         { .fd = exit_fd, .events = G_IO_IN } };
      ssize_t n;

      if (g_poll (pfd, exit_fd >= 0 ? 2 : 1, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return net_throw_errno (error, errno, "poll"), -1;
        }
      if (pfd[1].revents != 0 && pfd[0].revents == 0)
        return 0;
      if (pfd[0].revents == 0)
        continue;
      n = read (pid_fd, buf + len, sizeof buf - 1 - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return net_throw_errno (error, errno, "cannot read the container's pid"), -1;
      len += (gsize) n;
      if (n == 0 || memchr (buf, '\n', len) != NULL || len == sizeof buf - 1)
        break;
    }
  buf[len] = '\0';
  if (len == 0)
    return 0; /* closed without a pid: the container never started */
  if (!g_ascii_string_to_unsigned (g_strstrip (buf), 10, 1, G_MAXINT32, &v, NULL))
    return net_throw (error, "invalid pid \"%s\" on the pid fd", buf), -1;
  return (pid_t) v;
}

gboolean
net_ns_start (const NetConfig *cfg, int pid_fd, int exit_fd, NetNsChild *out, GError **error)
{
  int sp[2];
  pid_t pid;

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
    return net_throw_errno (error, errno, "cannot create a socket pair");
  pid = fork ();
  if (pid < 0)
    {
      int errsv = errno;
      close (sp[0]);
      close (sp[1]);
      return net_throw_errno (error, errsv, "cannot fork the namespace child");
    }
  if (pid == 0)
    {
      g_autoptr (GError) local_error = NULL;
      NetConfig joined = *cfg;
      SetupReply reply;
      int tap = -1;

      close (sp[0]);
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (getppid () == 1)
        _exit (1);
      memset (&reply, 0, sizeof reply);
      if (pid_fd >= 0)
        {
          joined.netns_pid = wait_for_pid (pid_fd, exit_fd, &local_error);
          if (joined.netns_pid == 0)
            reply.errsv = -1;
        }
      if (joined.netns_pid > 0 || joined.netns_path != NULL)
        {
          tap = join_and_make_tap (&joined, &local_error);
          if (tap >= 0 && !set_ping_group_range (&local_error))
            {
              /* Not fatal: ICMP is refused, everything else works. */
              fprintf (stderr, "rrun-net: warning: %s\n", local_error->message);
              g_clear_error (&local_error);
            }
        }
      reply.netns_pid = joined.netns_pid;
      if (local_error != NULL)
        {
          reply.errsv = EIO;
          g_strlcpy (reply.message, local_error->message, sizeof reply.message);
        }
      if (rrun_fd_send (sp[1], &reply, sizeof reply, tap) < 0)
        _exit (1);
      if (tap < 0)
        _exit (1);
      close (tap);
      connector_loop (sp[1]);
    }
  close (sp[1]);
  out->sock = sp[0];
  out->pid = pid;
  return TRUE;
}

gboolean
net_ns_finish (NetNsChild *child, NetNsResult *out, pid_t *out_netns_pid, GError **error)
{
  SetupReply reply;
  ssize_t n;
  int tap = -1;

  n = rrun_fd_recv (child->sock, &reply, sizeof reply, &tap, 0);
  if (n != (ssize_t) sizeof reply || reply.errsv != 0 || tap < 0)
    {
      int status;

      if (tap >= 0)
        close (tap);
      close (child->sock);
      waitpid (child->pid, &status, 0);
      if (n == (ssize_t) sizeof reply && reply.errsv == -1)
        return FALSE; /* no pid: rrun gave up */
      if (n == (ssize_t) sizeof reply && reply.errsv != 0)
        {
          reply.message[sizeof reply.message - 1] = '\0';
          return net_throw (error, "%s", reply.message);
        }
      return net_throw (error, "the namespace child exited before sending the tap device");
    }
  out->tap_fd = tap;
  out->connector_fd = child->sock;
  out->connector_pid = child->pid;
  *out_netns_pid = reply.netns_pid;
  return TRUE;
}

int
net_ns_socket (int connector_fd, int family, int type, GError **error)
{
  unsigned char req = (family == AF_INET6 ? 6 : 4) | (type == SOCK_DGRAM ? CONNECTOR_DGRAM : 0);
  gint32 errsv = 0;
  int fd = -1;
  ssize_t n;

  while (send (connector_fd, &req, 1, MSG_NOSIGNAL) < 0)
    if (errno != EINTR)
      {
        net_throw_errno (error, errno, "cannot ask the connector for a socket");
        return -1;
      }
  n = rrun_fd_recv (connector_fd, &errsv, sizeof errsv, &fd, 0);
  if (n != (ssize_t) sizeof errsv)
    {
      if (fd >= 0)
        close (fd);
      net_throw (error, "the connector in the container's network namespace is gone");
      return -1;
    }
  if (errsv != 0 || fd < 0)
    {
      net_throw_errno (error, errsv != 0 ? errsv : EIO, "cannot create a socket in the container");
      return -1;
    }
  return fd;
}
