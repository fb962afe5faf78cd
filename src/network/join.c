#include "network/join.h"
#include "container/namespaces.h"
#include "child/netns-join.h"
#include "error.h"
#include "container/record.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

void
rrun_netns_join_free (RrunNetnsJoin *j)
{
  if (j == NULL)
    return;
  rrun_close_fdp (&j->userns_fd);
  rrun_close_fdp (&j->netns_fd);
  g_free (j->what);
  g_free (j->run_dir);
  g_free (j->hostname);
  g_free (j);
}

static gint
by_container_id (gconstpointer a, gconstpointer b)
{
  const RrunIdMapping *x = a, *y = b;

  return (x->container_id > y->container_id) - (x->container_id < y->container_id);
}

/* The mappings of /proc/PID/uid_map text, sorted; NULL when a line does not parse. */
static GArray *
parse_proc_map (const char *text)
{
  g_autoptr(GArray) out = g_array_new (FALSE, FALSE, sizeof (RrunIdMapping));
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      RrunIdMapping m;
      char extra;

      if (*g_strstrip (lines[i]) == '\0')
        continue;
      if (sscanf (lines[i], "%u %u %u %c", &m.container_id, &m.host_id, &m.count, &extra) != 3)
        return NULL;
      g_array_append_val (out, m);
    }
  g_array_sort (out, by_container_id);
  return g_steal_pointer (&out);
}

gboolean
rrun_netns_join_map_matches (const char *proc_text, GArray *mappings)
{
  g_autoptr(GArray) seen = parse_proc_map (proc_text);
  g_autoptr(GArray) want = NULL;

  if (seen == NULL || seen->len != mappings->len)
    return FALSE;
  want = g_array_sized_new (FALSE, FALSE, sizeof (RrunIdMapping), mappings->len);
  g_array_append_vals (want, mappings->data, mappings->len);
  g_array_sort (want, by_container_id);
  return memcmp (seen->data, want->data, sizeof (RrunIdMapping) * seen->len) == 0;
}

