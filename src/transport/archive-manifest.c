/* manifest.json and index.json: every field type-checked where it enters. */
#include "transport/archive-manifest.h"
#include "error.h"
#include "image/layer.h"
#include "registry/reference.h"
#include "util/json-value.h"

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
  g_free (entry->ref_name);
  g_free (entry);
}

static gboolean
bad (GError **error, const char *source, const char *where, const char *expected)
{
  return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: %s: expected %s", source, where, expected);
}

static gboolean
load_root (const char *data, gsize len, const char *source, RrunJson **out_root,
           GError **error)
{
  g_autoptr (GError) local = NULL;

  if (len > RRUN_ARCHIVE_INDEX_MAX_SIZE)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s is too large (%" G_GSIZE_FORMAT " bytes)",
                       source, len);
  /* Said apart from other bad JSON: an empty file is the likelier mistake. */
  if (rrun_json_text_is_blank (data, len))
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: empty", source);
  if ((*out_root = rrun_json_parse (data, len, RRUN_JSON_DEFAULT, &local)) == NULL)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: %s", source, local->message);
  return TRUE;
}

/* A member's string, NULL when absent or of another type. */
static const char *
string_of (const RrunJson *n)
{
  return n != NULL ? rrun_json_string (n) : NULL;
}

/* A member path: relative, inside the archive; returned cleaned ("./a//b" -> "a/b"). */
static gboolean
member_path (const RrunJson *n, const char *source, const char *where, char **out,
             GError **error)
{
  g_autoptr (GError) local = NULL;
  const char *value = string_of (n);
  char *clean;

  if (value == NULL)
    return bad (error, source, where, "a string");
  clean = rrun_layer_clean_path (value, &local);
  if (clean == NULL || *clean == '\0')
    {
      g_free (clean);
      return rrun_throw (error, RRUN_ERROR_CORRUPT,
                         "%s: %s: \"%s\" is not a path inside the "
                         "archive",
                         source, where, value);
    }
  *out = clean;
  return TRUE;
}

static gboolean
string_array (const RrunJson *n, const char *source, const char *where, gboolean paths,
              guint max, GStrv *out, GError **error)
{
  g_autoptr (GPtrArray) v = g_ptr_array_new_with_free_func (g_free);

  if (n == NULL || rrun_json_type (n) == RRUN_JSON_NULL)
    {
      *out = g_new0 (char *, 1);
      return TRUE;
    }
  if (rrun_json_type (n) != RRUN_JSON_ARRAY)
    return bad (error, source, where, "an array of strings");
  if (rrun_json_size (n) > max)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: %s: %u entries, at most %u allowed", source,
                       where, rrun_json_size (n), max);
  for (guint i = 0; i < rrun_json_size (n); i++)
    {
      const RrunJson *e = rrun_json_element (n, i);
      g_autofree char *w = g_strdup_printf ("%s[%u]", where, i);
      char *s = NULL;

      if (paths)
        {
          if (!member_path (e, source, w, &s, error))
            return FALSE;
        }
      else if (string_of (e) == NULL)
        return bad (error, source, w, "a string");
      else
        s = g_strdup (string_of (e));
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
  g_autoptr (RrunJson) root = NULL;
  g_autoptr (GPtrArray) images
      = g_ptr_array_new_with_free_func ((GDestroyNotify)rrun_docker_archive_image_free);

  if (!load_root (data, len, source, &root, error))
    return FALSE;
  if (rrun_json_type (root) != RRUN_JSON_ARRAY)
    return bad (error, source, "the file", "an array of images");
  if (rrun_json_size (root) == 0)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s lists no image", source);
  if (rrun_json_size (root) > RRUN_ARCHIVE_MAX_IMAGES)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s lists %u images, at most %u allowed", source,
                       rrun_json_size (root), RRUN_ARCHIVE_MAX_IMAGES);
  for (guint i = 0; i < rrun_json_size (root); i++)
    {
      const RrunJson *o = rrun_json_element (root, i);
      g_autoptr (RrunDockerArchiveImage) img = g_new0 (RrunDockerArchiveImage, 1);
      g_autofree char *wc = g_strdup_printf ("[%u].Config", i);
      g_autofree char *wt = g_strdup_printf ("[%u].RepoTags", i);
      g_autofree char *wl = g_strdup_printf ("[%u].Layers", i);

      if (rrun_json_type (o) != RRUN_JSON_OBJECT)
        {
          g_autofree char *w = g_strdup_printf ("[%u]", i);
          return bad (error, source, w, "an object");
        }
      if (!member_path (rrun_json_member (o, "Config"), source, wc, &img->config, error)
          || !string_array (rrun_json_member (o, "RepoTags"), source, wt, FALSE, 256,
                            &img->repo_tags, error)
          || !string_array (rrun_json_member (o, "Layers"), source, wl, TRUE,
                            RRUN_ARCHIVE_MAX_LAYERS, &img->layers, error))
        return FALSE;
      if (rrun_json_member (o, "Layers") == NULL)
        return bad (error, source, wl, "an array of strings");
      g_ptr_array_add (images, g_steal_pointer (&img));
    }
  *out_images = g_steal_pointer (&images);
  return TRUE;
}

