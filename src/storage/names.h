/* Image references and the names the store keeps ("localhost/busybox:latest"). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *domain; /* "docker.io", "localhost", "localhost:5000"; NULL when the ref had none */
  char *path;   /* "library/alpine", "busybox" */
  char *tag;    /* "latest" when neither tag nor digest was given; NULL with only a digest */
  char *digest; /* "sha256:<64 hex>" or NULL */
} RrunReference;

void rrun_reference_free (RrunReference *ref);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunReference, rrun_reference_free)

/* Split and check a reference (docker's grammar: lowercase path components, tag of at most
   128 [A-Za-z0-9_.-], sha256 digest). The first component is a domain when it holds '.'
   or ':' or is "localhost". Errors are RRUN_ERROR_INVALID_ARGUMENT naming the reference. */
gboolean rrun_reference_parse (const char *text, RrunReference **out_ref, GError **error);

/* "domain/path:tag", "domain/path@digest" or "domain/path:tag@digest"; domain must be set. */
char *rrun_reference_format (const RrunReference *ref);

/* The name a local image gets (import, tag): no domain means "localhost",
   no tag means "latest": "busybox" -> "localhost/busybox:latest", "foo:1" ->
   "localhost/foo:1", "docker.io/library/alpine" -> "docker.io/library/alpine:latest".
   Digests are refused: a name is something one can retag. */
gboolean rrun_names_normalize (const char *text, char **out_name, GError **error);

/* The full names an image reference may match in the store, most specific first:
   a qualified ref gives itself; a short one gives "localhost/P:T", then for each search
   registry R "R/P:T", and for docker.io also "docker.io/library/P:T" when P has no '/'.
   search_registries NULL means { "docker.io" }. With a digest the candidates carry it. */
GStrv rrun_names_candidates (const char *text, const char *const *search_registries,
                             GError **error);

/* Split a stored name "localhost/busybox:latest" into "localhost/busybox" and "latest"
   (for listings). A name without a tag gives "<none>". */
void rrun_names_split (const char *name, char **out_repository, char **out_tag);

/* Whether text looks like an image ID or a prefix of one: 3..64 lowercase hex digits,
   optionally after "sha256:". */
gboolean rrun_names_is_id_prefix (const char *text);

G_END_DECLS
