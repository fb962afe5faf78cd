/* rrun_container_create: from a validated spec to a record and a plan start can run. */
#include "container/container-private.h"
#include "container/hooks.h"
#include "child/plan.h"
#include "error.h"
#include "util/text-file.h"
#include "userns/idmap.h"
#include "image/tool.h"
#include "log.h"
#include "container/namespaces.h"
#include "network/join.h"
#include "network/usernet.h"
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
#include "container/remove.h"
#include "container/spec-flags.h"
#include "container/secret.h"
#include "util/size.h"
#include "storage/lock.h"
#include "storage/store.h"
#include "squashfs/squashfs.h"
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
#include <grp.h>
#include <pwd.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <unistd.h>

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

/* Whether the image has directory rel (the topmost layer that names it decides). */
static gboolean
image_has_dir (RrunImage *image, const char *rel)
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

      if (lstat (path, &st) == 0)
        return S_ISDIR (st.st_mode);
      if (lstat (whpath, &st) == 0)
        return FALSE;
    }
  return FALSE;
}

/* apt drops to its _apt user to download; with one ID mapped that user cannot exist, so
   apt would fail with "Could not switch group". Bound read-only over
   /etc/apt/apt.conf.d/99rrun-single-id; commit and build leave out the empty mount point
   it needs in the writable layer (image/layer-diff.c). With a range it is not there. */
static const char apt_single_id_conf[] =
  "// rrun, single-ID mode: no subordinate ID range, so apt's _apt sandbox user cannot\n"
  "// exist in this container and apt runs its downloads as root (docs/hpc.md).\n"
  "// The fix: an administrator runs sudo subuid-setup.sh USER.\n"
  "APT::Sandbox::User \"root\";\n";

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
  if (!rrun_image_tool_pull_with (config, o->image, !o->no_tls_verify, o->quiet_pull,
                                  o->platform, o->authfile, &id, error))
    return FALSE;
  return rrun_store_find_image (store, id, out_image, error);
}

/* --hostuser NAME: the host's passwd line for NAME, added unless the image has the name. */
static gboolean
add_host_users (char **names, char **passwd)
{
  gboolean changed = FALSE;

  for (guint i = 0; names && names[i]; i++)
    {
      guint64 uid;
      struct passwd *pw = g_ascii_string_to_unsigned (names[i], 10, 0, G_MAXUINT32, &uid, NULL)
                              ? getpwuid ((uid_t) uid)
                              : getpwnam (names[i]);
      g_autofree char *prefix = NULL;
      char *text;

      if (pw == NULL)
        continue; /* checked with the spec; gone since */
      prefix = g_strconcat (pw->pw_name, ":", NULL);
      if (*passwd != NULL && (g_str_has_prefix (*passwd, prefix) || strstr (*passwd, prefix)))
        {
          g_autofree char *line_start = g_strconcat ("\n", prefix, NULL);
          if (g_str_has_prefix (*passwd, prefix) || strstr (*passwd, line_start))
            continue;
        }
      text = g_strdup_printf ("%s%s%s:x:%u:%u:%s:%s:%s\n", *passwd ? *passwd : "",
                              (*passwd && **passwd && !g_str_has_suffix (*passwd, "\n")) ? "\n" : "",
                              pw->pw_name, pw->pw_uid, pw->pw_gid,
                              pw->pw_gecos ? pw->pw_gecos : "", pw->pw_dir, pw->pw_shell);
      g_free (*passwd);
      *passwd = text;
      changed = TRUE;
    }
  return changed;
}

/* podman's --passwd: a -u UID the image's /etc/passwd lacks gets a line (name = UID), or
   the --passwd-entry template's, so that whoami, HOME and ssh work. */
static gboolean
add_run_user (const RrunContainerSpec *o, const RrunUser *user, const char *workdir,
              char **passwd)
{
  g_autofree char *uid_text = g_strdup_printf (":%u:", user->uid);
  g_autofree char *name = NULL, *line = NULL;
  char *text;

  if (o->no_passwd || (o->user == NULL && o->passwd_entry == NULL) || user->name != NULL)
    return FALSE;
  name = g_strdup_printf ("%u", user->uid);
  line = o->passwd_entry
             ? rrun_spec_flags_passwd_line (o->passwd_entry, name, user->uid, user->gid,
                                            workdir)
             : g_strdup_printf ("%u:*:%u:%u:container user:%s:/bin/sh\n", user->uid, user->uid,
                                user->gid, workdir);
  (void) uid_text;
  text = g_strconcat (*passwd ? *passwd : "",
                      (*passwd && **passwd && !g_str_has_suffix (*passwd, "\n")) ? "\n" : "",
                      line, NULL);
  g_free (*passwd);
  *passwd = text;
  return TRUE;
}

