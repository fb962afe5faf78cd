/* The Container Device Interface: specs in JSON or YAML (docs/architecture.md, "Devices
   and GPUs"). A spec names a kind (nvidia.com/gpu) and devices, each with container
   edits: device nodes, mounts, environment and OCI hooks. rrun binds the nodes and
   mounts, sets the environment, does itself what nvidia-ctk's update-ldcache and
   create-symlinks hooks do, and runs every other hook at its hook point. */
#include "device/device.h"
#include "error.h"
#include "util/text-file.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

typedef struct
{
  char *file;
  char *kind;
  RrunJson *root;
} CdiSpec;

struct RrunCdiRegistry
{
  GPtrArray *specs; /* CdiSpec, in load order: a later one wins */
};

static void
spec_free (CdiSpec *s)
{
  g_free (s->file);
  g_free (s->kind);
  rrun_json_free (s->root);
  g_free (s);
}

void
rrun_cdi_registry_free (RrunCdiRegistry *r)
{
  if (r == NULL)
    return;
  g_ptr_array_unref (r->specs);
  g_free (r);
}

/* ---- YAML ---------------------------------------------------------------------------- */

static RrunJson *
yaml_scalar (const yaml_event_t *ev)
{
  const char *v = (const char *) ev->data.scalar.value;
  char *end = NULL;

  if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return rrun_json_new_string (v);
  if (*v == '\0' || strcmp (v, "~") == 0 || strcmp (v, "null") == 0)
    return rrun_json_new_null ();
  if (strcmp (v, "true") == 0 || strcmp (v, "false") == 0)
    return rrun_json_new_bool (*v == 't');
  if (g_ascii_isdigit (*v) || ((*v == '-' || *v == '+') && g_ascii_isdigit (v[1])))
    {
      gint64 n;

      errno = 0;
      /* YAML 1.1: 0644 is octal (a CDI fileMode), 0x1F hexadecimal */
      n = g_ascii_strtoll (v, &end, v[0] == '0' && v[1] != '\0' && v[1] != 'x' ? 8 : 0);
      if (errno == 0 && end && *end == '\0')
        return rrun_json_new_int (n);
    }
  return rrun_json_new_string (v);
}

