#include "error.h"


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
