/* rrun import: a root file system tarball becomes a one-layer image whose blob is the
   tarball as given. */
#include "storage/store.h"
#include "util/sha256.h"
#include "storage/store-private.h"
#include "storage/names.h"
#include "error.h"
#include "log.h"
#include "util/fd.h"
#include "util/json-value.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

const char *
rrun_store_host_architecture (void)
{
  static const struct
  {
    const char *uname;
    const char *oci;
  } arches[] = {
    { "x86_64", "amd64" }, { "aarch64", "arm64" }, { "armv7l", "arm" }, { "armv6l", "arm" },
    { "i686", "386" },     { "i386", "386" },      { "ppc64le", "ppc64le" },
    { "s390x", "s390x" },  { "riscv64", "riscv64" }, { "mips64", "mips64le" },
    { "loongarch64", "loong64" },
  };
  static char machine[65];
  struct utsname u;

  if (uname (&u) < 0)
    return "amd64";
  for (guint i = 0; i < G_N_ELEMENTS (arches); i++)
    if (strcmp (u.machine, arches[i].uname) == 0)
      return arches[i].oci;
  g_strlcpy (machine, u.machine, sizeof machine);
  return machine;
}

/* The config of an imported image: like `docker import`/`podman import`, no Cmd or
   Entrypoint (the user names the command: `rrun run IMG sh`); PATH is set because a
   bare rootfs has no other way to say it and every runtime would default to it. */
static char *
import_config (const char *diff_id, const char *source, gsize *out_len)
{
  static const char *const env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL
  };
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *created = g_date_time_format_iso8601 (now);
  g_autofree char *comment = g_strdup_printf ("imported from %s", source);
  const char *const diff_ids[] = { diff_id, NULL };
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();
  char *text;

  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "created", created);
  rrun_json_builder_member_string (b, "architecture", rrun_store_host_architecture ());
  rrun_json_builder_member_string (b, "os", "linux");
  rrun_json_builder_set_member_name (b, "config");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_strv (b, "Env", env);
  rrun_json_builder_end_object (b);
  rrun_json_builder_set_member_name (b, "rootfs");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "type", "layers");
  rrun_json_builder_member_strv (b, "diff_ids", diff_ids);
  rrun_json_builder_end_object (b);
  rrun_json_builder_set_member_name (b, "history");
  rrun_json_builder_begin_array (b);
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "created", created);
  rrun_json_builder_member_string (b, "created_by", "rrun import");
  rrun_json_builder_member_string (b, "comment", comment);
  rrun_json_builder_end_object (b);
  rrun_json_builder_end_array (b);
  rrun_json_builder_end_object (b);
  text = rrun_json_builder_to_text (b, FALSE);
  *out_len = strlen (text);
  return text;
}

/* The OCI layer media type of a blob from its first bytes; NULL for compressions OCI has
   no media type for (xz, bzip2): such a blob is not kept. */
static const char *
layer_media_type (const guint8 *head, gsize len)
{
  if (len >= 2 && head[0] == 0x1f && head[1] == 0x8b)
    return "application/vnd.oci.image.layer.v1.tar+gzip";
  if (len >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd)
    return "application/vnd.oci.image.layer.v1.tar+zstd";
  if ((len >= 6 && memcmp (head, "\xfd" "7zXZ", 5) == 0) || (len >= 3 && memcmp (head, "BZh", 3) == 0))
    return NULL;
  return "application/vnd.oci.image.layer.v1.tar";
}

/* Copy in_fd into a new file path, returning its sha256 digest, size and first bytes. */
static gboolean
spool_fd (int in_fd, const char *path, char **out_digest, gint64 *out_size, guint8 *head,
          gsize *head_len, GError **error)
{
  g_autoptr(RrunSha256) sum = rrun_sha256_new ();
  g_autofree guint8 *buf = g_malloc (1 << 16);
  rrun_autofd int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  gint64 total = 0;

  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", path);
  *head_len = 0;
  for (;;)
    {
      ssize_t n = read (in_fd, buf, 1 << 16);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return rrun_throw_errno (error, errno, "cannot read");
      if (n == 0)
        break;
      if (*head_len < 8)
        {
          gsize k = MIN ((gsize) n, 8 - *head_len);
          memcpy (head + *head_len, buf, k);
          *head_len += k;
        }
      rrun_sha256_update (sum, buf, (gsize) n);
      if (!rrun_fd_write_all (fd, buf, (gsize) n, error))
        return FALSE;
      total += n;
    }
  *out_digest = g_strconcat ("sha256:", rrun_sha256_hex (sum), NULL);
  *out_size = total;
  return TRUE;
}

gboolean
rrun_store_import_tarball (RrunStore *store, const RrunIdMap *map, const char *tar_path,
                           const char *name, char **out_id, GError **error)
{
  g_autofree char *norm = NULL, *chain = NULL, *diff_id = NULL, *config = NULL;
  g_autofree char *blob_path = NULL, *blob_digest = NULL;
  g_autoptr(RrunStoreTemp) temp = NULL;
  rrun_autofd int fd = -1;
  rrun_autofd int blob_fd = -1;
  gboolean created = FALSE;
  gsize config_len, head_len = 0;
  gint64 blob_size = 0;
  guint8 head[8];
  const char *layers[2] = { NULL, NULL };
  RrunStoreBlob blob = { 0 };
  RrunStoreImageSpec spec = { 0 };

  if (!rrun_names_normalize (name, &norm, error))
    return FALSE;
  if (strcmp (tar_path, "-") == 0)
    fd = fcntl (STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
  else
    fd = open (tar_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot open \"%s\"", tar_path);
  /* The tarball as given is the layer's blob (what `save` writes back): copy it into the
     store's staging area first, then extract from the copy. */
  if (!rrun_store_temp_new (store, map, &temp, error))
    return FALSE;
  blob_path = g_build_filename (rrun_store_temp_dir (temp), "blob", NULL);
  if (!spool_fd (fd, blob_path, &blob_digest, &blob_size, head, &head_len, error))
    return FALSE;
  blob_fd = open (blob_path, O_RDONLY | O_CLOEXEC);
  if (blob_fd < 0)
    return rrun_throw_errno (error, errno, "cannot open \"%s\"", blob_path);
  if (!rrun_store_add_layer (store, map, blob_fd, NULL, NULL, &chain, &diff_id, &created, error))
    return FALSE;
  config = import_config (diff_id, strcmp (tar_path, "-") == 0 ? "stdin" : tar_path,
                          &config_len);
  layers[0] = chain;
  blob = (RrunStoreBlob){ blob_digest, layer_media_type (head, head_len), blob_size, blob_path,
                          NULL, 0 };
  if (blob.media_type == NULL)
    blob.digest = NULL;
  spec = (RrunStoreImageSpec){ config, config_len, layers, norm, NULL, &blob, NULL };
  if (!rrun_store_add_image_spec (store, &spec, out_id, error))
    {
      if (created)
        {
          g_autoptr(GError) local = NULL;
          if (!rrun_store_remove_layer (store, map, chain, &local))
            rrun_warning ("cannot remove layer %.12s: %s", chain, local->message);
        }
      return FALSE;
    }
  return TRUE;
}
