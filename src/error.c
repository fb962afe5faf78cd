/* The RRUN_ERROR domain, hints under an error's message, errno messages and exit codes.
   Plain GLib (no GIO), so that rrun-net shares this file. */
#include "error.h"

#include <string.h>


G_DEFINE_QUARK (rrun-error-quark, rrun_error)
G_DEFINE_QUARK (rrun-errno-error-quark, rrun_errno_error)

gboolean
rrun_throw (GError **error, RrunError code, const char *fmt, ...)
{
  va_list ap;

  if (error == NULL)
    return FALSE;
  va_start (ap, fmt);
  g_propagate_error (error, g_error_new_valist (RRUN_ERROR, code, fmt, ap));
  va_end (ap);
  return FALSE;
}

gboolean
rrun_throw_errno (GError **error, int errsv, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  rrun_set_errno_error_valist (error, RRUN_ERRNO_ERROR, errsv, errsv, fmt, ap);
  va_end (ap);
  return FALSE;
}

int
rrun_error_exit_code (const GError *error)
{
  if (error == NULL)
    return 0;
  if (g_error_matches (error, RRUN_ERROR, RRUN_ERROR_EXEC_NOT_FOUND))
    return RRUN_EXIT_NOT_FOUND;
  if (g_error_matches (error, RRUN_ERROR, RRUN_ERROR_EXEC_FAILED))
    return RRUN_EXIT_CANNOT_EXEC;
  if (g_error_matches (error, RRUN_ERROR, RRUN_ERROR_OOM))
    return 137;
  return RRUN_EXIT_FAILED;
}


void
rrun_add_hint (GError **error, const char *fmt, ...)
{
  g_autofree char *hint = NULL;
  char *old;
  va_list ap;

  if (error == NULL || *error == NULL)
    return;
  va_start (ap, fmt);
  hint = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  old = (*error)->message;
  (*error)->message = g_strconcat (old, "\nhint: ", hint, NULL);
  g_free (old);
}

void
rrun_clear_hints (GError **error)
{
  char *hint;

  if (error == NULL || *error == NULL)
    return;
  hint = strstr ((*error)->message, "\nhint: ");
  if (hint != NULL)
    *hint = '\0';
}

gboolean
rrun_set_errno_error_valist (GError **error, GQuark domain, int code, int errsv,
                             const char *fmt, va_list ap)
{
  g_autofree char *what = NULL;

  if (error == NULL)
    return FALSE;
  what = g_strdup_vprintf (fmt, ap);
  g_set_error (error, domain, code, "%s: %s", what, g_strerror (errsv));
  return FALSE;
}
