/* spank_rrun.so: a Slurm SPANK plugin that runs each task of a step in an rrun container,
   with pyxis' option names (docs/hpc.md, "Containers in Slurm jobs"):

     srun --container-image=IMAGE [--container-mounts=SRC:DST[:ro],...] CMD ARGS

   How (docs/architecture.md, "Slurm"): slurm_spank_task_init runs in the task, as the
   user, after Slurm has bound it to its CPUs and set its environment, right before
   slurmstepd execs the task. There the image is pulled once per node (a lock that every
   task of every job of the user takes; the first one pulls, the rest find the image in
   the store), then the task's argv[0] is replaced by rrun and the rrun arguments (and the
   task's own argv[0]) go into RRUN_SLURM_TASK: slurmstepd then execs rrun with the
   task's other arguments, and rrun rebuilds its command line from the variable
   (src/cli/slurm-task.c). Slurm 22.05 has no spank_prepend_task_argv; this works with it
   and keeps everything slurmstepd does between this callback and exec (task prolog,
   TMPDIR, user limits).

   Plain C and libc only: the plugin is loaded into srun, sbatch, salloc and slurmstepd. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <slurm/slurm.h>
#include <slurm/spank.h>

SPANK_PLUGIN (rrun, 1);

#ifndef RRUN_BINDIR
#define RRUN_BINDIR "/usr/bin"
#endif

/* The separator of RRUN_SLURM_TASK's fields (ASCII unit separator): no option value may
   contain it. */
#define FIELD_SEP '\x1f'
/* rrun's exit status for its own errors (docker's 125). */
#define EXIT_RRUN 125

enum
{
  OPT_IMAGE = 1,
  OPT_MOUNTS,
  OPT_WORKDIR,
  OPT_NAME,
  OPT_WRITABLE,
  OPT_READONLY,
  OPT_REMAP_ROOT,
  OPT_NO_REMAP_ROOT,
  OPT_ENV,
  OPT_MOUNT_HOME,
  OPT_NO_MOUNT_HOME,
  OPT_SAVE,
};

/* The user's options (as srun got them; slurmstepd gets the same values). */
static struct
{
  char *image, *mounts, *workdir, *name, *env, *save;
  int read_only;  /* -1 not given */
  int remap_root; /* -1 not given */
  int mount_home; /* -1 not given */
} opt = { .read_only = -1, .remap_root = -1, .mount_home = -1 };

/* plugstack.conf arguments: rrun=PATH network=MODE ipc=MODE remap_root=0|1
   mount_home=0|1 */
static struct
{
  char *rrun;
  char *network;
  char *ipc;
  int remap_root;
  int mount_home;
} conf = { NULL, NULL, NULL, 0, 1 };

static int option_cb (int val, const char *optarg, int remote);

/* Registered in slurm_spank_init (sbatch and salloc only see options registered there). */
static struct spank_option options[] = {
  { "container-image", "[USER@][REGISTRY#]IMAGE[:TAG]|PATH",
    "[rrun] the image to run each task in", 1, OPT_IMAGE, option_cb },
  { "container-mounts", "SRC:DST[:FLAGS][,SRC:DST...]",
    "[rrun] bind mount SRC at DST (FLAGS: ro or rw)", 1, OPT_MOUNTS, option_cb },
  { "container-workdir", "PATH", "[rrun] working directory inside the container", 1,
    OPT_WORKDIR, option_cb },
  { "container-name", "NAME",
    "[rrun] keep the container's writable layer under NAME for later steps of the job", 1,
    OPT_NAME, option_cb },
  { "container-writable", NULL, "[rrun] make the container's file system writable", 0,
    OPT_WRITABLE, option_cb },
  { "container-readonly", NULL, "[rrun] make the container's file system read-only", 0,
    OPT_READONLY, option_cb },
  { "container-remap-root", NULL, "[rrun] be root inside the container (user namespace)", 0,
    OPT_REMAP_ROOT, option_cb },
  { "no-container-remap-root", NULL, "[rrun] keep your own user ID inside the container", 0,
    OPT_NO_REMAP_ROOT, option_cb },
  { "container-env", "NAME[,NAME...]",
    "[rrun] these variables of the job override the image's", 1, OPT_ENV, option_cb },
  { "container-mount-home", NULL, "[rrun] bind mount your home directory (the default)", 0,
    OPT_MOUNT_HOME, option_cb },
  { "no-container-mount-home", NULL, "[rrun] do not bind mount your home directory", 0,
    OPT_NO_MOUNT_HOME, option_cb },
  { "container-save", "PATH",
    "[rrun] save the container's files as a squashfs image file at PATH when the step ends",
    1, OPT_SAVE, option_cb },
  SPANK_OPTIONS_TABLE_END
};

