/* A container's mounts resolved against the volume store (rootfs/volumes.h). */
#include "rootfs/volumes.h"
#include "error.h"
#include "log.h"
#include "util/json-value.h"
#include "util/path.h"
#include "util/text-file.h"
#include "volume/copy-up.h"
#include "volume/volume.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <unistd.h>

void
rrun_container_mounts_free (RrunContainerMounts *m)
{
  if (m == NULL)
    return;
  g_ptr_array_unref (m->mounts);
  g_ptr_array_unref (m->sources);
  g_free (m);
}

static guint
depth (const char *target)
{
  guint n = 0;

  for (const char *p = target; *p; p++)
    if (*p == '/' && p[1] != '\0' && p[1] != '/')
      n++;
  return n;
}

static gint
by_depth (gconstpointer a, gconstpointer b)
{
  const RrunMountSpec *x = *(RrunMountSpec *const *) a, *y = *(RrunMountSpec *const *) b;
  guint dx = depth (x->target), dy = depth (y->target);

  return (dx > dy) - (dx < dy);
}

static gboolean
has_target (GPtrArray *mounts, const char *target)
{
  g_autofree char *t = g_strdup (target);
  gsize n = strlen (t);

  while (n > 1 && t[n - 1] == '/')
    t[--n] = '\0';
  for (guint i = 0; i < mounts->len; i++)
    {
      const RrunMountSpec *m = mounts->pdata[i];
      gsize k = strlen (m->target);
      while (k > 1 && m->target[k - 1] == '/')
        k--;
      if (k == n && strncmp (m->target, t, n) == 0)
        return TRUE;
    }
  return FALSE;
}

/* docker's Mounts entry for inspect (and the record volume rm reads). */
static void
mount_json (RrunJsonBuilder *b, const RrunMountSpec *m, const char *source)
{
  rrun_json_builder_begin_object (b);
  switch (m->type)
    {
    case RRUN_MOUNT_TYPE_VOLUME:
      rrun_json_builder_member_string (b, "Type", "volume");
      rrun_json_builder_member_string (b, "Name", m->source);
      rrun_json_builder_member_string (b, "Source", source ? source : "");
      rrun_json_builder_member_string (b, "Destination", m->target);
      rrun_json_builder_member_string (b, "Driver", "local");
      rrun_json_builder_member_string (b, "Mode", m->mode ? m->mode : "z");
      rrun_json_builder_member_bool (b, "RW", !m->read_only);
      rrun_json_builder_member_string (b, "Propagation", "");
      break;
    case RRUN_MOUNT_TYPE_BIND:
      rrun_json_builder_member_string (b, "Type", "bind");
      rrun_json_builder_member_string (b, "Source", m->source);
      rrun_json_builder_member_string (b, "Destination", m->target);
      rrun_json_builder_member_string (b, "Mode", m->mode ? m->mode : "");
      rrun_json_builder_member_bool (b, "RW", !m->read_only);
      rrun_json_builder_member_string (b, "Propagation",
                                       m->propagation ? m->propagation : "rprivate");
      break;
    case RRUN_MOUNT_TYPE_TMPFS:
      rrun_json_builder_member_string (b, "Type", "tmpfs");
      rrun_json_builder_member_string (b, "Source", "");
      rrun_json_builder_member_string (b, "Destination", m->target);
      rrun_json_builder_member_string (b, "Mode", m->mode ? m->mode : "");
      rrun_json_builder_member_bool (b, "RW", !m->read_only);
      rrun_json_builder_member_string (b, "Propagation", "");
      break;
    }
  rrun_json_builder_end_object (b);
}

static gboolean
write_record (const char *record_dir, const RrunContainerMounts *cm, GError **error)
{
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();
  g_autofree char *path = g_build_filename (record_dir, RRUN_MOUNTS_FILE, NULL);
  g_autofree char *text = NULL;

  rrun_json_builder_begin_array (b);
  for (guint i = 0; i < cm->mounts->len; i++)
    mount_json (b, cm->mounts->pdata[i], cm->sources->pdata[i]);
  rrun_json_builder_end_array (b);
  text = rrun_json_builder_to_text (b, FALSE);
  return rrun_path_write_atomic (path, text, strlen (text), 0600, error);
}

