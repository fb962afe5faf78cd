#include "util/json.h"

void
rrun_json_add_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

void
rrun_json_add_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

void
rrun_json_add_bool (JsonBuilder *b, const char *name, gboolean value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_boolean_value (b, value);
}

void
rrun_json_add_strv (JsonBuilder *b, const char *name, const char *const *values)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; values && values[i]; i++)
    json_builder_add_string_value (b, values[i]);
  json_builder_end_array (b);
}

void
rrun_json_add_node (JsonBuilder *b, const char *name, JsonNode *node)
{
  json_builder_set_member_name (b, name);
  if (node)
    json_builder_add_value (b, json_node_copy (node));
  else
    json_builder_add_null_value (b);
}

char *
rrun_json_to_text (JsonNode *node, gboolean pretty)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();

  json_generator_set_root (gen, node);
  json_generator_set_pretty (gen, pretty);
  json_generator_set_indent (gen, 2);
  return json_generator_to_data (gen, NULL);
}
