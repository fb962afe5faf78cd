/* rrun load: docker-archive, OCI archive, OCI layout directory.

   A tar archive (from a file or a pipe) is read once, start to end, with libarchive: its
   members arrive in any order (docker writes manifest.json last, podman first), so each
   regular file is copied into a staging directory of the store while its sha256 is
   computed. Symlinks and hard links between members (podman's legacy HEX/layer.tar links)
   become aliases resolved by name; nothing of the archive's own structure is ever created
   on disk, so a member path or link cannot point outside the staging directory. A layout
   directory is read with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), copying the
   blobs it needs the same way.

   Then everything is checked (index, manifests, configs, digests and sizes) before the
   first layer is extracted; the staged files become the kept blobs (hard links into
   blobs/), and the staging directory goes when the load ends, whatever happened. */
#include "error.h"
#include "util/text-file.h"
#include "image/layer.h"
#include "log.h"
#include "registry/manifest.h"
#include "storage/image.h"
#include "transport/archive-manifest.h"
#include "transport/archive.h"
#include "util/fd.h"
#include "util/sha256.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Far more than any real archive (docker's own legacy layout has ~4 members a layer). */
#define MAX_MEMBERS 100000
#define MAX_LINK_HOPS 16

#define MT_DOCKER_TAR "application/vnd.docker.image.rootfs.diff.tar"
#define MT_DOCKER_TAR_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_OCI_TAR_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"

typedef struct
{
  char *file;   /* the staged copy */
  char *digest; /* "sha256:<hex>" of its bytes */
  gint64 size;
} Member;

static void
member_free (Member *m)
{
  g_free (m->file);
  g_free (m->digest);
  g_free (m);
}

typedef struct
{
  RrunStore *store;
  const RrunIdMap *map;
  RrunStoreTemp *temp;
  char *what;          /* "\"FILE\"" or "standard input", for errors */
  int dirfd;           /* a layout directory, else -1 */
  GHashTable *members; /* cleaned path -> Member* */
  GHashTable *aliases; /* cleaned path -> cleaned target path */
  guint n_staged;
  gboolean pull;      /* rrun_archive_load_layout: one image, picked by name */
  const char *select; /* its org.opencontainers.image.ref.name (NULL: the only image) */
  char *id;           /* the last image added */
} Load;

