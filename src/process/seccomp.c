#include "process/seccomp.h"
#include "error.h"
#include "util/fd.h"

#include <errno.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void
release_ctx (scmp_filter_ctx *ctx)
{
  if (*ctx)
    seccomp_release (*ctx);
}

/* Export a filter as BPF bytes: libseccomp writes to an fd, a memfd keeps it in memory. */
static gboolean
export_bpf (scmp_filter_ctx ctx, GBytes **out_bpf, GError **error)
{
  rrun_autofd int fd = memfd_create ("rrun-seccomp", MFD_CLOEXEC);
  g_autofree char *path = NULL;
  char *data = NULL;
  gsize len = 0;
  int rc;

  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot build the seccomp filter: memfd");
  rc = seccomp_export_bpf (ctx, fd);
  if (rc < 0)
    return rrun_throw_errno (error, -rc, "cannot build the seccomp filter");
  path = g_strdup_printf ("/proc/self/fd/%d", fd);
  if (!g_file_get_contents (path, &data, &len, error))
    return FALSE;
  *out_bpf = g_bytes_new_take (data, len);
  return TRUE;
}

const char *const rrun_seccomp_denied[] = {
  "acct", "add_key", "adjtimex", "clock_adjtime", "clock_settime", "delete_module",
  "finit_module", "init_module", "ioperm", "iopl", "kexec_file_load", "kexec_load", "keyctl",
  "lookup_dcookie", "nfsservctl", "open_by_handle_at", "quotactl", "reboot", "request_key",
  "settimeofday", "stime", "swapoff", "swapon", "syslog", "vhangup", NULL,
};

static gboolean
add_root_emulation (scmp_filter_ctx ctx, GError **error)
{
  static const char *const fake[] = {
    "chown", "fchown", "lchown", "fchownat", "chown32", "fchown32", "lchown32",
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",
    "setfsuid", "setfsgid", "setuid32", "setgid32", "setreuid32", "setregid32",
    "setresuid32", "setresgid32", "setgroups32", "setfsuid32", "setfsgid32",
  };
  for (guint i = 0; i < G_N_ELEMENTS (fake); i++)
    {
      int nr = seccomp_syscall_resolve_name (fake[i]);
      /* SCMP_ACT_ERRNO(0): the call "fails" with errno 0, i.e. returns 0: success. */
      if (nr != __NR_SCMP_ERROR && seccomp_rule_add (ctx, SCMP_ACT_ERRNO (0), nr, 0) < 0)
        return rrun_throw (error, RRUN_ERROR_FAILED,
                           "cannot build the seccomp filter: rule for %s", fake[i]);
    }
  /* mknod of device nodes (S_IFCHR, S_IFBLK) too; plain files and fifos stay real. */
  {
    int nr = seccomp_syscall_resolve_name ("mknod");
    int nrat = seccomp_syscall_resolve_name ("mknodat");

    if (seccomp_rule_add (ctx, SCMP_ACT_ERRNO (0), nr, 1,
                          SCMP_A1 (SCMP_CMP_MASKED_EQ, S_IFMT, S_IFCHR)) < 0
        || seccomp_rule_add (ctx, SCMP_ACT_ERRNO (0), nr, 1,
                             SCMP_A1 (SCMP_CMP_MASKED_EQ, S_IFMT, S_IFBLK)) < 0
        || seccomp_rule_add (ctx, SCMP_ACT_ERRNO (0), nrat, 1,
                             SCMP_A2 (SCMP_CMP_MASKED_EQ, S_IFMT, S_IFCHR)) < 0
        || seccomp_rule_add (ctx, SCMP_ACT_ERRNO (0), nrat, 1,
                             SCMP_A2 (SCMP_CMP_MASKED_EQ, S_IFMT, S_IFBLK)) < 0)
      return rrun_throw (error, RRUN_ERROR_FAILED, "cannot build the seccomp filter: mknod");
  }
  return TRUE;
}

gboolean
rrun_seccomp_build (gboolean deny_list, gboolean emulate_root, GBytes **out_bpf,
                    GError **error)
{
  __attribute__ ((cleanup (release_ctx))) scmp_filter_ctx ctx = NULL;

  *out_bpf = NULL;
  if (!deny_list && !emulate_root)
    return TRUE;
  ctx = seccomp_init (SCMP_ACT_ALLOW);
  if (ctx == NULL)
    return rrun_throw (error, RRUN_ERROR_FAILED, "cannot build the seccomp filter");
  for (guint i = 0; deny_list && rrun_seccomp_denied[i]; i++)
    {
      int nr = seccomp_syscall_resolve_name (rrun_seccomp_denied[i]);
      if (nr != __NR_SCMP_ERROR && seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), nr, 0) < 0)
        return rrun_throw (error, RRUN_ERROR_FAILED, "cannot build the seccomp filter: rule "
                                                     "for %s", rrun_seccomp_denied[i]);
    }
  if (emulate_root && !add_root_emulation (ctx, error))
    return FALSE;
  return export_bpf (ctx, out_bpf, error);
}
