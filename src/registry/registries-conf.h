/* containers-registries.conf(5) version 2, as podman reads it, plus rrun.conf's
   [registries] keys on top. Files, in order:
     $RRUN_REGISTRIES_CONF alone when set (tests), else
     ~/.config/containers/registries.conf if it exists, else /etc/containers/registries.conf,
     then drop-ins: /etc/containers/registries.conf.d/NAME.conf and
     ~/.config/containers/registries.conf.d/NAME.conf, sorted by name.
   A later file replaces unqualified-search-registries when it sets it, replaces a
   [[registry]] with the same prefix, and adds aliases. */
#pragma once

#include <glib.h>

#include "config.h"
#include "registry/reference.h"

G_BEGIN_DECLS

typedef struct
{
  char *location; /* host[:port][/path] */
  gboolean insecure;
} RrunRegistryMirror;

typedef struct
{
  char *prefix;   /* "example.com/foo"; defaults to location */
  char *location; /* where prefix points to; defaults to prefix */
  gboolean insecure;
  gboolean blocked;
  GPtrArray *mirrors; /* RrunRegistryMirror* */
} RrunRegistryEntry;

typedef struct
{
  char **search;          /* unqualified-search-registries, in order */
  GPtrArray *registries;  /* RrunRegistryEntry* */
  GHashTable *aliases;    /* short name ("alpine") -> "docker.io/library/alpine" */
  GPtrArray *files_read;  /* char* */
} RrunRegistriesConf;

void rrun_registries_conf_free (RrunRegistriesConf *conf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunRegistriesConf, rrun_registries_conf_free)

/* An empty configuration (search list ["docker.io"]). */
RrunRegistriesConf *rrun_registries_conf_new (void);

/* Merge one file's text (exposed for unit tests). Errors name source and line/field. */
gboolean rrun_registries_conf_merge_text (RrunRegistriesConf *conf, const char *text,
                                          const char *source, GError **error);

/* Apply rrun.conf's [registries] on top: its search list replaces the one from
   registries.conf unless it is the built-in default (["docker.io"]); its insecure list adds
   "[[registry]] insecure = true" entries. config may be NULL. */
void rrun_registries_conf_apply_rrun_config (RrunRegistriesConf *conf,
                                             const RrunConfig *config);

/* Read the files listed above and apply config (may be NULL). Missing files are fine. */
gboolean rrun_registries_conf_load (const RrunConfig *config, RrunRegistriesConf **out_conf,
                                    GError **error);

/* The entry whose prefix matches repository ("ghcr.io/org/img") best, or NULL. */
const RrunRegistryEntry *rrun_registries_conf_find (const RrunRegistriesConf *conf,
                                                    const char *repository);

/* One place to try to pull repository from. */
typedef struct
{
  char *domain;     /* host[:port] as written ("docker.io", "mirror.local:5000") */
  char *path;       /* the repository path on that host */
  gboolean insecure;
  gboolean mirror;
} RrunRegistryEndpoint;

void rrun_registry_endpoint_free (RrunRegistryEndpoint *endpoint);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunRegistryEndpoint, rrun_registry_endpoint_free)

/* Where to pull a qualified ref from: mirrors first, then the (possibly rewritten)
   location. RRUN_ERROR_INVALID_ARGUMENT when the registry is blocked. */
gboolean rrun_registries_conf_endpoints (const RrunRegistriesConf *conf,
                                         const RrunReference *ref, GPtrArray **out_endpoints,
                                         GError **error);

/* Is host[:port] marked insecure (by a [[registry]] whose location is that host)? */
gboolean rrun_registries_conf_is_insecure (const RrunRegistriesConf *conf, const char *domain);

/* The short-name expander, the one place a reference becomes fully qualified names
   (RrunReference*, in the order to try them): ref itself when it names a registry; else
   its alias when registries.conf has one; else one per registry of the merged search list
   (conf->search: registries.conf's unqualified-search-registries, replaced by rrun.conf's
   [registries] unqualified_search_registries when that is set to something other than
   docker.io; see rrun_registries_conf_apply_rrun_config), possibly none. pull tries them
   in this order; the store's lookup (rrun_names_candidates) takes the first it holds,
   after "localhost/NAME", so a short name that pull resolved is found again offline. */
GPtrArray *rrun_registries_conf_expand (const RrunRegistriesConf *conf,
                                        const RrunReference *ref);

/* Parse text and expand it for pull; an empty expansion (a short name with no search
   registries and no alias) is RRUN_ERROR_INVALID_ARGUMENT with a hint. */
gboolean rrun_registries_conf_candidates (const RrunRegistriesConf *conf, const char *text,
                                          GPtrArray **out_refs, GError **error);

G_END_DECLS
