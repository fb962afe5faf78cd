/* Seccomp: docker's default profile as a table, docker/podman JSON profiles, and root
   emulation, compiled with libseccomp on the host side and exported as BPF before clone
   (the child only calls prctl: docs/architecture.md, "Child code"). */
#include "process/seccomp.h"
#include "error.h"
#include "util/fd.h"
#include "util/json-value.h"
#include "util/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* ---- rules ------------------------------------------------------------------------------

   One rule is a docker profile's "syscalls" entry: names, an action, argument conditions,
   and when it applies (the container's capabilities, the host's architecture). The default
   profile below and a JSON profile both become an array of these. */

typedef struct
{
  guint index;
  enum scmp_compare op;
  guint64 value, value2;
} Arg;

enum
{
  ARCH_AMD64 = 1 << 0,
  ARCH_X86 = 1 << 1,
  ARCH_X32 = 1 << 2,
  ARCH_ARM64 = 1 << 3,
  ARCH_ARM = 1 << 4,
  ARCH_S390X = 1 << 5,
  ARCH_S390 = 1 << 6,
  ARCH_PPC64LE = 1 << 7,
  ARCH_RISCV64 = 1 << 8,
  ARCH_OTHER = 1 << 9,
};

typedef struct
{
  const char *const *names;  /* NULL-terminated */
  guint32 action;            /* SCMP_ACT_*, the errno folded in */
  guint n_args;
  Arg args[6];
  guint64 caps_all;          /* applies only when the container has all of these */
  guint64 caps_none;         /* ... and none of these */
  guint arches_in, arches_out; /* the host's architecture (ARCH_*) in / not in; 0: any */
  guint min_kernel;          /* major * 1000 + minor; 0: any */
} Rule;

#define NAMES(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define CAP(c) (G_GUINT64_CONSTANT (1) << (c))
/* CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID
   | CLONE_NEWNET: clone may create no namespace without CAP_SYS_ADMIN. */
#define CLONE_NS_FLAGS G_GUINT64_CONSTANT (0x7E020000)

/* Docker's default profile (moby profiles/seccomp/default.json, 2024), with io_uring left
   out as docker 25 does: an allow list, every other call fails with EPERM (calls newer than
   libseccomp knows with ENOSYS, so libc falls back). docs/security.md says why each group
   is there. */
