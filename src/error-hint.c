/* Hints under an error's message and errno messages: plain GLib, so that rrun-net can
   share them without error.c's GIO (the errno mapping), which it would otherwise load at
   every start. */
#include "error.h"

#include <string.h>

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