RrunJson *
rrun_cdi_yaml_to_json (const char *text, gsize len, GError **error)
{
  yaml_parser_t parser;
  g_autoptr(GPtrArray) stack = g_ptr_array_new ();   /* open containers */
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func (g_free); /* per level */
  RrunJson *root = NULL;
  gboolean done = FALSE, ok = TRUE;

  if (!yaml_parser_initialize (&parser))
    {
      rrun_throw (error, RRUN_ERROR_FAILED, "cannot initialise the YAML parser");
      return NULL;
    }
  yaml_parser_set_input_string (&parser, (const unsigned char *) text, len);
  while (!done && ok)
    {
      yaml_event_t ev;
      RrunJson *value = NULL;

      if (!yaml_parser_parse (&parser, &ev))
        {
          rrun_throw (error, RRUN_ERROR_CORRUPT, "line %zu: %s",
                      parser.problem_mark.line + 1,
                      parser.problem ? parser.problem : "invalid YAML");
          ok = FALSE;
          break;
        }
      switch (ev.type)
        {
        case YAML_STREAM_END_EVENT:
        case YAML_DOCUMENT_END_EVENT:
          done = ev.type == YAML_STREAM_END_EVENT || root != NULL;
          break;
        case YAML_ALIAS_EVENT:
          rrun_throw (error, RRUN_ERROR_CORRUPT, "line %zu: YAML aliases are not supported",
                      ev.start_mark.line + 1);
          ok = FALSE;
          break;
        case YAML_SCALAR_EVENT:
          {
            RrunJson *top = stack->len ? stack->pdata[stack->len - 1] : NULL;

            /* In a mapping, a scalar with no pending key is the key. */
            if (top && rrun_json_type (top) == RRUN_JSON_OBJECT
                && keys->pdata[keys->len - 1] == NULL)
              {
                keys->pdata[keys->len - 1] = g_strdup ((const char *) ev.data.scalar.value);
                break;
              }
            value = yaml_scalar (&ev);
            break;
          }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
          value = ev.type == YAML_SEQUENCE_START_EVENT ? rrun_json_new_array ()
                                                       : rrun_json_new_object ();
          break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
          g_ptr_array_remove_index (stack, stack->len - 1);
          g_ptr_array_remove_index (keys, keys->len - 1);
          break;
        default:
          break;
        }
      if (value != NULL)
        {
          RrunJson *top = stack->len ? stack->pdata[stack->len - 1] : NULL;
          gboolean container = rrun_json_type (value) == RRUN_JSON_ARRAY
                               || rrun_json_type (value) == RRUN_JSON_OBJECT;

          if (top == NULL)
            {
              if (root != NULL)
                rrun_json_free (root);
              root = value;
            }
          else if (rrun_json_type (top) == RRUN_JSON_ARRAY)
            rrun_json_array_add (top, value);
          else
            {
              char *key = keys->pdata[keys->len - 1];

              if (key == NULL)
                {
                  rrun_throw (error, RRUN_ERROR_CORRUPT,
                              "line %zu: a mapping key must be a plain value",
                              ev.start_mark.line + 1);
                  rrun_json_free (value);
                  ok = FALSE;
                  yaml_event_delete (&ev);
                  break;
                }
              rrun_json_object_set (top, key, value);
              g_free (key);
              keys->pdata[keys->len - 1] = NULL;
            }
          if (container)
            {
              if (stack->len >= 64)
                {
                  rrun_throw (error, RRUN_ERROR_CORRUPT, "nested more than 64 levels");
                  ok = FALSE;
                }
              g_ptr_array_add (stack, value);
              g_ptr_array_add (keys, NULL);
            }
        }
      yaml_event_delete (&ev);
    }
  yaml_parser_delete (&parser);
  if (!ok || root == NULL)
    {
      if (ok)
        rrun_throw (error, RRUN_ERROR_CORRUPT, "an empty document");
      rrun_json_free (root);
      return NULL;
    }
  return root;
}

/* ---- loading -------------------------------------------------------------------------- */

static gboolean
check_kind (const char *kind)
{
  const char *slash = kind ? strchr (kind, '/') : NULL;
  g_autofree char *probe = NULL;

  if (slash == NULL)
    return FALSE;
  probe = g_strconcat (kind, "=x", NULL);
  return rrun_device_is_cdi_name (probe);
}

static gboolean
bad_spec (GError **error, const char *file, const char *what)
{
  rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid CDI spec \"%s\": %s", file, what);
  rrun_add_hint (error, "fix or remove the file; `nvidia-ctk cdi generate` writes a new one "
                        "for NVIDIA GPUs");
  return FALSE;
}

static gboolean
check_strings (const RrunJson *v)
{
  if (v == NULL)
    return TRUE;
  if (rrun_json_type (v) != RRUN_JSON_ARRAY)
    return FALSE;
  for (guint i = 0; i < rrun_json_size (v); i++)
    if (rrun_json_string (rrun_json_element (v, i)) == NULL)
      return FALSE;
  return TRUE;
}

