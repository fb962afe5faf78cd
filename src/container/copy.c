/* rrun cp (docs/architecture.md, "Containers: spec, verbs, record"). Files cross as a tar
   stream, as with docker: one side writes the source as a tar (entries named after the
   source's last component, or "." for "DIR/."), the other extracts it at the destination
   with docker's rules (an existing directory receives the entries; a missing path is
   created with the source's name changed to it; a directory is never copied onto a file).

   The container's side runs in a fork of rrun-image that joins the mount namespace (and
   the user namespace, so owners map through the container's id map) of the container's
   PID 1, checked by its pidfd. It does not join the PID namespace, so the container's
   processes cannot see it in their /proc, and it is not dumpable. Every path in the
   container is resolved with openat2(RESOLVE_IN_ROOT) on the container's root and walked
   with O_NOFOLLOW below it, and extraction refuses symlinks on the way
   (ARCHIVE_EXTRACT_SECURE_SYMLINKS): a symlink in the container never leads out of it. */
#include "container/copy.h"
#include "container/pid1.h"
#include "container/remove.h"
#include "overlay/overlay.h"
#include "squashfs/squashfs.h"
#include "storage/image.h"
#include "storage/store.h"
#include "userns/exec.h"
#include "userns/idmap.h"
#include "util/path.h"
#include "error.h"
#include "log.h"
#include "util/fd.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUF_SIZE (128 * 1024)

/* path (absolute or not: always below root) opened with openat2(RESOLVE_IN_ROOT). */
static int
open_in_root (int root_fd, const char *path, int flags)
{
  struct open_how how = { .flags = (guint64) flags | O_CLOEXEC,
                          .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };

  while (*path == '/')
    path++;
  if (*path == '\0')
    path = ".";
  return (int) syscall (SYS_openat2, root_fd, path, &how, sizeof how);
}

/* Split a path as docker's cp does: "DIR/." means DIR's contents, a trailing slash
   that it must be a directory. out_parent is "" for the root. */
static void
split_path (const char *path, char **out_parent, char **out_base, gboolean *out_contents,
            gboolean *out_slash)
{
  g_autofree char *p = g_strdup (path);
  gsize n = strlen (p);
  char *slash;

  *out_contents = FALSE;
  *out_slash = FALSE;
  if (g_str_has_suffix (p, "/.") || strcmp (p, ".") == 0)
    {
      *out_contents = TRUE;
      p[n - 1] = '\0';
      n--;
    }
  while (n > 1 && p[n - 1] == '/')
    {
      *out_slash = TRUE;
      p[--n] = '\0';
    }
  if (n == 1 && p[0] == '/')
    {
      /* The root: its contents. */
      *out_contents = TRUE;
      *out_parent = g_strdup ("/");
      *out_base = g_strdup (".");
      return;
    }
  if (n == 0)
    {
      *out_parent = g_strdup (".");
      *out_base = g_strdup (".");
      return;
    }
  slash = strrchr (p, '/');
  if (slash == NULL)
    {
      *out_parent = g_strdup (".");
      *out_base = g_strdup (p);
      return;
    }
  *out_base = g_strdup (slash + 1);
  *slash = '\0';
  *out_parent = g_strdup (*p ? p : "/");
}

/* ---- writing a tree as a tar stream ---- */

typedef struct
{
  struct archive *a;
  /* Files with more than one link: the first is written with its data, the others as
     hard links to it (archive semantics, as docker's tar). */
  struct archive_entry_linkresolver *links;
  char *buf;
} TarWriter;

