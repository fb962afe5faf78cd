#include "storage/image-info.h"
#include "error.h"
#include "util/text-file.h"
#include "storage/names.h"

#include <string.h>

static gboolean
corrupt (GError **error, const char *path, const char *field, const char *expected)
{
  rrun_throw (error, RRUN_ERROR_CORRUPT, "invalid image config \"%s\": %s: expected %s", path,
              field, expected);
  rrun_add_hint (error, "remove the image with 'rrun rmi -f' and import or pull it again");
  return FALSE;
}

/* The config blob, a JSON object. */
static gboolean
load_config (const RrunImage *image, RrunJson **out_root, GError **error)
{
  g_autofree char *text = NULL;
  gsize len;
  g_autoptr (GError) local = NULL;
  g_autoptr (RrunJson) root = NULL;

  if (image->config_path == NULL)
    return rrun_throw (error, RRUN_ERROR_FAILED, "image %.12s has no config file", image->id);
  if (!rrun_text_file_read (image->config_path, "image config", RRUN_TEXT_FILE_MAX_CONFIG,
                            RRUN_TEXT_FILE_DEFAULT, &text, &len, &local)
      || (root = rrun_json_parse (text, len, RRUN_JSON_DEFAULT, &local)) == NULL)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot read image config \"%s\": %s",
                       image->config_path, local->message);
  if (rrun_json_type (root) != RRUN_JSON_OBJECT)
    return corrupt (error, image->config_path, "the file", "a JSON object");
  *out_root = g_steal_pointer (&root);
  return TRUE;
}

static const char *
type_name (RrunJsonType type)
{
  switch (type)
    {
    case RRUN_JSON_OBJECT:
      return "an object";
    case RRUN_JSON_ARRAY:
      return "an array";
    case RRUN_JSON_BOOL:
      return "a boolean";
    default:
      return "a string";
    }
}

/* An optional member: NULL when absent or null; of the JSON type wanted, else an error. */
static gboolean
optional_member (const RrunJson *o, const char *name, RrunJsonType type, const char *path,
                 const RrunJson **out, GError **error)
{
  const RrunJson *n = rrun_json_member_value (o, name);

  *out = NULL;
  if (n == NULL)
    return TRUE;
  if (rrun_json_type (n) != type)
    return corrupt (error, path, name, type_name (type));
  *out = n;
  return TRUE;
}

static const char *
string_or (const RrunJson *n, const char *fallback)
{
  return n ? rrun_json_string (n) : fallback;
}

/* A copy of v; for a NULL v, an empty value of type empty: inspect shows missing Labels
   as null, but Config, Layers and History always as an object or array. */
static void
add_copy (RrunJsonBuilder *b, const char *name, const RrunJson *v, RrunJsonType empty)
{
  RrunJson *value;

  if (v)
    value = rrun_json_copy (v);
  else if (empty == RRUN_JSON_ARRAY)
    value = rrun_json_new_array ();
  else if (empty == RRUN_JSON_OBJECT)
    value = rrun_json_new_object ();
  else
    value = rrun_json_new_null ();
  rrun_json_builder_set_member_name (b, name);
  rrun_json_builder_add_value (b, value);
}

