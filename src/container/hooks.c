/* OCI hooks from CDI specs (docs/architecture.md, "Devices and GPUs"), at the hook points of
   the runtime spec, as crun runs them:

   - createRuntime (and prestart): on the host, as the user, once PID 1 exists and before
     it pivots its root; a failure stops the start.
   - createContainer: by PID 1 in the container's namespaces, its root file system mounted,
     before pivot_root (child/hooks.c, planned here); a failure stops the start.
   - startContainer: by the container's process just before exec, in its root.
   - poststart: on the host once the command runs; poststop: once the container is gone.
     A failure of these is a warning.

   Each hook gets exactly its own environment and the container's state JSON on stdin, and
   is killed after its timeout. */
#include "container/hooks.h"
#include "container/container-private.h"
#include "error.h"
#include "log.h"
#include "util/fd.h"
#include "util/json-value.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char *
state_json (RrunContainer *c, const char *status, pid_t pid)
{
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();

  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "ociVersion", "1.0.2");
  rrun_json_builder_member_string (b, "id", c->id);
  rrun_json_builder_member_string (b, "status", status);
  if (pid > 0)
    rrun_json_builder_member_int (b, "pid", pid);
  /* No OCI bundle is made: the run dir is the nearest thing (hostname, hosts, ...). */
  rrun_json_builder_member_string (b, "bundle", c->run_dir);
  rrun_json_builder_set_member_name (b, "annotations");
  rrun_json_builder_begin_object (b);
  for (guint i = 0; c->spec->annotations && c->spec->annotations[i]; i++)
    {
      g_auto(GStrv) kv = g_strsplit (c->spec->annotations[i], "=", 2);

      rrun_json_builder_member_string (b, kv[0], kv[1] ? kv[1] : "");
    }
  rrun_json_builder_end_object (b);
  rrun_json_builder_end_object (b);
  return rrun_json_builder_to_text (b, FALSE);
}

static int
state_memfd (const char *text, GError **error)
{
  rrun_autofd int fd = memfd_create ("rrun-hook-state", MFD_CLOEXEC);

  if (fd < 0)
    {
      rrun_throw_errno (error, errno, "cannot create a memfd");
      return -1;
    }
  if (!rrun_fd_write_all (fd, text, strlen (text), error))
    return -1;
  return rrun_steal_fd (&fd);
}

/* The one text of a failed hook, here and for the child's report. */
void
rrun_hooks_failure_error (const char *phase, const char *path, int step, int value,
                          GError **error)
{
  if (step == RRUN_STEP_HOOK_TIMEOUT)
    rrun_throw (error, RRUN_ERROR_CHILD_SETUP,
                "cannot run the %s hook \"%s\": killed after its timeout of %d s", phase, path,
                value);
  else if (step == RRUN_STEP_HOOK_STATUS && value < 0)
    rrun_throw (error, RRUN_ERROR_CHILD_SETUP,
                "cannot run the %s hook \"%s\": killed by signal %d", phase, path, -value);
  else if (step == RRUN_STEP_HOOK_STATUS)
    rrun_throw (error, RRUN_ERROR_CHILD_SETUP,
                "cannot run the %s hook \"%s\": it exited with status %d", phase, path, value);
  else
    rrun_throw (error, RRUN_ERROR_EXEC_FAILED, "cannot run the %s hook \"%s\": %s", phase,
                path, g_strerror (value));
  rrun_add_hint (error, "the hook comes from a CDI spec of a --device or --gpus device "
                        "(rrun info lists them); fix the spec or leave the device out");
}

/* Run one hook on the host: posix_spawn (a vfork-like clone, fine with threads), stdin the
   state, other fds closed, default signals and none blocked, waited for on a pidfd. */
static gboolean
run_host_hook (const RrunOciHook *h, int state_fd, GError **error)
{
  const char *phase = h->name ? h->name : rrun_hook_phase_name (h->phase);
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t none, all;
  pid_t pid;
  int rc, status = 0, timed_out = 0;
  char *empty[] = { NULL };

  if (lseek (state_fd, 0, SEEK_SET) < 0)
    return rrun_throw_errno (error, errno, "cannot rewind the container state");
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, state_fd, 0);
  posix_spawn_file_actions_addclosefrom_np (&fa, 3);
  posix_spawnattr_init (&attr);
  sigemptyset (&none);
  sigfillset (&all);
  posix_spawnattr_setsigmask (&attr, &none);
  posix_spawnattr_setsigdefault (&attr, &all);
  /* A process group of its own: a timeout kills what the hook started too (a `sleep` left
     behind would hold rrun's stdout open). */
  posix_spawnattr_setpgroup (&attr, 0);
  posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
                                     | POSIX_SPAWN_SETPGROUP);
  rc = posix_spawn (&pid, h->path, &fa, &attr, h->argv, h->env ? h->env : empty);
  posix_spawn_file_actions_destroy (&fa);
  posix_spawnattr_destroy (&attr);
  if (rc != 0)
    {
      rrun_hooks_failure_error (phase, h->path, RRUN_STEP_HOOK, rc, error);
      return FALSE;
    }
  if (h->timeout_s > 0)
    {
      rrun_autofd int pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
      struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
      int n = 1;

      if (pidfd >= 0)
        while ((n = poll (&pfd, 1, h->timeout_s * 1000)) < 0 && errno == EINTR)
          ;
      if (n == 0)
        {
          kill (-pid, SIGKILL);
          kill (pid, SIGKILL);
          timed_out = 1;
        }
    }
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return rrun_throw_errno (error, errno, "cannot wait for the %s hook \"%s\"", phase,
                               h->path);
  if (timed_out)
    rrun_hooks_failure_error (phase, h->path, RRUN_STEP_HOOK_TIMEOUT, h->timeout_s, error);
  else if (WIFSIGNALED (status))
    rrun_hooks_failure_error (phase, h->path, RRUN_STEP_HOOK_STATUS, -WTERMSIG (status),
                              error);
  else if (WIFEXITED (status) && WEXITSTATUS (status) != 0)
    rrun_hooks_failure_error (phase, h->path, RRUN_STEP_HOOK_STATUS, WEXITSTATUS (status),
                              error);
  else
    return TRUE;
  return FALSE;
}