char *
rrun_netns_join_map_text (const char *proc_text)
{
  g_autoptr(GArray) seen = parse_proc_map (proc_text);
  g_autoptr(GString) s = g_string_new (NULL);

  if (seen == NULL || seen->len == 0)
    return g_strdup ("(none)");
  for (guint i = 0; i < seen->len; i++)
    {
      const RrunIdMapping *m = &g_array_index (seen, RrunIdMapping, i);

      g_string_append_printf (s, "%s%u %u %u", i ? ", " : "", m->container_id, m->host_id,
                              m->count);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static char *
mappings_text (GArray *mappings)
{
  g_autofree char *text = rrun_idmap_format (mappings);

  return rrun_netns_join_map_text (text);
}

/* The uid_map and gid_map of the user namespace userns_fd, read by a child that enters it
   (the report protocol: child/netns-join.h). */
static gboolean
read_userns_maps (const char *what, int userns_fd, char **out_uid, char **out_gid,
                  GError **error)
{
  g_autofree char *maps = g_malloc (2 * RRUN_NETNS_JOIN_MAP_MAX + 2);
  rrun_autofd int r = -1;
  rrun_autofd int w = -1;
  int fds[2], status = 0;
  RrunChildReport report;
  gssize n = 0;
  const char *nul;
  pid_t pid;

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    return rrun_throw_errno (error, errno, "%s: cannot create a socket pair", what);
  r = fds[0];
  w = fds[1];
  /* A raw clone: no fork handlers, which may take locks another thread of rrun holds. */
  pid = (pid_t) syscall (SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid < 0)
    return rrun_throw_errno (error, errno, "%s: cannot fork", what);
  if (pid == 0)
    rrun_netns_join_read_maps_child (userns_fd, what, w);
  rrun_close_fdp (&w);
  do
    n = recv (r, &report, sizeof report, 0);
  while (n < 0 && errno == EINTR);
  if (n == (gssize) sizeof report && report.step == RRUN_STEP_NONE)
    do
      n = recv (r, maps, 2 * RRUN_NETNS_JOIN_MAP_MAX + 1, 0);
    while (n < 0 && errno == EINTR);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (n == (gssize) sizeof report && report.step != RRUN_STEP_NONE)
    {
      rrun_child_report_to_error (&report, NULL, error);
      if (report.step == RRUN_STEP_JOIN_USERNS && report.errsv == EPERM)
        rrun_add_hint (error, "only user namespaces you created (directly or through rrun, "
                              "podman or unshare --user) can be joined without root");
      return FALSE;
    }
  if (n <= 0)
    return rrun_throw (error, RRUN_ERROR_FAILED, "%s: its id maps: the reader exited without "
                                                 "an answer", what);
  maps[n] = '\0';
  nul = memchr (maps, '\0', (gsize) n);
  if (nul == NULL || nul == maps + n)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: its id maps: no gid_map", what);
  *out_uid = g_strdup (maps);
  *out_gid = g_strdup (nul + 1);
  return TRUE;
}

static gboolean
same_file (int fd, const char *path)
{
  struct stat a, b;

  return fstat (fd, &a) == 0 && stat (path, &b) == 0 && a.st_dev == b.st_dev
         && a.st_ino == b.st_ino;
}

static gboolean
open_namespaces (RrunNetnsJoin *j, const char *what, const char *path, GError **error)
{
  uid_t owner = (uid_t) -1;
  int type;

  j->netns_fd = open (path, O_RDONLY | O_CLOEXEC);
  if (j->netns_fd < 0)
    {
      int errsv = errno;

      if (errsv == ENOENT && j->run_dir != NULL)
        return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "%s: it has exited", what);
      rrun_throw_errno (error, errsv, "%s", what);
      if (errsv == EACCES || errsv == EPERM)
        rrun_add_hint (error, "only namespaces of your own processes can be opened");
      return FALSE;
    }
  type = ioctl (j->netns_fd, NS_GET_NSTYPE);
  if (type < 0 || type != CLONE_NEWNET)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s: not a network namespace", what);
      rrun_add_hint (error, "give a network namespace file, such as /proc/PID/ns/net");
      return FALSE;
    }
  j->userns_fd = ioctl (j->netns_fd, NS_GET_USERNS);
  if (j->userns_fd < 0)
    {
      if (errno != EPERM)
        return rrun_throw_errno (error, errno, "%s: finding its owner", what);
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                  "%s: it belongs to a user namespace outside yours", what);
      rrun_add_hint (error, "only network namespaces made in a user namespace of yours "
                            "(rrun, podman, unshare --user --net) can be joined");
      return FALSE;
    }
  /* setns(CLONE_NEWNET) needs CAP_SYS_ADMIN in the namespace's owner: an ordinary user has
     it only in user namespaces it created, never in its own (the host's, for a network
     namespace made by root with `ip netns add`). */
  if (same_file (j->userns_fd, "/proc/self/ns/user"))
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                  "%s: it belongs to the host's user namespace (made by root), which only "
                  "root may join", what);
      rrun_add_hint (error, "make the namespace inside a user namespace of yours (for example "
                            "unshare --user --map-root-user --net), or use --network host");
      return FALSE;
    }
  if (ioctl (j->userns_fd, NS_GET_OWNER_UID, &owner) == 0 && owner != geteuid ())
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                  "%s: it belongs to a user namespace of uid %u, not yours", what,
                  (unsigned) owner);
      rrun_add_hint (error, "only network namespaces of your own user namespaces can be joined");
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_maps (int userns_fd, const char *what, const RrunIdMap *map, const char *target_mode,
            GError **error)
{
  g_autofree char *uid_text = NULL, *gid_text = NULL;
  const char *mine = rrun_idmap_mode_name (map->mode);

  if (!read_userns_maps (what, userns_fd, &uid_text, &gid_text, error))
    return FALSE;
  if (rrun_netns_join_map_matches (uid_text, map->uid_map)
      && rrun_netns_join_map_matches (gid_text, map->gid_map))
    return TRUE;
  /* The container enters that user namespace, so its files must be stored with that map. */
  if (target_mode != NULL && g_strcmp0 (target_mode, mine) != 0)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "%s: it runs with --userns=%s, this container with --userns=%s", what,
                  target_mode, mine);
      rrun_add_hint (error, "run this one with --userns=%s too: both share one user namespace",
                     target_mode);
    }
  else
    {
      g_autofree char *have = rrun_netns_join_map_text (uid_text);
      g_autofree char *want = mappings_text (map->uid_map);

      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "%s: its user namespace maps uids as \"%s\", --userns=%s as \"%s\"", what,
                  have, mine, want);
      rrun_add_hint (error, "pick the --userns whose map is the namespace's (auto, keep-id or "
                            "single), or make the namespace with rrun");
    }
  return FALSE;
}

