/* Seccomp programs built on the host side with libseccomp and handed to the child as
   BPF bytes (STYLE.md §5: the child only calls prctl). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Root emulation for single-ID mode (as Charliecloud's): the chown and set*id families
   and mknod of device nodes succeed as no-ops, so package managers that chown their
   files work when only one id is mapped. out_bpf holds struct sock_filter[]. */
gboolean rrun_seccomp_build_root_emulation (GBytes **out_bpf, GError **error);

G_END_DECLS