static gboolean
run_host_phase (RrunContainer *c, RrunHookPhase phase, const char *status, pid_t pid,
                gboolean warn_only, GError **error)
{
  g_autoptr(GPtrArray) hooks = rrun_device_edits_hooks (c->devices, phase);
  g_autofree char *state = NULL;
  rrun_autofd int fd = -1;

  if (hooks->len == 0)
    return TRUE;
  state = state_json (c, status, pid);
  if ((fd = state_memfd (state, error)) < 0)
    return FALSE;
  for (guint i = 0; i < hooks->len; i++)
    {
      g_autoptr(GError) local = NULL;

      if (run_host_hook (hooks->pdata[i], fd, &local))
        continue;
      if (!warn_only)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      /* the first line only: the hint is about starting, which is over */
      *strchrnul (local->message, '\n') = '\0';
      rrun_warning ("%s", local->message);
    }
  g_debug ("%s hooks run", rrun_hook_phase_name (phase));
  return TRUE;
}

static void
plan_child_hooks (RrunContainer *c, RrunHookPhase phase, GArray **out)
{
  g_autoptr(GPtrArray) hooks = rrun_device_edits_hooks (c->devices, phase);

  *out = g_array_new (FALSE, TRUE, sizeof (RrunChildHook));
  for (guint i = 0; i < hooks->len; i++)
    {
      const RrunOciHook *h = hooks->pdata[i];
      g_autofree char *subject = g_strconcat (h->name, " ", h->path, NULL);
      RrunChildHook ch = { h->path, h->argv, h->env, h->timeout_s,
                           g_string_chunk_insert (c->strings, subject) };

      g_array_append_val (*out, ch);
    }
}

gboolean
rrun_container_hooks_prepare (RrunContainer *c, GError **error)
{
  c->plan.hook_state_fd = -1;
  if (c->devices == NULL || c->devices->hooks->len == 0)
    return TRUE;
  plan_child_hooks (c, RRUN_HOOK_CREATE_CONTAINER, &c->create_hooks);
  plan_child_hooks (c, RRUN_HOOK_START_CONTAINER, &c->start_hooks);
  c->plan.create_container_hooks = (const RrunChildHook *) c->create_hooks->data;
  c->plan.n_create_container_hooks = c->create_hooks->len;
  c->plan.start_container_hooks = (const RrunChildHook *) c->start_hooks->data;
  c->plan.n_start_container_hooks = c->start_hooks->len;
  if (c->create_hooks->len + c->start_hooks->len > 0)
    {
      /* written once PID 1 exists (its pid is in the state) */
      c->hook_state_fd = memfd_create ("rrun-hook-state", MFD_CLOEXEC);
      if (c->hook_state_fd < 0)
        return rrun_throw_errno (error, errno, "cannot create a memfd");
      c->plan.hook_state_fd = c->hook_state_fd;
    }
  return TRUE;
}

gboolean
rrun_container_hooks_created (RrunContainer *c, pid_t pid1, GError **error)
{
  if (c->devices == NULL || c->devices->hooks->len == 0)
    return TRUE;
  c->hooks_started = TRUE;
  if (c->hook_state_fd >= 0)
    {
      g_autofree char *state = state_json (c, "created", pid1);

      if (ftruncate (c->hook_state_fd, 0) < 0)
        return rrun_throw_errno (error, errno, "cannot write the container state for its "
                                               "hooks");
      if (!rrun_fd_write_all (c->hook_state_fd, state, strlen (state), error))
        return FALSE;
    }
  return run_host_phase (c, RRUN_HOOK_CREATE_RUNTIME, "created", pid1, FALSE, error);
}

void
rrun_container_hooks_poststart (RrunContainer *c)
{
  if (c->devices != NULL && c->devices->hooks->len > 0)
    run_host_phase (c, RRUN_HOOK_POSTSTART, "running", c->proc.pid1, TRUE, NULL);
}

void
rrun_container_hooks_poststop (RrunContainer *c)
{
  if (c->hooks_started && c->devices != NULL)
    run_host_phase (c, RRUN_HOOK_POSTSTOP, "stopped", 0, TRUE, NULL);
  c->hooks_started = FALSE;
}
