/* JsonBuilder shorthands: one call per member, NULL written as JSON null. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

void rrun_json_add_string (JsonBuilder *b, const char *name, const char *value);
void rrun_json_add_int (JsonBuilder *b, const char *name, gint64 value);
void rrun_json_add_bool (JsonBuilder *b, const char *name, gboolean value);
/* An array of strings; NULL values gives [] (not null: listings keep their type). */
void rrun_json_add_strv (JsonBuilder *b, const char *name, const char *const *values);
/* A copy of node (NULL: JSON null). */
void rrun_json_add_node (JsonBuilder *b, const char *name, JsonNode *node);

/* node as JSON text: pretty (two spaces) or compact. */
char *rrun_json_to_text (JsonNode *node, gboolean pretty);

G_END_DECLS
