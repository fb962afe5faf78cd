/* Single-file images: the trailer, opening a file as an image, and export
   (docs/architecture.md, "Squashfs images"). */
#include "squashfs/squashfs.h"
#include "error.h"
#include "log.h"
#include "overlay/overlay.h"
#include "userns/exec.h"
#include "userns/idmap.h"
#include "util/fd.h"
#include "util/json-value.h"
#include "util/path.h"
#include "util/text-file.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* "hsqs": squashfs's magic, little-endian 0x73717368, at offset 0. */
static const char squashfs_magic[4] = { 'h', 's', 'q', 's' };

void
rrun_squashfs_image_free (RrunSquashfsImage *image)
{
  if (image == NULL)
    return;
  g_free (image->path);
  g_free (image->config_text);
  g_free (image->passwd);
  g_free (image->group);
  g_free (image->image_id);
  g_free (image->name);
  g_free (image);
}

gboolean
rrun_squashfs_is_file_ref (const char *ref)
{
  if (ref == NULL || *ref == '\0')
    return FALSE;
  if (g_str_has_suffix (ref, ".sqsh") || g_str_has_suffix (ref, ".squashfs"))
    return TRUE; /* no image is named so: a missing file is "no such file", not a pull */
  if (strchr (ref, '/') == NULL)
    return FALSE;
  /* An image reference such as docker.io/library/alpine holds '/' too: only a path to
     an existing file (or one that plainly is a path) is a file. */
  return ref[0] == '/' || g_str_has_prefix (ref, "./") || g_str_has_prefix (ref, "../")
         || g_file_test (ref, G_FILE_TEST_EXISTS);
}

GBytes *
rrun_squashfs_trailer_build (const char *config_text, const char *passwd, const char *group,
                             const char *image_id, const char *name, guint64 squash_size)
{
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();
  g_autofree char *json = NULL;
  GString *out;

  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "config", config_text);
  if (passwd != NULL)
    rrun_json_builder_member_string (b, "passwd", passwd);
  if (group != NULL)
    rrun_json_builder_member_string (b, "group", group);
  if (image_id != NULL)
    rrun_json_builder_member_string (b, "image", image_id);
  if (name != NULL)
    rrun_json_builder_member_string (b, "name", name);
  rrun_json_builder_end_object (b);
  json = rrun_json_builder_to_text (b, FALSE);
  out = g_string_new (json);
  g_string_append_printf (out, "%s%016" G_GINT64_MODIFIER "x%08x", RRUN_SQUASHFS_TRAILER_MAGIC,
                          squash_size, (guint) strlen (json));
  return g_string_free_to_bytes (out);
}

gboolean
rrun_squashfs_trailer_parse (const char *tail, guint64 file_size, guint64 *out_offset,
                             guint32 *out_len, GError **error)
{
  char hex[17];
  char *end;
  guint64 offset, len;

  if (memcmp (tail, RRUN_SQUASHFS_TRAILER_MAGIC, 8) != 0)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "it holds no image config");
  memcpy (hex, tail + 8, 16);
  hex[16] = '\0';
  offset = g_ascii_strtoull (hex, &end, 16);
  if (*end != '\0')
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "its image config trailer is damaged");
  memcpy (hex, tail + 24, 8);
  hex[8] = '\0';
  len = g_ascii_strtoull (hex, &end, 16);
  if (*end != '\0' || len == 0 || len > RRUN_SQUASHFS_CONFIG_MAX
      || offset + len + RRUN_SQUASHFS_TRAILER_SIZE != file_size)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "its image config trailer is damaged");
  *out_offset = offset;
  *out_len = (guint32) len;
  return TRUE;
}

static gboolean
member_text (const RrunJson *root, const char *name, gboolean required, char **out,
             GError **error)
{
  RrunJson *v = rrun_json_member (root, name);

  *out = NULL;
  if (v == NULL || rrun_json_type (v) == RRUN_JSON_NULL)
    return required ? rrun_throw (error, RRUN_ERROR_CORRUPT,
                                  "its image config has no \"%s\"", name)
                    : TRUE;
  if (rrun_json_type (v) != RRUN_JSON_STRING)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "its image config's \"%s\" is not a string",
                       name);
  *out = g_strdup (rrun_json_string (v));
  return TRUE;
}