gboolean
rrun_container_mounts_inherit (const char *record_dir, const char *shown, const char *mode,
                               GPtrArray *mounts, GError **error)
{
  g_autofree char *path = g_build_filename (record_dir, RRUN_MOUNTS_FILE, NULL);
  g_autofree char *text = NULL;
  g_autoptr(RrunJson) list = NULL;
  g_autoptr(GError) local = NULL;
  gsize len;

  if (!rrun_text_file_read (path, "container mounts", RRUN_TEXT_FILE_MAX_CONFIG,
                            RRUN_TEXT_FILE_DEFAULT, &text, &len, &local))
    {
      /* A container without volumes has no mounts.json: nothing to take over. */
      if (g_error_matches (local, RRUN_ERRNO_ERROR, ENOENT))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  list = rrun_json_parse (text, len, RRUN_JSON_DEFAULT, error);
  if (list == NULL || rrun_json_type (list) != RRUN_JSON_ARRAY)
    {
      g_clear_error (error);
      return rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot read the mounts of container "
                         "\"%s\": %s is not a list of mounts", shown, path);
    }
  for (guint i = 0; i < rrun_json_size (list); i++)
    {
      RrunJson *o = rrun_json_element (list, i);
      const char *type = rrun_json_member_string (o, "Type");
      const char *source = rrun_json_member_string (o,
                                                    g_strcmp0 (type, "volume") == 0 ? "Name"
                                                                                   : "Source");
      const char *target = rrun_json_member_string (o, "Destination");
      RrunJson *rw = rrun_json_member (o, "RW");
      RrunMountSpec *m = NULL;
      RrunMountType t;

      if (g_strcmp0 (type, "volume") == 0)
        t = RRUN_MOUNT_TYPE_VOLUME;
      else if (g_strcmp0 (type, "bind") == 0)
        t = RRUN_MOUNT_TYPE_BIND;
      else
        continue; /* tmpfs: not shared, as with docker */
      if (source == NULL || target == NULL || *target != '/')
        return rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot read the mounts of container "
                           "\"%s\": an entry of %s has no source or target", shown, path);
      if (!rrun_mount_spec_inherit (t, source, target, rw == NULL || rrun_json_int (rw) != 0,
                                    rrun_json_member_string (o, "Propagation"), mode, &m,
                                    error))
        {
          g_prefix_error (error, "--volumes-from \"%s\": ", shown);
          return FALSE;
        }
      g_ptr_array_add (mounts, m);
    }
  return TRUE;
}

/* Destination -> name of the anonymous volumes a record lists already (a container
   started again), or NULL. */
static GHashTable *
previous_anonymous (const RrunConfig *config, const char *record_dir)
{
  g_autofree char *path = NULL, *text = NULL;
  g_autoptr(RrunJson) list = NULL;
  GHashTable *names = NULL;
  gsize len;

  if (record_dir == NULL)
    return NULL;
  path = g_build_filename (record_dir, RRUN_MOUNTS_FILE, NULL);
  if (!rrun_text_file_read (path, "container mounts", RRUN_TEXT_FILE_MAX_CONFIG,
                            RRUN_TEXT_FILE_DEFAULT, &text, &len, NULL)
      || (list = rrun_json_parse (text, len, RRUN_JSON_DEFAULT, NULL)) == NULL
      || rrun_json_type (list) != RRUN_JSON_ARRAY)
    return NULL;
  for (guint i = 0; i < rrun_json_size (list); i++)
    {
      RrunJson *o = rrun_json_element (list, i);
      const char *name = rrun_json_member_string (o, "Name");
      const char *target = rrun_json_member_string (o, "Destination");
      g_autoptr(RrunVolumeInfo) v = NULL;

      if (g_strcmp0 (rrun_json_member_string (o, "Type"), "volume") != 0 || name == NULL
          || target == NULL || !rrun_volume_lookup (config, name, &v, NULL) || !v->anonymous)
        continue;
      if (names == NULL)
        names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_hash_table_replace (names, g_strdup (target), g_strdup (name));
    }
  return names;
}

/* Copy the image's content at the mount's target into a volume that is empty, under a
   lock on the volume's directory (VOLUMES/NAME, always the user's own: _data may have
   become a subordinate ID's, closed to the user), so two containers starting with one new
   volume copy once. A _data the user cannot read has been used: it is not new. */