static void
load_clear (Load *l)
{
  rrun_close_fdp (&l->dirfd);
  g_clear_pointer (&l->members, g_hash_table_unref);
  g_clear_pointer (&l->aliases, g_hash_table_unref);
  g_clear_pointer (&l->temp, rrun_store_temp_free);
  g_clear_pointer (&l->what, g_free);
  g_clear_pointer (&l->id, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Load, load_clear)

/* One image ready to go into the store, everything checked. */
typedef struct
{
  char *config;
  gsize config_len;
  GStrv diff_ids;
  GPtrArray *layers; /* Member* (not owned), bottom first */
  GPtrArray *media;  /* media type per layer (const char*, NULL: blob not kept) */
  GPtrArray *names;  /* normalised names (owned) */
  Member *manifest;  /* OCI: the image manifest, kept */
  char *manifest_media_type;
} Pending;

static void
pending_free (Pending *p)
{
  g_free (p->config);
  g_strfreev (p->diff_ids);
  g_ptr_array_unref (p->layers);
  g_ptr_array_unref (p->media);
  g_ptr_array_unref (p->names);
  g_free (p->manifest_media_type);
  g_free (p);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pending, pending_free)

static Pending *
pending_new (void)
{
  Pending *p = g_new0 (Pending, 1);

  p->layers = g_ptr_array_new ();
  p->media = g_ptr_array_new_with_free_func (g_free);
  p->names = g_ptr_array_new_with_free_func (g_free);
  return p;
}

/* ---- staging members ------------------------------------------------------------------ */

typedef gssize (*ReadFunc) (gpointer source, void *buf, gsize len, GError **error);

/* Copy a member into the staging directory, hashing it as it streams. */
static gboolean
stage (Load *l, const char *path, ReadFunc read_fn, gpointer source, GError **error)
{
  g_autoptr (RrunSha256) sum = rrun_sha256_new ();
  g_autofree guint8 *buf = g_malloc (1 << 16);
  g_autofree char *file = g_strdup_printf ("%s/m%u", rrun_store_temp_dir (l->temp), l->n_staged++);
  rrun_autofd int fd = open (file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  Member *m;
  gint64 total = 0;

  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", file);
  for (;;)
    {
      gssize n = read_fn (source, buf, 1 << 16, error);

      if (n < 0)
        {
          g_prefix_error (error, "%s: ", path);
          return FALSE;
        }
      if (n == 0)
        break;
      rrun_sha256_update (sum, buf, (gsize)n);
      if (!rrun_fd_write_all (fd, buf, (gsize)n, error))
        return FALSE;
      total += n;
    }
  m = g_new0 (Member, 1);
  m->file = g_steal_pointer (&file);
  m->digest = g_strconcat ("sha256:", rrun_sha256_hex (sum), NULL);
  m->size = total;
  g_hash_table_replace (l->members, g_strdup (path), m);
  return TRUE;
}

static gssize
read_archive (gpointer source, void *buf, gsize len, GError **error)
{
  struct archive *a = source;
  la_ssize_t n = archive_read_data (a, buf, len);

  if (n < 0)
    {
      rrun_throw (error, RRUN_ERROR_CORRUPT, "%s", archive_error_string (a));
      return -1;
    }
  return n;
}

static gssize
read_fd (gpointer source, void *buf, gsize len, GError **error)
{
  for (;;)
    {
      ssize_t n = read (*(int *)source, buf, len);
      if (n >= 0)
        return n;
      if (errno != EINTR)
        {
          rrun_throw_errno (error, errno, "cannot read");
          return -1;
        }
    }
}

/* A link target as a member path: relative to the link's directory (symlinks) or to the
   archive's top (hard links), never leaving the archive. */
static char *
resolve_link (const char *member, const char *target, gboolean symbolic, GError **error)
{
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) comps = NULL;

  if (target == NULL || *target == '\0' || target[0] == '/')
    {
      rrun_throw (error, RRUN_ERROR_CORRUPT, "member \"%s\" links to \"%s\", outside the archive",
                  member, target ? target : "");
      return NULL;
    }
  if (symbolic)
    {
      g_auto (GStrv) dir = g_strsplit (member, "/", -1);
      for (guint i = 0; dir[i] && dir[i + 1]; i++)
        g_ptr_array_add (parts, g_strdup (dir[i]));
    }
  comps = g_strsplit (target, "/", -1);
  for (guint i = 0; comps[i]; i++)
    {
      if (*comps[i] == '\0' || strcmp (comps[i], ".") == 0)
        continue;
      if (strcmp (comps[i], "..") == 0)
        {
          if (parts->len == 0)
            {
              rrun_throw (error, RRUN_ERROR_CORRUPT,
                          "member \"%s\" links to \"%s\", outside the archive", member, target);
              return NULL;
            }
          g_ptr_array_remove_index (parts, parts->len - 1);
          continue;
        }
      g_ptr_array_add (parts, g_strdup (comps[i]));
    }
  g_ptr_array_add (parts, NULL);
  return g_strjoinv ("/", (GStrv)parts->pdata);
}

static gboolean
read_tar (Load *l, int fd, GError **error)
{
  struct archive *a = archive_read_new ();
  struct archive_entry *entry;
  gboolean ok = FALSE;
  guint count = 0;
  int r;

  /* A whole archive may be compressed (docker save | gzip): docker load reads that too. */
  archive_read_support_filter_all (a);
  archive_read_support_format_tar (a);
  if (archive_read_open_fd (a, fd, 128 * 1024) != ARCHIVE_OK)
    {
      rrun_throw (error, RRUN_ERROR_CORRUPT, "%s", archive_error_string (a));
      goto out;
    }
  while ((r = archive_read_next_header (a, &entry)) == ARCHIVE_OK)
    {
      g_autoptr (GError) local = NULL;
      g_autofree char *path = NULL;
      const char *name = archive_entry_pathname (entry);
      const char *hardlink = archive_entry_hardlink (entry);
      mode_t type = archive_entry_filetype (entry);

      if (++count > MAX_MEMBERS)
        {
          rrun_throw (error, RRUN_ERROR_CORRUPT, "more than %u members", MAX_MEMBERS);
          goto out;
        }
      path = rrun_layer_clean_path (name ? name : "", &local);
      if (path == NULL)
        {
          rrun_throw (error, RRUN_ERROR_CORRUPT, "member \"%s\": %s", name ? name : "",
                      local->message);
          goto out;
        }
      if (type == AE_IFDIR || *path == '\0')
        continue;
      if (g_hash_table_contains (l->members, path) || g_hash_table_contains (l->aliases, path))
        {
          rrun_throw (error, RRUN_ERROR_CORRUPT, "member \"%s\" appears twice", path);
          goto out;
        }
      if (hardlink != NULL || type == AE_IFLNK)
        {
          char *target = hardlink ? resolve_link (path, hardlink, FALSE, error)
                                  : resolve_link (path, archive_entry_symlink (entry), TRUE, error);
          if (target == NULL)
            goto out;
          g_hash_table_replace (l->aliases, g_strdup (path), target);
          continue;
        }
      if (type != AE_IFREG)
        {
          rrun_throw (error, RRUN_ERROR_CORRUPT, "member \"%s\" is not a file, directory or link",
                      path);
          goto out;
        }
      if (archive_entry_size_is_set (entry) && archive_entry_size (entry) < 0)
        {
          rrun_throw (error, RRUN_ERROR_CORRUPT, "member \"%s\" has a negative size", path);
          goto out;
        }
      if (!stage (l, path, read_archive, a, error))
        goto out;
    }
  if (r != ARCHIVE_EOF)
    {
      rrun_throw (error, RRUN_ERROR_CORRUPT, "%s", archive_error_string (a));
      goto out;
    }
  if (count == 0)
    {
      rrun_throw (error, RRUN_ERROR_CORRUPT, "the archive is empty");
      goto out;
    }
  ok = TRUE;
out:
  archive_read_free (a);
  return ok;
}

/* The member at path (following aliases), staging it from a layout directory on first
   use. Missing: RRUN_ERROR_CORRUPT. */
static gboolean
lookup (Load *l, const char *path, Member **out, GError **error)
{
  g_autofree char *cur = g_strdup (path);
  Member *m;

  for (guint hops = 0;; hops++)
    {
      const char *next = g_hash_table_lookup (l->aliases, cur);
      if (next == NULL)
        break;
      if (hops >= MAX_LINK_HOPS)
        return rrun_throw (error, RRUN_ERROR_CORRUPT, "member \"%s\": too many links", path);
      g_free (cur);
      cur = g_strdup (next);
    }
  m = g_hash_table_lookup (l->members, cur);
  if (m == NULL && l->dirfd >= 0)
    {
      struct open_how how
          = { .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
              .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
      rrun_autofd int fd = (int)syscall (SYS_openat2, l->dirfd, cur, &how, sizeof how);
      struct stat st;

      if (fd < 0 && errno != ENOENT)
        return rrun_throw_errno (error, errno, "cannot open \"%s\"", cur);
      if (fd >= 0)
        {
          if (fstat (fd, &st) < 0)
            return rrun_throw_errno (error, errno, "cannot stat \"%s\"", cur);
          if (!S_ISREG (st.st_mode))
            return rrun_throw (error, RRUN_ERROR_CORRUPT, "\"%s\" is not a regular file", cur);
          if (!stage (l, cur, read_fd, &fd, error))
            return FALSE;
          m = g_hash_table_lookup (l->members, cur);
        }
    }
  if (m == NULL)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s \"%s\" is missing",
                       l->dirfd >= 0 ? "file" : "member", path);
  *out = m;
  return TRUE;
}

static gboolean
read_member (Member *m, const char *path, gsize max, char **out, gsize *out_len, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (m->size > (gint64)max)
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "\"%s\" is too large (%" G_GINT64_FORMAT " bytes, at most %" G_GSIZE_FORMAT
                       ")",
                       path, m->size, max);
  if (!rrun_text_file_read (m->file, path, max, RRUN_TEXT_FILE_DEFAULT, out, out_len, &local))
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s", local->message);
  return TRUE;
}

