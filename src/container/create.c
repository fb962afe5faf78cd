/* rrun_container_create: from a validated spec to a record and a plan start can run. */
#include "container/container-private.h"
#include "child/plan.h"
#include "error.h"
#include "util/text-file.h"
#include "userns/idmap.h"
#include "image/tool.h"
#include "log.h"
#include "container/namespaces.h"
#include "network/join.h"
#include "network/network.h"
#include "overlay/overlay.h"
#include "process/caps.h"
#include "process/init-program.h"
#include "process/relay.h"
#include "process/seccomp.h"
#include "process/command.h"
#include "process/tty.h"
#include "rootfs/plan.h"
#include "rootfs/path-probe.h"
#include "rootfs/volumes.h"
#include "container/record.h"
#include "storage/lock.h"
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
#include <unistd.h>

/* A file of the image's root file system, read from the topmost layer that has it (NULL
   in *out when absent or deleted by a whiteout). Bounded: a hostile image's /etc/passwd
   may be a device node, a gigabyte, or binary. */
static gboolean
read_image_file (RrunImage *image, const char *rel, char **out, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (rel);
  g_autofree char *base = g_path_get_basename (rel);
  g_autofree char *wh = g_strconcat (dir, "/.wh.", base, NULL);
  g_autofree char *what = g_strconcat ("the image's /", rel, NULL);

  *out = NULL;
  for (guint i = image->layer_dirs->len; i > 0; i--)
    {
      const char *layer = image->layer_dirs->pdata[i - 1];
      g_autofree char *path = g_build_filename (layer, rel, NULL);
      g_autofree char *whpath = g_build_filename (layer, wh, NULL);
      struct stat st;

      if (lstat (path, &st) == 0)
        {
          if (S_ISCHR (st.st_mode) && st.st_rdev == 0)
            return TRUE; /* an overlay whiteout */
          if (S_ISLNK (st.st_mode))
            return TRUE; /* not followed: it would resolve on the host */
          return rrun_text_file_read (path, what, RRUN_TEXT_FILE_MAX_CONFIG,
                                      RRUN_TEXT_FILE_ANY_BYTES, out, NULL, error);
        }
      if (lstat (whpath, &st) == 0)
        return TRUE;
    }
  return TRUE;
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
find_or_pull_image (const RrunConfig *config, RrunStore *store, const RrunContainerSpec *o,
                    RrunImage **out_image, GError **error)
{
  const char *policy = o->pull ? o->pull : config->pull_policy ? config->pull_policy : "missing";
  g_autoptr(GError) local = NULL;
  g_autofree char *id = NULL;

  if (strcmp (policy, "missing") != 0 && strcmp (policy, "always") != 0
      && strcmp (policy, "never") != 0)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid pull policy \"%s\"", policy);
      rrun_add_hint (error, "set pull_policy in rrun.conf to missing, always or never");
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

/* keep-id and nomap show stored files with their owners remapped, which only
   fuse-overlayfs can do: the driver it must be, or an error when the user chose the
   kernel overlay. */
static gboolean
require_fuse_overlayfs (const char **driver, const char *mode, GError **error)
{
  if (g_strcmp0 (*driver, "overlay") == 0)
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                  "cannot use --userns=%s with the kernel overlay driver: only "
                  "fuse-overlayfs can show the image's files with their owners remapped",
                  mode);
      rrun_add_hint (error, "use --storage-driver fuse-overlayfs (the default for %s)", mode);
      return FALSE;
    }
  *driver = "fuse-overlayfs";
  return TRUE;
}

