/* The volume store (volume/volume.h) in a temp dir: create, look up, list, users from
   the records' mounts.json, remove; option checks and their messages. */
#include "config.h"
#include "error.h"
#include "util/path.h"
#include "volume/volume.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void
test_store (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("rrun-volume-XXXXXX", NULL);
  g_autoptr(RrunConfig) config = rrun_config_new_defaults ();
  g_autoptr(RrunVolumeInfo) v = NULL, again = NULL, found = NULL;
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) users = NULL, none = NULL;
  g_autofree char *record = NULL, *data = NULL;
  char *labels[] = { "app=web", NULL };
  gboolean created = FALSE;

  g_free (config->volume_path);
  config->volume_path = g_build_filename (tmp, "volumes", NULL);
  g_free (config->storage_root);
  config->storage_root = g_build_filename (tmp, "storage", NULL);

  g_assert_true (rrun_volume_create (config, "data1", "local", labels, NULL, FALSE, &created,
                                     &v, &error));
  g_assert_no_error (error);
  g_assert_true (created);
  g_assert_cmpstr (v->name, ==, "data1");
  data = g_build_filename (config->volume_path, "data1", "_data", NULL);
  g_assert_cmpstr (v->mountpoint, ==, data);
  g_assert_true (g_file_test (data, G_FILE_TEST_IS_DIR));
  /* create again: the same volume, not made anew */
  g_assert_true (rrun_volume_create (config, "data1", NULL, NULL, NULL, FALSE, &created, &again,
                                     &error));
  g_assert_false (created);
  g_assert_cmpstr (again->labels[0], ==, "app=web");
  g_assert_true (rrun_volume_lookup (config, "data1", &found, &error));
  g_assert_false (found->anonymous);
  g_assert_true (rrun_volume_list (config, &all, &error));
  g_assert_cmpuint (all->len, ==, 1);

  /* a record naming the volume makes it used */
  record = g_build_filename (config->storage_root, "containers", "c1", NULL);
  g_assert_cmpint (g_mkdir_with_parents (record, 0700), ==, 0);
  {
    g_autofree char *mounts = g_build_filename (record, RRUN_MOUNTS_FILE, NULL);
    g_assert_true (g_file_set_contents (mounts, "[{\"Type\":\"volume\",\"Name\":\"data1\"}]", -1,
                                        NULL));
  }
  g_assert_true (rrun_volume_users (config, "data1", &users, &error));
  g_assert_cmpstr (users[0], ==, "c1");
  g_assert_true (rrun_volume_users (config, "other", &none, &error));
  g_assert_null (none[0]);

  g_assert_true (rrun_volume_remove (config, NULL, "data1", &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (data, G_FILE_TEST_EXISTS));
  g_assert_false (rrun_volume_lookup (config, "data1", &found, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "no such volume \"data1\"\nhint: list volumes with: "
                                       "rrun volume ls");
  rrun_path_rm_rf (tmp, NULL);
}

/* rm -v and --rm: the anonymous volumes a record listed, once no record lists them. */
static void
test_remove_unused_anonymous (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("rrun-volume-XXXXXX", NULL);
  g_autoptr(RrunConfig) config = rrun_config_new_defaults ();
  g_autoptr(RrunVolumeInfo) a = NULL, b = NULL, n = NULL, found = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = NULL, none = NULL;
  g_autofree char *c1 = NULL, *c2 = NULL, *m1 = NULL, *m2 = NULL;
  gboolean created;

  g_free (config->volume_path);
  config->volume_path = g_build_filename (tmp, "volumes", NULL);
  g_free (config->storage_root);
  config->storage_root = g_build_filename (tmp, "storage", NULL);
  g_assert_true (rrun_volume_create (config, "anon-a", "local", NULL, NULL, TRUE, &created, &a,
                                     &error));
  g_assert_true (rrun_volume_create (config, "anon-b", "local", NULL, NULL, TRUE, &created, &b,
                                     &error));
  g_assert_true (rrun_volume_create (config, "named", "local", NULL, NULL, FALSE, &created, &n,
                                     &error));
  c1 = g_build_filename (config->storage_root, "containers", "c1", NULL);
  c2 = g_build_filename (config->storage_root, "containers", "c2", NULL);
  g_assert_cmpint (g_mkdir_with_parents (c1, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (c2, 0700), ==, 0);
  m1 = g_build_filename (c1, RRUN_MOUNTS_FILE, NULL);
  m2 = g_build_filename (c2, RRUN_MOUNTS_FILE, NULL);
  g_assert_true (g_file_set_contents (m1,
                                      "[{\"Type\":\"volume\",\"Name\":\"anon-a\"},"
                                      "{\"Type\":\"bind\",\"Source\":\"/x\"},"
                                      "{\"Type\":\"volume\",\"Name\":\"anon-b\"},"
                                      "{\"Type\":\"volume\",\"Name\":\"named\"}]",
                                      -1, NULL));
  /* c2 took anon-b over (--volumes-from) */
  g_assert_true (g_file_set_contents (m2, "[{\"Type\":\"volume\",\"Name\":\"anon-b\"}]", -1,
                                      NULL));
  names = rrun_volume_names_of_record (c1);
  g_assert_cmpuint (g_strv_length (names), ==, 3);
  g_assert_cmpstr (names[0], ==, "anon-a");
  g_assert_cmpstr (names[2], ==, "named");
  none = rrun_volume_names_of_record (tmp);
  g_assert_null (none[0]);
  /* c1 removed: anon-a goes, anon-b stays (c2 uses it), named stays */
  g_assert_cmpint (unlink (m1), ==, 0);
  rrun_volume_remove_unused_anonymous (config, NULL, names);
  g_assert_false (rrun_volume_lookup (config, "anon-a", &found, NULL));
  g_assert_true (rrun_volume_lookup (config, "anon-b", &found, NULL));
  g_clear_pointer (&found, rrun_volume_info_free);
  g_assert_true (rrun_volume_lookup (config, "named", &found, NULL));
  rrun_path_rm_rf (tmp, NULL);
}

static void
test_names_and_options (void)
{
  g_autoptr(GError) error = NULL;
  char *nfs[] = { "type=nfs", "o=addr=10.0.0.1", "device=:/export", NULL };
  char *tmpfs[] = { "type=tmpfs", "device=tmpfs", "o=size=1m,mode=700", NULL };
  char *bad_tmpfs[] = { "type=tmpfs", "o=huge", NULL };
  char *bind_no_device[] = { "type=none", "o=bind", NULL };
  char *ext4[] = { "type=ext4", "device=/dev/sdb1", NULL };

  g_assert_true (rrun_volume_name_valid ("a1"));
  g_assert_true (rrun_volume_name_valid ("my_data.v-2"));
  g_assert_false (rrun_volume_name_valid ("a"));
  g_assert_false (rrun_volume_name_valid ("_a"));
  g_assert_false (rrun_volume_name_valid ("a/b"));
  g_assert_false (rrun_volume_name_valid ("../x"));

  g_assert_true (rrun_volume_check_options (tmpfs, &error));
  g_assert_cmpstr (rrun_volume_option (tmpfs, "o"), ==, "size=1m,mode=700");
  g_assert_false (rrun_volume_check_options (nfs, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_UNSUPPORTED);
  g_assert_true (g_str_has_prefix (error->message,
                                   "cannot use volume option type=nfs: rootless containers "
                                   "cannot mount it (only root may mount that file system)\n"
                                   "hint: mount it on the host"));
  g_clear_error (&error);
  g_assert_false (rrun_volume_check_options (ext4, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_assert_false (rrun_volume_check_options (bad_tmpfs, &error));
  g_assert_nonnull (strstr (error->message, "\"huge\" is not a tmpfs option"));
  g_clear_error (&error);
  g_assert_false (rrun_volume_check_options (bind_no_device, &error));
  g_assert_cmpstr (error->message, ==, "invalid volume options: a bind needs "
                                       "device=/absolute/host/path");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/volume/store", test_store);
  g_test_add_func ("/volume/remove-unused-anonymous", test_remove_unused_anonymous);
  g_test_add_func ("/volume/names-and-options", test_names_and_options);
  return g_test_run ();
}
