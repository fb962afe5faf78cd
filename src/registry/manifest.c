#include "registry/manifest.h"
#include "registry/reference.h"
#include "error.h"
#include "util/json-value.h"

#include <string.h>
#include <sys/utsname.h>

void
rrun_descriptor_free (RrunDescriptor *d)
{
  if (d == NULL)
    return;
  g_free (d->media_type);
  g_free (d->digest);
  g_free (d->os);
  g_free (d->architecture);
  g_free (d->variant);
  g_free (d);
}

RrunDescriptor *
rrun_descriptor_copy (const RrunDescriptor *d)
{
  RrunDescriptor *c = g_new0 (RrunDescriptor, 1);

  c->media_type = g_strdup (d->media_type);
  c->digest = g_strdup (d->digest);
  c->size = d->size;
  c->compression = d->compression;
  c->os = g_strdup (d->os);
  c->architecture = g_strdup (d->architecture);
  c->variant = g_strdup (d->variant);
  return c;
}

void
rrun_manifest_free (RrunManifest *m)
{
  if (m == NULL)
    return;
  g_free (m->media_type);
  rrun_descriptor_free (m->config);
  if (m->layers)
    g_ptr_array_unref (m->layers);
  if (m->manifests)
    g_ptr_array_unref (m->manifests);
  g_free (m);
}

void
rrun_platform_free (RrunPlatform *p)
{
  if (p == NULL)
    return;
  g_free (p->os);
  g_free (p->architecture);
  g_free (p->variant);
  g_free (p);
}

/* Field access with types checked: errors name the source and the field's path. */
typedef struct
{
  const char *source;
} Ctx;

static gboolean
bad_field (const Ctx *ctx, const char *field, const char *expected, GError **error)
{
  return rrun_throw (error, RRUN_ERROR_CORRUPT, "invalid manifest of \"%s\": %s must be %s",
                     ctx->source, field, expected);
}

static gboolean
get_string (const Ctx *ctx, const RrunJson *o, const char *key, const char *where,
            gboolean required, const char **out, GError **error)
{
  const RrunJson *n = rrun_json_member_value (o, key);
  g_autofree char *field = g_strconcat (where, key, NULL);

  *out = NULL;
  if (n == NULL)
    {
      if (required)
        return rrun_throw (error, RRUN_ERROR_CORRUPT,
                           "invalid manifest of \"%s\": %s is missing", ctx->source, field);
      return TRUE;
    }
  if (rrun_json_type (n) != RRUN_JSON_STRING)
    return bad_field (ctx, field, "a string", error);
  *out = rrun_json_string (n);
  return TRUE;
}

static gboolean
check_media_type_syntax (const Ctx *ctx, const char *field, const char *value, GError **error)
{
  /* RFC 6838 type/subtype: letters, digits and !#$&-^_.+ on both sides of one '/'. */
  const char *slash = strchr (value, '/');
  if (slash == NULL || slash == value || slash[1] == '\0' || strchr (slash + 1, '/'))
    return bad_field (ctx, field, "a media type (type/subtype)", error);
  for (const char *p = value; *p; p++)
    if (!g_ascii_isalnum (*p) && !strchr ("!#$&-^_.+/", *p))
      return bad_field (ctx, field, "a media type (type/subtype)", error);
  return TRUE;
}

static gboolean
parse_descriptor (const Ctx *ctx, const RrunJson *o, const char *where, gboolean platform,
                  RrunDescriptor **out_desc, GError **error)
{
  g_autoptr(RrunDescriptor) d = g_new0 (RrunDescriptor, 1);
  g_autofree char *size_field = g_strconcat (where, "size", NULL);
  g_autofree char *mt_field = g_strconcat (where, "mediaType", NULL);
  const char *media_type, *digest;
  const RrunJson *size;

  if (o == NULL || rrun_json_type (o) != RRUN_JSON_OBJECT)
    {
      g_autofree char *field = g_strndup (where, strlen (where) - 1);
      return bad_field (ctx, field, "an object", error);
    }
  if (!get_string (ctx, o, "mediaType", where, TRUE, &media_type, error)
      || !check_media_type_syntax (ctx, mt_field, media_type, error)
      || !get_string (ctx, o, "digest", where, TRUE, &digest, error))
    return FALSE;
  if (!rrun_digest_validate (digest, "digest", error))
    {
      g_prefix_error (error, "invalid manifest of \"%s\": %sdigest: ", ctx->source, where);
      return FALSE;
    }
  size = rrun_json_member (o, "size");
  if (size == NULL)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "invalid manifest of \"%s\": %s is missing",
                       ctx->source, size_field);
  if (rrun_json_type (size) != RRUN_JSON_INT || rrun_json_int (size) < 0)
    return bad_field (ctx, size_field, "a non-negative integer", error);
  d->media_type = g_strdup (media_type);
  d->digest = g_strdup (digest);
  d->size = rrun_json_int (size);

  if (platform)
    {
      const RrunJson *p = rrun_json_member (o, "platform");
      g_autofree char *pwhere = g_strconcat (where, "platform.", NULL);
      const char *os, *arch, *variant;

      if (p == NULL)
        {
          /* Attestations and other artifacts may lack a platform: they never match. */
          *out_desc = g_steal_pointer (&d);
          return TRUE;
        }
      if (rrun_json_type (p) != RRUN_JSON_OBJECT)
        {
          g_autofree char *field = g_strconcat (where, "platform", NULL);
          return bad_field (ctx, field, "an object", error);
        }
      if (!get_string (ctx, p, "os", pwhere, TRUE, &os, error)
          || !get_string (ctx, p, "architecture", pwhere, TRUE, &arch, error)
          || !get_string (ctx, p, "variant", pwhere, FALSE, &variant, error))
        return FALSE;
      d->os = g_strdup (os);
      d->architecture = g_strdup (arch);
      d->variant = variant && *variant ? g_strdup (variant) : NULL;
    }
  *out_desc = g_steal_pointer (&d);
  return TRUE;
}