static void
replace (char **slot, const char *value)
{
  free (*slot);
  *slot = value ? strdup (value) : NULL;
}

static int
option_cb (int val, const char *optarg, int remote)
{
  (void) remote;
  if (optarg != NULL && strchr (optarg, FIELD_SEP) != NULL)
    {
      slurm_error ("rrun: invalid option value \"%s\": it contains a control character",
                   optarg);
      return -1;
    }
  switch (val)
    {
    case OPT_IMAGE: replace (&opt.image, optarg); break;
    case OPT_MOUNTS: replace (&opt.mounts, optarg); break;
    case OPT_WORKDIR: replace (&opt.workdir, optarg); break;
    case OPT_NAME: replace (&opt.name, optarg); break;
    case OPT_ENV: replace (&opt.env, optarg); break;
    case OPT_SAVE: replace (&opt.save, optarg); break;
    case OPT_WRITABLE: opt.read_only = 0; break;
    case OPT_READONLY: opt.read_only = 1; break;
    case OPT_REMAP_ROOT: opt.remap_root = 1; break;
    case OPT_NO_REMAP_ROOT: opt.remap_root = 0; break;
    case OPT_MOUNT_HOME: opt.mount_home = 1; break;
    case OPT_NO_MOUNT_HOME: opt.mount_home = 0; break;
    default: return -1;
    }
  return 0;
}

/* ---- messages: to the task's stderr, which Slurm sends to the job's stderr ---- */

static void
task_error (const char *fmt, ...)
{
  char buf[4096];
  va_list ap;
  int n;

  va_start (ap, fmt);
  n = vsnprintf (buf, sizeof buf - 1, fmt, ap);
  va_end (ap);
  if (n < 0)
    return;
  if ((size_t) n > sizeof buf - 2)
    n = sizeof buf - 2;
  buf[n++] = '\n';
  (void) !write (STDERR_FILENO, buf, (size_t) n);
}

/* Fail the task: the message is on its stderr, the exit status is rrun's for its own
   errors (125), as `rrun run` would give; slurmstepd reports it for the task. */
static void __attribute__ ((noreturn))
fail_task (void)
{
  _exit (EXIT_RRUN);
}

/* ---- plugstack.conf arguments ---- */

static int
parse_bool (const char *key, const char *v, int *out)
{
  if (strcmp (v, "1") == 0 || strcmp (v, "yes") == 0 || strcmp (v, "true") == 0)
    *out = 1;
  else if (strcmp (v, "0") == 0 || strcmp (v, "no") == 0 || strcmp (v, "false") == 0)
    *out = 0;
  else
    {
      slurm_error ("rrun: plugstack.conf: invalid value \"%s\" for %s: expected 0 or 1", v,
                   key);
      return -1;
    }
  return 0;
}

