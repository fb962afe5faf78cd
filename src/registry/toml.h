/* A small TOML reader for the subset that containers-registries.conf(5) files use:
   comments, bare and quoted keys, basic and literal strings, booleans, integers, arrays
   (across lines, trailing comma), [tables], [[arrays of tables]] and dotted table names.
   Debian 12 ships no C TOML library (only C++ ones: libtoml11-dev, libtomlplusplus-dev),
   so this stays small and strict: anything outside the subset is an error naming the
   line, never a silent guess. The result is a JSON tree (util/json-value.h): tables are
   objects, arrays of tables arrays of objects. */
#pragma once

#include <glib.h>
#include "util/json-value.h"

G_BEGIN_DECLS

/* Parse text into an object; errors are RRUN_ERROR_INVALID_ARGUMENT "SOURCE:LINE: why". */
RrunJson *rrun_toml_parse (const char *text, const char *source, GError **error);

G_END_DECLS
