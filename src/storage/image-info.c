#include "storage/image-info.h"
#include "error.h"
#include "storage/names.h"
#include "util/json.h"

#include <string.h>

static gboolean
corrupt (GError **error, const char *path, const char *field, const char *expected)
{
  rrun_throw (error, RRUN_ERROR_CORRUPT, "invalid image config \"%s\": %s: expected %s", path,
              field, expected);
  rrun_add_hint (error, "remove the image with 'rrun rmi -f' and import or pull it again");
  return FALSE;
}

/* The config blob as a JSON object. */
static gboolean
load_config (const RrunImage *image, JsonParser **out_parser, JsonObject **out_root, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  JsonNode *root;

  if (image->config_path == NULL)
    return rrun_throw (error, RRUN_ERROR_FAILED, "image %.12s has no config file", image->id);
  if (!json_parser_load_from_file (parser, image->config_path, &local))
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot read image config \"%s\": %s",
                       image->config_path, local->message);
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return corrupt (error, image->config_path, "the file", "a JSON object");
  *out_root = json_node_get_object (root);
  *out_parser = g_steal_pointer (&parser);
  return TRUE;
}

/* An optional member: NULL when absent or null; of the JSON type wanted, else an error. */
static gboolean
optional_member (JsonObject *o, const char *name, JsonNodeType type, GType value_type,
                 const char *path, JsonNode **out, GError **error)
{
  JsonNode *n = json_object_get_member (o, name);

  *out = NULL;
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (json_node_get_node_type (n) != type
      || (type == JSON_NODE_VALUE && json_node_get_value_type (n) != value_type))
    return corrupt (error, path, name,
                    type == JSON_NODE_OBJECT       ? "an object"
                    : type == JSON_NODE_ARRAY      ? "an array"
                    : value_type == G_TYPE_BOOLEAN ? "a boolean"
                                                   : "a string");
  *out = n;
  return TRUE;
}

static const char *
string_or (JsonNode *n, const char *fallback)
{
  return n ? json_node_get_string (n) : fallback;
}

/* A copy of node, or an empty array or object of the type inspect always shows. */
static void
add_or_empty (JsonBuilder *b, const char *name, JsonNode *node, JsonNodeType empty)
{
  json_builder_set_member_name (b, name);
  if (node)
    json_builder_add_value (b, json_node_copy (node));
  else if (empty == JSON_NODE_ARRAY)
    json_builder_end_array (json_builder_begin_array (b));
  else
    json_builder_end_object (json_builder_begin_object (b));
}

