#include "container/pause.h"
#include "error.h"

#include <errno.h>
#include <string.h>

gboolean
rrun_container_is_frozen (const char *cgroup)
{
  g_autofree char *path = NULL, *text = NULL;

  if (cgroup == NULL)
    return FALSE;
  path = g_build_filename (cgroup, "cgroup.events", NULL);
  return g_file_get_contents (path, &text, NULL, NULL) && strstr (text, "frozen 1") != NULL;
}

gboolean
rrun_container_freeze (const RrunState *s, gboolean freeze, GError **error)
{
  const char *what = s->name && *s->name ? s->name : s->id;
  g_autofree char *path = NULL;

  if (!s->live || s->status != RRUN_STATUS_RUNNING)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "cannot %s container \"%s\": it is not running",
                       freeze ? "pause" : "unpause", what);
  if (s->cgroup == NULL)
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                  "cannot %s container \"%s\": it has no cgroup of its own",
                  freeze ? "pause" : "unpause", what);
      rrun_add_hint (error, "pausing uses the cgroup v2 freezer: run the container where "
                            "a cgroup is delegated to you (see docs/cgroups.md)");
      return FALSE;
    }
  if (!freeze && !rrun_container_is_frozen (s->cgroup))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "cannot unpause container \"%s\": it is not paused", what);
  path = g_build_filename (s->cgroup, "cgroup.freeze", NULL);
  if (!g_file_set_contents_full (path, freeze ? "1" : "0", 1, G_FILE_SET_CONTENTS_NONE, 0644,
                                 error))
    return FALSE;
  /* The kernel freezes asynchronously: cgroup.events says when every task is. */
  for (int i = 0; i < 500; i++)
    {
      if (rrun_container_is_frozen (s->cgroup) == freeze)
        return TRUE;
      g_usleep (10000);
    }
  return rrun_throw (error, RRUN_ERROR_BUSY, "container \"%s\" did not %s within 5 s", what,
                     freeze ? "freeze" : "thaw");
}
