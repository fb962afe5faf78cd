/* The per-user network holder: network/holder.h. */
#include "network/holder.h"
#include "network/dns.h"
#include "network/netconf.h"
#include "network/network.h"
#include "container/pid1.h"
#include "userns/idmap.h"
#include "userns/keeper.h"
#include "error.h"
#include "log.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOLDER_READY_TIMEOUT_MS 10000
/* How long a sync waits for the DNS server to listen on a new network. */
#define DNS_RELOAD_TIMEOUT_US (2 * G_USEC_PER_SEC)

static char *
holder_dir (const RrunConfig *config)
{
  return g_build_filename (config->run_root, "net-holder", NULL);
}

/* Whether pid runs (a zombie does not: where PID 1 does not reap, a killed holder stays
   one) and, when start is not 0, started at start. */
static gboolean
alive (pid_t pid, guint64 start)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *text = NULL;
  const char *p;

  if (pid <= 0 || !g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  p = strrchr (text, ')');
  if (p == NULL || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
    return FALSE;
  return start == 0 || rrun_pid1_start_time (pid) == start;
}

/* "PARENT_PID PARENT_START CHILD_PID": the child's pid when the parent still runs. */
static pid_t
read_state (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "state", NULL);
  g_autofree char *text = NULL;
  int parent = 0, child = 0;
  guint64 start = 0;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  if (sscanf (text, "%d %" G_GUINT64_FORMAT " %d", &parent, &start, &child) != 3
      || parent <= 0 || child <= 0)
    return 0;
  if (start == 0 || !alive (parent, start) || !alive (child, 0))
    return 0; /* gone, or its pid reused */
  return child;
}

static int
read_state_parent (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "state", NULL);
  g_autofree char *text = NULL;
  int parent = 0, child = 0;
  guint64 start = 0;

  if (!g_file_get_contents (path, &text, NULL, NULL)
      || sscanf (text, "%d %" G_GUINT64_FORMAT " %d", &parent, &start, &child) != 3
      || start == 0 || !alive (parent, start))
    return 0;
  return parent;
}

static gboolean
lock_dir (const char *dir, int *out_fd, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "lock", NULL);
  rrun_autofd int fd = -1;

  if (g_mkdir_with_parents (dir, 0700) < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", dir);
  fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot open \"%s\"", path);
  while (flock (fd, LOCK_EX) < 0)
    if (errno != EINTR)
      return rrun_throw_errno (error, errno, "cannot lock \"%s\"", path);
  *out_fd = rrun_steal_fd (&fd);
  return TRUE;
}

static GPtrArray *
self_argv (const RrunConfig *config, const char *command)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (argv, g_strdup ("/proc/self/exe"));
  g_ptr_array_add (argv, g_strdup ("--root"));
  g_ptr_array_add (argv, g_strdup (config->storage_root));
  g_ptr_array_add (argv, g_strdup ("--runroot"));
  g_ptr_array_add (argv, g_strdup (config->run_root));
  g_ptr_array_add (argv, g_strdup ("__internal"));
  g_ptr_array_add (argv, g_strdup (command));
  return argv;
}

/* The last line of holder.log: the failed holder's message. */
static char *
log_tail (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "holder.log", NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return g_strdup ("no message");
  lines = g_strsplit (g_strchomp (text), "\n", -1);
  for (int i = (int) g_strv_length (lines) - 1; i >= 0; i--)
    if (lines[i][0] != '\0' && !g_str_has_prefix (lines[i], "hint:"))
      return g_strdup (lines[i]);
  return g_strdup ("no message");
}

static void
child_setup_setsid (gpointer data)
{
  (void) data;
  setsid ();
  /* Keep no directory of the caller's busy (a mount point someone will unmount). */
  if (chdir ("/") < 0)
    _exit (127);
}

/* Bring a running holder's namespace up to date with the definitions (a network created
   since it started): the sync command enters it and repeats the idempotent set-up. */