static gboolean
layer_compression (const Ctx *ctx, const char *where, const char *media_type,
                   RrunCompression *out, GError **error)
{
  static const struct
  {
    const char *type;
    RrunCompression compression;
  } accepted[] = {
    { "application/vnd.oci.image.layer.v1.tar", RRUN_COMPRESSION_NONE },
    { "application/vnd.oci.image.layer.v1.tar+gzip", RRUN_COMPRESSION_GZIP },
    { "application/vnd.oci.image.layer.v1.tar+zstd", RRUN_COMPRESSION_ZSTD },
    { "application/vnd.docker.image.rootfs.diff.tar", RRUN_COMPRESSION_NONE },
    { "application/vnd.docker.image.rootfs.diff.tar.gzip", RRUN_COMPRESSION_GZIP },
  };

  for (guint i = 0; i < G_N_ELEMENTS (accepted); i++)
    if (strcmp (media_type, accepted[i].type) == 0)
      {
        *out = accepted[i].compression;
        return TRUE;
      }
  if (strstr (media_type, "nondistributable") != NULL || strstr (media_type, "foreign") != NULL)
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                  "cannot use image \"%s\": %s is a foreign layer (%s), which rrun does not "
                  "fetch",
                  ctx->source, where, media_type);
      rrun_add_hint (error, "foreign layers are Windows base layers or content hosted outside "
                            "the registry; rrun runs Linux images");
      return FALSE;
    }
  return rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                     "cannot use image \"%s\": %s has media type \"%s\", which is not an "
                     "image layer rrun can unpack",
                     ctx->source, where, media_type);
}

static gboolean
is_schema1 (const char *type)
{
  return type && (strcmp (type, RRUN_MEDIA_DOCKER_V1) == 0
                  || strcmp (type, RRUN_MEDIA_DOCKER_V1_SIGNED) == 0);
}

static gboolean
is_known (const char *type)
{
  return type && (strcmp (type, RRUN_MEDIA_OCI_INDEX) == 0
                  || strcmp (type, RRUN_MEDIA_DOCKER_LIST) == 0
                  || strcmp (type, RRUN_MEDIA_OCI_MANIFEST) == 0
                  || strcmp (type, RRUN_MEDIA_DOCKER_MANIFEST) == 0);
}

/* "application/json; charset=utf-8" -> "application/json" */
static char *
bare_content_type (const char *content_type)
{
  const char *semi;

  if (content_type == NULL)
    return NULL;
  semi = strchr (content_type, ';');
  return g_strstrip (semi ? g_strndup (content_type, semi - content_type)
                          : g_strdup (content_type));
}

static gboolean
refuse_schema1 (const Ctx *ctx, GError **error)
{
  return rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                     "cannot use image \"%s\": it is a schema 1 manifest, which rrun does not "
                     "support: ask the image owner to push it again with a current "
                     "docker/podman",
                     ctx->source);
}

