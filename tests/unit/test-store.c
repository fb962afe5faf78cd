/* The store's bookkeeping without namespaces: layers are made by hand (as extraction
   would leave them), images recorded, found, listed, untagged and deleted. */
#include "storage/store.h"
#include "storage/fsmagic.h"
#include "error.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHAIN "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

typedef struct
{
  char *dir;
  RrunConfig *config;
  RrunStore *store;
  char *registries_conf;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  g_setenv ("RRUN_TEST_FSTYPE", "local", TRUE);
  f->dir = g_dir_make_tmp ("rrun-test-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->config = rrun_config_new_defaults ();
  g_free (f->config->storage_root);
  f->config->storage_root = g_build_filename (f->dir, "storage", NULL);
  /* Not the host's registries.conf: one search registry of a test's own. */
  f->registries_conf = g_build_filename (f->dir, "registries.conf", NULL);
  g_assert_true (g_file_set_contents (
      f->registries_conf, "unqualified-search-registries = [\"127.0.0.1:5001\"]\n", -1, NULL));
  g_setenv ("RRUN_REGISTRIES_CONF", f->registries_conf, TRUE);
  g_assert_true (rrun_store_open (f->config, &f->store, &error));
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", f->dir);

  rrun_store_free (f->store);
  rrun_config_free (f->config);
  g_assert_cmpint (system (cmd), ==, 0);
  g_free (f->dir);
  g_free (f->registries_conf);
}

/* What rrun_store_add_layer leaves: layers/CHAIN/{diff/,layer.json}. */
static void
make_layer (Fixture *f, const char *chain, guint64 size)
{
  g_autofree char *diff = g_build_filename (rrun_store_root (f->store), "layers", chain,
                                            "diff", NULL);
  g_autofree char *json = g_build_filename (rrun_store_root (f->store), "layers", chain,
                                            "layer.json", NULL);
  g_autofree char *text = g_strdup_printf ("{\"id\":\"%s\",\"diff_id\":\"sha256:%s\","
                                           "\"parent\":null,\"size\":%" G_GUINT64_FORMAT "}",
                                           chain, chain, size);
  g_autofree char *file = g_build_filename (diff, "hello", NULL);

  g_assert_cmpint (g_mkdir_with_parents (diff, 0755), ==, 0);
  g_assert_true (g_file_set_contents (json, text, -1, NULL));
  g_assert_true (g_file_set_contents (file, "hi\n", -1, NULL));
}

static char *
config_text (const char *created, const char *cmd)
{
  return g_strdup_printf ("{\"created\":\"%s\",\"architecture\":\"amd64\",\"os\":\"linux\","
                          "\"config\":{\"Cmd\":[\"%s\"]},\"rootfs\":{\"type\":\"layers\","
                          "\"diff_ids\":[\"sha256:" CHAIN "\"]}}",
                          created, cmd);
}

static char *
add_image (Fixture *f, const char *created, const char *cmd, const char *name)
{
  g_autofree char *config = config_text (created, cmd);
  g_autoptr(GError) error = NULL;
  const char *layers[] = { CHAIN, NULL };
  char *id = NULL;

  g_assert_true (rrun_store_add_image (f->store, config, strlen (config), layers, name, NULL,
                                       &id, &error));
  g_assert_no_error (error);
  return id;
}

static guint
count_entries (Fixture *f, const char *sub)
{
  g_autofree char *path = g_build_filename (rrun_store_root (f->store), sub, NULL);
  g_autoptr(GDir) d = g_dir_open (path, 0, NULL);
  guint n = 0;

  g_assert_nonnull (d);
  while (g_dir_read_name (d))
    n++;
  return n;
}

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunImage) img = NULL, by_id = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autofree char *config = config_text ("2024-01-02T03:04:05Z", "sh");
  g_autofree char *want_id = g_compute_checksum_for_string (G_CHECKSUM_SHA256, config, -1);
  g_autofree char *id = NULL, *prefix = NULL, *blob = NULL;

  make_layer (f, CHAIN, 42);
  id = add_image (f, "2024-01-02T03:04:05Z", "sh", "localhost/t:1");
  /* docker's image id: the digest of the config bytes */
  g_assert_cmpstr (id, ==, want_id);
  blob = g_build_filename (rrun_store_root (f->store), "blobs", "sha256", id, NULL);
  g_assert_true (g_file_test (blob, G_FILE_TEST_EXISTS));

  g_assert_true (rrun_store_find_image (f->store, "t:1", &img, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (img->id, ==, id);
  g_assert_cmpuint (g_strv_length (img->names), ==, 1);
  g_assert_cmpstr (img->names[0], ==, "localhost/t:1");
  g_assert_cmpuint (img->layer_dirs->len, ==, 1);
  g_assert_true (g_str_has_suffix (img->layer_dirs->pdata[0], "/layers/" CHAIN "/diff"));
  g_assert_cmpstr (img->layer_ids->pdata[0], ==, CHAIN);
  g_assert_cmpuint (img->size, ==, 42);
  g_assert_cmpint (img->created, ==, 1704164645);
  g_assert_cmpstr (img->os, ==, "linux");
  g_assert_cmpstr (img->architecture, ==, "amd64");
  g_assert_cmpstr (img->config->cmd[0], ==, "sh");
  g_assert_false (img->read_only_store);

  prefix = g_strndup (id, 12);
  g_assert_true (rrun_store_find_image (f->store, prefix, &by_id, &error));
  g_assert_cmpstr (by_id->id, ==, id);

  g_assert_true (rrun_store_list_images (f->store, &list, &error));
  g_assert_cmpuint (list->len, ==, 1);
}

static void
test_not_found_hint (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunImage) img = NULL;

  g_assert_false (rrun_store_find_image (f->store, "nothere", &img, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_NOT_FOUND);
  g_assert_true (g_str_has_prefix (error->message, "image \"nothere\" not found\nhint: "));
  g_assert_null (img);
}

/* A short name finds what pull stored under a search registry of registries.conf, with
   no network: find (run, inspect, tag, history), open_image_blobs (save) and rmi. */
static void
test_short_name_search_registry (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunImage) img = NULL, other = NULL;
  g_autoptr(RrunStoreImageBlobs) blobs = NULL;
  g_auto(GStrv) untagged = NULL;
  g_autofree char *id = NULL, *deleted = NULL;

  make_layer (f, CHAIN, 1);
  id = add_image (f, "2024-01-01T00:00:00Z", "sh", "127.0.0.1:5001/acc/big:latest");
  g_assert_true (rrun_store_find_image (f->store, "acc/big", &img, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (img->id, ==, id);
  g_assert_true (rrun_store_open_image_blobs (f->store, "acc/big:latest", &blobs, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (blobs->id, ==, id);
  /* Not a registry outside the search list. */
  g_assert_false (rrun_store_find_image (f->store, "docker.io/acc/big", &other, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* localhost/NAME comes first: an image made here under the same short name wins. */
  g_free (add_image (f, "2024-02-01T00:00:00Z", "ls", "localhost/acc/big:latest"));
  g_assert_true (rrun_store_find_image (f->store, "acc/big", &other, &error));
  g_assert_cmpstr (other->id, !=, id);
  g_assert_true (rrun_store_remove_image_full (f->store, NULL, "localhost/acc/big", FALSE,
                                               &untagged, &deleted, &error));
  g_clear_pointer (&untagged, g_strfreev);
  g_clear_pointer (&deleted, g_free);

  g_assert_true (rrun_store_remove_image_full (f->store, NULL, "acc/big", FALSE, &untagged,
                                               &deleted, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (untagged), ==, 1);
  g_assert_cmpstr (untagged[0], ==, "127.0.0.1:5001/acc/big:latest");
  g_assert_cmpstr (deleted, ==, id);
}

/* One merged list: rrun.conf's search list applies when registries.conf sets none, and
   replaces registries.conf's when set to other than docker.io (as for pull). */
static void
test_short_name_rrun_conf (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunStore) plain = NULL, overridden = NULL;
  g_autoptr(RrunImage) img = NULL, none = NULL, mine = NULL;

  make_layer (f, CHAIN, 1);
  g_free (add_image (f, "2024-01-01T00:00:00Z", "sh", "127.0.0.1:5001/acc/big:latest"));
  g_free (add_image (f, "2024-02-01T00:00:00Z", "ls", "quay.io/acc/mine:latest"));
  /* registries.conf without a search list, rrun.conf's [registries] has one */
  g_assert_true (g_file_set_contents (f->registries_conf, "# nothing\n", -1, NULL));
  g_strfreev (f->config->unqualified_search_registries);
  f->config->unqualified_search_registries = g_strsplit ("127.0.0.1:5001", ",", -1);
  g_assert_true (rrun_store_open (f->config, &plain, &error));
  g_assert_true (rrun_store_find_image (plain, "acc/big", &img, &error));
  g_assert_no_error (error);
  /* both set: rrun.conf's replaces registries.conf's */
  g_assert_true (g_file_set_contents (
      f->registries_conf, "unqualified-search-registries = [\"127.0.0.1:5001\"]\n", -1, NULL));
  g_strfreev (f->config->unqualified_search_registries);
  f->config->unqualified_search_registries = g_strsplit ("quay.io", ",", -1);
  g_assert_true (rrun_store_open (f->config, &overridden, &error));
  g_assert_false (rrun_store_find_image (overridden, "acc/big", &none, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (rrun_store_find_image (overridden, "acc/mine", &mine, &error));
  g_assert_no_error (error);
}

/* A registries.conf that cannot be read fails the open, naming the file (as pull did). */
static void
test_bad_registries_conf (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunStore) store = NULL;

  g_assert_true (g_file_set_contents (f->registries_conf,
                                      "unqualified-search-registries = \"docker.io\"\n", -1,
                                      NULL));
  g_assert_false (rrun_store_open (f->config, &store, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, f->registries_conf));
  g_assert_null (store);
}

static void
test_names_move (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunImage) a = NULL, b = NULL;
  g_autofree char *id1 = NULL, *id1b = NULL, *id2 = NULL;
  g_autoptr(GPtrArray) list = NULL;

  make_layer (f, CHAIN, 1);
  id1 = add_image (f, "2024-01-01T00:00:00Z", "sh", "localhost/t:1");
  id1b = add_image (f, "2024-01-01T00:00:00Z", "sh", "localhost/u:latest");
  g_assert_cmpstr (id1, ==, id1b); /* same config: the same image gains a name */
  g_assert_true (rrun_store_find_image (f->store, "u", &a, &error));
  g_assert_cmpuint (g_strv_length (a->names), ==, 2);
  /* A newer image takes the name "u" away from the older one. */
  id2 = add_image (f, "2024-02-01T00:00:00Z", "ls", "localhost/u:latest");
  g_assert_cmpstr (id1, !=, id2);
  g_assert_true (rrun_store_find_image (f->store, "localhost/u", &b, &error));
  g_assert_cmpstr (b->id, ==, id2);
  g_assert_true (rrun_store_list_images (f->store, &list, &error));
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (((RrunImage *) list->pdata[0])->id, ==, id2); /* newest first */
  g_assert_cmpuint (g_strv_length (((RrunImage *) list->pdata[1])->names), ==, 1);
}

static void
test_remove_and_busy (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id1 = NULL, *id2 = NULL, *upper = NULL, *work = NULL;
  g_auto(GStrv) untagged = NULL;
  g_autofree char *deleted = NULL;
  int lock_fd = -1;

  make_layer (f, CHAIN, 1);
  id1 = add_image (f, "2024-01-01T00:00:00Z", "sh", "localhost/t:1");
  id2 = add_image (f, "2024-02-01T00:00:00Z", "ls", "localhost/u:latest");

  g_assert_true (rrun_store_create_container_dirs (f->store, "c1", id2, &upper, &work,
                                                   &lock_fd, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (upper, G_FILE_TEST_IS_DIR));
  g_assert_true (g_file_test (work, G_FILE_TEST_IS_DIR));
  g_assert_cmpint (lock_fd, >=, 0);

  /* A live container (its lock held) keeps the image. */
  g_assert_false (rrun_store_remove_image_full (f->store, NULL, "u", FALSE, &untagged,
                                                &deleted, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_BUSY);
  g_assert_nonnull (strstr (error->message, "\nhint: "));
  g_assert_nonnull (strstr (error->message, "-f"));
  g_clear_error (&error);
  /* gc leaves a live container alone */
  g_assert_true (rrun_store_gc_containers (f->store, NULL, &error));
  g_assert_true (g_file_test (upper, G_FILE_TEST_IS_DIR));

  /* Its rrun dies: the lock goes, gc removes the container. */
  close (lock_fd);
  g_assert_true (rrun_store_gc_containers (f->store, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (upper, G_FILE_TEST_EXISTS));

  g_assert_true (rrun_store_remove_image_full (f->store, NULL, "u", FALSE, &untagged,
                                               &deleted, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (untagged[0], ==, "localhost/u:latest");
  g_assert_cmpstr (deleted, ==, id2);
  /* The layer stays while t:1 uses it. */
  g_assert_true (rrun_store_has_layer (f->store, CHAIN));
  g_clear_pointer (&untagged, g_strfreev);
  g_clear_pointer (&deleted, g_free);
  g_assert_true (rrun_store_remove_image_full (f->store, NULL, id1, FALSE, &untagged,
                                               &deleted, &error));
  g_assert_cmpstr (deleted, ==, id1);
  g_assert_false (rrun_store_has_layer (f->store, CHAIN));
  g_assert_cmpuint (count_entries (f, "images"), ==, 0);
  g_assert_cmpuint (count_entries (f, "layers"), ==, 0);
  g_assert_cmpuint (count_entries (f, "containers"), ==, 0);
  g_assert_cmpuint (count_entries (f, "tmp"), ==, 0);
  g_assert_cmpuint (count_entries (f, "blobs/sha256"), ==, 0);
}

static void
test_force_while_running (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL, *upper = NULL, *work = NULL, *deleted = NULL;
  g_auto(GStrv) untagged = NULL;
  g_autoptr(GPtrArray) list = NULL;
  int lock_fd = -1;

  make_layer (f, CHAIN, 1);
  id = add_image (f, "2024-01-01T00:00:00Z", "sh", "localhost/t:1");
  g_assert_true (rrun_store_create_container_dirs (f->store, "c2", id, &upper, &work,
                                                   &lock_fd, &error));
  g_assert_true (rrun_store_remove_image_full (f->store, NULL, "t:1", TRUE, &untagged,
                                               &deleted, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (untagged[0], ==, "localhost/t:1");
  g_assert_null (deleted);            /* kept on disk for the running container */
  g_assert_true (rrun_store_has_layer (f->store, CHAIN));
  g_assert_true (rrun_store_list_images (f->store, &list, &error));
  g_assert_cmpuint (list->len, ==, 0); /* but gone from view */
  close (lock_fd);
  g_assert_true (rrun_store_gc_containers (f->store, NULL, &error));
  g_assert_false (rrun_store_has_layer (f->store, CHAIN));
  g_assert_cmpuint (count_entries (f, "images"), ==, 0);
}

static void
test_container_dirs (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL, *upper = NULL, *work = NULL, *u2 = NULL, *w2 = NULL;
  int lock_fd = -1, fd2 = -1;

  make_layer (f, CHAIN, 1);
  id = add_image (f, "2024-01-01T00:00:00Z", "sh", "localhost/t:1");
  g_assert_true (rrun_store_create_container_dirs (f->store, "c3", id, &upper, &work,
                                                   &lock_fd, &error));
  g_assert_false (rrun_store_create_container_dirs (f->store, "c3", id, &u2, &w2, &fd2,
                                                    &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_BUSY);
  g_clear_error (&error);
  g_assert_false (rrun_store_create_container_dirs (f->store, "../x", id, &u2, &w2, &fd2,
                                                    &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (rrun_store_create_container_dirs (f->store, "c4", CHAIN, &u2, &w2, &fd2,
                                                    &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* An empty layer (what the holder leaves of a --rm container) goes in place. */
  g_assert_true (rrun_store_remove_container_dirs (f->store, NULL, "c3", &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (upper, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_entries (f, "containers"), ==, 0);
  /* missing is success */
  g_assert_true (rrun_store_remove_container_dirs (f->store, NULL, "c3", &error));
  close (lock_fd);
  g_assert_cmpuint (count_entries (f, "tmp"), ==, 0);

  /* A layer with files in it (a start that failed before the holder emptied it) is
     staged and removed whole, its tree included. */
  g_clear_pointer (&upper, g_free);
  g_clear_pointer (&work, g_free);
  g_assert_true (rrun_store_create_container_dirs (f->store, "c5", id, &upper, &work,
                                                   &lock_fd, &error));
  {
    g_autofree char *dir = g_build_filename (upper, "etc", NULL);
    g_autofree char *file = g_build_filename (dir, "hosts", NULL);
    g_autofree char *sub = g_build_filename (work, "work", NULL);

    g_assert_cmpint (mkdir (dir, 0755), ==, 0);
    g_assert_true (g_file_set_contents (file, "127.0.0.1 localhost\n", -1, NULL));
    g_assert_cmpint (mkdir (sub, 0), ==, 0); /* overlay's work dir is mode 000 */
  }
  g_assert_true (rrun_store_remove_container_dirs (f->store, NULL, "c5", &error));
  g_assert_no_error (error);
  close (lock_fd);
  g_assert_cmpuint (count_entries (f, "containers"), ==, 0);
  g_assert_cmpuint (count_entries (f, "tmp"), ==, 0);
}

static void
test_corrupt_config (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunImage) img = NULL;
  g_autofree char *id = NULL, *cpath = NULL;

  make_layer (f, CHAIN, 1);
  id = add_image (f, "2024-01-01T00:00:00Z", "sh", "localhost/t:1");
  cpath = g_build_filename (rrun_store_root (f->store), "images", id, "config.json", NULL);
  g_assert_cmpint (unlink (cpath), ==, 0); /* a hard link to the blob: break only this */
  g_assert_true (g_file_set_contents (cpath, "{\"config\":{\"Cmd\":\"sh\"}}", -1, NULL));
  g_assert_false (rrun_store_find_image (f->store, "t:1", &img, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "does not match"));
}

/* issue 19: a truncated image.json made the image vanish from the list, "not found" for
   rmi -f ID; it is listed as damaged, refused for use, removable by id, and the healthy
   image and the layer they share stay. */
static void
test_damaged_image (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(RrunImage) img = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autofree char *keep = NULL, *id = NULL, *meta = NULL, *prefix = NULL, *removed = NULL;
  guint damaged = 0;

  make_layer (f, CHAIN, 1);
  keep = add_image (f, "2024-01-01T00:00:00Z", "sh", "localhost/keep:1");
  id = add_image (f, "2024-01-02T00:00:00Z", "ls", "localhost/dmg:1");
  meta = g_build_filename (rrun_store_root (f->store), "images", id, "image.json", NULL);
  g_assert_cmpint (truncate (meta, 20), ==, 0);

  g_assert_true (rrun_store_list_images (f->store, &list, &error));
  g_assert_cmpuint (list->len, ==, 2);
  for (guint i = 0; i < list->len; i++)
    {
      RrunImage *e = list->pdata[i];

      if (e->damaged == NULL)
        continue;
      damaged++;
      g_assert_cmpstr (e->id, ==, id);
      g_assert_nonnull (strstr (e->damaged, "image.json"));
    }
  g_assert_cmpuint (damaged, ==, 1);

  prefix = g_strndup (id, 12);
  g_assert_false (rrun_store_find_image (f->store, prefix, &img, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_CORRUPT);
  g_assert_true (g_str_has_prefix (error->message, "image "));
  g_assert_nonnull (strstr (error->message, " is damaged: "));
  g_assert_nonnull (strstr (error->message, "hint: remove it with 'rrun rmi -f "));
  g_clear_error (&error);

  g_assert_true (rrun_store_remove_image (f->store, NULL, prefix, TRUE, &removed, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (removed, ==, id);
  g_assert_true (rrun_store_find_image (f->store, "keep:1", &img, &error));
  g_assert_cmpstr (img->layer_ids->pdata[0], ==, CHAIN);
  g_assert_cmpuint (count_entries (f, "images"), ==, 1);
  g_assert_cmpuint (count_entries (f, "layers"), ==, 1);
}

static void
test_bad_add (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  const char *layers[] = { CHAIN, NULL };
  const char *bad = "{\"rootfs\":{\"diff_ids\":[]}}";
  g_autofree char *good = config_text ("2024-01-01T00:00:00Z", "sh");

  /* layer missing */
  g_assert_false (rrun_store_add_image (f->store, good, strlen (good), layers, NULL, NULL,
                                        &id, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_NOT_FOUND);
  g_clear_error (&error);
  make_layer (f, CHAIN, 1);
  /* config lists no layer but the image has one */
  g_assert_false (rrun_store_add_image (f->store, bad, strlen (bad), layers, NULL, NULL, &id,
                                        &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_CORRUPT);
  g_assert_cmpuint (count_entries (f, "images"), ==, 0);
  g_assert_cmpuint (count_entries (f, "tmp"), ==, 0);
}

static void
test_chain_id (void)
{
  g_autofree char *bottom = rrun_store_chain_id (NULL, "sha256:" CHAIN);
  g_autofree char *next = rrun_store_chain_id (
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");

  g_assert_cmpstr (bottom, ==, CHAIN);
  /* sha256("sha256:<parent> sha256:<diff>"), as the OCI image spec defines it */
  g_assert_cmpstr (next, ==, "ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c");
}

static void
test_network_fs_refused (void)
{
  g_autoptr(RrunConfig) config = rrun_config_new_defaults ();
  g_autoptr(RrunStore) store = NULL;
  g_autoptr(GError) error = NULL;
  const char *name = NULL;

  g_setenv ("RRUN_TEST_FSTYPE", "lustre", TRUE);
  g_free (config->storage_root);
  config->storage_root = g_strdup ("/nonexistent/rrun-test/storage");
  g_assert_false (rrun_store_open (config, &store, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "it is on lustre"));
  g_assert_nonnull (strstr (error->message, "\nhint: "));
  g_assert_nonnull (strstr (error->message, "--root"));
  g_assert_false (g_file_test ("/nonexistent/rrun-test", G_FILE_TEST_EXISTS));
  g_clear_error (&error);
  g_unsetenv ("RRUN_TEST_FSTYPE");
  g_assert_cmpstr (rrun_fsmagic_network_name (0x6969), ==, "nfs");
  g_assert_cmpstr (rrun_fsmagic_network_name (0x0BD00BD0), ==, "lustre");
  g_assert_cmpstr (rrun_fsmagic_network_name (0x47504653), ==, "gpfs");
  g_assert_cmpstr (rrun_fsmagic_network_name (0x19830326), ==, "beegfs");
  g_assert_cmpstr (rrun_fsmagic_network_name ((long) 0xFF534D42), ==, "cifs");
  g_assert_null (rrun_fsmagic_network_name (0xEF53)); /* ext4 */
  /* a path that does not exist yet is judged by its nearest parent */
  g_assert_true (rrun_fsmagic_network_fs ("/proc/nonexistent/x", &name, &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/store/round-trip", test_round_trip);
  ADD ("/store/not-found-hint", test_not_found_hint);
  ADD ("/store/names-move", test_names_move);
  ADD ("/store/short-name/search-registry", test_short_name_search_registry);
  ADD ("/store/short-name/rrun-conf", test_short_name_rrun_conf);
  ADD ("/store/short-name/bad-registries-conf", test_bad_registries_conf);
  ADD ("/store/remove-and-busy", test_remove_and_busy);
  ADD ("/store/force-while-running", test_force_while_running);
  ADD ("/store/container-dirs", test_container_dirs);
  ADD ("/store/corrupt-config", test_corrupt_config);
  ADD ("/store/damaged-image", test_damaged_image);
  ADD ("/store/bad-add", test_bad_add);
  g_test_add_func ("/store/chain-id", test_chain_id);
  g_test_add_func ("/store/network-fs-refused", test_network_fs_refused);
  return g_test_run ();
}