/* containerEdits' shape; what is in them is checked when a device is used. */
static gboolean
check_edits (const RrunJson *edits, const char *file, const char *where, GError **error)
{
  static const char *const lists[] = { "deviceNodes", "mounts", "hooks", NULL };
  g_autofree char *what = NULL;

  if (edits == NULL)
    return TRUE;
  if (rrun_json_type (edits) != RRUN_JSON_OBJECT)
    {
      what = g_strdup_printf ("%s: containerEdits is not an object", where);
      return bad_spec (error, file, what);
    }
  if (!check_strings (rrun_json_member_value (edits, "env")))
    {
      what = g_strdup_printf ("%s: containerEdits.env is not a list of strings", where);
      return bad_spec (error, file, what);
    }
  for (guint i = 0; lists[i]; i++)
    {
      RrunJson *l = rrun_json_member_value (edits, lists[i]);

      if (l == NULL)
        continue;
      if (rrun_json_type (l) != RRUN_JSON_ARRAY)
        {
          what = g_strdup_printf ("%s: containerEdits.%s is not a list", where, lists[i]);
          return bad_spec (error, file, what);
        }
      for (guint k = 0; k < rrun_json_size (l); k++)
        {
          RrunJson *item = rrun_json_element (l, k);
          const char *need = i == 0 ? "path" : i == 1 ? "containerPath" : "path";

          if (rrun_json_type (item) != RRUN_JSON_OBJECT
              || rrun_json_member_string (item, need) == NULL
              || (i == 1 && rrun_json_member_string (item, "hostPath") == NULL))
            {
              what = g_strdup_printf ("%s: containerEdits.%s[%u] has no %s", where, lists[i],
                                      k, i == 1 && rrun_json_member_string (item, need)
                                             ? "hostPath" : need);
              return bad_spec (error, file, what);
            }
          if (i == 2 && !check_strings (rrun_json_member_value (item, "args")))
            {
              what = g_strdup_printf ("%s: containerEdits.hooks[%u].args is not a list of "
                                      "strings", where, k);
              return bad_spec (error, file, what);
            }
          if (i == 2 && !check_strings (rrun_json_member_value (item, "env")))
            {
              what = g_strdup_printf ("%s: containerEdits.hooks[%u].env is not a list of "
                                      "strings", where, k);
              return bad_spec (error, file, what);
            }
        }
    }
  return TRUE;
}

static gboolean
load_spec (const char *file, CdiSpec **out, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(RrunJson) root = NULL;
  const char *version, *kind;
  RrunJson *devices;
  gsize len;

  if (!rrun_text_file_read (file, "CDI spec", RRUN_TEXT_FILE_MAX_CONFIG,
                            RRUN_TEXT_FILE_DEFAULT, &text, &len, error))
    return FALSE;
  if (g_str_has_suffix (file, ".json"))
    root = rrun_json_parse (text, len, RRUN_JSON_DEFAULT, &local);
  else
    root = rrun_cdi_yaml_to_json (text, len, &local);
  if (root == NULL)
    return bad_spec (error, file, local->message);
  if (rrun_json_type (root) != RRUN_JSON_OBJECT)
    return bad_spec (error, file, "not an object");
  version = rrun_json_member_string (root, "cdiVersion");
  if (version == NULL)
    return bad_spec (error, file, "no cdiVersion");
  if (!g_str_has_prefix (version, "0.") && !g_str_has_prefix (version, "1."))
    {
      g_autofree char *what = g_strdup_printf ("cdiVersion \"%s\" is not supported (0.3.0 "
                                               "to 1.x)", version);
      return bad_spec (error, file, what);
    }
  kind = rrun_json_member_string (root, "kind");
  if (kind == NULL || !check_kind (kind))
    {
      g_autofree char *what = g_strdup_printf ("kind \"%s\" is not vendor.com/class",
                                               kind ? kind : "");
      return bad_spec (error, file, kind ? what : "no kind");
    }
  devices = rrun_json_member_value (root, "devices");
  if (devices == NULL || rrun_json_type (devices) != RRUN_JSON_ARRAY
      || rrun_json_size (devices) == 0)
    return bad_spec (error, file, "no devices");
  for (guint i = 0; i < rrun_json_size (devices); i++)
    {
      RrunJson *d = rrun_json_element (devices, i);
      const char *name = rrun_json_member_string (d, "name");
      g_autofree char *probe = NULL;
      g_autofree char *where = NULL;

      if (name != NULL)
        probe = g_strconcat (kind, "=", name, NULL);
      if (name == NULL || !rrun_device_is_cdi_name (probe))
        {
          g_autofree char *what = g_strdup_printf ("devices[%u]: invalid name \"%s\"", i,
                                                   name ? name : "");
          return bad_spec (error, file, what);
        }
      where = g_strdup_printf ("device \"%s\"", name);
      if (!check_edits (rrun_json_member_value (d, "containerEdits"), file, where, error))
        return FALSE;
    }
  if (!check_edits (rrun_json_member_value (root, "containerEdits"), file, "top level",
                    error))
    return FALSE;
  *out = g_new0 (CdiSpec, 1);
  (*out)->file = g_strdup (file);
  (*out)->kind = g_strdup (kind);
  (*out)->root = g_steal_pointer (&root);
  return TRUE;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

gboolean
rrun_cdi_registry_load (char **dirs, RrunCdiRegistry **out, GError **error)
{
  g_autoptr(RrunCdiRegistry) r = g_new0 (RrunCdiRegistry, 1);

  r->specs = g_ptr_array_new_with_free_func ((GDestroyNotify) spec_free);
  for (guint i = 0; dirs && dirs[i]; i++)
    {
      g_autoptr(GDir) dir = NULL;
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;

      if (*dirs[i] == '\0' || (dir = g_dir_open (dirs[i], 0, NULL)) == NULL)
        continue;
      while ((name = g_dir_read_name (dir)) != NULL)
        if (g_str_has_suffix (name, ".json") || g_str_has_suffix (name, ".yaml")
            || g_str_has_suffix (name, ".yml"))
          g_ptr_array_add (names, g_strdup (name));
      g_ptr_array_sort (names, compare_names);
      for (guint k = 0; k < names->len; k++)
        {
          g_autofree char *file = g_build_filename (dirs[i], names->pdata[k], NULL);
          CdiSpec *s = NULL;

          if (!load_spec (file, &s, error))
            return FALSE;
          g_ptr_array_add (r->specs, s);
        }
    }
  *out = g_steal_pointer (&r);
  return TRUE;
}

gboolean
rrun_cdi_has_kind (const RrunCdiRegistry *r, const char *kind)
{
  for (guint i = 0; i < r->specs->len; i++)
    if (strcmp (((CdiSpec *) r->specs->pdata[i])->kind, kind) == 0)
      return TRUE;
  return FALSE;
}

char **
rrun_cdi_list (const RrunCdiRegistry *r)
{
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; i < r->specs->len; i++)
    {
      CdiSpec *s = r->specs->pdata[i];
      RrunJson *devices = rrun_json_member_value (s->root, "devices");

      for (guint k = 0; k < rrun_json_size (devices); k++)
        g_ptr_array_add (out, g_strdup_printf ("%s=%s (%s)", s->kind,
                                               rrun_json_member_string (
                                                   rrun_json_element (devices, k), "name"),
                                               s->file));
    }
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (out, FALSE);
}