gboolean
rrun_manifest_parse (const char *data, gsize len, const char *content_type,
                     const char *source, RrunManifest **out_manifest, GError **error)
{
  g_autoptr(RrunJson) root = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(RrunManifest) m = g_new0 (RrunManifest, 1);
  g_autofree char *ctype = bare_content_type (content_type);
  const Ctx ctx = { source };
  const char *body_type;
  const RrunJson *schema, *list;

  if (len > RRUN_MANIFEST_MAX_SIZE)
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "invalid manifest of \"%s\": %" G_GSIZE_FORMAT " bytes, more than the "
                       "%d that rrun accepts",
                       source, len, RRUN_MANIFEST_MAX_SIZE);
  if (is_schema1 (ctype))
    return refuse_schema1 (&ctx, error);
  root = rrun_json_parse (data, len, RRUN_JSON_DEFAULT, &local);
  if (root == NULL && !rrun_json_text_is_blank (data, len))
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "invalid manifest of \"%s\": %s", source,
                       local->message);
  /* An empty body (a registry or proxy that sent nothing) says what it lacks. */
  if (root == NULL || rrun_json_type (root) != RRUN_JSON_OBJECT)
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "invalid manifest of \"%s\": not a JSON object", source);

  schema = rrun_json_member (root, "schemaVersion");
  if (schema == NULL || rrun_json_type (schema) != RRUN_JSON_INT)
    return bad_field (&ctx, "schemaVersion", "an integer", error);
  if (rrun_json_int (schema) == 1)
    return refuse_schema1 (&ctx, error);
  if (rrun_json_int (schema) != 2)
    return rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                       "cannot use image \"%s\": unknown manifest schemaVersion %" G_GINT64_FORMAT,
                       source, rrun_json_int (schema));

  if (!get_string (&ctx, root, "mediaType", "", FALSE, &body_type, error))
    return FALSE;
  if (is_schema1 (body_type))
    return refuse_schema1 (&ctx, error);
  if (body_type != NULL && is_known (ctype) && strcmp (body_type, ctype) != 0)
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "invalid manifest of \"%s\": mediaType \"%s\" disagrees with the "
                       "Content-Type \"%s\" the registry sent",
                       source, body_type, ctype);
  if (body_type != NULL)
    m->media_type = g_strdup (body_type);
  else if (is_known (ctype))
    m->media_type = g_strdup (ctype);
  /* OCI allows mediaType to be absent; the shape then tells. */
  else if (rrun_json_member (root, "manifests") != NULL)
    m->media_type = g_strdup (RRUN_MEDIA_OCI_INDEX);
  else if (rrun_json_member (root, "config") != NULL && rrun_json_member (root, "layers") != NULL)
    m->media_type = g_strdup (RRUN_MEDIA_OCI_MANIFEST);
  else
    return rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                       "cannot use image \"%s\": the manifest has no mediaType and is neither "
                       "an image index nor an image manifest",
                       source);
  if (!is_known (m->media_type))
    return rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                       "cannot use image \"%s\": unsupported manifest type \"%s\"", source,
                       m->media_type);

  if (strcmp (m->media_type, RRUN_MEDIA_OCI_INDEX) == 0
      || strcmp (m->media_type, RRUN_MEDIA_DOCKER_LIST) == 0)
    {
      m->kind = RRUN_MANIFEST_KIND_INDEX;
      m->manifests = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_descriptor_free);
      list = rrun_json_member (root, "manifests");
      if (list == NULL || rrun_json_type (list) != RRUN_JSON_ARRAY)
        return bad_field (&ctx, "manifests", "an array", error);
      for (guint i = 0; i < rrun_json_size (list); i++)
        {
          g_autofree char *where = g_strdup_printf ("manifests[%u].", i);
          RrunDescriptor *d = NULL;
          if (!parse_descriptor (&ctx, rrun_json_element (list, i), where, TRUE, &d, error))
            return FALSE;
          g_ptr_array_add (m->manifests, d);
        }
    }
  else
    {
      m->kind = RRUN_MANIFEST_KIND_IMAGE;
      m->layers = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_descriptor_free);
      if (!parse_descriptor (&ctx, rrun_json_member (root, "config"), "config.", FALSE,
                             &m->config, error))
        return FALSE;
      list = rrun_json_member (root, "layers");
      if (list == NULL || rrun_json_type (list) != RRUN_JSON_ARRAY)
        return bad_field (&ctx, "layers", "an array", error);
      for (guint i = 0; i < rrun_json_size (list); i++)
        {
          g_autofree char *where = g_strdup_printf ("layers[%u].", i);
          g_autofree char *name = g_strdup_printf ("layers[%u]", i);
          RrunDescriptor *d = NULL;
          if (!parse_descriptor (&ctx, rrun_json_element (list, i), where, FALSE, &d, error))
            return FALSE;
          g_ptr_array_add (m->layers, d);
          if (!layer_compression (&ctx, name, d->media_type, &d->compression, error))
            return FALSE;
        }
    }
  *out_manifest = g_steal_pointer (&m);
  return TRUE;
}

