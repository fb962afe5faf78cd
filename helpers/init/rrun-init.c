/* rrun-init: PID 1 of a container run with --init. rrun's setup process forks the
   command, then execs this program from a sealed memfd (src/process/exec-child.c), so
   PID 1 holds nothing of the host: the container's environment, /dev/null as stdio, no
   other fd, and an executable no process can write. It forwards every signal it
   receives to the command, reaps every child (orphans are re-parented here), and exits
   with the command's status (128+N when signal N ended it).

   Usage: rrun-init PID (the command's pid, already this process's child). Built static:
   it runs in the container's root, where the host's libraries are not. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  sigset_t all;
  pid_t command = 0;

  if (argc != 2)
    return 125;
  for (const char *s = argv[1]; *s != '\0'; s++)
    {
      if (*s < '0' || *s > '9' || command > 1000000000)
        return 125;
      command = command * 10 + (*s - '0');
    }
  if (command <= 0)
    return 125;
  /* Exec'd from an fd, the name would be that fd's number. */
  prctl (PR_SET_NAME, "rrun-init", 0, 0, 0);

  /* Blocked already (the mask and pending signals survive execve): blocked signals are
     not dropped for PID 1 the way unhandled ones are, so sigwaitinfo gets everything the
     host forwards, and a SIGCHLD from before the exec is still pending. */
  sigfillset (&all);
  sigprocmask (SIG_BLOCK, &all, NULL);
  for (;;)
    {
      siginfo_t info;
      int sig = sigwaitinfo (&all, &info);

      if (sig < 0)
        continue;
      if (sig != SIGCHLD)
        {
          kill (command, sig);
          continue;
        }
      for (;;)
        {
          int status;
          pid_t pid = waitpid (-1, &status, WNOHANG);

          if (pid < 0 && errno == EINTR)
            continue;
          if (pid <= 0)
            break;
          if (pid == command)
            _exit (WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status));
        }
    }
}