static gboolean
write_tree (TarWriter *t, int dir_fd, const char *name, const char *arcname, GError **error)
{
  struct archive *a = t->a;
  char *buf = t->buf;
  struct stat st;
  struct archive_entry *e, *spare = NULL;
  rrun_autofd int fd = -1;
  gboolean data;

  if (fstatat (dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return rrun_throw_errno (error, errno, "cannot read \"%s\"", arcname);
  if (S_ISSOCK (st.st_mode))
    return TRUE; /* docker leaves sockets out too */
  if (S_ISREG (st.st_mode) || S_ISDIR (st.st_mode))
    {
      fd = openat (dir_fd, name,
                   O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (S_ISDIR (st.st_mode) ? O_DIRECTORY : 0));
      if (fd < 0 || fstat (fd, &st) < 0)
        return rrun_throw_errno (error, errno, "cannot open \"%s\"", arcname);
    }
  e = archive_entry_new ();
  archive_entry_set_pathname (e, arcname);
  archive_entry_copy_stat (e, &st);
  if (S_ISLNK (st.st_mode))
    {
      char target[PATH_MAX + 1];
      ssize_t n = readlinkat (dir_fd, name, target, PATH_MAX);

      if (n < 0)
        {
          archive_entry_free (e);
          return rrun_throw_errno (error, errno, "cannot read the link \"%s\"", arcname);
        }
      target[n] = '\0';
      archive_entry_set_symlink (e, target);
    }
  /* A second link of a file already written becomes a hard link entry without data (the
     tar strategy never holds entries back: spare stays NULL). */
  if (!S_ISDIR (st.st_mode) && st.st_nlink > 1)
    archive_entry_linkify (t->links, &e, &spare);
  if (spare != NULL)
    archive_entry_free (spare);
  data = S_ISREG (st.st_mode) && archive_entry_hardlink (e) == NULL;
  if (archive_write_header (a, e) < ARCHIVE_WARN)
    {
      rrun_throw (error, RRUN_ERROR_FAILED, "cannot write \"%s\": %s", arcname,
                  archive_error_string (a));
      archive_entry_free (e);
      return FALSE;
    }
  archive_entry_free (e);
  if (data)
    {
      ssize_t n;

      while ((n = read (fd, buf, BUF_SIZE)) != 0)
        {
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            return rrun_throw_errno (error, errno, "cannot read \"%s\"", arcname);
          if (archive_write_data (a, buf, (size_t) n) < 0)
            return rrun_throw (error, RRUN_ERROR_FAILED, "cannot write \"%s\": %s", arcname,
                               archive_error_string (a));
        }
    }
  else if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      DIR *d = fdopendir (dup (fd));
      struct dirent *de;

      if (d == NULL)
        return rrun_throw_errno (error, errno, "cannot list \"%s\"", arcname);
      while ((de = readdir (d)) != NULL)
        if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
          g_ptr_array_add (names, g_strdup (de->d_name));
      closedir (d);
      g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
      for (guint i = 0; i < names->len; i++)
        {
          const char *child = names->pdata[i];
          g_autofree char *childarc = g_strconcat (arcname, "/", child, NULL);

          if (!write_tree (t, fd, child, childarc, error))
            return FALSE;
        }
    }
  return TRUE;
}

/* -L: while base in parent_fd is a symbolic link, its target (resolved in the root, as
   every path is) takes its place; the archive keeps the name the source was given. */
static gboolean
follow_links (int root_fd, const char *path, char **parent, char **base, int *parent_fd,
              GError **error)
{
  for (int hops = 0; hops < 40; hops++)
    {
      char target[PATH_MAX + 1];
      g_autofree char *next = NULL;
      gboolean contents, slash;
      struct stat st;
      ssize_t n;

      if (fstatat (*parent_fd, *base, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot find \"%s\": %s", path,
                           g_strerror (errno));
      if (!S_ISLNK (st.st_mode))
        return TRUE;
      n = readlinkat (*parent_fd, *base, target, PATH_MAX);
      if (n < 0)
        return rrun_throw_errno (error, errno, "cannot read the link \"%s\"", path);
      target[n] = '\0';
      next = target[0] == '/' ? g_strdup (target) : g_build_filename (*parent, target, NULL);
      g_free (*parent);
      g_free (*base);
      split_path (next, parent, base, &contents, &slash);
      rrun_close_fdp (parent_fd);
      if (contents)
        {
          /* A link to "/" or "x/.": the directory itself, reached from itself. */
          *parent_fd = open_in_root (root_fd, next, O_PATH | O_DIRECTORY);
          g_free (*base);
          *base = g_strdup (".");
        }
      else
        *parent_fd = open_in_root (root_fd, *parent, O_PATH | O_DIRECTORY);
      if (*parent_fd < 0)
        return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot find \"%s\": %s", path,
                           g_strerror (errno));
    }
  return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot find \"%s\": %s", path,
                     g_strerror (ELOOP));
}

