/* syscall-probe CALL...: makes each call once, as a program in a container would, and
   prints "CALL: ok" or "CALL: ERRNO-NAME", so security.bats can check what the seccomp
   filter lets through. Linked statically: it runs in the busybox image. */
#include <errno.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long
probe (const char *call)
{
  if (strcmp (call, "io_uring_setup") == 0)
    {
      unsigned char params[120] = { 0 };
      return syscall (__NR_io_uring_setup, 1, params);
    }
  if (strcmp (call, "io_uring_enter") == 0)
    return syscall (__NR_io_uring_enter, -1, 0, 0, 0, NULL, 0);
  if (strcmp (call, "perf_event_open") == 0)
    {
      struct perf_event_attr attr = { .type = PERF_TYPE_SOFTWARE, .size = sizeof attr,
                                      .config = PERF_COUNT_SW_TASK_CLOCK,
                                      .exclude_kernel = 1, .exclude_hv = 1 };
      return syscall (__NR_perf_event_open, &attr, 0, -1, -1, 0);
    }
  if (strcmp (call, "unshare-mount") == 0)
    return unshare (CLONE_NEWNS);
  if (strcmp (call, "clone-newns") == 0)
    {
      long pid = syscall (__NR_clone, CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, 0);
      if (pid == 0)
        _exit (0);
      if (pid > 0)
        waitpid (pid, NULL, 0);
      return pid < 0 ? pid : 0;
    }
  if (strcmp (call, "clone3") == 0)
    return syscall (__NR_clone3, NULL, 0);
  if (strcmp (call, "mount-tmpfs") == 0)
    return unshare (CLONE_NEWNS) < 0 ? -1 : mount ("none", "/tmp", "tmpfs", 0, NULL);
  if (strcmp (call, "keyctl") == 0)
    return syscall (__NR_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0);
  if (strcmp (call, "bpf") == 0)
    return syscall (__NR_bpf, 0, NULL, 0);
  if (strcmp (call, "ptrace") == 0)
    return syscall (__NR_ptrace, 0x4206 /* PTRACE_SEIZE */, 1, 0, 0);
  if (strcmp (call, "personality-query") == 0)
    return personality (0xffffffff) < 0 ? -1 : 0;
  if (strcmp (call, "personality-bad") == 0)
    return personality (ADDR_NO_RANDOMIZE) < 0 ? -1 : 0;
  if (strcmp (call, "socket-vsock") == 0)
    return socket (40 /* AF_VSOCK */, SOCK_STREAM, 0);
  if (strcmp (call, "mkdir") == 0)
    return mkdir ("/tmp/syscall-probe-dir", 0755);
  if (strcmp (call, "getpid") == 0)
    return getpid ();
  if (strncmp (call, "nr:", 3) == 0)
    return syscall (atol (call + 3), -1, 0, 0, 0, 0, 0);
  errno = EINVAL;
  fprintf (stderr, "syscall-probe: unknown call %s\n", call);
  return -1;
}

int
main (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      long rc;

      errno = 0;
      rc = probe (argv[i]);
      if (rc < 0)
        printf ("%s: %s\n", argv[i], strerrorname_np (errno));
      else
        printf ("%s: ok\n", argv[i]);
    }
  return 0;
}