/* A blob the OCI index or a manifest describes: present, of that size and digest. */
static gboolean
lookup_blob (Load *l, const char *digest, gint64 size, const char *what, Member **out,
             GError **error)
{
  g_autofree char *path = rrun_oci_blob_path (digest);
  Member *m;

  if (!lookup (l, path, &m, error))
    {
      g_prefix_error (error, "%s %s: ", what, digest);
      return FALSE;
    }
  if (strcmp (m->digest, digest) != 0)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s %s does not match its digest: got %s", what,
                       digest, m->digest);
  if (size >= 0 && m->size != size)
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "%s %s is %" G_GINT64_FORMAT " bytes, the manifest says %" G_GINT64_FORMAT,
                       what, digest, m->size, size);
  *out = m;
  return TRUE;
}

/* ---- checking images ------------------------------------------------------------------ */

/* A layer's media type from its first bytes, for docker-archive layers (which have none
   written down); NULL for compressions no manifest media type names. */
static const char *
sniff_media_type (Member *m)
{
  guint8 head[6] = { 0 };
  rrun_autofd int fd = open (m->file, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read (fd, head, sizeof head) : -1;

  if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b)
    return MT_DOCKER_TAR_GZIP;
  if (n >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd)
    return MT_OCI_TAR_ZSTD;
  if ((n >= 5
       && memcmp (head,
                  "\xfd"
                  "7zXZ",
                  5)
              == 0)
      || (n >= 3 && memcmp (head, "BZh", 3) == 0))
    return NULL;
  return MT_DOCKER_TAR;
}

