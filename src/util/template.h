/* A small, safe subset of Go's text/template over JSON data: what `--format` of docker's
   and podman's inspect and history take in everyday use.

     text                       copied as is
     {{.}} {{.A.B}}             a value: strings as they are, numbers, true/false,
                                lists as [a b], objects as map[k:v ...] (keys sorted),
                                null as <nil>, a missing member as <no value> (Go's
                                printing of decoded JSON)
     {{json .A}}                compact JSON
     {{join .A ","}}            a list's items joined
     {{index .A "key"}}         an object member ({{index .A 0}}: a list item)
     {{len .A}} {{upper .A}} {{lower .A}}
     {{.A | json}}              a pipeline: the value goes last into the next function
     {{- ... -}}                trims the white space before / after the action

   Everything else (range, if, with, variables, templates, comments) is refused when the
   template is parsed, so nothing is printed before the error. Nothing here runs code or
   reads files: the only input is the JSON value given. An object that names a member
   twice is read as Go reads it into a map: the last value counts. */
#pragma once

#include <glib.h>
#include "util/json-value.h"

G_BEGIN_DECLS

typedef struct RrunTemplate RrunTemplate;

/* Parse text; RRUN_ERROR_INVALID_ARGUMENT names the unsupported part. */
RrunTemplate *rrun_template_new (const char *text, GError **error);
void rrun_template_free (RrunTemplate *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunTemplate, rrun_template_free)

/* Apply t to data (no newline is added). A field of a value that is not an object, or a
   function given the wrong kind of value, is RRUN_ERROR_INVALID_ARGUMENT. */
char *rrun_template_render (const RrunTemplate *t, const RrunJson *data, GError **error);

G_END_DECLS
