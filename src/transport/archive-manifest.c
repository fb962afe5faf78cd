/* manifest.json and index.json: every field type-checked where it enters. */
#include "transport/archive-manifest.h"
#include "error.h"
#include "layer.h"
#include "registry/reference.h"

#include <json-glib/json-glib.h>
#include <string.h>

void
rrun_docker_archive_image_free (RrunDockerArchiveImage *image)
{
  if (image == NULL)
    return;
  g_free (image->config);
  g_strfreev (image->repo_tags);
  g_strfreev (image->layers);
  g_free (image);
}

void
rrun_oci_index_entry_free (RrunOciIndexEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->media_type);
  g_free (entry->digest);
  g_free (entry->name);
  g_free (entry);
}

static gboolean
bad (GError **error, const char *source, const char *where, const char *expected)
{
  return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: %s: expected %s", source, where, expected);
}

static gboolean
load_root (const char *data, gsize len, const char *source, JsonParser *parser, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (len > RRUN_ARCHIVE_INDEX_MAX_SIZE)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s is too large (%" G_GSIZE_FORMAT " bytes)",
                       source, len);
  if (!json_parser_load_from_data (parser, data, (gssize)len, &local))
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: %s", source, local->message);
  if (json_parser_get_root (parser) == NULL)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: empty", source);
  return TRUE;
}

/* A member path: relative, inside the archive; returned cleaned ("./a//b" -> "a/b"). */
static gboolean
member_path (JsonNode *n, const char *source, const char *where, char **out, GError **error)
{
  g_autoptr (GError) local = NULL;
  char *clean;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return bad (error, source, where, "a string");
  clean = rrun_layer_clean_path (json_node_get_string (n), &local);
  if (clean == NULL || *clean == '\0')
    {
      g_free (clean);
      return rrun_throw (error, RRUN_ERROR_CORRUPT,
                         "%s: %s: \"%s\" is not a path inside the "
                         "archive",
                         source, where, json_node_get_string (n));
    }
  *out = clean;
  return TRUE;
}

static gboolean
string_array (JsonNode *n, const char *source, const char *where, gboolean paths, guint max,
              GStrv *out, GError **error)
{
  g_autoptr (GPtrArray) v = g_ptr_array_new_with_free_func (g_free);
  JsonArray *a;

  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    {
      *out = g_new0 (char *, 1);
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_ARRAY (n))
    return bad (error, source, where, "an array of strings");
  a = json_node_get_array (n);
  if (json_array_get_length (a) > max)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: %s: %u entries, at most %u allowed", source,
                       where, json_array_get_length (a), max);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      g_autofree char *w = g_strdup_printf ("%s[%u]", where, i);
      char *s = NULL;

      if (paths)
        {
          if (!member_path (e, source, w, &s, error))
            return FALSE;
        }
      else if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
        return bad (error, source, w, "a string");
      else
        s = g_strdup (json_node_get_string (e));
      g_ptr_array_add (v, s);
    }
  g_ptr_array_add (v, NULL);
  *out = (GStrv)g_ptr_array_free (g_steal_pointer (&v), FALSE);
  return TRUE;
}

gboolean
rrun_docker_archive_parse_manifest (const char *data, gsize len, GPtrArray **out_images,
                                    GError **error)
{
  const char *source = "manifest.json";
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GPtrArray) images
      = g_ptr_array_new_with_free_func ((GDestroyNotify)rrun_docker_archive_image_free);
  JsonNode *root;
  JsonArray *a;

  if (!load_root (data, len, source, parser, error))
    return FALSE;
  root = json_parser_get_root (parser);
  if (!JSON_NODE_HOLDS_ARRAY (root))
    return bad (error, source, "the file", "an array of images");
  a = json_node_get_array (root);
  if (json_array_get_length (a) == 0)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s lists no image", source);
  if (json_array_get_length (a) > RRUN_ARCHIVE_MAX_IMAGES)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s lists %u images, at most %u allowed", source,
                       json_array_get_length (a), RRUN_ARCHIVE_MAX_IMAGES);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      g_autoptr (RrunDockerArchiveImage) img = g_new0 (RrunDockerArchiveImage, 1);
      g_autofree char *wc = g_strdup_printf ("[%u].Config", i);
      g_autofree char *wt = g_strdup_printf ("[%u].RepoTags", i);
      g_autofree char *wl = g_strdup_printf ("[%u].Layers", i);
      JsonObject *o;

      if (!JSON_NODE_HOLDS_OBJECT (e))
        {
          g_autofree char *w = g_strdup_printf ("[%u]", i);
          return bad (error, source, w, "an object");
        }
      o = json_node_get_object (e);
      if (!member_path (json_object_get_member (o, "Config"), source, wc, &img->config, error)
          || !string_array (json_object_get_member (o, "RepoTags"), source, wt, FALSE, 256,
                            &img->repo_tags, error)
          || !string_array (json_object_get_member (o, "Layers"), source, wl, TRUE,
                            RRUN_ARCHIVE_MAX_LAYERS, &img->layers, error))
        return FALSE;
      if (json_object_get_member (o, "Layers") == NULL)
        return bad (error, source, wl, "an array of strings");
      g_ptr_array_add (images, g_steal_pointer (&img));
    }
  *out_images = g_steal_pointer (&images);
  return TRUE;
}

