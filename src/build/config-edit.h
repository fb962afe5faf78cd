/* Dockerfile instructions that only change an image's config (CMD, ENTRYPOINT, ENV,
   LABEL, WORKDIR, USER, EXPOSE, VOLUME, STOPSIGNAL, SHELL, ONBUILD, HEALTHCHECK, ARG is
   not one): applied by build to each stage's config and by commit's -c. The config is the
   whole image config JSON; its "config" object is made when missing. Pure: no I/O. */
#pragma once

#include <glib.h>

#include "util/json-value.h"

G_BEGIN_DECLS

/* Split Dockerfile words: blanks separate, "double" and 'single' quotes group (and go),
   a backslash escapes the next character outside single quotes. */
GStrv rrun_build_split_words (const char *text);

/* ["a", "b"] when text is a JSON array of strings (the exec form); else NULL. */
GStrv rrun_build_parse_exec_form (const char *text);

/* Apply one instruction (keyword case-insensitive, then its arguments as written after
   variable substitution) to root. shell: the SHELL in force for the shell form of CMD,
   ENTRYPOINT and HEALTHCHECK (NULL: /bin/sh -c). An instruction that is not a config
   change, or malformed arguments, is RRUN_ERROR_INVALID_ARGUMENT. */
gboolean rrun_build_config_apply (RrunJson *root, const char *keyword, const char *args,
                                  const char *const *shell, GError **error);

/* Apply "KEYWORD ARGS" (commit's -c). */
gboolean rrun_build_config_apply_line (RrunJson *root, const char *line, GError **error);

/* The "config" object of root (made when missing). */
RrunJson *rrun_build_config_object (RrunJson *root);

/* Set name=value in the config's Env (replacing an earlier name). */
void rrun_build_config_set_env (RrunJson *root, const char *name, const char *value);

G_END_DECLS
