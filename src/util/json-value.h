/* JSON values without json-glib: a small tree of plain structs, read by a strict parser
   (RFC 8259, recursive descent, depth-limited) or built in code (constructors, and a
   builder with JsonBuilder's shape), and written by json-write.h. json-glib's JsonParser and JsonNode are GObject types,
   and json-glib pulls in GIO with libmount, libselinux, libblkid, libffi, gmodule and
   zlib: ~100 page faults and ~3 ms of CPU at every exec on a small VM. rrun-net reads its
   API socket with it; json-write.h is the writing half. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RRUN_JSON_ERROR (rrun_json_error_quark ())
GQuark rrun_json_error_quark (void);

typedef enum
{
  RRUN_JSON_NULL,
  RRUN_JSON_BOOL,
  RRUN_JSON_INT,    /* an integer that fits gint64 */
  RRUN_JSON_NUMBER, /* any other number */
  RRUN_JSON_STRING,
  RRUN_JSON_ARRAY,
  RRUN_JSON_OBJECT,
} RrunJsonType;

typedef enum
{
  RRUN_JSON_DEFAULT = 0,
  /* Refuse an object that names a member twice (RFC 8259 says names SHOULD be unique; by
     default the member is kept once, with the last value in the first one's place, as
     Go's encoding/json (which wrote most image configs) and json-glib read it). */
  RRUN_JSON_UNIQUE_NAMES = 1 << 0,
} RrunJsonFlags;

typedef struct RrunJson RrunJson;

/* NULL with error (RRUN_JSON_ERROR) when text is not one JSON value; nests at most 64
   levels. */
RrunJson *rrun_json_parse (const char *text, gsize len, RrunJsonFlags flags, GError **error);
void rrun_json_free (RrunJson *v);
/* Whether text is only white space: an empty document, which callers name apart from
   other bad JSON (an empty file is the likelier mistake). */
gboolean rrun_json_text_is_blank (const char *text, gsize len);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunJson, rrun_json_free)

RrunJsonType rrun_json_type (const RrunJson *v);
gint64 rrun_json_int (const RrunJson *v);        /* INT, BOOL */
double rrun_json_number (const RrunJson *v);     /* INT, NUMBER */
const char *rrun_json_string (const RrunJson *v); /* STRING, else NULL */
guint rrun_json_size (const RrunJson *v);        /* members or items */
RrunJson *rrun_json_element (const RrunJson *v, guint i); /* ARRAY and OBJECT values */
const char *rrun_json_member_name (const RrunJson *object, guint i);
/* The member called name; NULL when absent or v is not an object. */
RrunJson *rrun_json_member (const RrunJson *v, const char *name);
/* The member called name, NULL when absent or null: an optional field, as docker and
   podman read JSON null in configs and manifests ("not set"). */
RrunJson *rrun_json_member_value (const RrunJson *v, const char *name);
/* A member's string, NULL when absent or not a string. */
const char *rrun_json_member_string (const RrunJson *v, const char *name);

/* Values made in code; containers take ownership of what is added to them. */
RrunJson *rrun_json_new_null (void);
RrunJson *rrun_json_new_bool (gboolean value);
RrunJson *rrun_json_new_int (gint64 value);
RrunJson *rrun_json_new_number (double value);
RrunJson *rrun_json_new_string (const char *value); /* NULL gives null */
RrunJson *rrun_json_new_array (void);
RrunJson *rrun_json_new_object (void);
RrunJson *rrun_json_copy (const RrunJson *v);
void rrun_json_array_add (RrunJson *array, RrunJson *value);
/* Sets name (replacing a member of that name, in its place) to value. */
void rrun_json_object_set (RrunJson *object, const char *name, RrunJson *value);

/* v as JSON text: compact, or pretty (two spaces per level, "name": value, as docker and
   podman print). A number that is not finite is written null. */
char *rrun_json_value_to_text (const RrunJson *v, gboolean pretty);

/* Builds a value as json-glib's JsonBuilder does: begin/end containers, in an object a
   member name before each value. */
typedef struct RrunJsonBuilder RrunJsonBuilder;
RrunJsonBuilder *rrun_json_builder_new (void);
void rrun_json_builder_free (RrunJsonBuilder *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunJsonBuilder, rrun_json_builder_free)
void rrun_json_builder_begin_object (RrunJsonBuilder *b);
void rrun_json_builder_end_object (RrunJsonBuilder *b);
void rrun_json_builder_begin_array (RrunJsonBuilder *b);
void rrun_json_builder_end_array (RrunJsonBuilder *b);
void rrun_json_builder_set_member_name (RrunJsonBuilder *b, const char *name);
void rrun_json_builder_add_value (RrunJsonBuilder *b, RrunJson *value); /* takes value */
void rrun_json_builder_add_string_value (RrunJsonBuilder *b, const char *value);
void rrun_json_builder_add_int_value (RrunJsonBuilder *b, gint64 value);
void rrun_json_builder_add_double_value (RrunJsonBuilder *b, double value);
void rrun_json_builder_add_boolean_value (RrunJsonBuilder *b, gboolean value);
void rrun_json_builder_add_null_value (RrunJsonBuilder *b);
/* One object member in one call (what util/json.h did for JsonBuilder): NULL strings and
   values give null, a NULL string array []; _value adds a copy. */
void rrun_json_builder_member_string (RrunJsonBuilder *b, const char *name, const char *value);
void rrun_json_builder_member_int (RrunJsonBuilder *b, const char *name, gint64 value);
void rrun_json_builder_member_bool (RrunJsonBuilder *b, const char *name, gboolean value);
void rrun_json_builder_member_strv (RrunJsonBuilder *b, const char *name,
                                    const char *const *values);
void rrun_json_builder_member_value (RrunJsonBuilder *b, const char *name,
                                     const RrunJson *value);
/* The finished value (the caller's), once every container is ended; NULL before. */
RrunJson *rrun_json_builder_get_root (RrunJsonBuilder *b);
/* The finished value as text (rrun_json_value_to_text); "null" before it is finished. */
char *rrun_json_builder_to_text (RrunJsonBuilder *b, gboolean pretty);

G_END_DECLS
