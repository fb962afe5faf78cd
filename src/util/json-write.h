/* JSON text written straight into a GString, for the files and replies written on every
   container start (state.json, rrun-net's API replies): json-glib's JsonBuilder and
   JsonGenerator are GObjects whose first use registers and initialises their classes,
   ~2 ms of CPU per run on a small VM, to write a dozen members. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* s as a JSON string: quotes, escapes; bytes that are not UTF-8 become U+FFFD (a JSON
   text must be UTF-8, and argv or a path need not be). NULL gives null. */
void rrun_json_write_string (GString *out, const char *s);

/* An object written member by member: rrun_json_object_begin, the members, _end. */
typedef struct
{
  GString *out;
  gboolean first;
} RrunJsonObject;

void rrun_json_object_begin (RrunJsonObject *o, GString *out);
void rrun_json_object_string (RrunJsonObject *o, const char *name, const char *value);
void rrun_json_object_int (RrunJsonObject *o, const char *name, gint64 value);
void rrun_json_object_bool (RrunJsonObject *o, const char *name, gboolean value);
/* An array of strings; NULL gives [] as rrun_json_add_strv does. */
void rrun_json_object_strv (RrunJsonObject *o, const char *name, const char *const *values);
/* A member whose value is JSON text already (a nested object written the same way). */
void rrun_json_object_raw (RrunJsonObject *o, const char *name, const char *json);
void rrun_json_object_end (RrunJsonObject *o);

G_END_DECLS