static gboolean
sync_holder (const RrunConfig *config, pid_t child, GError **error)
{
  g_autoptr(GPtrArray) argv = self_argv (config, "net-holder-sync");
  g_autofree char *err = NULL;
  int status = 0;

  g_ptr_array_add (argv, g_strdup_printf ("%d", (int) child));
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                     NULL, NULL, &err, &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, NULL))
    return rrun_throw (error, RRUN_ERROR_FAILED, "cannot update the network holder: %s",
                       err != NULL && *err ? g_strchomp (err) : "it failed");
  return TRUE;
}

pid_t
rrun_net_holder_running (const RrunConfig *config)
{
  g_autofree char *dir = holder_dir (config);

  return read_state (dir);
}

gboolean
rrun_net_holder_lock (const RrunConfig *config, int *out_fd, GError **error)
{
  g_autofree char *dir = holder_dir (config);

  return rrun_config_ensure_run_root (config, error) && lock_dir (dir, out_fd, error);
}

gboolean
rrun_net_holder_ensure (const RrunConfig *config, pid_t *out_pid, GError **error)
{
  rrun_autofd int lock = -1;

  return rrun_net_holder_lock (config, &lock, error)
         && rrun_net_holder_ensure_held (config, TRUE, out_pid, error);
}

gboolean
rrun_net_holder_ensure_held (const RrunConfig *config, gboolean sync, pid_t *out_pid,
                             GError **error)
{
  g_autofree char *dir = holder_dir (config);
  g_autofree char *log_path = NULL;
  g_autoptr(GPtrArray) argv = NULL;
  g_autoptr(GString) reply = g_string_new (NULL);
  rrun_autofd int log_fd = -1;
  rrun_autofd int status_r = -1;
  rrun_autofd int status_w = -1;
  int pipefd[2];
  gint source_fds[1], target_fds[1] = { 3 };
  GPid pid = 0;
  pid_t child;

  child = read_state (dir);
  if (child > 0)
    {
      if (sync && !sync_holder (config, child, error))
        return FALSE;
      *out_pid = child;
      return TRUE;
    }

  /* None, or a stale one (its parent was killed: its child and rrun-net went with it). */
  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    return rrun_throw_errno (error, errno, "cannot create a pipe");
  status_r = pipefd[0];
  status_w = pipefd[1];
  log_path = g_build_filename (dir, "holder.log", NULL);
  log_fd = open (log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", log_path);
  argv = self_argv (config, "net-holder");
  g_ptr_array_add (argv, NULL);
  source_fds[0] = status_w;
  /* Its own session, not reaped here: it outlives this rrun (the kernel reparents it). */
  if (!g_spawn_async_with_pipes_and_fds (NULL, (const char *const *) argv->pdata, NULL,
                                         G_SPAWN_DO_NOT_REAP_CHILD, child_setup_setsid, NULL,
                                         -1, log_fd, log_fd, source_fds, target_fds, 1, &pid,
                                         NULL, NULL, NULL, error))
    {
      g_prefix_error (error, "cannot start the network holder: ");
      return FALSE;
    }
  rrun_close_fdp (&status_w);
  for (;;)
    {
      struct pollfd pfd = { .fd = status_r, .events = POLLIN };
      char buf[256];
      ssize_t n;
      int r = poll (&pfd, 1, HOLDER_READY_TIMEOUT_MS);

      if (r < 0 && errno == EINTR)
        continue;
      if (r == 0)
        {
          kill (pid, SIGKILL);
          waitpid (pid, NULL, 0);
          return rrun_throw (error, RRUN_ERROR_FAILED,
                             "cannot start the network holder: not ready after %d s",
                             HOLDER_READY_TIMEOUT_MS / 1000);
        }
      n = read (status_r, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      g_string_append_len (reply, buf, n);
    }
  if (!g_str_has_prefix (reply->str, "ok "))
    {
      g_autofree char *msg = NULL;

      waitpid (pid, NULL, 0);
      msg = log_tail (dir);
      return rrun_throw (error, RRUN_ERROR_FAILED, "cannot start the network holder: %s", msg);
    }
  /* Not reaped: it runs on. */
  *out_pid = (pid_t) g_ascii_strtoll (reply->str + 3, NULL, 10);
  return TRUE;
}

gboolean
rrun_net_holder_stop (const RrunConfig *config, GError **error)
{
  g_autofree char *dir = holder_dir (config);
  rrun_autofd int lock = -1;

  if (!lock_dir (dir, &lock, error))
    return FALSE;
  rrun_net_holder_stop_held (config);
  return TRUE;
}

void
rrun_net_holder_stop_held (const RrunConfig *config)
{
  g_autofree char *dir = holder_dir (config);
  int parent;

  parent = read_state_parent (dir);
  if (parent <= 0)
    return;
  kill (parent, SIGTERM);
  for (int i = 0; i < 500 && alive (parent, 0); i++)
    g_usleep (10000);
  if (alive (parent, 0))
    kill (parent, SIGKILL);
}

/* The rules the holder's namespace routes with: masquerade out of each non-internal
   network, no forwarding out of an internal one. nft(8) for now (docs/architecture.md). */
static char *
nft_rules (const GPtrArray *confs)
{
  GString *s = g_string_new ("table ip rrun {}\nflush table ip rrun\ntable ip rrun {\n");

  g_string_append (s, "  chain postrouting {\n"
                      "    type nat hook postrouting priority srcnat; policy accept;\n");
  for (guint i = 0; i < confs->len; i++)
    {
      const RrunNetConf *c = g_ptr_array_index (confs, i);

      if (!c->builtin && !c->internal && c->interface != NULL)
        g_string_append_printf (s, "    ip saddr %s oifname != \"%s\" masquerade\n", c->subnet,
                                c->interface);
    }
  g_string_append (s, "  }\n  chain forward {\n"
                      "    type filter hook forward priority filter; policy accept;\n");
  for (guint i = 0; i < confs->len; i++)
    {
      const RrunNetConf *c = g_ptr_array_index (confs, i);

      if (c->builtin || c->interface == NULL)
        continue;
      /* Networks are isolated from each other (a container on two of them routes between
         them itself); internal ones from everything else. */
      g_string_append_printf (s, "    iifname \"%s\" oifname \"rrun*\" oifname != \"%s\" drop\n",
                              c->interface, c->interface);
      if (c->internal)
        g_string_append_printf (s, "    iifname \"%s\" oifname != \"%s\" drop\n"
                                   "    oifname \"%s\" iifname != \"%s\" drop\n",
                                c->interface, c->interface, c->interface, c->interface);
    }
  /* The holder's own addresses: a container reaches its network's gateway (the DNS server)
     and no other network's. */
  g_string_append (s, "  }\n  chain input {\n"
                      "    type filter hook input priority filter; policy accept;\n");
  for (guint i = 0; i < confs->len; i++)
    {
      const RrunNetConf *c = g_ptr_array_index (confs, i);

      if (c->builtin || c->interface == NULL || c->gateway == NULL)
        continue;
      g_string_append_printf (s, "    iifname \"%s\" ip daddr != %s drop\n",
                              c->interface, c->gateway);
    }
  g_string_append (s, "  }\n}\n");
  return g_string_free (s, FALSE);
}

/* In the holder's namespaces: links, forwarding, rules. Idempotent. */
gboolean
rrun_net_holder_configure (const RrunConfig *config, GError **error)
{
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) confs = g_ptr_array_new ();
  g_autofree char *rules = NULL;
  g_autofree char *nft = NULL;
  g_autofree char *dir = holder_dir (config);
  g_autofree char *rules_path = g_build_filename (dir, "rules.nft", NULL);
  g_autofree char *err = NULL;
  int status = 0;

  if (!rrun_netconf_list (config, &all, error))
    return FALSE;
  for (guint i = 0; i < all->len; i++)
    if (!((RrunNetConf *) g_ptr_array_index (all, i))->builtin)
      g_ptr_array_add (confs, g_ptr_array_index (all, i));
  if (!rrun_net_holder_setup_links (confs, error))
    return FALSE;
  if (!g_file_set_contents ("/proc/sys/net/ipv4/ip_forward", "1\n", -1, NULL))
    {
      /* g_file_set_contents renames; a sysctl is written in place. */
      rrun_autofd int fd = open ("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);

      if (fd < 0 || write (fd, "1\n", 2) != 2)
        return rrun_throw_errno (error, errno, "cannot enable net.ipv4.ip_forward");
    }
  nft = g_find_program_in_path ("nft");
  if (nft == NULL)
    nft = g_file_test ("/usr/sbin/nft", G_FILE_TEST_IS_EXECUTABLE) ? g_strdup ("/usr/sbin/nft")
                                                                  : NULL;
  if (nft == NULL)
    {
      rrun_warning ("nft(8) not found: user-defined networks have no masquerade or "
                    "isolation rules");
      return TRUE;
    }
  rules = nft_rules (confs);
  if (!g_file_set_contents (rules_path, rules, -1, error))
    return FALSE;
  {
    const char *argv[] = { nft, "-f", rules_path, NULL };

    if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                       NULL, &err, &status, error))
      return FALSE;
  }
  if (!g_spawn_check_wait_status (status, NULL))
    return rrun_throw (error, RRUN_ERROR_FAILED, "nft could not load the network rules: %s",
                       err != NULL ? g_strchomp (err) : "");
  return TRUE;
}

