#include "userns/idmap.h"
#include "error.h"
#include "util/text-file.h"
#include "log.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <spawn.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

void
rrun_idmap_free (RrunIdMap *map)
{
  if (map == NULL)
    return;
  g_clear_pointer (&map->uid_map, g_array_unref);
  g_clear_pointer (&map->gid_map, g_array_unref);
  g_clear_pointer (&map->inner_uid_map, g_array_unref);
  g_clear_pointer (&map->inner_gid_map, g_array_unref);
  g_clear_pointer (&map->uid_ranges, g_array_unref);
  g_clear_pointer (&map->gid_ranges, g_array_unref);
  g_free (map->single_reason);
  g_free (map->newuidmap);
  g_free (map->newgidmap);
  g_free (map);
}

static gboolean
parse_u32 (const char *text, guint32 *out)
{
  guint64 v;
  char *end = NULL;

  if (text == NULL || !g_ascii_isdigit (*text))
    return FALSE;
  errno = 0;
  v = g_ascii_strtoull (text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v > G_MAXUINT32)
    return FALSE;
  *out = (guint32) v;
  return TRUE;
}

gboolean
rrun_idmap_parse_subid_text (const char *text, const char *user, uid_t uid, GArray *ranges,
                             GError **error)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  g_autofree char *uid_text = g_strdup_printf ("%u", (unsigned) uid);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = NULL;
      char *line = g_strstrip (lines[i]);
      RrunIdRange r;

      if (*line == '\0' || *line == '#')
        continue;
      f = g_strsplit (line, ":", -1);
      if (g_strv_length (f) < 1)
        continue;
      if (g_strcmp0 (f[0], user) != 0 && g_strcmp0 (f[0], uid_text) != 0)
        continue;
      if (g_strv_length (f) != 3 || !parse_u32 (f[1], &r.start) || !parse_u32 (f[2], &r.count)
          || r.count == 0 || (guint64) r.start + r.count > G_MAXUINT32)
        return rrun_throw (error, RRUN_ERROR_CORRUPT, "line %u is malformed: \"%s\"", i + 1,
                           line);
      g_array_append_val (ranges, r);
    }
  return TRUE;
}

gboolean
rrun_idmap_read_ranges (const char *path, const char *user, uid_t uid, GArray **out_ranges,
                        GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr(GArray) ranges = g_array_new (FALSE, TRUE, sizeof (RrunIdRange));

  if (!rrun_text_file_read (path, "subordinate ids", RRUN_TEXT_FILE_MAX_CONFIG,
                            RRUN_TEXT_FILE_DEFAULT, &text, NULL, error))
    return FALSE;
  if (!rrun_idmap_parse_subid_text (text, user, uid, ranges, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  if (ranges->len == 0)
    {
      rrun_throw (error, RRUN_ERROR_NO_SUBID, "no range for \"%s\" in %s", user, path);
      rrun_add_hint (error, "ask an administrator to run: sudo subuid-setup.sh %s", user);
      return FALSE;
    }
  *out_ranges = g_steal_pointer (&ranges);
  return TRUE;
}

gboolean
rrun_idmap_query_getsubids (const char *user, gboolean groups, GArray **out_ranges,
                            GError **error)
{
  const char *argv[] = { "getsubids", groups ? "-g" : user, groups ? user : NULL, NULL };
  g_autofree char *out = NULL;
  g_autoptr(GArray) ranges = g_array_new (FALSE, TRUE, sizeof (RrunIdRange));
  g_auto(GStrv) lines = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL,
                     G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
                     &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, NULL))
    return rrun_throw (error, RRUN_ERROR_NO_SUBID, "getsubids has no %s range for \"%s\"",
                       groups ? "gid" : "uid", user);
  /* Lines read "0: alice 100000 65536". */
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit_set (g_strstrip (lines[i]), " \t", -1);
      RrunIdRange r;

      if (g_strv_length (f) == 4 && parse_u32 (f[2], &r.start) && parse_u32 (f[3], &r.count)
          && r.count > 0)
        g_array_append_val (ranges, r);
    }
  if (ranges->len == 0)
    return rrun_throw (error, RRUN_ERROR_NO_SUBID, "getsubids has no %s range for \"%s\"",
                       groups ? "gid" : "uid", user);
  *out_ranges = g_steal_pointer (&ranges);
  return TRUE;
}

