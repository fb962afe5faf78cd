/* rrun bundle IMAGE DIR: an OCI runtime bundle (DIR/rootfs and DIR/config.json) from an
   image, for `rrun oci run` and Slurm's `srun --container=DIR` (docs/rrun-bundle.1.md). */
#include "cli/cli.h"
#include "container/oci-bundle.h"
#include "error.h"
#include "image/layer.h"
#include "userns/idmap.h"
#include "squashfs/squashfs.h"
#include "storage/store.h"
#include "util/path.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

gboolean
rrun_cmd_bundle (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help = FALSE, remove = FALSE;
  GOptionEntry entries[] = {
    { "remove", 0, 0, G_OPTION_ARG_NONE, &remove,
      "Remove the bundle DIR (its rootfs holds files of subordinate ids, which rm -rf "
      "cannot remove)", NULL },
    { NULL },
  };
  const RrunCliSpec spec = {
    .command = "bundle",
    .params = "IMAGE DIR | --remove DIR",
    .summary = "Write an OCI runtime bundle: DIR/rootfs (the image's layers applied, owners as\n"
               "the container sees them) and DIR/config.json (its command, environment,\n"
               "working directory and user). DIR must not exist or be empty.",
    .min_args = 1,
    .max_args = 2,
    .usage = "rrun bundle IMAGE DIR, or rrun bundle --remove DIR",
  };
  g_autoptr(RrunStore) store = NULL;
  g_autoptr(RrunImage) image = NULL;
  g_autofree char *passwd = NULL, *group = NULL, *config_text = NULL, *rootfs = NULL;
  g_autofree char *config_path = NULL;
  g_autoptr(GDir) d = NULL;
  g_autoptr(RrunIdMap) map = NULL;
  g_autoptr(RrunIdMap) storage_map = NULL;
  const char *dir;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    {
      *out_status = 0;
      return TRUE;
    }
  if (remove || argc != 3)
    {
      g_autofree char *abs = NULL;
      g_autofree char *cfg = NULL;
      const char *paths[2] = { NULL, NULL };

      if (!remove || argc != 2)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "bundle: expected IMAGE DIR");
          rrun_add_hint (error, "usage: %s", spec.usage);
          return FALSE;
        }
      abs = g_canonicalize_filename (argv[1], NULL);
      cfg = g_build_filename (abs, "config.json", NULL);
      if (!g_file_test (cfg, G_FILE_TEST_EXISTS))
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "cannot remove \"%s\": it is not a bundle (no config.json)", argv[1]);
      if (!rrun_idmap_resolve ("auto", &map, error))
        return FALSE;
      storage_map = rrun_idmap_storage_map (map);
      paths[0] = abs;
      if (!rrun_layer_remove_trees (storage_map, paths, error))
        return FALSE;
      *out_status = 0;
      return TRUE;
    }
  dir = argv[2];
  if (!rrun_store_open (g->config, &store, error)
      || !rrun_store_find_image (store, argv[1], &image, error)
      || !rrun_image_read_file (image, "etc/passwd", &passwd, error)
      || !rrun_image_read_file (image, "etc/group", &group, error)
      || !rrun_oci_bundle_config_text (image, passwd, group, &config_text, error))
    return FALSE;
  if (mkdir (dir, 0755) < 0 && errno != EEXIST)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", dir);
  if ((d = g_dir_open (dir, 0, error)) == NULL)
    return FALSE;
  if (g_dir_read_name (d) != NULL)
    {
      rrun_throw (error, RRUN_ERROR_BUSY, "cannot write a bundle in \"%s\": it is not empty", dir);
      rrun_add_hint (error, "choose a new directory; rrun bundle makes it");
      return FALSE;
    }
  rootfs = g_build_filename (dir, "rootfs", NULL);
  config_path = g_build_filename (dir, "config.json", NULL);
  if (mkdir (rootfs, 0755) < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", rootfs);
  if (!rrun_squashfs_flatten_to_dir (g->config, store, image, rootfs, error))
    {
      g_autoptr(GError) local = NULL;
      const char *paths[] = { rootfs, NULL };

      /* What cp wrote may belong to subordinate ids: removed through the user namespace. */
      if (rrun_idmap_resolve ("auto", &map, NULL))
        {
          storage_map = rrun_idmap_storage_map (map);
          rrun_layer_remove_trees (storage_map, paths, &local);
        }
      g_prefix_error (error, "cannot make a bundle of \"%s\": ", argv[1]);
      return FALSE;
    }
  if (!rrun_path_write_atomic (config_path, config_text, strlen (config_text), 0644, error))
    return FALSE;
  *out_status = 0;
  return TRUE;
}
