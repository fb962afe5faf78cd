/* Host side of layer handling: extraction and removal run as root of a user namespace
   (`rrun __internal ...`), so files of subordinate ids can be written and deleted. The
   extraction itself (libarchive) is in layer-extract.c, linked only into the image tool,
   which keeps `rrun run` free of libarchive and its libraries. */
#include "image/layer.h"
#include "error.h"
#include "log.h"
#include "userns/exec.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* ---- host side ---------------------------------------------------------------------- */

/* The log level travels to the helper as an option, the way the user gave it to us. */
static void
add_log_args (GPtrArray *args)
{
  const char *option = rrun_log_level_option ();

  if (option != NULL)
    g_ptr_array_add (args, (gpointer) option);
}

gboolean
rrun_layer_extract (const RrunIdMap *map, int tar_fd, const char *dest, char **out_diff_id,
                    guint64 *out_size, guint64 *out_unmapped, GError **error)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autofree char *out = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree char *diff_id = NULL, *first_device = NULL;
  guint64 size = 0, unmapped = 0, max_id = 0, devices = 0;
  char *end;

  g_ptr_array_add (args, NULL); /* this rrun */
  add_log_args (args);
  g_ptr_array_add (args, (gpointer) "__internal");
  g_ptr_array_add (args, (gpointer) "extract-layer");
  g_ptr_array_add (args, (gpointer) dest);
  g_ptr_array_add (args, NULL);
  if (!rrun_userns_exec (map, (const char *const *) args->pdata, tar_fd, &out, error))
    return FALSE;
  /* "diff_id sha256:<hex>\nsize N\nunmapped COUNT MAXID\ndevices COUNT FIRST\n" */
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      if (g_str_has_prefix (lines[i], "diff_id "))
        diff_id = g_strdup (lines[i] + 8);
      else if (g_str_has_prefix (lines[i], "size "))
        size = g_ascii_strtoull (lines[i] + 5, NULL, 10);
      else if (g_str_has_prefix (lines[i], "unmapped "))
        unmapped = g_ascii_strtoull (lines[i] + 9, &end, 10),
        max_id = g_ascii_strtoull (end, NULL, 10);
      else if (g_str_has_prefix (lines[i], "devices "))
        {
          devices = g_ascii_strtoull (lines[i] + 8, &end, 10);
          first_device = g_strdup (g_strchug (end));
        }
    }
  if (diff_id == NULL || !g_str_has_prefix (diff_id, "sha256:") || strlen (diff_id) != 71)
    return rrun_throw (error, RRUN_ERROR_FAILED,
                       "cannot extract layer: the helper printed no digest");
  if (devices > 0)
    rrun_warning ("skipped %" G_GUINT64_FORMAT " device node%s (first \"/%s\"): they cannot "
                  "be created without privileges",
                  devices, devices == 1 ? "" : "s", first_device);
  if (unmapped > 0)
    rrun_warning ("%" G_GUINT64_FORMAT " file%s in the layer belong%s to IDs outside the "
                  "%u mapped ID%s (up to %" G_GUINT64_FORMAT "); %s to you instead\n"
                  "hint: a subordinate range of at least %" G_GUINT64_FORMAT " IDs in "
                  "/etc/subuid and /etc/subgid maps them (an administrator can run: sudo "
                  "subuid-setup.sh %s)",
                  unmapped, unmapped == 1 ? "" : "s", unmapped == 1 ? "s" : "",
                  rrun_idmap_span (map->uid_map), rrun_idmap_span (map->uid_map) == 1 ? "" : "s", max_id, unmapped == 1 ? "it belongs" : "they belong",
                  max_id, g_get_user_name ());
  *out_diff_id = g_steal_pointer (&diff_id);
  if (out_size)
    *out_size = size;
  if (out_unmapped)
    *out_unmapped = unmapped;
  return TRUE;
}

gboolean
rrun_layer_diff (const RrunIdMap *map, const char *upper, const char *out_path, GError **error)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();

  g_ptr_array_add (args, NULL);
  add_log_args (args);
  g_ptr_array_add (args, (gpointer) "__internal");
  g_ptr_array_add (args, (gpointer) "diff-layer");
  g_ptr_array_add (args, (gpointer) upper);
  g_ptr_array_add (args, (gpointer) out_path);
  g_ptr_array_add (args, NULL);
  return rrun_userns_exec (map, (const char *const *) args->pdata, -1, NULL, error);
}

gboolean
rrun_layer_remove_trees (const RrunIdMap *map, const char *const *paths, GError **error)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  guint n = 0;

  g_ptr_array_add (args, NULL);
  add_log_args (args);
  g_ptr_array_add (args, (gpointer) "__internal");
  g_ptr_array_add (args, (gpointer) "rm-tree");
  for (guint i = 0; paths[i]; i++)
    if (access (paths[i], F_OK) == 0 || errno != ENOENT)
      {
        g_ptr_array_add (args, (gpointer) paths[i]);
        n++;
      }
  g_ptr_array_add (args, NULL);
  if (n == 0)
    return TRUE;
  return rrun_userns_exec (map, (const char *const *) args->pdata, -1, NULL, error);
}
