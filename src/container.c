#include "container.h"
#include "container-plan.h"
#include "error.h"
#include "idmap.h"
#include "image-tool.h"
#include "log.h"
#include "namespaces.h"
#include "netns-join.h"
#include "network.h"
#include "overlay/overlay.h"
#include "process/caps.h"
#include "process/init-program.h"
#include "process/relay.h"
#include "process/seccomp.h"
#include "process/spec.h"
#include "process/tty.h"
#include "rootfs/plan.h"
#include "rootfs/path-probe.h"
#include "rootfs/volumes.h"
#include "state.h"
#include "storage/store.h"
#include "userns-early.h"
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
#include <unistd.h>

void
rrun_run_options_clear (RrunRunOptions *o)
{
  g_free (o->image);
  g_strfreev (o->args);
  g_free (o->entrypoint);
  g_strfreev (o->env);
  g_strfreev (o->env_files);
  g_free (o->workdir);
  g_free (o->user);
  g_free (o->hostname);
  g_free (o->name);
  g_strfreev (o->cap_add);
  g_strfreev (o->cap_drop);
  g_free (o->network);
  g_free (o->mac_address);
  g_free (o->userns);
  g_strfreev (o->volumes);
  g_strfreev (o->tmpfs);
  g_free (o->ipc);
  g_strfreev (o->publish);
  g_strfreev (o->dns);
  g_strfreev (o->dns_search);
  g_strfreev (o->dns_option);
  g_strfreev (o->add_host);
  g_free (o->cgroups);
  g_clear_pointer (&o->limits, rrun_cgroup_limits_free);
  g_free (o->pull);
  memset (o, 0, sizeof *o);
}

/* Everything a run owns; freeing it undoes the run on any path. */
typedef struct
{
  RrunStore *store;
  RrunIdMap *map;
  RrunIdMap *storage_map; /* how layers are stored: for removals */
  char *id;
  char *run_dir;
  gboolean remove_layer;   /* --rm */
  gboolean layer_created;
  int lock_fd;
  RrunContainerProcess proc;
  RrunTty tty;
  RrunNetworkOptions *net_opts;
  RrunNetnsJoin *join;     /* --network container:/ns: */
  RrunEarlyUserns *early;  /* the user namespace, made and mapped ahead of the rest */
  RrunNetwork *net;
  RrunCgroup *cgroup;
  int sigfd;
  gboolean signals_blocked;
  sigset_t old_mask;
} RrunContainer;