gboolean
rrun_copy_write_tar (int root_fd, const char *path, gboolean follow, int out_fd,
                     GError **error)
{
  g_autofree char *parent = NULL, *base = NULL, *arcname = NULL, *buf = NULL;
  gboolean contents, slash, ok;
  rrun_autofd int parent_fd = -1;
  TarWriter t = { 0 };
  struct stat st;

  split_path (path, &parent, &base, &contents, &slash);
  if (contents || slash)
    {
      /* DIR/. and DIR/ must be directories (through a symlink if it is one). */
      rrun_autofd int dir_fd = open_in_root (root_fd, path, O_PATH | O_DIRECTORY);

      if (dir_fd < 0)
        return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot find \"%s\": %s", path,
                           g_strerror (errno));
      if (contents)
        {
          /* DIR/.: its contents, as entries below "." */
          parent_fd = g_steal_fd (&dir_fd);
          g_free (base);
          base = g_strdup (".");
        }
    }
  if (parent_fd < 0)
    {
      parent_fd = open_in_root (root_fd, parent, O_PATH | O_DIRECTORY);
      if (parent_fd < 0 || fstatat (parent_fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot find \"%s\": %s", path,
                           g_strerror (errno));
    }
  arcname = g_strdup (base);
  if (follow && !contents && !follow_links (root_fd, path, &parent, &base, &parent_fd, error))
    return FALSE;
  t.a = archive_write_new ();
  archive_write_set_format_pax_restricted (t.a);
  archive_write_set_bytes_in_last_block (t.a, 1);
  if (archive_write_open_fd (t.a, out_fd) != ARCHIVE_OK)
    {
      rrun_throw (error, RRUN_ERROR_FAILED, "cannot write the archive: %s",
                  archive_error_string (t.a));
      archive_write_free (t.a);
      return FALSE;
    }
  t.links = archive_entry_linkresolver_new ();
  archive_entry_linkresolver_set_strategy (t.links, archive_format (t.a));
  t.buf = buf = g_malloc (BUF_SIZE);
  ok = write_tree (&t, parent_fd, base, arcname, error);
  if (archive_write_close (t.a) != ARCHIVE_OK && ok)
    ok = rrun_throw (error, RRUN_ERROR_FAILED, "cannot write the archive: %s",
                     archive_error_string (t.a));
  archive_entry_linkresolver_free (t.links);
  archive_write_free (t.a);
  return ok;
}

/* ---- extracting a tar stream with docker's rules ---- */

/* An entry's path without leading "./" and "/". */
static const char *
strip_dot (const char *p)
{
  for (;;)
    {
      if (p[0] == '.' && p[1] == '/')
        p += 2;
      else if (p[0] == '/')
        p++;
      else
        return p;
    }
}

/* Where an entry goes: NULL to skip it. */
static char *
map_path (const char *p, gboolean contents, const char *top, const char *rename_to)
{
  p = strip_dot (p);
  if (*p == '\0' || strcmp (p, ".") == 0)
    return NULL;
  if (rename_to != NULL && top != NULL && !contents)
    {
      gsize n = strlen (top);

      if (strcmp (p, top) == 0)
        return g_strdup (rename_to);
      if (strncmp (p, top, n) == 0 && p[n] == '/')
        return g_strconcat (rename_to, p + n, NULL);
    }
  return g_strdup (p);
}

