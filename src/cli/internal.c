/* `rrun __internal ...`: helpers rrun runs as root of its user namespace
   (rrun_userns_exec). Not for users; the host side turns their output into results. */
#include "cli/cli.h"
#include "error.h"
#include "container/copy.h"
#include "image/layer.h"
#include "log.h"
#include "util/path.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Exit status 3 tells rrun_userns_exec the input was corrupt or hostile. */
#define INTERNAL_EXIT_CORRUPT 3

#ifdef RRUN_IMAGE_SIDE
/* Only the image tool links the extractor (libarchive): rrun_layer_extract runs it. */
static gboolean
extract_layer (int argc, char **argv, int *out_status, GError **error)
{
  g_auto(RrunLayerStats) stats = { 0 };
  g_autoptr(GError) local = NULL;

  if (argc != 2)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "usage: rrun __internal extract-layer DEST < TAR");
  if (!rrun_layer_extract_stream (STDIN_FILENO, argv[1], &stats, &local))
    {
      if (g_error_matches (local, RRUN_ERROR, RRUN_ERROR_CORRUPT))
        {
          rrun_log_print_error (local);
          *out_status = INTERNAL_EXIT_CORRUPT;
          return TRUE;
        }
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  /* The host side turns these into results and warnings: it knows the user's name and
     the id map, this side only sees root. */
  printf ("diff_id %s\nsize %" G_GUINT64_FORMAT "\nunmapped %" G_GUINT64_FORMAT " %u\n"
          "devices %" G_GUINT64_FORMAT " %s\n",
          stats.diff_id, stats.size, stats.chown_failures, stats.max_unmapped_id,
          stats.devices_skipped, stats.first_device ? stats.first_device : "");
  if (fflush (stdout) != 0)
    return rrun_throw_errno (error, errno, "write the layer digest");
  *out_status = 0;
  return TRUE;
}

#endif

static gboolean
rm_tree (int argc, char **argv, int *out_status, GError **error)
{
  if (argc < 2)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "usage: rrun __internal rm-tree PATH...");
  for (int i = 1; i < argc; i++)
    {
      if (argv[i][0] != '/')
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "rm-tree: \"%s\" is not an absolute path", argv[i]);
      if (!rrun_path_rm_rf (argv[i], error))
        return FALSE; /* the message names the file that could not go */
    }
  *out_status = 0;
  return TRUE;
}

gboolean
rrun_cmd_internal (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
#ifdef RRUN_IMAGE_SIDE
  if (argc >= 2 && strcmp (argv[1], "extract-layer") == 0)
    return extract_layer (argc - 1, argv + 1, out_status, error);
  if (argc >= 2 && strcmp (argv[1], "copy") == 0)
    {
      g_autoptr(GError) local = NULL;

      /* Its error as a result line: the host side keeps its code (a missing path is
         docker's exit 1). */
      if (!rrun_copy_internal (argc - 1, argv + 1, &local))
        printf ("error %d %s\n", local->domain == RRUN_ERROR ? local->code : RRUN_ERROR_FAILED,
                local->message);
      fflush (stdout);
      *out_status = 0;
      return TRUE;
    }
#endif
  if (argc >= 2 && strcmp (argv[1], "rm-tree") == 0)
    return rm_tree (argc - 1, argv + 1, out_status, error);
  return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                     "unknown internal command \"%s\"", argc >= 2 ? argv[1] : "");
}