static gboolean
open_file (const char *path, RrunSquashfsImage **out_image, GError **error)
{
  g_autoptr(RrunSquashfsImage) sq = g_new0 (RrunSquashfsImage, 1);
  g_autoptr(RrunJson) root = NULL;
  g_autofree char *json = NULL;
  rrun_autofd int fd = -1;
  char magic[4], tail[RRUN_SQUASHFS_TRAILER_SIZE];
  struct stat st;
  guint64 offset;
  guint32 len;

  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "%s: no such file", path);
      return rrun_throw_errno (error, errno, "%s", path);
    }
  if (fstat (fd, &st) < 0)
    return rrun_throw_errno (error, errno, "%s", path);
  if (!S_ISREG (st.st_mode))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s: not a regular file", path);
  if (pread (fd, magic, 4, 0) != 4 || memcmp (magic, squashfs_magic, 4) != 0)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s: not a squashfs file", path);
      rrun_add_hint (error, "make one with: rrun image export --format squashfs IMAGE -o FILE");
      return FALSE;
    }
  if (st.st_size < 4096 + RRUN_SQUASHFS_TRAILER_SIZE
      || pread (fd, tail, sizeof tail, st.st_size - RRUN_SQUASHFS_TRAILER_SIZE)
             != (ssize_t) sizeof tail
      || !rrun_squashfs_trailer_parse (tail, st.st_size, &offset, &len, error))
    {
      if (error != NULL && *error == NULL)
        rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "it holds no image config");
      g_prefix_error (error, "%s: ", path);
      if (g_error_matches (*error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT))
        rrun_add_hint (error, "squashfs files made by rrun image export --format squashfs "
                              "carry the image config rrun needs");
      return FALSE;
    }
  json = g_malloc (len + 1);
  if (pread (fd, json, len, offset) != (ssize_t) len)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: its image config is truncated", path);
  json[len] = '\0';
  root = rrun_json_parse (json, len, RRUN_JSON_DEFAULT, NULL);
  if (root == NULL || rrun_json_type (root) != RRUN_JSON_OBJECT)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: its image config is not JSON", path);
  if (!member_text (root, "config", TRUE, &sq->config_text, error)
      || !member_text (root, "passwd", FALSE, &sq->passwd, error)
      || !member_text (root, "group", FALSE, &sq->group, error)
      || !member_text (root, "image", FALSE, &sq->image_id, error)
      || !member_text (root, "name", FALSE, &sq->name, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  *out_image = g_steal_pointer (&sq);
  return TRUE;
}

gboolean
rrun_squashfs_open (const char *path, RrunSquashfsImage **out_image, GError **error)
{
  g_autofree char *abs = NULL;
  RrunSquashfsImage *sq = NULL;

  abs = g_path_is_absolute (path) ? g_strdup (path) : g_canonicalize_filename (path, NULL);
  if (!open_file (abs, &sq, error))
    {
      g_prefix_error (error, "cannot use the image file: ");
      return FALSE;
    }
  sq->path = g_steal_pointer (&abs);
  *out_image = sq;
  return TRUE;
}

gboolean
rrun_squashfs_to_image (const RrunSquashfsImage *sq, const char *mount_dir,
                        RrunImage **out_image, GError **error)
{
  g_autoptr(RrunImage) img = g_new0 (RrunImage, 1);
  g_autoptr(RrunJson) root = NULL;
  g_autofree char *source = g_strdup_printf ("the image config in %s", sq->path);
  g_autoptr(GError) local = NULL;

  root = rrun_json_parse (sq->config_text, strlen (sq->config_text), RRUN_JSON_DEFAULT, &local);
  if (root == NULL)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: %s", source, local->message);
  if (!rrun_image_config_parse (root, source, &img->config, error)
      || !rrun_image_config_parse_meta (root, source, &img->os, &img->architecture,
                                        &img->created, NULL, error))
    return FALSE;
  img->id = g_strconcat ("squashfs:", sq->path, NULL);
  img->names = g_new0 (char *, 2);
  img->names[0] = g_strdup (sq->path);
  img->layer_dirs = g_ptr_array_new_with_free_func (g_free);
  img->layer_ids = g_ptr_array_new_with_free_func (g_free);
  img->layer_sizes = g_array_new (FALSE, TRUE, sizeof (guint64));
  if (mount_dir != NULL)
    {
      guint64 zero = 0;

      g_ptr_array_add (img->layer_dirs, g_strdup (mount_dir));
      g_ptr_array_add (img->layer_ids, g_strdup ("squashfs"));
      g_array_append_val (img->layer_sizes, zero);
    }
  *out_image = g_steal_pointer (&img);
  return TRUE;
}

gboolean
rrun_squashfs_rootfs_image (const char *dir, RrunImage **out_image, GError **error)
{
  g_autoptr(RrunImage) img = g_new0 (RrunImage, 1);
  g_autofree char *abs = g_canonicalize_filename (dir, NULL);
  guint64 zero = 0;

  if (!g_file_test (abs, G_FILE_TEST_IS_DIR))
    return rrun_throw (error, RRUN_ERROR_NOT_FOUND,
                       "cannot use the root file system \"%s\": no such directory", dir);
  img->config = g_new0 (RrunImageConfig, 1);
  img->id = g_strconcat ("rootfs:", abs, NULL);
  img->names = g_new0 (char *, 2);
  img->names[0] = g_strdup (abs);
  img->layer_dirs = g_ptr_array_new_with_free_func (g_free);
  img->layer_ids = g_ptr_array_new_with_free_func (g_free);
  img->layer_sizes = g_array_new (FALSE, TRUE, sizeof (guint64));
  g_ptr_array_add (img->layer_dirs, g_steal_pointer (&abs));
  g_ptr_array_add (img->layer_ids, g_strdup ("rootfs"));
  g_array_append_val (img->layer_sizes, zero);
  *out_image = g_steal_pointer (&img);
  return TRUE;
}

gboolean
rrun_squashfs_find_image (RrunStore *store, const char *id, RrunImage **out_image,
                          GError **error)
{
  g_autoptr(RrunSquashfsImage) sq = NULL;

  if (g_str_has_prefix (id, "rootfs:"))
    return rrun_squashfs_rootfs_image (id + strlen ("rootfs:"), out_image, error);
  if (!g_str_has_prefix (id, "squashfs:"))
    return rrun_store_find_container_image (store, id, out_image, error); /* --rootfs too */
  return rrun_squashfs_open (id + strlen ("squashfs:"), &sq, error)
         && rrun_squashfs_to_image (sq, NULL, out_image, error);
}

gboolean
rrun_squashfs_check_stored (const char *image_id, const char *what, GError **error)
{
  const char *colon = strchr (image_id, ':');

  if (!g_str_has_prefix (image_id, "squashfs:") && !g_str_has_prefix (image_id, "rootfs:"))
    return TRUE;
  rrun_throw (error, RRUN_ERROR_UNSUPPORTED, "%s%s%sthe container runs from %s \"%s\", "
              "not from a stored image", what ? "cannot " : "", what ? what : "",
              what ? ": " : "",
              g_str_has_prefix (image_id, "squashfs:") ? "the image file" : "the directory",
              colon + 1);
  if (what != NULL)
    rrun_add_hint (error, "start it and use rrun cp while it runs");
  else
    rrun_add_hint (error, "run a stored image (rrun pull, rrun import) to commit its changes");
  return FALSE;
}

gboolean
rrun_squashfs_find_squashfuse (char **out_path, GError **error)
{
  const char *env = g_getenv ("RRUN_SQUASHFUSE");
  char *path = env && *env ? g_strdup (env) : g_find_program_in_path ("squashfuse");

  if (path == NULL && g_file_test ("/usr/bin/squashfuse", G_FILE_TEST_IS_EXECUTABLE))
    path = g_strdup ("/usr/bin/squashfuse");
  if (path == NULL || !g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_free (path);
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                  "cannot mount a squashfs image: squashfuse is not installed");
      rrun_add_hint (error, "install it: sudo apt-get install squashfuse (Debian, Ubuntu) or "
                            "sudo dnf install squashfuse");
      return FALSE;
    }
  *out_path = path;
  return TRUE;
}