static int
parse_args (int ac, char **av)
{
  for (int i = 0; i < ac; i++)
    {
      const char *eq = strchr (av[i], '=');
      size_t klen = eq ? (size_t) (eq - av[i]) : strlen (av[i]);
      const char *v = eq ? eq + 1 : "";

      if (klen == 4 && strncmp (av[i], "rrun", 4) == 0 && v[0] == '/')
        replace (&conf.rrun, v);
      else if (klen == 7 && strncmp (av[i], "network", 7) == 0 && *v)
        replace (&conf.network, v);
      else if (klen == 3 && strncmp (av[i], "ipc", 3) == 0 && *v)
        replace (&conf.ipc, v);
      else if (klen == 10 && strncmp (av[i], "remap_root", 10) == 0)
        {
          if (parse_bool ("remap_root", v, &conf.remap_root) < 0)
            return -1;
        }
      else if (klen == 10 && strncmp (av[i], "mount_home", 10) == 0)
        {
          if (parse_bool ("mount_home", v, &conf.mount_home) < 0)
            return -1;
        }
      else
        {
          slurm_error ("rrun: plugstack.conf: unknown argument \"%s\" (known: rrun=/PATH, "
                       "network=, ipc=, remap_root=, mount_home=)",
                       av[i]);
          return -1;
        }
    }
  if (conf.rrun == NULL)
    conf.rrun = strdup (RRUN_BINDIR "/rrun");
  if (conf.network == NULL)
    conf.network = strdup ("host");
  if (conf.ipc == NULL)
    conf.ipc = strdup ("host");
  return 0;
}

int
slurm_spank_init (spank_t sp, int ac, char **av)
{
  if (parse_args (ac, av) < 0)
    return -1;
  for (int i = 0; options[i].name != NULL; i++)
    if (spank_option_register (sp, &options[i]) != ESPANK_SUCCESS)
      {
        slurm_error ("rrun: cannot register option --%s", options[i].name);
        return -1;
      }
  return 0;
}

/* ---- a growing argv ---- */

typedef struct
{
  char **v;
  size_t n, cap;
} Args;

static void
args_add (Args *a, const char *s)
{
  if (a->n + 2 > a->cap)
    {
      size_t cap = a->cap ? a->cap * 2 : 32;
      char **v = realloc (a->v, cap * sizeof *v);

      if (v == NULL)
        {
          task_error ("rrun: slurm: out of memory");
          fail_task ();
        }
      a->v = v;
      a->cap = cap;
    }
  a->v[a->n++] = strdup (s);
  a->v[a->n] = NULL;
}

static void
args_free (Args *a)
{
  for (size_t i = 0; i < a->n; i++)
    free (a->v[i]);
  free (a->v);
  a->v = NULL;
  a->n = a->cap = 0;
}

/* ---- the image ---- */

/* enroot's IMAGE syntax, as pyxis takes it: [USER@][REGISTRY#]IMAGE[:TAG] becomes
   REGISTRY/IMAGE[:TAG] (rrun gets credentials from `rrun login`, not from USER@). A path
   (a squashfs file, an OCI layout) is kept as it is. */
static char *
image_reference (const char *image)
{
  const char *hash = strchr (image, '#');
  const char *at;
  char *out;

  if (image[0] == '/' || image[0] == '.')
    return strdup (image);
  if (hash == NULL)
    return strdup (image);
  at = memchr (image, '@', (size_t) (hash - image));
  if (at != NULL)
    image = at + 1;
  out = strdup (image);
  if (out != NULL)
    out[hash - image] = '/';
  return out;
}

static bool
image_is_file (const char *ref)
{
  return ref[0] == '/' || ref[0] == '.';
}

/* Run rrun with args (argv[0] is rrun) in the job's environment (slurmstepd's own is
   root's), stdout to /dev/null, stderr the task's or /dev/null. The exit status, or -1
   when it could not run. */
