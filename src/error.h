/* rrun error domain and throw helpers (docs/architecture.md, "Errors and messages"). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RRUN_ERROR (rrun_error_quark ())

typedef enum
{
  RRUN_ERROR_FAILED,
  RRUN_ERROR_INVALID_ARGUMENT, /* flag, image reference, config value */
  RRUN_ERROR_NOT_FOUND,        /* image, container, volume */
  RRUN_ERROR_NO_SUBID,         /* no /etc/subuid or /etc/subgid range */
  RRUN_ERROR_UNSUPPORTED,      /* the host lacks a kernel or system feature */
  RRUN_ERROR_REGISTRY,         /* the registry answered with an error */
  RRUN_ERROR_CORRUPT,          /* digest, archive or state file does not check out */
  RRUN_ERROR_BUSY,             /* lock held, name taken */
  RRUN_ERROR_CHILD_SETUP,      /* setup failed after clone, before exec */
  RRUN_ERROR_EXEC_NOT_FOUND,   /* the command does not exist: exit 127 */
  RRUN_ERROR_EXEC_FAILED,      /* the command exists but cannot run: exit 126 */
  RRUN_ERROR_OOM,              /* the container was killed by the OOM killer: exit 137 */
  RRUN_ERROR_REPORTED,         /* another rrun process printed this error already */
  RRUN_ERROR_CANCELLED,        /* stopped because a sibling job failed (parallel downloads) */
} RrunError;

/* Exit codes rrun itself uses (docs/architecture.md, "Exit codes": docker's convention). */
#define RRUN_EXIT_FAILED 125
#define RRUN_EXIT_CANNOT_EXEC 126
#define RRUN_EXIT_NOT_FOUND 127

GQuark rrun_error_quark (void);

/* Errors from a system call: the code is the errno value (rrun_throw_errno). Its own
   domain rather than GIO's G_IO_ERROR, so that rrun need not link GIO. */
#define RRUN_ERRNO_ERROR (rrun_errno_error_quark ())
GQuark rrun_errno_error_quark (void);

/* Set *error and return FALSE, so that a failure is one statement. */
gboolean rrun_throw (GError **error, RrunError code, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

/* "<fmt>: <strerror>" in RRUN_ERRNO_ERROR, code errsv. */
gboolean rrun_throw_errno (GError **error, int errsv, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

/* Append "\nhint: <text>" to the message; does nothing when there is no error. */
void rrun_add_hint (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

/* Drop the hints of an error (a caller that knows a better one adds it after). */
void rrun_clear_hints (GError **error);

/* "WHAT: strerror(errsv)" as error in domain/code (WHAT from fmt); returns FALSE. The
   shared body of rrun_throw_errno and rrun-net's net_throw_errno. */
gboolean rrun_set_errno_error_valist (GError **error, GQuark domain, int code, int errsv,
                                      const char *fmt, va_list ap) G_GNUC_PRINTF (5, 0);

/* The process exit status main() uses for an error (125, 126, 127 or 137). */
int rrun_error_exit_code (const GError *error);

G_END_DECLS