/* ---- applying ------------------------------------------------------------------------- */

/* Items of an optional list: 0 when absent. */
static guint
count (const RrunJson *v)
{
  return v != NULL ? rrun_json_size (v) : 0;
}

static void
add_unique (GPtrArray *list, char *s)
{
  for (guint i = 0; i < list->len; i++)
    if (strcmp (list->pdata[i], s) == 0)
      {
        g_free (s);
        return;
      }
  g_ptr_array_add (list, s);
}

static char **
strv_of (const RrunJson *list)
{
  char **v = g_new0 (char *, count (list) + 1);

  for (guint i = 0; i < count (list); i++)
    v[i] = g_strdup (rrun_json_string (rrun_json_element (list, i)));
  return v;
}

static gboolean
hook_phase (const char *name, RrunHookPhase *out)
{
  if (g_strcmp0 (name, "prestart") == 0)
    {
      *out = RRUN_HOOK_CREATE_RUNTIME; /* deprecated: runs where createRuntime does */
      return TRUE;
    }
  for (int p = 0; p < RRUN_HOOK_N_PHASES; p++)
    if (g_strcmp0 (name, rrun_hook_phase_name ((RrunHookPhase) p)) == 0)
      {
        *out = (RrunHookPhase) p;
        return TRUE;
      }
  return FALSE;
}

/* An OCI hook of the spec. nvidia-ctk's (and nvidia-cdi-hook's) well-known hooks are done
   here, as edits: they read the container's config.json from an OCI bundle, which rrun
   does not make. Every other hook is run at its hook point (container/hooks.c). */
