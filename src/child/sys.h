/* System calls made raw between clone and exec (docs/architecture.md, "Child code").
   glibc's setresuid, setresgid and setgroups apply the change to every thread glibc
   knows of (a "set*id broadcast" through signals). After a raw clone of a process that
   had threads (GDBus' worker, libcurl's resolver, a pull's extraction threads) the child
   has one thread but glibc still lists the others: the wrapper would wait for them
   forever. The raw calls act on the calling thread only, which is all there is. */
#pragma once

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

static inline int
rrun_child_setresuid (uid_t r, uid_t e, uid_t s)
{
  return (int) syscall (SYS_setresuid, r, e, s);
}

static inline int
rrun_child_setresgid (gid_t r, gid_t e, gid_t s)
{
  return (int) syscall (SYS_setresgid, r, e, s);
}

static inline int
rrun_child_setgroups (size_t n, const gid_t *groups)
{
  return (int) syscall (SYS_setgroups, n, groups);
}
