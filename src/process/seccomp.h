/* Seccomp programs built on the host side with libseccomp and handed to the child as
   BPF bytes (docs/architecture.md, "Child code": the child only calls prctl). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A docker/podman JSON seccomp profile (defaultAction, defaultErrnoRet, architectures or
   archMap, syscalls with names, action, errnoRet, args, includes and excludes). */
typedef struct RrunSeccompProfile RrunSeccompProfile;

/* NULL with RRUN_ERROR_INVALID_ARGUMENT naming the field when text is not a profile. */
RrunSeccompProfile *rrun_seccomp_profile_parse (const char *text, gsize len, GError **error);
void rrun_seccomp_profile_free (RrunSeccompProfile *profile);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunSeccompProfile, rrun_seccomp_profile_free)

/* What a container with one mapped ID (single-ID mode) is told about the calls that would
   need a second one. */
typedef enum
{
  RRUN_ROOT_EMULATION_NONE = 0,
  /* --root-emulation (Charliecloud's): the chown and set*id families and mknod of device
     nodes succeed without effect; stat and getuid contradict them afterwards. */
  RRUN_ROOT_EMULATION_FAKE = 1,
  /* The default in single-ID mode: nothing succeeds that did not happen. chown and set*id
     to ID 0 work, to any other ID fail with the kernel's EINVAL (not mapped); only
     setgroups, which the kernel denies outright there, succeeds and leaves the
     supplementary groups as they are (docs/hpc.md, "Single-ID mode"). */
  RRUN_ROOT_EMULATION_SINGLE_ID = 2,
} RrunRootEmulation;

/* The policy for a spec's root_emulation (-1 default, 0 off, 1 on) and the map's mode. */
RrunRootEmulation rrun_seccomp_root_emulation (int spec_value, gboolean single);

/* One filter for a container whose capability set is caps (bit n = capability n):
   - confined: profile, or with NULL docker's default profile (an allow list, EPERM for
     the rest; the namespace, mount, bpf, perf and ptrace-family calls open only with the
     capability docker gates them on; no io_uring);
   - emulation: RrunRootEmulation above.
   cache_dir (NULL: none) keeps compiled programs, keyed by all of the above and the
   libseccomp and kernel versions: compiling takes milliseconds, reading one back does not.
   *out_bpf is NULL when there is nothing to filter; else struct sock_filter[]. */
gboolean rrun_seccomp_build (const RrunSeccompProfile *profile, gboolean confined,
                             guint64 caps, RrunRootEmulation emulation, const char *cache_dir,
                             GBytes **out_bpf, GError **error);

G_END_DECLS
