/* File-backed secrets (podman's `secret create` and `run --secret`): one file per secret,
   mode 0600, in the store's secrets directory; a container gets it bound read-only at
   /run/secrets/NAME (or its target), or as an environment variable (type=env). */
#pragma once

#include <glib.h>

#include "config.h"

G_BEGIN_DECLS

/* Names as podman takes them: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 253 bytes. */
gboolean rrun_secret_check_name (const char *name, GError **error);

/* STORAGE/secrets/NAME; NULL with RRUN_ERROR_NOT_FOUND when there is no such secret. */
char *rrun_secret_path (const RrunConfig *config, const char *name, GError **error);

/* Store data as NAME (refused when it exists, unless replace). */
gboolean rrun_secret_create (const RrunConfig *config, const char *name, const char *data,
                             gsize len, gboolean replace, GError **error);
gboolean rrun_secret_remove (const RrunConfig *config, const char *name, GError **error);
/* The names, sorted. */
char **rrun_secret_list (const RrunConfig *config);

/* One --secret NAME[,type=mount|env][,target=T][,mode=M]: checked; *out_target is the
   absolute path (mount) or the variable name (env). */
gboolean rrun_secret_parse_arg (const char *arg, char **out_name, gboolean *out_env,
                                char **out_target, guint *out_mode, GError **error);

G_END_DECLS