static gboolean
apply_hook (const RrunJson *hook, const CdiSpec *s, const char *device, RrunDeviceEdits *e,
            GError **error)
{
  const char *path = rrun_json_member_string (hook, "path");
  const char *when = rrun_json_member_string (hook, "hookName");
  RrunJson *args = rrun_json_member_value (hook, "args");
  RrunJson *timeout = rrun_json_member_value (hook, "timeout");
  guint n = count (args);
  const char *verb = NULL;
  g_autofree char *base = g_path_get_basename (path);
  gboolean nvidia = strcmp (base, "nvidia-ctk") == 0 || strcmp (base, "nvidia-cdi-hook") == 0;
  RrunHookPhase phase;
  RrunOciHook *h;

  for (guint i = 0; nvidia && i + 1 < n && verb == NULL; i++)
    if (g_strcmp0 (rrun_json_string (rrun_json_element (args, i)), "hook") == 0)
      verb = rrun_json_string (rrun_json_element (args, i + 1));
  if (nvidia && verb == NULL && strcmp (base, "nvidia-cdi-hook") == 0 && n >= 2)
    verb = rrun_json_string (rrun_json_element (args, 1));
  if (g_strcmp0 (verb, "update-ldcache") == 0)
    {
      for (guint i = 0; i + 1 < n; i++)
        if (g_strcmp0 (rrun_json_string (rrun_json_element (args, i)), "--folder") == 0)
          add_unique (e->ld_dirs, g_strdup (rrun_json_string (rrun_json_element (args, i + 1))));
      return TRUE;
    }
  if (g_strcmp0 (verb, "create-symlinks") == 0)
    {
      for (guint i = 0; i + 1 < n; i++)
        if (g_strcmp0 (rrun_json_string (rrun_json_element (args, i)), "--link") == 0)
          {
            const char *link = rrun_json_string (rrun_json_element (args, i + 1));
            const char *sep = strstr (link, "::");

            if (sep != NULL && sep[2] == '/')
              {
                g_ptr_array_add (e->symlinks, g_strndup (link, (gsize) (sep - link)));
                g_ptr_array_add (e->symlinks, g_strdup (sep + 2));
              }
          }
      return TRUE;
    }
  /* chmod makes /dev/dri's directories listable: binds keep the host's modes. */
  if (g_strcmp0 (verb, "chmod") == 0)
    return TRUE;
  if (nvidia)
    {
      add_unique (e->notes,
                  g_strdup_printf ("%s: the %s hook \"%s%s%s\" is not run (it needs an OCI "
                                   "bundle, which rrun does not make)", device,
                                   when ? when : "OCI", path, verb ? " hook " : "",
                                   verb ? verb : ""));
      return TRUE;
    }
  if (!hook_phase (when, &phase))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "cannot use CDI device \"%s\": hook \"%s\" of \"%s\": %s%s%s", device, path,
                  s->file, when ? "unknown hookName \"" : "no hookName", when ? when : "",
                  when ? "\"" : "");
      rrun_add_hint (error, "hookName is one of prestart, createRuntime, createContainer, "
                            "startContainer, poststart, poststop");
      return FALSE;
    }
  if (path[0] != '/'
      || (timeout != NULL
          && (rrun_json_type (timeout) != RRUN_JSON_INT || rrun_json_int (timeout) < 1
              || rrun_json_int (timeout) > 3600)))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "cannot use CDI device \"%s\": hook \"%s\" of \"%s\": %s", device,
                       path, s->file,
                       path[0] != '/' ? "the path is not absolute"
                                      : "timeout is not a number of seconds (1 to 3600)");
  /* Every hook but startContainer's is a host path (the runtime namespace): check it now,
     before anything is made. startContainer's is looked up in the container. */
  if (phase != RRUN_HOOK_START_CONTAINER && access (path, X_OK) < 0)
    {
      int errsv = errno;

      rrun_throw (error, errsv == ENOENT ? RRUN_ERROR_NOT_FOUND : RRUN_ERROR_INVALID_ARGUMENT,
                  "cannot use CDI device \"%s\": %s hook \"%s\" of \"%s\": %s", device,
                  when, path, s->file, g_strerror (errsv));
      rrun_add_hint (error, "the spec may be stale: install the hook's program or fix the spec");
      return FALSE;
    }
  for (guint i = 0; i < e->hooks->len; i++)
    {
      RrunOciHook *o = e->hooks->pdata[i];

      /* the spec's own edits come once per device asked for: once is enough */
      if (o->phase == phase && strcmp (o->path, path) == 0 && strcmp (o->device, device) == 0)
        return TRUE;
    }
  h = g_new0 (RrunOciHook, 1);
  h->phase = phase;
  h->name = g_strdup (when);
  h->path = g_strdup (path);
  h->argv = n > 0 ? strv_of (args) : g_strdupv ((char *[]){ (char *) path, NULL });
  h->env = strv_of (rrun_json_member_value (hook, "env"));
  h->timeout_s = timeout ? (int) rrun_json_int (timeout) : 0;
  h->device = g_strdup (device);
  g_ptr_array_add (e->hooks, h);
  return TRUE;
}

