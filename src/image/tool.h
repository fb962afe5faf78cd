/* The image tool: rrun's commands that need libcurl or libarchive (pull, login, import,
   load, save, layer extraction) live in a second executable, rrun-image, built from the
   same sources. `rrun` itself links neither library and their ~40 dependencies, which
   would cost every `rrun run` about 20 ms of dynamic loading; it runs the image tool
   when one of those commands is asked for, or when `run` must pull. */
#pragma once

#include <glib.h>

#include "config.h"

G_BEGIN_DECLS

/* The image tool's path ($RRUN_IMAGE_TOOL, beside this binary, or RRUN_LIBEXECDIR). */
char *rrun_image_tool_find (GError **error);

/* Replace this process with the image tool running argv (argv[0] is kept as the name the
   user typed). Returns only on failure. */
gboolean rrun_image_tool_exec (char **argv, GError **error);

/* `run`'s implicit pull: run `rrun-image pull` on config's store and wait. Progress (on a
   terminal) and errors go to this process's stderr as the tool prints them; a failure
   the tool has printed is RRUN_ERROR_REPORTED. out_id gets the pulled image's ID. */
/* As rrun_image_tool_pull, for one platform ("os/arch[/variant]", NULL: this machine)
   with the credentials of authfile (NULL: the default auth.json). */
gboolean rrun_image_tool_pull_with (const RrunConfig *config, const char *ref,
                                    gboolean tls_verify, gboolean quiet, const char *platform,
                                    const char *authfile, char **out_id, GError **error);
gboolean rrun_image_tool_pull (const RrunConfig *config, const char *ref, gboolean tls_verify,
                               gboolean quiet, char **out_id, GError **error);

G_END_DECLS
