#include "rootfs/path-probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ENOENT: rel is missing below the layer root, reached without a symlink. Anything else
   (found, a symlink or non-directory on the way, no openat2) is "maybe there". */
static gboolean
missing_in_layer (int root, const char *rel)
{
  struct open_how how = { .flags = O_PATH | O_CLOEXEC,
                          .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH };
  int fd;

  if (root < 0)
    return FALSE;
  fd = (int) syscall (SYS_openat2, root, rel, &how, sizeof how);
  if (fd >= 0)
    {
      close (fd);
      return FALSE;
    }
  return errno == ENOENT;
}

/* An absolute directory without "." or ".." components, in canonical form (no repeated or
   trailing slashes), so that it compares with the mount targets. */
static char *
plain_dir (const char *entry, gsize len)
{
  g_autofree char *dir = g_strndup (entry, len);
  g_auto(GStrv) parts = NULL;

  if (dir[0] != '/')
    return NULL;
  parts = g_strsplit (dir, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (strcmp (parts[i], ".") == 0 || strcmp (parts[i], "..") == 0)
      return NULL;
  return g_canonicalize_filename (dir, "/");
}

/* a is b, or one of them lies below the other. */
static gboolean
nested (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);

  if (strcmp (a, "/") == 0 || strcmp (b, "/") == 0)
    return TRUE;
  if (la <= lb)
    return strncmp (a, b, la) == 0 && (b[la] == '\0' || b[la] == '/');
  return strncmp (a, b, lb) == 0 && a[lb] == '/';
}

guint64
rrun_path_probe_absent (const char *path, const char *cmd, const char *const *layer_dirs,
                        guint n_layers, const RrunMountOp *mounts, gsize n_mounts)
{
  g_autofree int *roots = NULL;
  g_autoptr(GPtrArray) targets = NULL;
  guint64 absent = 0;
  guint i = 0;

  if (path == NULL || cmd == NULL || *cmd == '\0' || strchr (cmd, '/') != NULL
      || n_layers == 0)
    return 0;
  /* Mount targets as given may hold "//" or "/./" (volumes keep the user's spelling). */
  targets = g_ptr_array_new_with_free_func (g_free);
  for (gsize m = 0; m < n_mounts; m++)
    if (mounts[m].target != NULL)
      g_ptr_array_add (targets, g_canonicalize_filename (mounts[m].target, "/"));
  roots = g_new (int, n_layers);
  for (guint l = 0; l < n_layers; l++)
    roots[l] = open (layer_dirs[l], O_PATH | O_DIRECTORY | O_CLOEXEC);
  for (const char *entry = path; entry != NULL && i < 64; i++)
    {
      const char *end = strchr (entry, ':');
      gsize len = end ? (gsize) (end - entry) : strlen (entry);
      g_autofree char *dir = plain_dir (entry, len);
      g_autofree char *rel = NULL;
      gboolean missing = dir != NULL;

      for (guint m = 0; missing && m < targets->len; m++)
        if (nested (targets->pdata[m], dir))
          missing = FALSE;
      if (missing)
        rel = g_strconcat (dir + 1, *(dir + 1) ? "/" : "", cmd, NULL);
      for (guint l = 0; missing && l < n_layers; l++)
        missing = missing_in_layer (roots[l], rel);
      if (missing)
        absent |= G_GUINT64_CONSTANT (1) << i;
      entry = end ? end + 1 : NULL;
    }
  for (guint l = 0; l < n_layers; l++)
    if (roots[l] >= 0)
      close (roots[l]);
  return absent;
}