/* ---- export ---------------------------------------------------------------------------- */


gboolean
rrun_squashfs_export_internal (int argc, char **argv, GError **error)
{
  const char *merged, *kind, *where, *data, *action, *out, *pseudo, *comp;
  pid_t fuse = -1, pid;
  int status;
  gboolean ok = FALSE;

  if (argc != 10)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "usage: rrun __internal flatten MERGED kernel|fuse|plain CWD|EXE "
                       "DATA WORK squashfs|copy OUT PSEUDO COMPRESSION");
  merged = argv[1], kind = argv[2], where = argv[3], data = argv[4];
  action = argv[6], out = argv[7], pseudo = argv[8], comp = argv[9];
  if (unshare (CLONE_NEWNS) < 0)
    return rrun_throw_errno (error, errno, "cannot make a mount namespace");
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return rrun_throw_errno (error, errno, "cannot make the mounts private");
  if (strcmp (kind, "plain") == 0)
    merged = where; /* one layer: nothing to merge */
  else if (strcmp (kind, "fuse") == 0)
    {
      if (!rrun_overlay_mount_fuse_wait (where, data, merged, "the image's layers", &fuse,
                                         error))
        goto out;
    }
  else if (chdir (where) < 0)
    return rrun_throw_errno (error, errno, "cannot enter \"%s\"", where);
  else if (mount ("overlay", merged, "overlay", MS_RDONLY, data) < 0)
    return rrun_throw_errno (error, errno, "cannot mount the image's layers");
  if (chdir ("/") < 0)
    {
      rrun_throw_errno (error, errno, "cannot enter \"/\"");
      goto out;
    }
  /* mksquashfs (or cp) runs here, as root of the user namespace: it reads the owners as
     the container sees them (files of container root are stored as 0), never the host's
     subordinate ids; cp writes them back through the same map. */
  pid = fork ();
  if (pid < 0)
    {
      rrun_throw_errno (error, errno, "cannot start mksquashfs");
      goto out;
    }
  if (pid == 0)
    {
      const char *mksquashfs = g_getenv ("RRUN_MKSQUASHFS");
      g_autofree char *from = g_strconcat (merged, "/.", NULL);
      const char *args[] = { "mksquashfs", merged, out, "-noappend", "-quiet", "-no-progress",
                             "-pf", pseudo, "-comp", comp, NULL };
      const char *cp[] = { "cp", "-a", "--", from, out, NULL };
      int devnull = open ("/dev/null", O_RDWR);

      if (devnull >= 0)
        {
          dup2 (devnull, 0);
          dup2 (devnull, 1);
        }
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (strcmp (action, "copy") == 0)
        execvp ("cp", (char *const *) cp);
      else if (mksquashfs != NULL && *mksquashfs)
        execv (mksquashfs, (char *const *) args);
      else
        execvp ("mksquashfs", (char *const *) args);
      fprintf (stderr, "cannot run %s: %s\n", strcmp (action, "copy") == 0 ? "cp" : "mksquashfs",
               g_strerror (errno));
      _exit (127);
    }
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      {
        rrun_throw_errno (error, errno, "cannot wait for mksquashfs");
        goto out;
      }
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      const char *prog = strcmp (action, "copy") == 0 ? "cp" : "mksquashfs";

      if (WIFEXITED (status) && WEXITSTATUS (status) == 127)
        rrun_throw (error, RRUN_ERROR_UNSUPPORTED, "%s is not installed", prog);
      else
        rrun_throw (error, RRUN_ERROR_FAILED, "%s failed (%s %d)", prog,
                    WIFEXITED (status) ? "status" : "signal",
                    WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status));
      goto out;
    }
  ok = TRUE;