static gboolean
copy_up (const RrunContainerMountsRequest *req, const RrunMountSpec *m, const char *data,
         GError **error)
{
  g_autofree char *dir = g_path_get_dirname (data);
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  gboolean empty = FALSE, ok = TRUE;
  g_autoptr(GError) unreadable = NULL;

  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot open volume \"%s\"", m->source);
  if (flock (fd, LOCK_EX) < 0)
    {
      int errsv = errno;
      close (fd);
      return rrun_throw_errno (error, errsv, "cannot lock volume \"%s\"", m->source);
    }
  if (!rrun_volume_dir_is_empty (data, &empty, &unreadable))
    {
      if (!g_error_matches (unreadable, RRUN_ERRNO_ERROR, EACCES))
        {
          g_propagate_error (error, g_steal_pointer (&unreadable));
          ok = FALSE;
        }
    }
  else if (empty)
    ok = rrun_copy_up (req->storage_map, req->layers, req->n_layers, m->target + 1, data,
                       m->source, error);
  close (fd); /* and the lock with it */
  return ok;
}

/* The host path a volume mount binds, creating the volume when needed. */
static gboolean
prepare_volume (const RrunConfig *config, const RrunContainerMountsRequest *req,
                RrunMountSpec *m, gboolean anonymous,
                char **out_source, GError **error)
{
  g_autoptr(RrunVolumeInfo) v = NULL;
  gboolean created = FALSE;
  const char *type, *device;

  if (!rrun_volume_create (config, m->source, "local", NULL, m->volume_opts, anonymous,
                           &created, &v, error))
    return FALSE;
  if (created)
    g_debug ("created volume %s", v->name);
  type = rrun_volume_option (v->options, "type");
  device = rrun_volume_option (v->options, "device");
  if (g_strcmp0 (type, "tmpfs") == 0)
    {
      const char *o = rrun_volume_option (v->options, "o");
      g_auto(GStrv) parts = g_strsplit (o ? o : "", ",", -1);
      g_autoptr(GString) data = g_string_new (NULL);

      /* Each container gets a tmpfs of its own: without a daemon nothing would hold a
         shared one between containers (docs/rrun-volume.1.md). */
      m->tmpfs_flags = MS_NOSUID | MS_NODEV | (m->read_only ? MS_RDONLY : 0);
      for (guint i = 0; parts[i]; i++)
        if (strcmp (parts[i], "ro") == 0)
          m->tmpfs_flags |= MS_RDONLY;
        else if (strcmp (parts[i], "noexec") == 0)
          m->tmpfs_flags |= MS_NOEXEC;
        else if (*parts[i] && strcmp (parts[i], "rw") != 0 && strcmp (parts[i], "exec") != 0)
          g_string_append_printf (data, "%s%s", data->len ? "," : "", parts[i]);
      if (strstr (data->str, "mode=") == NULL)
        g_string_append (data, data->len ? ",mode=1777" : "mode=1777");
      m->tmpfs_data = g_string_free (g_steal_pointer (&data), FALSE);
      *out_source = NULL;
      return TRUE;
    }
  if (type != NULL)
    {
      /* type=bind (or none with o=bind): the device directory itself */
      if (!rrun_volume_check_options (v->options, error))
        return FALSE;
      *out_source = g_strdup (device);
      return TRUE;
    }
  if (!m->nocopy && !copy_up (req, m, v->mountpoint, error))
    return FALSE;
  *out_source = g_strdup (v->mountpoint);
  return TRUE;
}

