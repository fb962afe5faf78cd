#include "container/record.h"
#include "error.h"
#include "log.h"
#include "storage/lock.h"
#include "storage/store.h"
#include "container/pause.h"
#include "container/health.h"
#include "container/policy.h"
#include "util/json-value.h"
#include "util/fd.h"
#include "util/path.h"
#include "util/text-file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

void
rrun_state_free (RrunState *s)
{
  if (s == NULL)
    return;
  g_free (s->id);
  g_free (s->name);
  g_free (s->image);
  g_free (s->command);
  g_free (s->cgroup);
  g_free (s->run_dir);
  g_strfreev (s->args);
  g_free (s->image_id);
  g_free (s->network);
  g_strfreev (s->volumes);
  g_strfreev (s->volumes_from);
  g_strfreev (s->tmpfs);
  g_free (s->userns);
  g_free (s->storage_driver);
  g_strfreev (s->labels);
  g_strfreev (s->annotations);
  g_strfreev (s->devices);
  g_free (s->gpus);
  g_free (s->damaged);
  g_free (s->restart_policy);
  g_free (s->health);
  g_free (s);
}

const char *
rrun_status_name (RrunStatus status)
{
  switch (status)
    {
    case RRUN_STATUS_CREATED:
      return "created";
    case RRUN_STATUS_RUNNING:
      return "running";
    case RRUN_STATUS_EXITED:
      return "exited";
    }
  return "unknown";
}

static RrunStatus
status_from_name (const char *name)
{
  if (g_strcmp0 (name, "created") == 0)
    return RRUN_STATUS_CREATED;
  if (g_strcmp0 (name, "exited") == 0)
    return RRUN_STATUS_EXITED;
  return RRUN_STATUS_RUNNING; /* records written before "status" existed: running ones */
}

static int lock_record_file (const RrunConfig *config, const char *id, GError **error);

char *
rrun_record_dir (const RrunConfig *config, const char *id)
{
  return g_build_filename (config->storage_root, "containers", id, NULL);
}

/* The summary (RRUN_RECORD_SUMMARY_FILE): what ps shows of a record, read without
   container.json (docs/architecture.md, "Containers: spec, verbs, record"). NUL-separated
   text, no escapes (no value can hold a NUL): the magic, the stamp of the container.json
   it was made from (inode, size, mtime: container.json is replaced by rename, so every
   write has a new stamp), then name/value pairs, "label" once per label. A summary
   whose stamp is not container.json's (a kill between the two writes, a record written
   by an older rrun) is ignored: container.json is read instead. */
#define SUMMARY_MAGIC "rrun-summary-1"

static char *
summary_stamp (const struct stat *st)
{
  return g_strdup_printf ("%" G_GUINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                          " %ld",
                          (guint64) st->st_ino, (gint64) st->st_size,
                          (gint64) st->st_mtim.tv_sec, (long) st->st_mtim.tv_nsec);
}

static void
summary_add (GString *out, const char *name, const char *value)
{
  g_string_append (out, name);
  g_string_append_c (out, '\0');
  g_string_append (out, value != NULL ? value : "");
  g_string_append_c (out, '\0');
}

static void
summary_add_member (GString *out, const RrunJson *o, const char *name)
{
  RrunJson *n = rrun_json_member (o, name);
  char num[32];

  if (n == NULL)
    return;
  switch (rrun_json_type (n))
    {
    case RRUN_JSON_STRING:
      summary_add (out, name, rrun_json_string (n));
      break;
    case RRUN_JSON_INT:
    case RRUN_JSON_BOOL:
      g_snprintf (num, sizeof num, "%" G_GINT64_FORMAT, rrun_json_int (n));
      summary_add (out, name, num);
      break;
    default:
      break;
    }
}

/* The summary of record o (container.json's object) whose file has the stat st. */
static GString *
summary_text (const RrunJson *o, const struct stat *st)
{
  static const char *const members[] = { "id",      "name",      "image",   "image_id",
                                         "command", "pid",       "created", "cgroup",
                                         "status",  "exit_code", "started", "finished",
                                         "rm",      "restarting" };
  GString *out = g_string_sized_new (512);
  g_autofree char *stamp = summary_stamp (st);
  RrunJson *labels = rrun_json_member (rrun_json_member (o, "spec"), "label");

  g_string_append (out, SUMMARY_MAGIC);
  g_string_append_c (out, '\0');
  g_string_append (out, stamp);
  g_string_append_c (out, '\0');
  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    summary_add_member (out, o, members[i]);
  for (guint i = 0; labels != NULL && rrun_json_type (labels) == RRUN_JSON_ARRAY
                    && i < rrun_json_size (labels);
       i++)
    {
      const char *l = rrun_json_string (rrun_json_element (labels, i));
      if (l != NULL)
        summary_add (out, "label", l);
    }
  return out;
}

/* Write container.json (text, whose object is o) into the record dir atomically, then
   its summary. The summary is made from the very file written (its stamp taken before
   the rename), so a writer that replaces container.json in between leaves a summary
   that no longer matches, and is not believed. A summary that cannot be written is only
   slower to list. */