/* The DNS server (network/dns.h) runs in the holder's child, on each network's gateway. */
typedef struct
{
  const RrunConfig *config;
  guint generation;
} DnsContext;

/* "GATEWAY:53=NAME" for each user-defined network. */
static GPtrArray *
dns_listens (const RrunConfig *config, GError **error)
{
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) listens = g_ptr_array_new_with_free_func (
      (GDestroyNotify) rrun_dns_listen_free);

  if (!rrun_netconf_list (config, &all, error))
    return NULL;
  for (guint i = 0; i < all->len; i++)
    {
      const RrunNetConf *c = g_ptr_array_index (all, i);
      g_autofree char *text = NULL;
      RrunDnsListen *l;

      if (c->builtin || c->gateway == NULL)
        continue;
      text = g_strdup_printf ("%s:53=%s", c->gateway, c->name);
      l = rrun_dns_listen_parse (text, error);
      if (l == NULL)
        return NULL;
      l->internal = c->internal;
      g_ptr_array_add (listens, l);
    }
  return g_steal_pointer (&listens);
}

/* RUNROOT/net-holder/dns: "GENERATION" of the last (re)load, for the sync to wait on. */
static void
dns_write_generation (DnsContext *ctx)
{
  g_autofree char *dir = holder_dir (ctx->config);
  g_autofree char *path = g_build_filename (dir, "dns", NULL);
  g_autofree char *text = g_strdup_printf ("%u\n", ++ctx->generation);
  g_autoptr(GError) local = NULL;

  if (!g_file_set_contents (path, text, -1, &local))
    rrun_warning ("%s", local->message);
}

