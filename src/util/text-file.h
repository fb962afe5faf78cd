/* The one reader of the text files rrun is given or finds (env and label files, rrun.conf,
   registries.conf, auth.json, /etc/subuid, an image's /etc/passwd and group, its own
   records): bounded in size, a regular file unless a pipe is allowed, no NUL byte, UTF-8
   unless told otherwise. Errors name the file and the line. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  RRUN_TEXT_FILE_DEFAULT = 0,
  /* A FIFO or pipe is read too (--env-file <(cmd)), still bounded by max_size. */
  RRUN_TEXT_FILE_ALLOW_PIPE = 1 << 0,
  /* Bytes that are not UTF-8 are accepted (an image's /etc/passwd may hold Latin-1). */
  RRUN_TEXT_FILE_ANY_BYTES = 1 << 1,
} RrunTextFileFlags;

/* The size limit of a configuration file, a record or an image's account file. */
#define RRUN_TEXT_FILE_MAX_CONFIG (4u * 1024 * 1024)
/* The size limit of an env or label file (docker sets none; the environment of a command
   is bounded by the kernel's ARG_MAX anyway, 2 MiB with the usual stack limit). */
#define RRUN_TEXT_FILE_MAX_ENV (16u * 1024 * 1024)

/* Read path (what: "env file", "registries.conf" ...) whole, NUL-terminated. An open that
   fails is RRUN_ERRNO_ERROR with the errno as code (ENOENT for a missing file); the
   other failures are RRUN_ERROR_INVALID_ARGUMENT: "cannot read WHAT "PATH": why". */
gboolean rrun_text_file_read (const char *path, const char *what, gsize max_size,
                              RrunTextFileFlags flags, char **out_text, gsize *out_len,
                              GError **error);

/* The same for a file below dirfd (openat; path relative to it). */
gboolean rrun_text_file_read_at (int dirfd, const char *path, const char *what,
                                 gsize max_size, RrunTextFileFlags flags, char **out_text,
                                 gsize *out_len, GError **error);

/* The content checks of rrun_text_file_read on text already in memory: no NUL byte, valid
   UTF-8 (unless RRUN_TEXT_FILE_ANY_BYTES), with the line number in the error. */
gboolean rrun_text_check (const char *text, gsize len, const char *what, const char *path,
                          RrunTextFileFlags flags, GError **error);

/* s (len bytes, or up to its NUL when len < 0) fit to print in a message: control
   characters as \n, \t, \r or \xNN, bytes that are not UTF-8 as \xNN, a backslash as \\. */
char *rrun_text_escape (const char *s, gssize len);

/* The same, line by line, for a whole message: the newlines stay (its hint lines) and so
   do backslashes (parts of it may be escaped already); what could drive a terminal is
   escaped. */
char *rrun_text_escape_lines (const char *s);

G_END_DECLS