static gboolean
record_write (const char *dir, const char *text, const RrunJson *o, GError **error)
{
  g_autofree char *path = g_build_filename (dir, RRUN_RECORD_FILE, NULL);
  g_autofree char *tmp = g_strdup_printf ("%s.tmp-%d", path, (int) getpid ());
  g_autofree char *summary = g_build_filename (dir, RRUN_RECORD_SUMMARY_FILE, NULL);
  g_autoptr(GString) sum = NULL;
  g_autoptr(GError) local = NULL;
  rrun_autofd int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  struct stat st;

  if (fd < 0)
    return rrun_throw_errno (error, errno, "create \"%s\"", tmp);
  if (!rrun_fd_write_all (fd, text, strlen (text), error))
    {
      unlink (tmp);
      g_prefix_error (error, "\"%s\": ", tmp);
      return FALSE;
    }
  if (fstat (fd, &st) < 0)
    {
      int errsv = errno;
      unlink (tmp);
      return rrun_throw_errno (error, errsv, "stat \"%s\"", tmp);
    }
  if (rename (tmp, path) < 0)
    {
      int errsv = errno;
      unlink (tmp);
      return rrun_throw_errno (error, errsv, "rename \"%s\"", tmp);
    }
  if (o == NULL || rrun_json_type (o) != RRUN_JSON_OBJECT)
    return TRUE;
  sum = summary_text (o, &st);
  if (!rrun_path_write_atomic (summary, sum->str, sum->len, 0600, &local))
    g_debug ("cannot write the record summary: %s", local->message);
  return TRUE;
}

gboolean
rrun_state_write (const RrunConfig *config, const RrunState *s, const RrunContainerSpec *spec,
                  GError **error)
{
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();
  g_autofree char *dir = rrun_record_dir (config, s->id);
  g_autofree char *path = g_build_filename (dir, RRUN_RECORD_FILE, NULL);
  g_autofree char *text = NULL, *disk_name = NULL;
  rrun_autofd int fd = lock_record_file (config, s->id, error);
  RrunContainerSpec renamed;

  if (fd < 0)
    return FALSE;
  /* A rename since this container's spec was read (rrun start, the monitor's exit) is
     the record's newer word on its name. */
  {
    g_autofree char *old = NULL;
    g_autoptr(RrunJson) o = NULL;
    gsize len;

    if (g_file_get_contents (path, &old, &len, NULL)
        && (o = rrun_json_parse (old, len, RRUN_JSON_DEFAULT, NULL)) != NULL
        && rrun_json_member_string (o, "name") != NULL
        && *rrun_json_member_string (o, "name") != '\0'
        && g_strcmp0 (rrun_json_member_string (o, "name"), s->name) != 0)
      disk_name = g_strdup (rrun_json_member_string (o, "name"));
  }
  if (disk_name != NULL && spec != NULL)
    {
      renamed = *spec;
      renamed.name = disk_name;
      spec = &renamed;
    }

  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "id", s->id);
  rrun_json_builder_member_string (b, "name", disk_name ? disk_name : s->name ? s->name : "");
  rrun_json_builder_member_string (b, "image", s->image);
  rrun_json_builder_member_string (b, "command", s->command);
  rrun_json_builder_member_int (b, "pid", s->pid);
  rrun_json_builder_member_int (b, "created", s->created);
  rrun_json_builder_member_string (b, "cgroup", s->cgroup ? s->cgroup : "");
  rrun_json_builder_member_strv (b, "args", (const char *const *) s->args);
  rrun_json_builder_member_string (b, "image_id", s->image_id);
  rrun_json_builder_member_string (b, "network", s->network);
  rrun_json_builder_member_strv (b, "volumes", (const char *const *) s->volumes);
  rrun_json_builder_member_strv (b, "volumes_from", (const char *const *) s->volumes_from);
  rrun_json_builder_member_strv (b, "tmpfs", (const char *const *) s->tmpfs);
  rrun_json_builder_member_string (b, "userns", s->userns ? s->userns : "");
  if (s->storage_driver != NULL)
    rrun_json_builder_member_string (b, "storage_driver", s->storage_driver);
  rrun_json_builder_member_string (b, "run_dir", s->run_dir);
  rrun_json_builder_member_string (b, "status", rrun_status_name (s->status));
  rrun_json_builder_member_int (b, "exit_code", s->exit_code);
  rrun_json_builder_member_bool (b, "oom_killed", s->oom_killed);
  rrun_json_builder_member_int (b, "started", s->started);
  rrun_json_builder_member_int (b, "finished", s->finished);
  rrun_json_builder_member_int (b, "pid_start", (gint64) s->pid_start);
  rrun_json_builder_member_bool (b, "rm", s->rm);
  rrun_json_builder_member_bool (b, "detached", s->detached);
  rrun_json_builder_member_int (b, "stop_signal", s->stop_signal);
  rrun_json_builder_member_int (b, "stop_timeout", s->stop_timeout);
  rrun_json_builder_member_int (b, "restart_count", s->restart_count);
  if (s->restarting)
    rrun_json_builder_member_bool (b, "restarting", TRUE);
  if (spec != NULL)
    {
      rrun_json_builder_set_member_name (b, "spec");
      rrun_container_spec_to_json (spec, b);
    }
  rrun_json_builder_end_object (b);
  text = rrun_json_builder_to_text (b, FALSE);
  {
    g_autoptr(RrunJson) o = rrun_json_parse (text, strlen (text), RRUN_JSON_DEFAULT, NULL);

    return record_write (dir, text, o, error);
  }
}

