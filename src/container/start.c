/* rrun_container_start: carry out the plan create made, and record the running state. */
#include "container/container-private.h"
#include "container/hooks.h"
#include "child/plan.h"
#include "error.h"
#include "userns/idmap.h"
#include "image/tool.h"
#include "log.h"
#include "container/namespaces.h"
#include "network/join.h"
#include "network/network.h"
#include "network/usernet.h"
#include "overlay/overlay.h"
#include "process/caps.h"
#include "process/relay.h"
#include "process/seccomp.h"
#include "process/command.h"
#include "process/tty.h"
#include "rootfs/plan.h"
#include "rootfs/path-probe.h"
#include "rootfs/mount-args.h"
#include "container/pid1.h"
#include "container/record.h"
#include "container/signal-name.h"
#include "storage/store.h"
#include "userns/keeper.h"
#include "util/fd.h"
#include "util/path.h"

#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Before the child unshares its cgroup namespace: into the container's cgroup. */
static gboolean
after_clone (pid_t holder, gpointer user_data, GError **error)
{
  RrunContainer *c = user_data;

  return c->cgroup == NULL || rrun_cgroup_enter (c->cgroup, holder, error);
}

static void
namespaces_ready (pid_t holder, gpointer user_data)
{
  RrunContainer *c = user_data;

  rrun_network_attach_begin (c->net, holder);
}

/* PID 1 exists and has not pivoted its root yet: the OCI createRuntime hooks. */
static gboolean
pid1_created (pid_t pid1, gpointer user_data, GError **error)
{
  return rrun_container_hooks_created (user_data, pid1, error);
}

static gboolean
before_exec (pid_t pid1, int pty_master, gpointer user_data, GError **error)
{
  RrunContainer *c = user_data;

  /* The command sees the network ready: tap0 up, ports published. The helper was spawned
     before the namespaces existed and has been waiting for a pid in them: the holder's,
     which shares the command's network namespace and is in the user namespace that owns
     it (with --userns=nomap the command is in a nested one, which does not). */
  if (c->usernet_links != NULL
      && !rrun_usernet_attach (c->config, c->usernet_holder, c->usernet_links, c->proc.holder,
                               error))
    return FALSE;
  if (!rrun_network_attach (c->net, c->net_opts, c->proc.holder, error))
    return FALSE;
  rrun_debug_phase ("network ready");

  if (pty_master >= 0)
    {
      rrun_tty_copy_winsize (STDIN_FILENO, pty_master);
      /* Raw mode only now: an error before this point leaves the terminal untouched. */
      if (!rrun_tty_make_raw (&c->tty, STDIN_FILENO, error))
        return FALSE;
    }
  return TRUE;
}

/* container.json as the container is now (running, or created by `rrun create`), and
   the keep marker of a container without --rm. */
gboolean
rrun_container_write_state (RrunContainer *c, RrunStatus status, GError **error)
{
  const RrunConfig *config = c->config;
  const RrunContainerSpec *o = c->spec;
  pid_t pid1 = status == RRUN_STATUS_RUNNING ? c->proc.pid1 : 0;

  {
    g_autofree char *command = g_strjoinv (" ", c->argv);
    RrunState state = { c->id, o->name, o->image, command, pid1,
                        c->created ? c->created : g_get_real_time () / G_USEC_PER_SEC,
                        (char *) rrun_cgroup_path (c->cgroup), c->run_dir };

    state.args = c->argv;
    state.image_id = c->image->id;
    state.network = o->network ? o->network : config->network;
    state.volumes = o->volumes;
    state.volumes_from = o->volumes_from;
    state.tmpfs = o->tmpfs;
    state.userns = (char *) rrun_idmap_mode_name (c->map->mode);
    /* The driver that mounts (or will mount) its writable layer: rrun cp of the stopped
       container mounts it with the same one. */
    if (c->overlay != NULL)
      state.storage_driver = c->overlay->kernel && !c->proc.fuse_fallback
                               ? (char *) "overlay"
                               : (char *) "fuse-overlayfs";
    state.status = status;
    state.exit_code = RRUN_EXIT_CODE_UNKNOWN;
    state.started = status == RRUN_STATUS_RUNNING ? g_get_real_time () * 1000 : 0;
    state.pid_start = pid1 > 0 ? rrun_pid1_start_time (pid1) : 0;
    state.rm = o->rm;
    state.detached = o->detach;
    state.restart_count = c->restart_count;
    state.stop_signal = SIGTERM;
    if (!(o->stop_signal && rrun_signal_parse (o->stop_signal, &state.stop_signal, NULL))
        && c->image->config->stop_signal && *c->image->config->stop_signal
        && !rrun_signal_parse (c->image->config->stop_signal, &state.stop_signal, NULL))
      state.stop_signal = SIGTERM;
    if (!rrun_container_spec_stop_timeout (o, &state.stop_timeout, NULL))
      state.stop_timeout = 10;

    /* The record's container.json: for ps, port, inspect, and the gc. */
    if (!rrun_state_write (config, &state, o, error))
      return FALSE;
    c->state_written = TRUE;
    /* Kept once it ends (docs/architecture.md, "Containers: spec, verbs, record"): the
       marker after the state, so that a kill before it leaves debris, not a record
       without state. */
    if ((!o->rm || c->created_only) && !c->restart
        && !rrun_container_mark_kept (config, c->id, error))
      return FALSE;
  }
  return TRUE;
}