static const Rule default_rules[] = {
  { NAMES ("accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat",
           "capget", "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime",
           "clock_adjtime64", "clock_getres", "clock_getres_time64", "clock_gettime",
           "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close",
           "close_range", "connect", "copy_file_range", "creat", "dup", "dup2", "dup3",
           "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
           "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve",
           "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64",
           "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat",
           "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync",
           "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat",
           "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
           "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait",
           "futex_waitv", "futex_wake", "futimesat", "getcpu", "getcwd", "getdents",
           "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32",
           "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp",
           "getpid", "getppid", "getpriority", "getrandom", "getresgid", "getresgid32",
           "getresuid", "getresuid32", "getrlimit", "get_robust_list", "getrusage", "getsid",
           "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid",
           "getuid32", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1",
           "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy", "io_getevents",
           "io_pgetevents", "io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup",
           "io_submit", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
           "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat",
           "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek",
           "lsetxattr", "lstat", "lstat64", "madvise", "map_shadow_stack", "membarrier",
           "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat",
           "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr",
           "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
           "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget",
           "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
           "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat",
           "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2",
           "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64",
           "prctl", "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease",
           "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read",
           "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg",
           "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename",
           "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction",
           "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
           "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
           "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max",
           "sched_get_priority_min", "sched_getscheduler", "sched_rr_get_interval",
           "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
           "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select",
           "semctl", "semget", "semop", "semtimedop", "semtimedop_time64", "send",
           "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto", "setfsgid",
           "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
           "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
           "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32",
           "setrlimit", "set_robust_list", "setsid", "setsockopt", "set_thread_area",
           "set_tid_address", "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt",
           "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask",
           "sigreturn", "socketcall", "socketpair", "splice", "stat", "stat64", "statfs",
           "statfs64", "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs",
           "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
           "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
           "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
           "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate", "truncate64",
           "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat",
           "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid",
           "write", "writev"),
    SCMP_ACT_ALLOW },
  /* ptrace is safe since 4.8 (seccomp is checked again after a tracer's change). */
  { NAMES ("process_vm_readv", "process_vm_writev", "ptrace"), SCMP_ACT_ALLOW,
    .min_kernel = 4008 },
  /* AF_VSOCK (40) reaches the hypervisor, outside every namespace. */
  { NAMES ("socket"), SCMP_ACT_ALLOW, 1, { { 0, SCMP_CMP_NE, 40, 0 } } },
  /* personality: only the harmless personas (Linux, Linux32, UNAME26 and the query). */
  { NAMES ("personality"), SCMP_ACT_ALLOW, 1, { { 0, SCMP_CMP_EQ, 0x0, 0 } } },
  { NAMES ("personality"), SCMP_ACT_ALLOW, 1, { { 0, SCMP_CMP_EQ, 0x8, 0 } } },
  { NAMES ("personality"), SCMP_ACT_ALLOW, 1, { { 0, SCMP_CMP_EQ, 0x20000, 0 } } },
  { NAMES ("personality"), SCMP_ACT_ALLOW, 1, { { 0, SCMP_CMP_EQ, 0x20008, 0 } } },
  { NAMES ("personality"), SCMP_ACT_ALLOW, 1, { { 0, SCMP_CMP_EQ, 0xffffffff, 0 } } },
  { NAMES ("sync_file_range2", "swapcontext"), SCMP_ACT_ALLOW, .arches_in = ARCH_PPC64LE },
  { NAMES ("arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint",
           "cacheflush", "set_tls"),
    SCMP_ACT_ALLOW, .arches_in = ARCH_ARM | ARCH_ARM64 },
  { NAMES ("arch_prctl"), SCMP_ACT_ALLOW, .arches_in = ARCH_AMD64 | ARCH_X32 },
  { NAMES ("modify_ldt"), SCMP_ACT_ALLOW, .arches_in = ARCH_AMD64 | ARCH_X32 | ARCH_X86 },
  { NAMES ("s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"),
    SCMP_ACT_ALLOW, .arches_in = ARCH_S390 | ARCH_S390X },
  { NAMES ("riscv_flush_icache"), SCMP_ACT_ALLOW, .arches_in = ARCH_RISCV64 },
  /* Calls whose kernel state is shared with the host, or which widen the attack surface,
     open only with the capability that the kernel checks for them anyway. */
  { NAMES ("open_by_handle_at"), SCMP_ACT_ALLOW, .caps_all = CAP (CAP_DAC_READ_SEARCH) },
  { NAMES ("bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen",
           "fspick", "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree",
           "perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname",
           "setns", "syslog", "umount", "umount2", "unshare"),
    SCMP_ACT_ALLOW, .caps_all = CAP (CAP_SYS_ADMIN) },
  /* Without CAP_SYS_ADMIN, clone may create no namespace; clone3 hides its flags in
     memory seccomp cannot read, so it says ENOSYS and libc falls back to clone. */
  { NAMES ("clone"), SCMP_ACT_ALLOW, 1, { { 0, SCMP_CMP_MASKED_EQ, CLONE_NS_FLAGS, 0 } },
    .caps_none = CAP (CAP_SYS_ADMIN), .arches_out = ARCH_S390 | ARCH_S390X },
  { NAMES ("clone"), SCMP_ACT_ALLOW, 1, { { 1, SCMP_CMP_MASKED_EQ, CLONE_NS_FLAGS, 0 } },
    .caps_none = CAP (CAP_SYS_ADMIN), .arches_in = ARCH_S390 | ARCH_S390X },
  { NAMES ("clone3"), SCMP_ACT_ERRNO (ENOSYS), .caps_none = CAP (CAP_SYS_ADMIN) },
  { NAMES ("reboot"), SCMP_ACT_ALLOW, .caps_all = CAP (CAP_SYS_BOOT) },
  { NAMES ("chroot"), SCMP_ACT_ALLOW, .caps_all = CAP (CAP_SYS_CHROOT) },
  { NAMES ("delete_module", "init_module", "finit_module"), SCMP_ACT_ALLOW,
    .caps_all = CAP (CAP_SYS_MODULE) },
  { NAMES ("acct"), SCMP_ACT_ALLOW, .caps_all = CAP (CAP_SYS_PACCT) },
  { NAMES ("kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
           "process_vm_writev", "ptrace"),
    SCMP_ACT_ALLOW, .caps_all = CAP (CAP_SYS_PTRACE) },
  { NAMES ("iopl", "ioperm"), SCMP_ACT_ALLOW, .caps_all = CAP (CAP_SYS_RAWIO) },
  { NAMES ("settimeofday", "stime", "clock_settime", "clock_settime64"), SCMP_ACT_ALLOW,
    .caps_all = CAP (CAP_SYS_TIME) },
  { NAMES ("vhangup"), SCMP_ACT_ALLOW, .caps_all = CAP (CAP_SYS_TTY_CONFIG) },
  { NAMES ("get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"),
    SCMP_ACT_ALLOW, .caps_all = CAP (CAP_SYS_NICE) },
  { NAMES ("syslog"), SCMP_ACT_ALLOW, .caps_all = CAP (CAP_SYSLOG) },
  { NAMES ("bpf"), SCMP_ACT_ALLOW, .caps_all = CAP (CAP_BPF) },
  { NAMES ("perf_event_open"), SCMP_ACT_ALLOW, .caps_all = CAP (CAP_PERFMON) },
};

/* ---- JSON profiles ---------------------------------------------------------------------- */

struct RrunSeccompProfile
{
  guint32 default_action;
  GArray *arches;            /* guint32 SCMP_ARCH_*; empty: the native one */
  GArray *rules;             /* Rule, names owned by name_lists */
  GPtrArray *name_lists;     /* GStrv */
  char *digest;              /* SHA-256 of the text: the compiled filter's cache key */
};

void
rrun_seccomp_profile_free (RrunSeccompProfile *p)
{
  if (p == NULL)
    return;
  g_array_unref (p->arches);
  g_array_unref (p->rules);
  g_ptr_array_unref (p->name_lists);
  g_free (p->digest);
  g_free (p);
}

