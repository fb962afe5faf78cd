/* The command table: one file per command under cli/, each parsing its options into a
   struct and making one library call (STYLE.md §1). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "config.h"

G_BEGIN_DECLS

/* Options that come before the command name. */
typedef struct
{
  char *root;           /* --root: storage root */
  char *runroot;        /* --runroot: running state */
  char *storage_driver; /* --storage-driver */
  gboolean quiet;
  RrunConfig *config;   /* loaded after the global options */
} RrunGlobal;

/* A command returns FALSE with error set, or TRUE with the process exit status. */
typedef gboolean (*RrunCommandFunc) (RrunGlobal *global, int argc, char **argv,
                                     int *out_status, GError **error);

typedef struct
{
  const char *name;
  RrunCommandFunc func;
  const char *summary;
  gboolean hidden;
} RrunCommand;

const RrunCommand *rrun_cli_find_command (const char *name);
const RrunCommand *rrun_cli_commands (void);

/* Parse argv with ctx (stopping at the first non-option), turning GLib's message into
   "invalid option" wording with a hint to --help. */
gboolean rrun_cli_parse (GOptionContext *ctx, const char *command, int *argc, char ***argv,
                         GError **error);

/* --format of the listing commands: NULL, "table" or "json". */
gboolean rrun_cli_check_format (const char *command, const char *format, GError **error);

/* Print what a JsonBuilder holds, pretty, on stdout (the --format json of every listing). */
void rrun_cli_print_json (JsonBuilder *builder);

/* Each command; declared here so the table in commands.c can name them. */
gboolean rrun_cmd_run (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_import (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_load (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_save (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_pull (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_tag (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_images (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_rmi (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_ps (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_port (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_stats (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_version (RrunGlobal *g, int argc, char **argv, int *out_status,
                           GError **error);
gboolean rrun_cmd_info (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_system (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_help (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_internal (RrunGlobal *g, int argc, char **argv, int *out_status,
                            GError **error);
gboolean rrun_cmd_login (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_logout (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_fetch_internal (RrunGlobal *g, int argc, char **argv, int *out_status,
                                  GError **error);

/* --tls-verify=BOOL (value NULL: keep *out). In cli/login.c. */
gboolean rrun_cli_parse_tls_verify (const char *value, gboolean *out, GError **error);
/* A registry as login/logout take it ("https://quay.io/", "quay.io/org"): the auth.json
   key and the registry host. In cli/login.c. */
gboolean rrun_cli_registry_argument (const char *arg, char **out_key, char **out_domain,
                                     GError **error);

G_END_DECLS