/* Whether every child of ours still running is `except`. */
static gboolean
only_child_left (pid_t except)
{
  g_autoptr(GDir) tasks = g_dir_open ("/proc/self/task", 0, NULL);
  const char *tid;

  if (tasks == NULL || except <= 0)
    return FALSE;
  while ((tid = g_dir_read_name (tasks)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/self/task/%s/children", tid);
      g_autofree char *text = NULL;
      g_auto(GStrv) pids = NULL;

      if (!g_file_get_contents (path, &text, NULL, NULL))
        return FALSE;
      pids = g_strsplit (g_strstrip (text), " ", -1);
      for (guint i = 0; pids[i] != NULL; i++)
        if (*pids[i] != '\0' && atoi (pids[i]) != (int) except)
          return FALSE;
    }
  return TRUE;
}

/* rrun is a child subreaper while it runs a container: setup processes orphaned when
   their parent is killed (PID 1 of a failed start, fuse-overlayfs) come back to it, and
   are reaped here rather than left as zombies. Bounded: 2 s at most. The network helper
   (`except`) is not waited for: it exits on its own once its exit fd hung up, and its exit
   (the kernel unregisters tap0, an RCU grace period) would add 5-20 ms to every run. */
static void
reap_orphans (pid_t except)
{
  for (int i = 0; i < 2000; i++)
    {
      pid_t p = waitpid (-1, NULL, WNOHANG);

      if (p < 0)
        return; /* ECHILD: nothing left */
      if (p == 0)
        {
          if (only_child_left (except))
            return;
          g_usleep (1000);
        }
    }
}

static void
container_free (RrunContainer *c)
{
  g_autoptr(GError) local = NULL;
  pid_t helper;

  if (c == NULL)
    return;
  rrun_tty_restore (&c->tty);
  rrun_container_process_destroy (&c->proc);
  g_clear_pointer (&c->early, rrun_early_userns_free);
  /* The helper and the cgroup outlive nothing: the container is gone by now. */
  helper = rrun_network_get_helper_pid (c->net);
  if (c->net != NULL)
    {
      g_clear_pointer (&c->net, rrun_network_detach);
      rrun_debug_phase ("network stopped");
    }
  g_clear_pointer (&c->net_opts, rrun_network_options_free);
  g_clear_pointer (&c->join, rrun_netns_join_free);
  g_clear_pointer (&c->cgroup, rrun_cgroup_free);
  reap_orphans (helper);
  rrun_close_fdp (&c->sigfd);
  if (c->signals_blocked)
    sigprocmask (SIG_SETMASK, &c->old_mask, NULL);
  if (c->run_dir && !rrun_path_rm_rf (c->run_dir, &local) && helper > 0)
    {
      /* A helper still starting (the container failed early) can make its API socket
         there after we emptied it: wait for it (its exit fd hung up above) and retry. */
      g_clear_error (&local);
      while (waitpid (helper, NULL, 0) < 0 && errno == EINTR)
        ;
      rrun_path_rm_rf (c->run_dir, &local);
    }
  if (local != NULL)
    {
      rrun_warning ("cannot remove \"%s\": %s", c->run_dir, local->message);
      g_clear_error (&local);
    }
  if (c->layer_created && c->remove_layer
      && !rrun_store_remove_container_dirs (c->store, c->storage_map, c->id, &local))
    rrun_warning ("cannot remove the container's writable layer: %s", local->message);
  rrun_close_fdp (&c->lock_fd);
  rrun_debug_phase ("cleaned up");
  g_free (c->id);
  g_free (c->run_dir);
  rrun_idmap_free (c->map);
  rrun_idmap_free (c->storage_map);
  rrun_store_free (c->store);
  g_free (c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunContainer, container_free)

/* Run dirs left by a killed rrun: their writable layer was collected by
   rrun_store_gc_containers (a live container's layer stays locked), so a run dir without
   one belongs to no running container. */
static void
remove_stale_run_dirs (RrunStore *store, const char *containers_dir)
{
  g_autoptr(GDir) d = g_dir_open (containers_dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *layer = g_build_filename (rrun_store_root (store), "containers", name,
                                                 NULL);
      g_autofree char *dir = g_build_filename (containers_dir, name, NULL);

      if (!g_file_test (layer, G_FILE_TEST_EXISTS))
        rrun_path_rm_rf (dir, NULL);
    }
}

/* A file of the image's root file system, read from the topmost layer that has it;
   NULL when absent or deleted by a whiteout. */
static char *
read_image_file (RrunImage *image, const char *rel)
{
  g_autofree char *dir = g_path_get_dirname (rel);
  g_autofree char *base = g_path_get_basename (rel);
  g_autofree char *wh = g_strconcat (dir, "/.wh.", base, NULL);

  for (guint i = image->layer_dirs->len; i > 0; i--)
    {
      const char *layer = image->layer_dirs->pdata[i - 1];
      g_autofree char *path = g_build_filename (layer, rel, NULL);
      g_autofree char *whpath = g_build_filename (layer, wh, NULL);
      struct stat st;
      char *text = NULL;

      if (lstat (path, &st) == 0)
        {
          if (S_ISCHR (st.st_mode) && st.st_rdev == 0)
            return NULL; /* an overlay whiteout */
          if (S_ISREG (st.st_mode) && g_file_get_contents (path, &text, NULL, NULL))
            return text;
          return NULL;
        }
      if (lstat (whpath, &st) == 0)
        return NULL;
    }
  return NULL;
}

static gboolean
write_file (const char *dir, const char *name, const char *text, char **out_path,
            GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  if (!g_file_set_contents (path, text, -1, error))
    return FALSE;
  chmod (path, 0644);
  *out_path = g_steal_pointer (&path);
  return TRUE;
}

/* The joined container's copy of name (hosts, resolv.conf), or NULL. A copy, not the file
   itself: it goes with that container's run dir, while this one may outlive it. */
static char *
joined_file (const RrunNetnsJoin *join, const char *name)
{
  g_autofree char *path = NULL;
  char *text = NULL;

  if (join == NULL || join->run_dir == NULL)
    return NULL;
  path = g_build_filename (join->run_dir, name, NULL);
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return text;
}

/* /etc/hostname, /etc/hosts and /etc/resolv.conf for the container, in its run dir; with
   --network container: the joined container's hosts and resolv.conf. */
static gboolean
write_etc_files (const char *run_dir, const char *hostname, const RrunNetworkOptions *net,
                 const RrunNetnsJoin *join, RrunMountPlanOptions *mo, GError **error)
{
  g_autofree char *hosts = joined_file (join, "hosts");
  g_autofree char *host_name = rrun_network_hostname_text (hostname);
  g_autofree char *resolv = joined_file (join, "resolv.conf");
  char *p1 = NULL, *p2 = NULL, *p3 = NULL;

  if (hosts == NULL)
    hosts = rrun_network_hosts_text (net, hostname);
  if (resolv == NULL)
    resolv = rrun_network_resolv_conf_text (net, NULL);

  if (!write_file (run_dir, "hostname", host_name, &p1, error)
      || !write_file (run_dir, "hosts", hosts, &p2, error)
      || !write_file (run_dir, "resolv.conf", resolv, &p3, error))
    {
      g_free (p1), g_free (p2);
      return FALSE;
    }
  mo->etc_hostname = p1;
  mo->etc_hosts = p2;
  mo->etc_resolv = p3;
  return TRUE;
}

typedef struct
{
  gboolean tty;
  RrunTty *host_tty;
  RrunContainer *c;
} StartHookData;

/* PID 1 has exited: the run dir's files (state, /etc files, the network helper's socket
   and log) go now, while the namespace holder unmounts and empties the writable layer
   (on a disk that discards freed blocks, each removal waits ~0.1 ms). "merged", the root's
   mount point in the holder's namespace, goes once the holder is gone. */
static void
remove_run_files (gpointer user_data)
{
  RrunContainer *c = user_data;
  g_autoptr(GDir) d = c->run_dir ? g_dir_open (c->run_dir, 0, NULL) : NULL;
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (strcmp (name, "merged") != 0)
      {
        g_autofree char *path = g_build_filename (c->run_dir, name, NULL);
        rrun_path_rm_rf (path, NULL);
      }
}

/* Before the child unshares its cgroup namespace: into the container's cgroup. */
static gboolean
after_clone (pid_t holder, gpointer user_data, GError **error)
{
  StartHookData *d = user_data;

  return d->c->cgroup == NULL || rrun_cgroup_enter (d->c->cgroup, holder, error);
}

static void
namespaces_ready (pid_t holder, gpointer user_data)
{
  StartHookData *d = user_data;

  rrun_network_attach_begin (d->c->net, holder);
}

static gboolean
before_exec (pid_t pid1, int pty_master, gpointer user_data, GError **error)
{
  StartHookData *d = user_data;

  /* The command sees the network ready: tap0 up, ports published. The helper was spawned
     before the namespaces existed and has been waiting for a pid in them: the holder's,
     which shares the command's network namespace and is in the user namespace that owns
     it (with --userns=nomap the command is in a nested one, which does not). */
  if (!rrun_network_attach (d->c->net, d->c->net_opts, d->c->proc.holder, error))
    return FALSE;
  rrun_debug_phase ("network ready");

  if (pty_master >= 0)
    {
      rrun_tty_copy_winsize (STDIN_FILENO, pty_master);
      /* Raw mode only now: an error before this point leaves the terminal untouched. */
      if (!rrun_tty_make_raw (d->host_tty, STDIN_FILENO, error))
        return FALSE;
    }
  return TRUE;
}

/* --userns=keep-id: the user's own entry in the container's passwd and group, so that
   `id`, `ls -l` and HOME work, as podman does. Returns whether each text changed. */
static void
add_keep_id_entries (const RrunIdMap *map, char **passwd, char **group, gboolean *out_passwd,
                     gboolean *out_group)
{
  g_autofree char *uid_text = g_strdup_printf (":%u:", map->container_uid);
  g_autofree char *gid_text = g_strdup_printf (":%u:", map->container_gid);
  const char *name = g_get_user_name ();

  *out_passwd = *passwd == NULL || strstr (*passwd, uid_text) == NULL;
  *out_group = *group == NULL || strstr (*group, gid_text) == NULL;
  if (*out_passwd)
    {
      char *text = g_strdup_printf ("%s%s%s:x:%u:%u:%s:%s:/bin/sh\n", *passwd ? *passwd : "",
                                    (*passwd && **passwd && !g_str_has_suffix (*passwd, "\n"))
                                        ? "\n" : "",
                                    name, map->container_uid, map->container_gid,
                                    g_get_real_name (), g_get_home_dir ());
      g_free (*passwd);
      *passwd = text;
    }
  if (*out_group)
    {
      char *text = g_strdup_printf ("%s%s%s:x:%u:\n", *group ? *group : "",
                                    (*group && **group && !g_str_has_suffix (*group, "\n"))
                                        ? "\n" : "",
                                    name, map->container_gid);
      g_free (*group);
      *group = text;
    }
}

/* Bind a generated file from the run dir over a file of the container. */

/* ---- implicit pull (issue 3) ------------------------------------------------------------
   --pull=missing (default): pull when the store has no such image; always: pull first
   (layers already present are not fetched again); never: the store only. */
static gboolean
find_or_pull_image (const RrunConfig *config, RrunStore *store, const RrunRunOptions *o,
                    RrunImage **out_image, GError **error)
{
  const char *policy = o->pull ? o->pull : config->pull_policy ? config->pull_policy : "missing";
  g_autoptr(GError) local = NULL;
  g_autofree char *id = NULL;

  if (strcmp (policy, "missing") != 0 && strcmp (policy, "always") != 0
      && strcmp (policy, "never") != 0)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid pull policy \"%s\"", policy);
      rrun_add_hint (error, "use --pull=missing, --pull=always or --pull=never");
      return FALSE;
    }
  if (strcmp (policy, "always") != 0)
    {
      if (rrun_store_find_image (store, o->image, out_image, &local))
        return TRUE;
      if (strcmp (policy, "never") == 0
          || !g_error_matches (local, RRUN_ERROR, RRUN_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
    }
  /* The image tool holds the registry client and the layer extractor, so this process
     never loads libcurl or libarchive. */
  if (!rrun_image_tool_pull (config, o->image, !o->no_tls_verify, o->quiet_pull, &id, error))
    return FALSE;
  return rrun_store_find_image (store, id, out_image, error);
}

static gboolean
bind_generated (RrunMountPlan *mounts, const char *run_dir, const char *name, const char *text,
                const char *target, GError **error)
{
  g_autofree char *path = NULL;

  if (!write_file (run_dir, name, text, &path, error))
    return FALSE;
  rrun_mount_plan_add (mounts, RRUN_MOUNT_OP_BIND, path, target, NULL, 0, NULL, 2, 0);
  return TRUE;
}

/* fuse-overlayfs uidmapping/gidmapping that show layers stored with the default layout
   (container 0 = the user) under this run's map. */
static void
keep_id_fuse_mappings (const RrunIdMap *map, char **out_uid, char **out_gid)
{
  guint32 ignored;
  g_autoptr(GArray) ulayout = rrun_idmap_build (RRUN_USERNS_AUTO, map->host_uid,
                                                map->uid_ranges, &ignored);
  g_autoptr(GArray) glayout = rrun_idmap_build (RRUN_USERNS_AUTO, map->host_gid,
                                                map->gid_ranges, &ignored);
  g_autoptr(GArray) useen = rrun_idmap_compose (ulayout, map->uid_map);
  g_autoptr(GArray) gseen = rrun_idmap_compose (glayout, map->gid_map);

  *out_uid = rrun_idmap_format_fuse (useen);
  *out_gid = rrun_idmap_format_fuse (gseen);
}

gboolean
rrun_container_run (const RrunConfig *config, const RrunRunOptions *o, int *out_status,
                    GError **error)
{
  g_autoptr(RrunContainer) c = g_new0 (RrunContainer, 1);
  g_autoptr(RrunImage) image = NULL;
  g_autoptr(RrunUser) user = NULL;
  g_autoptr(RrunCaps) caps = NULL;
  g_autoptr(RrunMountPlan) mounts = rrun_mount_plan_new ();
  g_autoptr(RrunOverlaySetup) overlay = NULL;
  g_autofree char *passwd = NULL, *group = NULL;
  g_autofree char *upper = NULL, *work = NULL, *merged = NULL, *hostname = NULL;
  g_autofree char *containers_dir = NULL;
  g_autofree char *fuse_uidmap = NULL, *fuse_gidmap = NULL, *keep_id_user = NULL;
  g_autoptr(GBytes) seccomp = NULL;
  g_autofree char *etc_hostname = NULL, *etc_hosts = NULL, *etc_resolv = NULL;
  const char *driver = config->storage_driver;
  gboolean keep_id, nomap, emulate_root, new_passwd = FALSE, new_group = FALSE;
  g_autofree char *inner_uid = NULL, *inner_gid = NULL;
  g_auto(GStrv) argv = NULL;
  g_auto(GStrv) envp = NULL;
  g_auto(GStrv) host_env = g_get_environ ();
  RrunMountPlanOptions mo = { 0 };
  RrunOverlayLayers layers = { 0 };
  RrunChildPlan plan = { 0 };
  StartHookData hook_data = { 0 };
  RrunStartHooks hooks = { after_clone, namespaces_ready, before_exec, &hook_data };
  const char *workdir;
  guint32 host5;
  sigset_t fwd;
  rrun_autofd int init_fd = -1;

  c->lock_fd = -1;
  c->sigfd = -1;
  prctl (PR_SET_CHILD_SUBREAPER, 1);
  c->tty.saved = FALSE;
  rrun_container_process_init (&c->proc);
  c->remove_layer = o->rm;

  if (!rrun_idmap_resolve (o->userns ? o->userns : config->userns, &c->map, error))
    return FALSE;
  rrun_debug_phase ("id map resolved");
  /* The network mode says whether the container enters an existing user namespace
     (container:, ns:). Otherwise its own is made now, so that newuidmap and newgidmap run
     while the store, the image and the mounts are prepared. */
  if (!(c->net_opts = rrun_network_options_new (config, error))
      || !rrun_network_options_set_mode (c->net_opts, o->network ? o->network : config->network,
                                         error))
    return FALSE;
  if (!rrun_network_options_joins (c->net_opts)
      && !rrun_early_userns_start (c->map, &c->early, error))
    return FALSE;
  c->storage_map = rrun_idmap_storage_map (c->map);
  if (!rrun_store_open (config, &c->store, error))
    return FALSE;
  /* Containers whose rrun was killed leave their writable layer: collect it now. */
  if (!rrun_store_gc_containers (c->store, c->storage_map, error))
    return FALSE;
  rrun_debug_phase ("store open");
  if (!find_or_pull_image (config, c->store, o, &image, error))
    return FALSE;

  rrun_debug_phase ("image found");
  /* Layers unpacked before the user had a subordinate range keep the user as owner of
     files meant for other ids (and lost setuid bits with them): say so now that the
     range exists, since reusing them silently would run a subtly different image. */
  if (image->unmapped_owners > 0 && !c->map->single)
    rrun_warning ("%" G_GUINT64_FORMAT " file%s of %s lost %s owner when the image was "
                  "unpacked without a subordinate ID range: root owns them inside\n"
                  "hint: to restore them, remove the image (rrun rmi %s) and pull or import "
                  "it again",
                  image->unmapped_owners, image->unmapped_owners == 1 ? "" : "s", o->image,
                  image->unmapped_owners == 1 ? "its" : "their", o->image);
  /* Network and cgroup first: their errors (a busy port, no delegation) come before any
     directory is made. */
  for (guint i = 0; o->publish && o->publish[i]; i++)
    if (!rrun_network_options_add_publish (c->net_opts, o->publish[i], error))
      return FALSE;
  if (o->publish_all
      && !rrun_network_options_publish_all (c->net_opts,
                                            (const char *const *) image->config->exposed_ports,
                                            error))
    return FALSE;
  for (guint i = 0; o->dns && o->dns[i]; i++)
    if (!rrun_network_options_add_dns (c->net_opts, o->dns[i], error))
      return FALSE;
  for (guint i = 0; o->dns_search && o->dns_search[i]; i++)
    if (!rrun_network_options_add_dns_search (c->net_opts, o->dns_search[i], error))
      return FALSE;
  for (guint i = 0; o->dns_option && o->dns_option[i]; i++)
    if (!rrun_network_options_add_dns_option (c->net_opts, o->dns_option[i], error))
      return FALSE;
  for (guint i = 0; o->add_host && o->add_host[i]; i++)
    if (!rrun_network_options_add_host (c->net_opts, o->add_host[i], error))
      return FALSE;
  if (o->mac_address != NULL && !rrun_network_options_set_mac (c->net_opts, o->mac_address, error))
    return FALSE;
  if (!rrun_network_options_check (c->net_opts, o->hostname != NULL, error)
      || !rrun_network_check_ports (c->net_opts, error))
    return FALSE;
  /* The container enters the owner of the namespace it joins: its id map must be ours. */
  if (rrun_network_options_joins (c->net_opts)
      && !rrun_netns_join_open (config, c->net_opts, c->map, &c->join, error))
    return FALSE;

  /* What runs, as whom, where. */
  keep_id = c->map->mode == RRUN_USERNS_KEEP_ID;
  nomap = c->map->mode == RRUN_USERNS_NOMAP;
  if (nomap)
    {
      if (g_strcmp0 (driver, "overlay") == 0)
        {
          rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                      "cannot use --userns=nomap with the kernel overlay driver: only "
                      "fuse-overlayfs can show the image's files with their owners remapped");
          rrun_add_hint (error, "use --storage-driver fuse-overlayfs (the default for nomap)");
          return FALSE;
        }
      driver = "fuse-overlayfs";
    }
  c->id = rrun_path_random_hex (32);
  passwd = read_image_file (image, "etc/passwd");
  group = read_image_file (image, "etc/group");
  if (keep_id)
    {
      /* The user is themself inside, unless -u says otherwise. */
      keep_id_user = g_strdup_printf ("%u:%u", c->map->container_uid, c->map->container_gid);
      if (g_strcmp0 (driver, "overlay") == 0)
        {
          rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                      "cannot use --userns=keep-id with the kernel overlay driver: only "
                      "fuse-overlayfs can show the image's files with their owners remapped");
          rrun_add_hint (error, "use --storage-driver fuse-overlayfs (the default for keep-id)");
          return FALSE;
        }
      driver = "fuse-overlayfs";
      add_keep_id_entries (c->map, &passwd, &group, &new_passwd, &new_group);
    }
  if (!rrun_user_resolve (o->user ? o->user : keep_id_user ? keep_id_user : image->config->user,
                          passwd, group, &user, error)
      || !rrun_spec_build_argv (image->config->entrypoint, image->config->cmd, o->entrypoint,
                                o->args, &argv, error)
      || !rrun_caps_compute (o->cap_add, o->cap_drop, o->privileged, &caps, error))
    return FALSE;
  /* With --network container: the host name is that container's, as with docker. */
  hostname = o->hostname              ? g_strdup (o->hostname)
             : c->join && c->join->hostname ? g_strdup (c->join->hostname)
                                      : g_strndup (c->id, 12);
  if (strlen (hostname) > 64)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid hostname \"%s\": longer than 64 characters", hostname);
  if (!rrun_spec_build_env (image->config->env, o->env_files, o->env, host_env, hostname,
                            user->home, o->tty, &envp, error))
    return FALSE;
  workdir = o->workdir ? o->workdir
            : (image->config->working_dir && *image->config->working_dir)
                ? image->config->working_dir
                : "/";
  if (workdir[0] != '/')
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid working directory \"%s\": it must be absolute", workdir);

  rrun_debug_phase ("spec built");
  /* Directories: the writable layer in the store, the mount point and /etc files in the
     run dir. */
  if (!rrun_config_ensure_run_root (config, error))
    return FALSE;
  containers_dir = g_build_filename (config->run_root, "containers", NULL);
  if (mkdir (containers_dir, 0700) < 0 && errno != EEXIST)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", containers_dir);
  /* The writable layer (with its lock) first: a run dir whose layer is gone is stale. */
  if (!rrun_store_create_container_dirs (c->store, c->id, image->id, &upper, &work, &c->lock_fd,
                                         error))
    return FALSE;
  c->layer_created = TRUE;
  remove_stale_run_dirs (c->store, containers_dir);
  c->run_dir = g_build_filename (containers_dir, c->id, NULL);
  merged = g_build_filename (c->run_dir, "merged", NULL);
  if (!rrun_path_mkdir_p (merged, 0700, error))
    return FALSE;
  if (!write_etc_files (c->run_dir, hostname, c->net_opts, c->join, &mo, error))
    return FALSE;
  /* Owned here, so that every early return frees them. */
  etc_hostname = (char *) mo.etc_hostname;
  etc_hosts = (char *) mo.etc_hosts;
  etc_resolv = (char *) mo.etc_resolv;

  rrun_debug_phase ("directories ready");
  /* The root file system. */
  layers.lower_dirs = (const char *const *) image->layer_dirs->pdata;
  layers.n_lower = image->layer_dirs->len;
  layers.upper_dir = upper;
  layers.work_dir = work;
  layers.merged_dir = merged;
  layers.storage_root = rrun_store_root (c->store);
  layers.fuse_acl = config->fuse_acl;
  if (keep_id)
    {
      keep_id_fuse_mappings (c->map, &fuse_uidmap, &fuse_gidmap);
      layers.uid_mapping = fuse_uidmap;
      layers.gid_mapping = fuse_gidmap;
    }
  if (nomap)
    {
      /* fuse-overlayfs runs in the outer namespace, where a stored id s is s; the
         command's namespace sees outer id s+1 as s. So show every stored id one up:
         image files owned by root are root's inside, and what the container writes is
         stored with the ids it would have had by default. */
      guint32 uspan = rrun_idmap_span (c->map->inner_uid_map);
      guint32 gspan = rrun_idmap_span (c->map->inner_gid_map);

      fuse_uidmap = g_strdup_printf ("0:1:%u", uspan);
      fuse_gidmap = g_strdup_printf ("0:1:%u", gspan);
      inner_uid = g_strdup_printf ("0 1 %u\n", uspan);
      inner_gid = g_strdup_printf ("0 1 %u\n", gspan);
      layers.uid_mapping = fuse_uidmap;
      layers.gid_mapping = fuse_gidmap;
      plan.inner_uid_map = inner_uid;
      plan.inner_gid_map = inner_gid;
    }
  if (!rrun_overlay_prepare (driver, &layers, &overlay, error))
    return FALSE;

  /* Namespaces and mounts. */
  plan.unshare_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWCGROUP;
  if (o->ipc == NULL || g_strcmp0 (o->ipc, "private") == 0)
    plan.unshare_flags |= CLONE_NEWIPC;
  else if (g_strcmp0 (o->ipc, "host") != 0)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --ipc \"%s\": expected private or host", o->ipc);
  if (rrun_network_options_needs_netns (c->net_opts))
    {
      plan.unshare_flags |= CLONE_NEWNET;
      plan.loopback_up = TRUE;
    }
  plan.join_userns_fd = -1;
  plan.join_netns_fd = -1;
  if (c->early != NULL)
    {
      plan.join_userns_fd = rrun_early_userns_fd (c->early);
      plan.join_what = "the new container";
    }
  if (c->join != NULL)
    {
      plan.join_netns = TRUE;
      plan.join_userns_fd = c->join->userns_fd;
      plan.join_netns_fd = c->join->netns_fd;
      plan.join_what = c->join->what;
    }
  /* Its own cgroup, when one can be had (created now, entered right after clone). */
  if (!rrun_cgroup_prepare (o->cgroups ? o->cgroups : config->cgroups, o->limits, c->id,
                            &c->cgroup, error))
    return FALSE;
  /* A joined namespace is owned by the user namespace the container enters: it may mount
     a fresh sysfs there too. */
  mo.new_netns = (plan.unshare_flags & CLONE_NEWNET) != 0 || plan.join_netns;
  mo.new_cgroupns = TRUE;
  /* A delegated subtree is the container's own: nested tools may write it. */
  mo.cgroup_writable = rrun_cgroup_path (c->cgroup) != NULL;
  mo.gid5_mapped = rrun_idmap_to_host (c->map->gid_map, 5, &host5);
  mo.privileged = o->privileged;
  rrun_mount_plan_add_defaults (mounts, &mo);
  if ((new_passwd && !bind_generated (mounts, c->run_dir, "passwd", passwd, "/etc/passwd", error))
      || (new_group && !bind_generated (mounts, c->run_dir, "group", group, "/etc/group", error)))
    return FALSE;
  if (!rrun_volumes_add_to_plan (mounts, o->volumes, o->tmpfs, error))
    return FALSE;
  rrun_mount_plan_add_protections (mounts, o->privileged);

  plan.rootfs_kind = overlay->kernel ? RRUN_ROOTFS_KERNEL_OVERLAY : RRUN_ROOTFS_FUSE_OVERLAYFS;
  plan.rootfs = merged;
  plan.overlay_cwd = overlay->cwd;
  plan.overlay_data = overlay->data;
  plan.overlay_fallback_fuse = overlay->fallback_fuse;
  plan.fuse_exe = overlay->fuse_exe;
  plan.fuse_argv = overlay->fuse_argv;
  if (overlay->fuse_exe != NULL)
    {
      c->proc.fuse_stderr_fd = memfd_create ("fuse-overlayfs-stderr", MFD_CLOEXEC);
      if (c->proc.fuse_stderr_fd < 0)
        return rrun_throw_errno (error, errno, "cannot create a memfd");
    }
  plan.fuse_stderr_fd = c->proc.fuse_stderr_fd;
  plan.hostname = hostname;
  plan.mounts = (const RrunMountOp *) mounts->ops->data;
  plan.n_mounts = mounts->ops->len;
  plan.init = o->init;
  if (o->init)
    {
      init_fd = rrun_process_init_program_fd (error);
      if (init_fd < 0)
        return FALSE;
    }
  plan.init_fd = init_fd;
  plan.tty = o->tty;
  plan.keep_stdin = o->interactive;
  plan.workdir = workdir;
  plan.create_workdir = TRUE;
  plan.argv = argv;
  plan.envp = envp;
  plan.path = rrun_spec_env_get (envp, "PATH");
  plan.path_absent = rrun_path_probe_absent (plan.path, argv[0], layers.lower_dirs,
                                             layers.n_lower, plan.mounts, plan.n_mounts);
  plan.uid = user->uid;
  plan.gid = user->gid;
  plan.groups = (const gid_t *) user->groups->data;
  plan.n_groups = user->groups->len;
  plan.set_groups = !c->map->single;
  plan.caps = caps->caps;
  plan.drop_bounding = (const int *) caps->drop->data;
  plan.n_drop_bounding = caps->drop->len;
  plan.no_new_privs = !o->privileged;
  plan.readonly_root = o->read_only;
  if (o->rm)
    {
      plan.empty_after[0] = upper;
      plan.empty_after[1] = work;
    }

  /* Single-ID mode cannot chown: fake the chown and set*id families so package managers
     work (--no-root-emulation turns it off). */
  emulate_root = o->root_emulation > 0 || (o->root_emulation < 0 && c->map->single);
  if (!rrun_seccomp_build (!o->privileged, emulate_root, &seccomp, error))
    return FALSE;
  if (seccomp != NULL)
    {
      gsize len;

      plan.seccomp_bpf = g_bytes_get_data (seccomp, &len);
      plan.seccomp_len = len / 8; /* sizeof (struct sock_filter) */
    }
  if (emulate_root && c->map->single)
    rrun_info ("root emulation is on: chown and setuid calls succeed without effect");

  rrun_debug_phase ("plan built");
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
  rrun_network_get_setup_fds (c->net, plan.close_fds);
  rrun_debug_phase ("network helper spawned");
  hook_data.tty = o->tty;
  hook_data.host_tty = &c->tty;
  hook_data.c = c;
  if (!rrun_namespaces_start (&plan, c->map, c->early, &hooks, &c->proc, error))
    return FALSE;
  rrun_close_fdp (&init_fd); /* PID 1 has exec'd it */
  rrun_debug_phase ("command started");
  {
    g_autofree char *command = g_strjoinv (" ", argv);
    RrunState state = { c->id, o->name, o->image, command, c->proc.pid1,
                        g_get_real_time () / G_USEC_PER_SEC,
                        (char *) rrun_cgroup_path (c->cgroup), c->run_dir };

    state.args = argv;
    state.image_id = image->id;
    state.network = o->network ? o->network : config->network;
    state.volumes = o->volumes;
    state.tmpfs = o->tmpfs;
    state.userns = (char *) rrun_idmap_mode_name (c->map->mode);

    /* For rrun ps and rrun port; goes with the run dir. */
    if (!rrun_state_write (&state, error))
      return FALSE;
  }
  rrun_debug_phase ("state written");
  if (!rrun_relay_run (&c->proc, c->sigfd, remove_run_files, c, out_status, error))
    return FALSE;
  rrun_debug_phase ("command exited");
  {
    guint64 limit = 0;

    if (rrun_cgroup_oom_killed (c->cgroup, &limit))
      {
        g_autofree char *size = g_strdup_printf ("%" G_GUINT64_FORMAT " MiB", limit >> 20);
        return rrun_throw (error, RRUN_ERROR_OOM, "container killed: out of memory (limit %s)",
                           size);
      }
  }
  return TRUE;
}
