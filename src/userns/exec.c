#include "userns/exec.h"
#include "child/userns.h"
#include "container/namespaces.h"
#include "error.h"
#include "util/fd.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdio.h>
#include <unistd.h>

/* Read all of fd until EOF into a string. */
static char *
slurp (int fd)
{
  GString *s = g_string_new (NULL);
  char buf[4096];

  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      g_string_append_len (s, buf, n);
    }
  return g_string_free (s, FALSE);
}

gboolean
rrun_userns_clone_error (GError **error, int errsv)
{
  rrun_throw_errno (error, errsv, "cannot create a user namespace");
  if (errsv == ENOSPC)
    rrun_add_hint (error, "user.max_user_namespaces is exhausted or 0; an administrator "
                          "can raise it: sudo sysctl user.max_user_namespaces=15000");
  else if (errsv == EPERM || errsv == EACCES)
    rrun_add_hint (error, "unprivileged user namespaces are disabled here; run "
                          "'rrun system check' for the setting that blocks them");
  return FALSE;
}

gboolean
rrun_userns_exec (const RrunIdMap *map, const char *const *argv, int stdin_fd,
                  char **out_stdout, GError **error)
{
  g_auto(GStrv) env = g_get_environ ();
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  rrun_autofd int devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  int sync_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 }, out_pipe[2] = { -1, -1 };
  RrunChildReport report;
  gssize report_len;
  g_autofree char *err_text = NULL;
  g_autofree char *out_text = NULL;
  g_autoptr(GError) map_error = NULL;
  RrunUsernsChildPlan plan;
  pid_t pid;
  int status = 0;

  if (devnull < 0)
    return rrun_throw_errno (error, errno, "open /dev/null");
  /* stderr goes to a memfd, read after exit, so a chatty helper cannot fill a pipe we
     are not reading while we drain stdout. */
  err_pipe[0] = memfd_create ("rrun-helper-stderr", MFD_CLOEXEC);
  if (err_pipe[0] >= 0)
    err_pipe[1] = fcntl (err_pipe[0], F_DUPFD_CLOEXEC, 0);
  /* The report socket: the go byte one way, a failure record the other (as for the
     container's setup processes). */
  if (err_pipe[1] < 0 || socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync_pipe) < 0
      || pipe2 (out_pipe, O_CLOEXEC) < 0)
    {
      int errsv = errno;
      rrun_close_fdp (&sync_pipe[0]), rrun_close_fdp (&sync_pipe[1]);
      rrun_close_fdp (&err_pipe[0]), rrun_close_fdp (&err_pipe[1]);
      return rrun_throw_errno (error, errsv, "create pipe");
    }
  for (guint i = argv[0] ? 0 : 1; argv[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) argv[i]);
  if (argv[0] == NULL)
    g_ptr_array_insert (args, 0, (gpointer) "rrun");
  g_ptr_array_add (args, NULL);
  plan = (RrunUsernsChildPlan){
    .report_fd = sync_pipe[0],
    .stdin_fd = stdin_fd >= 0 ? stdin_fd : devnull,
    .stdout_fd = out_stdout ? out_pipe[1] : devnull,
    .stderr_fd = err_pipe[1],
    .exe = argv[0] ? argv[0] : "/proc/self/exe",
    .argv = (char *const *) args->pdata,
    .envp = env,
  };

  /* A raw clone (no glibc fork handlers); the child only runs child/userns.c. */
  pid = (pid_t) syscall (SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid == 0)
    rrun_userns_child_main (&plan);
  {
    int errsv = errno;
    close (sync_pipe[0]);
    close (err_pipe[1]);
    close (out_pipe[1]);
    if (pid < 0)
      {
        close (sync_pipe[1]);
        close (err_pipe[0]);
        close (out_pipe[0]);
        return rrun_userns_clone_error (error, errsv);
      }
  }
  if (rrun_idmap_write_maps (map, pid, &map_error))
    (void) !send (sync_pipe[1], "x", 1, MSG_NOSIGNAL);
  else
    shutdown (sync_pipe[1], SHUT_WR); /* the child sees EOF and exits quietly */
  out_text = slurp (out_pipe[0]);
  close (out_pipe[0]);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  /* The child has exited: a record is there now, or none will come. */
  do
    report_len = recv (sync_pipe[1], &report, sizeof report, MSG_DONTWAIT);
  while (report_len < 0 && errno == EINTR);
  close (sync_pipe[1]);
  lseek (err_pipe[0], 0, SEEK_SET);
  err_text = slurp (err_pipe[0]);
  close (err_pipe[0]);
  if (map_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&map_error));
      return FALSE;
    }
  if (report_len == (gssize) sizeof report)
    {
      rrun_child_report_to_error (&report, NULL, error);
      return FALSE;
    }
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      g_strstrip (err_text);
      if (*err_text != '\0')
        {
          /* The helper prints errors as rrun does: "rrun: what: why" then hints. */
          const char *msg = g_str_has_prefix (err_text, "rrun: ") ? err_text + 6 : err_text;
          int code = WIFEXITED (status) && WEXITSTATUS (status) == 3 ? RRUN_ERROR_CORRUPT
                                                                      : RRUN_ERROR_FAILED;
          return rrun_throw (error, code, "%s", msg);
        }
      if (WIFSIGNALED (status))
        return rrun_throw (error, RRUN_ERROR_FAILED, "%s was killed by signal %d",
                           plan.exe, WTERMSIG (status));
      return rrun_throw (error, RRUN_ERROR_FAILED, "%s exited with status %d", plan.exe,
                         WEXITSTATUS (status));
    }
  else if (*err_text != '\0')
    /* Warnings from the helper pass through as they are. */
    fputs (err_text, stderr);
  if (out_stdout)
    *out_stdout = g_steal_pointer (&out_text);
  return TRUE;
}
