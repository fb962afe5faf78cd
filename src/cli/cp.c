/* rrun cp [-a] CONTAINER:SRC DEST|-   and   rrun cp [-a] SRC|- CONTAINER:DEST
   (rrun-image: the archive code links libarchive; container/copy.c). */
#include "cli/cli.h"
#include "container/copy.h"
#include "container/record.h"
#include "error.h"
#include "log.h"

#include <string.h>

/* docker's reading of a cp operand: CONTAINER:PATH, unless it is an absolute path or
   what comes before the first ':' holds a '/' (./a:b is a local file). */
static gboolean
split_operand (const char *arg, char **out_container, char **out_path)
{
  const char *colon = strchr (arg, ':');

  if (arg[0] == '/' || colon == NULL || memchr (arg, '/', (gsize) (colon - arg)) != NULL
      || colon == arg)
    return FALSE;
  *out_container = g_strndup (arg, (gsize) (colon - arg));
  *out_path = g_strdup (colon + 1);
  return TRUE;
}

gboolean
rrun_cmd_cp (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean archive = FALSE, follow = FALSE, quiet = FALSE, help;
  const GOptionEntry entries[] = {
    { "archive", 'a', 0, G_OPTION_ARG_NONE, &archive,
      "Keep the files' owners (copying in; otherwise they belong to the container's root)",
      NULL },
    { "follow-link", 'L', 0, G_OPTION_ARG_NONE, &follow, "Follow a symbolic link in SRC",
      NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress (there is none)", NULL },
    { NULL }
  };
  const RrunCliSpec spec = { "cp", "CONTAINER:SRC DEST|-  or  SRC|- CONTAINER:DEST",
                             "Copy files between a container and the host.", 2, 2,
                             "rrun cp CONTAINER:SRC DEST, or rrun cp SRC CONTAINER:DEST", NULL,
                             FALSE };
  g_autofree char *src_ctr = NULL, *src_path = NULL, *dst_ctr = NULL, *dst_path = NULL;
  g_autoptr(RrunState) state = NULL;
  g_autoptr(GError) local = NULL;
  gboolean from_ctr, to_ctr, ok;
  RrunCopyFlags flags;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  from_ctr = split_operand (argv[1], &src_ctr, &src_path);
  to_ctr = split_operand (argv[2], &dst_ctr, &dst_path);
  if (from_ctr == to_ctr)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  from_ctr ? "cp: copying between containers is not supported"
                           : "cp: one of SRC and DEST must be CONTAINER:PATH");
      rrun_add_hint (error, "rrun cp CONTAINER:SRC DEST, or rrun cp SRC CONTAINER:DEST");
      return FALSE;
    }
  if (!rrun_state_find_any (g->config, from_ctr ? src_ctr : dst_ctr, &state, error))
    return FALSE;
  flags = (archive ? RRUN_COPY_ARCHIVE : 0) | (follow ? RRUN_COPY_FOLLOW : 0);
  if (from_ctr)
    ok = rrun_container_copy_out (g->config, state, *src_path ? src_path : "/", argv[2],
                                  flags, &local);
  else
    ok = rrun_container_copy_in (g->config, state, argv[1], *dst_path ? dst_path : "/",
                                 flags, &local);
  if (ok)
    return TRUE;
  /* A path that is not there: docker's status 1; anything else is rrun's 125. */
  if (g_error_matches (local, RRUN_ERROR, RRUN_ERROR_NOT_FOUND))
    {
      rrun_log_print_error (local);
      *out_status = 1;
      return TRUE;
    }
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}
