/* rrun update [LIMIT OPTIONS] CONTAINER...: change the resource limits of running
   containers (docker's and podman's update), in the cgroup `rrun run` gave them. */
#include "cgroup/cgroup.h"
#include "cli/cli.h"
#include "error.h"
#include "log.h"
#include "container/record.h"

#include <stdio.h>

gboolean
rrun_cmd_update (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autoptr(GOptionContext) ctx = g_option_context_new ("CONTAINER...");
  g_autoptr(RrunCgroupLimits) limits = rrun_cgroup_limits_new ();

  g_option_context_set_summary (ctx, "Change the resource limits of running containers: "
                                     "the same limit options as rrun run, written into "
                                     "each container's own cgroup.");
  /* Limits only: update takes no other option, so the group is the main one. */
  g_option_context_set_main_group (ctx, rrun_cgroup_limits_option_group (limits));
  if (!rrun_cli_parse (ctx, "update", &argc, &argv, error))
    return FALSE;
  if (argc < 2)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "update: no container given");
      rrun_add_hint (error, "usage: rrun update [--memory SIZE] [--cpus N] ... CONTAINER...");
      return FALSE;
    }
  limits->updating = TRUE;
  if (!rrun_cgroup_limits_finish (limits, error))
    return FALSE;
  if (!rrun_cgroup_limits_any (limits))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "update: no limit to change");
      rrun_add_hint (error, "give one or more of --memory, --memory-reservation, "
                            "--memory-swap, --cpus, --cpu-shares, --cpu-weight, --cpuset-cpus, "
                            "--cpuset-mems, --pids-limit, --blkio-weight, --device-*; see: "
                            "rrun update --help");
      return FALSE;
    }
  /* Every container is checked before any is changed, so a typo in the second name
     does not leave the first one half updated. */
  {
    g_autoptr(GPtrArray) states = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_state_free);
    g_autoptr(GError) failed = NULL;

    for (int i = 1; i < argc; i++)
      {
        RrunState *s = NULL;

        if (!rrun_state_find (g->config, argv[i], &s, error))
          return FALSE;
        g_ptr_array_add (states, s);
        if (s->cgroup == NULL)
          {
            rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                        "cannot update container \"%s\": it has no cgroup of its own",
                        argv[i]);
            rrun_add_hint (error, "it was started with --cgroups=disabled, or where neither a "
                                  "systemd user manager nor a delegated cgroup v2 directory "
                                  "was there (rrun system check says which)");
            rrun_add_hint (error, "start it again where rrun can give it one, with the limits "
                                  "as rrun run options (docs/cgroups.md)");
            return FALSE;
          }
      }
    /* As docker: a container that cannot be updated is reported and the others are
       still updated; the status says whether all were. */
    for (guint i = 0; i < states->len; i++)
      {
        RrunState *s = states->pdata[i];
        g_autoptr(GError) local = NULL;

        if (!rrun_cgroup_update (s->cgroup, limits, &local))
          {
            g_prefix_error (&local, "cannot update container \"%s\": ", argv[i + 1]);
            if (failed != NULL)
              rrun_log_print_error (failed);
            g_clear_error (&failed);
            failed = g_steal_pointer (&local);
            continue;
          }
        printf ("%s\n", argv[i + 1]);
        fflush (stdout);
      }
    if (failed != NULL)
      {
        g_propagate_error (error, g_steal_pointer (&failed));
        return FALSE;
      }
  }
  *out_status = 0;
  return TRUE;
}