gboolean
rrun_copy_extract_tar (int root_fd, const char *dest, int in_fd, gboolean keep_owners,
                       gboolean owners_root, GError **error)
{
  g_autofree char *parent = NULL, *base = NULL, *top = NULL, *rename_to = NULL;
  gboolean dest_contents, dest_slash, contents = FALSE, top_is_dir, ok = FALSE;
  rrun_autofd int dest_fd = -1, target_fd = -1;
  struct archive *a = archive_read_new (), *w = NULL;
  struct archive_entry *e;
  struct stat st;
  int r, flags;

  archive_read_support_filter_all (a);
  archive_read_support_format_tar (a);
  if (archive_read_open_fd (a, in_fd, BUF_SIZE) != ARCHIVE_OK)
    {
      rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot read the archive: %s",
                  archive_error_string (a));
      goto out;
    }
  r = archive_read_next_header (a, &e);
  if (r == ARCHIVE_EOF)
    {
      ok = TRUE; /* nothing to copy (the other side reports why) */
      goto out;
    }
  if (r < ARCHIVE_WARN)
    {
      rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot read the archive: %s",
                  archive_error_string (a));
      goto out;
    }
  {
    const char *first = strip_dot (archive_entry_pathname (e));
    const char *slash = strchr (first, '/');

    if (*first == '\0' || strcmp (first, ".") == 0)
      contents = TRUE;
    top = slash ? g_strndup (first, (gsize) (slash - first)) : g_strdup (first);
    top_is_dir = slash != NULL || archive_entry_filetype (e) == AE_IFDIR;
  }
  split_path (dest, &parent, &base, &dest_contents, &dest_slash);
  dest_fd = open_in_root (root_fd, dest, O_PATH);
  if (dest_fd >= 0 && fstat (dest_fd, &st) == 0 && S_ISDIR (st.st_mode))
    {
      /* An existing directory receives the entries (the source's contents for "SRC/."). */
      target_fd = g_steal_fd (&dest_fd);
    }
  else if (dest_fd >= 0)
    {
      if (top_is_dir || contents)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "cannot copy a directory to \"%s\": it is a file", dest);
          goto out;
        }
      /* A file is replaced: the entry takes the destination's name. */
      target_fd = open_in_root (root_fd, parent, O_PATH | O_DIRECTORY);
      rename_to = g_strdup (base);
    }
  else if (errno == ENOENT && !dest_contents)
    {
      if (dest_slash && !top_is_dir)
        {
          rrun_throw (error, RRUN_ERROR_NOT_FOUND,
                      "cannot copy to \"%s\": no such directory", dest);
          goto out;
        }
      target_fd = open_in_root (root_fd, parent, O_PATH | O_DIRECTORY);
      if (target_fd < 0)
        {
          rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot copy to \"%s\": %s", dest,
                      g_strerror (errno));
          goto out;
        }
      if (contents)
        {
          /* SRC/. to a new directory: made, then filled. */
          rrun_autofd int made = -1;
          g_autofree char *dir = g_strdup (dest);

          if (mkdirat (target_fd, base, 0755) < 0
              || (made = openat (target_fd, base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
            {
              rrun_throw_errno (error, errno, "cannot create \"%s\"", dest);
              goto out;
            }
          rrun_close_fdp (&target_fd);
          target_fd = g_steal_fd (&made);
        }
      else
        rename_to = g_strdup (base);
    }
  if (target_fd < 0)
    {
      rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot copy to \"%s\": %s", dest,
                  g_strerror (errno));
      goto out;
    }
  if (fchdir (target_fd) < 0)
    {
      rrun_throw_errno (error, errno, "cannot enter \"%s\"", dest);
      goto out;
    }
  w = archive_write_disk_new ();
  flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_SYMLINKS
          | ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;
  if (keep_owners || owners_root)
    flags |= ARCHIVE_EXTRACT_OWNER;
  archive_write_disk_set_options (w, flags);
  for (;;)
    {
      g_autofree char *to = map_path (archive_entry_pathname (e), contents, top, rename_to);
      const char *link = archive_entry_hardlink (e);

      if (to != NULL)
        {
          archive_entry_copy_pathname (e, to);
          if (link != NULL)
            {
              g_autofree char *link_to = map_path (link, contents, top, rename_to);
              archive_entry_copy_hardlink (e, link_to);
            }
          /* Numeric owners: names would be looked up in this side's /etc/passwd. */
          archive_entry_copy_uname (e, NULL);
          archive_entry_copy_gname (e, NULL);
          if (owners_root)
            {
              archive_entry_set_uid (e, 0);
              archive_entry_set_gid (e, 0);
            }
          r = archive_write_header (w, e);
          if (r < ARCHIVE_WARN)
            {
              rrun_throw (error, RRUN_ERROR_FAILED, "cannot copy \"%s\": %s", to,
                          archive_error_string (w));
              goto out;
            }
          if (archive_entry_size (e) > 0)
            {
              const void *block;
              size_t size;
              la_int64_t offset;

              while ((r = archive_read_data_block (a, &block, &size, &offset)) == ARCHIVE_OK)
                if (archive_write_data_block (w, block, size, offset) < ARCHIVE_WARN)
                  {
                    rrun_throw (error, RRUN_ERROR_FAILED, "cannot copy \"%s\": %s", to,
                                archive_error_string (w));
                    goto out;
                  }
              if (r != ARCHIVE_EOF)
                {
                  rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot read the archive: %s",
                              archive_error_string (a));
                  goto out;
                }
            }
          if (archive_write_finish_entry (w) < ARCHIVE_WARN)
            {
              rrun_throw (error, RRUN_ERROR_FAILED, "cannot copy \"%s\": %s", to,
                          archive_error_string (w));
              goto out;
            }
        }
      r = archive_read_next_header (a, &e);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        {
          rrun_throw (error, RRUN_ERROR_CORRUPT, "cannot read the archive: %s",
                      archive_error_string (a));
          goto out;
        }
    }
  if (archive_write_close (w) < ARCHIVE_WARN)
    {
      rrun_throw (error, RRUN_ERROR_FAILED, "cannot copy to \"%s\": %s", dest,
                  archive_error_string (w));
      goto out;
    }
  ok = TRUE;