gboolean
rrun_container_mark_kept (const RrunConfig *config, const char *id, GError **error)
{
  g_autofree char *dir = rrun_record_dir (config, id);
  g_autofree char *path = g_build_filename (dir, RRUN_STORE_KEEP_FILE, NULL);
  int fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", path);
  close (fd);
  return TRUE;
}

gboolean
rrun_state_write_exited (const RrunConfig *config, const char *id, int exit_code,
                         gboolean oom_killed, gint64 finished, GError **error)
{
  g_autofree char *dir = rrun_record_dir (config, id);
  g_autofree char *path = g_build_filename (dir, RRUN_RECORD_FILE, NULL);
  g_autofree char *text = NULL, *out = NULL;
  g_autoptr(RrunJson) o = NULL;
  gsize len;
  rrun_autofd int fd = lock_record_file (config, id, error);

  if (fd < 0)
    return FALSE;
  if (!g_file_get_contents (path, &text, &len, error))
    return FALSE;
  o = rrun_json_parse (text, len, RRUN_JSON_DEFAULT, error);
  if (o == NULL || rrun_json_type (o) != RRUN_JSON_OBJECT)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "\"%s\" is no container record", path);
  rrun_json_object_set (o, "status", rrun_json_new_string ("exited"));
  rrun_json_object_set (o, "exit_code", rrun_json_new_int (exit_code));
  rrun_json_object_set (o, "oom_killed", rrun_json_new_bool (oom_killed));
  rrun_json_object_set (o, "finished", rrun_json_new_int (finished));
  out = rrun_json_value_to_text (o, FALSE);
  return record_write (dir, out, o, error);
}

gboolean
rrun_state_write_restarting (const RrunConfig *config, const char *id, gboolean restarting,
                             GError **error)
{
  g_autofree char *dir = rrun_record_dir (config, id);
  g_autofree char *path = g_build_filename (dir, RRUN_RECORD_FILE, NULL);
  g_autofree char *text = NULL, *out = NULL;
  g_autoptr(RrunJson) o = NULL;
  gsize len;

  if (!g_file_get_contents (path, &text, &len, error))
    return FALSE;
  o = rrun_json_parse (text, len, RRUN_JSON_DEFAULT, error);
  if (o == NULL || rrun_json_type (o) != RRUN_JSON_OBJECT)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "\"%s\" is no container record", path);
  rrun_json_object_set (o, "restarting", rrun_json_new_bool (restarting));
  out = rrun_json_value_to_text (o, FALSE);
  return record_write (dir, out, o, error);
}

/* A string member's copy; fallback when absent or not a string. */
static char *
string_member (const RrunJson *o, const char *name, const char *fallback)
{
  const char *v = rrun_json_member_string (o, name);

  return g_strdup (v != NULL ? v : fallback);
}

/* An integer member; fallback when absent or not an integer. */
static gint64
int_member_or (const RrunJson *o, const char *name, gint64 fallback)
{
  RrunJson *n = rrun_json_member (o, name);

  return n != NULL && rrun_json_type (n) == RRUN_JSON_INT ? rrun_json_int (n) : fallback;
}

static gint64
int_member (const RrunJson *o, const char *name)
{
  return int_member_or (o, name, 0);
}

static gboolean
bool_member (const RrunJson *o, const char *name)
{
  RrunJson *n = rrun_json_member (o, name);

  return n != NULL && rrun_json_type (n) == RRUN_JSON_BOOL && rrun_json_int (n) != 0;
}

/* An array of strings, NULL when absent; other elements are skipped. */
static char **
strv_member (const RrunJson *o, const char *name)
{
  RrunJson *n = rrun_json_member (o, name);
  GPtrArray *v;

  if (n == NULL || rrun_json_type (n) != RRUN_JSON_ARRAY)
    return NULL;
  v = g_ptr_array_new ();
  for (guint i = 0; i < rrun_json_size (n); i++)
    {
      const char *e = rrun_json_string (rrun_json_element (n, i));
      if (e != NULL)
        g_ptr_array_add (v, g_strdup (e));
    }
  g_ptr_array_add (v, NULL);
  return (char **) g_ptr_array_free (v, FALSE);
}

/* The state of a record whose container.json is there but cannot be read: its id (the
   directory's name) and why. */
static RrunState *
damaged_state (const char *record_dir, const char *why)
{
  RrunState *s = g_new0 (RrunState, 1);
  const char *nl = strchr (why, '\n');
  struct stat st;

  s->id = g_path_get_basename (record_dir);
  s->name = g_strdup ("");
  s->image = g_strdup ("");
  s->command = g_strdup ("");
  s->status = RRUN_STATUS_EXITED;
  s->exit_code = RRUN_EXIT_CODE_UNKNOWN;
  s->stop_signal = SIGTERM;
  s->stop_timeout = 10;
  if (stat (record_dir, &st) == 0)
    s->created = st.st_mtime;
  s->damaged = nl ? g_strndup (why, (gsize) (nl - why)) : g_strdup (why);
  return s;
}

/* NULL when the file is missing (a container being set up); a damaged state when it is
   there but not a record (damaged_state). */
