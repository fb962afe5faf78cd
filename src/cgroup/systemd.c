/* The systemd backend: a transient scope rrun-<id>.scope with Delegate=yes from the
   user's systemd manager on the session bus, as `systemd-run --user --scope` makes,
   but over GDBus with no process to spawn on the start-up path. */
#define G_LOG_DOMAIN "rrun-cgroup"

#include "cgroup/cgroup-private.h"
#include "error.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYSTEMD_NAME "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"
/* The scope job is quick; a manager that takes longer is stuck (bounded wait). */
#define SCOPE_TIMEOUT_MS 10000

static void
add (GVariantBuilder *b, const char *name, GVariant *value)
{
  g_variant_builder_add (b, "(sv)", name, value);
}

/* The scope is only an envelope: Delegate=yes hands its subtree to the user, and the
   limits go into the leaf below it (the "container" leaf), where `rrun update` can change
   them. systemd owns the scope's own memory.max and friends (it rewrites them from its
   unit properties), so rrun never writes those. */
GVariant *
rrun_cgroup_systemd_properties (const char *id, pid_t pid)
{
  GVariantBuilder b;
  guint32 pids[1] = { (guint32) pid };

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sv)"));
  add (&b, "Description", g_variant_new_take_string (g_strdup_printf ("rrun container %s", id)));
  add (&b, "PIDs", g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32, pids, 1, sizeof pids[0]));
  add (&b, "Delegate", g_variant_new_boolean (TRUE));
  /* A failed scope is collected too, so a crashed container leaves no unit behind. */
  add (&b, "CollectMode", g_variant_new_string ("inactive-or-failed"));
  return g_variant_builder_end (&b);
}

GVariant *
rrun_cgroup_systemd_start_parameters (const char *id, pid_t pid)
{
  g_autofree char *unit = g_strdup_printf ("rrun-%s.scope", id);

  return g_variant_new ("(ss@a(sv)@a(sa(sv)))", unit, "fail",
                        rrun_cgroup_systemd_properties (id, pid),
                        g_variant_new_array (G_VARIANT_TYPE ("(sa(sv))"), NULL, 0));
}

gboolean
rrun_cgroup_systemd_connect (GDBusConnection **out_bus, char **out_why)
{
  const char *address = g_getenv ("DBUS_SESSION_BUS_ADDRESS");
  g_autofree char *fallback = NULL;
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) local = NULL;
  gboolean has_owner = FALSE;

  if (address == NULL || *address == '\0')
    {
      /* su and ssh sessions often lack the variable though the user bus runs; never
         let GLib autolaunch a bus (dbus-launch) on the start-up path. */
      const char *xdg = g_getenv ("XDG_RUNTIME_DIR");
      g_autofree char *socket = xdg ? g_build_filename (xdg, "bus", NULL) : NULL;
      g_autofree char *escaped = NULL;

      if (socket == NULL || access (socket, F_OK) < 0)
        {
          *out_why = g_strdup ("no session bus: DBUS_SESSION_BUS_ADDRESS is unset and "
                               "there is no $XDG_RUNTIME_DIR/bus");
          return FALSE;
        }
      escaped = g_dbus_address_escape_value (socket);
      address = fallback = g_strconcat ("unix:path=", escaped, NULL);
    }
  bus = g_dbus_connection_new_for_address_sync (
      address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &local);
  if (bus == NULL)
    {
      *out_why = g_strdup_printf ("cannot connect to the session bus: %s", local->message);
      return FALSE;
    }
  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner",
                                       g_variant_new ("(s)", SYSTEMD_NAME),
                                       G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, 2000,
                                       NULL, &local);
  if (reply != NULL)
    g_variant_get (reply, "(b)", &has_owner);
  if (!has_owner)
    {
      *out_why = reply ? g_strdup ("the session bus has no " SYSTEMD_NAME)
                       : g_strdup_printf ("cannot ask the session bus: %s", local->message);
      return FALSE;
    }
  *out_bus = g_steal_pointer (&bus);
  return TRUE;
}

