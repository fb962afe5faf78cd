/* Seccomp programs built on the host side with libseccomp and handed to the child as
   BPF bytes (docs/architecture.md, "Child code": the child only calls prctl). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Calls the default filter refuses with EPERM: their kernel state is not namespaced
   (keyrings, the clock, modules, kexec, swap, the kernel log), as docker's profile. */
extern const char *const rrun_seccomp_denied[];

/* One filter: the default deny-list (unless privileged) and, with emulate_root, root
   emulation for single-ID mode (as Charliecloud's): the chown and set*id families and
   mknod of device nodes succeed as no-ops, so package managers work when only one id is
   mapped. *out_bpf is NULL when there is nothing to filter; else struct sock_filter[]. */
gboolean rrun_seccomp_build (gboolean deny_list, gboolean emulate_root, GBytes **out_bpf,
                             GError **error);

G_END_DECLS
