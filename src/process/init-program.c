/* --init: PID 1 must hold nothing of the host. Forked from rrun, it would keep the
   caller's environment, rrun's fds (store locks) and rrun's own binary as /proc/1/exe,
   all reachable from the container with CAP_SYS_PTRACE (and the binary, owned by the
   user, writable through /proc/1/exe: CVE-2019-5736 in its rootless form). So PID 1
   execs a small static program from a sealed memfd: its exe is a file no one can write,
   its environment the container's (docs/security.md). */
#include "process/init-program.h"

#include "error.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

extern const unsigned char rrun_init_program[];
extern const unsigned char rrun_init_program_end[];

int
rrun_process_init_program_fd (GError **error)
{
  const unsigned int flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
  rrun_autofd int fd = -1;

  /* MFD_EXEC: where vm.memfd_noexec is 1, a memfd without it cannot be executed; kernels
     before 6.3 refuse the flag (EINVAL). */
  fd = memfd_create ("rrun-init", flags | MFD_EXEC);
  if (fd < 0 && errno == EINVAL)
    fd = memfd_create ("rrun-init", flags);
  if (fd < 0)
    {
      rrun_throw_errno (error, errno, "cannot create a memfd for the init process");
      return -1;
    }
  if (!rrun_fd_write_all (fd, rrun_init_program,
                          (gsize) (rrun_init_program_end - rrun_init_program), error))
    {
      g_prefix_error (error, "cannot write the init program: ");
      return -1;
    }
  if (fchmod (fd, 0555) < 0
      || fcntl (fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
    {
      rrun_throw_errno (error, errno, "cannot seal the init program");
      return -1;
    }
  return rrun_steal_fd (&fd);
}