/* --volumes-from: the mounts of the containers named, running or stopped, in order. */
static gboolean
volumes_from (const RrunConfig *config, char **args, const char *self, GPtrArray **out_mounts,
              GError **error)
{
  g_autoptr(GPtrArray) mounts
      = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_mount_spec_free);

  for (guint i = 0; args && args[i]; i++)
    {
      g_autofree char *ref = NULL, *mode = NULL, *dir = NULL;
      g_autoptr(RrunState) s = NULL;
      g_autoptr(GError) local = NULL;

      if (!rrun_mount_parse_volumes_from (args[i], &ref, &mode, error))
        return FALSE;
      if (!rrun_state_find_any (config, ref, &s, &local))
        {
          if (!g_error_matches (local, RRUN_ERROR, RRUN_ERROR_NOT_FOUND))
            {
              g_propagate_error (error, g_steal_pointer (&local));
              return FALSE;
            }
          rrun_throw (error, RRUN_ERROR_NOT_FOUND,
                      "cannot use --volumes-from \"%s\": no such container \"%s\"", args[i],
                      ref);
          rrun_add_hint (error, "rrun ps -a lists containers, running or stopped");
          return FALSE;
        }
      if (self != NULL && strcmp (s->id, self) == 0)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "cannot use --volumes-from \"%s\": that is this container",
                           args[i]);
      dir = rrun_record_dir (config, s->id);
      if (!rrun_container_mounts_inherit (dir, ref, mode, mounts, error))
        return FALSE;
    }
  *out_mounts = g_steal_pointer (&mounts);
  return TRUE;
}

/* start of a stopped container: its record's lock (refused while someone holds it), its
   writable layer, and the image it was made from, by ID. */