static gboolean bad (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
bad (GError **error, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT, msg);
  return FALSE;
}

/* "SCMP_ACT_ERRNO" and its errnoRet (EPERM when absent, as runc and crun take it). */
static gboolean
parse_action (const char *name, const RrunJson *errno_ret, guint32 *out, GError **error)
{
  gint64 e = EPERM;

  if (errno_ret != NULL)
    {
      if (rrun_json_type (errno_ret) != RRUN_JSON_INT || rrun_json_int (errno_ret) < 0
          || rrun_json_int (errno_ret) > 4095)
        return bad (error, "errnoRet: expected an errno number (0 to 4095)");
      e = rrun_json_int (errno_ret);
    }
  if (name == NULL)
    return bad (error, "expected an action name such as \"SCMP_ACT_ERRNO\"");
  if (strcmp (name, "SCMP_ACT_ALLOW") == 0)
    *out = SCMP_ACT_ALLOW;
  else if (strcmp (name, "SCMP_ACT_ERRNO") == 0)
    *out = SCMP_ACT_ERRNO ((guint16) e);
  else if (strcmp (name, "SCMP_ACT_KILL") == 0 || strcmp (name, "SCMP_ACT_KILL_THREAD") == 0)
    *out = SCMP_ACT_KILL_THREAD;
  else if (strcmp (name, "SCMP_ACT_KILL_PROCESS") == 0)
    *out = SCMP_ACT_KILL_PROCESS;
  else if (strcmp (name, "SCMP_ACT_TRAP") == 0)
    *out = SCMP_ACT_TRAP;
  else if (strcmp (name, "SCMP_ACT_TRACE") == 0)
    *out = SCMP_ACT_TRACE ((guint16) e);
  else if (strcmp (name, "SCMP_ACT_LOG") == 0)
    *out = SCMP_ACT_LOG;
  else if (strcmp (name, "SCMP_ACT_NOTIFY") == 0)
    return bad (error, "SCMP_ACT_NOTIFY is not supported (rrun has no seccomp agent)");
  else
    return bad (error, "unknown action \"%s\"", name);
  return TRUE;
}

/* includes/excludes "arches" name the host's architecture as Go does. */
static guint
arch_bit (const char *go_name)
{
  static const struct
  {
    const char *name;
    guint bit;
  } map[] = {
    { "amd64", ARCH_AMD64 }, { "x86_64", ARCH_AMD64 }, { "386", ARCH_X86 },
    { "x86", ARCH_X86 },     { "x32", ARCH_X32 },      { "arm64", ARCH_ARM64 },
    { "aarch64", ARCH_ARM64 }, { "arm", ARCH_ARM },    { "s390x", ARCH_S390X },
    { "s390", ARCH_S390 },   { "ppc64le", ARCH_PPC64LE }, { "riscv64", ARCH_RISCV64 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (map); i++)
    if (g_ascii_strcasecmp (go_name, map[i].name) == 0)
      return map[i].bit;
  return ARCH_OTHER << 1; /* matches no host */
}

static gboolean
strings_of (const RrunJson *v, const char *what, GPtrArray *out, GError **error)
{
  if (v == NULL)
    return TRUE;
  if (rrun_json_type (v) != RRUN_JSON_ARRAY)
    return bad (error, "%s: expected an array of strings", what);
  for (guint i = 0; i < rrun_json_size (v); i++)
    {
      const char *s = rrun_json_string (rrun_json_element (v, i));
      if (s == NULL)
        return bad (error, "%s: expected an array of strings", what);
      g_ptr_array_add (out, (gpointer) s);
    }
  return TRUE;
}

/* A capability name to a bit; an unknown one gives 0 (never held), as docker ignores it. */
static guint64
cap_bit (const char *name)
{
  static const struct
  {
    const char *name;
    int cap;
  } newer[] = {
    { "PERFMON", CAP_PERFMON }, { "BPF", CAP_BPF }, { "CHECKPOINT_RESTORE", 40 },
  };
  const char *n = g_ascii_strncasecmp (name, "CAP_", 4) == 0 ? name + 4 : name;
  g_autofree char *lower = g_ascii_strdown (n, -1);
  g_autofree char *full = g_strconcat ("cap_", lower, NULL);
  cap_value_t v;

  for (guint i = 0; i < G_N_ELEMENTS (newer); i++)
    if (g_ascii_strcasecmp (n, newer[i].name) == 0)
      return CAP (newer[i].cap);
  if (cap_from_name (full, &v) < 0 || v < 0 || v > 63)
    return 0;
  return CAP (v);
}

static gboolean
parse_filter (const RrunJson *f, const char *what, guint64 *caps, gboolean *unknown_cap,
              guint *arches, guint *min_kernel, GError **error)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new ();
  const RrunJson *v;

  if (f == NULL)
    return TRUE;
  if (rrun_json_type (f) != RRUN_JSON_OBJECT)
    return bad (error, "%s: expected an object", what);
  if (!strings_of (rrun_json_member_value (f, "caps"), "caps", list, error))
    return FALSE;
  for (guint i = 0; i < list->len; i++)
    {
      guint64 b = cap_bit (list->pdata[i]);
      *caps |= b;
      if (b == 0)
        *unknown_cap = TRUE;
    }
  g_ptr_array_set_size (list, 0);
  if (!strings_of (rrun_json_member_value (f, "arches"), "arches", list, error))
    return FALSE;
  for (guint i = 0; i < list->len; i++)
    *arches |= arch_bit (list->pdata[i]);
  if (min_kernel != NULL && (v = rrun_json_member_value (f, "minKernel")) != NULL)
    {
      guint major = 0, minor = 0;
      if (rrun_json_string (v) == NULL
          || sscanf (rrun_json_string (v), "%u.%u", &major, &minor) < 1 || major > 1000)
        return bad (error, "minKernel: expected a version such as \"4.8\"");
      *min_kernel = major * 1000 + MIN (minor, 999);
    }
  return TRUE;
}