static gboolean
check_docker (Load *l, GPtrArray *out_pending, GError **error)
{
  g_autoptr (GPtrArray) images = NULL;
  g_autofree char *data = NULL;
  gsize len;
  Member *m;

  if (!lookup (l, "manifest.json", &m, error)
      || !read_member (m, "manifest.json", RRUN_ARCHIVE_INDEX_MAX_SIZE, &data, &len, error)
      || !rrun_docker_archive_parse_manifest (data, len, &images, error))
    return FALSE;
  for (guint i = 0; i < images->len; i++)
    {
      RrunDockerArchiveImage *img = images->pdata[i];
      g_autoptr (Pending) p = pending_new ();
      Member *cm;

      if (!lookup (l, img->config, &cm, error)
          || !read_member (cm, img->config, RRUN_ARCHIVE_CONFIG_MAX_SIZE, &p->config,
                           &p->config_len, error))
        return FALSE;
      /* Legacy archives name the config HEX.json, newer ones blobs/sha256/HEX: either way
         the name, when it is a digest, must be the content's. */
      {
        g_autofree char *base = g_path_get_basename (img->config);
        char *dot = strrchr (base, '.');

        if (dot && strcmp (dot, ".json") == 0)
          *dot = '\0';
        if (strlen (base) == 64 && strspn (base, "0123456789abcdef") == 64
            && strcmp (cm->digest + 7, base) != 0)
          return rrun_throw (error, RRUN_ERROR_CORRUPT,
                             "config \"%s\" does not match its digest: got %s", img->config,
                             cm->digest);
      }
      if (!rrun_image_config_diff_ids (p->config, p->config_len, g_strv_length (img->layers),
                                       img->config, &p->diff_ids, error))
        return FALSE;
      for (guint k = 0; img->layers[k]; k++)
        {
          Member *lm;
          const char *mt;

          if (!lookup (l, img->layers[k], &lm, error))
            return FALSE;
          mt = sniff_media_type (lm);
          /* An uncompressed layer is its own diff: check it now, before any extraction. */
          if (g_strcmp0 (mt, MT_DOCKER_TAR) == 0 && strcmp (lm->digest, p->diff_ids[k]) != 0)
            return rrun_throw (error, RRUN_ERROR_CORRUPT,
                               "layer \"%s\" does not match its diff ID %s: got %s", img->layers[k],
                               p->diff_ids[k], lm->digest);
          g_ptr_array_add (p->layers, lm);
          g_ptr_array_add (p->media, g_strdup (mt));
        }
      for (guint k = 0; img->repo_tags[k]; k++)
        {
          char *name = rrun_archive_normalize_name (img->repo_tags[k]);
          if (name == NULL)
            rrun_warning ("ignoring the name \"%s\" in %s: not an image name", img->repo_tags[k],
                          l->what);
          else
            g_ptr_array_add (p->names, name);
        }
      g_ptr_array_add (out_pending, g_steal_pointer (&p));
    }
  return TRUE;
}

