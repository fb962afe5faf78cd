#include "container/record.h"
#include "error.h"
#include "log.h"
#include "storage/lock.h"
#include "util/json-value.h"
#include "util/path.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

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
  g_strfreev (s->tmpfs);
  g_free (s->userns);
  g_free (s);
}

char *
rrun_record_dir (const RrunConfig *config, const char *id)
{
  return g_build_filename (config->storage_root, "containers", id, NULL);
}

gboolean
rrun_state_write (const RrunConfig *config, const RrunState *s, const RrunContainerSpec *spec,
                  GError **error)
{
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();
  g_autofree char *dir = rrun_record_dir (config, s->id);
  g_autofree char *path = g_build_filename (dir, RRUN_RECORD_FILE, NULL);
  g_autofree char *text = NULL;

  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "id", s->id);
  rrun_json_builder_member_string (b, "name", s->name ? s->name : "");
  rrun_json_builder_member_string (b, "image", s->image);
  rrun_json_builder_member_string (b, "command", s->command);
  rrun_json_builder_member_int (b, "pid", s->pid);
  rrun_json_builder_member_int (b, "created", s->created);
  rrun_json_builder_member_string (b, "cgroup", s->cgroup ? s->cgroup : "");
  rrun_json_builder_member_strv (b, "args", (const char *const *) s->args);
  rrun_json_builder_member_string (b, "image_id", s->image_id);
  rrun_json_builder_member_string (b, "network", s->network);
  rrun_json_builder_member_strv (b, "volumes", (const char *const *) s->volumes);
  rrun_json_builder_member_strv (b, "tmpfs", (const char *const *) s->tmpfs);
  rrun_json_builder_member_string (b, "userns", s->userns ? s->userns : "");
  rrun_json_builder_member_string (b, "run_dir", s->run_dir);
  if (spec != NULL)
    {
      rrun_json_builder_set_member_name (b, "spec");
      rrun_container_spec_to_json (spec, b);
    }
  rrun_json_builder_end_object (b);
  text = rrun_json_builder_to_text (b, FALSE);
  return rrun_path_write_atomic (path, text, strlen (text), 0600, error);
}

/* A string member's copy; fallback when absent or not a string. */
static char *
string_member (const RrunJson *o, const char *name, const char *fallback)
{
  const char *v = rrun_json_member_string (o, name);

  return g_strdup (v != NULL ? v : fallback);
}

/* An integer member; 0 when absent or not an integer. */
static gint64
int_member (const RrunJson *o, const char *name)
{
  RrunJson *n = rrun_json_member (o, name);

  return n != NULL && rrun_json_type (n) == RRUN_JSON_INT ? rrun_json_int (n) : 0;
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

/* NULL when the file is missing, unreadable or not a record (a container being set up). */
static RrunState *
read_state (const char *record_dir)
{
  g_autofree char *path = g_build_filename (record_dir, RRUN_RECORD_FILE, NULL);
  g_autofree char *text = NULL;
  g_autoptr(RrunJson) o = NULL;
  gsize len;
  RrunState *s;

  if (!g_file_get_contents (path, &text, &len, NULL)
      || (o = rrun_json_parse (text, len, RRUN_JSON_DEFAULT, NULL)) == NULL
      || rrun_json_member (o, "id") == NULL || rrun_json_member (o, "pid") == NULL)
    return NULL;
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
  s->args = strv_member (o, "args");
  s->image_id = string_member (o, "image_id", NULL);
  s->network = string_member (o, "network", NULL);
  s->volumes = strv_member (o, "volumes");
  s->tmpfs = strv_member (o, "tmpfs");
  return s;
}

static gint
by_created (gconstpointer a, gconstpointer b)
{
  const RrunState *x = *(RrunState *const *) a, *y = *(RrunState *const *) b;

  return (x->created > y->created) - (x->created < y->created);
}

gboolean
rrun_state_list (const RrunConfig *config, GPtrArray **out_states, GError **error)
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

      /* The one test of live or stale (rrun_container_gc's too): a record whose lock
         nobody holds belongs to a killed rrun, whatever its state says. */
      if (!rrun_lock_dir_is_held (record_dir))
        continue;
      s = read_state (record_dir);
      if (s != NULL && s->pid > 0)
        g_ptr_array_add (states, s);
      else
        rrun_state_free (s);
    }
  g_ptr_array_sort (states, by_created);
  *out_states = g_steal_pointer (&states);
  return TRUE;
}

gboolean
rrun_state_find (const RrunConfig *config, const char *what, RrunState **out_state,
                 GError **error)
{
  g_autoptr(GPtrArray) states = NULL;
  gint found = -1;
  guint matches = 0;

  if (!rrun_state_list (config, &states, error))
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
    rrun_throw (error, RRUN_ERROR_NOT_FOUND, "no running container \"%s\"", what);
  else if (matches > 1)
    rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                "container \"%s\" is ambiguous: %u running containers match", what, matches);
  if (matches != 1)
    {
      rrun_add_hint (error, "list running containers with: rrun ps");
      return FALSE;
    }
  *out_state = g_ptr_array_steal_index_fast (states, (guint) found);
  return TRUE;
}

gboolean
rrun_container_gc (const RrunConfig *config, RrunStore *store, const RrunIdMap *storage_map,
                   GError **error)
{
  g_autofree char *runs = g_build_filename (config->run_root, "containers", NULL);
  g_autoptr(GDir) d = NULL;
  const char *name;

  /* Records (and their writable layers) whose lock nobody holds... */
  if (!rrun_store_gc_containers (store, storage_map, error))
    return FALSE;
  /* ...then the run dirs of records that are gone: a run dir is made after its record
     and removed before it, so one without a record is stale. */
  d = g_dir_open (runs, 0, NULL);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *record = rrun_record_dir (config, name);
      g_autofree char *run_dir = NULL;

      if (g_file_test (record, G_FILE_TEST_EXISTS))
        continue;
      run_dir = g_build_filename (runs, name, NULL);
      g_debug ("removing the stale run dir %s", run_dir);
      rrun_path_rm_rf (run_dir, NULL);
    }
  return TRUE;
}
