/* docker's and podman's remaining run flags (--ulimit, --sysctl, --pid, --tz, ...): their
   validation before any image lookup, and what create derives from them. */
#pragma once

#include <glib.h>
#include <sys/resource.h>

#include "child/plan.h"
#include "container/spec.h"
#include "userns/idmap.h"

G_BEGIN_DECLS

/* Every check that needs neither the image nor a container: RRUN_ERROR_INVALID_ARGUMENT
   (or RRUN_ERROR_UNSUPPORTED for what this machine cannot do) naming the flag. */
gboolean rrun_spec_flags_validate (RrunContainerSpec *spec, GError **error);

/* --ulimit NAME=SOFT[:HARD] -> resource and limits ("unlimited" and -1 are RLIM_INFINITY). */
gboolean rrun_spec_parse_ulimit (const char *text, int *out_resource, struct rlimit *out_limit,
                                 GError **error);

/* --sysctl KEY=VALUE: the /proc/sys path and the value, or an error for a key that is not
   namespaced (or whose namespace the container shares with the host). */
gboolean rrun_spec_parse_sysctl (const RrunContainerSpec *spec, const char *text,
                                 char **out_path, char **out_value, GError **error);

/* The environment the image contributes, with --unsetenv-all, --env-host, the host's proxy
   variables (--http-proxy) and --env-merge applied. */
char **rrun_spec_flags_image_env (const RrunContainerSpec *spec, char **image_env,
                                  char **host_env);

/* --unsetenv and --unsetenv-all on the final environment (cli_env: what -e set, kept). */
void rrun_spec_flags_unset_env (const RrunContainerSpec *spec, char ***env);

/* --tz: the host file to bind over /etc/localtime. */
gboolean rrun_spec_flags_tz_file (const char *tz, char **out_path, GError **error);

/* --passwd-entry's template with the user's values. */
char *rrun_spec_flags_passwd_line (const char *template_text, const char *name, guint32 uid,
                                   guint32 gid, const char *home);

/* --platform: whether it names another machine's architecture, and which. */
gboolean rrun_spec_flags_platform_foreign (const char *platform, char **out_host,
                                           GError **error);

/* --uidmap/--gidmap: replace map's (auto mode, with a range) uid_map and gid_map with the
   custom ones, their middle fields read as ids of the default map (0: you, 1..: your
   subordinate ranges). Container 0 must be mapped: setup runs as it. */
gboolean rrun_spec_flags_custom_map (RrunIdMap *map, char **uidmaps, char **gidmaps,
                                     GError **error);

G_END_DECLS