static void
append_mapping (GArray *maps, guint32 container_id, guint32 host_id, guint32 count)
{
  RrunIdMapping m = { container_id, host_id, count };

  if (count > 0)
    g_array_append_val (maps, m);
}

/* Map container ids [next, next+want) from the ranges, starting at range offset *pos. */
static guint32
map_from_ranges (GArray *maps, GArray *ranges, guint32 next, guint32 want, guint *ri,
                 guint32 *used)
{
  while (want > 0 && *ri < ranges->len)
    {
      RrunIdRange *r = &g_array_index (ranges, RrunIdRange, *ri);
      guint32 avail = r->count - *used;
      guint32 n = MIN (avail, want);

      append_mapping (maps, next, r->start + *used, n);
      next += n;
      want -= n;
      *used += n;
      if (*used == r->count)
        {
          (*ri)++;
          *used = 0;
        }
    }
  return next;
}

GArray *
rrun_idmap_build (RrunUsernsMode mode, guint32 host_id, GArray *ranges,
                  guint32 *out_container_id)
{
  GArray *maps = g_array_new (FALSE, TRUE, sizeof (RrunIdMapping));
  guint ri = 0;
  guint32 used = 0, total = 0;

  for (guint i = 0; ranges != NULL && i < ranges->len; i++)
    total += g_array_index (ranges, RrunIdRange, i).count;
  switch (mode)
    {
    case RRUN_USERNS_SINGLE:
      append_mapping (maps, 0, host_id, 1);
      *out_container_id = 0;
      break;
    case RRUN_USERNS_NOMAP:
      /* Only the subordinate range: the user's own id is not inside at all. */
      map_from_ranges (maps, ranges, 0, total, &ri, &used);
      *out_container_id = G_MAXUINT32;
      break;
    case RRUN_USERNS_KEEP_ID:
      {
        /* 0..id-1 from the range, id = the user, id+1.. the rest of the range. */
        guint32 below = MIN (host_id, total);
        guint32 next = map_from_ranges (maps, ranges, 0, below, &ri, &used);

        if (next == host_id)
          {
            append_mapping (maps, host_id, host_id, 1);
            map_from_ranges (maps, ranges, host_id + 1, total - below, &ri, &used);
          }
        else
          /* The range is smaller than the id: put the user at id anyway. */
          append_mapping (maps, host_id, host_id, 1);
        *out_container_id = host_id;
        break;
      }
    case RRUN_USERNS_AUTO:
    default:
      append_mapping (maps, 0, host_id, 1);
      map_from_ranges (maps, ranges, 1, total, &ri, &used);
      *out_container_id = 0;
      break;
    }
  return maps;
}

char *
rrun_idmap_format (GArray *mappings)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < mappings->len; i++)
    {
      RrunIdMapping *m = &g_array_index (mappings, RrunIdMapping, i);
      g_string_append_printf (s, "%u %u %u\n", m->container_id, m->host_id, m->count);
    }
  return g_string_free (s, FALSE);
}

gboolean
rrun_idmap_to_host (GArray *mappings, guint32 container_id, guint32 *out_host_id)
{
  for (guint i = 0; i < mappings->len; i++)
    {
      RrunIdMapping *m = &g_array_index (mappings, RrunIdMapping, i);

      if (container_id >= m->container_id && container_id - m->container_id < m->count)
        {
          *out_host_id = m->host_id + (container_id - m->container_id);
          return TRUE;
        }
    }
  return FALSE;
}

GArray *
rrun_idmap_compose (GArray *layout, GArray *view)
{
  GArray *out = g_array_new (FALSE, TRUE, sizeof (RrunIdMapping));

  for (guint i = 0; i < layout->len; i++)
    {
      RrunIdMapping *l = &g_array_index (layout, RrunIdMapping, i);
      guint64 lo = l->host_id, hi = (guint64) l->host_id + l->count;

      for (guint j = 0; j < view->len; j++)
        {
          RrunIdMapping *v = &g_array_index (view, RrunIdMapping, j);
          guint64 a = MAX (lo, (guint64) v->host_id);
          guint64 b = MIN (hi, (guint64) v->host_id + v->count);

          if (a < b)
            append_mapping (out, l->container_id + (guint32) (a - lo),
                            v->container_id + (guint32) (a - v->host_id), (guint32) (b - a));
        }
    }
  return out;
}