static RrunState *
read_state (const char *record_dir)
{
  g_autofree char *path = g_build_filename (record_dir, RRUN_RECORD_FILE, NULL);
  g_autofree char *text = NULL;
  g_autoptr(RrunJson) o = NULL;
  g_autoptr(GError) local = NULL;
  gsize len;
  RrunState *s;

  if (!rrun_text_file_read (path, "container record", RRUN_TEXT_FILE_MAX_CONFIG,
                            RRUN_TEXT_FILE_DEFAULT, &text, &len, &local))
    {
      if (g_error_matches (local, RRUN_ERRNO_ERROR, ENOENT))
        return NULL;
      return damaged_state (record_dir, local->message);
    }
  if ((o = rrun_json_parse (text, len, RRUN_JSON_DEFAULT, &local)) == NULL)
    {
      g_autofree char *why = g_strdup_printf ("cannot read \"%s\": %s", path, local->message);

      return damaged_state (record_dir, why);
    }
  if (rrun_json_type (o) != RRUN_JSON_OBJECT || rrun_json_member (o, "id") == NULL
      || rrun_json_member (o, "pid") == NULL)
    {
      g_autofree char *why = g_strdup_printf ("invalid record \"%s\": no id or pid", path);

      return damaged_state (record_dir, why);
    }
  s = g_new0 (RrunState, 1);
  s->id = string_member (o, "id", "");
  s->name = string_member (o, "name", "");
  s->image = string_member (o, "image", "");
  s->command = string_member (o, "command", "");
  s->pid = (pid_t) int_member (o, "pid");
  s->created = int_member (o, "created");
  s->cgroup = string_member (o, "cgroup", NULL);
  if (s->cgroup != NULL && *s->cgroup == '\0')
    g_clear_pointer (&s->cgroup, g_free);
  s->userns = string_member (o, "userns", NULL);
  if (s->userns != NULL && *s->userns == '\0')
    g_clear_pointer (&s->userns, g_free);
  s->run_dir = string_member (o, "run_dir", NULL);
  s->storage_driver = string_member (o, "storage_driver", NULL);
  s->args = strv_member (o, "args");
  s->image_id = string_member (o, "image_id", NULL);
  s->network = string_member (o, "network", NULL);
  s->volumes = strv_member (o, "volumes");
  s->volumes_from = strv_member (o, "volumes_from");
  s->tmpfs = strv_member (o, "tmpfs");
  s->status = status_from_name (rrun_json_member_string (o, "status"));
  s->exit_code = (int) int_member_or (o, "exit_code", RRUN_EXIT_CODE_UNKNOWN);
  s->oom_killed = bool_member (o, "oom_killed");
  s->started = int_member_or (o, "started", s->created * G_GINT64_CONSTANT (1000000000));
  s->finished = int_member (o, "finished");
  s->pid_start = (guint64) int_member (o, "pid_start");
  s->rm = bool_member (o, "rm");
  s->detached = bool_member (o, "detached");
  s->stop_signal = (int) int_member_or (o, "stop_signal", SIGTERM);
  s->stop_timeout = (int) int_member_or (o, "stop_timeout", 10);
  s->labels = strv_member (rrun_json_member (o, "spec"), "label");
  s->annotations = strv_member (rrun_json_member (o, "spec"), "annotation");
  s->restart_count = (guint) int_member (o, "restart_count");
  s->restarting = bool_member (o, "restarting");
  s->restart_policy = string_member (rrun_json_member (o, "spec"), "restart", NULL);
  s->devices = strv_member (rrun_json_member (o, "spec"), "device");
  s->gpus = string_member (rrun_json_member (o, "spec"), "gpus", NULL);
  s->no_sig_proxy = bool_member (rrun_json_member (o, "spec"), "no-sig-proxy");
  {
    g_autofree char *marker = g_build_filename (record_dir, RRUN_STOPPED_MARKER, NULL);
    g_autoptr(RrunHealth) h = NULL;

    s->manually_stopped = g_file_test (marker, G_FILE_TEST_EXISTS);
    /* The health of a running container (ps's "(healthy)"): a stopped one's is not read. */
    if (s->status == RRUN_STATUS_RUNNING && rrun_health_read (record_dir, &h, NULL)
        && h != NULL)
      s->health = g_strdup (rrun_health_status_name (h->status));
  }
  return s;
}

/* The one reading of a record's life cycle: its lock held (live), or not (stopped when
   kept, debris otherwise, rrun_store_container_is_debris). A kept record that says it
   runs while nobody holds its lock lost its rrun or monitor to a kill or a reboot: it is
   marked exited with an unknown status, under the lock, once. NULL for debris and for a
   record being set up (no container.json yet). */