static gboolean
apply_edits (const RrunJson *edits, const CdiSpec *s, const char *device, RrunDeviceEdits *e,
             GError **error)
{
  RrunJson *l;

  if (edits == NULL)
    return TRUE;
  l = rrun_json_member_value (edits, "env");
  for (guint i = 0; i < count (l); i++)
    g_ptr_array_add (e->env, g_strdup (rrun_json_string (rrun_json_element (l, i))));
  l = rrun_json_member_value (edits, "deviceNodes");
  for (guint i = 0; i < count (l); i++)
    {
      RrunJson *n = rrun_json_element (l, i);
      const char *path = rrun_json_member_string (n, "path");
      const char *host = rrun_json_member_string (n, "hostPath");
      struct stat st;

      if (host == NULL)
        host = path;
      if (path[0] != '/' || !rrun_mount_plan_check_target (path, NULL))
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "cannot use CDI device \"%s\": invalid device path \"%s\" in \"%s\"",
                      device, path, s->file);
          return FALSE;
        }
      if (stat (host, &st) < 0 || !(S_ISCHR (st.st_mode) || S_ISBLK (st.st_mode)))
        {
          int errsv = errno;

          rrun_throw (error, RRUN_ERROR_NOT_FOUND,
                      "cannot use CDI device \"%s\": device node \"%s\" of \"%s\": %s", device,
                      host, s->file,
                      errsv == 0 || (stat (host, &st) == 0) ? "not a device node"
                                                            : g_strerror (errsv));
          rrun_add_hint (error, "the spec may be stale: is the driver loaded? "
                                "(nvidia-ctk cdi generate writes a new one)");
          return FALSE;
        }
      rrun_device_edits_add_node (e, host, path);
    }
  l = rrun_json_member_value (edits, "mounts");
  for (guint i = 0; i < count (l); i++)
    {
      RrunJson *m = rrun_json_element (l, i);
      const char *host = rrun_json_member_string (m, "hostPath");
      const char *ctr = rrun_json_member_string (m, "containerPath");
      const char *type = rrun_json_member_string (m, "type");
      RrunJson *opts = rrun_json_member_value (m, "options");
      gboolean ro = FALSE;
      struct stat st;

      for (guint k = 0; k < count (opts); k++)
        if (g_strcmp0 (rrun_json_string (rrun_json_element (opts, k)), "ro") == 0)
          ro = TRUE;
      if (type != NULL && strcmp (type, "bind") != 0)
        {
          add_unique (e->notes, g_strdup_printf ("%s: the %s mount at \"%s\" is skipped (only "
                                                 "binds are applied)", device, type, ctr));
          continue;
        }
      if (!rrun_mount_plan_check_target (ctr, NULL))
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "cannot use CDI device \"%s\": invalid container path \"%s\" in "
                           "\"%s\"", device, ctr, s->file);
      if (stat (host, &st) < 0)
        {
          int errsv = errno;

          rrun_throw (error, RRUN_ERROR_NOT_FOUND,
                      "cannot use CDI device \"%s\": mount source \"%s\" of \"%s\": %s", device,
                      host, s->file, g_strerror (errsv));
          rrun_add_hint (error, "the spec may be stale: nvidia-ctk cdi generate writes a new "
                                "one after a driver update");
          return FALSE;
        }
      rrun_device_edits_add_mount (e, host, ctr, S_ISDIR (st.st_mode), ro);
    }
  l = rrun_json_member_value (edits, "hooks");
  for (guint i = 0; i < count (l); i++)
    if (!apply_hook (rrun_json_element (l, i), s, device, e, error))
      return FALSE;
  if (rrun_json_member_value (edits, "additionalGids") != NULL)
    add_unique (e->notes, g_strdup_printf ("%s: additionalGids are not added (the container "
                                           "keeps the user's groups)", device));
  return TRUE;
}

