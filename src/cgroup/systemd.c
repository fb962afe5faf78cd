/* The systemd backend: a transient scope rrun-<id>.scope with Delegate=yes from the
   user's systemd manager on the session bus, as `systemd-run --user --scope` makes,
   but over rrun's own small D-Bus client (dbus.c) with no process to spawn and no GIO
   to load on the start-up path. */
#define G_LOG_DOMAIN "rrun-cgroup"

#include "cgroup/cgroup-private.h"
#include "cgroup/dbus.h"
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
rrun_cgroup_systemd_properties (const char *id, pid_t pid, const char *slice)
{
  GVariantBuilder b;
  guint32 pids[1] = { (guint32) pid };

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sv)"));
  add (&b, "Description", g_variant_new_take_string (g_strdup_printf ("rrun container %s", id)));
  add (&b, "PIDs", g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32, pids, 1, sizeof pids[0]));
  add (&b, "Delegate", g_variant_new_boolean (TRUE));
  if (slice != NULL)
    add (&b, "Slice", g_variant_new_string (slice));
  /* A failed scope is collected too, so a crashed container leaves no unit behind. */
  add (&b, "CollectMode", g_variant_new_string ("inactive-or-failed"));
  return g_variant_builder_end (&b);
}

GVariant *
rrun_cgroup_systemd_start_parameters (const char *id, pid_t pid, const char *slice)
{
  g_autofree char *unit = g_strdup_printf ("rrun-%s.scope", id);

  return g_variant_new ("(ss@a(sv)@a(sa(sv)))", unit, "fail",
                        rrun_cgroup_systemd_properties (id, pid, slice),
                        g_variant_new_array (G_VARIANT_TYPE ("(sa(sv))"), NULL, 0));
}

gboolean
rrun_cgroup_systemd_connect (RrunDbus **out_bus, char **out_why)
{
  const char *address = g_getenv ("DBUS_SESSION_BUS_ADDRESS");
  g_autofree char *fallback = NULL;
  g_autoptr(RrunDbus) bus = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) local = NULL;
  gboolean has_owner = FALSE;

  if (address == NULL || *address == '\0')
    {
      /* su and ssh sessions often lack the variable though the user bus runs. */
      const char *xdg = g_getenv ("XDG_RUNTIME_DIR");
      g_autofree char *socket = xdg ? g_build_filename (xdg, "bus", NULL) : NULL;
      g_autofree char *escaped = NULL;

      if (socket == NULL || access (socket, F_OK) < 0)
        {
          *out_why = g_strdup ("no session bus: DBUS_SESSION_BUS_ADDRESS is unset and "
                               "there is no $XDG_RUNTIME_DIR/bus");
          return FALSE;
        }
      escaped = g_uri_escape_string (socket, "/", FALSE);
      address = fallback = g_strconcat ("unix:path=", escaped, NULL);
    }
  if (!rrun_dbus_connect (address, &bus, &local))
    {
      *out_why = g_strdup_printf ("cannot connect to the session bus: %s", local->message);
      return FALSE;
    }
  reply = rrun_dbus_call (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "NameHasOwner",
                          g_variant_new ("(s)", SYSTEMD_NAME), "(b)", 2000, &local);
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

gboolean
rrun_cgroup_systemd_start (RrunDbus *bus, const char *id, pid_t pid, const char *slice,
                           guint timeout_ms, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) local = NULL;
  const char *job = NULL;

  /* Match first: the job may end before the method reply arrives (the client keeps the
     signals that come meanwhile). The manager sends JobRemoved to the client that queued
     the job without Subscribe(). */
  if (!rrun_dbus_add_match (bus,
                            "type='signal',sender='" SYSTEMD_NAME "',path='" SYSTEMD_PATH
                            "',interface='" SYSTEMD_MANAGER "',member='JobRemoved'",
                            &local)
      || (reply = rrun_dbus_call (bus, SYSTEMD_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                  "StartTransientUnit",
                                  rrun_cgroup_systemd_start_parameters (id, pid, slice), "(o)",
                                  (int) timeout_ms, &local)) == NULL)
    return rrun_throw (error, RRUN_ERROR_FAILED,
                       "cannot start systemd scope \"rrun-%s.scope\": %s", id, local->message);
  g_variant_get (reply, "(&o)", &job);
  for (;;)
    {
      int left = (int) MAX ((deadline - g_get_monotonic_time ()) / 1000, 0);
      g_autoptr(GVariant) signal = rrun_dbus_wait_signal (bus, SYSTEMD_MANAGER, "JobRemoved",
                                                          "(uoss)", left, NULL);
      const char *path, *result;

      if (signal == NULL)
        return rrun_throw (error, RRUN_ERROR_FAILED,
                           "cannot start systemd scope \"rrun-%s.scope\": no answer in %u ms",
                           id, timeout_ms);
      g_variant_get (signal, "(u&o&s&s)", NULL, &path, NULL, &result);
      if (strcmp (path, job) != 0)
        continue; /* another client's job */
      if (strcmp (result, "done") != 0)
        return rrun_throw (error, RRUN_ERROR_FAILED,
                           "cannot start systemd scope \"rrun-%s.scope\": the job ended \"%s\"",
                           id, result);
      return TRUE;
    }
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

  if (!rrun_cgroup_systemd_start (cg->bus, cg->id, pid, cg->slice, SCOPE_TIMEOUT_MS, error))
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
