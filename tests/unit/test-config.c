#include "config.h"
#include "error.h"

#include <string.h>

static void
test_defaults (void)
{
  g_autoptr(RrunConfig) c = rrun_config_new_defaults ();

  g_assert_cmpstr (c->storage_driver, ==, "auto");
  g_assert_true (g_str_has_suffix (c->storage_root, "/rrun/storage"));
  g_assert_false (c->allow_host_loopback);
  g_assert_false (c->fuse_acl);
}

static void
test_keyfile (void)
{
  g_autoptr(RrunConfig) c = rrun_config_new_defaults ();
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  const char *text = "[storage]\ndriver=fuse-overlayfs\nroot=/scratch/x\n"
                     "additional_image_stores=/opt/images;/srv/img\nfuse_acl=true\n"
                     "[network]\nallow_host_loopback=true\n";

  g_assert_true (g_key_file_load_from_data (kf, text, -1, 0, NULL));
  g_assert_true (rrun_config_apply_keyfile (c, kf, "test.conf", &error));
  g_assert_no_error (error);
  g_assert_cmpstr (c->storage_driver, ==, "fuse-overlayfs");
  g_assert_cmpstr (c->storage_root, ==, "/scratch/x");
  g_assert_true (c->storage_root_from_config);
  g_assert_cmpuint (g_strv_length (c->additional_image_stores), ==, 2);
  g_assert_true (c->allow_host_loopback);
  g_assert_true (c->fuse_acl);
}

static void
test_bad_value (void)
{
  g_autoptr(RrunConfig) c = rrun_config_new_defaults ();
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (g_key_file_load_from_data (kf, "[storage]\ndriver=zfs\n", -1, 0, NULL));
  g_assert_false (rrun_config_apply_keyfile (c, kf, "test.conf", &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==,
                   "test.conf: invalid value \"zfs\" for storage.driver: expected one of "
                   "auto, overlay, fuse-overlayfs");
}

/* rrun.conf text that loads as a key file and that the config refuses: the error, of
   RRUN_ERROR_INVALID_ARGUMENT. */
static GError *
apply_refused (const char *text)
{
  g_autoptr(RrunConfig) c = rrun_config_new_defaults ();
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  GError *error = NULL;

  g_assert_true (g_key_file_load_from_data (kf, text, -1, 0, NULL));
  g_assert_false (rrun_config_apply_keyfile (c, kf, "test.conf", &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  return error;
}

/* GLib 2.74 sets its GError twice on a value with an invalid escape that also ends in an
   escape; g_test_init makes that warning fatal, so the old code aborted here. */
static void
test_bad_escape (void)
{
  static const char *texts[] = {
    "[storage]\nroot=a\\q\\\n",
    "[registries]\ninsecure=a;b\\q\\\n",
    "[elsewhere]\nkey=\\\n",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr(GError) error = apply_refused (texts[i]);

      g_assert_nonnull (strstr (error->message, "ends in an escape character"));
    }
}

/* A value GLib cannot unescape is an error, not an absent key that keeps the default. */
static void
test_invalid_escape (void)
{
  static const char *texts[] = {
    "[storage]\nroot=/a\\q\n",
    "[storage]\nadditional_image_stores=/a;/b\\q\n",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr(GError) error = apply_refused (texts[i]);

      g_assert_true (g_str_has_prefix (error->message, "test.conf: invalid value for storage."));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/config/defaults", test_defaults);
  g_test_add_func ("/config/keyfile", test_keyfile);
  g_test_add_func ("/config/bad-value", test_bad_value);
  g_test_add_func ("/config/bad-escape", test_bad_escape);
  g_test_add_func ("/config/invalid-escape", test_invalid_escape);
  return g_test_run ();
}
