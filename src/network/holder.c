/* The per-user network holder: network/holder.h. */
#include "network/holder.h"
#include "image/tool.h"
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

char *
rrun_net_holder_dir (const RrunConfig *config)
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

  if (g_mkdir_with_parents (dir, 0700) < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", dir);
  return rrun_fd_lock_path (path, out_fd, error);
}

/* rrun (exe NULL: this program) or rrun-image with this internal command. */
static GPtrArray *
self_argv (const RrunConfig *config, const char *command, const char *exe)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (argv, g_strdup (exe != NULL ? exe : "/proc/self/exe"));
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
  g_autofree char *tool = rrun_image_tool_find (error);
  g_autoptr(GPtrArray) argv = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  /* The set-up's netlink code (libnftnl, libmnl) is rrun-image's (holder-ns.c). */
  if (tool == NULL)
    return FALSE;
  argv = self_argv (config, "net-holder-sync", tool);
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
  g_autofree char *dir = rrun_net_holder_dir (config);

  return read_state (dir);
}

gboolean
rrun_net_holder_lock (const RrunConfig *config, int *out_fd, GError **error)
{
  g_autofree char *dir = rrun_net_holder_dir (config);

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
  g_autofree char *dir = rrun_net_holder_dir (config);
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
  argv = self_argv (config, "net-holder", NULL);
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
  g_autofree char *dir = rrun_net_holder_dir (config);
  rrun_autofd int lock = -1;

  if (!lock_dir (dir, &lock, error))
    return FALSE;
  rrun_net_holder_stop_held (config);
  return TRUE;
}

void
rrun_net_holder_stop_held (const RrunConfig *config)
{
  g_autofree char *dir = rrun_net_holder_dir (config);
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
  g_autofree char *dir = rrun_net_holder_dir (config);
  g_autofree char *state_path = g_build_filename (dir, "state", NULL);
  g_autofree char *state = NULL;
  g_autoptr(RrunIdMap) map = NULL;
  g_autoptr(RrunEarlyUserns) early = NULL;
  g_autoptr(RrunNetworkOptions) opts = NULL;
  g_autoptr(RrunNetwork) net = NULL;
  g_autoptr(GPtrArray) cargv = NULL;
  g_autofree char *tool = NULL;
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
  tool = rrun_image_tool_find (error);
  if (tool == NULL)
    return FALSE;
  cargv = self_argv (config, "net-holder-ns", tool);
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
