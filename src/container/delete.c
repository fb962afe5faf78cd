/* rrun_container_delete: undo a container, whatever step it reached. */
#include "container/container-private.h"
#include "container/hooks.h"
#include "child/plan.h"
#include "error.h"
#include "userns/idmap.h"
#include "image/tool.h"
#include "log.h"
#include "container/namespaces.h"
#include "network/join.h"
#include "network/network.h"
#include "network/usernet.h"
#include "overlay/overlay.h"
#include "process/caps.h"
#include "process/relay.h"
#include "process/seccomp.h"
#include "process/command.h"
#include "process/tty.h"
#include "rootfs/plan.h"
#include "rootfs/path-probe.h"
#include "container/record.h"
#include "storage/store.h"
#include "userns/keeper.h"
#include "util/fd.h"
#include "util/path.h"
#include "volume/volume.h"

#include <errno.h>
#include <stdio.h>
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

/* Whether every child of ours still running is `except`. */
static gboolean
only_child_left (pid_t except)
{
  g_autoptr(GDir) tasks = g_dir_open ("/proc/self/task", 0, NULL);
  const char *tid;

  if (tasks == NULL || except <= 0)
    return FALSE;
  while ((tid = g_dir_read_name (tasks)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/self/task/%s/children", tid);
      g_autofree char *text = NULL;
      g_auto(GStrv) pids = NULL;

      if (!g_file_get_contents (path, &text, NULL, NULL))
        return FALSE;
      pids = g_strsplit (g_strstrip (text), " ", -1);
      for (guint i = 0; pids[i] != NULL; i++)
        if (*pids[i] != '\0' && atoi (pids[i]) != (int) except)
          return FALSE;
    }
  return TRUE;
}

/* rrun is a child subreaper while it runs a container: setup processes orphaned when
   their parent is killed (PID 1 of a failed start, fuse-overlayfs) come back to it, and
   are reaped here rather than left as zombies. Bounded: 2 s at most. The network helper
   (`except`) is not waited for: it exits on its own once its exit fd hung up, and its exit
   (the kernel unregisters tap0, an RCU grace period) would add 5-20 ms to every run. */
static void
reap_orphans (pid_t except)
{
  for (int i = 0; i < 2000; i++)
    {
      pid_t p = waitpid (-1, NULL, WNOHANG);

      if (p < 0)
        return; /* ECHILD: nothing left */
      if (p == 0)
        {
          if (only_child_left (except))
            return;
          g_usleep (1000);
        }
    }
}

/* The exit code, written into the record's lock file before the lock is let go: a
   `rrun wait` blocked on the lock has the file open and reads it there, even when the
   record (--rm) is gone by then (container/stop.c, rrun_container_wait_exit). */
void
rrun_container_publish_exit_code (int lock_fd, int exit_code)
{
  char text[32];
  int n = snprintf (text, sizeof text, "exit %d\n", exit_code);

  if (ftruncate (lock_fd, 0) < 0 || pwrite (lock_fd, text, (size_t) n, 0) != n)
    g_debug ("cannot write the exit code into the lock file: %s", g_strerror (errno));
}

void
rrun_container_delete (RrunContainer *c)
{
  g_autoptr(GError) local = NULL;
  gboolean remove;
  pid_t helper;

  if (c == NULL)
    return;
  rrun_tty_restore (&c->tty);
  rrun_container_process_destroy (&c->proc);
  rrun_container_hooks_poststop (c);
  g_clear_pointer (&c->early, rrun_early_userns_free);
  /* The helper and the cgroup outlive nothing: the container is gone by now. */
  helper = rrun_network_get_helper_pid (c->net);
  if (c->net != NULL)
    {
      g_clear_pointer (&c->net, rrun_network_detach);
      rrun_debug_phase ("network stopped");
    }
  g_clear_pointer (&c->net_opts, rrun_network_options_free);
  g_clear_pointer (&c->join, rrun_netns_join_free);
  g_clear_pointer (&c->ns_join, rrun_ns_join_free);
  rrun_close_fdp (&c->usernet_userns_fd);
  if (c->usernet_links != NULL)
    {
      /* Its veths went with its network namespace; the addresses and names go now. */
      rrun_usernet_leave (c->config, c->id, NULL);
      g_clear_pointer (&c->usernet_links, g_ptr_array_unref);
      rrun_debug_phase ("network addresses given back");
    }
  g_clear_pointer (&c->cgroup, rrun_cgroup_free);
  reap_orphans (helper);
  rrun_close_fdp (&c->sigfd);
  if (c->signals_blocked)
    sigprocmask (SIG_SETMASK, &c->old_mask, NULL);
  if (c->run_dir && !rrun_path_rm_rf (c->run_dir, &local) && helper > 0)
    {
      /* A helper still starting (the container failed early) can make its API socket
         there after we emptied it: wait for it (its exit fd hung up above) and retry. */
      g_clear_error (&local);
      while (waitpid (helper, NULL, 0) < 0 && errno == EINTR)
        ;
      rrun_path_rm_rf (c->run_dir, &local);
    }
  if (local != NULL)
    {
      rrun_warning ("cannot remove \"%s\": %s", c->run_dir, local->message);
      g_clear_error (&local);
    }
  /* A container that never ran (its start failed) leaves no record, --rm or not; a
     stopped container started again keeps its record whatever happens. */
  remove = c->layer_created
           && (c->created_only ? !c->state_written
                               : c->remove_layer || (!c->state_written && !c->restart));
  if (c->layer_created && !remove && c->state_written && !c->created_only)
    {
      /* Kept: the record says how it ended, before the lock that makes it live goes. */
      if (!rrun_state_write_exited (c->config, c->id,
                                    c->exited ? c->exit_code : RRUN_EXIT_CODE_UNKNOWN,
                                    c->oom_killed, g_get_real_time () * 1000, &local))
        {
          rrun_warning ("cannot record the container's exit: %s", local->message);
          g_clear_error (&local);
        }
    }
  if (c->exited && c->state_written && c->lock_fd >= 0)
    rrun_container_publish_exit_code (c->lock_fd, c->exit_code);
  if (remove)
    {
      /* The record's file first: the writable layer's directory is then removed in place
         (rrun_store_remove_container_dirs), and a kill between the two leaves a record
         without state, which ps skips and the next gc removes. */
      g_autofree char *dir = rrun_record_dir (c->config, c->id);
      g_autofree char *record = g_build_filename (dir, RRUN_RECORD_FILE, NULL);
      unlink (record);
    }
  if (remove && c->spec != NULL && c->spec->name != NULL)
    rrun_container_name_release (c->config, c->spec->name, c->id);
  if (remove)
    {
      /* --rm: anonymous volumes go with the container, once its record (mounts.json) no
         longer lists them, unless another container uses them (--volumes-from); named
         ones stay (as with docker). */
      g_autofree char *dir = rrun_record_dir (c->config, c->id);
      g_auto(GStrv) names = rrun_volume_names_of_record (dir);

      if (!rrun_store_remove_container_dirs (c->store, c->storage_map, c->id, &local))
        rrun_warning ("cannot remove the container's writable layer: %s", local->message);
      else
        rrun_volume_remove_unused_anonymous (c->config, c->storage_map, names);
      g_clear_error (&local);
      /* --rmi: the image name given goes after its container (and the image with it when
         nothing else names it), unless another container uses it. */
      if (c->spec != NULL && c->spec->rmi && c->image != NULL && c->restart == FALSE)
        {
          g_autofree char *removed = NULL;

          if (!rrun_store_remove_image (c->store, c->storage_map, c->spec->image, FALSE,
                                        &removed, &local))
            rrun_warning ("--rmi: cannot remove the image: %s", local->message);
        }
    }
  rrun_close_fdp (&c->init_fd);
  rrun_close_fdp (&c->lock_fd);
  rrun_debug_phase ("cleaned up");
  g_free (c->id);
  g_free (c->run_dir);
  rrun_image_free (c->image);
  rrun_user_free (c->user);
  rrun_caps_free (c->caps);
  rrun_mount_plan_free (c->mounts);
  rrun_container_mounts_free (c->volumes);
  rrun_device_edits_free (c->devices);
  g_clear_pointer (&c->create_hooks, g_array_unref);
  g_clear_pointer (&c->start_hooks, g_array_unref);
  rrun_close_fdp (&c->hook_state_fd);
  rrun_overlay_setup_free (c->overlay);
  g_free (c->passwd);
  g_free (c->group);
  g_free (c->upper);
  g_free (c->work);
  g_free (c->merged);
  g_free (c->hostname);
  g_free (c->fuse_uidmap);
  g_free (c->fuse_gidmap);
  g_free (c->recorded_driver);
  g_free (c->keep_id_user);
  rrun_squashfs_image_free (c->squash);
  g_free (c->squash_dir);
  g_free (c->squash_exe);
  g_strfreev (c->squash_argv);
  g_clear_pointer (&c->seccomp, g_bytes_unref);
  g_free (c->etc_hostname);
  g_free (c->etc_hosts);
  g_free (c->etc_resolv);
  g_free (c->etc_apt_conf);
  g_free (c->inner_uid);
  g_free (c->inner_gid);
  g_strfreev (c->argv);
  g_strfreev (c->envp);
  g_clear_pointer (&c->rlimits, g_array_unref);
  g_clear_pointer (&c->sysctls, g_array_unref);
  g_clear_pointer (&c->strings, g_string_chunk_free);
  rrun_idmap_free (c->map);
  rrun_idmap_free (c->storage_map);
  rrun_store_free (c->store);
  g_free (c);
}