/* An OCI index entry (or nested index) down to the image manifest for this machine. */
static gboolean
check_oci_manifest (Load *l, const char *media_type, const char *digest, gint64 size,
                    const char *name, guint depth, GPtrArray *out_pending, GError **error)
{
  g_autoptr (RrunManifest) manifest = NULL;
  g_autoptr (Pending) p = pending_new ();
  g_autofree char *data = NULL;
  gsize len;
  Member *m, *cm;

  if (depth > 2)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "indexes nested too deep at %s", digest);
  if (!lookup_blob (l, digest, size, "manifest", &m, error)
      || !read_member (m, digest, RRUN_MANIFEST_MAX_SIZE, &data, &len, error)
      || !rrun_manifest_parse (data, len, media_type, digest, &manifest, error))
    return FALSE;
  if (manifest->kind == RRUN_MANIFEST_KIND_INDEX)
    {
      g_autoptr (RrunPlatform) host = rrun_platform_host ();
      const RrunDescriptor *d;

      if (!rrun_manifest_pick_platform (manifest, host, name ? name : digest, &d, error))
        return FALSE;
      return check_oci_manifest (l, d->media_type, d->digest, d->size, name, depth + 1, out_pending,
                                 error);
    }
  if (!lookup_blob (l, manifest->config->digest, manifest->config->size, "config", &cm, error)
      || !read_member (cm, manifest->config->digest, RRUN_ARCHIVE_CONFIG_MAX_SIZE, &p->config,
                       &p->config_len, error)
      || !rrun_image_config_diff_ids (p->config, p->config_len, manifest->layers->len,
                                      manifest->config->digest, &p->diff_ids, error))
    return FALSE;
  for (guint k = 0; k < manifest->layers->len; k++)
    {
      const RrunDescriptor *d = manifest->layers->pdata[k];
      Member *lm;

      if (!lookup_blob (l, d->digest, d->size, "layer", &lm, error))
        return FALSE;
      g_ptr_array_add (p->layers, lm);
      g_ptr_array_add (p->media, g_strdup (d->media_type));
    }
  if (name)
    {
      char *full = rrun_archive_normalize_name (name);
      if (full == NULL)
        rrun_warning ("ignoring the name \"%s\" in %s: not an image name", name, l->what);
      else
        g_ptr_array_add (p->names, full);
    }
  p->manifest = m;
  p->manifest_media_type = g_strdup (manifest->media_type);
  g_ptr_array_add (out_pending, g_steal_pointer (&p));
  return TRUE;
}

static gboolean
check_oci (Load *l, GPtrArray *out_pending, GError **error)
{
  g_autoptr (GPtrArray) entries = NULL;
  g_autofree char *data = NULL;
  gsize len;
  Member *m;

  if (!lookup (l, "index.json", &m, error)
      || !read_member (m, "index.json", RRUN_ARCHIVE_INDEX_MAX_SIZE, &data, &len, error)
      || !rrun_oci_index_parse (data, len, &entries, error))
    return FALSE;
  if (entries->len == 0)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "index.json lists no image");
  if (l->pull)
    {
      /* One image: the entry of that name (the first, as skopeo takes it), or the only
         entry. It gets that name, read as load reads names. */
      RrunOciIndexEntry *pick = NULL;
      g_autoptr (GString) names = g_string_new (NULL);

      for (guint i = 0; i < entries->len; i++)
        {
          RrunOciIndexEntry *e = entries->pdata[i];

          if (e->ref_name)
            g_string_append_printf (names, "%s%s", names->len ? ", " : "", e->ref_name);
          if (pick == NULL && l->select && g_strcmp0 (e->ref_name, l->select) == 0)
            pick = e;
        }
      if (l->select == NULL && entries->len == 1)
        pick = entries->pdata[0];
      if (pick == NULL)
        {
          if (l->select)
            rrun_throw (error, RRUN_ERROR_NOT_FOUND, "%s has no image named \"%s\"", l->what,
                        l->select);
          else
            rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                        "%s holds %u images: name one", l->what, entries->len);
          if (names->len)
            rrun_add_hint (error, "its names: %s", names->str);
          return FALSE;
        }
      return check_oci_manifest (l, pick->media_type, pick->digest, pick->size, l->select, 0,
                                 out_pending, error);
    }
  for (guint i = 0; i < entries->len; i++)
    {
      RrunOciIndexEntry *e = entries->pdata[i];
      if (!check_oci_manifest (l, e->media_type, e->digest, e->size, e->name, 0, out_pending,
                               error))
        return FALSE;
    }
  return TRUE;
}

/* ---- into the store ------------------------------------------------------------------- */

