/* ADD https://... of `rrun build`: the download of one URL into a file (libcurl, http and
   https only, redirects followed), with docker's --checksum=sha256:HEX checked before the
   file is used. The file is not extracted, even when it is an archive (docker's rule). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The file name ADD gives a URL's download: the last path segment, without the query. */
char *rrun_build_url_file_name (const char *url);

/* Download url into the new file path (mode 0600). checksum: "sha256:HEX" or NULL. A
   digest that differs is RRUN_ERROR_INVALID_ARGUMENT and removes the file; an HTTP error
   status is RRUN_ERROR_NOT_FOUND naming it. *out_mtime: the server's Last-Modified, or 0. */
gboolean rrun_build_fetch_url (const char *url, const char *path, const char *checksum,
                               gint64 *out_mtime, GError **error);

G_END_DECLS