out:
  if (fuse > 0)
    {
      if (umount2 (merged, 0) < 0)
        kill (fuse, SIGTERM);
      while (waitpid (fuse, NULL, 0) < 0 && errno == EINTR)
        ;
    }
  return ok;
}

/* A pseudo file line for mksquashfs (one per line, unquoted). */
static void
pseudo_file (GString *pf, const char *name, const char *src)
{
  g_autofree char *quoted = g_shell_quote (src);

  g_string_append_printf (pf, "%s f 644 0 0 cat %s\n", name, quoted);
}

/* The image's layers merged (whiteouts applied) inside a user namespace with the storage
   map, then packed by mksquashfs into out (action "squashfs", with config_text as
   /.rrun/config.json) or copied by cp -a into the directory out ("copy"). Its work
   space in the store's tmp/ goes on every path. */
static gboolean
flatten (const RrunConfig *config, RrunStore *store, const RrunImage *image, const char *action,
         const char *out_arg, const char *config_text, const char *compression, GError **error)
{
  /* The helper changes directory: it gets absolute paths. */
  g_autofree char *out = g_canonicalize_filename (out_arg, NULL);
  g_autoptr(RrunIdMap) map = NULL;
  g_autoptr(RrunIdMap) storage_map = NULL;
  g_autoptr(RrunOverlaySetup) setup = NULL;
  g_autofree char *tmp_root = NULL, *tmpl = NULL, *dir = NULL, *upper = NULL, *work = NULL;
  g_autofree char *work_inner = NULL, *merged = NULL, *config_file = NULL, *pseudo = NULL;
  g_autofree char *stdout_text = NULL;
  g_autoptr(GString) pf = g_string_new ("/.rrun d 755 0 0\n");
  RrunOverlayLayers layers = { 0 };
  const char *args[16];
  const char *kind;
  guint n = 0;
  gboolean ok = FALSE;

  if (image->layer_dirs->len == 0)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "the image has no layers");
  if (!rrun_idmap_resolve ("auto", &map, error))
    return FALSE;
  storage_map = rrun_idmap_storage_map (map);
  tmp_root = g_build_filename (config->storage_root, "tmp", NULL);
  if (!rrun_path_mkdir_p (tmp_root, 0700, error))
    return FALSE;
  tmpl = g_build_filename (tmp_root, "flatten-XXXXXX", NULL);
  if ((dir = g_mkdtemp_full (g_strdup (tmpl), 0700)) == NULL)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", tmpl);
  upper = g_build_filename (dir, "upper", NULL);
  work = g_build_filename (dir, "work", NULL);
  work_inner = g_build_filename (work, "work", NULL);
  merged = g_build_filename (dir, "merged", NULL);
  config_file = g_build_filename (dir, "config.json", NULL);
  pseudo = g_build_filename (dir, "pseudo", NULL);
  if (mkdir (upper, 0755) < 0 || mkdir (work, 0700) < 0 || mkdir (merged, 0755) < 0)
    {
      rrun_throw_errno (error, errno, "cannot create directories in \"%s\"", dir);
      goto out;
    }
  if (config_text != NULL)
    {
      if (!g_file_set_contents (config_file, config_text, -1, error))
        goto out;
      pseudo_file (pf, "/.rrun/config.json", config_file);
    }
  if (!g_file_set_contents (pseudo, pf->str, pf->len, error))
    goto out;

  rrun_overlay_layers_init (&layers, image->layer_dirs, rrun_store_root (store),
                            config->fuse_acl, upper, work, merged);
  setup = g_new0 (RrunOverlaySetup, 1);
  if (layers.n_lower == 1)
    kind = "plain"; /* one layer: read as it is */
  else
    {
      gboolean fuse = g_strcmp0 (config->storage_driver, "fuse-overlayfs") == 0
                      || !rrun_overlay_kernel_at_least (5, 11);

      kind = fuse ? "fuse" : "kernel";
      if (!(fuse ? rrun_overlay_fuse_ops : rrun_overlay_kernel_ops).configure (&layers, setup,
                                                                               error))
        goto out;
    }
  args[n++] = NULL; /* this binary */
  if (rrun_log_level_option () != NULL)
    args[n++] = rrun_log_level_option ();
  args[n++] = "__internal";
  args[n++] = "flatten";
  args[n++] = merged;
  args[n++] = kind;
  /* fuse-overlayfs -f -o OPTIONS MERGED: the options are its argv[3] */
  args[n++] = strcmp (kind, "plain") == 0  ? layers.lower_dirs[0]
              : strcmp (kind, "fuse") == 0 ? setup->fuse_exe
                                           : setup->cwd;
  args[n++] = strcmp (kind, "plain") == 0  ? "-"
              : strcmp (kind, "fuse") == 0 ? setup->fuse_argv[3]
                                           : setup->data;
  args[n++] = work_inner;
  args[n++] = action;
  args[n++] = out;
  args[n++] = pseudo;
  args[n++] = compression ? compression : "lz4";
  args[n] = NULL;
  ok = rrun_userns_exec (storage_map, args, -1, &stdout_text, error);