static gboolean
parse_op (const char *s, enum scmp_compare *out)
{
  static const struct
  {
    const char *name;
    enum scmp_compare op;
  } ops[] = {
    { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
    { "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
    { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
    { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
  };
  for (guint i = 0; s != NULL && i < G_N_ELEMENTS (ops); i++)
    if (strcmp (s, ops[i].name) == 0)
      {
        *out = ops[i].op;
        return TRUE;
      }
  return FALSE;
}

static gboolean
parse_u64 (const RrunJson *v, guint64 *out)
{
  double d;

  if (v == NULL)
    {
      *out = 0;
      return TRUE;
    }
  if (rrun_json_type (v) == RRUN_JSON_INT && rrun_json_int (v) >= 0)
    {
      *out = (guint64) rrun_json_int (v);
      return TRUE;
    }
  /* Past gint64: Go writes values up to 2^64-1 as plain integers. */
  if (rrun_json_type (v) != RRUN_JSON_NUMBER)
    return FALSE;
  d = rrun_json_number (v);
  if (!(d >= 0 && d < 18446744073709551616.0) || d != (double) (guint64) d)
    return FALSE;
  *out = (guint64) d;
  return TRUE;
}

static gboolean
parse_rule (RrunSeccompProfile *p, const RrunJson *r, GError **error)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  const RrunJson *args, *v;
  const char *name;
  Rule rule = { 0 };
  gboolean unknown_in = FALSE, unknown_out = FALSE;
  guint64 caps_in = 0, caps_out = 0;
  char **owned;

  if (rrun_json_type (r) != RRUN_JSON_OBJECT)
    return bad (error, "expected an object");
  if ((name = rrun_json_member_string (r, "name")) != NULL)
    g_ptr_array_add (names, (gpointer) name);
  if (!strings_of (rrun_json_member_value (r, "names"), "names", names, error))
    return FALSE;
  if (names->len == 0)
    return bad (error, "no \"names\"");
  v = rrun_json_member_value (r, "action");
  if (!parse_action (v ? rrun_json_string (v) : NULL, rrun_json_member_value (r, "errnoRet"),
                     &rule.action, error))
    return FALSE;
  if ((args = rrun_json_member_value (r, "args")) != NULL)
    {
      if (rrun_json_type (args) != RRUN_JSON_ARRAY || rrun_json_size (args) > 6)
        return bad (error, "args: expected an array of at most 6 conditions");
      for (guint i = 0; i < rrun_json_size (args); i++)
        {
          const RrunJson *a = rrun_json_element (args, i);
          Arg *arg = &rule.args[rule.n_args++];
          guint64 index;

          if (rrun_json_type (a) != RRUN_JSON_OBJECT)
            return bad (error, "args: expected objects");
          if (!parse_u64 (rrun_json_member_value (a, "index"), &index) || index > 5)
            return bad (error, "args: index: expected 0 to 5");
          arg->index = (guint) index;
          if (!parse_u64 (rrun_json_member_value (a, "value"), &arg->value)
              || !parse_u64 (rrun_json_member_value (a, "valueTwo"), &arg->value2))
            return bad (error, "args: value: expected an integer from 0 to 2^64-1");
          if (!parse_op (rrun_json_member_string (a, "op"), &arg->op))
            return bad (error, "args: op: expected SCMP_CMP_EQ, _NE, _LT, _LE, _GE, _GT or "
                               "_MASKED_EQ");
        }
    }
  if (!parse_filter (rrun_json_member_value (r, "includes"), "includes", &caps_in, &unknown_in,
                     &rule.arches_in, &rule.min_kernel, error)
      || !parse_filter (rrun_json_member_value (r, "excludes"), "excludes", &caps_out,
                        &unknown_out, &rule.arches_out, NULL, error))
    return FALSE;
  /* A rule that needs a capability this system has no name for never applies. */
  if (unknown_in)
    return TRUE;
  rule.caps_all = caps_in;
  rule.caps_none = caps_out;
  g_ptr_array_add (names, NULL);
  owned = g_strdupv ((char **) names->pdata);
  g_ptr_array_add (p->name_lists, owned);
  rule.names = (const char *const *) owned;
  g_array_append_val (p->rules, rule);
  return TRUE;
}

static gboolean
parse_arch (const char *name, guint32 *out, GError **error)
{
  g_autofree char *lower = NULL;
  guint32 token;

  if (name == NULL)
    return bad (error, "architectures: expected strings such as \"SCMP_ARCH_X86_64\"");
  lower = g_ascii_strdown (g_str_has_prefix (name, "SCMP_ARCH_") ? name + 10 : name, -1);
  token = seccomp_arch_resolve_name (lower);
  if (token == 0)
    return bad (error, "architectures: unknown architecture \"%s\"", name);
  *out = token;
  return TRUE;
}

static gboolean
parse_arch_map (RrunSeccompProfile *p, const RrunJson *v, GError **error)
{
  guint32 native = seccomp_arch_native ();

  if (rrun_json_type (v) != RRUN_JSON_ARRAY)
    return bad (error, "archMap: expected an array");
  for (guint i = 0; i < rrun_json_size (v); i++)
    {
      const RrunJson *m = rrun_json_element (v, i);
      g_autoptr(GPtrArray) subs = g_ptr_array_new ();
      guint32 token;

      if (rrun_json_type (m) != RRUN_JSON_OBJECT)
        return bad (error, "archMap: expected objects with an \"architecture\"");
      if (!parse_arch (rrun_json_member_string (m, "architecture"), &token, error)
          || !strings_of (rrun_json_member_value (m, "subArchitectures"),
                          "archMap: subArchitectures", subs, error))
        return FALSE;
      if (token != native)
        continue;
      g_array_append_val (p->arches, token);
      for (guint k = 0; k < subs->len; k++)
        {
          if (!parse_arch (subs->pdata[k], &token, error))
            return FALSE;
          g_array_append_val (p->arches, token);
        }
    }
  return TRUE;
}

static gboolean
parse_profile (RrunSeccompProfile *p, const char *text, gsize len, GError **error)
{
  g_autoptr(RrunJson) root = NULL;
  g_autoptr(GError) local = NULL;
  const RrunJson *v;

  if (rrun_json_text_is_blank (text, len))
    return bad (error, "the file is empty");
  if ((root = rrun_json_parse (text, len, RRUN_JSON_DEFAULT, &local)) == NULL)
    return bad (error, "not JSON: %s", local->message);
  if (rrun_json_type (root) != RRUN_JSON_OBJECT)
    return bad (error, "expected an object");
  v = rrun_json_member_value (root, "defaultAction");
  if (v == NULL || rrun_json_string (v) == NULL)
    return bad (error, "defaultAction: expected an action such as \"SCMP_ACT_ERRNO\"");
  if (!parse_action (rrun_json_string (v), rrun_json_member_value (root, "defaultErrnoRet"),
                     &p->default_action, error))
    {
      g_prefix_error (error, "defaultAction: ");
      return FALSE;
    }
  if (rrun_json_member_value (root, "listenerPath") != NULL)
    return bad (error, "listenerPath: seccomp agents are not supported");
  /* archMap (docker): the native architecture's entry and its sub-architectures. */
  if ((v = rrun_json_member_value (root, "archMap")) != NULL)
    {
      if (!parse_arch_map (p, v, error))
        return FALSE;
    }
  else if ((v = rrun_json_member_value (root, "architectures")) != NULL)
    {
      g_autoptr(GPtrArray) names = g_ptr_array_new ();
      if (!strings_of (v, "architectures", names, error))
        return FALSE;
      for (guint i = 0; i < names->len; i++)
        {
          guint32 token;
          if (!parse_arch (names->pdata[i], &token, error))
            return FALSE;
          g_array_append_val (p->arches, token);
        }
    }
  if ((v = rrun_json_member_value (root, "syscalls")) != NULL)
    {
      if (rrun_json_type (v) != RRUN_JSON_ARRAY)
        return bad (error, "syscalls: expected an array");
      for (guint i = 0; i < rrun_json_size (v); i++)
        if (!parse_rule (p, rrun_json_element (v, i), error))
          {
            g_prefix_error (error, "syscalls[%u]: ", i);
            return FALSE;
          }
    }
  return TRUE;
}

RrunSeccompProfile *
rrun_seccomp_profile_parse (const char *text, gsize len, GError **error)
{
  g_autoptr(RrunSeccompProfile) p = g_new0 (RrunSeccompProfile, 1);

  p->arches = g_array_new (FALSE, FALSE, sizeof (guint32));
  p->rules = g_array_new (FALSE, TRUE, sizeof (Rule));
  p->name_lists = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  if (!parse_profile (p, text, len, error))
    return NULL;
  p->digest = rrun_sha256_data_hex (text, len);
  return g_steal_pointer (&p);
}

/* ---- compiling -------------------------------------------------------------------------- */

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
  g_autofree char *data = NULL;
  struct stat st;
  int rc;

  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot build the seccomp filter: memfd");
  rc = seccomp_export_bpf (ctx, fd);
  if (rc < 0)
    return rrun_throw_errno (error, -rc, "cannot build the seccomp filter");
  if (fstat (fd, &st) < 0)
    return rrun_throw_errno (error, errno, "cannot build the seccomp filter: fstat");
  data = g_malloc (st.st_size > 0 ? st.st_size : 1);
  if (pread (fd, data, st.st_size, 0) != st.st_size)
    return rrun_throw (error, RRUN_ERROR_FAILED, "cannot build the seccomp filter: short read");
  *out_bpf = g_bytes_new_take (g_steal_pointer (&data), st.st_size);
  return TRUE;
}

static guint
native_arch_bit (void)
{
  switch (seccomp_arch_native ())
    {
    case SCMP_ARCH_X86_64: return ARCH_AMD64;
    case SCMP_ARCH_X86: return ARCH_X86;
    case SCMP_ARCH_X32: return ARCH_X32;
    case SCMP_ARCH_AARCH64: return ARCH_ARM64;
    case SCMP_ARCH_ARM: return ARCH_ARM;
    case SCMP_ARCH_S390X: return ARCH_S390X;
    case SCMP_ARCH_S390: return ARCH_S390;
    case SCMP_ARCH_PPC64LE: return ARCH_PPC64LE;
    case SCMP_ARCH_RISCV64: return ARCH_RISCV64;
    default: return ARCH_OTHER;
    }
}

static guint
kernel_version (void)
{
  struct utsname u;
  guint major = 0, minor = 0;

  if (uname (&u) < 0 || sscanf (u.release, "%u.%u", &major, &minor) < 1)
    return G_MAXUINT;
  return major * 1000 + MIN (minor, 999);
}

/* The calls --root-emulation makes succeed without effect (as Charliecloud's --seccomp):
   the chown and set*id families, and mknod of device nodes below. */
static const char *const emulated[] = {
  "chown", "fchown", "lchown", "fchownat", "chown32", "fchown32", "lchown32",
  "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups",
  "setfsuid", "setfsgid", "setuid32", "setgid32", "setreuid32", "setregid32",
  "setresuid32", "setresgid32", "setgroups32", "setfsuid32", "setfsgid32",
  "mknod", "mknodat", NULL,
};

/* Single-ID mode's only no-op: the kernel denies setgroups outright once setgroups is
   "deny" (it must be, to write a gid_map without newgidmap), even for the list a process
   already has, which su, runuser, cron and sshd pass when they stay root. The chown and
   set*id families are left to the kernel: ID 0 works, another fails with EINVAL, so that
   what stat and getuid report afterwards never contradicts a success. */
static const char *const emulated_single_id[] = { "setgroups", "setgroups32", NULL };

static const char *const *
emulated_calls (RrunRootEmulation emulation)
{
  return emulation == RRUN_ROOT_EMULATION_FAKE        ? emulated
         : emulation == RRUN_ROOT_EMULATION_SINGLE_ID ? emulated_single_id
                                                      : NULL;
}

RrunRootEmulation
rrun_seccomp_root_emulation (int spec_value, gboolean single)
{
  if (spec_value > 0)
    return RRUN_ROOT_EMULATION_FAKE;
  if (spec_value < 0 && single)
    return RRUN_ROOT_EMULATION_SINGLE_ID;
  return RRUN_ROOT_EMULATION_NONE;
}

static gboolean
add_rule (scmp_filter_ctx ctx, guint32 action, const char *name, int nr, guint n_args,
          const struct scmp_arg_cmp *cmp, GError **error)
{
  int rc = seccomp_rule_add_array (ctx, action, nr, n_args, cmp);

  if (rc < 0)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "cannot build the seccomp filter: rule for %s: %s", name,
                       g_strerror (-rc));
  return TRUE;
}

static gboolean
add_root_emulation (scmp_filter_ctx ctx, guint32 default_action, RrunRootEmulation emulation,
                    GError **error)
{
  const char *const *calls = emulated_calls (emulation);

  /* (mode & S_IFMT): devices are faked; plain files, fifos and sockets made. */
  static const guint64 fake_types[] = { S_IFCHR, S_IFBLK };
  static const guint64 real_types[] = { 0, S_IFREG, S_IFIFO, S_IFSOCK };

  for (guint i = 0; calls[i]; i++)
    {
      int nr = seccomp_syscall_resolve_name (calls[i]);
      guint mode_arg = g_str_has_suffix (calls[i], "at") ? 2 : 1;

      if (nr == __NR_SCMP_ERROR)
        continue;
      if (!g_str_has_prefix (calls[i], "mknod"))
        {
          /* SCMP_ACT_ERRNO(0): the call "fails" with errno 0, i.e. returns 0. */
          if (!add_rule (ctx, SCMP_ACT_ERRNO (0), calls[i], nr, 0, NULL, error))
            return FALSE;
          continue;
        }
      for (guint k = 0; k < G_N_ELEMENTS (fake_types); k++)
        {
          struct scmp_arg_cmp c = SCMP_CMP (mode_arg, SCMP_CMP_MASKED_EQ, S_IFMT,
                                            fake_types[k]);
          if (!add_rule (ctx, SCMP_ACT_ERRNO (0), calls[i], nr, 1, &c, error))
            return FALSE;
        }
      for (guint k = 0; k < G_N_ELEMENTS (real_types) && default_action != SCMP_ACT_ALLOW;
           k++)
        {
          struct scmp_arg_cmp c = SCMP_CMP (mode_arg, SCMP_CMP_MASKED_EQ, S_IFMT,
                                            real_types[k]);
          if (!add_rule (ctx, SCMP_ACT_ALLOW, calls[i], nr, 1, &c, error))
            return FALSE;
        }
    }
  return TRUE;
}

static gboolean
add_rules (scmp_filter_ctx ctx, guint32 default_action, const Rule *rules, guint n_rules,
           guint64 caps, RrunRootEmulation emulate_root, GError **error)
{
  guint arch = native_arch_bit (), kernel = kernel_version ();

  for (guint i = 0; i < n_rules; i++)
    {
      const Rule *r = &rules[i];
      gboolean same_index = FALSE;

      if ((r->caps_all & caps) != r->caps_all || (r->caps_none & caps) != 0
          || (r->arches_in != 0 && !(r->arches_in & arch)) || (r->arches_out & arch)
          || r->min_kernel > kernel || r->action == default_action)
        continue;
      for (guint a = 0; a < r->n_args; a++)
        for (guint b = a + 1; b < r->n_args; b++)
          same_index |= r->args[a].index == r->args[b].index;
      for (guint k = 0; r->names[k]; k++)
        {
          int nr = seccomp_syscall_resolve_name (r->names[k]);
          struct scmp_arg_cmp cmp[6];

          /* A call this libseccomp does not know (or another architecture's) is skipped,
             as docker does; the default action answers it. */
          if (nr == __NR_SCMP_ERROR)
            continue;
          if (emulate_root && g_strv_contains (emulated_calls (emulate_root), r->names[k]))
            continue;
          for (guint a = 0; a < r->n_args; a++)
            cmp[a] = (struct scmp_arg_cmp){ r->args[a].index, r->args[a].op, r->args[a].value,
                                            r->args[a].value2 };
          /* Two conditions on one argument cannot be ANDed by libseccomp: each becomes a
             rule of its own (OR), as runc does. */
          if (same_index)
            {
              for (guint a = 0; a < r->n_args; a++)
                if (!add_rule (ctx, r->action, r->names[k], nr, 1, &cmp[a], error))
                  return FALSE;
            }
          else if (!add_rule (ctx, r->action, r->names[k], nr, r->n_args, cmp, error))
            return FALSE;
        }
    }
  return TRUE;
}

/* Calls newer than this libseccomp knows fail with ENOSYS, not the default EPERM, so that
   libc falls back to the older call (clone3 → clone, fchmodat2 → fchmodat), as runc and
   crun do. Only in the native architecture's part of the filter: libseccomp cannot
   translate a number it does not know to another architecture. */
static gboolean
add_enosys_tail (scmp_filter_ctx ctx, GError **error)
{
  guint32 native = seccomp_arch_native ();
  int top = -1;

  for (int nr = 0; nr < 1024; nr++)
    {
      char *name = seccomp_syscall_resolve_num_arch (native, nr);
      if (name != NULL)
        top = nr;
      free (name);
    }
  for (int nr = top + 1; top >= 0 && nr <= top + 64; nr++)
    {
      int rc = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (ENOSYS), nr, 0);
      if (rc < 0 && rc != -EEXIST)
        return rrun_throw (error, RRUN_ERROR_FAILED,
                           "cannot build the seccomp filter: rule for call %d: %s", nr,
                           g_strerror (-rc));
    }
  return TRUE;
}

