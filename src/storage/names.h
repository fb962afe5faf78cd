/* Image references and the names the store keeps ("localhost/busybox:latest"). */
#pragma once

#include <glib.h>

#include "registry/registries-conf.h"

G_BEGIN_DECLS

/* References are parsed by registry/reference.h (RrunReference). */

/* The name a local image gets (import, tag): no domain means "localhost",
   no tag means "latest": "busybox" -> "localhost/busybox:latest", "foo:1" ->
   "localhost/foo:1", "docker.io/library/alpine" -> "docker.io/library/alpine:latest".
   Digests are refused: a name is something one can retag. */
gboolean rrun_names_normalize (const char *text, char **out_name, GError **error);

/* The full names an image reference may match in the store, in the order to look for
   them: a qualified ref gives itself; a short one gives "localhost/P:T", then the names
   pull would try (rrun_registries_conf_expand: its alias, or one per search registry of
   conf). conf NULL means an empty registries.conf (search list ["docker.io"]). With a
   digest the candidates carry it. */
GStrv rrun_names_candidates (const char *text, const RrunRegistriesConf *conf,
                             GError **error);

/* Split a stored name "localhost/busybox:latest" into "localhost/busybox" and "latest"
   (for listings). A name without a tag gives "<none>". */
void rrun_names_split (const char *name, char **out_repository, char **out_tag);

/* Whether a stored name matches a --filter reference=PATTERN (docker's rules): the
   pattern is a shell glob ('*' does not cross '/') tried on the name with and without its
   tag, with and without its registry, and for docker.io/library/X also on X. */
gboolean rrun_names_match_reference (const char *name, const char *pattern);

/* Whether text looks like an image ID or a prefix of one: 3..64 lowercase hex digits,
   optionally after "sha256:". */
gboolean rrun_names_is_id_prefix (const char *text);

G_END_DECLS
