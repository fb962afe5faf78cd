#include "process/kill-tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct
{
  pid_t pid, ppid, pgrp, session;
  gboolean zombie;
} ProcInfo;

/* /proc/PID/stat: "pid (comm) state ppid pgrp session ..."; comm may hold spaces and
   parentheses, so the fields are read after its last ')'. */
static gboolean
read_stat (pid_t pid, ProcInfo *out)
{
  char path[64], buf[512], state;
  const char *close_paren;
  int fd, ppid, pgrp, session;
  ssize_t n;

  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return FALSE;
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return FALSE;
  buf[n] = '\0';
  close_paren = strrchr (buf, ')');
  if (close_paren == NULL
      || sscanf (close_paren + 1, " %c %d %d %d", &state, &ppid, &pgrp, &session) != 4)
    return FALSE;
  out->pid = pid;
  out->ppid = ppid;
  out->pgrp = pgrp;
  out->session = session;
  out->zombie = state == 'Z' || state == 'X';
  return TRUE;
}

static GArray *
scan_proc (void)
{
  GArray *procs = g_array_new (FALSE, FALSE, sizeof (ProcInfo));
  DIR *d = opendir ("/proc");
  struct dirent *e;

  while (d != NULL && (e = readdir (d)) != NULL)
    {
      ProcInfo info;
      char *end;
      long pid = strtol (e->d_name, &end, 10);

      if (*end == '\0' && pid > 0 && read_stat ((pid_t) pid, &info))
        g_array_append_val (procs, info);
    }
  if (d != NULL)
    closedir (d);
  return procs;
}

static gboolean
is_member (GHashTable *members, pid_t pid)
{
  return pid > 0 && g_hash_table_contains (members, GINT_TO_POINTER (pid));
}

/* Adds the processes of procs that belong to the tree (a parent, session leader or
   group leader in it) to members, until none is added; signals each live new one. */
static void
grow (GHashTable *members, GArray *procs, int sig)
{
  gboolean added;

  do
    {
      added = FALSE;
      for (guint i = 0; i < procs->len; i++)
        {
          ProcInfo *p = &g_array_index (procs, ProcInfo, i);

          if (is_member (members, p->pid))
            continue;
          if (is_member (members, p->ppid) || is_member (members, p->session)
              || is_member (members, p->pgrp))
            {
              g_hash_table_add (members, GINT_TO_POINTER (p->pid));
              if (!p->zombie)
                kill (p->pid, sig);
              added = TRUE;
            }
        }
    }
  while (added);
}

/* Reaps the members that are this process's children; the others answer ECHILD. A
   reaped member stays in the set: its session and group still name the tree. */
static void
reap_members (GHashTable *members)
{
  GHashTableIter it;
  gpointer key;

  g_hash_table_iter_init (&it, members);
  while (g_hash_table_iter_next (&it, &key, NULL))
    while (waitpid (GPOINTER_TO_INT (key), NULL, WNOHANG) < 0 && errno == EINTR)
      ;
}

/* Signals the live members of a fresh scan only: a member's PID that was freed is not
   signalled again under a new owner. Returns how many there were. */
static guint
signal_live (GHashTable *members, GArray *procs, int sig)
{
  guint live = 0;

  for (guint i = 0; i < procs->len; i++)
    {
      ProcInfo *p = &g_array_index (procs, ProcInfo, i);

      if (!p->zombie && is_member (members, p->pid))
        {
          kill (p->pid, sig);
          live++;
        }
    }
  return live;
}

guint
rrun_process_kill_tree (pid_t root, guint timeout_ms)
{
  g_autoptr(GHashTable) members = g_hash_table_new (g_direct_hash, g_direct_equal);
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  guint live = 0, before;

  g_hash_table_add (members, GINT_TO_POINTER (root));
  /* Stopped first, round after round, so that nothing forks while it is found: a round
     that adds no member ends it. */
  kill (root, SIGSTOP);
  do
    {
      g_autoptr(GArray) procs = scan_proc ();

      before = g_hash_table_size (members);
      grow (members, procs, SIGSTOP);
    }
  while (g_hash_table_size (members) != before && g_get_monotonic_time () < deadline);
  /* Then killed; a member forked by one not yet stopped is killed as it is found. */
  for (;;)
    {
      g_autoptr(GArray) procs = scan_proc ();

      grow (members, procs, SIGKILL);
      live = signal_live (members, procs, SIGKILL);
      reap_members (members);
      if (live == 0 || g_get_monotonic_time () > deadline)
        break;
      g_usleep (2000);
    }
  return live;
}
