/* A string as JSON text, the one piece of writing JSON that rrun-net needs without the
   rest of json-value.h; json-value.c writes every value with it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* s as a JSON string: quotes, escapes; bytes that are not UTF-8 become U+FFFD (a JSON
   text must be UTF-8, and argv or a path need not be). NULL gives null. */
void rrun_json_write_string (GString *out, const char *s);

G_END_DECLS
