#include "error.h"
#include "process/caps.h"

static void
test_default_set (void)
{
  g_autoptr(RrunCaps) c = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (rrun_caps_compute (NULL, NULL, FALSE, &c, &error));
  /* Docker's default set as /proc/self/status shows it. */
  g_assert_cmphex (c->set, ==, 0x00000000a80425fbULL);
  g_assert_cmpuint (c->drop->len, >, 20);
}

static void
test_add_drop (void)
{
  char *add[] = { (char *) "sys_admin", (char *) "CAP_NET_ADMIN", NULL };
  char *drop_all[] = { (char *) "ALL", NULL };
  char *add_kill[] = { (char *) "KILL", NULL };
  g_autoptr(RrunCaps) a = NULL;
  g_autoptr(RrunCaps) b = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (rrun_caps_compute (add, NULL, FALSE, &a, &error));
  g_assert_true (a->set & (1ULL << CAP_SYS_ADMIN));
  g_assert_true (a->set & (1ULL << CAP_NET_ADMIN));
  /* docker drops ALL first, then adds */
  g_assert_true (rrun_caps_compute (add_kill, drop_all, FALSE, &b, &error));
  g_assert_cmphex (b->set, ==, 1ULL << CAP_KILL);
}

static void
test_unknown (void)
{
  char *bad[] = { (char *) "FLY", NULL };
  g_autoptr(RrunCaps) c = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (rrun_caps_compute (bad, NULL, FALSE, &c, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_assert_true (g_str_has_prefix (error->message, "unknown capability \"FLY\"\nhint: "));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/caps/default-set", test_default_set);
  g_test_add_func ("/caps/add-drop", test_add_drop);
  g_test_add_func ("/caps/unknown", test_unknown);
  return g_test_run ();
}