static int
run_rrun (char *const *argv, char **env, bool show_stderr)
{
  pid_t pid = fork ();
  int status;

  if (pid < 0)
    return -1;
  if (pid == 0)
    {
      int null = open ("/dev/null", O_RDWR | O_CLOEXEC);

      if (null >= 0)
        {
          dup2 (null, STDIN_FILENO);
          dup2 (null, STDOUT_FILENO);
          if (!show_stderr)
            dup2 (null, STDERR_FILENO);
        }
      execve (argv[0], argv, env);
      if (show_stderr)
        task_error ("rrun: cannot execute \"%s\": %s", argv[0], strerror (errno));
      _exit (127);
    }
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

/* A directory of the user's own for lock files: /tmp/rrun-spank-UID, 0700, refused when
   someone else made it (on a shared node /tmp is hostile ground). */
static int
lock_dir (uid_t uid, char *out, size_t size)
{
  const char *tmp = "/tmp";
  struct stat st;

  snprintf (out, size, "%s/rrun-spank-%u", tmp, (unsigned) uid);
  if (mkdir (out, 0700) < 0 && errno != EEXIST)
    return -1;
  if (lstat (out, &st) < 0)
    return -1;
  if (!S_ISDIR (st.st_mode) || st.st_uid != uid || (st.st_mode & 077) != 0)
    {
      errno = EPERM;
      return -1;
    }
  return 0;
}

/* Pull the image unless the store has it: once per node, whatever the number of tasks
   and jobs. The lock is the user's (one per node); the first task that takes it pulls,
   each later one finds the image with a quick inspect. */
/* Pull ref unless the store has it; with kept (--container-name), use the kept image of
   an earlier step instead when it exists. Returns the image to run (malloc'ed). */
/* The image the step's first task settled on, for the others: DIR/step-JOB.STEP, read and
   written under the lock, removed by slurm_spank_exit. NULL when there is none. */
static char *
step_marker_read (const char *path)
{
  char buf[PATH_MAX];
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  ssize_t n;

  if (fd < 0)
    return NULL;
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return NULL;
  buf[n] = '\0';
  return strdup (buf);
}

static void
step_marker_write (const char *path, const char *image)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0)
    return; /* the other tasks inspect for themselves */
  (void) !write (fd, image, strlen (image));
  close (fd);
}

static char *
ensure_image (uid_t uid, uint32_t job_id, uint32_t step_id, const char *ref, const char *kept,
              char **env)
{
  char dir[PATH_MAX], lock[PATH_MAX + 32], marker[PATH_MAX + 64];
  char *chosen;
  int fd, rc;
  char *inspect[] = { conf.rrun, (char *) "image", (char *) "inspect", (char *) ref, NULL };
  char *pull[] = { conf.rrun, (char *) "pull", (char *) "-q", (char *) ref, NULL };
  char *inspect_kept[] = { conf.rrun, (char *) "image", (char *) "inspect", (char *) kept,
                           NULL };

  if (lock_dir (uid, dir, sizeof dir) < 0)
    {
      task_error ("rrun: slurm: cannot use \"%s\" for the pull lock: %s", dir,
                  strerror (errno));
      fail_task ();
    }
  snprintf (lock, sizeof lock, "%s/pull.lock", dir);
  fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 || flock (fd, LOCK_EX) < 0)
    {
      task_error ("rrun: slurm: cannot lock \"%s\": %s", lock, strerror (errno));
      fail_task ();
    }
  snprintf (marker, sizeof marker, "%s/step-%u.%u", dir, job_id, step_id);
  chosen = step_marker_read (marker);
  if (chosen != NULL)
    {
      close (fd);
      return chosen;
    }
  if (kept != NULL && run_rrun (inspect_kept, env, false) == 0)
    {
      step_marker_write (marker, kept);
      close (fd);
      return strdup (kept);
    }
  if (ref == NULL)
    {
      close (fd);
      task_error ("rrun: slurm: no container \"%s\" in this job yet: the first step that "
                  "names it needs --container-image",
                  opt.name);
      fail_task ();
    }
  rc = run_rrun (inspect, env, false);
  if (rc != 0)
    {
      task_error ("rrun: slurm: pulling %s", ref);
      rc = run_rrun (pull, env, true);
    }
  if (rc == 0)
    step_marker_write (marker, ref);
  close (fd);
  if (rc == 127 || rc < 0)
    {
      if (rc < 0)
        task_error ("rrun: slurm: cannot run \"%s\": %s", conf.rrun, strerror (errno));
      task_error ("hint: the administrator sets rrun's path in plugstack.conf: rrun=/PATH");
      fail_task ();
    }
  if (rc != 0)
    {
      /* rrun printed why; say which option it came from. */
      task_error ("rrun: slurm: cannot get the image \"%s\" of --container-image", ref);
      fail_task ();
    }
  return strdup (ref);
}

/* ---- building rrun's command line ---- */