/* --group-add NAME|GID: resolved against the container's /etc/group. */
static gboolean
add_groups (char **groups, const char *group_text, RrunUser *user, GError **error)
{
  for (guint i = 0; groups && groups[i]; i++)
    {
      guint64 n;
      gid_t gid;
      gboolean found = FALSE;

      if (strcmp (groups[i], "keep-groups") == 0)
        continue;
      if (g_ascii_isdigit (groups[i][0])
          && g_ascii_string_to_unsigned (groups[i], 10, 0, G_MAXUINT32 - 1, &n, NULL))
        gid = (gid_t) n, found = TRUE;
      else
        {
          g_auto(GStrv) lines = g_strsplit (group_text ? group_text : "", "\n", -1);
          g_autofree char *prefix = g_strconcat (groups[i], ":", NULL);

          for (guint k = 0; lines[k] && !found; k++)
            if (g_str_has_prefix (lines[k], prefix))
              {
                g_auto(GStrv) f = g_strsplit (lines[k], ":", 4);
                if (f[1] && f[2] && g_ascii_string_to_unsigned (f[2], 10, 0, G_MAXUINT32 - 1, &n, NULL))
                  gid = (gid_t) n, found = TRUE;
              }
        }
      if (!found)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "--group-add \"%s\": no such group in the image's /etc/group", groups[i]);
          rrun_add_hint (error, "give the GID instead");
          return FALSE;
        }
      g_array_append_val (user->groups, gid);
    }
  return TRUE;
}

/* Whether any -v, --mount or --tmpfs mounts target (they win over rrun's defaults). */
static gboolean
user_mounts_target (const RrunContainerSpec *o, const char *target)
{
  g_autoptr(GPtrArray) mounts = NULL;

  if (!rrun_mount_parse_all (o->volumes, o->mounts, o->tmpfs, &mounts, NULL))
    return FALSE;
  for (guint i = 0; i < mounts->len; i++)
    if (strcmp (((RrunMountSpec *) mounts->pdata[i])->target, target) == 0)
      return TRUE;
  return FALSE;
}

/* --tmpfs arguments rrun adds: --read-only's /tmp, /var/tmp and /run (podman's
   --read-only-tmpfs), and the image's VOLUMEs with --image-volume tmpfs. */
static char **
extra_tmpfs (const RrunContainerSpec *o, char **image_volumes)
{
  static const char *const ro_dirs[] = { "/tmp", "/var/tmp", "/run", NULL };
  GPtrArray *all = g_ptr_array_new ();

  for (guint i = 0; o->tmpfs && o->tmpfs[i]; i++)
    g_ptr_array_add (all, g_strdup (o->tmpfs[i]));
  for (guint i = 0; o->read_only && !o->no_read_only_tmpfs && ro_dirs[i]; i++)
    if (!user_mounts_target (o, ro_dirs[i]))
      g_ptr_array_add (all, g_strdup (ro_dirs[i]));
  for (guint i = 0; g_strcmp0 (o->image_volume, "tmpfs") == 0 && image_volumes && image_volumes[i]; i++)
    if (!user_mounts_target (o, image_volumes[i]) && rrun_mount_plan_check_target (image_volumes[i], NULL))
      g_ptr_array_add (all, g_strdup (image_volumes[i]));
  g_ptr_array_add (all, NULL);
  return (char **) g_ptr_array_free (all, FALSE);
}

/* --expose: the image's exposed ports and these, for -P. */
static char **
exposed_ports (const RrunContainerSpec *o, char **image_ports)
{
  GPtrArray *all = g_ptr_array_new ();

  for (guint i = 0; image_ports && image_ports[i]; i++)
    g_ptr_array_add (all, g_strdup (image_ports[i]));
  for (guint i = 0; o->expose && o->expose[i]; i++)
    {
      const char *slash = strchr (o->expose[i], '/');
      const char *proto = slash ? slash + 1 : "tcp";
      g_autofree char *ports = slash ? g_strndup (o->expose[i], slash - o->expose[i])
                                     : g_strdup (o->expose[i]);
      const char *dash = strchr (ports, '-');
      guint lo = (guint) g_ascii_strtoull (ports, NULL, 10);
      guint hi = dash ? (guint) g_ascii_strtoull (dash + 1, NULL, 10) : lo;

      for (guint p = lo; p <= hi && p - lo < 65536; p++)
        g_ptr_array_add (all, g_strdup_printf ("%u/%s", p, proto));
    }
  g_ptr_array_add (all, NULL);
  return (char **) g_ptr_array_free (all, FALSE);
}

/* --replace: the container holding the name goes first, running or not (podman's). */
static gboolean
replace_named (const RrunConfig *config, RrunStore *store, const RrunIdMap *storage_map,
               const char *name, GError **error)
{
  g_autoptr(RrunState) other = rrun_state_find_name (config, name);

  if (other == NULL)
    return TRUE;
  if (!rrun_container_remove (config, store, storage_map, other, TRUE, FALSE, error))
    {
      g_prefix_error (error, "--replace: cannot remove container \"%s\": ", name);
      return FALSE;
    }
  return TRUE;
}

