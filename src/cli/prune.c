/* rrun image prune [-a] [-f]: delete dangling images (untagged, no running container),
   with -a every image no running container uses, then layers nothing uses. Without -f it
   asks first, as docker does, reading the answer from standard input whether or not it
   is a terminal; anything but y/yes, or end of input, cancels. */
#include "cli/cli.h"
#include "cli/common.h"
#include "error.h"
#include "storage/store.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

gboolean
rrun_cmd_image_prune (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean all = FALSE, force = FALSE, help;
  const GOptionEntry entries[]
      = { { "all", 'a', 0, G_OPTION_ARG_NONE, &all,
            "Remove every image no running container uses, not only dangling ones", NULL },
          { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Do not ask for confirmation", NULL },
          { NULL } };
  const RrunCliSpec spec = { "image prune",
                             "",
                             "Remove dangling images (no name, no running container) and "
                             "layers no image uses.\nWith -a, every image no running "
                             "container uses. Asks first unless -f.",
                             0,
                             0,
                             NULL,
                             NULL,
                             FALSE };
  g_autoptr (RrunStore) store = NULL;
  g_autoptr (RrunIdMap) map = NULL;
  g_auto (GStrv) untagged = NULL, deleted = NULL;
  g_autofree char *size = NULL;
  guint64 reclaimed = 0;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  if (!force
      && !rrun_cli_confirm (all ? "all images without at least one running container "
                                  "associated to them"
                                : "all dangling images"))
    {
      rrun_throw (error, RRUN_ERROR_FAILED, "image prune cancelled: not confirmed");
      rrun_add_hint (error, "answer y, or use 'rrun image prune -f' to skip the question");
      return FALSE;
    }
  if (!rrun_store_open (g->config, &store, error) || !rrun_cli_storage_idmap (g, &map, error)
      || !rrun_store_prune_images (store, map, all, &untagged, &deleted, &reclaimed, error))
    return FALSE;
  if (untagged[0] || deleted[0])
    {
      printf ("Deleted Images:\n");
      for (guint i = 0; untagged[i]; i++)
        printf ("untagged: %s\n", untagged[i]);
      for (guint i = 0; deleted[i]; i++)
        printf ("deleted: %s\n", deleted[i]);
      printf ("\n");
    }
  size = rrun_cli_human_size (reclaimed);
  printf ("Total reclaimed space: %s\n", size);
  return TRUE;
}
