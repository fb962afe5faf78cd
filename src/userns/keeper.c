#include "userns/keeper.h"
#include "userns/exec.h"
#include "error.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The keeper makes a few raw system calls and nothing else. */
#define KEEPER_STACK_SIZE (64 * 1024)

struct _RrunEarlyUserns
{
  pid_t keeper;
  int userns_fd;
  void *stack;
  RrunIdMapWriter *writer; /* helpers still running; NULL once reaped or in single mode */
};

/* Runs on its own stack in this process's memory but with its own signal state and fd
   table: only raw system calls, which neither touch errno (shared TLS) nor allocate.
   It waits, all signals blocked, for SIGKILL from rrun or from its death (PDEATHSIG). */
__attribute__ ((no_sanitize_address)) static int
keeper_main (void *arg)
{
  pid_t parent = (pid_t) (intptr_t) arg;

  syscall (SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (syscall (SYS_getppid) != parent)
    syscall (SYS_exit, 1);
  /* Hold no copy of rrun's files (a lock, a pipe whose EOF someone awaits). */
  syscall (SYS_close_range, 3, ~0U, 0);
  for (;;)
    syscall (SYS_pause);
  return 0;
}

gboolean
rrun_early_userns_start (const RrunIdMap *map, RrunEarlyUserns **out, GError **error)
{
  g_autoptr(RrunEarlyUserns) e = g_new0 (RrunEarlyUserns, 1);
  g_autofree char *path = NULL;
  sigset_t all, saved;
  int errsv;

  e->keeper = -1;
  e->userns_fd = -1;
  e->stack = mmap (NULL, KEEPER_STACK_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (e->stack == MAP_FAILED)
    {
      e->stack = NULL;
      return rrun_throw_errno (error, errno, "cannot create the user namespace: no memory");
    }
  /* Block everything across clone so the keeper starts with all signals blocked: a
     terminal's Ctrl-C must not run one of rrun's handlers on the keeper's stack. */
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &saved);
  e->keeper = clone (keeper_main, (char *) e->stack + KEEPER_STACK_SIZE,
                     CLONE_VM | CLONE_NEWUSER | SIGCHLD, (void *) (intptr_t) getpid ());
  errsv = errno;
  pthread_sigmask (SIG_SETMASK, &saved, NULL);
  if (e->keeper < 0)
    {
      e->keeper = -1;
      return rrun_userns_clone_error (error, errsv);
    }
  path = g_strdup_printf ("/proc/%d/ns/user", (int) e->keeper);
  e->userns_fd = open (path, O_RDONLY | O_CLOEXEC);
  if (e->userns_fd < 0)
    return rrun_throw_errno (error, errno, "cannot open %s", path);
  if (!rrun_idmap_start_maps (map, e->keeper, &e->writer, error))
    return FALSE;
  *out = g_steal_pointer (&e);
  return TRUE;
}

int
rrun_early_userns_fd (const RrunEarlyUserns *early)
{
  return early->userns_fd;
}

static void
release_keeper (RrunEarlyUserns *e)
{
  if (e->keeper > 0)
    {
      kill (e->keeper, SIGKILL);
      while (waitpid (e->keeper, NULL, 0) < 0 && errno == EINTR)
        ;
      e->keeper = -1;
    }
  /* Only now, with the keeper gone, is its stack free. */
  if (e->stack != NULL)
    {
      munmap (e->stack, KEEPER_STACK_SIZE);
      e->stack = NULL;
    }
}

gboolean
rrun_early_userns_finish (RrunEarlyUserns *early, GError **error)
{
  gboolean ok = rrun_idmap_finish_maps (g_steal_pointer (&early->writer), error);

  release_keeper (early);
  return ok;
}

void
rrun_early_userns_free (RrunEarlyUserns *early)
{
  if (early == NULL)
    return;
  rrun_idmap_finish_maps (g_steal_pointer (&early->writer), NULL);
  release_keeper (early);
  rrun_close_fdp (&early->userns_fd);
  g_free (early);
}
