/* rrun: global options, the command table, and the one place errors are printed. */
#include "cli/cli.h"
#include "config.h"
#include "error.h"
#include "image/tool.h"
#include "log.h"
#include "rrun-commit.h"
#include "rrun-config.h"

#include <locale.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

gboolean
rrun_cli_parse_global (RrunGlobal *g, int *argc, char ***argv, GError **error)
{
  g_autofree char *log_level = NULL;
  gboolean verbose = FALSE, version = FALSE, help = FALSE;
  GOptionEntry entries[] = {
    { "root", 0, 0, G_OPTION_ARG_FILENAME, &g->root, "Image storage", "DIR" },
    { "runroot", 0, 0, G_OPTION_ARG_FILENAME, &g->runroot, "Running state", "DIR" },
    { "storage-driver", 0, 0, G_OPTION_ARG_STRING, &g->storage_driver, "Storage driver",
      "NAME" },
    { "log-level", 0, 0, G_OPTION_ARG_STRING, &log_level, "Log level", "LEVEL" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Same as --log-level=info", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &g->quiet, "Hide warnings", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version", NULL },
    { "help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show help", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new (NULL);

  g_option_context_set_help_enabled (ctx, FALSE);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!rrun_cli_parse (ctx, "rrun", argc, argv, error))
    return FALSE;
  if (verbose)
    rrun_log_set_level (RRUN_LOG_INFO);
  if (log_level && !rrun_log_parse_level (log_level, &(RrunLogLevel){ 0 }, error))
    return FALSE;
  if (log_level)
    {
      RrunLogLevel level;
      rrun_log_parse_level (log_level, &level, NULL);
      rrun_log_set_level (level);
    }
  if (g->quiet)
    rrun_log_set_level (RRUN_LOG_ERROR);
  if (g->storage_driver && strcmp (g->storage_driver, "overlay") != 0
      && strcmp (g->storage_driver, "fuse-overlayfs") != 0)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --storage-driver \"%s\": expected overlay or fuse-overlayfs",
                       g->storage_driver);
  if (version)
    {
      printf ("rrun version %s\ncommit: %s\n", RRUN_VERSION, RRUN_COMMIT);
      exit (0);
    }
  if (help)
    {
      /* Rewrite to "rrun help" so the command table prints it (and exits 0). argv[0] is
         the program; the array had room for the option GOption took out of it. */
      (*argv)[1] = (char *) "help";
      (*argv)[2] = NULL;
      *argc = 2;
    }
  return TRUE;
}

static void
global_clear (RrunGlobal *g)
{
  rrun_config_free (g->config);
  g_free (g->root);
  g_free (g->runroot);
  g_free (g->storage_driver);
}

/* The Slurm plugin (helpers/spank/spank-rrun.c) has slurmstepd exec rrun in place of a
   task's program: RRUN_SLURM_TASK holds rrun's arguments up to the task's own argv[0],
   separated by \x1f, and argv[1..] are the task's other arguments. The variable is
   removed, so the container and nested rruns never see it. The strings live as long as
   the process. */
/* --container-name and --container-save: after the run, the container becomes this image
   and goes; with a save path, the image is then exported there as a squashfs file, and
   goes too when it was only made for that (RRUN_SLURM_TASK_KEEP is
   "CONTAINER\x1fIMAGE[\x1fSAVE-PATH\x1f0|1]"). */
static char *slurm_keep_container, *slurm_keep_image, *slurm_save_path;
static gboolean slurm_save_drop_image;