static RrunState *
settle_state (const RrunConfig *config, const char *record_dir)
{
  RrunState *s;

  if (rrun_lock_dir_is_held (record_dir))
    {
      s = read_state (record_dir);
      if (s != NULL)
        {
          s->live = TRUE;
          s->paused = s->status == RRUN_STATUS_RUNNING && rrun_container_is_frozen (s->cgroup);
        }
      return s;
    }
  /* Not held: debris unless kept (rrun_store_container_is_debris, without probing the
     lock twice). */
  if (!rrun_store_container_is_kept (record_dir))
    return NULL;
  s = read_state (record_dir);
  if (s != NULL && s->status == RRUN_STATUS_RUNNING)
    {
      g_autofree char *lock = g_build_filename (record_dir, "lock", NULL);
      int fd = open (lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);

      s->status = RRUN_STATUS_EXITED;
      s->exit_code = RRUN_EXIT_CODE_UNKNOWN;
      s->finished = g_get_real_time () * 1000;
      /* Whoever gets the lock writes it (a start may take the lock meanwhile: then the
         record is its). */
      if (fd >= 0 && rrun_lock_try_exclusive (fd))
        {
          g_autoptr(RrunState) again = read_state (record_dir);

          if (again != NULL && again->status == RRUN_STATUS_RUNNING)
            rrun_state_write_exited (config, s->id, RRUN_EXIT_CODE_UNKNOWN, FALSE, s->finished,
                                     NULL);
        }
      if (fd >= 0)
        close (fd);
    }
  return s;
}

static gint
by_created (gconstpointer a, gconstpointer b)
{
  const RrunState *x = *(RrunState *const *) a, *y = *(RrunState *const *) b;

  /* Seconds: several containers a second are ordered by when they started. */
  if (x->created != y->created)
    return (x->created > y->created) - (x->created < y->created);
  return (x->started > y->started) - (x->started < y->started);
}

gboolean
rrun_state_list (const RrunConfig *config, GPtrArray **out_states, GError **error)
{
  /* Running records only: none is read from a summary (rrun_state_list_brief). */
  return rrun_state_list_brief (config, FALSE, out_states, error);
}

gboolean
rrun_state_list_all (const RrunConfig *config, gboolean all, GPtrArray **out_states,
                     GError **error)
{
  g_autofree char *dir = g_build_filename (config->storage_root, "containers", NULL);
  g_autoptr(GPtrArray) states = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_state_free);
  g_autoptr(GDir) d = NULL;
  g_autoptr(GError) local = NULL;
  const char *name;

  d = g_dir_open (dir, 0, &local);
  if (d == NULL && !g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    return rrun_throw (error, RRUN_ERROR_FAILED, "cannot list containers: %s", local->message);
  while (d && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *record_dir = g_build_filename (dir, name, NULL);
      RrunState *s;

      if (name[0] == '.')
        continue;
      s = settle_state (config, record_dir);
      if (s != NULL
          && (all || (s->live && s->damaged != NULL)
              || (s->live && s->status == RRUN_STATUS_RUNNING && s->pid > 0)))
        g_ptr_array_add (states, s);
      else
        rrun_state_free (s);
    }
  g_ptr_array_sort (states, by_created);
  *out_states = g_steal_pointer (&states);
  return TRUE;
}

static void
set_str (char **to, const char *v)
{
  g_free (*to);
  *to = g_strdup (v);
}

/* A stopped record (exited or created, kept, not waiting to restart) from its summary
   alone: NULL when the summary is missing, stale or says anything else, and the caller
   reads the record in full (settle_state). dfd: STORAGE/containers. */