static gboolean
add_pending (Load *l, Pending *p, GPtrArray *loaded, GError **error)
{
  g_autoptr (GPtrArray) chains = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) created = g_ptr_array_new_with_free_func (g_free);
  g_autofree RrunStoreBlob *blobs = g_new0 (RrunStoreBlob, p->layers->len);
  g_autofree char *id = NULL;
  RrunStoreBlob manifest = { 0 };
  RrunStoreImageSpec spec = { 0 };
  gboolean ok = FALSE;

  for (guint i = 0; i < p->layers->len; i++)
    {
      Member *m = p->layers->pdata[i];
      const char *parent = i ? chains->pdata[i - 1] : NULL;
      g_autofree char *chain = rrun_store_chain_id (parent, p->diff_ids[i]);
      rrun_autofd int fd = open (m->file, O_RDONLY | O_CLOEXEC);

      if (fd < 0)
        {
          rrun_throw_errno (error, errno, "cannot open \"%s\"", m->file);
          goto out;
        }
      if (rrun_store_has_layer (l->store, chain))
        {
          /* Shared with an image the store has: not extracted again, but the blob that
             will be kept for it must still be this layer. */
          g_autofree char *diff = NULL;

          if (!rrun_archive_uncompressed_digest (fd, -1, &diff, NULL, error))
            goto out;
          if (strcmp (diff, p->diff_ids[i]) != 0)
            {
              rrun_throw (error, RRUN_ERROR_CORRUPT,
                          "layer %s does not match its diff ID %s: got %s", m->digest,
                          p->diff_ids[i], diff);
              goto out;
            }
        }
      else
        {
          gboolean made = FALSE;

          g_clear_pointer (&chain, g_free);
          if (!rrun_store_add_layer (l->store, l->map, fd, parent, p->diff_ids[i], &chain, NULL,
                                     &made, error))
            {
              g_prefix_error (error, "layer %s: ", m->digest);
              goto out;
            }
          if (made)
            g_ptr_array_add (created, g_strdup (chain));
        }
      g_ptr_array_add (chains, g_steal_pointer (&chain));
      if (p->media->pdata[i])
        blobs[i] = (RrunStoreBlob){ m->digest, p->media->pdata[i], m->size, m->file, NULL, 0 };
    }
  g_ptr_array_add (chains, NULL);
  if (p->manifest)
    manifest = (RrunStoreBlob){
      p->manifest->digest, p->manifest_media_type, p->manifest->size, p->manifest->file, NULL, 0
    };
  spec = (RrunStoreImageSpec){ p->config,
                               p->config_len,
                               (const char *const *)chains->pdata,
                               p->names->len ? p->names->pdata[0] : NULL,
                               NULL,
                               blobs,
                               p->manifest ? &manifest : NULL };
  if (!rrun_store_add_image_spec (l->store, &spec, &id, error))
    goto out;
  g_free (l->id);
  l->id = g_strdup (id);
  /* The other names: the image exists now, so each only adds its name. */
  for (guint i = 1; i < p->names->len; i++)
    {
      g_autofree char *again = NULL;
      if (!rrun_store_add_image (l->store, p->config, p->config_len,
                                 (const char *const *)chains->pdata, p->names->pdata[i], NULL,
                                 &again, error))
        goto out;
    }
  for (guint i = 0; i < p->names->len; i++)
    g_ptr_array_add (loaded, g_strdup_printf ("Loaded image: %s", (char *)p->names->pdata[i]));
  if (p->names->len == 0)
    g_ptr_array_add (loaded, g_strdup_printf ("Loaded image ID: sha256:%s", id));
  ok = TRUE;
out:
  if (!ok)
    for (guint i = 0; i < created->len; i++)
      {
        g_autoptr (GError) local = NULL;
        if (!rrun_store_remove_layer (l->store, l->map, created->pdata[i], &local))
          g_debug ("cannot remove layer %.12s: %s", (char *)created->pdata[i], local->message);
      }
  return ok;
}

/* Always FALSE: the hint for an archive that did not check out. */
static gboolean
add_corrupt_hint (GError **error)
{
  if (error && *error && (*error)->domain == RRUN_ERROR && (*error)->code == RRUN_ERROR_CORRUPT)
    rrun_add_hint (error, "nothing from it was kept; make the archive again with 'rrun save', "
                          "'docker save', 'podman save' or 'skopeo copy'");
  return FALSE;
}

