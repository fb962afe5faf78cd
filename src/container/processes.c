#include "container/processes.h"
#include "container/pid1.h"
#include "error.h"
#include "util/fd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void
info_clear (gpointer p)
{
  g_free (((RrunContainerProcessInfo *) p)->command);
}

static gint
by_pid (gconstpointer a, gconstpointer b)
{
  const RrunContainerProcessInfo *x = a, *y = b;

  return (x->pid > y->pid) - (x->pid < y->pid);
}

/* ppid from /proc/PID/stat (after the command name, which may hold spaces). */
static pid_t
read_ppid (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "stat", NULL);
  g_autofree char *text = NULL;
  char *p;

  if (!g_file_get_contents (path, &text, NULL, NULL) || (p = strrchr (text, ')')) == NULL)
    return 0;
  /* ") S PPID" */
  return p[1] && p[2] && p[3] ? (pid_t) atoi (p + 4) : 0;
}

static char *
read_command (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "cmdline", NULL);
  g_autofree char *comm_path = g_build_filename (dir, "comm", NULL);
  g_autofree char *text = NULL;
  gsize len = 0;

  if (g_file_get_contents (path, &text, &len, NULL) && len > 0)
    {
      for (gsize i = 0; i + 1 < len; i++)
        if (text[i] == '\0')
          text[i] = ' ';
      return g_strndup (text, len);
    }
  g_clear_pointer (&text, g_free);
  if (g_file_get_contents (comm_path, &text, NULL, NULL))
    return g_strdup_printf ("[%s]", g_strstrip (text));
  return g_strdup ("?");
}

gboolean
rrun_container_list_processes (const RrunState *s, GArray **out_processes, GError **error)
{
  rrun_autofd int pidfd = -1;
  g_autofree char *ns = NULL;
  g_autoptr(GDir) d = NULL;
  g_autoptr(GArray) procs = g_array_new (FALSE, TRUE, sizeof (RrunContainerProcessInfo));
  struct stat target;
  const char *name;

  g_array_set_clear_func (procs, info_clear);
  if (!rrun_pid1_open (s, &pidfd, error))
    return FALSE;
  ns = g_strdup_printf ("/proc/%d/ns/pid", (int) s->pid);
  if (stat (ns, &target) < 0)
    return rrun_throw_errno (error, errno, "cannot read \"%s\"", ns);
  d = g_dir_open ("/proc", 0, error);
  if (d == NULL)
    return FALSE;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *dir = NULL, *nspath = NULL;
      RrunContainerProcessInfo info = { 0 };
      struct stat st;

      if (!g_ascii_isdigit (name[0]))
        continue;
      dir = g_build_filename ("/proc", name, NULL);
      nspath = g_build_filename (dir, "ns", "pid", NULL);
      /* Processes of other users, or gone meanwhile, are not the container's. */
      if (stat (nspath, &st) < 0 || st.st_ino != target.st_ino || st.st_dev != target.st_dev)
        continue;
      if (stat (dir, &st) < 0)
        continue;
      info.pid = (pid_t) atoi (name);
      info.ppid = read_ppid (dir);
      info.uid = st.st_uid;
      info.command = read_command (dir);
      g_array_append_val (procs, info);
    }
  g_array_sort (procs, by_pid);
  *out_processes = g_steal_pointer (&procs);
  return TRUE;
}