/* The container of a --pid/--ipc "container:NAME" value, or NULL. */
static const char *
join_target (const char *value)
{
  return value != NULL && g_str_has_prefix (value, "container:") ? value + strlen ("container:")
                                                                  : NULL;
}

/* --requires: the containers must exist and, but for rrun create, be running (the stopped
   ones were started before this, by rrun_container_start_requires, outside this process,
   which is a subreaper by now and would adopt their monitors). */
static gboolean
check_requires (const RrunConfig *config, char **requires, gboolean create_only,
                GError **error)
{
  for (guint i = 0; requires && requires[i]; i++)
    {
      g_auto(GStrv) names = g_strsplit (requires[i], ",", -1);

      for (guint k = 0; names[k]; k++)
        {
          g_autoptr(RrunState) s = NULL;

          if (*names[k] == '\0')
            continue;
          if (!rrun_state_find_any (config, names[k], &s, NULL))
            {
              rrun_throw (error, RRUN_ERROR_NOT_FOUND,
                          "--requires: no such container \"%s\"", names[k]);
              rrun_add_hint (error, "rrun ps -a lists containers, running or stopped");
              return FALSE;
            }
          if (s->status != RRUN_STATUS_RUNNING && !create_only)
            {
              rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                          "--requires: container \"%s\" is not running", names[k]);
              rrun_add_hint (error, "start it first: rrun start %s", names[k]);
              return FALSE;
            }
        }
    }
  return TRUE;
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
                  "cannot use %s%s with the kernel overlay driver: only "
                  "fuse-overlayfs can show the image's files with their owners remapped",
                  g_str_has_prefix (mode, "--") ? "" : "--userns=", mode);
      rrun_add_hint (error, "use --storage-driver fuse-overlayfs (the default for %s)",
                     g_str_has_prefix (mode, "--") ? mode + 2 : mode);
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
  if (g_str_has_prefix (image_id, "squashfs:")
      && !rrun_squashfs_open (image_id + strlen ("squashfs:"), &c->squash, error))
    return FALSE;
  if (c->squash != NULL ? !rrun_squashfs_to_image (c->squash, NULL, &c->image, error)
                        : !rrun_squashfs_find_image (c->store, image_id, &c->image, error))
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
  RrunRootEmulation emulate_root;
  gboolean keep_id, nomap, new_passwd = FALSE, new_group = FALSE;
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
  c->hook_state_fd = -1;
  c->usernet_userns_fd = -1;
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
  /* Devices now, before an image is looked for: a missing node or CDI device is the
     first error. */
  if (o->devices != NULL || o->gpus != NULL || o->device_cgroup_rules != NULL)
    {
      if (!rrun_device_resolve (config, o->devices, o->gpus, o->device_cgroup_rules,
                                &c->devices, error))
        return FALSE;
      for (guint i = 0; i < c->devices->notes->len; i++)
        rrun_warning ("%s", (char *) c->devices->notes->pdata[i]);
      rrun_debug_phase ("devices resolved");
    }

  if (!rrun_idmap_resolve (o->userns ? o->userns : config->userns, &c->map, error))
    return FALSE;
  if (!rrun_spec_flags_custom_map (c->map, o->uidmaps, o->gidmaps, error))
    return FALSE;
  rrun_debug_phase ("id map resolved");
  /* The network mode says whether the container enters an existing user namespace
     (container:, ns:). Otherwise its own is made now, so that newuidmap and newgidmap run
     while the store, the image and the mounts are prepared. */
  if (c->net_opts->mode == RRUN_NETWORK_USER)
    {
      /* It enters the network holder's user namespace, which has the full map. */
      if (c->map->mode != RRUN_USERNS_AUTO || c->map->single || o->uidmaps != NULL
          || o->gidmaps != NULL || join_target (o->pid) != NULL || join_target (o->ipc) != NULL)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "cannot use --network %s with %s: containers on user-defined networks "
                      "share the network holder's user namespace",
                      (char *) c->net_opts->user_networks->pdata[0],
                      c->map->single ? "a single-ID mapping (no subordinate range)"
                      : o->uidmaps != NULL || o->gidmaps != NULL ? "--uidmap/--gidmap"
                      : join_target (o->pid) != NULL || join_target (o->ipc) != NULL
                          ? "--pid/--ipc container:"
                          : "this --userns");
          rrun_add_hint (error, "leave the option out, or use the default network "
                                "(--network bridge)");
          return FALSE;
        }
    }
  else if (!rrun_network_options_joins (c->net_opts) && join_target (o->pid) == NULL
           && join_target (o->ipc) == NULL
           && !rrun_early_userns_start (c->map, &c->early, error))
    return FALSE;
  c->storage_map = rrun_idmap_storage_map (c->map);
  if (!rrun_store_open (config, &c->store, error))
    return FALSE;
  /* Containers whose rrun was killed leave their record: collect it now. */
  if (!rrun_container_gc (config, c->store, c->storage_map, error))
    return FALSE;
  rrun_debug_phase ("store open");
  if (!c->restart && o->replace && o->name != NULL
      && !replace_named (config, c->store, c->storage_map, o->name, error))
    return FALSE;
  if (!check_requires (config, o->requires, o->create_only, error))
    return FALSE;
  /* Names are unique among all containers, running or stopped, as with docker. */
  if (o->name != NULL && !c->restart)
    {
      g_autofree char *other = rrun_state_find_name_id (config, o->name);

      if (other != NULL)
        return name_in_use (config, o->name, other, error);
    }
  if (c->restart)
    {
      if (!open_record_again (c, existing_id, error))
        return FALSE;
    }
  else if (o->rootfs != NULL)
    {
      if ((c->image = rrun_image_new_rootfs (o->rootfs, error)) == NULL)
        return FALSE;
    }
  else if (rrun_squashfs_is_file_ref (o->image) && g_file_test (o->image, G_FILE_TEST_IS_DIR))
    {
      /* A root file system directory (an OCI bundle's): the read-only lower layer. */
      if (!rrun_squashfs_rootfs_image (o->image, &c->image, error))
        return FALSE;
      g_free (o->image);
      o->image = g_strdup (c->image->layer_dirs->pdata[0]);
    }
  else if (rrun_squashfs_is_file_ref (o->image))
    {
      /* An image file: its config from the trailer; its absolute path goes in the
         record, so that start and the monitor find it from any directory. */
      if (!rrun_squashfs_open (o->image, &c->squash, error)
          || !rrun_squashfs_to_image (c->squash, NULL, &c->image, error))
        return FALSE;
      g_free (o->image);
      o->image = g_strdup (c->squash->path);
    }
  else if (!find_or_pull_image (config, c->store, o, &c->image, error))
    return FALSE;
  if (c->squash != NULL && !rrun_squashfs_find_squashfuse (&c->squash_exe, error))
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
  if (o->publish_all)
    {
      g_auto(GStrv) ports = exposed_ports (o, c->image->config->exposed_ports);

      if (!rrun_network_options_publish_all (c->net_opts, (const char *const *) ports, error))
        return FALSE;
    }
  if (!rrun_network_check_ports (c->net_opts, error))
    return FALSE;
  /* The container enters the owner of the namespace it joins: its id map must be ours. */
  if (rrun_network_options_joins (c->net_opts)
      && !rrun_netns_join_open (config, c->net_opts, c->map, &c->join, error))
    return FALSE;
  /* --pid/--ipc container: likewise enter that container's user namespace (the same one
     as --network container:'s: the spec checks refuse two targets). */
  if ((join_target (o->pid) != NULL || join_target (o->ipc) != NULL)
      && !rrun_ns_join_open (config, join_target (o->pid) ? join_target (o->pid)
                                                          : join_target (o->ipc),
                             join_target (o->pid) != NULL, join_target (o->ipc) != NULL,
                             c->map, &c->ns_join, error))
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
  if (c->squash != NULL)
    {
      c->passwd = g_strdup (c->squash->passwd);
      c->group = g_strdup (c->squash->group);
    }
  else if (!rrun_image_read_file (c->image, "etc/passwd", &c->passwd, error)
           || !rrun_image_read_file (c->image, "etc/group", &c->group, error))
    return FALSE;
  if (keep_id)
    {
      /* The user is themself inside, unless -u says otherwise. */
      c->keep_id_user = g_strdup_printf ("%u:%u", c->map->container_uid, c->map->container_gid);
      if (!require_fuse_overlayfs (&driver, "keep-id", error))
        return FALSE;
      add_keep_id_entries (c->map, &c->passwd, &c->group, &new_passwd, &new_group);
    }
  if (add_host_users (o->hostuser, &c->passwd))
    new_passwd = TRUE;
  if (!rrun_user_resolve (o->user ? o->user : c->keep_id_user ? c->keep_id_user : c->image->config->user,
                          c->passwd, c->group, &c->user, error)
      || !rrun_spec_build_argv (c->image->config->entrypoint, c->image->config->cmd, o->entrypoint,
                                o->args, &c->argv, error)
      || !rrun_caps_compute (o->cap_add, o->cap_drop, o->privileged, &c->caps, error))
    return FALSE;
  /* With --network container: the host name is that container's, as with docker. */
  c->hostname = g_strcmp0 (o->uts, "host") == 0 ? g_strdup (g_get_host_name ())
             : o->hostname              ? g_strdup (o->hostname)
             : c->join && c->join->hostname ? g_strdup (c->join->hostname)
                                      : g_strndup (c->id, 12);
  if (strlen (c->hostname) > 64)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid hostname \"%s\": longer than 64 characters", c->hostname);
  {
    g_auto(GStrv) image_env = rrun_spec_flags_image_env (o, c->image->config->env, host_env);

    if (!rrun_spec_build_env (image_env, o->env_files, o->env, host_env, c->hostname,
                              c->user->home, o->tty, &c->envp, error))
      return FALSE;
    rrun_spec_flags_unset_env (o, &c->envp);
  }
  if (o->slurm_env)
    rrun_spec_env_add_missing (&c->envp, host_env);
  if (c->devices != NULL)
    rrun_device_edits_apply_env (c->devices, &c->envp);
  workdir = o->workdir ? o->workdir
            : (c->image->config->working_dir && *c->image->config->working_dir)
                ? c->image->config->working_dir
                : "/";
  if (workdir[0] != '/')
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid working directory \"%s\": it must be absolute", workdir);
  if (add_run_user (o, c->user, c->user->home && strcmp (c->user->home, "/") != 0
                                    ? c->user->home : workdir, &c->passwd))
    new_passwd = TRUE;
  if (!add_groups (o->group_add, c->group, c->user, error))
    return FALSE;
  /* --init-path: the user's init, bound in, runs the command as its argument. */
  if (o->init_path != NULL)
    {
      char **argv = g_new0 (char *, g_strv_length (c->argv) + 3);

      argv[0] = g_strdup ("/run/rrun-init-path");
      argv[1] = g_strdup ("--");
      for (guint i = 0; c->argv[i]; i++)
        argv[i + 2] = c->argv[i];
      g_free (c->argv);
      c->argv = argv;
    }

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
  /* An address on each user-defined network, now that the record's lock says the
     container lives (a killed rrun's addresses are taken back by that lock). */
  if (c->net_opts->mode == RRUN_NETWORK_USER && !o->create_only)
    {
      g_autofree char *userns = NULL;

      if (!rrun_usernet_join (config, c->net_opts, c->id, o->name, &c->usernet_links,
                              &c->usernet_holder, error))
        return FALSE;
      userns = g_strdup_printf ("/proc/%d/ns/user", (int) c->usernet_holder);
      c->usernet_userns_fd = open (userns, O_RDONLY | O_CLOEXEC);
      if (c->usernet_userns_fd < 0)
        return rrun_throw_errno (error, errno, "cannot open the network holder's namespace");
      rrun_debug_phase ("network addresses taken");
    }
  c->run_dir = g_build_filename (containers_dir, c->id, NULL);
  c->merged = g_build_filename (c->run_dir, "merged", NULL);
  if (!rrun_path_mkdir_p (c->merged, 0700, error))
    return FALSE;
  if (c->squash != NULL)
    {
      /* The file's only layer: squashfuse mounts it here, in the container's mount
         namespace, read-only; the writable layer is the overlay's upper as always. */
      c->squash_dir = g_build_filename (c->run_dir, "image", NULL);
      if (mkdir (c->squash_dir, 0700) < 0 && errno != EEXIST)
        return rrun_throw_errno (error, errno, "cannot create \"%s\"", c->squash_dir);
      g_ptr_array_add (c->image->layer_dirs, g_strdup (c->squash_dir));
    }
  if (!write_etc_files (c->run_dir, c->hostname, c->net_opts, c->join, &c->mo, error))
    return FALSE;
  emulate_root = rrun_seccomp_root_emulation (o->root_emulation, c->map->single);
  if (emulate_root == RRUN_ROOT_EMULATION_SINGLE_ID && image_has_dir (c->image, "etc/apt/apt.conf.d"))
    {
      if (!write_file (c->run_dir, "apt-single-id.conf", apt_single_id_conf, &c->etc_apt_conf,
                       error))
        return FALSE;
      c->mo.etc_apt_conf = c->etc_apt_conf;
    }
  /* Volumes: made (and filled from the image) now that the record exists, so `volume rm`
     sees them in use from here on. */
  {
    g_autofree char *record_dir = rrun_record_dir (config, c->id);
    g_autoptr(GPtrArray) inherited = NULL;
    g_auto(GStrv) tmpfs = extra_tmpfs (o, c->image->config->volumes);
    RrunContainerMountsRequest req = {
      .volumes = o->volumes,
      .mounts = o->mounts,
      .tmpfs = tmpfs,
      .image_volumes = o->image_volume == NULL || strcmp (o->image_volume, "bind") == 0
                           ? c->image->config->volumes : NULL,
      /* An image file is not mounted yet: its VOLUMEs start empty. */
      .layers = (const char *const *) c->image->layer_dirs->pdata,
      .n_layers = c->squash != NULL ? 0 : c->image->layer_dirs->len,
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
  rrun_overlay_layers_init (&c->layers, c->image->layer_dirs, rrun_store_root (c->store),
                            config->fuse_acl, c->upper, c->work, c->merged);
  if (keep_id || o->uidmaps != NULL || o->gidmaps != NULL)
    {
      /* keep-id and --uidmap/--gidmap: layers stored with the default map are shown with
         their owners under this one */
      if (!keep_id && !require_fuse_overlayfs (&driver, "--uidmap/--gidmap", error))
        return FALSE;
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
  /* --pid, --uts, --cgroupns and --ipc host share the host's; shareable is private (any
     container may join a rootless one's through its user namespace), none is private
     without /dev/shm. */
  c->plan.unshare_flags = CLONE_NEWNS;
  if (g_strcmp0 (o->uts, "host") != 0)
    c->plan.unshare_flags |= CLONE_NEWUTS;
  if (g_strcmp0 (o->pid, "host") != 0 && join_target (o->pid) == NULL)
    c->plan.unshare_flags |= CLONE_NEWPID;
  if (g_strcmp0 (o->cgroupns, "host") != 0)
    c->plan.unshare_flags |= CLONE_NEWCGROUP;
  if (g_strcmp0 (o->ipc, "host") != 0 && join_target (o->ipc) == NULL)
    c->plan.unshare_flags |= CLONE_NEWIPC;
  if (rrun_network_options_needs_netns (c->net_opts))
    {
      c->plan.unshare_flags |= CLONE_NEWNET;
      c->plan.loopback_up = TRUE;
    }
  c->plan.join_userns_fd = -1;
  c->plan.join_netns_fd = -1;
  c->plan.join_pidns_fd = -1;
  c->plan.join_ipcns_fd = -1;
  if (c->early != NULL)
    {
      c->plan.join_userns_fd = rrun_early_userns_fd (c->early);
      c->plan.join_what = "the new container";
    }
  if (c->usernet_userns_fd >= 0)
    {
      c->plan.join_userns_fd = c->usernet_userns_fd;
      c->plan.join_mapped = TRUE;
      c->plan.join_what = "the network holder";
    }
  if (c->join != NULL)
    {
      c->plan.join_netns = TRUE;
      c->plan.join_userns_fd = c->join->userns_fd;
      c->plan.join_netns_fd = c->join->netns_fd;
      c->plan.join_what = c->join->what;
    }
  if (c->ns_join != NULL)
    {
      c->plan.join_mapped = TRUE;
      if (c->join == NULL)
        {
          c->plan.join_userns_fd = c->ns_join->userns_fd;
          c->plan.join_what = c->ns_join->what;
        }
      c->plan.join_pidns_fd = c->ns_join->pidns_fd;
      c->plan.join_ipcns_fd = c->ns_join->ipcns_fd;
    }
  /* Its own cgroup, when one can be had (created now, entered right after clone). */
  if (!rrun_cgroup_prepare (o->cgroups ? o->cgroups : config->cgroups, o->limits, c->id,
                            &c->cgroup, error))
    return FALSE;
  /* A joined namespace is owned by the user namespace the container enters: it may mount
     a fresh sysfs there too. */
  c->mo.new_netns = (c->plan.unshare_flags & CLONE_NEWNET) != 0 || c->plan.join_netns;
  c->mo.new_cgroupns = (c->plan.unshare_flags & CLONE_NEWCGROUP) != 0;
  c->mo.host_cgroupns = !c->mo.new_cgroupns;
  c->mo.host_proc = (c->plan.unshare_flags & CLONE_NEWPID) == 0 && c->plan.join_pidns_fd < 0;
  c->mo.no_shm = g_strcmp0 (o->ipc, "none") == 0;
  c->strings = g_string_chunk_new (256);
  if (o->shm_size != NULL)
    {
      guint64 bytes = 0;
      g_autofree char *data = NULL;

      rrun_size_parse (o->shm_size, &bytes);
      data = g_strdup_printf ("mode=1777,size=%" G_GUINT64_FORMAT, bytes);
      c->mo.shm_data = g_string_chunk_insert (c->strings, data);
    }
  if (o->no_hosts)
    c->mo.etc_hosts = NULL;
  /* A delegated subtree is the container's own: nested tools may write it. */
  c->mo.cgroup_writable = rrun_cgroup_path (c->cgroup) != NULL;
  c->mo.gid5_mapped = rrun_idmap_to_host (c->map->gid_map, 5, &host5);
  c->mo.privileged = o->privileged;
  rrun_mount_plan_add_defaults (c->mounts, &c->mo);
  if (o->tz != NULL)
    {
      g_autofree char *zone = NULL;

      if (!rrun_spec_flags_tz_file (o->tz, &zone, error))
        return FALSE;
      rrun_mount_plan_add (c->mounts, RRUN_MOUNT_OP_BIND, zone, "/etc/localtime", NULL,
                           MS_RDONLY, NULL, 2, 0);
    }
  /* --chrootdirs: the generated /etc files in each chroot too (podman's). */
  for (guint i = 0; o->chrootdirs && o->chrootdirs[i]; i++)
    {
      const char *files[][2] = { { c->mo.etc_hostname, "etc/hostname" },
                                 { c->mo.etc_hosts, "etc/hosts" },
                                 { c->mo.etc_resolv, "etc/resolv.conf" } };

      for (gsize k = 0; k < G_N_ELEMENTS (files); k++)
        if (files[k][0] != NULL)
          {
            g_autofree char *target = g_build_filename (o->chrootdirs[i], files[k][1], NULL);
            rrun_mount_plan_add (c->mounts, RRUN_MOUNT_OP_BIND, files[k][0], target, NULL, 0,
                                 NULL, 2, 1);
          }
    }
  /* --sdnotify container: the command itself tells systemd it is ready, through the
     caller's NOTIFY_SOCKET bound in (podman's /run/notify/notify.sock). */
  if (g_strcmp0 (o->sdnotify, "container") == 0)
    {
      const char *sock = g_environ_getenv (host_env, "NOTIFY_SOCKET");

      if (sock != NULL && sock[0] == '/' && g_file_test (sock, G_FILE_TEST_EXISTS))
        {
          guint n = g_strv_length (c->envp);

          rrun_mount_plan_add (c->mounts, RRUN_MOUNT_OP_BIND, sock, "/run/notify/notify.sock",
                               NULL, 0, NULL, 2, 0);
          c->envp = g_renew (char *, c->envp, n + 2);
          c->envp[n] = g_strdup ("NOTIFY_SOCKET=/run/notify/notify.sock");
          c->envp[n + 1] = NULL;
        }
    }
  /* --secret: a copy in the run dir (with the mode asked for) bound read-only, or an
     environment variable. */
  for (guint i = 0; o->secrets && o->secrets[i]; i++)
    {
      g_autofree char *name = NULL, *target = NULL, *path = NULL, *data = NULL;
      g_autofree char *copy_name = g_strdup_printf ("secret-%u", i);
      g_autofree char *copy = NULL;
      gboolean env;
      guint mode;
      gsize len;

      if (!rrun_secret_parse_arg (o->secrets[i], &name, &env, &target, &mode, error)
          || (path = rrun_secret_path (config, name, error)) == NULL
          || !g_file_get_contents (path, &data, &len, error))
        {
          g_prefix_error (error, "--secret %s: ", o->secrets[i]);
          return FALSE;
        }
      if (env)
        {
          guint n = g_strv_length (c->envp);

          c->envp = g_renew (char *, c->envp, n + 2);
          c->envp[n] = g_strconcat (target, "=", data, NULL);
          c->envp[n + 1] = NULL;
          continue;
        }
      copy = g_build_filename (c->run_dir, copy_name, NULL);
      if (!g_file_set_contents (copy, data, (gssize) len, error))
        return FALSE;
      chmod (copy, mode);
      rrun_mount_plan_add (c->mounts, RRUN_MOUNT_OP_BIND, copy, target, NULL, MS_RDONLY, NULL,
                           2, 0);
    }
  if (o->init_path != NULL)
    rrun_mount_plan_add (c->mounts, RRUN_MOUNT_OP_BIND, o->init_path, "/run/rrun-init-path",
                         NULL, MS_RDONLY, NULL, 2, 0);
  if ((new_passwd && !bind_generated (c->mounts, c->run_dir, "passwd", c->passwd, "/etc/passwd", error))
      || (new_group && !bind_generated (c->mounts, c->run_dir, "group", c->group, "/etc/group", error)))
    return FALSE;
  rrun_container_mounts_add_to_plan (c->mounts, c->volumes);
  if (c->devices != NULL
      && !rrun_device_edits_add_to_plan (c->devices, c->mounts, c->run_dir, error))
    return FALSE;
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
  if (c->squash != NULL)
    {
      c->squash_argv = g_new0 (char *, 7);
      c->squash_argv[0] = g_strdup ("squashfuse");
      c->squash_argv[1] = g_strdup ("-f");
      /* allow_other: the container's other users (-u 1000) read through it too. */
      c->squash_argv[2] = g_strdup ("-o");
      c->squash_argv[3] = g_strdup ("allow_other");
      c->squash_argv[4] = g_strdup (c->squash->path);
      c->squash_argv[5] = g_strdup (c->squash_dir);
      c->plan.squash_exe = c->squash_exe;
      c->plan.squash_argv = c->squash_argv;
      c->plan.squash_dir = c->squash_dir;
    }
  if (c->overlay->fuse_exe != NULL || c->squash != NULL)
    {
      c->proc.fuse_stderr_fd = memfd_create ("fuse-overlayfs-stderr", MFD_CLOEXEC);
      if (c->proc.fuse_stderr_fd < 0)
        return rrun_throw_errno (error, errno, "cannot create a memfd");
    }
  c->plan.fuse_stderr_fd = c->proc.fuse_stderr_fd;
  c->plan.hostname = (c->plan.unshare_flags & CLONE_NEWUTS) ? c->hostname : NULL;
  c->plan.mounts = (const RrunMountOp *) c->mounts->ops->data;
  c->plan.n_mounts = c->mounts->ops->len;
  c->plan.init = o->init;
  if (o->init && (c->init_fd = rrun_process_init_program_fd (error)) < 0)
    return FALSE;
  c->plan.init_fd = c->init_fd;
  c->plan.tty = o->tty;
  c->plan.close_fds[3] = -1; /* the monitor's stdin write end (container/monitor.c) */
  c->plan.keep_stdin = o->interactive;
  c->plan.workdir = workdir;
  c->plan.create_workdir = TRUE;
  c->plan.argv = c->argv;
  c->plan.envp = c->envp;
  c->plan.path = rrun_spec_env_get (c->envp, "PATH");
  /* An image file is not mounted yet, so nothing can be probed. */
  c->plan.path_absent = c->squash != NULL ? 0 : rrun_path_probe_absent (c->plan.path, c->argv[0], c->layers.lower_dirs,
                                             c->layers.n_lower, c->plan.mounts, c->plan.n_mounts);
  c->plan.uid = c->user->uid;
  c->plan.gid = c->user->gid;
  c->plan.groups = (const gid_t *) c->user->groups->data;
  c->plan.n_groups = c->user->groups->len;
  /* keep-groups: no setgroups at all, so the command keeps the caller's supplementary
     groups (those outside the map show as 65534; access checks use the real ones). */
  c->plan.set_groups = !c->map->single
                       && !(o->group_add && g_strv_contains ((const char *const *) o->group_add,
                                                             "keep-groups"));
  c->rlimits = g_array_new (FALSE, TRUE, sizeof (RrunChildRlimit));
  for (guint i = 0; o->ulimits && o->ulimits[i]; i++)
    {
      RrunChildRlimit r = { 0 };
      struct rlimit lim;

      if (!rrun_spec_parse_ulimit (o->ulimits[i], &r.resource, &lim, error))
        return FALSE;
      r.soft = lim.rlim_cur;
      r.hard = lim.rlim_max;
      r.what = g_string_chunk_insert (c->strings, o->ulimits[i]);
      g_array_append_val (c->rlimits, r);
    }
  c->plan.rlimits = (const RrunChildRlimit *) c->rlimits->data;
  c->plan.n_rlimits = c->rlimits->len;
  c->sysctls = g_array_new (FALSE, TRUE, sizeof (RrunChildSysctl));
  for (guint i = 0; o->sysctls && o->sysctls[i]; i++)
    {
      g_autofree char *path = NULL, *value = NULL;
      RrunChildSysctl sc;

      if (!rrun_spec_parse_sysctl (o, o->sysctls[i], &path, &value, error))
        return FALSE;
      sc.path = g_string_chunk_insert (c->strings, path);
      sc.value = g_string_chunk_insert (c->strings, value);
      sc.what = g_string_chunk_insert (c->strings, o->sysctls[i]);
      g_array_append_val (c->sysctls, sc);
    }
  c->plan.sysctls = (const RrunChildSysctl *) c->sysctls->data;
  c->plan.n_sysctls = c->sysctls->len;
  if (o->umask != NULL)
    {
      c->plan.set_umask = 1;
      c->plan.umask = (unsigned int) g_ascii_strtoull (o->umask, NULL, 8);
    }
  c->plan.oom_score_adj = o->oom_score_adj;
  if (o->personality != NULL)
    {
      c->plan.set_personality = 1;
      c->plan.personality = strcmp (o->personality, "LINUX32") == 0 ? PER_LINUX32 : PER_LINUX;
    }
  c->proc.timeout_s = o->timeout ? (int) g_ascii_strtoull (o->timeout, NULL, 10) : 0;
  c->proc.no_sig_proxy = o->no_sig_proxy;
  c->plan.preserve_fds = o->preserve_fds ? (int) g_ascii_strtoull (o->preserve_fds, NULL, 10) : 0;
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

  /* Single-ID mode: setgroups succeeds, chown and set*id are the kernel's (ID 0 only);
     --root-emulation fakes them all, --no-root-emulation nothing. */
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
  if (emulate_root == RRUN_ROOT_EMULATION_FAKE)
    rrun_info ("root emulation is on: chown and setuid calls succeed without effect");

  if (!rrun_container_hooks_prepare (c, error))
    return FALSE;

  rrun_debug_phase ("plan built");
  *out_container = g_steal_pointer (&c);
  return TRUE;
}
