/* Shared by the image commands: open the store and the id map storage work uses. */
#pragma once

#include "cli/cli.h"
#include "userns/idmap.h"
#include "storage/store.h"

G_BEGIN_DECLS

/* Storage always extracts with the "auto" mapping (container 0 = the user, 1..N = the
   subordinate range), whatever --userns a container uses, so layers are the same for
   every mode; "single" in the config forces a single mapping here too. */
gboolean rrun_cli_storage_idmap (RrunGlobal *g, RrunIdMap **out_map, GError **error);

/* Print ctx's help to stdout (commands handle --help themselves: GOption's would exit). */
void rrun_cli_print_help (GOptionContext *ctx, const char *command);

G_END_DECLS