/* containerd's normalisation of architecture names and default variants. */
static void
normalize_arch (const char *arch, const char *variant, char **out_arch, char **out_variant)
{
  static const struct
  {
    const char *from, *arch, *variant;
  } table[] = {
    { "x86_64", "amd64", NULL },   { "x86-64", "amd64", NULL },  { "i386", "386", NULL },
    { "i486", "386", NULL },       { "i586", "386", NULL },      { "i686", "386", NULL },
    { "aarch64", "arm64", NULL },  { "armhf", "arm", "v7" },     { "armel", "arm", "v6" },
    { "armv7l", "arm", "v7" },     { "armv6l", "arm", "v6" },    { "armv5tel", "arm", "v5" },
    { "armv8l", "arm", "v8" },     { "ppc64el", "ppc64le", NULL },
    { "loongarch64", "loong64", NULL },
  };
  const char *a = arch, *v = variant && *variant ? variant : NULL;

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    if (g_ascii_strcasecmp (arch, table[i].from) == 0)
      {
        a = table[i].arch;
        if (v == NULL)
          v = table[i].variant;
        break;
      }
  *out_arch = g_ascii_strdown (a, -1);
  /* arm64 images are v8 unless said otherwise: treat "v8" as no variant. */
  if (strcmp (*out_arch, "arm64") == 0 && v != NULL && strcmp (v, "v8") == 0)
    v = NULL;
  *out_variant = v ? g_ascii_strdown (v, -1) : NULL;
}

gboolean
rrun_platform_parse (const char *text, RrunPlatform **out_platform, GError **error)
{
  g_auto(GStrv) parts = g_strsplit (text, "/", -1);
  guint n = g_strv_length (parts);
  RrunPlatform *p;

  if (n < 2 || n > 3 || *parts[0] == '\0' || *parts[1] == '\0' || (n == 3 && *parts[2] == '\0'))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "invalid platform \"%s\": expected os/arch[/variant]", text);
      rrun_add_hint (error, "for example: --platform linux/arm64 or linux/arm/v7");
      return FALSE;
    }
  p = g_new0 (RrunPlatform, 1);
  p->os = g_ascii_strdown (parts[0], -1);
  normalize_arch (parts[1], n == 3 ? parts[2] : NULL, &p->architecture, &p->variant);
  *out_platform = p;
  return TRUE;
}

RrunPlatform *
rrun_platform_host (void)
{
  RrunPlatform *p = g_new0 (RrunPlatform, 1);
  struct utsname u;

  p->os = g_strdup ("linux");
  if (uname (&u) < 0)
    g_strlcpy (u.machine, "unknown", sizeof u.machine);
  normalize_arch (u.machine, NULL, &p->architecture, &p->variant);
  return p;
}

char *
rrun_platform_to_string (const RrunPlatform *p)
{
  return g_strconcat (p->os, "/", p->architecture, p->variant ? "/" : "",
                      p->variant ? p->variant : "", NULL);
}

gboolean
rrun_manifest_pick_platform (const RrunManifest *index, const RrunPlatform *platform,
                             const char *source, const RrunDescriptor **out_desc,
                             GError **error)
{
  const RrunDescriptor *exact = NULL, *loose = NULL;
  g_autoptr(GString) available = g_string_new (NULL);
  g_autofree char *wanted = rrun_platform_to_string (platform);

  g_return_val_if_fail (index->kind == RRUN_MANIFEST_KIND_INDEX, FALSE);
  for (guint i = 0; i < index->manifests->len; i++)
    {
      const RrunDescriptor *d = g_ptr_array_index (index->manifests, i);
      g_autofree char *arch = NULL, *variant = NULL;

      if (d->os == NULL || d->architecture == NULL)
        continue;
      /* Only manifests can be picked: an index may also list attestations. */
      if (strcmp (d->media_type, RRUN_MEDIA_OCI_MANIFEST) != 0
          && strcmp (d->media_type, RRUN_MEDIA_DOCKER_MANIFEST) != 0)
        continue;
      if (strcmp (d->os, "unknown") == 0)
        continue;
      normalize_arch (d->architecture, d->variant, &arch, &variant);
      {
        RrunPlatform p = { d->os, arch, variant };
        g_autofree char *name = rrun_platform_to_string (&p);
        if (strstr (available->str, name) == NULL)
          g_string_append_printf (available, "%s%s", available->len ? ", " : "", name);
      }
      if (strcmp (d->os, platform->os) != 0 || strcmp (arch, platform->architecture) != 0)
        continue;
      if (g_strcmp0 (variant, platform->variant) == 0)
        {
          if (exact == NULL)
            exact = d;
        }
      else if ((variant == NULL || platform->variant == NULL) && loose == NULL)
        loose = d;
    }
  if (exact == NULL && loose == NULL)
    {
      rrun_throw (error, RRUN_ERROR_NOT_FOUND,
                  "cannot pull \"%s\": no image for platform %s; the image is built for: %s",
                  source, wanted, available->len ? available->str : "(no platforms listed)");
      rrun_add_hint (error, "pick one with --platform");
      return FALSE;
    }
  *out_desc = exact ? exact : loose;
  return TRUE;
}