char *
rrun_idmap_format_fuse (GArray *mappings)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < mappings->len; i++)
    {
      RrunIdMapping *m = &g_array_index (mappings, RrunIdMapping, i);
      /* fuse-overlayfs reads each triple as ON-DISK:SHOWN:COUNT. */
      g_string_append_printf (s, "%s%u:%u:%u", i ? ":" : "", m->host_id, m->container_id,
                              m->count);
    }
  return g_string_free (s, FALSE);
}

guint32
rrun_idmap_span (GArray *mappings)
{
  guint32 top = 0;

  for (guint i = 0; i < mappings->len; i++)
    {
      RrunIdMapping *m = &g_array_index (mappings, RrunIdMapping, i);
      top = MAX (top, m->container_id + m->count);
    }
  return top;
}

static const char *
subid_file (gboolean groups)
{
  const char *env = g_getenv (groups ? "RRUN_SUBGID_FILE" : "RRUN_SUBUID_FILE");

  return env ? env : groups ? "/etc/subgid" : "/etc/subuid";
}

/* newuidmap must exist and be setuid root or carry cap_setuid; otherwise it cannot help.
   Its path is kept, so starting it later costs no PATH search. */
static gboolean
check_map_helper (const char *name, char **out_path, GError **error)
{
  g_autofree char *path = g_find_program_in_path (name);
  struct stat st;

  if (path == NULL || stat (path, &st) < 0)
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED, "%s is not installed", name);
      rrun_add_hint (error, "ask an administrator to install it: sudo apt-get install uidmap");
      return FALSE;
    }
  if (!((st.st_mode & S_ISUID) && st.st_uid == 0))
    {
      /* File capabilities are an acceptable alternative to the setuid bit. */
      ssize_t n = getxattr (path, "security.capability", NULL, 0);

      if (n <= 0)
        {
          rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                      "%s is neither setuid root nor has file capabilities", path);
          rrun_add_hint (error, "ask an administrator to run: sudo subuid-setup.sh --fix");
          return FALSE;
        }
    }
  *out_path = g_steal_pointer (&path);
  return TRUE;
}

static gboolean
get_ranges (const char *user, uid_t uid, gboolean groups, GArray **out, GError **error)
{
  g_autoptr(GError) file_error = NULL;

  if (rrun_idmap_read_ranges (subid_file (groups), user, uid, out, &file_error))
    return TRUE;
  /* Sites using SSSD or FreeIPA serve ranges through NSS, not the file. */
  if (!g_getenv (groups ? "RRUN_SUBGID_FILE" : "RRUN_SUBUID_FILE")
      && rrun_idmap_query_getsubids (user, groups, out, NULL))
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&file_error));
  return FALSE;
}

const char *
rrun_idmap_mode_name (RrunUsernsMode mode)
{
  switch (mode)
    {
    case RRUN_USERNS_KEEP_ID: return "keep-id";
    case RRUN_USERNS_NOMAP: return "nomap";
    case RRUN_USERNS_SINGLE: return "single";
    default: return "auto";
    }
}