static gboolean
load_run (Load *lp, RrunStore *store, const RrunIdMap *map, const char *path,
          GPtrArray **out_loaded, GError **error)
{
  g_autoptr (GPtrArray) pending = g_ptr_array_new_with_free_func ((GDestroyNotify)pending_free);
  g_autoptr (GPtrArray) loaded = g_ptr_array_new_with_free_func (g_free);
  gboolean is_stdin = path == NULL || strcmp (path, "-") == 0;
  struct stat st;
  Member *dummy;

  lp->store = store;
  lp->map = map;
  lp->dirfd = -1;
  lp->what = is_stdin ? g_strdup ("standard input") : g_strdup_printf ("\"%s\"", path);
  lp->members = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)member_free);
  lp->aliases = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (!is_stdin && stat (path, &st) < 0)
    return rrun_throw_errno (error, errno, "cannot open %s", lp->what);
  if (!rrun_store_temp_new (store, map, &lp->temp, error))
    return FALSE;
  if (!is_stdin && S_ISDIR (st.st_mode))
    {
      lp->dirfd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (lp->dirfd < 0)
        return rrun_throw_errno (error, errno, "cannot open %s", lp->what);
    }
  else
    {
      rrun_autofd int fd = is_stdin ? fcntl (STDIN_FILENO, F_DUPFD_CLOEXEC, 0)
                                    : open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
      if (fd < 0)
        return rrun_throw_errno (error, errno, "cannot open %s", lp->what);
      if (is_stdin && isatty (fd))
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "cannot read an archive from a terminal");
          rrun_add_hint (error, "name it with -i FILE, or pipe it in: rrun load < FILE");
          return FALSE;
        }
      if (!read_tar (lp, fd, error))
        return add_corrupt_hint (error);
    }

  if (g_hash_table_contains (lp->members, "manifest.json")
      || g_hash_table_contains (lp->aliases, "manifest.json")
      || (lp->dirfd >= 0 && faccessat (lp->dirfd, "manifest.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0))
    {
      if (!check_docker (lp, pending, error))
        return add_corrupt_hint (error);
    }
  else if (lookup (lp, "index.json", &dummy, NULL))
    {
      if (!check_oci (lp, pending, error))
        return add_corrupt_hint (error);
    }
  else
    {
      rrun_throw (error, RRUN_ERROR_CORRUPT,
                  "not an image archive: no manifest.json (docker-archive) or index.json (OCI "
                  "layout)");
      rrun_add_hint (error, "make one with 'rrun save', 'docker save', 'podman save' or "
                            "'skopeo copy'; for a root file system tarball use 'rrun import'");
      return FALSE;
    }
  for (guint i = 0; i < pending->len; i++)
    if (!add_pending (lp, pending->pdata[i], loaded, error))
      {
        if (loaded->len > 0)
          {
            g_ptr_array_add (loaded, NULL);
            g_autofree char *done = g_strjoinv (", ", (GStrv)loaded->pdata);
            rrun_add_hint (error, "the images before it were loaded (%s)", done);
          }
        else
          add_corrupt_hint (error);
        return FALSE;
      }
  *out_loaded = g_steal_pointer (&loaded);
  return TRUE;
}

gboolean
rrun_archive_load (RrunStore *store, const RrunIdMap *map, const char *path, GPtrArray **out_loaded,
                   GError **error)
{
  g_auto (Load) l = { 0 };

  return load_run (&l, store, map, path, out_loaded, error);
}

gboolean
rrun_archive_load_layout (RrunStore *store, const RrunIdMap *map, const char *dir,
                          const char *name, char **out_id, GError **error)
{
  g_auto (Load) l = { 0 };
  g_autoptr (GPtrArray) loaded = NULL;
  struct stat st;

  if (stat (dir, &st) < 0)
    return rrun_throw_errno (error, errno, "cannot open \"%s\"", dir);
  if (!S_ISDIR (st.st_mode))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "\"%s\" is not a directory", dir);
      rrun_add_hint (error, "an archive file loads with: rrun load -i %s", dir);
      return FALSE;
    }
  {
    g_autofree char *index = g_build_filename (dir, "index.json", NULL);
    if (!g_file_test (index, G_FILE_TEST_IS_REGULAR))
      {
        rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                    "\"%s\" is not an OCI image layout: it has no index.json", dir);
        rrun_add_hint (error, "write one with: rrun push IMAGE oci:%s:NAME", dir);
        return FALSE;
      }
  }
  l.pull = TRUE;
  l.select = name;
  if (!load_run (&l, store, map, dir, &loaded, error))
    return FALSE;
  *out_id = g_steal_pointer (&l.id);
  return TRUE;
}
