/* `rrun __internal ...`: helpers rrun runs as root of its user namespace
   (rrun_userns_exec). Not for users; the host side turns their output into results. */
#include "cli/cli.h"
#include "error.h"
#include "container/copy.h"
#include "image/layer.h"
#include "log.h"
#include "network/dns.h"
#include "network/holder.h"
#include "network/usernet.h"
#include "util/fd.h"
#include "util/path.h"
#include "squashfs/squashfs.h"
#include "volume/copy-up.h"

#include <errno.h>
#include <fcntl.h>

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

static gboolean
diff_layer (int argc, char **argv, int *out_status, GError **error)
{
  rrun_autofd int fd = -1;

  if (argc != 3)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "usage: rrun __internal diff-layer UPPER OUT");
  fd = open (argv[2], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", argv[2]);
  if (!rrun_layer_diff_write (argv[1], fd, NULL, error) || fsync (fd) < 0)
    {
      if (error && *error == NULL)
        rrun_throw_errno (error, errno, "cannot write \"%s\"", argv[2]);
      return FALSE;
    }
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

/* copy-up DEST REL LAYER... (layers top first): volume/copy-up.h */
static gboolean
copy_up (int argc, char **argv, int *out_status, GError **error)
{
  if (argc < 4 || argv[1][0] != '/')
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "usage: rrun __internal copy-up DEST REL LAYER...");
  if (!rrun_copy_up_tree ((const char *const *) argv + 3, argv[2], argv[1], error))
    return FALSE;
  *out_status = 0;
  return TRUE;
}

/* chown-tree UID GID PATH: the U volume option */
static gboolean
chown_tree (int argc, char **argv, int *out_status, GError **error)
{
  if (argc != 4 || argv[3][0] != '/')
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "usage: rrun __internal chown-tree UID GID PATH");
  if (!rrun_chown_tree_helper (argv[3], (guint32) g_ascii_strtoull (argv[1], NULL, 10),
                               (guint32) g_ascii_strtoull (argv[2], NULL, 10), error))
    return FALSE;
  *out_status = 0;
  return TRUE;
}

gboolean
rrun_cmd_internal (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
#ifdef RRUN_IMAGE_SIDE
  if (argc >= 2 && strcmp (argv[1], "extract-layer") == 0)
    return extract_layer (argc - 1, argv + 1, out_status, error);
  if (argc >= 2 && strcmp (argv[1], "diff-layer") == 0)
    return diff_layer (argc - 1, argv + 1, out_status, error);
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
  if (argc >= 2 && strcmp (argv[1], "copy-up") == 0)
    return copy_up (argc - 1, argv + 1, out_status, error);
  if (argc >= 2 && strcmp (argv[1], "flatten") == 0)
    {
      if (!rrun_squashfs_export_internal (argc - 1, argv + 1, error))
        return FALSE;
      *out_status = 0;
      return TRUE;
    }
  if (argc >= 2 && strcmp (argv[1], "chown-tree") == 0)
    return chown_tree (argc - 1, argv + 1, out_status, error);
  /* The network holder (network/holder.h); -ensure and -stop are for tests. */
  if (argc >= 2 && strcmp (argv[1], "net-holder") == 0)
    {
      *out_status = 0;
      return rrun_net_holder_main (g->config, argc - 1, argv + 1, error);
    }
#ifdef RRUN_IMAGE_SIDE
  /* The holder's child and its sync: rrun-image links their netlink libraries. */
  if (argc >= 2 && (strcmp (argv[1], "net-holder-ns") == 0
                    || strcmp (argv[1], "net-holder-sync") == 0))
    {
      gboolean ok = strcmp (argv[1], "net-holder-ns") == 0
                        ? rrun_net_holder_ns_main (g->config, argc - 1, argv + 1, error)
                        : rrun_net_holder_sync_main (g->config, argc - 1, argv + 1, error);
      *out_status = 0;
      return ok;
    }
#endif
  if (argc >= 2 && (strcmp (argv[1], "net-attach") == 0 || strcmp (argv[1], "net-detach") == 0))
    {
      gboolean ok = strcmp (argv[1], "net-attach") == 0
                        ? rrun_usernet_attach_main (g->config, argc - 1, argv + 1, error)
                        : rrun_usernet_detach_main (g->config, argc - 1, argv + 1, error);
      *out_status = 0;
      return ok;
    }
  /* The DNS server alone (network/dns.h), for tests and the benchmark. */
  if (argc >= 2 && strcmp (argv[1], "net-dns") == 0)
    {
      *out_status = 0;
      return rrun_dns_server_main (argc - 1, argv + 1, error);
    }
  if (argc == 2 && strcmp (argv[1], "net-holder-ensure") == 0)
    {
      pid_t pid = 0;

      if (!rrun_net_holder_ensure (g->config, &pid, error))
        return FALSE;
      printf ("%d\n", (int) pid);
      *out_status = 0;
      return TRUE;
    }
  if (argc == 2 && strcmp (argv[1], "net-holder-stop") == 0)
    {
      *out_status = 0;
      return rrun_net_holder_stop (g->config, error);
    }
  return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                     "unknown internal command \"%s\"", argc >= 2 ? argv[1] : "");
}