RrunJson *
rrun_image_info_inspect (const RrunImage *image, GError **error)
{
  g_autoptr (RrunJson) cfg = NULL;
  g_autoptr (RrunJsonBuilder) b = rrun_json_builder_new ();
  g_autoptr (GPtrArray) repo_digests = g_ptr_array_new_with_free_func (g_free);
  const RrunJson *created, *config, *author, *comment, *version, *variant, *rootfs, *history;
  const RrunJson *labels = NULL, *user = NULL, *diff_ids = NULL;
  const char *path = image->config_path;

  if (!load_config (image, &cfg, error))
    return NULL;
  if (!optional_member (cfg, "created", RRUN_JSON_STRING, path, &created, error)
      || !optional_member (cfg, "config", RRUN_JSON_OBJECT, path, &config, error)
      || !optional_member (cfg, "author", RRUN_JSON_STRING, path, &author, error)
      || !optional_member (cfg, "comment", RRUN_JSON_STRING, path, &comment, error)
      || !optional_member (cfg, "docker_version", RRUN_JSON_STRING, path, &version, error)
      || !optional_member (cfg, "variant", RRUN_JSON_STRING, path, &variant, error)
      || !optional_member (cfg, "rootfs", RRUN_JSON_OBJECT, path, &rootfs, error)
      || !optional_member (cfg, "history", RRUN_JSON_ARRAY, path, &history, error))
    return NULL;
  if (config
      && (!optional_member (config, "Labels", RRUN_JSON_OBJECT, path, &labels, error)
          || !optional_member (config, "User", RRUN_JSON_STRING, path, &user, error)))
    return NULL;
  if (rootfs && !optional_member (rootfs, "diff_ids", RRUN_JSON_ARRAY, path, &diff_ids, error))
    return NULL;
  /* repository@digest for each repository the image is named in, as podman. */
  for (guint i = 0; image->digest && image->names[i]; i++)
    {
      g_autofree char *repo = NULL, *tag = NULL;
      g_autofree char *rd = NULL;

      rrun_names_split (image->names[i], &repo, &tag);
      rd = g_strconcat (repo, "@", image->digest, NULL);
      if (!g_ptr_array_find_with_equal_func (repo_digests, rd, g_str_equal, NULL))
        g_ptr_array_add (repo_digests, g_steal_pointer (&rd));
    }
  g_ptr_array_add (repo_digests, NULL);

  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "Id", image->id);
  rrun_json_builder_member_string (b, "Digest", image->digest ? image->digest : "");
  rrun_json_builder_member_strv (b, "RepoTags", (const char *const *)image->names);
  rrun_json_builder_member_strv (b, "RepoDigests", (const char *const *)repo_digests->pdata);
  rrun_json_builder_member_string (b, "Created", string_or (created, NULL));
  add_copy (b, "Config", config, RRUN_JSON_OBJECT);
  rrun_json_builder_member_string (b, "Version", string_or (version, ""));
  rrun_json_builder_member_string (b, "Author", string_or (author, ""));
  rrun_json_builder_member_string (b, "Comment", string_or (comment, ""));
  rrun_json_builder_member_string (b, "Architecture",
                                   image->architecture ? image->architecture : "");
  rrun_json_builder_member_string (b, "Os", image->os ? image->os : "");
  if (variant)
    rrun_json_builder_member_string (b, "Variant", rrun_json_string (variant));
  rrun_json_builder_member_int (b, "Size", (gint64)image->size);
  rrun_json_builder_member_int (b, "VirtualSize", (gint64)image->size);
  add_copy (b, "Labels", labels, RRUN_JSON_NULL);
  rrun_json_builder_member_string (b, "User", string_or (user, ""));
  rrun_json_builder_set_member_name (b, "RootFS");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "Type", "layers");
  add_copy (b, "Layers", diff_ids, RRUN_JSON_ARRAY);
  rrun_json_builder_end_object (b);
  add_copy (b, "History", history, RRUN_JSON_ARRAY);
  rrun_json_builder_end_object (b);
  return rrun_json_builder_get_root (b);
}

void
rrun_history_entry_clear (RrunHistoryEntry *e)
{
  g_clear_pointer (&e->created_by, g_free);
  g_clear_pointer (&e->comment, g_free);
}

static gint64
parse_time (const char *text)
{
  g_autoptr (GDateTime) dt = text ? g_date_time_new_from_iso8601 (text, NULL) : NULL;

  return dt ? g_date_time_to_unix (dt) : 0;
}

gboolean
rrun_image_info_history (const RrunImage *image, GArray **out_entries, GError **error)
{
  g_autoptr (RrunJson) cfg = NULL;
  g_autoptr (GArray) entries = g_array_new (FALSE, TRUE, sizeof (RrunHistoryEntry));
  const char *path = image->config_path;
  const RrunJson *history;
  guint layer = 0;

  g_array_set_clear_func (entries, (GDestroyNotify)rrun_history_entry_clear);
  if (!load_config (image, &cfg, error)
      || !optional_member (cfg, "history", RRUN_JSON_ARRAY, path, &history, error))
    return FALSE;
  for (guint i = 0; history && i < rrun_json_size (history); i++)
    {
      const RrunJson *item = rrun_json_element (history, i);
      const RrunJson *created, *by, *comment, *empty;
      RrunHistoryEntry e = { 0 };

      if (rrun_json_type (item) != RRUN_JSON_OBJECT)
        return corrupt (error, path, "history", "an array of objects");
      if (!optional_member (item, "created", RRUN_JSON_STRING, path, &created, error)
          || !optional_member (item, "created_by", RRUN_JSON_STRING, path, &by, error)
          || !optional_member (item, "comment", RRUN_JSON_STRING, path, &comment, error)
          || !optional_member (item, "empty_layer", RRUN_JSON_BOOL, path, &empty, error))
        return FALSE;
      e.created = parse_time (string_or (created, NULL));
      e.created_by = g_strdup (string_or (by, ""));
      e.comment = g_strdup (string_or (comment, ""));
      e.empty_layer = empty && rrun_json_int (empty);
      /* Each step that made a layer owns the next layer, bottom first. */
      if (!e.empty_layer && layer < image->layer_sizes->len)
        e.size = g_array_index (image->layer_sizes, guint64, layer++);
      g_array_append_val (entries, e);
    }
  if (entries->len == 0)
    for (guint i = 0; i < image->layer_sizes->len; i++)
      {
        RrunHistoryEntry e = { g_strdup (""), g_strdup (""), image->created,
                               g_array_index (image->layer_sizes, guint64, i), FALSE };
        g_array_append_val (entries, e);
      }
  /* Newest first. */
  for (guint i = 0; i < entries->len / 2; i++)
    {
      RrunHistoryEntry *a = &g_array_index (entries, RrunHistoryEntry, i);
      RrunHistoryEntry *z = &g_array_index (entries, RrunHistoryEntry, entries->len - 1 - i);
      RrunHistoryEntry t = *a;
      *a = *z;
      *z = t;
    }
  *out_entries = g_steal_pointer (&entries);
  return TRUE;
}
