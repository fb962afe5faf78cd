/* Shared by the commands: the id map storage work uses, help text, and what the
   commands over named objects (network, volume) do alike: label filters, inspect, rm
   and exists. */
#pragma once

#include "cli/cli.h"
#include "userns/idmap.h"
#include "storage/store.h"
#include "util/template.h"

G_BEGIN_DECLS

/* Storage always extracts with the "auto" mapping (container 0 = the user, 1..N = the
   subordinate range), whatever --userns a container uses, so layers are the same for
   every mode; "single" in the config forces a single mapping here too. */
gboolean rrun_cli_storage_idmap (RrunGlobal *g, RrunIdMap **out_map, GError **error);

/* Print ctx's help to stdout (commands handle --help themselves: GOption's would exit). */
void rrun_cli_print_help (GOptionContext *ctx, const char *command);

/* A label filter's value, "KEY" (present) or "KEY=VALUE", against labels (KEY=VALUE
   each; NULL: none). */
gboolean rrun_cli_labels_match (char *const *labels, const char *want);

/* Prints tmpl rendered over the value built in b, and a newline. */
gboolean rrun_cli_print_rendered (RrunTemplate *tmpl, RrunJsonBuilder *b, GError **error);

/* Builds the JSON of the object named name into b, or fails (writing nothing to b) with
   the error to report, RRUN_ERROR_NOT_FOUND when there is none. */
typedef gboolean (*RrunCliInspectFunc) (RrunGlobal *g, const char *name, RrunJsonBuilder *b,
                                        GError **error);

/* docker's inspect of named objects: the JSON of each of names[0..n) in one array, or,
   with a --format template (other than "json"), one rendered line each. A name that
   fails is reported and makes the status RRUN_EXIT_FAILED; the others are shown. */
gboolean rrun_cli_inspect_each (RrunGlobal *g, const char *format, char **names, int n,
                                RrunCliInspectFunc inspect, int *out_status, GError **error);

/* What rm prints for one name, as docker: the name when local is NULL (it was removed);
   otherwise the error, counted in *failed, unless force and it is
   RRUN_ERROR_NOT_FOUND. Takes local. */
void rrun_cli_report_removal (const char *name, gboolean force, GError *local, int *failed);

/* exists' status from the lookup's error: 0 when local is NULL (found), 1 when it is
   RRUN_ERROR_NOT_FOUND; any other error is the command's own. Takes local. */
gboolean rrun_cli_exists_status (GError *local, int *out_status, GError **error);

G_END_DECLS