static const char *
annotation (const RrunJson *o, const char *key)
{
  /* NULL when annotations is absent or not an object, or key not a string in it. */
  return rrun_json_member_string (rrun_json_member (o, "annotations"), key);
}

gboolean
rrun_oci_index_parse (const char *data, gsize len, GPtrArray **out_entries, GError **error)
{
  const char *source = "index.json";
  g_autoptr (RrunJson) root = NULL;
  g_autoptr (GPtrArray) entries
      = g_ptr_array_new_with_free_func ((GDestroyNotify)rrun_oci_index_entry_free);
  const RrunJson *n;

  if (!load_root (data, len, source, &root, error))
    return FALSE;
  if (rrun_json_type (root) != RRUN_JSON_OBJECT)
    return bad (error, source, "the file", "an object");
  n = rrun_json_member (root, "schemaVersion");
  if (n == NULL || rrun_json_type (n) != RRUN_JSON_INT || rrun_json_int (n) != 2)
    return bad (error, source, "schemaVersion", "2");
  n = rrun_json_member (root, "manifests");
  if (n == NULL || rrun_json_type (n) != RRUN_JSON_ARRAY)
    return bad (error, source, "manifests", "an array");
  if (rrun_json_size (n) > RRUN_ARCHIVE_MAX_IMAGES)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s lists %u manifests, at most %u allowed",
                       source, rrun_json_size (n), RRUN_ARCHIVE_MAX_IMAGES);
  for (guint i = 0; i < rrun_json_size (n); i++)
    {
      const RrunJson *d = rrun_json_element (n, i);
      g_autoptr (RrunOciIndexEntry) entry = g_new0 (RrunOciIndexEntry, 1);
      g_autofree char *w = g_strdup_printf ("manifests[%u]", i);
      const RrunJson *f;
      const char *value, *name;

      if (rrun_json_type (d) != RRUN_JSON_OBJECT)
        return bad (error, source, w, "an object");
      if ((value = rrun_json_member_string (d, "mediaType")) == NULL)
        {
          g_autofree char *wm = g_strconcat (w, ".mediaType", NULL);
          return bad (error, source, wm, "a string");
        }
      entry->media_type = g_strdup (value);
      if ((value = rrun_json_member_string (d, "digest")) == NULL)
        {
          g_autofree char *wd = g_strconcat (w, ".digest", NULL);
          return bad (error, source, wd, "a string");
        }
      if (!rrun_digest_validate (value, "digest", error))
        {
          g_prefix_error (error, "%s: %s: ", source, w);
          return FALSE;
        }
      entry->digest = g_strdup (value);
      f = rrun_json_member (d, "size");
      if (f == NULL || rrun_json_type (f) != RRUN_JSON_INT || rrun_json_int (f) < 0)
        {
          g_autofree char *ws = g_strconcat (w, ".size", NULL);
          return bad (error, source, ws, "a non-negative integer");
        }
      entry->size = rrun_json_int (f);
      entry->ref_name = g_strdup (annotation (d, "org.opencontainers.image.ref.name"));
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