static gboolean
open_record_again (RrunContainer *c, const char *id, GError **error)
{
  g_autofree char *dir = rrun_record_dir (c->config, id);
  g_autofree char *lock = g_build_filename (dir, "lock", NULL);
  g_autofree char *image_file = g_build_filename (dir, "image", NULL);
  g_autofree char *image_id = NULL;

  if (c->lock_fd >= 0)
    ; /* the monitor's restart: held all along */
  else if ((c->lock_fd = open (lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) < 0)
    return rrun_throw_errno (error, errno, "cannot open \"%s\"", lock);
  else if (!rrun_lock_try_exclusive (c->lock_fd))
    return rrun_throw (error, RRUN_ERROR_BUSY, "container \"%s\" is already running",
                       c->spec->name ? c->spec->name : id);
  if (!g_file_get_contents (image_file, &image_id, NULL, error))
    return FALSE;
  g_strstrip (image_id);
  if (!rrun_store_find_image (c->store, image_id, &c->image, error))
    {
      g_prefix_error (error, "cannot find the image of container \"%s\": ", id);
      return FALSE;
    }
  c->id = g_strdup (id);
  {
    g_autoptr(RrunState) before = NULL;

    /* docker keeps a container's creation time across starts, and its writable layer
       stays with the driver that wrote it (fuse-overlayfs keeps its own whiteouts). */
    if (rrun_state_find_any (c->config, id, &before, NULL))
      {
        c->created = before->created;
        c->recorded_driver = g_steal_pointer (&before->storage_driver);
      }
  }
  c->upper = g_build_filename (dir, "upper", NULL);
  c->work = g_build_filename (dir, "work", NULL);
  c->layer_created = TRUE;
  /* The kernel overlay's volatile mounts leave work/work/incompat/volatile behind, and
     refuse a work dir that has it: the last run's work dir is of no use, empty it. */
  {
    g_autofree char *inner = g_build_filename (c->work, "work", NULL);
    g_autoptr(GError) local = NULL;

    if (g_file_test (inner, G_FILE_TEST_EXISTS) && !rrun_path_rm_rf (inner, &local))
      {
        g_propagate_prefixed_error (error, g_steal_pointer (&local),
                                    "cannot empty the work dir of container \"%s\": ", id);
        return FALSE;
      }
  }
  return TRUE;
}

/* The error of a --name that another container holds. */
static gboolean
name_in_use (const RrunConfig *config, const char *name, const char *other_id, GError **error)
{
  g_autofree char *dir = rrun_record_dir (config, other_id);

  rrun_throw (error, RRUN_ERROR_BUSY,
              "cannot create container \"%s\": the name is in use by container %.12s", name,
              other_id);
  rrun_add_hint (error, "remove that container (rrun rm%s %s) or choose another name",
                 rrun_lock_dir_is_held (dir) ? " -f" : "", name);
  return FALSE;
}

static gboolean create_container (const RrunConfig *config, RrunContainerSpec *o,
                                  const char *existing_id, int lock_fd,
                                  RrunContainer **out_container, GError **error);

gboolean
rrun_container_create (const RrunConfig *config, RrunContainerSpec *o,
                       RrunContainer **out_container, GError **error)
{
  return create_container (config, o, NULL, -1, out_container, error);
}

gboolean
rrun_container_create_again (const RrunConfig *config, RrunContainerSpec *o, const char *id,
                             RrunContainer **out_container, GError **error)
{
  return create_container (config, o, id, -1, out_container, error);
}

gboolean
rrun_container_create_again_locked (const RrunConfig *config, RrunContainerSpec *o,
                                    const char *id, int lock_fd, RrunContainer **out_container,
                                    GError **error)
{
  return create_container (config, o, id, lock_fd, out_container, error);
}

static gboolean
create_container (const RrunConfig *config, RrunContainerSpec *o, const char *existing_id,
                  int lock_fd, RrunContainer **out_container, GError **error)
{
  g_autoptr(RrunContainer) c = g_new0 (RrunContainer, 1);
  const char *driver = config->storage_driver;
  gboolean keep_id, nomap, emulate_root, new_passwd = FALSE, new_group = FALSE;
  g_autofree char *seccomp_cache = NULL;
  g_autofree char *containers_dir = NULL;
  g_auto(GStrv) host_env = g_get_environ ();
  const char *workdir;
  guint32 host5;

  c->config = config;
  c->spec = o;
  c->lock_fd = lock_fd;
  c->init_fd = -1;
  c->sigfd = -1;
  c->mounts = rrun_mount_plan_new ();
  prctl (PR_SET_CHILD_SUBREAPER, 1);
  c->tty.saved = FALSE;
  rrun_container_process_init (&c->proc);
  c->remove_layer = o->rm;
  c->restart = existing_id != NULL;
  /* The spec's network options, validated with it (rrun_container_spec_validate). */
  if (o->net == NULL && !rrun_container_spec_validate (config, o, error))
    return FALSE;
  c->net_opts = g_steal_pointer (&o->net);

  if (!rrun_idmap_resolve (o->userns ? o->userns : config->userns, &c->map, error))
    return FALSE;
  rrun_debug_phase ("id map resolved");
  /* The network mode says whether the container enters an existing user namespace
     (container:, ns:). Otherwise its own is made now, so that newuidmap and newgidmap run
     while the store, the image and the mounts are prepared. */
  if (!rrun_network_options_joins (c->net_opts)
      && !rrun_early_userns_start (c->map, &c->early, error))
    return FALSE;
  c->storage_map = rrun_idmap_storage_map (c->map);
  if (!rrun_store_open (config, &c->store, error))
    return FALSE;
  /* Containers whose rrun was killed leave their record: collect it now. */
  if (!rrun_container_gc (config, c->store, c->storage_map, error))
    return FALSE;
  rrun_debug_phase ("store open");
  /* Names are unique among all containers, running or stopped, as with docker. */
  if (o->name != NULL && !c->restart)
    {
      g_autoptr(RrunState) other = rrun_state_find_name (config, o->name);

      if (other != NULL)
        return name_in_use (config, o->name, other->id, error);
    }
  if (c->restart ? !open_record_again (c, existing_id, error)
                 : !find_or_pull_image (config, c->store, o, &c->image, error))
    return FALSE;
  if (c->recorded_driver != NULL)
    driver = c->recorded_driver;

  rrun_debug_phase ("image found");
  /* Layers unpacked before the user had a subordinate range keep the user as owner of
     files meant for other ids (and lost setuid bits with them): say so now that the
     range exists, since reusing them silently would run a subtly different image. */
  if (c->image->unmapped_owners > 0 && !c->map->single)
    rrun_warning ("%" G_GUINT64_FORMAT " file%s of %s lost %s owner when the image was "
                  "unpacked without a subordinate ID range: root owns them inside\n"
                  "hint: to restore them, remove the image (rrun rmi %s) and pull or import "
                  "it again",
                  c->image->unmapped_owners, c->image->unmapped_owners == 1 ? "" : "s", o->image,
                  c->image->unmapped_owners == 1 ? "its" : "their", o->image);
  /* Network and cgroup first: their errors (a busy port, no delegation) come before any
     directory is made. */
  if (o->publish_all
      && !rrun_network_options_publish_all (c->net_opts,
                                            (const char *const *) c->image->config->exposed_ports,
                                            error))
    return FALSE;
  if (!rrun_network_check_ports (c->net_opts, error))
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
      if (!require_fuse_overlayfs (&driver, "nomap", error))
        return FALSE;
    }
  if (!c->restart)
    c->id = rrun_path_random_hex (32);
  if (!read_image_file (c->image, "etc/passwd", &c->passwd, error)
      || !read_image_file (c->image, "etc/group", &c->group, error))
    return FALSE;
  if (keep_id)
    {
      /* The user is themself inside, unless -u says otherwise. */
      c->keep_id_user = g_strdup_printf ("%u:%u", c->map->container_uid, c->map->container_gid);
      if (!require_fuse_overlayfs (&driver, "keep-id", error))
        return FALSE;
      add_keep_id_entries (c->map, &c->passwd, &c->group, &new_passwd, &new_group);
    }
  if (!rrun_user_resolve (o->user ? o->user : c->keep_id_user ? c->keep_id_user : c->image->config->user,
                          c->passwd, c->group, &c->user, error)
      || !rrun_spec_build_argv (c->image->config->entrypoint, c->image->config->cmd, o->entrypoint,
                                o->args, &c->argv, error)
      || !rrun_caps_compute (o->cap_add, o->cap_drop, o->privileged, &c->caps, error))
    return FALSE;
  /* With --network container: the host name is that container's, as with docker. */
  c->hostname = o->hostname              ? g_strdup (o->hostname)
             : c->join && c->join->hostname ? g_strdup (c->join->hostname)
                                      : g_strndup (c->id, 12);
  if (strlen (c->hostname) > 64)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid hostname \"%s\": longer than 64 characters", c->hostname);
  if (!rrun_spec_build_env (c->image->config->env, o->env_files, o->env, host_env, c->hostname,
                            c->user->home, o->tty, &c->envp, error))
    return FALSE;
  workdir = o->workdir ? o->workdir
            : (c->image->config->working_dir && *c->image->config->working_dir)
                ? c->image->config->working_dir
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
  /* The record (with its lock and writable layer) first: a run dir without a record is
     stale (rrun_container_gc). */
  if (!c->restart
      && !rrun_store_create_container_dirs (c->store, c->id, c->image->id, &c->upper,
                                            &c->work, &c->lock_fd, error))
    return FALSE;
  c->layer_created = TRUE;
  /* The name, atomically now that the record exists with its lock held: the check
     before the image lookup above gives the early error, this one settles a race. */
  if (o->name != NULL && !c->restart)
    {
      g_autofree char *other = NULL;
      g_autoptr(GError) local = NULL;

      if (!rrun_container_name_reserve (config, o->name, c->id, &other, &local))
        {
          if (other == NULL)
            {
              g_propagate_error (error, g_steal_pointer (&local));
              return FALSE;
            }
          return name_in_use (config, o->name, other, error);
        }
    }
  if (o->cidfile != NULL && !c->restart)
    {
      g_autofree char *text = g_strconcat (c->id, "\n", NULL);
      rrun_autofd int fd = open (o->cidfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

      if (fd < 0)
        return rrun_throw_errno (error, errno, "cannot create the --cidfile \"%s\"", o->cidfile);
      if (!rrun_fd_write_all (fd, text, strlen (text), error))
        return FALSE;
    }
  c->run_dir = g_build_filename (containers_dir, c->id, NULL);
  c->merged = g_build_filename (c->run_dir, "merged", NULL);
  if (!rrun_path_mkdir_p (c->merged, 0700, error))
    return FALSE;
  if (!write_etc_files (c->run_dir, c->hostname, c->net_opts, c->join, &c->mo, error))
    return FALSE;
  /* Volumes: made (and filled from the image) now that the record exists, so `volume rm`
     sees them in use from here on. */
  {
    g_autofree char *record_dir = rrun_record_dir (config, c->id);
    g_autoptr(GPtrArray) inherited = NULL;
    RrunContainerMountsRequest req = {
      .volumes = o->volumes,
      .mounts = o->mounts,
      .tmpfs = o->tmpfs,
      .image_volumes = c->image->config->volumes,
      .layers = (const char *const *) c->image->layer_dirs->pdata,
      .n_layers = c->image->layer_dirs->len,
      .storage_map = c->storage_map,
      .map = c->map,
      .uid = c->user->uid,
      .gid = c->user->gid,
      .record_dir = record_dir,
    };
    if (!volumes_from (config, o->volumes_from, c->id, &inherited, error))
      return FALSE;
    req.inherited = inherited;
    if (!rrun_container_mounts_prepare (config, &req, &c->volumes, error))
      return FALSE;
  }
  rrun_debug_phase ("volumes ready");
  /* Owned here, so that every early return frees them. */
  c->etc_hostname = (char *) c->mo.etc_hostname;
  c->etc_hosts = (char *) c->mo.etc_hosts;
  c->etc_resolv = (char *) c->mo.etc_resolv;

  rrun_debug_phase ("directories ready");
  /* The root file system. */
  c->layers.lower_dirs = (const char *const *) c->image->layer_dirs->pdata;
  c->layers.n_lower = c->image->layer_dirs->len;
  c->layers.upper_dir = c->upper;
  c->layers.work_dir = c->work;
  c->layers.merged_dir = c->merged;
  c->layers.storage_root = rrun_store_root (c->store);
  c->layers.fuse_acl = config->fuse_acl;
  if (keep_id)
    {
      keep_id_fuse_mappings (c->map, &c->fuse_uidmap, &c->fuse_gidmap);
      c->layers.uid_mapping = c->fuse_uidmap;
      c->layers.gid_mapping = c->fuse_gidmap;
    }
  if (nomap)
    {
      /* fuse-overlayfs runs in the outer namespace, where a stored id s is s; the
         command's namespace sees outer id s+1 as s. So show every stored id one up:
         image files owned by root are root's inside, and what the container writes is
         stored with the ids it would have had by default. */
      guint32 uspan = rrun_idmap_span (c->map->inner_uid_map);
      guint32 gspan = rrun_idmap_span (c->map->inner_gid_map);

      c->fuse_uidmap = g_strdup_printf ("0:1:%u", uspan);
      c->fuse_gidmap = g_strdup_printf ("0:1:%u", gspan);
      c->inner_uid = g_strdup_printf ("0 1 %u\n", uspan);
      c->inner_gid = g_strdup_printf ("0 1 %u\n", gspan);
      c->layers.uid_mapping = c->fuse_uidmap;
      c->layers.gid_mapping = c->fuse_gidmap;
      c->plan.inner_uid_map = c->inner_uid;
      c->plan.inner_gid_map = c->inner_gid;
    }
  if (!rrun_overlay_prepare (driver, &c->layers, &c->overlay, error))
    return FALSE;

  /* Namespaces and mounts. */
  c->plan.unshare_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWCGROUP;
  if (o->ipc == NULL || g_strcmp0 (o->ipc, "private") == 0)
    c->plan.unshare_flags |= CLONE_NEWIPC;
  else if (g_strcmp0 (o->ipc, "host") != 0)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --ipc \"%s\": expected private or host", o->ipc);
  if (rrun_network_options_needs_netns (c->net_opts))
    {
      c->plan.unshare_flags |= CLONE_NEWNET;
      c->plan.loopback_up = TRUE;
    }
  c->plan.join_userns_fd = -1;
  c->plan.join_netns_fd = -1;
  if (c->early != NULL)
    {
      c->plan.join_userns_fd = rrun_early_userns_fd (c->early);
      c->plan.join_what = "the new container";
    }
  if (c->join != NULL)
    {
      c->plan.join_netns = TRUE;
      c->plan.join_userns_fd = c->join->userns_fd;
      c->plan.join_netns_fd = c->join->netns_fd;
      c->plan.join_what = c->join->what;
    }
  /* Its own cgroup, when one can be had (created now, entered right after clone). */
  if (!rrun_cgroup_prepare (o->cgroups ? o->cgroups : config->cgroups, o->limits, c->id,
                            &c->cgroup, error))
    return FALSE;
  /* A joined namespace is owned by the user namespace the container enters: it may mount
     a fresh sysfs there too. */
  c->mo.new_netns = (c->plan.unshare_flags & CLONE_NEWNET) != 0 || c->plan.join_netns;
  c->mo.new_cgroupns = TRUE;
  /* A delegated subtree is the container's own: nested tools may write it. */
  c->mo.cgroup_writable = rrun_cgroup_path (c->cgroup) != NULL;
  c->mo.gid5_mapped = rrun_idmap_to_host (c->map->gid_map, 5, &host5);
  c->mo.privileged = o->privileged;
  rrun_mount_plan_add_defaults (c->mounts, &c->mo);
  if ((new_passwd && !bind_generated (c->mounts, c->run_dir, "passwd", c->passwd, "/etc/passwd", error))
      || (new_group && !bind_generated (c->mounts, c->run_dir, "group", c->group, "/etc/group", error)))
    return FALSE;
  rrun_container_mounts_add_to_plan (c->mounts, c->volumes);
  rrun_mount_plan_add_protections (c->mounts, o->privileged,
                                   (const char *const *) o->mask_paths,
                                   (const char *const *) o->unmask_paths);

  c->plan.rootfs_kind = c->overlay->kernel ? RRUN_ROOTFS_KERNEL_OVERLAY : RRUN_ROOTFS_FUSE_OVERLAYFS;
  c->plan.rootfs = c->merged;
  c->plan.overlay_cwd = c->overlay->cwd;
  c->plan.overlay_data = c->overlay->data;
  c->plan.overlay_fallback_fuse = c->overlay->fallback_fuse;
  c->plan.fuse_exe = c->overlay->fuse_exe;
  c->plan.fuse_argv = c->overlay->fuse_argv;
  if (c->overlay->fuse_exe != NULL)
    {
      c->proc.fuse_stderr_fd = memfd_create ("fuse-overlayfs-stderr", MFD_CLOEXEC);
      if (c->proc.fuse_stderr_fd < 0)
        return rrun_throw_errno (error, errno, "cannot create a memfd");
    }
  c->plan.fuse_stderr_fd = c->proc.fuse_stderr_fd;
  c->plan.hostname = c->hostname;
  c->plan.mounts = (const RrunMountOp *) c->mounts->ops->data;
  c->plan.n_mounts = c->mounts->ops->len;
  c->plan.init = o->init;
  if (o->init && (c->init_fd = rrun_process_init_program_fd (error)) < 0)
    return FALSE;
  c->plan.init_fd = c->init_fd;
  c->plan.tty = o->tty;
  c->plan.keep_stdin = o->interactive;
  c->plan.workdir = workdir;
  c->plan.create_workdir = TRUE;
  c->plan.argv = c->argv;
  c->plan.envp = c->envp;
  c->plan.path = rrun_spec_env_get (c->envp, "PATH");
  c->plan.path_absent = rrun_path_probe_absent (c->plan.path, c->argv[0], c->layers.lower_dirs,
                                             c->layers.n_lower, c->plan.mounts, c->plan.n_mounts);
  c->plan.uid = c->user->uid;
  c->plan.gid = c->user->gid;
  c->plan.groups = (const gid_t *) c->user->groups->data;
  c->plan.n_groups = c->user->groups->len;
  c->plan.set_groups = !c->map->single;
  c->plan.caps = c->caps->caps;
  c->plan.drop_bounding = (const int *) c->caps->drop->data;
  c->plan.n_drop_bounding = c->caps->drop->len;
  c->plan.no_new_privs = !o->privileged;
  c->plan.readonly_root = o->read_only;
  if (o->rm)
    {
      c->plan.empty_after[0] = c->upper;
      c->plan.empty_after[1] = c->work;
    }

  /* Single-ID mode cannot chown: fake the chown and set*id families so package managers
     work (--no-root-emulation turns it off). */
  emulate_root = o->root_emulation > 0 || (o->root_emulation < 0 && c->map->single);
  seccomp_cache = g_build_filename (c->config->run_root, "seccomp", NULL);
  if (!rrun_seccomp_build (o->seccomp, !o->privileged && !o->seccomp_unconfined,
                          c->caps->set, emulate_root, seccomp_cache, &c->seccomp, error))
    return FALSE;
  if (c->seccomp != NULL)
    {
      gsize len;

      c->plan.seccomp_bpf = g_bytes_get_data (c->seccomp, &len);
      c->plan.seccomp_len = len / 8; /* sizeof (struct sock_filter) */
    }
  if (emulate_root && c->map->single)
    rrun_info ("root emulation is on: chown and setuid calls succeed without effect");

  rrun_debug_phase ("plan built");
  *out_container = g_steal_pointer (&c);
  return TRUE;
}