static gboolean
compile (const RrunSeccompProfile *profile, gboolean confined, guint64 caps,
         RrunRootEmulation emulate_root, GBytes **out_bpf, GError **error)
{
  __attribute__ ((cleanup (release_ctx))) scmp_filter_ctx ctx = NULL;
  guint32 default_action = !confined          ? SCMP_ACT_ALLOW
                           : profile != NULL ? profile->default_action
                                             : SCMP_ACT_ERRNO (EPERM);

  ctx = seccomp_init (default_action);
  if (ctx == NULL)
    return rrun_throw (error, RRUN_ERROR_FAILED, "cannot build the seccomp filter");
  /* rrun sets no_new_privs itself; a binary tree of calls keeps a long list fast. */
  seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0);
  seccomp_attr_set (ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  /* Before the other architectures are added: the numbers are the native one's. */
  if (confined && (default_action & 0xffff0000U) == SCMP_ACT_ERRNO (0)
      && !add_enosys_tail (ctx, error))
    return FALSE;
  if (confined && profile != NULL)
    {
      for (guint i = 0; i < profile->arches->len; i++)
        {
          guint32 a = g_array_index (profile->arches, guint32, i);
          int rc = seccomp_arch_add (ctx, a);
          if (rc < 0 && rc != -EEXIST)
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               "cannot build the seccomp filter: architecture %u: %s", a,
                               g_strerror (-rc));
        }
      if (!add_rules (ctx, default_action, (const Rule *) profile->rules->data,
                      profile->rules->len, caps, emulate_root, error))
        return FALSE;
    }
  else if (confined)
    {
      /* 32-bit programs too, as docker's archMap allows them on a 64-bit host. */
      static const guint32 x86_64_subs[] = { SCMP_ARCH_X86, SCMP_ARCH_X32 };
      static const guint32 aarch64_subs[] = { SCMP_ARCH_ARM };
      const guint32 *subs = NULL;
      guint n_subs = 0;

      if (seccomp_arch_native () == SCMP_ARCH_X86_64)
        subs = x86_64_subs, n_subs = G_N_ELEMENTS (x86_64_subs);
      else if (seccomp_arch_native () == SCMP_ARCH_AARCH64)
        subs = aarch64_subs, n_subs = G_N_ELEMENTS (aarch64_subs);
      for (guint i = 0; i < n_subs; i++)
        seccomp_arch_add (ctx, subs[i]);
      if (!add_rules (ctx, default_action, default_rules, G_N_ELEMENTS (default_rules), caps,
                      emulate_root, error))
        return FALSE;
    }
  if (emulate_root && !add_root_emulation (ctx, default_action, emulate_root, error))
    return FALSE;
  return export_bpf (ctx, out_bpf, error);
}

