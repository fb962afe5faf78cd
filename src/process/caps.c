#include "process/caps.h"
#include "error.h"

#include <string.h>

void
rrun_caps_free (RrunCaps *caps)
{
  if (caps == NULL)
    return;
  if (caps->caps)
    cap_free (caps->caps);
  g_clear_pointer (&caps->drop, g_array_unref);
  g_free (caps);
}

static int
last_cap (void)
{
  /* The running kernel's highest capability, not just what libcap was built with. */
  int n = (int) cap_max_bits () - 1;

  return n > 63 ? 63 : n;
}

guint64
rrun_caps_default_set (void)
{
  static const cap_value_t defaults[] = {
    CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD,
    CAP_NET_RAW, CAP_SETGID, CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP,
    CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE,
  };
  guint64 set = 0;

  for (guint i = 0; i < G_N_ELEMENTS (defaults); i++)
    set |= G_GUINT64_CONSTANT (1) << defaults[i];
  return set;
}

gboolean
rrun_caps_parse_name (const char *name, guint64 *out_bits, GError **error)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);
  g_autofree char *full = NULL;
  cap_value_t v;

  if (strcmp (lower, "all") == 0)
    {
      int top = last_cap ();
      *out_bits = top >= 63 ? G_MAXUINT64 : (G_GUINT64_CONSTANT (1) << (top + 1)) - 1;
      return TRUE;
    }
  full = g_str_has_prefix (lower, "cap_") ? g_strdup (lower) : g_strconcat ("cap_", lower, NULL);
  if (cap_from_name (full, &v) < 0 || v > last_cap ())
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "unknown capability \"%s\"", name);
      rrun_add_hint (error, "names are as in capabilities(7), e.g. NET_ADMIN or CAP_SYS_PTRACE");
      return FALSE;
    }
  *out_bits = G_GUINT64_CONSTANT (1) << v;
  return TRUE;
}

gboolean
rrun_caps_compute (char **cap_add, char **cap_drop, gboolean privileged, RrunCaps **out_caps,
                   GError **error)
{
  g_autoptr(RrunCaps) c = g_new0 (RrunCaps, 1);
  guint64 all = 0, bits;
  g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (cap_value_t));

  rrun_caps_parse_name ("ALL", &all, NULL);
  c->set = privileged ? all : rrun_caps_default_set ();
  for (guint i = 0; cap_drop && cap_drop[i]; i++)
    {
      if (!rrun_caps_parse_name (cap_drop[i], &bits, error))
        return FALSE;
      c->set &= ~bits;
    }
  for (guint i = 0; cap_add && cap_add[i]; i++)
    {
      if (!rrun_caps_parse_name (cap_add[i], &bits, error))
        return FALSE;
      c->set |= bits;
    }
  c->drop = g_array_new (FALSE, FALSE, sizeof (int));
  for (int v = 0; v <= last_cap (); v++)
    if (c->set & (G_GUINT64_CONSTANT (1) << v))
      {
        cap_value_t cv = v;
        g_array_append_val (values, cv);
      }
    else
      g_array_append_val (c->drop, v);
  c->caps = cap_init ();
  if (values->len > 0
      && (cap_set_flag (c->caps, CAP_EFFECTIVE, (int) values->len,
                        (cap_value_t *) values->data, CAP_SET)
              < 0
          || cap_set_flag (c->caps, CAP_PERMITTED, (int) values->len,
                           (cap_value_t *) values->data, CAP_SET)
                 < 0))
    return rrun_throw_errno (error, errno, "cannot build the capability set");
  *out_caps = g_steal_pointer (&c);
  return TRUE;
}
