/* The container's capability set: docker's default, --cap-add/--cap-drop, --privileged. */
#pragma once

#include <glib.h>
#include <sys/capability.h>

G_BEGIN_DECLS

typedef struct
{
  guint64 set;        /* bit n = capability n */
  cap_t caps;         /* effective = permitted = set, inheritable empty */
  GArray *drop;       /* int: capabilities to drop from the bounding set */
} RrunCaps;

void rrun_caps_free (RrunCaps *caps);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunCaps, rrun_caps_free)

/* Docker's default container capabilities as a bit set. */
guint64 rrun_caps_default_set (void);

/* Parse "NET_ADMIN", "cap_net_admin", "ALL" into a bit set (ALL = every known cap). */
gboolean rrun_caps_parse_name (const char *name, guint64 *out_bits, GError **error);

/* Default set, then drops, then adds (docker applies "ALL" drop before adds). */
gboolean rrun_caps_compute (char **cap_add, char **cap_drop, gboolean privileged,
                            RrunCaps **out_caps, GError **error);

G_END_DECLS
