/* A JSON reader without json-glib (RFC 8259, recursive descent, depth-limited): values as
   a small tree of plain structs. json-glib's JsonParser and JsonNode are GObject types,
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
     default the last one wins, as in Go's encoding/json, which wrote most image configs). */
  RRUN_JSON_UNIQUE_NAMES = 1 << 0,
} RrunJsonFlags;

typedef struct RrunJson RrunJson;

/* NULL with error (RRUN_JSON_ERROR) when text is not one JSON value; nests at most 64
   levels. */
RrunJson *rrun_json_parse (const char *text, gsize len, RrunJsonFlags flags, GError **error);
void rrun_json_free (RrunJson *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunJson, rrun_json_free)

RrunJsonType rrun_json_type (const RrunJson *v);
gint64 rrun_json_int (const RrunJson *v);        /* INT, BOOL */
double rrun_json_number (const RrunJson *v);     /* INT, NUMBER */
const char *rrun_json_string (const RrunJson *v); /* STRING, else NULL */
guint rrun_json_size (const RrunJson *v);        /* members or items */
RrunJson *rrun_json_element (const RrunJson *v, guint i); /* ARRAY and OBJECT values */
const char *rrun_json_member_name (const RrunJson *object, guint i);
/* The member called name (the last one of that name); NULL when absent or v is not an
   object. */
RrunJson *rrun_json_member (const RrunJson *v, const char *name);
/* A member's string, NULL when absent or not a string. */
const char *rrun_json_member_string (const RrunJson *v, const char *name);

G_END_DECLS
