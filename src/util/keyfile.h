/* Checks on a loaded GKeyFile before its values are read. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Refuse a key file with a value that ends in an escape character ("root=a\q\"): GLib
   2.74 (Debian 12) sets a GError twice when such a value also holds an invalid escape,
   warning and leaking on every g_key_file_get_string or _string_list of it, even with a
   NULL error. Checking the raw values once after the load keeps every later getter on the
   path GLib handles. source names the file in the error. */
gboolean rrun_key_file_check_escapes (GKeyFile *kf, const char *source, GError **error);

G_END_DECLS