static void
dns_reload (RrunDnsServer *server, gpointer data)
{
  DnsContext *ctx = data;
  g_autoptr(GError) local = NULL;
  g_autoptr(GPtrArray) listens = dns_listens (ctx->config, &local);

  if (listens == NULL || !rrun_dns_server_set_listeners (server, listens, &local))
    rrun_warning ("DNS: %s", local->message);
  dns_write_generation (ctx);
}

static RrunDnsServer *
dns_start (DnsContext *ctx, GError **error)
{
  g_autofree char *dir = holder_dir (ctx->config);
  g_autofree char *hosts = g_build_filename (dir, "hosts", NULL);
  g_autofree char *up_ip = NULL, *guest = NULL, *gw = NULL, *up_text = NULL;
  g_autoptr(RrunNetworkOptions) opts = rrun_network_options_new (NULL, error);
  g_autoptr(RrunDnsServer) server = NULL;
  g_autoptr(GPtrArray) listens = NULL;
  g_autoptr(GError) local = NULL;
  struct sockaddr_storage up;
  socklen_t up_len = 0;

  /* The upstream: rrun-net's DNS forwarder on the holder's tap0 (the default slirp
     addresses, as rrun_net_holder_main starts it), which relays to the host's resolvers. */
  if (opts == NULL || !rrun_network_options_addresses (opts, &guest, &gw, &up_ip, error))
    return NULL;
  up_text = g_strdup_printf ("%s:53", up_ip);
  if (!rrun_dns_parse_address (up_text, 53, &up, &up_len, error))
    return NULL;
  server = rrun_dns_server_new (hosts, (struct sockaddr *) &up, up_len, error);
  listens = dns_listens (ctx->config, error);
  if (server == NULL || listens == NULL)
    return NULL;
  if (!rrun_dns_server_set_listeners (server, listens, &local))
    rrun_warning ("DNS: %s", local->message);
  dns_write_generation (ctx);
  return g_steal_pointer (&server);
}