/* Whether the save (when asked for) succeeded: its errors are on stderr as rrun's. */
static gboolean
slurm_task_keep (void)
{
  const char *self = "/proc/self/exe";
  const char *commit[] = { self, "commit", slurm_keep_container, slurm_keep_image, NULL };
  const char *rm[] = { self, "rm", "-f", slurm_keep_container, NULL };
  const char *old_id[] = { self, "image", "inspect", "--format", "{{.Id}}", slurm_keep_image,
                           NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *old = NULL;
  gboolean keep_old = TRUE, saved = TRUE;
  int status = 0;

  /* The image an earlier step kept: replaced below, then removed (not left dangling). */
  if (!g_spawn_sync (NULL, (char **) old_id, NULL,
                     G_SPAWN_STDERR_TO_DEV_NULL | G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, &old,
                     NULL, &status, NULL)
      || !g_spawn_check_wait_status (status, NULL))
    g_clear_pointer (&old, g_free);
  if (!g_spawn_sync (NULL, (char **) commit, NULL,
                     G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL,
                     NULL, NULL, &status, &error)
      || !g_spawn_check_wait_status (status, NULL))
    rrun_warning ("slurm: cannot keep container \"%s\" as \"%s\" for the next steps%s%s",
                  slurm_keep_container, slurm_keep_image, error ? ": " : "",
                  error ? error->message : "");
  else
    keep_old = FALSE;
  g_spawn_sync (NULL, (char **) rm, NULL,
                G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, NULL,
                NULL, NULL, NULL);
  if (slurm_save_path != NULL)
    {
      /* The export writes a temporary file beside PATH and renames it: PATH is either
         the old file or the whole new one. Its messages reach the job's stderr. */
      const char *save[] = { self, "image", "export", "--format", "squashfs",
                             slurm_keep_image, "-o", slurm_save_path, NULL };
      g_autoptr(GError) local = NULL;

      if (keep_old)
        {
          rrun_throw (&local, RRUN_ERROR_FAILED, "slurm: cannot save the container to "
                      "\"%s\" (--container-save): it could not be committed",
                      slurm_save_path);
          rrun_log_print_error (local);
          saved = FALSE;
        }
      else if (!g_spawn_sync (NULL, (char **) save, NULL,
                              G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_CHILD_INHERITS_STDIN, NULL,
                              NULL, NULL, NULL, &status, &local)
               || !g_spawn_check_wait_status (status, NULL))
        {
          g_autoptr(GError) why = g_steal_pointer (&local);

          /* The export printed why (rrun: ...), unless it could not start. */
          rrun_throw (&local, RRUN_ERROR_FAILED, "slurm: cannot save the container to "
                      "\"%s\" (--container-save)%s%s",
                      slurm_save_path, why ? ": " : "", why ? why->message : "");
          rrun_log_print_error (local);
          saved = FALSE;
        }
      if (slurm_save_drop_image && !keep_old)
        {
          const char *rmi[] = { self, "rmi", slurm_keep_image, NULL };

          g_spawn_sync (NULL, (char **) rmi, NULL,
                        G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL
                          | G_SPAWN_CHILD_INHERITS_STDIN,
                        NULL, NULL, NULL, NULL, NULL, NULL);
        }
    }
  /* After the container that used it is gone. */
  if (!keep_old && old != NULL && *g_strstrip (old) != '\0')
    {
      const char *rmi[] = { self, "rmi", old, NULL };

      g_spawn_sync (NULL, (char **) rmi, NULL,
                    G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL
                      | G_SPAWN_CHILD_INHERITS_STDIN,
                    NULL, NULL, NULL, NULL, NULL, NULL);
    }
  return saved;
}

static void
slurm_task_argv (int *argc, char ***argv)
{
  const char *keep = g_getenv ("RRUN_SLURM_TASK_KEEP");
  const char *v = g_getenv ("RRUN_SLURM_TASK");
  g_auto(GStrv) fields = NULL;
  GPtrArray *a;

  if (v == NULL || *v == '\0')
    return;
  fields = g_strsplit (v, "\x1f", -1);
  a = g_ptr_array_new ();
  g_ptr_array_add (a, (*argv)[0]);
  for (guint i = 0; fields[i]; i++)
    g_ptr_array_add (a, g_strdup (fields[i]));
  for (int i = 1; i < *argc; i++)
    g_ptr_array_add (a, (*argv)[i]);
  g_ptr_array_add (a, NULL);
  *argc = (int) a->len - 1;
  *argv = (char **) g_ptr_array_free (a, FALSE);
  g_unsetenv ("RRUN_SLURM_TASK");
  if (keep != NULL && strchr (keep, '\x1f') != NULL)
    {
      g_auto(GStrv) kf = g_strsplit (keep, "\x1f", 4);

      slurm_keep_container = g_strdup (kf[0]);
      slurm_keep_image = g_strdup (kf[1]);
      if (kf[2] != NULL && kf[2][0] != '\0')
        {
          /* Relative to the task's directory, where it was given. */
          slurm_save_path = g_canonicalize_filename (kf[2], NULL);
          slurm_save_drop_image = kf[3] != NULL && strcmp (kf[3], "1") == 0;
        }
    }
  g_unsetenv ("RRUN_SLURM_TASK_KEEP");
}

/* HOME (and the XDG directories) of another user, as slurmstepd passes to oci.conf's
   commands (root's) or `sudo -u` keeps: rrun would read that user's rrun.conf and use
   that user's store. A directory this user does not own is not this user's: HOME becomes
   the passwd entry's, and XDG variables pointing to another user's directories go (their
   defaults then derive from HOME; the run root falls back to /tmp/rrun-UID). One stat()
   each, before GLib caches them. */
static void
own_home (void)
{
  static const char *const xdg[] = { "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME",
                                     "XDG_RUNTIME_DIR", NULL };
  const char *home = getenv ("HOME");
  uid_t uid = geteuid ();
  struct stat st;

  if (home && stat (home, &st) == 0 && st.st_uid != uid)
    {
      struct passwd *pw = getpwuid (uid);
      if (pw && pw->pw_dir && *pw->pw_dir)
        setenv ("HOME", pw->pw_dir, 1);
    }
  for (guint i = 0; xdg[i]; i++)
    {
      const char *v = getenv (xdg[i]);
      if (v && stat (v, &st) == 0 && st.st_uid != uid)
        unsetenv (xdg[i]);
    }
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  RrunGlobal g = { 0 };
  const RrunCommand *cmd;
  char **args;
  int nargs, status = 0;
  g_autofree char **shorthand = NULL;
  g_auto(GStrv) orig_argv = NULL;

  own_home ();
  slurm_task_argv (&argc, &argv);
  orig_argv = g_strdupv (argv); /* GOption reorders argv in place */

  /* The character set only (UTF-8 names and paths in messages are printed as they are):
     every other category loads its own locale file (~0.3 ms and 18 page faults of every
     start under LANG=C.UTF-8), and rrun's output is English and ISO 8601 anyway, errno
     texts included. */
  setlocale (LC_CTYPE, "");
  rrun_log_init ();
  g.orig_argv = orig_argv;

  if (!rrun_cli_parse_global (&g, &argc, &argv, &error))
    goto fail;
  /* GOption leaves argv[0] (the program) in place. */
  args = argv + 1;
  nargs = argc - 1;
  if (nargs == 0)
    {
      char *help_argv[] = { (char *) "help", NULL };
      rrun_cmd_help (&g, 1, help_argv, &status, NULL);
      return 1;
    }
  cmd = rrun_cli_find_command (args[0]);
  if (cmd == NULL)
    {
      /* "rrun IMAGE [CMD...]" is "rrun run --rm -i [-t] IMAGE [CMD...]". */
      gboolean tty = isatty (STDIN_FILENO) && isatty (STDOUT_FILENO);
      int n = 0;

      if (args[0][0] == '-')
        {
          rrun_throw (&error, RRUN_ERROR_INVALID_ARGUMENT, "unknown option \"%s\"", args[0]);
          rrun_add_hint (&error, "see: rrun --help");
          goto fail;
        }
      if (rrun_cli_is_reserved_word (args[0]))
        {
          rrun_throw (&error, RRUN_ERROR_UNSUPPORTED, "%s: not a command rrun has yet",
                      args[0]);
          rrun_add_hint (&error, "see the commands there are with: rrun --help");
          rrun_add_hint (&error, "to run an image called \"%s\", use: rrun run %s", args[0],
                         args[0]);
          goto fail;
        }
      shorthand = g_new0 (char *, nargs + 5);
      shorthand[n++] = (char *) "run";
      shorthand[n++] = (char *) "--rm";
      shorthand[n++] = (char *) (tty ? "-it" : "-i");
      for (int i = 0; i < nargs; i++)
        shorthand[n++] = args[i];
      args = shorthand;
      nargs = n;
      cmd = rrun_cli_find_command ("run");
    }
#ifndef RRUN_IMAGE_SIDE
  /* Before loading config: the image tool loads its own. */
  if (cmd->func == rrun_cli_forward_to_image_tool)
    {
      rrun_image_tool_exec (g.orig_argv, &error);
      goto fail;
    }
#endif
  if (!rrun_config_load (g.root, g.runroot, &g.config, &error))
    goto fail;
  if (!rrun_config_relocate_storage (g.config, &error))
    {
      /* The diagnosis commands must still run to say what is wrong. */
      if (strcmp (cmd->name, "system") != 0 && strcmp (cmd->name, "info") != 0)
        goto fail;
      rrun_log_print_error (error);
      g_clear_error (&error);
    }
  if (g.storage_driver)
    {
      g_free (g.config->storage_driver);
      g.config->storage_driver = g_strdup (g.storage_driver);
    }
  if (!cmd->func (&g, nargs, args, &status, &error))
    goto fail;
  /* A save that failed fails the task (rrun's own error status) when its command did
     not fail first. */
  if (slurm_keep_container && !slurm_task_keep () && status == 0)
    status = RRUN_EXIT_FAILED;
  global_clear (&g);
  return status;

fail:
  rrun_log_print_error (error);
  if (slurm_keep_container)
    slurm_task_keep ();
  global_clear (&g);
  return rrun_error_exit_code (error);
}