out:
  if (w != NULL)
    archive_write_free (w);
  archive_read_free (a);
  return ok;
}

/* ---- the two sides ---- */

/* What the container's side sends back when it fails: the error's code, then its
   message. */
static void
send_child_error (int fd, const GError *error)
{
  int32_t code = error->domain == RRUN_ERROR ? error->code : RRUN_ERROR_FAILED;

  rrun_fd_write_all (fd, &code, sizeof code, NULL);
  rrun_fd_write_all (fd, error->message, strlen (error->message), NULL);
}

static gboolean
read_child_error (int fd, GError **error)
{
  int32_t code;
  g_autoptr(GString) msg = g_string_new (NULL);
  char buf[512];
  ssize_t n;

  n = read (fd, &code, sizeof code);
  if (n != (ssize_t) sizeof code)
    return TRUE;
  while ((n = read (fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0)
      g_string_append_len (msg, buf, n);
  return rrun_throw (error, (RrunError) code, "%s", msg->str);
}

/* Fork the container's side: joins PID 1's user and mount namespaces and runs
   in_container with the container's root; its error comes back on a pipe. */
typedef gboolean (*InContainerFunc) (int root_fd, gpointer data, GError **error);

static gboolean
run_in_container (const RrunState *s, InContainerFunc func, gpointer data, int close_fd,
                  pid_t *out_pid, int *out_err_fd, GError **error)
{
  rrun_autofd int pidfd = -1;
  int errp[2], flags = CLONE_NEWNS;
  struct stat own, theirs;
  g_autofree char *their_user = g_strdup_printf ("/proc/%d/ns/user", (int) s->pid);
  pid_t pid;

  if (!rrun_pid1_open (s, &pidfd, error))
    return FALSE;
  if (stat ("/proc/self/ns/user", &own) < 0 || stat (their_user, &theirs) < 0)
    return rrun_throw_errno (error, errno, "cannot read the user namespace of \"%s\"",
                             their_user);
  if (own.st_ino != theirs.st_ino || own.st_dev != theirs.st_dev)
    flags |= CLONE_NEWUSER;
  if (pipe2 (errp, O_CLOEXEC) < 0)
    return rrun_throw_errno (error, errno, "cannot create a pipe");
  fflush (stdout);
  pid = fork ();
  if (pid < 0)
    {
      int errsv = errno;
      close (errp[0]);
      close (errp[1]);
      return rrun_throw_errno (error, errsv, "cannot fork");
    }
  if (pid == 0)
    {
      g_autoptr(GError) local = NULL;
      rrun_autofd int root = -1;

      close (errp[0]);
      if (close_fd >= 0)
        close (close_fd);
      signal (SIGPIPE, SIG_IGN);
      /* Not dumpable before it enters: a container process must not open its
         /proc/PID/exe (the user's rrun-image) or its memory. */
      prctl (PR_SET_DUMPABLE, 0);
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (setns (pidfd, flags) < 0)
        rrun_throw_errno (&local, errno, "cannot join the container's namespaces");
      else if ((root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
        rrun_throw_errno (&local, errno, "cannot open the container's root");
      else
        func (root, data, &local);
      if (local != NULL)
        {
          send_child_error (errp[1], local);
          _exit (1);
        }
      _exit (0);
    }
  close (errp[1]);
  *out_pid = pid;
  *out_err_fd = errp[0];
  return TRUE;
}

static gboolean
finish_child (pid_t pid, int err_fd, GError **error)
{
  int status = 0;
  gboolean ok;

  ok = read_child_error (err_fd, error);
  close (err_fd);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (ok && !(WIFEXITED (status) && WEXITSTATUS (status) == 0))
    return rrun_throw (error, RRUN_ERROR_FAILED, "the copy in the container failed (status %d)",
                       status);
  return ok;
}

typedef struct
{
  const char *path;
  int fd;
  gboolean keep_owners;
  gboolean follow;
} CopyArgs;

static gboolean
container_write_tar (int root_fd, gpointer data, GError **error)
{
  CopyArgs *args = data;

  return rrun_copy_write_tar (root_fd, args->path, args->follow, args->fd, error);
}

static gboolean
container_extract_tar (int root_fd, gpointer data, GError **error)
{
  CopyArgs *args = data;

  return rrun_copy_extract_tar (root_fd, args->path, args->fd, args->keep_owners,
                                !args->keep_owners, error);
}

/* ---- stopped containers: the layers mounted for the copy ---- */

/* The stopped container's side, run as `__internal copy` in a fresh user namespace with
   the storage map: the record's layers mounted (kernel overlay, or fuse-overlayfs for
   the fuse-overlayfs driver) in a mount namespace of its own, then the same halves as
   for a running container, on fd 0 (a temporary file the host side reads or wrote). Its
   error goes to stdout as "error CODE MESSAGE". */
gboolean
rrun_copy_internal (int argc, char **argv, GError **error)
{
  const char *mode, *merged, *kind, *where, *data, *work_inner, *path;
  rrun_autofd int root = -1;
  pid_t fuse = -1;
  gboolean ok;

  if (argc != 8)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "usage: rrun __internal copy out|out-follow|in|in-keep MERGED kernel|fuse "
                       "CWD|EXE DATA WORK PATH");
  mode = argv[1], merged = argv[2], kind = argv[3], where = argv[4], data = argv[5];
  work_inner = argv[6], path = argv[7];
  if (unshare (CLONE_NEWNS) < 0)
    return rrun_throw_errno (error, errno, "cannot make a mount namespace");
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return rrun_throw_errno (error, errno, "cannot make the mounts private");
  /* The kernel refuses a work dir a volatile mount left behind (as start empties it). */
  if (g_file_test (work_inner, G_FILE_TEST_EXISTS) && !rrun_path_rm_rf (work_inner, error))
    return FALSE;
  if (strcmp (kind, "fuse") == 0)
    {
      if (!rrun_overlay_mount_fuse_wait (where, data, merged, "the container's layers", &fuse,
                                         error))
        goto fail;
    }
  else if (chdir (where) < 0)
    return rrun_throw_errno (error, errno, "cannot enter \"%s\"", where);
  else if (mount ("overlay", merged, "overlay", 0, data) < 0)
    return rrun_throw_errno (error, errno, "cannot mount the container's layers");
  if ((root = open (merged, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
    {
      rrun_throw_errno (error, errno, "cannot open \"%s\"", merged);
      goto fail;
    }
  if (g_str_has_prefix (mode, "out"))
    ok = rrun_copy_write_tar (root, path, strcmp (mode, "out-follow") == 0, STDIN_FILENO,
                              error);
  else
    ok = rrun_copy_extract_tar (root, path, STDIN_FILENO, strcmp (mode, "in-keep") == 0,
                                strcmp (mode, "in-keep") != 0, error);
  if (fuse > 0)
    {
      /* Out of the mount first: fuse-overlayfs writes what it holds and exits. */
      if (chdir ("/") < 0 || umount2 (merged, 0) < 0)
        kill (fuse, SIGTERM);
      while (waitpid (fuse, NULL, 0) < 0 && errno == EINTR)
        ;
    }
  return ok;

fail:
  if (fuse > 0)
    {
      kill (fuse, SIGKILL);
      waitpid (fuse, NULL, 0);
    }
  return FALSE;
}

/* Run `__internal copy MODE ... PATH` on a stopped container with data_fd as its fd 0;
   its lock is held meanwhile, so nobody starts it. RRUN_ERROR_BUSY: it runs now. */
static gboolean
copy_stopped (const RrunConfig *config, const RrunState *s, const char *mode, const char *path,
              int data_fd, GError **error)
{
  g_autofree char *dir = rrun_record_dir (config, s->id);
  g_autofree char *image_file = g_build_filename (dir, "image", NULL);
  g_autofree char *image_id = NULL, *upper = NULL, *work = NULL, *work_inner = NULL;
  g_autofree char *merged = NULL, *out = NULL, *tmpl = NULL;
  g_autoptr(RrunStore) store = NULL;
  g_autoptr(RrunImage) image = NULL;
  g_autoptr(RrunIdMap) map = NULL;
  g_autoptr(RrunIdMap) storage_map = NULL;
  g_autoptr(RrunOverlaySetup) setup = NULL;
  RrunOverlayLayers layers = { 0 };
  rrun_autofd int lock_fd = -1;
  /* The driver the container's layers were written with (fuse-overlayfs keeps its own
     whiteouts), as its record says; for a record from before it said, the one rrun was
     told for this command. */
  gboolean fuse = g_strcmp0 (s->storage_driver ? s->storage_driver : config->storage_driver,
                             "fuse-overlayfs") == 0;
  const char *args[16];
  guint n = 0;
  gboolean ok;

  if (!rrun_container_lock_record (config, s, 0, &lock_fd, error))
    return FALSE;
  if (!g_file_get_contents (image_file, &image_id, NULL, error))
    return FALSE;
  g_strstrip (image_id);
  if (!rrun_store_open (config, &store, error)
      || !rrun_squashfs_check_stored (image_id, "copy files of a stopped container", error)
      || !rrun_store_find_container_image (store, image_id, &image, error))
    return FALSE;
  if (!rrun_idmap_resolve ("auto", &map, error))
    return FALSE;
  storage_map = rrun_idmap_storage_map (map);
  upper = g_build_filename (dir, "upper", NULL);
  work = g_build_filename (dir, "work", NULL);
  work_inner = g_build_filename (work, "work", NULL);
  if (!rrun_config_ensure_run_root (config, error))
    return FALSE;
  tmpl = g_build_filename (config->run_root, "cp-XXXXXX", NULL);
  if ((merged = g_mkdtemp_full (g_strdup (tmpl), 0700)) == NULL)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", tmpl);
  rrun_overlay_layers_init (&layers, image->layer_dirs, rrun_store_root (store),
                            config->fuse_acl, upper, work, merged);
  setup = g_new0 (RrunOverlaySetup, 1);
  if (!(fuse ? rrun_overlay_fuse_ops : rrun_overlay_kernel_ops).configure (&layers, setup, error))
    {
      rmdir (merged);
      g_prefix_error (error, "cannot copy files of the stopped container \"%s\": ",
                      s->name && *s->name ? s->name : s->id);
      return FALSE;
    }
  args[n++] = NULL; /* this binary */
  if (rrun_log_level_option () != NULL)
    args[n++] = rrun_log_level_option ();
  args[n++] = "__internal";
  args[n++] = "copy";
  args[n++] = mode;
  args[n++] = merged;
  args[n++] = fuse ? "fuse" : "kernel";
  args[n++] = fuse ? setup->fuse_exe : setup->cwd;
  /* fuse-overlayfs -f -o OPTIONS MERGED */
  args[n++] = fuse ? setup->fuse_argv[3] : setup->data;
  args[n++] = work_inner;
  args[n++] = path;
  args[n] = NULL;
  ok = rrun_userns_exec (storage_map, args, data_fd, &out, error);
  rmdir (merged);
  if (!ok)
    return FALSE;
  if (out != NULL && g_str_has_prefix (out, "error "))
    {
      char *end;
      gint64 code = g_ascii_strtoll (out + 6, &end, 10);

      g_strchomp (end);
      return rrun_throw (error, (RrunError) code, "%s", g_strchug (end));
    }
  return TRUE;
}

/* An unnamed temporary file in the store's tmp/ (on disk, gone with its last fd). */
static int
temp_file (const RrunConfig *config, GError **error)
{
  g_autofree char *dir = g_build_filename (config->storage_root, "tmp", NULL);
  int fd;

  if (!rrun_path_mkdir_p (dir, 0700, error))
    return -1;
  fd = open (dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    rrun_throw_errno (error, errno, "cannot create a temporary file in \"%s\"", dir);
  return fd;
}

static gboolean
is_running (const RrunState *s)
{
  return s->live && s->status == RRUN_STATUS_RUNNING;
}

/* A host path made absolute (resolved below "/" as a normal path is). */
static char *
host_path (const char *path)
{
  g_autofree char *abs = g_path_is_absolute (path) ? g_strdup (path)
                                                   : g_build_filename (g_get_current_dir (), path, NULL);
  /* Keep a trailing "/" or "/.": they mean something to cp. */
  if ((g_str_has_suffix (path, "/") || g_str_has_suffix (path, "/.")) && !g_str_has_suffix (abs, "/")
      && !g_str_has_suffix (abs, "/."))
    return g_strconcat (abs, g_str_has_suffix (path, "/.") ? "/." : "/", NULL);
  return g_steal_pointer (&abs);
}

gboolean
rrun_container_copy_out (const RrunConfig *config, const RrunState *s, const char *path,
                         const char *host_dest, RrunCopyFlags flags, GError **error)
{
  int p[2], err_fd = -1;
  pid_t pid;
  CopyArgs args = { path, -1, FALSE, (flags & RRUN_COPY_FOLLOW) != 0 };
  g_autoptr(GError) local = NULL;
  gboolean ok;

  if (!is_running (s))
    {
      rrun_autofd int tmp = temp_file (config, error);
      g_autofree char *dest = NULL, *cwd = g_get_current_dir ();
      rrun_autofd int host_root = -1;

      if (tmp < 0
          || !copy_stopped (config, s, (flags & RRUN_COPY_FOLLOW) ? "out-follow" : "out", path,
                            tmp, error))
        return FALSE;
      if (lseek (tmp, 0, SEEK_SET) < 0)
        return rrun_throw_errno (error, errno, "cannot read the temporary file");
      if (strcmp (host_dest, "-") == 0)
        {
          char buf[65536];
          ssize_t n;

          while ((n = read (tmp, buf, sizeof buf)) > 0)
            if (!rrun_fd_write_all (STDOUT_FILENO, buf, (gsize) n, error))
              return FALSE;
          return n == 0 || rrun_throw_errno (error, errno, "cannot read the temporary file");
        }
      dest = host_path (host_dest);
      host_root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
      ok = rrun_copy_extract_tar (host_root, dest, tmp, FALSE, FALSE, error);
      if (chdir (cwd) < 0)
        g_debug ("cannot go back to %s", cwd);
      return ok;
    }
  if (pipe2 (p, O_CLOEXEC) < 0)
    return rrun_throw_errno (error, errno, "cannot create a pipe");
  args.fd = p[1];
  if (!run_in_container (s, container_write_tar, &args, p[0], &pid, &err_fd, error))
    {
      close (p[0]);
      close (p[1]);
      return FALSE;
    }
  close (p[1]);
  if (strcmp (host_dest, "-") == 0)
    {
      char buf[65536];
      ssize_t n;

      while ((n = read (p[0], buf, sizeof buf)) != 0)
        {
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0 || !rrun_fd_write_all (STDOUT_FILENO, buf, (gsize) n, &local))
            {
              if (local == NULL)
                rrun_throw_errno (&local, errno, "cannot read from the container");
              break;
            }
        }
      ok = local == NULL;
    }
  else
    {
      g_autofree char *dest = host_path (host_dest);
      rrun_autofd int host_root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
      g_autofree char *cwd = g_get_current_dir ();

      ok = rrun_copy_extract_tar (host_root, dest, p[0], FALSE, FALSE, &local);
      if (chdir (cwd) < 0)
        g_debug ("cannot go back to %s", cwd);
    }
  close (p[0]);
  /* The container's side failing (a missing path) is the cause to report. */
  if (!finish_child (pid, err_fd, error))
    return FALSE;
  if (!ok)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  return TRUE;
}

gboolean
rrun_container_copy_in (const RrunConfig *config, const RrunState *s, const char *host_src,
                        const char *path, RrunCopyFlags flags, GError **error)
{
  int p[2] = { -1, -1 }, err_fd = -1;
  pid_t pid;
  CopyArgs args = { path, STDIN_FILENO, (flags & RRUN_COPY_ARCHIVE) != 0, FALSE };
  gboolean follow = (flags & RRUN_COPY_FOLLOW) != 0;
  g_autoptr(GError) local = NULL;
  gboolean from_stdin = strcmp (host_src, "-") == 0, ok = TRUE;
  g_autofree char *src = NULL;

  if (!from_stdin)
    {
      struct stat st;

      src = host_path (host_src);
      if (lstat (src, &st) < 0)
        return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot find \"%s\": %s", host_src,
                           g_strerror (errno));
    }
  if (!is_running (s))
    {
      rrun_autofd int tmp = from_stdin ? -1 : temp_file (config, error);
      rrun_autofd int host_root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

      if (!from_stdin
          && (tmp < 0 || !rrun_copy_write_tar (host_root, src, follow, tmp, error)
              || lseek (tmp, 0, SEEK_SET) < 0))
        return FALSE;
      return copy_stopped (config, s, (flags & RRUN_COPY_ARCHIVE) ? "in-keep" : "in", path,
                           from_stdin ? STDIN_FILENO : tmp, error);
    }
  if (!from_stdin)
    {
      if (pipe2 (p, O_CLOEXEC) < 0)
        return rrun_throw_errno (error, errno, "cannot create a pipe");
      args.fd = p[0];
    }
  if (!run_in_container (s, container_extract_tar, &args, p[1], &pid, &err_fd, error))
    {
      if (p[0] >= 0)
        {
          close (p[0]);
          close (p[1]);
        }
      return FALSE;
    }
  if (!from_stdin)
    {
      rrun_autofd int host_root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
      void (*old) (int) = signal (SIGPIPE, SIG_IGN);

      close (p[0]);
      ok = rrun_copy_write_tar (host_root, src, follow, p[1], &local);
      close (p[1]);
      signal (SIGPIPE, old);
    }
  if (!finish_child (pid, err_fd, error))
    return FALSE;
  if (!ok)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  return TRUE;
}