static guint
dns_read_generation (const RrunConfig *config)
{
  g_autofree char *dir = holder_dir (config);
  g_autofree char *path = g_build_filename (dir, "dns", NULL);
  g_autofree char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  return (guint) g_ascii_strtoull (text, NULL, 10);
}

gboolean
rrun_net_holder_ns_main (const RrunConfig *config, int argc, char **argv, GError **error)
{
  g_autoptr(RrunDnsServer) dns = NULL;
  g_autoptr(GError) local = NULL;
  DnsContext ctx = { .config = config };
  pid_t parent;
  char one = '1';

  if (argc != 2)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "usage: rrun __internal net-holder-ns PARENT (fds 3: userns, 4: ready)");
  parent = (pid_t) g_ascii_strtoll (argv[1], NULL, 10);
  if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid () != parent)
    return rrun_throw (error, RRUN_ERROR_FAILED, "the network holder's parent is gone");
  if (setns (3, CLONE_NEWUSER) < 0)
    return rrun_throw_errno (error, errno, "cannot enter the holder's user namespace");
  close (3);
  if (unshare (CLONE_NEWNET) < 0)
    return rrun_throw_errno (error, errno, "cannot create the holder's network namespace");
  if (!rrun_net_holder_configure (config, error))
    return FALSE;
  dns = dns_start (&ctx, &local);
  if (dns == NULL)
    rrun_warning ("%s; user-defined networks have no DNS", local->message);
  if (write (4, &one, 1) != 1)
    return rrun_throw_errno (error, errno, "cannot tell the holder it is ready");
  close (4);
  if (dns != NULL && !rrun_dns_server_run (dns, dns_reload, &ctx, &local))
    rrun_warning ("the DNS server stopped: %s", local->message);
  for (;;)
    pause (); /* SIGKILL from the parent or its death */
  return TRUE;
}

/* The DNS server listens on the networks made since: SIGHUP has it list them again; it
   writes a new generation once it has (bounded: a holder without DNS still routes). */
gboolean
rrun_net_holder_reload_dns (const RrunConfig *config, pid_t child, GError **error)
{
  guint generation = dns_read_generation (config);

  if (kill (child, SIGHUP) < 0)
    return rrun_throw_errno (error, errno, "cannot signal the network holder");
  for (gint64 end = g_get_monotonic_time () + DNS_RELOAD_TIMEOUT_US;
       dns_read_generation (config) == generation && g_get_monotonic_time () < end;)
    g_usleep (2000);
  return TRUE;
}

gboolean
rrun_net_holder_sync_main (const RrunConfig *config, int argc, char **argv, GError **error)
{
  g_autofree char *user = NULL;
  g_autofree char *net = NULL;
  rrun_autofd int user_fd = -1;
  rrun_autofd int net_fd = -1;

  if (argc != 2)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "usage: rrun __internal net-holder-sync PID");
  user = g_strdup_printf ("/proc/%s/ns/user", argv[1]);
  net = g_strdup_printf ("/proc/%s/ns/net", argv[1]);
  user_fd = open (user, O_RDONLY | O_CLOEXEC);
  net_fd = open (net, O_RDONLY | O_CLOEXEC);
  if (user_fd < 0 || net_fd < 0)
    return rrun_throw_errno (error, errno, "cannot open the holder's namespaces");
  if (setns (user_fd, CLONE_NEWUSER) < 0 || setns (net_fd, CLONE_NEWNET) < 0)
    return rrun_throw_errno (error, errno, "cannot enter the holder's namespaces");
  if (!rrun_net_holder_configure (config, error))
    return FALSE;
  return rrun_net_holder_reload_dns (config, (pid_t) g_ascii_strtoll (argv[1], NULL, 10),
                                     error);
}

static volatile sig_atomic_t stop_requested;

static void
on_stop (int signo)
{
  (void) signo;
  stop_requested = 1;
}