out:
  {
    g_autoptr(GError) local = NULL;

    if (!rrun_path_rm_rf (dir, &local))
      rrun_warning ("cannot remove \"%s\": %s", dir, local->message);
  }
  return ok;
}

gboolean
rrun_squashfs_flatten_to_dir (const RrunConfig *config, RrunStore *store,
                              const RrunImage *image, const char *dest, GError **error)
{
  return flatten (config, store, image, "copy", dest, NULL, NULL, error);
}

gboolean
rrun_squashfs_export (const RrunConfig *config, RrunStore *store, const char *ref,
                      const char *out_path, const char *compression, GError **error)
{
  g_autoptr(RrunImage) image = NULL;
  g_autofree char *config_text = NULL, *passwd = NULL, *group = NULL, *out_dir = NULL;
  g_autofree char *out_tmp = NULL, *base = NULL;
  g_autoptr(GBytes) trailer = NULL;
  gsize config_len = 0;
  gboolean ok = FALSE;
  struct stat st;
  int fd;

  if (!rrun_store_find_image (store, ref, &image, error))
    return FALSE;
  if (!rrun_text_file_read (image->config_path, "image config", RRUN_TEXT_FILE_MAX_CONFIG,
                            RRUN_TEXT_FILE_DEFAULT, &config_text, &config_len, error)
      || !rrun_image_read_file (image, "etc/passwd", &passwd, error)
      || !rrun_image_read_file (image, "etc/group", &group, error))
    return FALSE;

  /* The output: a temporary file beside it, renamed at the end, so that a failed or
     killed export leaves no half file under the name. */
  out_dir = g_path_get_dirname (out_path);
  base = g_path_get_basename (out_path);
  out_tmp = g_strdup_printf ("%s/.%s.tmp-XXXXXX", out_dir, base);
  fd = g_mkstemp_full (out_tmp, O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      rrun_throw_errno (error, errno, "cannot create a file in \"%s\"", out_dir);
      g_prefix_error (error, "cannot export \"%s\": ", ref);
      return FALSE;
    }
  close (fd);
  if (!flatten (config, store, image, "squashfs", out_tmp, config_text, compression, error))
    goto out;

  /* The trailer: what rrun run reads without mounting the file. */
  if (stat (out_tmp, &st) < 0)
    {
      rrun_throw_errno (error, errno, "cannot read \"%s\"", out_tmp);
      goto out;
    }
  trailer = rrun_squashfs_trailer_build (config_text, passwd, group, image->id,
                                         image->names && image->names[0] ? image->names[0] : ref,
                                         st.st_size);
  {
    rrun_autofd int ofd = open (out_tmp, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    gsize len;
    const void *bytes = g_bytes_get_data (trailer, &len);

    if (ofd < 0)
      {
        rrun_throw_errno (error, errno, "cannot open \"%s\"", out_tmp);
        goto out;
      }
    if (!rrun_fd_write_all (ofd, bytes, len, error))
      goto out;
    if (fsync (ofd) < 0 || fchmod (ofd, 0644) < 0)
      {
        rrun_throw_errno (error, errno, "cannot write \"%s\"", out_tmp);
        goto out;
      }
  }
  if (rename (out_tmp, out_path) < 0)
    {
      rrun_throw_errno (error, errno, "cannot rename \"%s\" to \"%s\"", out_tmp, out_path);
      goto out;
    }
  g_clear_pointer (&out_tmp, g_free);
  ok = TRUE;
out:
  if (out_tmp != NULL)
    unlink (out_tmp);
  if (!ok)
    g_prefix_error (error, "cannot export \"%s\": ", ref);
  return ok;
}
