/* What the container's command is, computed on the host side from the image config and
   the command line with docker's semantics: argv, environment, user, working directory. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

#define RRUN_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

typedef struct
{
  uid_t uid;
  gid_t gid;
  GArray *groups;  /* supplementary gid_t, from /etc/group membership */
  char *name;      /* NULL when the uid has no passwd entry */
  char *home;      /* from passwd; "/" when unknown (docker) */
} RrunUser;

void rrun_user_free (RrunUser *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunUser, rrun_user_free)

/* Resolve -u / the image's User ("name", "uid", "name:group", "uid:gid", NULL = root)
   against the text of the container's /etc/passwd and /etc/group (either may be NULL). */
gboolean rrun_user_resolve (const char *spec, const char *passwd_text, const char *group_text,
                            RrunUser **out_user, GError **error);

/* argv from the image's Entrypoint and Cmd and the command line: docker's rules
   (arguments replace Cmd; --entrypoint replaces Entrypoint and drops Cmd; an empty
   --entrypoint clears it). entrypoint_override is NULL when not given. */
gboolean rrun_spec_build_argv (char **image_entrypoint, char **image_cmd,
                               const char *entrypoint_override, char **args,
                               char ***out_argv, GError **error);

/* Read docker --env-file text: K=V lines, "K" alone takes the host's value, '#' comments. */
gboolean rrun_spec_parse_env_file (const char *path, GPtrArray *out_env, GError **error);

/* The final environment: PATH, HOSTNAME, the image's Env, env files, -e, then HOME and
   TERM when unset. host_env is used for "-e K" without a value. */
gboolean rrun_spec_build_env (char **image_env, char **env_files, char **cli_env,
                              char **host_env, const char *hostname, const char *home,
                              gboolean tty, char ***out_env, GError **error);

/* Append to *env every variable of host_env that *env does not set: the Slurm plugin's
   --slurm-env, pyxis' order (the image's values win, the job's SLURM_* and PMI* come in). */
void rrun_spec_env_add_missing (char ***env, char **host_env);

/* --name: docker's rule, [a-zA-Z0-9][a-zA-Z0-9_.-]* (no newline can reach ps or state). */
gboolean rrun_spec_check_name (const char *name, GError **error);

/* --hostname: an RFC 1123 host name of at most 64 characters (sethostname's limit):
   dot-separated labels of 1-63 letters, digits and '-', no label starting or ending with
   '-'. Anything else could inject lines into /etc/hosts. */
gboolean rrun_spec_check_hostname (const char *hostname, GError **error);

/* Value of KEY in a "K=V" vector, or NULL. */
const char *rrun_spec_env_get (char **env, const char *key);

G_END_DECLS