static RrunState *
brief_state (int dfd, const char *name)
{
  char path[256], buf[8192];
  g_autofree char *stamp = NULL;
  const char *p, *end;
  RrunState *s;
  struct stat st;
  gboolean kept;
  ssize_t n;
  int fd;

  if (g_snprintf (path, sizeof path, "%s/" RRUN_RECORD_SUMMARY_FILE, name) >= (int) sizeof path)
    return NULL;
  fd = openat (dfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return NULL;
  n = read (fd, buf, sizeof buf);
  close (fd);
  /* Empty, unreadable, or larger than the buffer (many labels): the full read. */
  if (n <= 0 || (gsize) n >= sizeof buf || buf[n - 1] != '\0')
    return NULL;
  end = buf + n;
  if (strcmp (buf, SUMMARY_MAGIC) != 0)
    return NULL;
  p = buf + sizeof SUMMARY_MAGIC;
  g_snprintf (path, sizeof path, "%s/" RRUN_RECORD_FILE, name);
  if (p >= end || fstatat (dfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return NULL;
  stamp = summary_stamp (&st);
  if (strcmp (p, stamp) != 0)
    return NULL;
  p += strlen (p) + 1;
  s = g_new0 (RrunState, 1);
  s->status = RRUN_STATUS_RUNNING;
  s->exit_code = RRUN_EXIT_CODE_UNKNOWN;
  s->started = -1;
  s->stop_signal = SIGTERM;
  s->stop_timeout = 10;
  {
    g_autoptr(GPtrArray) labels = NULL;

    while (p < end)
      {
        const char *k = p, *v = p + strlen (p) + 1;

        if (v >= end)
          break;
        p = v + strlen (v) + 1;
        if (strcmp (k, "id") == 0)
          set_str (&s->id, v);
        else if (strcmp (k, "name") == 0)
          set_str (&s->name, v);
        else if (strcmp (k, "image") == 0)
          set_str (&s->image, v);
        else if (strcmp (k, "image_id") == 0)
          set_str (&s->image_id, v);
        else if (strcmp (k, "command") == 0)
          set_str (&s->command, v);
        else if (strcmp (k, "cgroup") == 0)
          set_str (&s->cgroup, *v ? v : NULL);
        else if (strcmp (k, "status") == 0)
          s->status = status_from_name (v);
        else if (strcmp (k, "pid") == 0)
          s->pid = (pid_t) g_ascii_strtoll (v, NULL, 10);
        else if (strcmp (k, "created") == 0)
          s->created = g_ascii_strtoll (v, NULL, 10);
        else if (strcmp (k, "exit_code") == 0)
          s->exit_code = (int) g_ascii_strtoll (v, NULL, 10);
        else if (strcmp (k, "started") == 0)
          s->started = g_ascii_strtoll (v, NULL, 10);
        else if (strcmp (k, "finished") == 0)
          s->finished = g_ascii_strtoll (v, NULL, 10);
        else if (strcmp (k, "rm") == 0)
          s->rm = strcmp (v, "0") != 0;
        else if (strcmp (k, "restarting") == 0)
          s->restarting = strcmp (v, "0") != 0;
        else if (strcmp (k, "label") == 0)
          {
            if (labels == NULL)
              labels = g_ptr_array_new ();
            g_ptr_array_add (labels, g_strdup (v));
          }
      }
    if (labels != NULL)
      {
        g_ptr_array_add (labels, NULL);
        s->labels = (char **) g_ptr_array_free (g_steal_pointer (&labels), FALSE);
      }
  }
  /* As read_state: a record without "started" started when it was created. */
  if (s->started < 0)
    s->started = s->created * G_GINT64_CONSTANT (1000000000);
  g_snprintf (path, sizeof path, "%s/" RRUN_STORE_KEEP_FILE, name);
  kept = faccessat (dfd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
  /* Running (its lock and PID 1 to check), restarting (live or not), not kept (debris, or
     an --rm container being removed), or a summary without id, name, image or command:
     the full reading. */
  if (s->status == RRUN_STATUS_RUNNING || s->restarting || !kept || s->id == NULL
      || s->name == NULL || s->image == NULL || s->command == NULL)
    {
      rrun_state_free (s);
      return NULL;
    }
  s->brief = TRUE;
  return s;
}

gboolean
rrun_state_list_brief (const RrunConfig *config, gboolean all, GPtrArray **out_states,
                       GError **error)
{
  g_autofree char *dir = g_build_filename (config->storage_root, "containers", NULL);
  g_autoptr(GPtrArray) states = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_state_free);
  rrun_autofd int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d;
  struct dirent *de;

  if (dfd < 0 && errno != ENOENT)
    return rrun_throw_errno (error, errno, "cannot list containers: cannot open \"%s\"", dir);
  if (dfd < 0)
    return rrun_state_list_all (config, all, out_states, error);
  d = fdopendir (dup (dfd));
  if (d == NULL)
    return rrun_throw_errno (error, errno, "cannot list containers: cannot read \"%s\"", dir);
  while ((de = readdir (d)) != NULL)
    {
      RrunState *s;

      if (de->d_name[0] == '.')
        continue;
      s = brief_state (dfd, de->d_name);
      /* Stopped: listed with -a only (as by rrun_state_list_all: without it, only running
         records and live damaged ones). */
      if (s != NULL && !all)
        {
          rrun_state_free (s);
          continue;
        }
      if (s == NULL)
        {
          g_autofree char *record_dir = g_build_filename (dir, de->d_name, NULL);

          s = settle_state (config, record_dir);
        }
      if (s != NULL
          && (all || (s->live && s->damaged != NULL)
              || (s->live && s->status == RRUN_STATUS_RUNNING && s->pid > 0)))
        g_ptr_array_add (states, s);
      else
        rrun_state_free (s);
    }
  closedir (d);
  g_ptr_array_sort (states, by_created);
  *out_states = g_steal_pointer (&states);
  return TRUE;
}

static gboolean
find_state (const RrunConfig *config, const char *what, gboolean all, gboolean damaged_too,
            RrunState **out_state, GError **error)
{
  g_autoptr(GPtrArray) states = NULL;
  gint found = -1;
  guint matches = 0;

  /* Stopped records from their summaries: the one found is then read in full. */
  if (!rrun_state_list_brief (config, all, &states, error))
    return FALSE;
  for (guint i = 0; i < states->len; i++)
    {
      RrunState *s = states->pdata[i];

      if (g_strcmp0 (s->name, what) == 0 || g_strcmp0 (s->id, what) == 0)
        {
          found = (gint) i;
          matches = 1;
          break;
        }
      if (strlen (what) >= 3 && g_str_has_prefix (s->id, what))
        found = (gint) i, matches++;
    }
  if (matches == 0)
    rrun_throw (error, RRUN_ERROR_NOT_FOUND, "no %scontainer \"%s\"", all ? "" : "running ",
                what);
  else if (matches > 1)
    rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                "container \"%s\" is ambiguous: %u %scontainers match", what, matches,
                all ? "" : "running ");
  if (matches != 1)
    {
      if (all)
        rrun_add_hint (error, "list containers with: rrun ps -a");
      else
        rrun_add_hint (error, "list running containers with: rrun ps");
      return FALSE;
    }
  if (((RrunState *) states->pdata[found])->brief)
    {
      RrunState *brief = states->pdata[found];
      g_autofree char *record_dir = rrun_record_dir (config, brief->id);
      RrunState *full = settle_state (config, record_dir);

      /* Removed since it was listed. */
      if (full == NULL)
        return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "no container \"%s\"", what);
      states->pdata[found] = full;
      rrun_state_free (brief);
    }
  if (!damaged_too && ((RrunState *) states->pdata[found])->damaged != NULL)
    {
      const RrunState *s = states->pdata[found];
      g_autofree char *why = rrun_text_escape (s->damaged, -1);

      rrun_throw (error, RRUN_ERROR_CORRUPT, "container %.12s is damaged: %s", s->id, why);
      rrun_add_hint (error, "remove it with 'rrun rm -f %.12s' (or every damaged record with "
                            "'rrun system check --repair')",
                     s->id);
      return FALSE;
    }
  *out_state = g_ptr_array_steal_index_fast (states, (guint) found);
  return TRUE;
}

gboolean
rrun_state_find (const RrunConfig *config, const char *what, RrunState **out_state,
                 GError **error)
{
  return find_state (config, what, FALSE, FALSE, out_state, error);
}

gboolean
rrun_state_find_any (const RrunConfig *config, const char *what, RrunState **out_state,
                     GError **error)
{
  return find_state (config, what, TRUE, FALSE, out_state, error);
}

gboolean
rrun_state_find_for_removal (const RrunConfig *config, const char *what,
                             RrunState **out_state, GError **error)
{
  return find_state (config, what, TRUE, TRUE, out_state, error);
}

/* The record named name in a listing of all containers (rrun_state_list_all or
   rrun_state_list_brief), or NULL. */
static RrunState *
find_named (const RrunConfig *config,
            gboolean (*list) (const RrunConfig *, gboolean, GPtrArray **, GError **),
            const char *name)
{
  g_autoptr(GPtrArray) states = NULL;

  if (!list (config, TRUE, &states, NULL))
    return NULL;
  for (guint i = 0; i < states->len; i++)
    if (g_strcmp0 (((RrunState *) states->pdata[i])->name, name) == 0)
      return g_ptr_array_steal_index_fast (states, i);
  return NULL;
}

RrunState *
rrun_state_find_name (const RrunConfig *config, const char *name)
{
  return find_named (config, rrun_state_list_all, name);
}

char *
rrun_state_find_name_id (const RrunConfig *config, const char *name)
{
  g_autoptr(RrunState) s = find_named (config, rrun_state_list_brief, name);

  return s != NULL ? g_strdup (s->id) : NULL;
}

/* An exclusive flock on path (created if missing), blocking; -1 with the error. */
static int
lock_file (const char *path, GError **error)
{
  int fd = -1;

  return rrun_fd_lock_path (path, &fd, error) ? fd : -1;
}

/* STORAGE/names, locked. */
static int
lock_names (const RrunConfig *config, char **out_dir, GError **error)
{
  g_autofree char *dir = g_build_filename (config->storage_root, "names", NULL);
  g_autofree char *lock = g_build_filename (dir, ".lock", NULL);
  int fd;

  if (mkdir (dir, 0700) < 0 && errno != EEXIST)
    {
      rrun_throw_errno (error, errno, "cannot create \"%s\"", dir);
      return -1;
    }
  fd = lock_file (lock, error);
  if (fd >= 0)
    *out_dir = g_steal_pointer (&dir);
  return fd;
}

/* The container the entry names holds it still: its record is live, or stopped and kept. */
static gboolean
name_entry_holder (const RrunConfig *config, const char *entry, char **out_id)
{
  g_autofree char *target = g_file_read_link (entry, NULL);
  g_autofree char *record = NULL;

  if (target == NULL || strchr (target, '/') != NULL || target[0] == '.')
    return FALSE;
  record = rrun_record_dir (config, target);
  if (!g_file_test (record, G_FILE_TEST_IS_DIR) || rrun_store_container_is_debris (record))
    return FALSE;
  *out_id = g_steal_pointer (&target);
  return TRUE;
}

gboolean
rrun_container_name_reserve (const RrunConfig *config, const char *name, const char *id,
                             char **out_other, GError **error)
{
  g_autofree char *dir = NULL, *entry = NULL, *holder = NULL, *other = NULL;
  rrun_autofd int fd = lock_names (config, &dir, error);

  if (fd < 0)
    return FALSE;
  entry = g_build_filename (dir, name, NULL);
  if (name_entry_holder (config, entry, &holder) && strcmp (holder, id) != 0)
    goto busy;
  g_clear_pointer (&holder, g_free);
  /* Records named before this directory existed. */
  other = rrun_state_find_name_id (config, name);
  if (other != NULL && strcmp (other, id) != 0)
    {
      holder = g_steal_pointer (&other);
      goto busy;
    }
  if (unlink (entry) < 0 && errno != ENOENT)
    return rrun_throw_errno (error, errno, "cannot remove \"%s\"", entry);
  if (symlink (id, entry) < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", entry);
  return TRUE;

busy:
  rrun_throw (error, RRUN_ERROR_BUSY, "the name \"%s\" is in use by container %.12s", name,
              holder);
  if (out_other != NULL)
    *out_other = g_steal_pointer (&holder);
  return FALSE;
}

void
rrun_container_name_release (const RrunConfig *config, const char *name, const char *id)
{
  g_autofree char *dir = NULL, *entry = NULL, *target = NULL;
  rrun_autofd int fd = -1;

  if (name == NULL || *name == '\0' || !rrun_container_name_valid (name))
    return;
  fd = lock_names (config, &dir, NULL);
  if (fd < 0)
    return;
  entry = g_build_filename (dir, name, NULL);
  target = g_file_read_link (entry, NULL);
  if (target != NULL && strcmp (target, id) == 0)
    unlink (entry);
}

/* The lock of a record's container.json: every read-modify-write of it (exit, rename)
   and every whole write holds it, so none undoes another. */
static int
lock_record_file (const RrunConfig *config, const char *id, GError **error)
{
  g_autofree char *dir = rrun_record_dir (config, id);
  g_autofree char *path = g_build_filename (dir, "state.lock", NULL);

  return lock_file (path, error);
}

gboolean
rrun_state_rename (const RrunConfig *config, const RrunState *s, const char *name,
                   GError **error)
{
  g_autofree char *dir = rrun_record_dir (config, s->id);
  g_autofree char *path = g_build_filename (dir, RRUN_RECORD_FILE, NULL);
  g_autofree char *text = NULL, *out = NULL, *old_name = NULL;
  g_autoptr(RrunJson) o = NULL;
  rrun_autofd int fd = -1;
  RrunJson *spec;
  gsize len;

  if (!rrun_container_name_valid (name))
    {
      g_autofree char *shown = g_strescape (name, NULL);
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid container name \"%s\"", shown);
      rrun_add_hint (error, "a name starts with a letter or digit and has only letters, "
                            "digits, '_', '.' and '-' (as with docker)");
      return FALSE;
    }
  if (g_strcmp0 (s->name, name) != 0
      && !rrun_container_name_reserve (config, name, s->id, NULL, error))
    {
      g_prefix_error (error, "cannot rename container \"%s\": ",
                      s->name && *s->name ? s->name : s->id);
      return FALSE;
    }
  /* Under the record file's lock: the monitor's exit write, or a start's first write,
     cannot undo the rename, nor the rename their status. */
  if ((fd = lock_record_file (config, s->id, error)) < 0)
    goto fail;
  if (!g_file_get_contents (path, &text, &len, error))
    goto fail;
  o = rrun_json_parse (text, len, RRUN_JSON_DEFAULT, error);
  if (o == NULL || rrun_json_type (o) != RRUN_JSON_OBJECT)
    {
      rrun_throw (error, RRUN_ERROR_CORRUPT, "\"%s\" is no container record", path);
      goto fail;
    }
  old_name = g_strdup (rrun_json_member_string (o, "name"));
  rrun_json_object_set (o, "name", rrun_json_new_string (name));
  spec = rrun_json_member (o, "spec");
  if (spec != NULL && rrun_json_type (spec) == RRUN_JSON_OBJECT)
    rrun_json_object_set (spec, "name", rrun_json_new_string (name));
  out = rrun_json_value_to_text (o, FALSE);
  if (!record_write (dir, out, o, error))
    goto fail;
  rrun_close_fdp (&fd);
  if (old_name != NULL && g_strcmp0 (old_name, name) != 0)
    rrun_container_name_release (config, old_name, s->id);
  return TRUE;

fail:
  if (g_strcmp0 (s->name, name) != 0)
    rrun_container_name_release (config, name, s->id);
  return FALSE;
}

gboolean
rrun_state_read_spec (const RrunConfig *config, const char *id, RrunContainerSpec *out_spec,
                      GError **error)
{
  g_autofree char *dir = rrun_record_dir (config, id);
  g_autofree char *path = g_build_filename (dir, RRUN_RECORD_FILE, NULL);
  g_autofree char *text = NULL;
  g_autoptr(RrunJson) o = NULL;
  RrunContainerSpec *spec = NULL;
  RrunJson *member;
  gsize len;

  if (!g_file_get_contents (path, &text, &len, error))
    return FALSE;
  o = rrun_json_parse (text, len, RRUN_JSON_DEFAULT, error);
  if (o == NULL)
    return FALSE;
  member = rrun_json_member (o, "spec");
  if (member == NULL || rrun_json_type (member) != RRUN_JSON_OBJECT)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: no \"spec\"", path);
  if (!rrun_container_spec_from_json (config, member, &spec, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  *out_spec = *spec;
  g_free (spec);
  return TRUE;
}

gboolean
rrun_container_gc (const RrunConfig *config, RrunStore *store, const RrunIdMap *storage_map,
                   GError **error)
{
  g_autofree char *runs = g_build_filename (config->run_root, "containers", NULL);
  g_autoptr(GDir) d = NULL;
  const char *name;

  /* Debris: records whose lock nobody holds and that are not kept (with their layers)... */
  if (!rrun_store_gc_containers (store, storage_map, error))
    return FALSE;
  /* ...then the run dirs of records that are gone or not live: a run dir is made after
     its record (and its lock) and removed before the lock is released, so one without a
     live record is stale. */
  d = g_dir_open (runs, 0, NULL);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *record = rrun_record_dir (config, name);
      g_autofree char *run_dir = NULL;

      /* A stopped container's record stays; its run dir goes. */
      if (g_file_test (record, G_FILE_TEST_EXISTS) && rrun_lock_dir_is_held (record))
        continue;
      run_dir = g_build_filename (runs, name, NULL);
      g_debug ("removing the stale run dir %s", run_dir);
      rrun_path_rm_rf (run_dir, NULL);
    }
  return TRUE;
}