JsonNode *
rrun_image_info_inspect (const RrunImage *image, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GPtrArray) repo_digests = g_ptr_array_new_with_free_func (g_free);
  JsonObject *cfg;
  JsonNode *created, *config, *author, *comment, *version, *variant, *rootfs, *history;
  JsonNode *labels = NULL, *user = NULL, *diff_ids = NULL;
  const char *path = image->config_path;

  if (!load_config (image, &parser, &cfg, error))
    return NULL;
  if (!optional_member (cfg, "created", JSON_NODE_VALUE, G_TYPE_STRING, path, &created, error)
      || !optional_member (cfg, "config", JSON_NODE_OBJECT, 0, path, &config, error)
      || !optional_member (cfg, "author", JSON_NODE_VALUE, G_TYPE_STRING, path, &author, error)
      || !optional_member (cfg, "comment", JSON_NODE_VALUE, G_TYPE_STRING, path, &comment, error)
      || !optional_member (cfg, "docker_version", JSON_NODE_VALUE, G_TYPE_STRING, path, &version,
                           error)
      || !optional_member (cfg, "variant", JSON_NODE_VALUE, G_TYPE_STRING, path, &variant, error)
      || !optional_member (cfg, "rootfs", JSON_NODE_OBJECT, 0, path, &rootfs, error)
      || !optional_member (cfg, "history", JSON_NODE_ARRAY, 0, path, &history, error))
    return NULL;
  if (config
      && (!optional_member (json_node_get_object (config), "Labels", JSON_NODE_OBJECT, 0, path,
                            &labels, error)
          || !optional_member (json_node_get_object (config), "User", JSON_NODE_VALUE,
                               G_TYPE_STRING, path, &user, error)))
    return NULL;
  if (rootfs
      && !optional_member (json_node_get_object (rootfs), "diff_ids", JSON_NODE_ARRAY, 0, path,
                           &diff_ids, error))
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

  json_builder_begin_object (b);
  rrun_json_add_string (b, "Id", image->id);
  rrun_json_add_string (b, "Digest", image->digest ? image->digest : "");
  rrun_json_add_strv (b, "RepoTags", (const char *const *)image->names);
  rrun_json_add_strv (b, "RepoDigests", (const char *const *)repo_digests->pdata);
  rrun_json_add_string (b, "Created", string_or (created, NULL));
  add_or_empty (b, "Config", config, JSON_NODE_OBJECT);
  rrun_json_add_string (b, "Version", string_or (version, ""));
  rrun_json_add_string (b, "Author", string_or (author, ""));
  rrun_json_add_string (b, "Comment", string_or (comment, ""));
  rrun_json_add_string (b, "Architecture", image->architecture ? image->architecture : "");
  rrun_json_add_string (b, "Os", image->os ? image->os : "");
  if (variant)
    rrun_json_add_string (b, "Variant", json_node_get_string (variant));
  rrun_json_add_int (b, "Size", (gint64)image->size);
  rrun_json_add_int (b, "VirtualSize", (gint64)image->size);
  rrun_json_add_node (b, "Labels", labels);
  rrun_json_add_string (b, "User", string_or (user, ""));
  json_builder_set_member_name (b, "RootFS");
  json_builder_begin_object (b);
  rrun_json_add_string (b, "Type", "layers");
  add_or_empty (b, "Layers", diff_ids, JSON_NODE_ARRAY);
  json_builder_end_object (b);
  add_or_empty (b, "History", history, JSON_NODE_ARRAY);
  json_builder_end_object (b);
  return json_builder_get_root (b);
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
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GArray) entries = g_array_new (FALSE, TRUE, sizeof (RrunHistoryEntry));
  const char *path = image->config_path;
  JsonObject *cfg;
  JsonNode *history;
  guint layer = 0;

  g_array_set_clear_func (entries, (GDestroyNotify)rrun_history_entry_clear);
  if (!load_config (image, &parser, &cfg, error)
      || !optional_member (cfg, "history", JSON_NODE_ARRAY, 0, path, &history, error))
    return FALSE;
  for (guint i = 0; history && i < json_array_get_length (json_node_get_array (history)); i++)
    {
      JsonNode *item = json_array_get_element (json_node_get_array (history), i);
      JsonNode *created, *by, *comment, *empty;
      RrunHistoryEntry e = { 0 };
      JsonObject *o;

      if (!JSON_NODE_HOLDS_OBJECT (item))
        return corrupt (error, path, "history", "an array of objects");
      o = json_node_get_object (item);
      if (!optional_member (o, "created", JSON_NODE_VALUE, G_TYPE_STRING, path, &created, error)
          || !optional_member (o, "created_by", JSON_NODE_VALUE, G_TYPE_STRING, path, &by, error)
          || !optional_member (o, "comment", JSON_NODE_VALUE, G_TYPE_STRING, path, &comment, error)
          || !optional_member (o, "empty_layer", JSON_NODE_VALUE, G_TYPE_BOOLEAN, path, &empty,
                               error))
        return FALSE;
      e.created = parse_time (string_or (created, NULL));
      e.created_by = g_strdup (string_or (by, ""));
      e.comment = g_strdup (string_or (comment, ""));
      e.empty_layer = empty && json_node_get_boolean (empty);
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
