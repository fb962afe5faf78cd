/* Sizes as docker writes them: bytes, or a number with k, m or g (binary units), an
   optional b after it ("64m", "1gb", "4096"). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* FALSE for anything else: no sign or space, nothing after the unit, no overflow. */
gboolean rrun_size_parse (const char *text, guint64 *out_bytes);

G_END_DECLS