static RrunJson *
find_device (const CdiSpec *s, const char *name)
{
  RrunJson *devices = rrun_json_member_value (s->root, "devices");

  for (guint k = 0; k < count (devices); k++)
    if (g_strcmp0 (rrun_json_member_string (rrun_json_element (devices, k), "name"), name) == 0)
      return rrun_json_element (devices, k);
  return NULL;
}

static gboolean
apply_device (const CdiSpec *s, const RrunJson *d, RrunDeviceEdits *e, GError **error)
{
  g_autofree char *full = g_strconcat (s->kind, "=", rrun_json_member_string (d, "name"),
                                       NULL);

  /* The spec's own edits are named by its kind: a warning about them is said once, not
     once per device. */
  return apply_edits (rrun_json_member_value (d, "containerEdits"), s, full, e, error)
         && apply_edits (rrun_json_member_value (s->root, "containerEdits"), s, s->kind, e,
                         error);
}

gboolean
rrun_cdi_resolve (const RrunCdiRegistry *r, const char *qualified, const char *what,
                  RrunDeviceEdits *e, GError **error)
{
  const char *eq = strchr (qualified, '=');
  g_autofree char *kind = g_strndup (qualified, (gsize) (eq - qualified));
  const char *name = eq + 1;
  gboolean any_kind = FALSE;

  /* A later spec overrides an earlier one (/var/run/cdi over /etc/cdi). */
  for (guint i = r->specs->len; i > 0; i--)
    {
      const CdiSpec *s = r->specs->pdata[i - 1];
      RrunJson *d;

      if (strcmp (s->kind, kind) != 0)
        continue;
      any_kind = TRUE;
      if ((d = find_device (s, name)) != NULL)
        return apply_device (s, d, e, error);
    }
  if (any_kind && strcmp (name, "all") == 0)
    {
      g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

      for (guint i = r->specs->len; i > 0; i--)
        {
          const CdiSpec *s = r->specs->pdata[i - 1];
          RrunJson *devices = rrun_json_member_value (s->root, "devices");

          if (strcmp (s->kind, kind) != 0)
            continue;
          for (guint k = 0; k < count (devices); k++)
            {
              RrunJson *d = rrun_json_element (devices, k);
              const char *n = rrun_json_member_string (d, "name");

              if (!g_hash_table_add (seen, (gpointer) n))
                continue;
              if (!apply_device (s, d, e, error))
                return FALSE;
            }
        }
      return TRUE;
    }
  if (!any_kind)
    {
      rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot use %s \"%s\": no CDI spec for %s",
                  what, qualified, kind);
      if (g_str_has_prefix (kind, "nvidia.com/"))
        rrun_add_hint (error, "an administrator can write one: nvidia-ctk cdi generate "
                              "--output=/etc/cdi/nvidia.yaml");
      rrun_add_hint (error, "rrun reads CDI specs from $RRUN_CDI_SPEC_DIRS, rrun.conf's "
                            "cdi_spec_dirs, or /etc/cdi and /var/run/cdi");
      return FALSE;
    }
  {
    g_autoptr(GString) names = g_string_new (NULL);
    const char *file = NULL;

    for (guint i = 0; i < r->specs->len; i++)
      {
        const CdiSpec *s = r->specs->pdata[i];
        RrunJson *devices = rrun_json_member_value (s->root, "devices");

        if (strcmp (s->kind, kind) != 0)
          continue;
        file = s->file;
        for (guint k = 0; k < count (devices) && names->len < 200; k++)
          g_string_append_printf (names, "%s%s", names->len ? ", " : "",
                                  rrun_json_member_string (rrun_json_element (devices, k),
                                                           "name"));
      }
    rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot use %s \"%s\": no device \"%s\" in %s",
                what, qualified, name, file);
    rrun_add_hint (error, "%s has: %s", kind, names->str);
    return FALSE;
  }
}