/* ---- the cache --------------------------------------------------------------------------

   libseccomp takes 5 to 40 ms to compile the default profile for three architectures, on
   the path of every start and exec; the program depends only on what goes into the key,
   so it is compiled once per run root (a tmpfs) and read back after (docs/performance.md). */

static void
hash_rules (RrunSha256 *sum, const Rule *rules, guint n_rules)
{
  for (guint i = 0; i < n_rules; i++)
    {
      const Rule *r = &rules[i];
      for (guint k = 0; r->names[k]; k++)
        rrun_sha256_update (sum, r->names[k], strlen (r->names[k]) + 1);
      rrun_sha256_update (sum, &r->action, sizeof r->action);
      rrun_sha256_update (sum, r->args, sizeof r->args[0] * r->n_args);
      rrun_sha256_update (sum, &r->caps_all, sizeof r->caps_all);
      rrun_sha256_update (sum, &r->caps_none, sizeof r->caps_none);
      rrun_sha256_update (sum, &r->arches_in, sizeof r->arches_in);
      rrun_sha256_update (sum, &r->arches_out, sizeof r->arches_out);
      rrun_sha256_update (sum, &r->min_kernel, sizeof r->min_kernel);
    }
}

static char *
cache_key (const RrunSeccompProfile *profile, gboolean confined, guint64 caps,
           RrunRootEmulation emulate_root)
{
  g_autoptr(RrunSha256) sum = rrun_sha256_new ();
  const struct scmp_version *v = seccomp_version ();
  struct utsname u;
  g_autofree char *head = NULL;

  if (uname (&u) < 0)
    return NULL;
  head = g_strdup_printf ("rrun-seccomp-2\n%u.%u.%u\n%s %s\n%d %d %" G_GINT64_MODIFIER "x\n%s",
                          v->major, v->minor, v->micro, u.release, u.machine, confined,
                          emulate_root, caps, profile ? profile->digest : "default");
  rrun_sha256_update (sum, head, strlen (head));
  if (profile == NULL)
    hash_rules (sum, default_rules, G_N_ELEMENTS (default_rules));
  return g_strdup (rrun_sha256_hex (sum));
}