/* --container-mounts: SRC:DST[:FLAGS],...; FLAGS ro or rw (pyxis takes mount(8) flags;
   the others are refused by name). */
static void
add_mounts (Args *a, const char *list)
{
  char *copy = strdup (list), *save = NULL;

  for (char *m = strtok_r (copy, ",", &save); m; m = strtok_r (NULL, ",", &save))
    {
      char *src = m, *dst, *flags;
      char spec[PATH_MAX * 2 + 8];
      char *entry = strdup (m); /* for messages: m is cut up below */

      dst = strchr (src, ':');
      if (dst)
        *dst++ = '\0';
      flags = dst ? strchr (dst, ':') : NULL;
      if (flags)
        *flags++ = '\0';
      if (dst == NULL || *dst == '\0')
        dst = src;
      if (src[0] != '/' || dst[0] != '/')
        {
          task_error ("rrun: invalid --container-mounts entry \"%s\": SRC and DST must be "
                      "absolute paths",
                      entry ? entry : m);
          fail_task ();
        }
      if (flags && *flags && strcmp (flags, "ro") != 0 && strcmp (flags, "rw") != 0)
        {
          task_error ("rrun: invalid --container-mounts flags \"%s\": expected ro or rw", flags);
          fail_task ();
        }
      snprintf (spec, sizeof spec, "%s:%s%s%s", src, dst, flags && *flags ? ":" : "",
                flags && *flags ? flags : "");
      args_add (a, "-v");
      args_add (a, spec);
      free (entry);
    }
  free (copy);
}

/* --container-env NAME,...: these come from the job's environment and override the
   image's (rrun's -e NAME passes the caller's value). */
static void
add_env (Args *a, const char *list)
{
  char *copy = strdup (list), *save = NULL;

  for (char *n = strtok_r (copy, ",", &save); n; n = strtok_r (NULL, ",", &save))
    {
      args_add (a, "-e");
      args_add (a, n);
    }
  free (copy);
}

/* The job's value of a variable, NULL when unset (the caller frees). */
static char *
job_getenv (spank_t sp, const char *name)
{
  char buf[PATH_MAX];

  if (spank_getenv (sp, name, buf, sizeof buf) != ESPANK_SUCCESS)
    return NULL;
  return strdup (buf);
}

