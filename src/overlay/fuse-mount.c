/* rrun_overlay_mount_fuse_wait: see overlay.h. */
#include "overlay/overlay.h"

#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

gboolean
rrun_overlay_mount_fuse_wait (const char *exe, const char *opts, const char *merged,
                              const char *what, pid_t *out_pid, GError **error)
{
  g_autofree char *parent = g_path_get_dirname (merged);
  struct stat before, now;
  pid_t pid;

  if (stat (parent, &before) < 0)
    return rrun_throw_errno (error, errno, "cannot read \"%s\"", parent);
  pid = fork ();
  if (pid < 0)
    return rrun_throw_errno (error, errno, "cannot start fuse-overlayfs");
  if (pid == 0)
    {
      const char *argv[] = { "fuse-overlayfs", "-f", "-o", opts, merged, NULL };
      int devnull = open ("/dev/null", O_RDWR);

      /* Not the caller's data (fd 0) nor its result (stdout); its chatter ("unknown
         argument ignored") is no message for the user: a failure shows as its exit,
         reported below. */
      if (devnull >= 0)
        {
          dup2 (devnull, 0);
          dup2 (devnull, 1);
          dup2 (devnull, 2);
        }
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      execv (exe, (char *const *) argv);
      _exit (127);
    }
  *out_pid = pid;
  for (int i = 0; i < 1000; i++)
    {
      int status;

      if (stat (merged, &now) == 0 && now.st_dev != before.st_dev)
        return TRUE;
      if (waitpid (pid, &status, WNOHANG) == pid)
        {
          *out_pid = -1;
          return rrun_throw (error, RRUN_ERROR_FAILED,
                             "cannot mount %s: fuse-overlayfs exited (status %d)", what, status);
        }
      g_usleep (10000);
    }
  return rrun_throw (error, RRUN_ERROR_FAILED, "cannot mount %s: fuse-overlayfs did not mount in 10 s",
                     what);
}
