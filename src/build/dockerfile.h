/* Dockerfile parsing (the dockerfile:1 frontend's syntax): parser directives (# escape=,
   # syntax=), comments, line continuations with the escape character, heredocs
   (<<EOF, <<-EOF, quoted delimiters) on RUN, COPY and ADD, flags (--from=...), the JSON
   exec form; and the variable substitution of ARG and ENV values ($V, ${V}, ${V:-d},
   ${V-d}, ${V:+a}, ${V+a}). Pure: no I/O. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *name;    /* the delimiter ("EOF") */
  char *content; /* the lines between, each with its newline */
  gboolean expand; /* an unquoted delimiter: variables are expanded */
} RrunHeredoc;

typedef struct
{
  char *keyword;      /* upper case: "RUN" */
  GPtrArray *flags;   /* "--from=build", as written */
  char *args;         /* what follows the flags, continuation lines joined */
  GPtrArray *heredocs;/* RrunHeredoc*, in order */
  guint line;         /* line of the keyword, from 1 */
  char *text;         /* the instruction as one line (for messages and history) */
} RrunInstruction;

void rrun_instruction_free (RrunInstruction *ins);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunInstruction, rrun_instruction_free)

/* The value of flag --name (NULL when absent); "" for a bare --name. */
const char *rrun_instruction_flag (const RrunInstruction *ins, const char *name);

typedef struct
{
  char *path;         /* for messages */
  char escape;        /* '\\' or '`' */
  GPtrArray *instructions; /* RrunInstruction* */
} RrunDockerfile;

void rrun_dockerfile_free (RrunDockerfile *df);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunDockerfile, rrun_dockerfile_free)

/* Parse text. Errors are RRUN_ERROR_INVALID_ARGUMENT "PATH:LINE: KEYWORD: why" (an
   unknown instruction, an unterminated heredoc, no FROM first, a bad escape directive). */
gboolean rrun_dockerfile_parse (const char *text, const char *path, RrunDockerfile **out,
                                GError **error);

/* Look a variable up; NULL: unset. */
typedef const char *(*RrunBuildLookupFunc) (const char *name, gpointer user_data);

/* Substitute variables in text as docker does: not inside single quotes, not after the
   escape character (which stays, for word splitting to remove). out_used (may be NULL)
   gets each name looked up. An unterminated ${ is RRUN_ERROR_INVALID_ARGUMENT. */
gboolean rrun_build_expand (const char *text, char escape, RrunBuildLookupFunc lookup,
                            gpointer user_data, GHashTable *out_used, char **out,
                            GError **error);

G_END_DECLS