/* --sdnotify conmon (podman's default): rrun tells systemd the container is up, with PID 1
   as the main pid, when it runs under a unit that waits for it (NOTIFY_SOCKET). ignore:
   nothing is sent; container: the command is expected to notify itself. */
static void
notify_ready (RrunContainer *c)
{
  const char *sock = g_getenv ("NOTIFY_SOCKET");
  const char *mode = c->spec->sdnotify ? c->spec->sdnotify : "conmon";
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  g_autofree char *msg = NULL;
  rrun_autofd int fd = -1;
  gsize len;

  if (sock == NULL || strcmp (mode, "conmon") != 0 || (sock[0] != '/' && sock[0] != '@')
      || (len = strlen (sock)) >= sizeof addr.sun_path)
    return;
  memcpy (addr.sun_path, sock, len);
  if (sock[0] == '@')
    addr.sun_path[0] = '\0';
  fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  msg = g_strdup_printf ("READY=1\nMAINPID=%d\n", (int) c->proc.pid1);
  if (fd >= 0)
    (void) !sendto (fd, msg, strlen (msg), MSG_NOSIGNAL, (struct sockaddr *) &addr,
                    (socklen_t) (offsetof (struct sockaddr_un, sun_path) + len));
}

gboolean
rrun_container_start (RrunContainer *c, GError **error)
{
  RrunStartHooks hooks = { .after_clone = after_clone,
                           .namespaces_ready = namespaces_ready,
                           .pid1_created = pid1_created,
                           .before_exec = before_exec,
                           .user_data = c };
  sigset_t fwd;

  /* Block the forwarded signals before clone, so none is lost before the relay reads
     them; the container's processes unblock them before exec. */
  rrun_relay_signal_set (&fwd);
  /* A shell starts background jobs with SIGINT and SIGQUIT ignored, and an ignored signal
     is discarded even while blocked: restore the default so the signalfd sees them. */
  for (int s = 1; s < NSIG; s++)
    if (sigismember (&fwd, s))
      signal (s, SIG_DFL);
  sigprocmask (SIG_BLOCK, &fwd, &c->old_mask);
  c->signals_blocked = TRUE;
  c->sigfd = signalfd (-1, &fwd, SFD_CLOEXEC);
  if (c->sigfd < 0)
    return rrun_throw_errno (error, errno, "cannot create a signalfd");

  /* The network helper starts now, so that its exec, libraries and libslirp set-up overlap
     the id maps and mounts; it joins the container once PID 1 exists (before_exec). */
  if (!rrun_network_spawn (c->net_opts, c->run_dir, &c->net, error))
    return FALSE;
  rrun_network_get_setup_fds (c->net, c->plan.close_fds);
  rrun_debug_phase ("network helper spawned");
  if (!rrun_namespaces_start (&c->plan, c->map, c->early, &hooks, &c->proc, error))
    return FALSE;
  rrun_close_fdp (&c->init_fd); /* PID 1 has exec'd it */
  rrun_debug_phase ("command started");
  rrun_container_hooks_poststart (c);
  if (!rrun_container_write_state (c, RRUN_STATUS_RUNNING, error))
    return FALSE;
  rrun_debug_phase ("state written");
  if (c->spec->pidfile != NULL)
    {
      g_autofree char *text = g_strdup_printf ("%d\n", (int) c->proc.pid1);

      if (!g_file_set_contents (c->spec->pidfile, text, -1, error))
        {
          g_prefix_error (error, "--pidfile: ");
          return FALSE;
        }
    }
  notify_ready (c);
  return TRUE;
}