static const char *
annotation (JsonObject *o, const char *key)
{
  JsonNode *an = json_object_get_member (o, "annotations");
  JsonNode *v;

  if (an == NULL || !JSON_NODE_HOLDS_OBJECT (an))
    return NULL;
  v = json_object_get_member (json_node_get_object (an), key);
  if (v == NULL || !JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (v);
}

gboolean
rrun_oci_index_parse (const char *data, gsize len, GPtrArray **out_entries, GError **error)
{
  const char *source = "index.json";
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GPtrArray) entries
      = g_ptr_array_new_with_free_func ((GDestroyNotify)rrun_oci_index_entry_free);
  JsonNode *root, *n;
  JsonObject *o;
  JsonArray *a;

  if (!load_root (data, len, source, parser, error))
    return FALSE;
  root = json_parser_get_root (parser);
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return bad (error, source, "the file", "an object");
  o = json_node_get_object (root);
  n = json_object_get_member (o, "schemaVersion");
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64
      || json_node_get_int (n) != 2)
    return bad (error, source, "schemaVersion", "2");
  n = json_object_get_member (o, "manifests");
  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n))
    return bad (error, source, "manifests", "an array");
  a = json_node_get_array (n);
  if (json_array_get_length (a) > RRUN_ARCHIVE_MAX_IMAGES)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s lists %u manifests, at most %u allowed",
                       source, json_array_get_length (a), RRUN_ARCHIVE_MAX_IMAGES);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      g_autoptr (RrunOciIndexEntry) entry = g_new0 (RrunOciIndexEntry, 1);
      g_autofree char *w = g_strdup_printf ("manifests[%u]", i);
      JsonObject *d;
      JsonNode *f;
      const char *name;

      if (!JSON_NODE_HOLDS_OBJECT (e))
        return bad (error, source, w, "an object");
      d = json_node_get_object (e);
      f = json_object_get_member (d, "mediaType");
      if (f == NULL || !JSON_NODE_HOLDS_VALUE (f) || json_node_get_value_type (f) != G_TYPE_STRING)
        {
          g_autofree char *wm = g_strconcat (w, ".mediaType", NULL);
          return bad (error, source, wm, "a string");
        }
      entry->media_type = g_strdup (json_node_get_string (f));
      f = json_object_get_member (d, "digest");
      if (f == NULL || !JSON_NODE_HOLDS_VALUE (f) || json_node_get_value_type (f) != G_TYPE_STRING)
        {
          g_autofree char *wd = g_strconcat (w, ".digest", NULL);
          return bad (error, source, wd, "a string");
        }
      if (!rrun_digest_validate (json_node_get_string (f), "digest", error))
        {
          g_prefix_error (error, "%s: %s: ", source, w);
          return FALSE;
        }
      entry->digest = g_strdup (json_node_get_string (f));
      f = json_object_get_member (d, "size");
      if (f == NULL || !JSON_NODE_HOLDS_VALUE (f) || json_node_get_value_type (f) != G_TYPE_INT64
          || json_node_get_int (f) < 0)
        {
          g_autofree char *ws = g_strconcat (w, ".size", NULL);
          return bad (error, source, ws, "a non-negative integer");
        }
      entry->size = json_node_get_int (f);
      name = annotation (d, "io.containerd.image.name");
      /* ref.name is a full name as podman and skopeo write it ("localhost/x:1"), or only a
         tag as the OCI spec's own examples and containerd have it ("latest"): a tag alone
         names no repository, so such an image loads untagged. */
      if (name == NULL)
        {
          name = annotation (d, "org.opencontainers.image.ref.name");
          if (name && !strchr (name, '/') && !strchr (name, ':'))
            name = NULL;
        }
      entry->name = g_strdup (name);
      g_ptr_array_add (entries, g_steal_pointer (&entry));
    }
  *out_entries = g_steal_pointer (&entries);
  return TRUE;
}

char *
rrun_oci_blob_path (const char *digest)
{
  return g_strconcat ("blobs/sha256/", digest + strlen ("sha256:"), NULL);
}

char *
rrun_archive_normalize_name (const char *tag)
{
  g_autoptr (RrunReference) ref = NULL;
  g_autoptr (RrunReference) full = NULL;

  if (tag == NULL || !rrun_reference_parse (tag, &ref, NULL) || ref->digest != NULL)
    return NULL;
  full = rrun_reference_qualify (ref, RRUN_DOCKER_IO);
  return rrun_reference_to_string (full);
}