typedef struct
{
  char *job;          /* our job's object path, once StartTransientUnit answered */
  GHashTable *seen;   /* job path -> result, for signals that come before the reply */
  char *result;
  gboolean timed_out;
} JobWait;

static void
on_job_removed (GDBusConnection *bus, const char *sender, const char *path,
                const char *iface, const char *signal, GVariant *params, gpointer data)
{
  JobWait *w = data;
  guint32 id;
  const char *job, *unit, *result;

  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(uoss)")))
    return;
  g_variant_get (params, "(u&o&s&s)", &id, &job, &unit, &result);
  if (w->job != NULL && strcmp (job, w->job) == 0)
    w->result = g_strdup (result);
  else if (w->job == NULL)
    g_hash_table_insert (w->seen, g_strdup (job), g_strdup (result));
}

static gboolean
on_timeout (gpointer data)
{
  ((JobWait *) data)->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
rrun_cgroup_systemd_start (GDBusConnection *bus, const char *id, pid_t pid, guint timeout_ms,
                           GError **error)
{
  g_autoptr(GMainContext) ctx = g_main_context_new ();
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(GSource) timer = NULL;
  JobWait w = { 0 };
  gboolean ok = FALSE;
  guint sub;

  w.seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_main_context_push_thread_default (ctx);
  /* Subscribe first: the job may finish before the method reply arrives. The manager
     sends JobRemoved to the client that queued the job without Subscribe(). */
  sub = g_dbus_connection_signal_subscribe (bus, SYSTEMD_NAME, SYSTEMD_MANAGER, "JobRemoved",
                                            SYSTEMD_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                            on_job_removed, &w, NULL);
  reply = g_dbus_connection_call_sync (bus, SYSTEMD_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                       "StartTransientUnit",
                                       rrun_cgroup_systemd_start_parameters (id, pid),
                                       G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE,
                                       (int) timeout_ms, NULL, &local);
  if (reply == NULL)
    {
      g_dbus_error_strip_remote_error (local);
      rrun_throw (error, RRUN_ERROR_FAILED, "cannot start systemd scope \"rrun-%s.scope\": %s",
                  id, local->message);
      goto out;
    }
  g_variant_get (reply, "(o)", &w.job);
  w.result = g_strdup (g_hash_table_lookup (w.seen, w.job));
  timer = g_timeout_source_new (timeout_ms);
  g_source_set_callback (timer, on_timeout, &w, NULL);
  g_source_attach (timer, ctx);
  while (w.result == NULL && !w.timed_out)
    g_main_context_iteration (ctx, TRUE);
  g_source_destroy (timer);
  if (w.result == NULL)
    rrun_throw (error, RRUN_ERROR_FAILED,
                "cannot start systemd scope \"rrun-%s.scope\": no answer in %u ms", id,
                timeout_ms);
  else if (strcmp (w.result, "done") != 0)
    rrun_throw (error, RRUN_ERROR_FAILED,
                "cannot start systemd scope \"rrun-%s.scope\": the job ended \"%s\"", id,
                w.result);
  else
    ok = TRUE;

out:
  g_dbus_connection_signal_unsubscribe (bus, sub);
  g_main_context_pop_thread_default (ctx);
  g_hash_table_unref (w.seen);
  g_free (w.job);
  g_free (w.result);
  return ok;
}

/* Below a Delegate=yes scope the user owns the subtree, not the scope's own attribute
   files: the container goes into a leaf, which holds its limits. */
#define CONTAINER_LEAF "container"

static gboolean
systemd_enter (RrunCgroup *cg, pid_t pid, GError **error)
{
  g_autofree char *proc = g_strdup_printf ("/proc/%d/cgroup", (int) pid);
  g_autofree char *text = NULL;
  g_autofree char *rel = NULL;
  g_autofree char *controllers = NULL;
  g_autofree char *scope = NULL;
  g_autofree char *leaf = NULL;
  char buf[32];
  rrun_autofd int scopefd = -1;
  rrun_autofd int leaffd = -1;
  guint missing;

  if (!rrun_cgroup_systemd_start (cg->bus, cg->id, pid, SCOPE_TIMEOUT_MS, error))
    return FALSE;
  if (!g_file_get_contents (proc, &text, NULL, error))
    return FALSE;
  if (!rrun_cgroup_parse_proc_cgroup (text, &rel))
    return rrun_throw (error, RRUN_ERROR_FAILED,
                       "cannot find the cgroup of the container: no 0:: line in %s", proc);
  scope = rrun_cgroup_dir_for (cg->mount, "/", rel);
  /* From here on, destroy kills and removes what is below the scope. */
  cg->path = g_strdup (scope);
  scopefd = open (scope, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (scopefd < 0)
    return rrun_throw_errno (error, errno, "cannot open cgroup \"%s\"", scope);
  /* systemd enables what a delegated unit asks for only if user@.service has it. */
  if (cg->needed != 0)
    {
      if (!rrun_fd_read_file_at (scopefd, "cgroup.controllers", &controllers, NULL, error))
        return FALSE;
      missing = cg->needed & ~rrun_cgroup_controllers_from_text (controllers);
      if (missing != 0)
        {
          guint bit = missing & -missing;

          rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                      "cannot apply %s: the %s controller is not delegated to the systemd "
                      "user manager",
                      rrun_cgroup_limits_flag_for (cg->limits, bit),
                      rrun_cgroup_controller_name (bit));
          rrun_add_hint (error, "an administrator can set Delegate=cpu cpuset io memory pids "
                                "for user@.service (systemctl edit user@.service)");
          return FALSE;
        }
    }
  leaf = g_build_filename (scope, CONTAINER_LEAF, NULL);
  if (mkdirat (scopefd, CONTAINER_LEAF, 0755) < 0)
    return rrun_throw_errno (error, errno, "cannot create cgroup \"%s\"", leaf);
  leaffd = openat (scopefd, CONTAINER_LEAF, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (leaffd < 0)
    return rrun_throw_errno (error, errno, "cannot open cgroup \"%s\"", leaf);
  g_snprintf (buf, sizeof buf, "%d", (int) pid);
  if (!rrun_cgroup_write_at (leaffd, leaf, "cgroup.procs", buf, error))
    {
      g_prefix_error (error, "cannot move the container into its cgroup: ");
      return FALSE;
    }
  g_free (cg->path);
  cg->path = g_strdup (leaf);
  /* The scope is empty now, so it may enable controllers for its leaf; the child waits
     for the go byte, so the limits are in place before the command runs. */
  if (cg->needed != 0
      && (!rrun_cgroup_fs_enable_controllers (scopefd, scope, TRUE, cg->limits, cg->needed,
                                              error)
          || !rrun_cgroup_fs_write_limits (leaffd, leaf, cg->limits, error)))
    return FALSE;
  return TRUE;
}

static void
systemd_destroy (RrunCgroup *cg)
{
  rrun_autofd int fd = -1;

  if (cg->path == NULL)
    return;
  /* The scope stops by itself once empty; make it empty now. */
  fd = open (cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0 && !rrun_cgroup_write_at (fd, cg->path, "cgroup.kill", "1", NULL))
    g_debug ("no cgroup.kill in \"%s\"", cg->path);
  /* The leaf, so that systemd finds its scope empty of cgroups as well as of processes
     (it would trim it itself, but not before the next rrun looks). */
  if (g_str_has_suffix (cg->path, "/" CONTAINER_LEAF))
    for (int i = 0; i < 200 && rmdir (cg->path) < 0 && errno == EBUSY; i++)
      g_usleep (5000);
}

const RrunCgroupOps rrun_cgroup_systemd_ops = { "systemd", systemd_enter, systemd_destroy };