static GBytes *
cache_read (const char *path)
{
  rrun_autofd int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  g_autofree char *data = NULL;
  struct stat st;

  if (fd < 0 || fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || st.st_size == 0
      || st.st_size % 8 != 0 || st.st_size > 4096 * 8 || st.st_uid != geteuid ())
    return NULL;
  data = g_malloc (st.st_size);
  if (pread (fd, data, st.st_size, 0) != st.st_size)
    return NULL;
  return g_bytes_new_take (g_steal_pointer (&data), st.st_size);
}

/* Best effort: a cache that cannot be written only costs the next start the compile. */
static void
cache_write (const char *dir, const char *path, GBytes *bpf)
{
  g_autofree char *tmp = g_strdup_printf ("%s.tmp-%d", path, (int) getpid ());

  if (g_mkdir_with_parents (dir, 0700) < 0)
    return;
  if (!g_file_set_contents_full (tmp, g_bytes_get_data (bpf, NULL), g_bytes_get_size (bpf),
                                 G_FILE_SET_CONTENTS_NONE, 0600, NULL)
      || rename (tmp, path) < 0)
    unlink (tmp);
}

gboolean
rrun_seccomp_build (const RrunSeccompProfile *profile, gboolean confined, guint64 caps,
                    RrunRootEmulation emulate_root, const char *cache_dir, GBytes **out_bpf,
                    GError **error)
{
  g_autofree char *key = NULL, *path = NULL;
  GBytes *bpf = NULL;

  *out_bpf = NULL;
  if (!confined && !emulate_root)
    return TRUE;
  if (cache_dir != NULL && (key = cache_key (profile, confined, caps, emulate_root)) != NULL)
    {
      path = g_build_filename (cache_dir, key, NULL);
      if ((*out_bpf = cache_read (path)) != NULL)
        return TRUE;
    }
  if (!compile (profile, confined, caps, emulate_root, &bpf, error))
    return FALSE;
  if (path != NULL)
    cache_write (cache_dir, path, bpf);
  *out_bpf = bpf;
  return TRUE;
}