int
slurm_spank_task_init (spank_t sp, int ac, char **av)
{
  uint32_t job_id = 0, step_id = 0;
  uid_t uid = getuid ();
  int argc = 0;
  char **argv = NULL, **env = NULL;
  char *ref, *value, *home;
  Args a = { 0 };
  size_t len = 0;
  char user[32];
  int remap, local_task = 0;
  uint32_t global_task = 1;
  char kept[128] = "", kept_ctr[128] = "";
  bool keeps, saves;

  (void) ac;
  (void) av;
  if (!spank_remote (sp) || (opt.image == NULL && opt.name == NULL))
    return 0;
  if (spank_get_item (sp, S_JOB_ID, &job_id) != ESPANK_SUCCESS
      || spank_get_item (sp, S_JOB_STEPID, &step_id) != ESPANK_SUCCESS
      || spank_get_item (sp, S_JOB_ARGV, &argc, &argv) != ESPANK_SUCCESS || argc < 1
      || spank_get_item (sp, S_JOB_ENV, &env) != ESPANK_SUCCESS || env == NULL
      || argv == NULL || argv[0] == NULL)
    {
      task_error ("rrun: slurm: cannot read the task's job, step and command from Slurm");
      fail_task ();
    }

  /* The batch script and salloc's interactive step run on the node, as with pyxis: the
     options given to sbatch and salloc reach each srun of the job (Slurm passes them on
     in SLURM_SPANK_* variables), whose tasks run in containers. */
  if (step_id == SLURM_BATCH_SCRIPT || step_id == SLURM_EXTERN_CONT
      || step_id == SLURM_INTERACTIVE_STEP)
    return 0;

  ref = opt.image ? image_reference (opt.image) : NULL;
  if (ref != NULL && image_is_file (ref) && (opt.name != NULL || opt.save != NULL))
    {
      /* Both commit the container's writable layer on top of its image, which must be
         one of the store (a file has no stored layers to commit onto). */
      task_error ("rrun: --container-%s needs an image of the store, not the image file "
                  "\"%s\"",
                  opt.name != NULL ? "name" : "save", ref);
      task_error ("hint: give --container-image the image the file was exported from "
                  "(REGISTRY/NAME:TAG)");
      fail_task ();
    }
  if (opt.save != NULL && opt.save[0] == '\0')
    {
      task_error ("rrun: invalid --container-save \"\": expected the path of a file");
      fail_task ();
    }
  if (opt.save != NULL
      && spank_get_item (sp, S_TASK_GLOBAL_ID, &global_task) != ESPANK_SUCCESS)
    global_task = 0;
  if (opt.name != NULL)
    {
      /* pyxis' named containers, per job: the writable layer of local task 0 becomes
         localhost/rrun-slurm-JOB/NAME when it ends (rrun commits it), and later steps
         of the job start from that image. */
      size_t n = strlen (opt.name);

      if (n == 0 || n > 64 || strspn (opt.name, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != n
          || opt.name[0] == '.' || opt.name[0] == '-' || opt.name[0] == '_')
        {
          task_error ("rrun: invalid --container-name \"%s\": expected lowercase letters, "
                      "digits, '.', '_' and '-' (up to 64)",
                      opt.name);
          fail_task ();
        }
      snprintf (kept, sizeof kept, "localhost/rrun-slurm-%u/%s:latest", job_id, opt.name);
      snprintf (kept_ctr, sizeof kept_ctr, "rrun-slurm-%u-%s", job_id, opt.name);
      if (spank_get_item (sp, S_TASK_ID, &local_task) != ESPANK_SUCCESS)
        local_task = 0;
    }
  if (ref != NULL && image_is_file (ref) && opt.name == NULL)
    ;
  else
    {
      char *img = ensure_image (uid, job_id, step_id, ref, opt.name ? kept : NULL, env);

      free (ref);
      ref = img;
    }
  if (ref == NULL)
    fail_task ();
  /* --container-save: the step's task 0 (one file, one writer) commits its container
     when it ends, as --container-name does (into the named image, or a temporary one
     that goes once exported), and rrun exports that image as a squashfs file to PATH. */
  keeps = opt.name != NULL && local_task == 0;
  saves = opt.save != NULL && global_task == 0;
  if (saves && !keeps)
    {
      snprintf (kept, sizeof kept, "localhost/rrun-slurm-%u/save-%u:latest", job_id, step_id);
      snprintf (kept_ctr, sizeof kept_ctr, "rrun-slurm-%u-%u-save", job_id, step_id);
    }
  if (keeps || saves)
    {
      char *rm[] = { conf.rrun, (char *) "rm", (char *) "-f", kept_ctr, NULL };
      size_t size = sizeof kept + sizeof kept_ctr + (saves ? strlen (opt.save) : 0) + 8;
      char *keep = malloc (size);

      if (keep == NULL)
        fail_task ();
      run_rrun (rm, env, false); /* a step killed before it could remove it */
      /* CONTAINER, IMAGE[, SAVE-PATH, 1 when IMAGE is to go after the save] */
      if (saves)
        snprintf (keep, size, "%s%c%s%c%s%c%d", kept_ctr, FIELD_SEP, kept, FIELD_SEP,
                  opt.save, FIELD_SEP, keeps ? 0 : 1);
      else
        snprintf (keep, size, "%s%c%s", kept_ctr, FIELD_SEP, kept);
      if (spank_setenv (sp, "RRUN_SLURM_TASK_KEEP", keep, 1) != ESPANK_SUCCESS)
        fail_task ();
      free (keep);
    }

  /* rrun run --rm -i --network host --ipc host --userns keep-id --slurm-env
     [-v HOME:HOME] [-v ...] [-e NAME...] [-w DIR] [--read-only] IMAGE ARGV0 */
  args_add (&a, "run");
  if (keeps || saves)
    {
      args_add (&a, "--name");
      args_add (&a, kept_ctr);
    }
  else
    args_add (&a, "--rm");
  args_add (&a, "-i");
  args_add (&a, "--log-driver=passthrough");
  args_add (&a, "--slurm-env");
  args_add (&a, "--network");
  args_add (&a, conf.network);
  args_add (&a, "--ipc");
  args_add (&a, conf.ipc);
  /* pyxis runs the command, not the image's entrypoint, as the user (or root with
     --container-remap-root), not as the image's USER. */
  args_add (&a, "--entrypoint=");
  remap = opt.remap_root >= 0 ? opt.remap_root : conf.remap_root;
  args_add (&a, "--userns");
  args_add (&a, remap ? "auto" : "keep-id");
  snprintf (user, sizeof user, "%u:%u", remap ? 0u : (unsigned) uid,
            remap ? 0u : (unsigned) getgid ());
  args_add (&a, "--user");
  args_add (&a, user);
  home = job_getenv (sp, "HOME");
  if ((opt.mount_home >= 0 ? opt.mount_home : conf.mount_home) && home && home[0] == '/')
    {
      char spec[PATH_MAX * 2 + 2];

      snprintf (spec, sizeof spec, "%s:%s", home, home);
      args_add (&a, "-v");
      args_add (&a, spec);
    }
  free (home);
  if (opt.mounts)
    add_mounts (&a, opt.mounts);
  if (opt.env)
    add_env (&a, opt.env);
  if (opt.workdir)
    {
      args_add (&a, "-w");
      args_add (&a, opt.workdir);
    }
  if (opt.read_only == 1)
    args_add (&a, "--read-only");
  args_add (&a, ref);
  args_add (&a, argv[0]);
  free (ref);

  for (size_t i = 0; i < a.n; i++)
    len += strlen (a.v[i]) + 1;
  value = malloc (len + 1);
  if (value == NULL)
    fail_task ();
  value[0] = '\0';
  for (size_t i = 0, off = 0; i < a.n; i++)
    {
      size_t l = strlen (a.v[i]);

      memcpy (value + off, a.v[i], l);
      off += l;
      value[off++] = i + 1 < a.n ? FIELD_SEP : '\0';
    }
  args_free (&a);
  if (spank_setenv (sp, "RRUN_SLURM_TASK", value, 1) != ESPANK_SUCCESS)
    {
      task_error ("rrun: slurm: cannot set RRUN_SLURM_TASK in the task's environment");
      fail_task ();
    }
  free (value);
  /* slurmstepd execs argv[0] with argv: rrun, then the task's own arguments. */
  argv[0] = strdup (conf.rrun);
  return 0;
}

int
slurm_spank_exit (spank_t sp, int ac, char **av)
{
  (void) ac;
  (void) av;
  /* slurmstepd at the step's end (root): the step's marker goes. Through a directory
     fd that is the user's own, so a link put there cannot aim the unlink elsewhere. */
  if (spank_remote (sp) && (opt.image != NULL || opt.name != NULL))
    {
      uint32_t job_id = 0, step_id = 0;
      uid_t uid = 0;
      char dir[PATH_MAX], name[64];
      struct stat st;
      int dfd;

      if (spank_get_item (sp, S_JOB_UID, &uid) == ESPANK_SUCCESS
          && spank_get_item (sp, S_JOB_ID, &job_id) == ESPANK_SUCCESS
          && spank_get_item (sp, S_JOB_STEPID, &step_id) == ESPANK_SUCCESS)
        {
          snprintf (dir, sizeof dir, "/tmp/rrun-spank-%u", (unsigned) uid);
          dfd = open (dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (dfd >= 0)
            {
              snprintf (name, sizeof name, "step-%u.%u", job_id, step_id);
              if (fstat (dfd, &st) == 0 && st.st_uid == uid)
                unlinkat (dfd, name, 0);
              close (dfd);
            }
        }
    }
  free (conf.rrun);
  free (conf.network);
  free (conf.ipc);
  conf.rrun = conf.network = conf.ipc = NULL;
  return 0;
}