gboolean
rrun_netns_join_open (const RrunConfig *config, const RrunNetworkOptions *opts,
                      const RrunIdMap *map, RrunNetnsJoin **out, GError **error)
{
  g_autoptr(RrunNetnsJoin) j = g_new0 (RrunNetnsJoin, 1);
  g_autoptr(RrunState) state = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree char *path = NULL, *what = NULL;

  j->userns_fd = -1;
  j->netns_fd = -1;
  if (opts->mode == RRUN_NETWORK_CONTAINER)
    {
      g_autofree char *hostname_path = NULL;

      j->what = g_strdup_printf ("container \"%s\"", opts->container);
      what = g_strdup_printf ("cannot join the network of %s", j->what);
      if (!rrun_state_find (config, opts->container, &state, &local))
        {
          if (g_error_matches (local, RRUN_ERROR, RRUN_ERROR_NOT_FOUND))
            {
              rrun_throw (error, RRUN_ERROR_NOT_FOUND, "%s: no running container has that "
                                                       "name or id", what);
              rrun_add_hint (error, "list running containers with: rrun ps");
              return FALSE;
            }
          g_propagate_prefixed_error (error, g_steal_pointer (&local), "%s: ", what);
          return FALSE;
        }
      path = g_strdup_printf ("/proc/%d/ns/net", (int) state->pid);
      j->run_dir = g_strdup (state->run_dir);
      hostname_path = g_build_filename (state->run_dir, "hostname", NULL);
      if (g_file_get_contents (hostname_path, &j->hostname, NULL, NULL))
        g_strstrip (j->hostname);
    }
  else
    {
      j->what = g_strdup_printf ("\"%s\"", opts->ns_path);
      what = g_strdup_printf ("cannot join the network namespace %s", j->what);
      path = g_strdup (opts->ns_path);
    }
  if (!open_namespaces (j, what, path, error)
      || !check_maps (j->userns_fd, what, map, state != NULL ? state->userns : NULL, error))
    return FALSE;
  *out = g_steal_pointer (&j);
  return TRUE;
}

void
rrun_ns_join_free (RrunNsJoin *j)
{
  if (j == NULL)
    return;
  rrun_close_fdp (&j->userns_fd);
  rrun_close_fdp (&j->pidns_fd);
  rrun_close_fdp (&j->ipcns_fd);
  g_free (j->what);
  g_free (j);
}

static int
open_ns (pid_t pid, const char *name)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/ns/%s", (int) pid, name);

  return open (path, O_RDONLY | O_CLOEXEC);
}

gboolean
rrun_ns_join_open (const RrunConfig *config, const char *target, gboolean pid, gboolean ipc,
                   const RrunIdMap *map, RrunNsJoin **out, GError **error)
{
  g_autoptr(RrunNsJoin) j = g_new0 (RrunNsJoin, 1);
  g_autoptr(RrunState) state = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree char *what = NULL;
  rrun_autofd int pidfd = -1;
  uid_t owner = (uid_t) -1;

  j->userns_fd = j->pidns_fd = j->ipcns_fd = -1;
  j->what = g_strdup_printf ("container \"%s\"", target);
  what = g_strdup_printf ("cannot join the %s namespace of %s",
                          pid && ipc ? "PID and IPC" : pid ? "PID" : "IPC", j->what);
  if (!rrun_state_find (config, target, &state, &local))
    {
      if (g_error_matches (local, RRUN_ERROR, RRUN_ERROR_NOT_FOUND))
        {
          rrun_throw (error, RRUN_ERROR_NOT_FOUND, "%s: no running container has that name or "
                                                   "id", what);
          rrun_add_hint (error, "list running containers with: rrun ps");
          return FALSE;
        }
      g_propagate_prefixed_error (error, g_steal_pointer (&local), "%s: ", what);
      return FALSE;
    }
  /* A pidfd taken before the namespace files and still alive after them: the files are
     those of the container's PID 1, not of a process that reused its pid. */
  pidfd = (int) syscall (SYS_pidfd_open, state->pid, 0);
  if (pidfd < 0)
    return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "%s: it has exited", what);
  j->userns_fd = open_ns (state->pid, "user");
  if (pid)
    j->pidns_fd = open_ns (state->pid, "pid");
  if (ipc)
    j->ipcns_fd = open_ns (state->pid, "ipc");
  if (j->userns_fd < 0 || (pid && j->pidns_fd < 0) || (ipc && j->ipcns_fd < 0))
    {
      int errsv = errno;

      if (errsv == ENOENT || errsv == ESRCH)
        return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "%s: it has exited", what);
      return rrun_throw_errno (error, errsv, "%s", what);
    }
  if (syscall (SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
    return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "%s: it has exited", what);
  if (same_file (j->userns_fd, "/proc/self/ns/user"))
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED, "%s: it shares the host's user namespace",
                  what);
      return FALSE;
    }
  if (ioctl (j->userns_fd, NS_GET_OWNER_UID, &owner) == 0 && owner != geteuid ())
    return rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                       "%s: it belongs to a user namespace of uid %u, not yours", what,
                       (unsigned) owner);
  if (!check_maps (j->userns_fd, what, map, state->userns, error))
    return FALSE;
  *out = g_steal_pointer (&j);
  return TRUE;
}