gboolean
rrun_idmap_resolve (const char *mode, RrunIdMap **out_map, GError **error)
{
  g_autoptr(RrunIdMap) map = g_new0 (RrunIdMap, 1);
  g_autoptr(GArray) uranges = NULL;
  g_autoptr(GArray) granges = NULL;
  g_autoptr(GError) why = NULL;
  const char *user = g_get_user_name ();
  gboolean forced_single = g_strcmp0 (mode, "single") == 0;

  map->host_uid = getuid ();
  map->host_gid = getgid ();
  if (g_strcmp0 (mode, "keep-id") == 0)
    map->mode = RRUN_USERNS_KEEP_ID;
  else if (g_strcmp0 (mode, "nomap") == 0)
    map->mode = RRUN_USERNS_NOMAP;
  else if (forced_single)
    map->mode = RRUN_USERNS_SINGLE;
  else if (mode == NULL || g_strcmp0 (mode, "auto") == 0 || g_strcmp0 (mode, "") == 0)
    map->mode = RRUN_USERNS_AUTO;
  else
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --userns \"%s\": expected auto, keep-id, nomap or single",
                       mode);

  if (!forced_single
      && (!get_ranges (user, map->host_uid, FALSE, &uranges, &why)
          || !get_ranges (user, map->host_uid, TRUE, &granges, &why)
          || !check_map_helper ("newuidmap", &map->newuidmap, &why)
          || !check_map_helper ("newgidmap", &map->newgidmap, &why)))
    {
      if (map->mode != RRUN_USERNS_AUTO)
        {
          g_propagate_error (error, g_steal_pointer (&why));
          g_prefix_error (error, "cannot use --userns=%s: ", mode);
          return FALSE;
        }
      map->single_reason = g_strdup (why->message);
      map->mode = RRUN_USERNS_SINGLE;
      {
        /* One warning: the reason's first line, then its hint as the fix. */
        g_auto(GStrv) parts = g_strsplit (why->message, "\nhint: ", 2);
        rrun_warning ("cannot map user IDs: %s; running with a single ID mapping: root, "
                      "apt-get, dpkg, rpm, dnf and pip work; chown to another owner and "
                      "switching to another user fail (EINVAL)%s%s",
                      parts[0], parts[1] ? "\nhint: " : "", parts[1] ? parts[1] : "");
      }
    }
  map->single = map->mode == RRUN_USERNS_SINGLE;
  map->uid_ranges = uranges ? g_array_ref (uranges) : g_array_new (FALSE, TRUE, sizeof (RrunIdRange));
  map->gid_ranges = granges ? g_array_ref (granges) : g_array_new (FALSE, TRUE, sizeof (RrunIdRange));
  map->uid_map = rrun_idmap_build (map->mode, map->host_uid, uranges, &map->container_uid);
  map->gid_map = rrun_idmap_build (map->mode, map->host_gid, granges, &map->container_gid);
  if (map->mode == RRUN_USERNS_NOMAP)
    {
      guint32 ignored;

      /* nomap is two namespaces: the outer one has the normal map (the image store and
         fuse-overlayfs work as always), the command's own is nested in it with the
         range only. uid_map/gid_map are what newuidmap writes: the outer ones. */
      map->inner_uid_map = map->uid_map;
      map->inner_gid_map = map->gid_map;
      map->uid_map = rrun_idmap_build (RRUN_USERNS_AUTO, map->host_uid, uranges, &ignored);
      map->gid_map = rrun_idmap_build (RRUN_USERNS_AUTO, map->host_gid, granges, &ignored);
    }
  *out_map = g_steal_pointer (&map);
  return TRUE;
}

RrunIdMap *
rrun_idmap_storage_map (const RrunIdMap *map)
{
  RrunIdMap *s = g_new0 (RrunIdMap, 1);

  s->mode = map->single ? RRUN_USERNS_SINGLE : RRUN_USERNS_AUTO;
  s->single = map->single;
  s->host_uid = map->host_uid;
  s->host_gid = map->host_gid;
  s->uid_ranges = g_array_ref (map->uid_ranges);
  s->gid_ranges = g_array_ref (map->gid_ranges);
  s->newuidmap = g_strdup (map->newuidmap);
  s->newgidmap = g_strdup (map->newgidmap);
  s->uid_map = rrun_idmap_build (s->mode, s->host_uid, s->uid_ranges, &s->container_uid);
  s->gid_map = rrun_idmap_build (s->mode, s->host_gid, s->gid_ranges, &s->container_gid);
  return s;
}

static gboolean
write_proc_file (pid_t pid, const char *name, const char *text, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/%s", (int) pid, name);
  rrun_autofd int fd = open (path, O_WRONLY | O_CLOEXEC);

  if (fd < 0)
    return rrun_throw_errno (error, errno, "open %s", path);
  if (write (fd, text, strlen (text)) < 0)
    return rrun_throw_errno (error, errno, "write %s", path);
  return TRUE;
}

typedef struct
{
  const char *helper;
  pid_t pid;
  int err_fd;
} MapHelper;

/* Start newuidmap or newgidmap for pid without waiting: both run at once, since each is a
   setuid program whose start-up costs milliseconds of every container's start.
   posix_spawn (a vfork-style clone in glibc) rather than g_spawn's fork: no copy of this
   process's page tables on the way to exec. path NULL searches PATH for helper. */
