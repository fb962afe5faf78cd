/* The squashfs image trailer and OCI bundle config.json checks: pure logic. */
#include "container/oci-bundle.h"
#include "error.h"
#include "squashfs/squashfs.h"

#include <glib/gstdio.h>
#include <string.h>

static void
test_trailer_round_trip (void)
{
  g_autoptr(GBytes) t = rrun_squashfs_trailer_build ("{\"config\":{}}", "root:x:0:0::/:/bin/sh\n",
                                                     NULL, "abc", "localhost/x:latest", 4096);
  gsize len;
  const char *data = g_bytes_get_data (t, &len);
  guint64 offset = 0;
  guint32 json_len = 0;
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint (len, >, RRUN_SQUASHFS_TRAILER_SIZE);
  g_assert_true (rrun_squashfs_trailer_parse (data + len - RRUN_SQUASHFS_TRAILER_SIZE,
                                              4096 + len, &offset, &json_len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (offset, ==, 4096);
  g_assert_cmpuint (json_len, ==, len - RRUN_SQUASHFS_TRAILER_SIZE);
  g_assert_true (data[0] == '{' && data[json_len - 1] == '}');
}

static void
test_trailer_damaged (void)
{
  g_autoptr(GError) error = NULL;
  guint64 offset;
  guint32 len;
  char tail[RRUN_SQUASHFS_TRAILER_SIZE];

  memset (tail, 'x', sizeof tail);
  g_assert_false (rrun_squashfs_trailer_parse (tail, 100000, &offset, &len, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* the sizes do not add up to the file's */
  memcpy (tail, "RRUNCFG1" "0000000000001000" "00000010", 32);
  g_assert_false (rrun_squashfs_trailer_parse (tail, 4096 + 16 + 33, &offset, &len, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_CORRUPT);
  g_clear_error (&error);
  g_assert_true (rrun_squashfs_trailer_parse (tail, 4096 + 16 + 32, &offset, &len, &error));
  memcpy (tail, "RRUNCFG1" "00000000000010zz" "00000010", 32);
  g_assert_false (rrun_squashfs_trailer_parse (tail, 4096 + 16 + 32, &offset, &len, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_CORRUPT);
}

static void
test_file_ref (void)
{
  g_assert_true (rrun_squashfs_is_file_ref ("/x/img.sqsh"));
  g_assert_true (rrun_squashfs_is_file_ref ("img.sqsh"));
  g_assert_true (rrun_squashfs_is_file_ref ("./img"));
  g_assert_false (rrun_squashfs_is_file_ref ("alpine"));
  g_assert_false (rrun_squashfs_is_file_ref ("docker.io/library/alpine:3"));
}

/* config.json in a temporary bundle; the error text for it. */
static char *
bundle_error (const char *config)
{
  g_autofree char *dir = g_dir_make_tmp ("rrun-oci-XXXXXX", NULL);
  g_autofree char *file = g_build_filename (dir, "config.json", NULL);
  g_autofree char *rootfs = g_build_filename (dir, "rootfs", NULL);
  g_autoptr(RrunContainerSpec) spec = NULL;
  g_autoptr(GError) error = NULL;
  char *message;

  g_mkdir (rootfs, 0755);
  g_assert_true (g_file_set_contents (file, config, -1, NULL));
  if (rrun_oci_bundle_to_spec (dir, "id1", &spec, &error))
    message = g_strdup_printf ("ok %s|%s|%s|%s|%s", spec->args[0], spec->workdir ? spec->workdir : "",
                               spec->network, spec->ipc ? spec->ipc : "private", spec->user ? spec->user : "");
  else
    {
      const char *colon = strstr (error->message, "config.json: ");
      char *nl;

      message = g_strdup (colon ? colon + strlen ("config.json: ") : error->message);
      if ((nl = strchr (message, '\n')) != NULL)
        *nl = '\0'; /* the hint */
    }
  g_remove (file);
  g_rmdir (rootfs);
  g_rmdir (dir);
  return message;
}

static void
test_bundle_config (void)
{
  static const struct
  {
    const char *config, *expected;
  } cases[] = {
    { "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"sh\"],"
      "\"cwd\":\"/srv\",\"user\":{\"uid\":5,\"gid\":6}}}",
      "ok sh|/srv|host|host|5:6" },
    { "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"sh\"]},"
      "\"linux\":{\"namespaces\":[{\"type\":\"network\"},{\"type\":\"ipc\"}]}}",
      "ok sh||none|private|" },
    { "{\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"sh\"]}}",
      "ociVersion is missing" },
    { "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{}}",
      "process.args is missing" },
    { "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[]}}",
      "process.args must not be empty" },
    { "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[1]}}",
      "process.args must hold strings only" },
    { "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"sh\"],"
      "\"env\":[\"NOVALUE\"]}}",
      "process.env must hold KEY=VALUE strings" },
    { "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"sh\"],"
      "\"cwd\":\"rel\"}}",
      "process.cwd must be an absolute path" },
    { "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"nope\"},\"process\":{\"args\":[\"sh\"]}}",
      "root.path is not a directory" },
    { "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"sh\"]},"
      "\"mounts\":[{\"destination\":\"/b\",\"type\":\"bind\"}]}",
      "mounts[0].source is missing (a bind mount needs one)" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = bundle_error (cases[i].config);
      g_assert_cmpstr (got, ==, cases[i].expected);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/squashfs/trailer/round-trip", test_trailer_round_trip);
  g_test_add_func ("/squashfs/trailer/damaged", test_trailer_damaged);
  g_test_add_func ("/squashfs/file-ref", test_file_ref);
  g_test_add_func ("/oci/bundle/config", test_bundle_config);
  return g_test_run ();
}
