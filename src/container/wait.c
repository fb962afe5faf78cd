/* rrun_container_wait: relay until the command exits. */
#include "container/container-private.h"
#include "child/plan.h"
#include "error.h"
#include "userns/idmap.h"
#include "image/tool.h"
#include "log.h"
#include "container/namespaces.h"
#include "network/join.h"
#include "network/network.h"
#include "overlay/overlay.h"
#include "process/caps.h"
#include "process/relay.h"
#include "process/seccomp.h"
#include "process/command.h"
#include "process/tty.h"
#include "rootfs/plan.h"
#include "rootfs/path-probe.h"
#include "rootfs/mount-args.h"
#include "container/record.h"
#include "storage/store.h"
#include "userns/keeper.h"
#include "util/fd.h"
#include "util/path.h"

#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

/* PID 1 has exited: the run dir's files (state, /etc files, the network helper's socket
   and log) go now, while the namespace holder unmounts and empties the writable layer
   (on a disk that discards freed blocks, each removal waits ~0.1 ms). "merged", the root's
   mount point in the holder's namespace, goes once the holder is gone. */
static void
remove_run_files (gpointer user_data)
{
  RrunContainer *c = user_data;
  g_autoptr(GDir) d = c->run_dir ? g_dir_open (c->run_dir, 0, NULL) : NULL;
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (strcmp (name, "merged") != 0)
      {
        g_autofree char *path = g_build_filename (c->run_dir, name, NULL);
        rrun_path_rm_rf (path, NULL);
      }
}

gboolean
rrun_container_wait (RrunContainer *c, int *out_status, GError **error)
{
  if (!rrun_relay_run (&c->proc, c->sigfd, remove_run_files, c, out_status, error))
    return FALSE;
  rrun_debug_phase ("command exited");
  c->exited = TRUE;
  c->exit_code = *out_status;
  {
    guint64 limit = 0;

    if (rrun_cgroup_oom_killed (c->cgroup, &limit))
      {
        c->oom_killed = TRUE;
        c->exit_code = 137;
        g_autofree char *size = g_strdup_printf ("%" G_GUINT64_FORMAT " MiB", limit >> 20);
        return rrun_throw (error, RRUN_ERROR_OOM, "container killed: out of memory (limit %s)",
                           size);
      }
  }
  return TRUE;
}