gboolean
rrun_net_holder_main (const RrunConfig *config, int argc, char **argv, GError **error)
{
  g_autofree char *dir = holder_dir (config);
  g_autofree char *state_path = g_build_filename (dir, "state", NULL);
  g_autofree char *state = NULL;
  g_autoptr(RrunIdMap) map = NULL;
  g_autoptr(RrunEarlyUserns) early = NULL;
  g_autoptr(RrunNetworkOptions) opts = NULL;
  g_autoptr(RrunNetwork) net = NULL;
  g_autoptr(GPtrArray) cargv = NULL;
  rrun_autofd int ready_r = -1;
  rrun_autofd int ready_w = -1;
  int pipefd[2];
  gint source_fds[2], target_fds[2] = { 3, 4 };
  GPid child = 0;
  char byte = 0;
  struct sigaction sa = { .sa_handler = on_stop };

  (void) argv;
  if (argc != 1)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "usage: rrun __internal net-holder (fd 3: status)");
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGINT, &sa, NULL);
  signal (SIGHUP, SIG_IGN);
  /* The user's full subordinate map: the map containers on these networks get. */
  if (!rrun_idmap_resolve ("auto", &map, error)
      || !rrun_early_userns_start (map, &early, error)
      || !rrun_early_userns_finish (early, error))
    return FALSE;
  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    return rrun_throw_errno (error, errno, "cannot create a pipe");
  ready_r = pipefd[0];
  ready_w = pipefd[1];
  cargv = self_argv (config, "net-holder-ns");
  g_ptr_array_add (cargv, g_strdup_printf ("%d", (int) getpid ()));
  g_ptr_array_add (cargv, NULL);
  source_fds[0] = rrun_early_userns_fd (early);
  source_fds[1] = ready_w;
  if (!g_spawn_async_with_pipes_and_fds (NULL, (const char *const *) cargv->pdata, NULL,
                                         G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, -1, -1, -1,
                                         source_fds, target_fds, 2, &child, NULL, NULL, NULL,
                                         error))
    return FALSE;
  rrun_close_fdp (&ready_w);
  while (read (ready_r, &byte, 1) < 0 && errno == EINTR)
    ;
  if (byte != '1')
    {
      kill (child, SIGKILL);
      waitpid (child, NULL, 0);
      return rrun_throw (error, RRUN_ERROR_FAILED, "the network namespace could not be set up");
    }

  /* Outbound: one rrun-net for the whole namespace (tap0, its default route). */
  opts = rrun_network_options_new (NULL, error);
  if (opts == NULL)
    return FALSE;
  opts->mode = RRUN_NETWORK_SLIRP;
  if (config->dns_upstream != NULL)
    {
      g_free (opts->dns_upstream);
      opts->dns_upstream = g_strdup (config->dns_upstream);
    }
  if (!rrun_network_start (opts, child, dir, &net, error))
    {
      kill (child, SIGKILL);
      waitpid (child, NULL, 0);
      return FALSE;
    }

  state = g_strdup_printf ("%d %" G_GUINT64_FORMAT " %d\n", (int) getpid (),
                           rrun_pid1_start_time (getpid ()), (int) child);
  if (!g_file_set_contents (state_path, state, -1, error))
    {
      kill (child, SIGKILL);
      waitpid (child, NULL, 0);
      return FALSE;
    }
  {
    g_autofree char *ok = g_strdup_printf ("ok %d\n", (int) child);

    if (write (3, ok, strlen (ok)) < 0)
      rrun_warning ("cannot tell rrun the holder is ready: %s", g_strerror (errno));
    close (3);
  }

  /* Wait for SIGTERM, or for the child or rrun-net to end (the holder is broken then). */
  while (!stop_requested)
    {
      int st;
      pid_t w = waitpid (-1, &st, 0);

      if (w < 0 && errno == EINTR)
        continue;
      if (w == child || w == rrun_network_get_helper_pid (net) || w < 0)
        break;
    }
  {
    g_autofree char *now = NULL;

    if (g_file_get_contents (state_path, &now, NULL, NULL) && g_str_equal (now, state))
      unlink (state_path);
  }
  kill (child, SIGKILL);
  waitpid (child, NULL, WNOHANG);
  return TRUE;
}
