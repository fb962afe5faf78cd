/* .dockerignore (and .containerignore) as docker reads them (moby's patternmatcher):
   one pattern a line, '#' comments, blank lines skipped, each pattern cleaned like Go's
   filepath.Clean with a leading '/' dropped; Go filepath.Match syntax (*, ?, [...],
   escapes) plus "**" for any number of directories; a pattern starting with '!' is an
   exception. The last pattern that matches a path (or one of its parent directories)
   decides. Pure: no I/O. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct RrunIgnore RrunIgnore;

/* Parse the file's text; an invalid pattern is RRUN_ERROR_INVALID_ARGUMENT naming it. */
gboolean rrun_ignore_parse (const char *text, RrunIgnore **out, GError **error);
void rrun_ignore_free (RrunIgnore *ig);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunIgnore, rrun_ignore_free)

/* Whether path ("dir/file", relative to the context, '/' separated) is excluded. */
gboolean rrun_ignore_matches (const RrunIgnore *ig, const char *path);

/* Whether a directory may hold a path an exception brings back (so its walk must go on
   even though the directory itself is excluded). */
gboolean rrun_ignore_has_exceptions (const RrunIgnore *ig);

/* Go's filepath.Match of a single pattern against name (no "**"): '*' does not cross
   '/'. Exposed for COPY's wildcards and tests. */
gboolean rrun_build_glob_match (const char *pattern, const char *name);

G_END_DECLS
