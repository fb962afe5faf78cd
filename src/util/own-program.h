/* Where rrun's own programs are (the network helper, the image tool): one lookup order
   for all of them, so a build tree, an installed tree and an override behave alike. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The path of program name: $env_name when set (it must be executable), else next to
   this binary or in a helpers/ directory beside it (the build tree), else
   RRUN_LIBEXECDIR/name. Not found is RRUN_ERROR_NOT_FOUND naming what ("the network
   helper"); the caller adds the hint that fits. */
char *rrun_find_own_program (const char *name, const char *env_name, const char *what,
                             GError **error);

G_END_DECLS