gboolean
rrun_container_mounts_prepare (const RrunConfig *config, const RrunContainerMountsRequest *req,
                               RrunContainerMounts **out_mounts, GError **error)
{
  g_autoptr(RrunContainerMounts) cm = g_new0 (RrunContainerMounts, 1);
  g_autoptr(GPtrArray) anonymous = g_ptr_array_new (); /* flags, parallel to mounts */
  g_autoptr(GHashTable) before = NULL;

  if (!rrun_mount_parse_all (req->volumes, req->mounts, req->tmpfs, &cm->mounts, error))
    return FALSE;
  /* --volumes-from: what the options mount themselves wins, then the first container. */
  for (guint i = 0; req->inherited != NULL && i < req->inherited->len; i++)
    {
      RrunMountSpec *m = req->inherited->pdata[i];

      if (m == NULL || has_target (cm->mounts, m->target))
        continue;
      g_ptr_array_add (cm->mounts, m);
      req->inherited->pdata[i] = NULL;
    }
  cm->sources = g_ptr_array_new_with_free_func (g_free);
  /* The image's VOLUME paths that no option mounts get anonymous volumes. */
  for (guint i = 0; req->image_volumes && req->image_volumes[i]; i++)
    {
      RrunMountSpec *m;
      g_autoptr(GError) bad = NULL;

      if (has_target (cm->mounts, req->image_volumes[i]))
        continue;
      if (!rrun_mount_plan_check_target (req->image_volumes[i], &bad))
        {
          rrun_warning ("ignoring the image's VOLUME: %s", bad->message);
          continue;
        }
      m = g_new0 (RrunMountSpec, 1);
      m->type = RRUN_MOUNT_TYPE_VOLUME;
      m->target = g_strdup (req->image_volumes[i]);
      g_ptr_array_add (cm->mounts, m);
    }
  if (cm->mounts->len == 0)
    {
      *out_mounts = g_steal_pointer (&cm);
      return TRUE;
    }
  g_ptr_array_sort (cm->mounts, by_depth);
  /* Names first, then the record, then the volumes: a `volume rm` from now on sees the
     container using them. A container started again keeps its anonymous volumes. */
  before = previous_anonymous (config, req->record_dir);
  for (guint i = 0; i < cm->mounts->len; i++)
    {
      RrunMountSpec *m = cm->mounts->pdata[i];
      gboolean anon = m->type == RRUN_MOUNT_TYPE_VOLUME && m->source == NULL;
      const char *kept = anon && before ? g_hash_table_lookup (before, m->target) : NULL;

      if (anon)
        m->source = kept ? g_strdup (kept) : rrun_path_random_hex (32);
      g_ptr_array_add (anonymous, GINT_TO_POINTER (anon));
      g_ptr_array_add (cm->sources, NULL);
    }
  if (req->record_dir != NULL && !write_record (req->record_dir, cm, error))
    return FALSE;
  for (guint i = 0; i < cm->mounts->len; i++)
    {
      RrunMountSpec *m = cm->mounts->pdata[i];
      char *source = NULL;

      switch (m->type)
        {
        case RRUN_MOUNT_TYPE_VOLUME:
          if (!prepare_volume (config, req, m, GPOINTER_TO_INT (anonymous->pdata[i]),
                               &source, error))
            return FALSE;
          break;
        case RRUN_MOUNT_TYPE_BIND:
          source = g_strdup (m->source);
          break;
        case RRUN_MOUNT_TYPE_TMPFS:
          break;
        }
      g_free (cm->sources->pdata[i]);
      cm->sources->pdata[i] = source;
      if (m->chown_to_user && source != NULL
          && !rrun_chown_tree (req->map, source, req->uid, req->gid, error))
        return FALSE;
    }
  /* Again, with the volumes' paths (inspect shows them). */
  if (req->record_dir != NULL && !write_record (req->record_dir, cm, error))
    return FALSE;
  *out_mounts = g_steal_pointer (&cm);
  return TRUE;
}

void
rrun_container_mounts_add_to_plan (RrunMountPlan *plan, const RrunContainerMounts *cm)
{
  for (guint i = 0; cm != NULL && i < cm->mounts->len; i++)
    {
      const RrunMountSpec *m = cm->mounts->pdata[i];
      const char *source = cm->sources->pdata[i];

      if (source == NULL)
        rrun_mount_plan_add (plan, RRUN_MOUNT_OP_MOUNT, "tmpfs", m->target, "tmpfs",
                             m->tmpfs_flags, m->tmpfs_data, 1, 0);
      else
        {
          rrun_mount_plan_add (plan, RRUN_MOUNT_OP_BIND, source, m->target, NULL,
                               m->read_only ? MS_RDONLY : 0, NULL,
                               m->type == RRUN_MOUNT_TYPE_BIND && !m->is_dir ? 2 : 1, 0);
          if (m->nonrecursive || m->propagation != NULL)
            rrun_mount_plan_set_bind_options (plan, m->nonrecursive,
                                              m->propagation
                                                  ? rrun_mount_propagation_flags (m->propagation)
                                                  : 0);
        }
    }
}