static gboolean
start_map_helper (MapHelper *h, const char *helper, const char *path, pid_t pid, GArray *maps,
                  GError **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  posix_spawn_file_actions_t actions;
  int pipefd[2];
  int rc;

  h->helper = helper;
  h->pid = 0;
  h->err_fd = -1;
  g_ptr_array_add (argv, g_strdup (helper));
  g_ptr_array_add (argv, g_strdup_printf ("%d", (int) pid));
  for (guint i = 0; i < maps->len; i++)
    {
      RrunIdMapping *m = &g_array_index (maps, RrunIdMapping, i);
      g_ptr_array_add (argv, g_strdup_printf ("%u", m->container_id));
      g_ptr_array_add (argv, g_strdup_printf ("%u", m->host_id));
      g_ptr_array_add (argv, g_strdup_printf ("%u", m->count));
    }
  g_ptr_array_add (argv, NULL);
  if (pipe2 (pipefd, O_CLOEXEC) < 0)
    return rrun_throw_errno (error, errno, "cannot map user IDs: cannot create a pipe");
  posix_spawn_file_actions_init (&actions);
  posix_spawn_file_actions_addopen (&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen (&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2 (&actions, pipefd[1], STDERR_FILENO);
  if (path != NULL)
    rc = posix_spawn (&h->pid, path, &actions, NULL, (char **) argv->pdata, environ);
  else
    rc = posix_spawnp (&h->pid, helper, &actions, NULL, (char **) argv->pdata, environ);
  posix_spawn_file_actions_destroy (&actions);
  close (pipefd[1]);
  if (rc != 0)
    {
      close (pipefd[0]);
      h->pid = 0;
      return rrun_throw_errno (error, rc, "cannot map user IDs: cannot run %s",
                               path ? path : helper);
    }
  h->err_fd = pipefd[0];
  return TRUE;
}

/* Wait for a helper started above; its stderr becomes the error message. */
static gboolean
finish_map_helper (MapHelper *h, GError **error)
{
  GString *err = g_string_new (NULL);
  char buf[1024];
  int status = 0;
  gboolean ok;

  if (h->pid == 0)
    {
      g_string_free (err, TRUE);
      return TRUE;
    }
  for (;;)
    {
      ssize_t n = read (h->err_fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      g_string_append_len (err, buf, n);
    }
  close (h->err_fd);
  while (waitpid (h->pid, &status, 0) < 0 && errno == EINTR)
    ;
  h->pid = 0;
  ok = g_spawn_check_wait_status (status, NULL);
  if (!ok && error != NULL && *error == NULL)
    {
      rrun_throw (error, RRUN_ERROR_NO_SUBID, "cannot map user IDs: %s failed: %s", h->helper,
                  g_strstrip (err->str));
      rrun_add_hint (error, "check the ranges with: subuid-setup.sh --check %s",
                     g_get_user_name ());
    }
  g_string_free (err, TRUE);
  return ok;
}

struct _RrunIdMapWriter
{
  MapHelper uid;
  MapHelper gid;
};

gboolean
rrun_idmap_start_maps (const RrunIdMap *map, pid_t pid, RrunIdMapWriter **out_writer,
                       GError **error)
{
  g_autofree char *utext = NULL;
  g_autofree char *gtext = NULL;
  RrunIdMapWriter *w;

  *out_writer = NULL;
  if (!map->single)
    {
      w = g_new0 (RrunIdMapWriter, 1);
      if (!start_map_helper (&w->uid, "newuidmap", map->newuidmap, pid, map->uid_map, error))
        {
          g_free (w);
          return FALSE;
        }
      if (!start_map_helper (&w->gid, "newgidmap", map->newgidmap, pid, map->gid_map, error))
        {
          finish_map_helper (&w->uid, NULL);
          g_free (w);
          return FALSE;
        }
      *out_writer = w;
      return TRUE;
    }
  /* Without a helper an unprivileged process may map only itself, and only after
     giving up setgroups (user_namespaces(7)). */
  utext = rrun_idmap_format (map->uid_map);
  gtext = rrun_idmap_format (map->gid_map);
  if (!write_proc_file (pid, "setgroups", "deny", error)
      || !write_proc_file (pid, "uid_map", utext, error)
      || !write_proc_file (pid, "gid_map", gtext, error))
    {
      g_prefix_error (error, "cannot map user IDs: ");
      return FALSE;
    }
  return TRUE;
}

gboolean
rrun_idmap_finish_maps (RrunIdMapWriter *writer, GError **error)
{
  gboolean ok;

  if (writer == NULL)
    return TRUE;
  ok = finish_map_helper (&writer->uid, error);
  ok = finish_map_helper (&writer->gid, error) && ok;
  g_free (writer);
  return ok;
}

gboolean
rrun_idmap_write_maps (const RrunIdMap *map, pid_t pid, GError **error)
{
  RrunIdMapWriter *writer;

  return rrun_idmap_start_maps (map, pid, &writer, error)
         && rrun_idmap_finish_maps (writer, error);
}
