/* Copy-up's merge of image layers (volume/copy-up.h): what the overlay would show at a
   path is what a new volume gets. Temp dirs only, no namespace: the copy keeps owners
   it may set, which for the caller's own files it always can. */
#include "error.h"
#include "util/path.h"
#include "volume/copy-up.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

static void
put (const char *dir, const char *rel, const char *text)
{
  g_autofree char *path = g_build_filename (dir, rel, NULL);
  g_autofree char *parent = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

static char *
slurp (const char *dir, const char *rel)
{
  g_autofree char *path = g_build_filename (dir, rel, NULL);
  char *text = NULL;

  return g_file_get_contents (path, &text, NULL, NULL) ? text : NULL;
}

static void
test_merge (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("rrun-copy-up-XXXXXX", NULL);
  g_autofree char *lower = g_build_filename (tmp, "lower", NULL);
  g_autofree char *upper = g_build_filename (tmp, "upper", NULL);
  g_autofree char *dest = g_build_filename (tmp, "dest", NULL);
  g_autofree char *wh = NULL, *opq = NULL, *hl_a = NULL, *hl_b = NULL;
  g_autofree char *d1 = NULL, *d2 = NULL;
  const char *layers[] = { lower, upper, NULL }; /* bottom first */
  const char *top_first[] = { upper, lower, NULL };
  g_autoptr(GPtrArray) dirs = NULL;
  g_autoptr(GError) error = NULL;
  gboolean unsure, opaque_ok;
  struct stat a, b;
  char *text;

  put (lower, "data/keep", "lower keep\n");
  put (lower, "data/gone", "whited out\n");
  put (lower, "data/over", "lower over\n");
  put (lower, "data/sub/old", "hidden by opaque\n");
  put (upper, "data/over", "upper over\n");
  put (upper, "data/sub/new", "new\n");
  put (upper, "data/hl-a", "linked\n");
  hl_a = g_build_filename (upper, "data/hl-a", NULL);
  hl_b = g_build_filename (upper, "data/hl-b", NULL);
  g_assert_cmpint (link (hl_a, hl_b), ==, 0);
  wh = g_build_filename (upper, "data/gone", NULL);
  if (mknod (wh, S_IFCHR | 0, makedev (0, 0)) < 0)
    {
      g_test_skip ("cannot make an overlay whiteout here");
      rrun_path_rm_rf (tmp, NULL);
      return;
    }
  opq = g_build_filename (upper, "data/sub", NULL);
  opaque_ok = setxattr (opq, "user.overlay.opaque", "y", 1, 0) == 0;
  g_assert_cmpint (mkdir (dest, 0700), ==, 0);

  dirs = rrun_copy_up_sources (layers, 2, "data", &unsure);
  g_assert_cmpuint (dirs->len, ==, 2);
  g_assert_false (unsure);
  g_assert_true (rrun_copy_up_tree (top_first, "data", dest, &error));
  g_assert_no_error (error);

  g_assert_cmpstr ((text = slurp (dest, "keep")), ==, "lower keep\n");
  g_free (text);
  g_assert_cmpstr ((text = slurp (dest, "over")), ==, "upper over\n");
  g_free (text);
  g_assert_null (slurp (dest, "gone"));
  g_assert_cmpstr ((text = slurp (dest, "sub/new")), ==, "new\n");
  g_free (text);
  if (opaque_ok)
    g_assert_null (slurp (dest, "sub/old"));
  /* hard links stay links; the volume's root takes the image dir's mode */
  d1 = g_build_filename (dest, "hl-a", NULL);
  d2 = g_build_filename (dest, "hl-b", NULL);
  g_assert_cmpint (stat (d1, &a), ==, 0);
  g_assert_cmpint (stat (d2, &b), ==, 0);
  g_assert_cmpuint (a.st_ino, ==, b.st_ino);
  g_assert_cmpint (stat (dest, &a), ==, 0);
  g_assert_cmpint (a.st_mode & 07777, ==, 0755);
  /* a path the top layer whites out has no sources */
  g_clear_pointer (&dirs, g_ptr_array_unref);
  dirs = rrun_copy_up_sources (layers, 2, "data/gone", &unsure);
  g_assert_cmpuint (dirs->len, ==, 0);
  g_clear_pointer (&dirs, g_ptr_array_unref);
  dirs = rrun_copy_up_sources (layers, 2, "no/such", &unsure);
  g_assert_cmpuint (dirs->len, ==, 0);
  rrun_path_rm_rf (tmp, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/copy-up/merge", test_merge);
  return g_test_run ();
}
