/* The helper's error domain; main() prints every error once as "rrun-net: ...". */
#include "net.h"

G_DEFINE_QUARK (rrun-net-error-quark, net_error)

gboolean
net_throw (GError **error, const char *fmt, ...)
{
  va_list ap;

  if (error == NULL)
    return FALSE;
  va_start (ap, fmt);
  g_propagate_error (error, g_error_new_valist (NET_ERROR, 0, fmt, ap));
  va_end (ap);
  return FALSE;
}

gboolean
net_throw_errno (GError **error, int errsv, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  rrun_set_errno_error_valist (error, NET_ERROR, errsv, errsv, fmt, ap);
  va_end (ap);
  return FALSE;
}
