/* The command table: one file per command under cli/, each parsing its options into a
   struct and making one library call (docs/architecture.md, "Layout"). */
#pragma once

#include <glib.h>
#include "util/json-value.h"

#include "config.h"
#include "container/record.h"

G_BEGIN_DECLS

/* Options that come before the command name. */
typedef struct
{
  char *root;           /* --root: storage root */
  char *runroot;        /* --runroot: running state */
  char *storage_driver; /* --storage-driver */
  gboolean quiet;
  RrunConfig *config;   /* loaded after the global options */
  char **orig_argv;     /* the command line as typed, for the image tool */
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

/* Whether word is a docker or podman command that rrun lacks: never an image name for the
   `rrun IMAGE` shorthand. */
gboolean rrun_cli_is_reserved_word (const char *word);

/* Parse argv with ctx (stopping at the first non-option), turning GLib's message into
   "invalid option" wording with a hint to --help. */
gboolean rrun_cli_parse (GOptionContext *ctx, const char *command, int *argc, char ***argv,
                         GError **error);

/* Shell completion (cli/complete.c) reads the option tables by calling each command in
   "describe" mode: rrun_cli_parse and rrun_cli_parse_args hand it their GOptionContext
   (strict: options end at the first operand) and fail, so the command returns before
   doing anything; rrun_cli_run_group hands it the subcommand table. */
gboolean rrun_cli_describing (void);
void rrun_cli_describe_context (GOptionContext *ctx, gboolean strict);
void rrun_cli_describe_group (const RrunCommand *table);

/* The options before the command (in main.c). */
gboolean rrun_cli_parse_global (RrunGlobal *g, int *argc, char ***argv, GError **error);

/* --format of the listing commands: NULL, "table" or "json". */
gboolean rrun_cli_check_format (const char *command, const char *format, GError **error);

/* Whether --format asks for JSON. */
gboolean rrun_cli_format_is_json (const char *format);

/* Print what a builder holds, pretty, on stdout (the --format json of every listing). */
void rrun_cli_print_json_builder (RrunJsonBuilder *builder);

/* The commands that need libcurl or libarchive run in the image tool (image-tool.h):
   in `rrun` their table entries exec it with the command line as typed. */
#ifdef RRUN_IMAGE_SIDE
#define RRUN_IMAGE_COMMAND(func) func
#else
#define RRUN_IMAGE_COMMAND(func) rrun_cli_forward_to_image_tool
#endif
gboolean rrun_cli_forward_to_image_tool (RrunGlobal *g, int argc, char **argv, int *out_status,
                                         GError **error);

/* podman's (docker's go-units) human sizes: SI units, three significant digits. */
char *rrun_cli_human_size (guint64 bytes);
/* "3 minutes ago", as docker's CREATED column; then <= 0 is "N/A". */
char *rrun_cli_human_age (gint64 then, gint64 now);

/* docker's STATUS of a container: "Up 3 seconds", "Exited (4) 2 minutes ago", "Created".
   In cli/ps.c. */
char *rrun_cli_container_status (const RrunState *state, gint64 now);

/* A command group ("rrun image ls", "rrun system check"): argv[1] names an entry of
   table (NULL-terminated), which runs with argv from there; --help lists the table. */
gboolean rrun_cli_run_group (const char *group, const RrunCommand *table, const char *example,
                             RrunGlobal *g, int argc, char **argv, int *out_status,
                             GError **error);

/* What a command takes, for rrun_cli_parse_args. */
typedef struct
{
  const char *command;    /* as messages name it: "images", "image prune", "system check" */
  const char *params;     /* operands in the usage line: "[IMAGE...]" ("" for none) */
  const char *summary;    /* --help's description */
  int min_args, max_args; /* operands after the options; max -1: any number */
  const char *usage;      /* the hint for a wrong operand count: "rrun port CONTAINER" */
  char **format;          /* when set: --format FORMAT is added and stored here */
  gboolean any_format;    /* --format takes a template too (else only table or json) */
} RrunCliSpec;

/* The option handling every command shares: entries (NULL-terminated, may be NULL) plus
   -h/--help (and --format when spec->format is set) are parsed from argc and argv, which
   then hold the command name and the operands (options may come between operands,
   as docker's do); the operand count and --format are
   checked. With --help the help is printed and *out_help set: the command returns
   success at once. */
gboolean rrun_cli_parse_args (const RrunCliSpec *spec, const GOptionEntry *entries, int *argc,
                              char ***argv, gboolean *out_help, GError **error);

/* What a multi-container command does to one container (named as typed, found). */
typedef gboolean (*RrunCliContainerAction) (RrunGlobal *g, const char *name, RrunState *state,
                                            gpointer data, GError **error);

/* action on each container named by argv[1..argc-1], in order: a container not found or
   an action that fails prints its error and the loop goes on (docker's way); the name of
   each one done is printed with print_names. Returns how many failed; *out_last_code
   (may be NULL): the exit code of the last error. In cli/each-container.c. */
int rrun_cli_for_each_container (RrunGlobal *g, int argc, char **argv,
                                 RrunCliContainerAction action, gpointer data,
                                 gboolean print_names, int *out_last_code);

/* docker's question before removing things: "WARNING! This will remove WHAT. Are you
   sure you want to continue? [y/N]" on stderr, the answer read from stdin whether or not
   it is a terminal; TRUE only for y or yes (end of input is no). */
gboolean rrun_cli_confirm (const char *what);

/* Each command; declared here so the table in commands.c can name them. */
gboolean rrun_cmd_run (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_healthcheck (RrunGlobal *g, int argc, char **argv, int *out_status,
                               GError **error);
gboolean rrun_cmd_generate (RrunGlobal *g, int argc, char **argv, int *out_status,
                            GError **error);
gboolean rrun_cmd_attach (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_cp (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_import (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_load (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_save (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_pull (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_builder (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_build (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_commit (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_push (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_tag (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_images (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_rmi (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_image_export (RrunGlobal *g, int argc, char **argv, int *out_status,
                                GError **error);
gboolean rrun_cmd_bundle (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_oci (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_image (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_inspect (RrunGlobal *g, int argc, char **argv, int *out_status,
                           GError **error);
gboolean rrun_cmd_image_inspect (RrunGlobal *g, int argc, char **argv, int *out_status,
                                 GError **error);
gboolean rrun_cmd_history (RrunGlobal *g, int argc, char **argv, int *out_status,
                           GError **error);
gboolean rrun_cmd_image_prune (RrunGlobal *g, int argc, char **argv, int *out_status,
                               GError **error);
gboolean rrun_cmd_network (RrunGlobal *g, int argc, char **argv, int *out_status,
                           GError **error);
gboolean rrun_cmd_secret (RrunGlobal *g, int argc, char **argv, int *out_status,
                          GError **error);
gboolean rrun_cmd_volume (RrunGlobal *g, int argc, char **argv, int *out_status,
                          GError **error);
gboolean rrun_cmd_ps (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_rm (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_pause (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_unpause (RrunGlobal *g, int argc, char **argv, int *out_status,
                           GError **error);
gboolean rrun_cmd_top (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_rename (RrunGlobal *g, int argc, char **argv, int *out_status,
                          GError **error);
gboolean rrun_cmd_create (RrunGlobal *g, int argc, char **argv, int *out_status,
                          GError **error);
gboolean rrun_cmd_exec (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_logs (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_stop (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_restart (RrunGlobal *g, int argc, char **argv, int *out_status,
                           GError **error);
gboolean rrun_cmd_kill (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_wait (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_start (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_container (RrunGlobal *g, int argc, char **argv, int *out_status,
                             GError **error);
gboolean rrun_cmd_port (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_stats (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_update (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_version (RrunGlobal *g, int argc, char **argv, int *out_status,
                           GError **error);
gboolean rrun_cmd_info (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_system (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error);
gboolean rrun_cmd_completion (RrunGlobal *g, int argc, char **argv, int *out_status,
                              GError **error);
gboolean rrun_cmd_complete (RrunGlobal *g, int argc, char **argv, int *out_status,
                            GError **error);
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
