/* Once set up, the helper needs sockets, the tap fd and threads; nothing else. It drops
   every capability, sets no_new_privs, and installs a seccomp deny-list (libseccomp) of
   what a compromised helper could use to climb out: mounts, namespaces, ptrace, kernel
   modules, keyrings, bpf, exec. The list is applied before any thread starts, so the
   forwarder's threads inherit it. */
#include "net.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/capability.h>
#include <sys/prctl.h>

static const char *const denied[] = {
  "mount", "umount", "umount2", "pivot_root", "chroot", "setns", "unshare", "ptrace",
  "process_vm_readv", "process_vm_writev", "kexec_load", "kexec_file_load", "init_module",
  "finit_module", "delete_module", "reboot", "swapon", "swapoff", "acct", "bpf",
  "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key", "open_by_handle_at",
  "name_to_handle_at", "execve", "execveat", "fsopen", "fsmount", "fsconfig", "fspick",
  "move_mount", "open_tree", "mount_setattr", "syslog", "quotactl", "clock_settime",
  "clock_adjtime", "settimeofday", "adjtimex", "sethostname", "setdomainname", "iopl",
  "ioperm", "vhangup", "pidfd_getfd", "kcmp", "lookup_dcookie", "nfsservctl",
};

static const int clone_ns_flags[] = { CLONE_NEWNS,  CLONE_NEWUSER, CLONE_NEWNET,
                                      CLONE_NEWPID, CLONE_NEWUTS,  CLONE_NEWIPC,
                                      CLONE_NEWCGROUP };

gboolean
net_sandbox_apply (GError **error)
{
  cap_t caps;
  scmp_filter_ctx ctx;
  int r;

  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return net_throw_errno (error, errno, "cannot set no_new_privs");
  caps = cap_init (); /* empty */
  if (caps == NULL)
    return net_throw_errno (error, errno, "cannot drop capabilities");
  r = cap_set_proc (caps);
  cap_free (caps);
  if (r < 0)
    return net_throw_errno (error, errno, "cannot drop capabilities");
  prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);

  ctx = seccomp_init (SCMP_ACT_ALLOW);
  if (ctx == NULL)
    return net_throw (error, "cannot install the seccomp filter: seccomp_init failed");
  for (gsize i = 0; i < G_N_ELEMENTS (denied); i++)
    {
      int nr = seccomp_syscall_resolve_name (denied[i]);

      if (nr == __NR_SCMP_ERROR)
        continue; /* not on this architecture */
      if ((r = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), nr, 0)) < 0)
        goto fail;
    }
  /* clone3 passes its flags in memory, out of seccomp's reach: ENOSYS makes glibc fall
     back to clone, whose flags are checked. */
  if ((r = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (ENOSYS), SCMP_SYS (clone3), 0)) < 0)
    goto fail;
  for (gsize i = 0; i < G_N_ELEMENTS (clone_ns_flags); i++)
    if ((r = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (clone), 1,
                               SCMP_A0 (SCMP_CMP_MASKED_EQ, (scmp_datum_t) clone_ns_flags[i],
                                        (scmp_datum_t) clone_ns_flags[i])))
        < 0)
      goto fail;
  if ((r = seccomp_load (ctx)) < 0)
    goto fail;
  seccomp_release (ctx);
  return TRUE;
fail:
  seccomp_release (ctx);
  return net_throw_errno (error, -r, "cannot install the seccomp filter");
}
