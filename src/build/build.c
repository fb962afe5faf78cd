/* rrun_build_image: see build.h. */
#include "build/build.h"

#include "build/config-edit.h"
#include "build/copy.h"
#include "build/dockerfile.h"
#include "build/dockerignore.h"
#include "build/run-mounts.h"
#include "build/stat-cache.h"
#include "container/container.h"
#include "container/spec.h"
#include "error.h"
#include "image/commit.h"
#include "image/pull.h"
#include "log.h"
#include "storage/names.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#undef G_LOG_DOMAIN
#define G_LOG_DOMAIN "rrun-build"

typedef struct
{
  char *name;        /* AS name (lower case), or NULL */
  guint index;
  guint first, last; /* instruction indexes: FROM .. last of the stage */
  gboolean needed;
  /* while and after it runs: */
  char *image_id;    /* NULL: scratch with no step yet */
  RrunJson *config;
  GStrv chains;
  char *key;         /* cache key of the last step */
  GHashTable *args;  /* ARG name -> value (declared in this stage) */
  GStrv shell;
} Stage;

static void
stage_free (gpointer p)
{
  Stage *s = p;
  g_free (s->name);
  g_free (s->image_id);
  if (s->config)
    rrun_json_free (s->config);
  g_strfreev (s->chains);
  g_free (s->key);
  if (s->args)
    g_hash_table_unref (s->args);
  g_strfreev (s->shell);
  g_free (s);
}

typedef struct
{
  const RrunConfig *config;
  RrunStore *store;
  const RrunIdMap *map;
  const RrunBuildOptions *o;
  RrunDockerfile *df;
  RrunIgnore *ignore;
  char *context;
  char *cache_dir;
  GHashTable *build_args;  /* --build-arg name -> value */
  GHashTable *global_args; /* ARG before the first FROM: name -> value */
  GPtrArray *stages;
  guint step, n_steps;
  GHashTable *secrets;     /* --secret id -> RrunBuildSecret* */
  char *mount_cache_root;  /* RUN --mount=type=cache directories */
  GPtrArray *held;         /* RrunImage* whose layers RUN --mount=from= reads */
  RrunStatCache *stat_cache;
} Build;

static void
say (Build *b, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
say (Build *b, const char *fmt, ...)
{
  va_list ap;

  if (b->o->quiet)
    return;
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
}

/* ---- variables ---------------------------------------------------------------------- */

typedef struct
{
  Stage *stage; /* NULL: before the first FROM */
  Build *build;
} Scope;

static const char *
env_value (RrunJson *config, const char *name)
{
  RrunJson *c = config ? rrun_json_member (config, "config") : NULL;
  RrunJson *env = c ? rrun_json_member (c, "Env") : NULL;
  gsize n = strlen (name);

  for (guint i = 0; env && rrun_json_type (env) == RRUN_JSON_ARRAY && i < rrun_json_size (env); i++)
    {
      const char *s = rrun_json_string (rrun_json_element (env, i));
      if (s && strncmp (s, name, n) == 0 && s[n] == '=')
        return s + n + 1;
    }
  return NULL;
}

static const char *
lookup (const char *name, gpointer user_data)
{
  Scope *sc = user_data;
  const char *v;

  if (sc->stage == NULL)
    return g_hash_table_lookup (sc->build->global_args, name);
  if ((v = env_value (sc->stage->config, name)) != NULL)
    return v;
  return g_hash_table_lookup (sc->stage->args, name);
}

static gboolean
expand (Build *b, Stage *s, const RrunInstruction *ins, const char *text, GHashTable *used,
        char **out, GError **error)
{
  Scope sc = { s, b };

  if (!rrun_build_expand (text, b->df->escape, lookup, &sc, used, out, error))
    {
      g_prefix_error (error, "%s:%u: %s: ", b->df->path, ins->line, ins->keyword);
      return FALSE;
    }
  return TRUE;
}

/* ---- cache -------------------------------------------------------------------------- */

static char *
make_key (const char *parent, const char *what, GHashTable *used, GHashTable *values,
          const char *extra)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(GList) names = used ? g_hash_table_get_keys (used) : NULL;

  g_checksum_update (sum, (const guchar *) (parent ? parent : ""), -1);
  g_checksum_update (sum, (const guchar *) "\n", 1);
  g_checksum_update (sum, (const guchar *) what, -1);
  g_checksum_update (sum, (const guchar *) "\n", 1);
  names = g_list_sort (names, (GCompareFunc) strcmp);
  for (GList *l = names; l; l = l->next)
    {
      const char *v = values ? g_hash_table_lookup (values, l->data) : NULL;
      if (v == NULL)
        continue;
      g_checksum_update (sum, (const guchar *) l->data, -1);
      g_checksum_update (sum, (const guchar *) "=", 1);
      g_checksum_update (sum, (const guchar *) v, -1);
      g_checksum_update (sum, (const guchar *) "\n", 1);
    }
  if (extra)
    g_checksum_update (sum, (const guchar *) extra, -1);
  return g_strdup (g_checksum_get_string (sum));
}

/* The image a step with key made, when it is still in the store. */
static char *
cache_lookup (Build *b, const char *key)
{
  g_autofree char *path = g_build_filename (b->cache_dir, key, NULL);
  g_autofree char *id = NULL, *record = NULL;

  if (b->o->no_cache || !g_file_get_contents (path, &id, NULL, NULL))
    return NULL;
  g_strstrip (id);
  if (strlen (id) != 64 || strspn (id, "0123456789abcdef") != 64)
    return NULL;
  /* Still in the store (image prune removes untagged step images): stage_set_image reads
     it through the store next. */
  record = g_build_filename (rrun_store_root (b->store), "images", id, "image.json", NULL);
  if (!g_file_test (record, G_FILE_TEST_EXISTS))
    return NULL;
  return g_steal_pointer (&id);
}

static void
cache_store (Build *b, const char *key, const char *id)
{
  g_autofree char *path = g_build_filename (b->cache_dir, key, NULL);
  g_autoptr(GError) local = NULL;

  if (!g_file_set_contents (path, id, -1, &local))
    rrun_warning ("cannot record a build cache entry: %s", local->message);
}

/* Make id the stage's current image (config and chains read from the store). */
static gboolean
stage_set_image (Build *b, Stage *s, const char *id, const char *key, GError **error)
{
  g_autoptr(RrunJson) config = NULL;
  g_auto(GStrv) chains = NULL;

  if (!rrun_image_commit_base (b->store, id, &config, &chains, error))
    return FALSE;
  g_free (s->image_id);
  s->image_id = g_strdup (id);
  if (s->config)
    rrun_json_free (s->config);
  s->config = g_steal_pointer (&config);
  g_strfreev (s->chains);
  s->chains = g_steal_pointer (&chains);
  g_free (s->key);
  s->key = g_strdup (key);
  return TRUE;
}

/* Record the result of a step: config (edited) plus an optional layer. */
static gboolean
commit_step (Build *b, Stage *s, const char *key, RrunJson *config, const char *upper,
             const char *layer_tar, const char *created_by, GError **error)
{
  g_autofree char *id = NULL;
  RrunCommitOptions co = { 0 };

  co.created_by = created_by;
  co.layer_tar = layer_tar;
  if (!rrun_image_commit (b->store, b->map, s->image_id, config,
                          (const char *const *) s->chains, upper, &co, &id, NULL, error))
    return FALSE;
  cache_store (b, key, id);
  return stage_set_image (b, s, id, key, error);
}

/* ---- steps -------------------------------------------------------------------------- */

static Stage *
find_stage (Build *b, const char *name, guint before)
{
  for (guint i = 0; i < before && i < b->stages->len; i++)
    {
      Stage *s = b->stages->pdata[i];
      g_autofree char *num = g_strdup_printf ("%u", s->index);
      if ((s->name && g_ascii_strcasecmp (s->name, name) == 0) || strcmp (num, name) == 0)
        return s;
    }
  return NULL;
}

static gboolean
step_from (Build *b, Stage *s, const RrunInstruction *ins, GError **error)
{
  g_auto(GStrv) words = NULL;
  g_autofree char *text = NULL;
  Scope sc = { NULL, b };
  const char *ref;
  Stage *prev;

  if (!rrun_build_expand (ins->args, b->df->escape, lookup, &sc, NULL, &text, error))
    return FALSE;
  words = rrun_build_split_words (text);
  if (words[0] == NULL || (words[1] && (g_ascii_strcasecmp (words[1], "AS") != 0 || words[2] == NULL || words[3])))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "%s:%u: FROM: expected FROM IMAGE [AS NAME], got \"%s\"", b->df->path,
                       ins->line, ins->args);
  ref = words[0];
  if (rrun_instruction_flag (ins, "platform"))
    {
      g_autofree char *plat = NULL;
      g_autofree char *host = g_strconcat ("linux/", rrun_store_host_architecture (), NULL);
      if (!rrun_build_expand (rrun_instruction_flag (ins, "platform"), b->df->escape, lookup,
                              &sc, NULL, &plat, error))
        return FALSE;
      if (strcmp (plat, host) != 0)
        {
          rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                      "%s:%u: FROM --platform=%s: only this machine's platform (%s) can run "
                      "RUN steps", b->df->path, ins->line, plat, host);
          rrun_add_hint (error, "a foreign platform needs CPU emulation (qemu-user with "
                                "binfmt_misc), which rrun build does not use");
          return FALSE;
        }
    }
  s->args = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (strcmp (ref, "scratch") == 0)
    {
      rrun_image_commit_base (b->store, NULL, &s->config, &s->chains, NULL);
      s->key = make_key (NULL, "FROM scratch", NULL, NULL, NULL);
      return TRUE;
    }
  if ((prev = find_stage (b, ref, s->index)) != NULL)
    {
      if (prev->image_id == NULL)
        {
          rrun_image_commit_base (b->store, NULL, &s->config, &s->chains, NULL);
          s->key = g_strdup (prev->key);
          return TRUE;
        }
      return stage_set_image (b, s, prev->image_id, prev->key, error);
    }
  {
    g_autoptr(RrunImage) img = NULL;
    g_autoptr(GError) local = NULL;
    g_autofree char *id = NULL, *key = NULL, *what = NULL;
    const char *policy = b->o->pull ? b->o->pull : "missing";

    if (strcmp (policy, "always") == 0
        || !rrun_store_find_image (b->store, ref, &img, &local))
      {
        RrunPullImageOptions po = { b->o->tls_verify, NULL, 3, NULL, NULL };
        if (strcmp (policy, "never") == 0)
          {
            g_propagate_error (error, g_steal_pointer (&local));
            return FALSE;
          }
        if (local && !g_error_matches (local, RRUN_ERROR, RRUN_ERROR_NOT_FOUND))
          {
            g_propagate_error (error, g_steal_pointer (&local));
            return FALSE;
          }
        say (b, "Pulling %s", ref);
        if (!rrun_pull_image (b->config, b->store, b->map, ref, &po, &id, NULL, error))
          {
            g_prefix_error (error, "%s:%u: FROM: cannot pull \"%s\": ", b->df->path,
                            ins->line, ref);
            return FALSE;
          }
      }
    else
      id = g_strdup (img->id);
    what = g_strconcat ("FROM ", id, NULL);
    key = make_key (NULL, what, NULL, NULL, NULL);
    return stage_set_image (b, s, id, key, error);
  }
}

static gboolean
step_arg (Build *b, Stage *s, const RrunInstruction *ins, GHashTable *table, GError **error)
{
  g_auto(GStrv) words = rrun_build_split_words (ins->args);

  for (guint i = 0; words[i]; i++)
    {
      char *eq = strchr (words[i], '=');
      g_autofree char *name = eq ? g_strndup (words[i], eq - words[i]) : g_strdup (words[i]);
      const char *given = g_hash_table_lookup (b->build_args, name);
      g_autofree char *value = NULL;

      if (given)
        value = g_strdup (given);
      else if (eq)
        {
          Scope sc = { s, b };
          if (!rrun_build_expand (eq + 1, b->df->escape, lookup, &sc, NULL, &value, error))
            return FALSE;
        }
      else if (s && g_hash_table_lookup (b->global_args, name))
        value = g_strdup (g_hash_table_lookup (b->global_args, name));
      if (value)
        g_hash_table_replace (table, g_steal_pointer (&name), g_steal_pointer (&value));
    }
  return TRUE;
}

/* docker's predefined ARGs: given with --build-arg they reach every RUN without an ARG
   line, and (unless declared) stay out of the cache key and the history, so a proxy's
   credentials are neither stored nor a reason to rebuild. */
static const char *const proxy_args[]
    = { "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
        "ftp_proxy",  "NO_PROXY",   "no_proxy",    "ALL_PROXY",   "all_proxy", NULL };

/* Build args in use: the declared ARGs of the stage with values (RUN gets them all), and
   the predefined proxy ARGs given with --build-arg. */
static char **
run_env (Build *b, Stage *s)
{
  g_autoptr(GPtrArray) env = g_ptr_array_new ();
  GHashTableIter it;
  gpointer k, v;

  g_hash_table_iter_init (&it, s->args);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (env_value (s->config, k) == NULL)
      g_ptr_array_add (env, g_strconcat (k, "=", v, NULL));
  for (guint i = 0; proxy_args[i]; i++)
    {
      const char *val = g_hash_table_lookup (b->build_args, proxy_args[i]);
      if (val && !g_hash_table_contains (s->args, proxy_args[i])
          && env_value (s->config, proxy_args[i]) == NULL)
        g_ptr_array_add (env, g_strconcat (proxy_args[i], "=", val, NULL));
    }
  g_ptr_array_add (env, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&env), FALSE);
}

/* RUN --mount=from=: the layers of an earlier stage or of an image. */
static GPtrArray *
mount_layers (const char *from, gpointer user_data, GError **error)
{
  Scope *sc = user_data;
  Build *b = sc->build;
  Stage *st = find_stage (b, from, sc->stage->index);
  RrunImage *img = NULL;

  if (st && st->image_id == NULL)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "stage \"%s\" has no files", from);
      return NULL;
    }
  if (!rrun_store_find_image (b->store, st ? st->image_id : from, &img, error))
    return NULL;
  g_ptr_array_add (b->held, img);
  return img->layer_dirs;
}

/* RUN's --mount flags, parsed; the bind mounts' files digested into *out_digest. */
static gboolean
run_mounts (Build *b, Stage *s, const RrunInstruction *ins, GPtrArray **out_mounts,
            char **out_digest, GError **error)
{
  g_autoptr(GPtrArray) mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_run_mount_free);
  Scope sc = { s, b };
  RrunRunMountContext ctx = { b->context, b->ignore, b->mount_cache_root, b->secrets,
                              mount_layers, &sc, b->stat_cache };

  for (guint i = 0; i < ins->flags->len; i++)
    {
      const char *f = ins->flags->pdata[i];
      g_autofree char *value = NULL;
      RrunRunMount *m = NULL;
      if (!g_str_has_prefix (f, "--mount="))
        continue;
      if (!expand (b, s, ins, f + 8, NULL, &value, error))
        return FALSE;
      if (!rrun_run_mount_parse (value, &m, error))
        {
          g_prefix_error (error, "%s:%u: RUN: ", b->df->path, ins->line);
          return FALSE;
        }
      g_ptr_array_add (mounts, m);
    }
  if (!rrun_run_mounts_digest (mounts, &ctx, out_digest, error))
    {
      g_prefix_error (error, "%s:%u: RUN: ", b->df->path, ins->line);
      return FALSE;
    }
  *out_mounts = g_steal_pointer (&mounts);
  return TRUE;
}

/* RUN --network=default|none|host and --security=sandbox (insecure needs privileges a
   rootless build does not have). */
static gboolean
run_network (Build *b, const RrunInstruction *ins, const char **out_network, GError **error)
{
  const char *net = rrun_instruction_flag (ins, "network");
  const char *sec = rrun_instruction_flag (ins, "security");

  *out_network = b->o->network;
  if (sec && strcmp (sec, "sandbox") != 0)
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED, "%s:%u: RUN --security=%s: %s", b->df->path,
                  ins->line, sec, strcmp (sec, "insecure") == 0
                  ? "a rootless build cannot give a step more than the user has"
                  : "expected sandbox or insecure");
      return FALSE;
    }
  if (net == NULL || strcmp (net, "default") == 0)
    return TRUE;
  if (strcmp (net, "none") != 0 && strcmp (net, "host") != 0)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "%s:%u: RUN --network=%s: expected default, none or host", b->df->path,
                       ins->line, net);
  *out_network = net;
  return TRUE;
}

static gboolean
step_run (Build *b, Stage *s, const RrunInstruction *ins, const char *key, GPtrArray *mounts,
          int *out_status, GError **error)
{
  g_autoptr(RrunStoreTemp) temp = NULL;
  g_autoptr(GPtrArray) spec_mounts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) spec_tmpfs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(RrunImage) cur = NULL;
  const char *network = NULL;
  g_autoptr(RrunContainerSpec) spec = rrun_container_spec_new ();
  g_autoptr(RrunContainer) c = NULL;
  g_autoptr(RrunJson) config = rrun_json_copy (s->config);
  g_auto(GStrv) exec = rrun_build_parse_exec_form (ins->args);
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *created_by = NULL;
  rrun_autofd int saved_stdout = -1;
  int status = 0;
  gboolean ok;

  if (s->image_id == NULL)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "%s:%u: RUN: the stage starts FROM scratch: there is nothing to run",
                       b->df->path, ins->line);
  if (exec && ins->heredocs->len == 0)
    for (guint i = 0; exec[i]; i++)
      g_ptr_array_add (argv, g_strdup (exec[i]));
  else
    {
      static const char *const sh[] = { "/bin/sh", "-c", NULL };
      const char *const *shell = s->shell ? (const char *const *) s->shell : sh;
      g_autoptr(GString) script = g_string_new (ins->args);

      if (ins->heredocs->len > 0)
        {
          /* "RUN <<EOT" alone runs the heredoc as the script; otherwise the heredocs
             follow the command line, as the shell reads them. */
          g_autofree char *rest = g_strdup (ins->args);
          char *at;
          while ((at = strstr (rest, "<<")) != NULL)
            memset (at, ' ', 2 + strcspn (at + 2, " \t\n"));
          if (*g_strstrip (rest) == '\0' && ins->heredocs->len == 1)
            g_string_assign (script, ((RrunHeredoc *) ins->heredocs->pdata[0])->content);
          else
            {
              g_string_append_c (script, '\n');
              for (guint h = 0; h < ins->heredocs->len; h++)
                {
                  RrunHeredoc *d = ins->heredocs->pdata[h];
                  g_string_append_printf (script, "%s%s\n", d->content, d->name);
                }
            }
        }
      for (guint i = 0; shell[i]; i++)
        g_ptr_array_add (argv, g_strdup (shell[i]));
      g_ptr_array_add (argv, g_string_free (g_steal_pointer (&script), FALSE));
    }
  g_ptr_array_add (argv, NULL);
  spec->image = g_strdup (s->image_id);
  spec->args = g_strdupv ((char **) argv->pdata);
  spec->entrypoint = g_strdup ("");
  spec->env = run_env (b, s);
  spec->rm = FALSE; /* --rm would empty the upper directory as the command ends */
  spec->pull = g_strdup ("never");
  if (!run_network (b, ins, &network, error))
    return FALSE;
  spec->network = g_strdup (network);
  spec->quiet_pull = TRUE;
  if (mounts->len > 0)
    {
      Scope sc = { s, b };
      RrunRunMountContext ctx = { b->context, b->ignore, b->mount_cache_root, b->secrets,
                                  mount_layers, &sc, b->stat_cache };
      if (!rrun_store_temp_new (b->store, b->map, &temp, error)
          || !rrun_run_mounts_setup (mounts, &ctx, rrun_store_temp_dir (temp), spec_mounts,
                                     spec_tmpfs, error))
        {
          g_prefix_error (error, "%s:%u: RUN: ", b->df->path, ins->line);
          return FALSE;
        }
      g_ptr_array_add (spec_mounts, NULL);
      g_ptr_array_add (spec_tmpfs, NULL);
      spec->mounts = g_strdupv ((char **) spec_mounts->pdata);
      spec->tmpfs = g_strdupv ((char **) spec_tmpfs->pdata);
    }
  if (!rrun_container_spec_validate (b->config, spec, error))
    return FALSE;
  /* -q: stdout holds the image ID alone; RUN's output goes to stderr. */
  if (b->o->quiet)
    {
      fflush (stdout);
      saved_stdout = fcntl (STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
      if (saved_stdout < 0 || dup2 (STDERR_FILENO, STDOUT_FILENO) < 0)
        return rrun_throw_errno (error, errno, "cannot redirect the output of RUN");
    }
  ok = rrun_container_create (b->config, spec, &c, error);
  if (ok)
    rrun_container_remove_at_delete (c);
  ok = ok && rrun_container_start (c, error) && rrun_container_wait (c, &status, error);
  if (saved_stdout >= 0)
    (void) dup2 (saved_stdout, STDOUT_FILENO);
  if (!ok)
    {
      g_prefix_error (error, "%s:%u: RUN: ", b->df->path, ins->line);
      return FALSE;
    }
  if (status != 0)
    {
      *out_status = status;
      return rrun_throw (error, RRUN_ERROR_FAILED,
                         "step %u/%u (%s:%u) failed: RUN %s: the command exited with status %d",
                         b->step, b->n_steps, b->df->path, ins->line, ins->args, status);
    }
  created_by = g_strconcat ("RUN ", ins->args, NULL);
  if (mounts->len > 0)
    {
      if (!rrun_store_find_image (b->store, s->image_id, &cur, error))
        return FALSE;
      rrun_run_mounts_clean_upper (mounts, rrun_container_upper_dir (c), cur->layer_dirs);
    }
  return commit_step (b, s, key, config, rrun_container_upper_dir (c), NULL, created_by, error);
}

static void
heredoc_copy_free (gpointer p)
{
  RrunHeredoc *h = p;
  g_free (h->name);
  g_free (h->content);
  g_free (h);
}

static gboolean
step_copy (Build *b, Stage *s, const RrunInstruction *ins, const char *parent_key,
           GHashTable *used, char **out_key, gboolean *out_hit, GError **error)
{
  g_autoptr(RrunCopyPlan) plan = NULL;
  g_autoptr(RrunStoreTemp) temp = NULL;
  g_autofree char *args = NULL, *key = NULL, *cached = NULL, *tar = NULL, *created_by = NULL;
  const char *from = rrun_instruction_flag (ins, "from");
  g_autofree char *from_x = NULL, *chown = NULL, *checksum = NULL;
  RrunCopySource src = { 0 };
  RrunCopyOptions co = { 0 };
  g_autoptr(RrunImage) from_img = NULL;
  g_autoptr(RrunImage) cur = NULL;
  g_autoptr(GHashTable) all = NULL;
  Stage *from_stage = NULL;
  g_autoptr(GPtrArray) heredocs = NULL;

  if (!expand (b, s, ins, ins->args, used, &args, error))
    return FALSE;
  if (from && !expand (b, s, ins, from, used, &from_x, error))
    return FALSE;
  if (rrun_instruction_flag (ins, "chown")
      && !expand (b, s, ins, rrun_instruction_flag (ins, "chown"), used, &chown, error))
    return FALSE;
  if (!rrun_store_temp_new (b->store, b->map, &temp, error))
    return FALSE;
  if (s->image_id && !rrun_store_find_image (b->store, s->image_id, &cur, error))
    return FALSE;
  if (from_x)
    {
      from_stage = find_stage (b, from_x, s->index);
      if (from_stage && from_stage->image_id == NULL)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "%s:%u: %s: stage \"%s\" has no files", b->df->path, ins->line,
                           ins->keyword, from_x);
      if (!rrun_store_find_image (b->store, from_stage ? from_stage->image_id : from_x,
                                  &from_img, error))
        {
          g_prefix_error (error, "%s:%u: %s --from: ", b->df->path, ins->line, ins->keyword);
          return FALSE;
        }
      src.layer_dirs = from_img->layer_dirs;
    }
  else
    {
      src.context = b->context;
      src.ignore = b->ignore;
    }
  /* Heredocs with an unquoted delimiter have their variables expanded. */
  src.heredocs = g_ptr_array_new_with_free_func (heredoc_copy_free);
  for (guint h = 0; h < ins->heredocs->len; h++)
    {
      const RrunHeredoc *d = ins->heredocs->pdata[h];
      RrunHeredoc *c = g_new0 (RrunHeredoc, 1);
      c->name = g_strdup (d->name);
      c->expand = d->expand;
      g_ptr_array_add (src.heredocs, c);
      if (!d->expand)
        c->content = g_strdup (d->content);
      else if (!expand (b, s, ins, d->content, used, &c->content, error))
        {
          g_ptr_array_unref (src.heredocs);
          return FALSE;
        }
    }
  co.chown = chown;
  co.chmod = rrun_instruction_flag (ins, "chmod");
  if (rrun_instruction_flag (ins, "checksum")
      && !expand (b, s, ins, rrun_instruction_flag (ins, "checksum"), used, &checksum, error))
    return FALSE;
  co.checksum = checksum;
  co.workdir = s->config ? rrun_json_member_string (rrun_build_config_object (s->config),
                                                    "WorkingDir")
                         : NULL;
  co.lower_dirs = cur ? cur->layer_dirs : NULL;
  co.map = b->map;
  co.is_add = strcmp (ins->keyword, "ADD") == 0;
  co.temp_dir = rrun_store_temp_dir (temp);
  co.stat_cache = b->stat_cache;
  heredocs = src.heredocs;
  if (!rrun_copy_plan (&src, args, &co, &plan, error))
    {
      g_prefix_error (error, "%s:%u: %s: ", b->df->path, ins->line, ins->keyword);
      return FALSE;
    }
  all = g_hash_table_ref (s->args);
  key = make_key (parent_key, ins->text, used, all, rrun_copy_plan_digest (plan));
  if ((cached = cache_lookup (b, key)) != NULL)
    {
      *out_hit = TRUE;
      *out_key = g_steal_pointer (&key);
      return stage_set_image (b, s, cached, *out_key, error);
    }
  tar = g_build_filename (rrun_store_temp_dir (temp), "copy.tar", NULL);
  if (!rrun_copy_plan_write_tar (plan, tar, error))
    {
      g_prefix_error (error, "%s:%u: %s: ", b->df->path, ins->line, ins->keyword);
      return FALSE;
    }
  created_by = g_strdup_printf ("%s %s", ins->keyword, args);
  {
    g_autoptr(RrunJson) config = rrun_json_copy (s->config);
    if (!commit_step (b, s, key, config, NULL, tar, created_by, error))
      return FALSE;
  }
  *out_hit = FALSE;
  *out_key = g_steal_pointer (&key);
  return TRUE;
}

static gboolean run_step (Build *b, Stage *s, const RrunInstruction *ins, int *out_status,
                          GError **error);

/* The ONBUILD triggers of the image a stage starts from run right after its FROM, as
   docker runs them, and are not passed on: the stage's image has no OnBuild. */
static gboolean
run_onbuild (Build *b, Stage *s, const RrunInstruction *from, int *out_status, GError **error)
{
  RrunJson *c = s->config ? rrun_build_config_object (s->config) : NULL;
  RrunJson *triggers = c ? rrun_json_member (c, "OnBuild") : NULL;
  g_autoptr(GString) text = g_string_new ("FROM scratch\n");
  g_autofree char *where = NULL;
  g_autoptr(RrunDockerfile) df = NULL;
  guint n;

  if (triggers == NULL || rrun_json_type (triggers) != RRUN_JSON_ARRAY
      || (n = rrun_json_size (triggers)) == 0)
    return TRUE;
  for (guint i = 0; i < n; i++)
    {
      const char *t = rrun_json_string (rrun_json_element (triggers, i));
      if (t)
        g_string_append_printf (text, "%s\n", t);
    }
  /* Removed first: the steps the triggers make carry a config without them. */
  rrun_json_object_set (c, "OnBuild", rrun_json_new_null ());
  where = g_strdup_printf ("%s:%u: ONBUILD trigger of %s", b->df->path, from->line, from->args);
  if (!rrun_dockerfile_parse (text->str, where, &df, error))
    return FALSE;
  b->n_steps += df->instructions->len - 1;
  /* The triggers' steps name "DOCKERFILE:LINE: ONBUILD trigger of IMAGE:N" in errors. */
  {
    RrunDockerfile *outer = b->df;
    gboolean ok = TRUE;
    df->escape = outer->escape;
    b->df = df;
    for (guint i = 1; ok && i < df->instructions->len; i++)
      {
        const RrunInstruction *ins = df->instructions->pdata[i];
        if (strcmp (ins->keyword, "FROM") == 0 || strcmp (ins->keyword, "ONBUILD") == 0
            || strcmp (ins->keyword, "MAINTAINER") == 0)
          ok = rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s:%u: ONBUILD cannot trigger %s",
                           where, ins->line, ins->keyword);
        else
          ok = run_step (b, s, ins, out_status, error);
      }
    b->df = outer;
    return ok;
  }
}

/* One instruction of stage s. */
static gboolean
run_step (Build *b, Stage *s, const RrunInstruction *ins, int *out_status, GError **error)
{
  g_autoptr(GHashTable) used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *key = NULL, *cached = NULL, *args = NULL;
  g_autoptr(GPtrArray) mounts = NULL;
  gboolean hit = FALSE;
  const char *kw = ins->keyword;

  b->step++;
  say (b, "STEP %u/%u: %s", b->step, b->n_steps, ins->text);
  if (strcmp (kw, "FROM") == 0)
    return step_from (b, s, ins, error) && run_onbuild (b, s, ins, out_status, error);
  if (strcmp (kw, "ARG") == 0)
    return step_arg (b, s, ins, s->args, error);
  if (strcmp (kw, "COPY") == 0 || strcmp (kw, "ADD") == 0)
    {
      if (!step_copy (b, s, ins, s->key, used, &key, &hit, error))
        return FALSE;
      if (hit)
        say (b, "--> Using cache %.12s", s->image_id);
      else
        say (b, "--> %.12s", s->image_id);
      return TRUE;
    }
  if (strcmp (kw, "RUN") == 0)
    {
      GHashTableIter it;
      gpointer k;
      g_autofree char *mount_digest = NULL;
      if (!run_mounts (b, s, ins, &mounts, &mount_digest, error))
        return FALSE;
      /* RUN gets every ARG of the stage in its environment: all are in use. */
      g_hash_table_iter_init (&it, s->args);
      while (g_hash_table_iter_next (&it, &k, NULL))
        g_hash_table_add (used, g_strdup (k));
      key = make_key (s->key, ins->text, used, s->args, NULL);
      for (guint h = 0; h < ins->heredocs->len; h++)
        {
          g_autofree char *k2 = make_key (key, ((RrunHeredoc *) ins->heredocs->pdata[h])->content,
                                          NULL, NULL, NULL);
          g_free (key);
          key = g_steal_pointer (&k2);
        }
      if (*mount_digest)
        {
          g_autofree char *k2 = make_key (key, "--mount", NULL, NULL, mount_digest);
          g_free (key);
          key = g_steal_pointer (&k2);
        }
    }
  else
    {
      if (strcmp (kw, "ONBUILD") == 0 || strcmp (kw, "CMD") == 0 || strcmp (kw, "ENTRYPOINT") == 0
          || strcmp (kw, "SHELL") == 0 || strcmp (kw, "HEALTHCHECK") == 0)
        args = g_strdup (ins->args);
      else if (!expand (b, s, ins, ins->args, used, &args, error))
        return FALSE;
      key = make_key (s->key, ins->text, used, s->args, args);
    }
  if ((cached = cache_lookup (b, key)) != NULL)
    {
      say (b, "--> Using cache %.12s", cached);
      if (!stage_set_image (b, s, cached, key, error))
        return FALSE;
    }
  else if (strcmp (kw, "RUN") == 0)
    {
      if (!step_run (b, s, ins, key, mounts, out_status, error))
        return FALSE;
      say (b, "--> %.12s", s->image_id);
    }
  else
    {
      g_autoptr(RrunJson) config = rrun_json_copy (s->config);
      g_autofree char *created_by = g_strdup_printf ("/bin/sh -c #(nop) %s %s", kw, args);
      const char *keyword = strcmp (kw, "MAINTAINER") == 0 ? "LABEL" : kw;
      g_autofree char *value = strcmp (kw, "MAINTAINER") == 0
                                   ? g_strdup_printf ("maintainer=\"%s\"", args)
                                   : g_strdup (args);

      if (!rrun_build_config_apply (config, keyword, value, (const char *const *) s->shell,
                                    error))
        {
          g_prefix_error (error, "%s:%u: ", b->df->path, ins->line);
          return FALSE;
        }
      if (!commit_step (b, s, key, config, NULL, NULL, created_by, error))
        return FALSE;
      say (b, "--> %.12s", s->image_id);
    }
  if (strcmp (kw, "SHELL") == 0)
    {
      g_strfreev (s->shell);
      s->shell = rrun_build_parse_exec_form (ins->args);
    }
  return TRUE;
}

/* ---- the build ---------------------------------------------------------------------- */

static gboolean
read_dockerfile (Build *b, char **out_text, char **out_path, GError **error)
{
  const RrunBuildOptions *o = b->o;
  g_autofree char *path = NULL;

  if (o->dockerfile_text)
    {
      *out_text = g_strdup (o->dockerfile_text);
      *out_path = g_strdup ("Dockerfile");
      return TRUE;
    }
  if (o->dockerfile)
    path = g_strdup (o->dockerfile);
  else
    {
      path = g_build_filename (b->context, "Dockerfile", NULL);
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_autofree char *alt = g_build_filename (b->context, "Containerfile", NULL);
          if (g_file_test (alt, G_FILE_TEST_EXISTS))
            g_free (path), path = g_steal_pointer (&alt);
        }
    }
  if (!g_file_get_contents (path, out_text, NULL, NULL))
    {
      rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot read \"%s\": %s", path,
                  g_strerror (errno));
      if (o->dockerfile == NULL)
        rrun_add_hint (error, "put a Dockerfile (or Containerfile) in the context, or name one "
                              "with -f FILE");
      return FALSE;
    }
  *out_path = g_steal_pointer (&path);
  return TRUE;
}

static gboolean
read_ignore (Build *b, GError **error)
{
  const char *names[] = { ".containerignore", ".dockerignore" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (b->context, names[i], NULL);
      g_autofree char *text = NULL;
      if (g_file_get_contents (path, &text, NULL, NULL))
        return rrun_ignore_parse (text, &b->ignore, error);
    }
  return TRUE;
}

/* Mark stage i and the stages it uses (FROM, COPY --from) as needed. */
static void
mark_needed (Build *b, guint i)
{
  Stage *s = b->stages->pdata[i];

  if (s->needed)
    return;
  s->needed = TRUE;
  for (guint k = s->first; k <= s->last; k++)
    {
      const RrunInstruction *ins = b->df->instructions->pdata[k];
      g_autofree char *ref = NULL;
      Stage *dep;

      if (k == s->first)
        {
          g_auto(GStrv) words = NULL;
          Scope sc = { NULL, b };
          g_autofree char *text = NULL;
          if (!rrun_build_expand (ins->args, b->df->escape, lookup, &sc, NULL, &text, NULL))
            continue;
          words = rrun_build_split_words (text);
          ref = g_strdup (words[0]);
        }
      else if (rrun_instruction_flag (ins, "from"))
        ref = g_strdup (rrun_instruction_flag (ins, "from"));
      if (ref && (dep = find_stage (b, ref, i)) != NULL)
        mark_needed (b, dep->index);
    }
}

static gboolean
tag_image (RrunStore *store, const char *id, const char *name, GError **error)
{
  g_autoptr(RrunStoreImageBlobs) blobs = NULL;
  g_autoptr(RrunImage) img = NULL;
  g_autoptr(GArray) lb = g_array_new (FALSE, TRUE, sizeof (RrunStoreBlob));
  g_autoptr(GPtrArray) chains = g_ptr_array_new ();
  RrunStoreImageSpec spec = { 0 };
  g_autofree char *got = NULL;

  if (!rrun_store_find_image (store, id, &img, error)
      || !rrun_store_open_image_blobs (store, id, &blobs, error))
    return FALSE;
  for (guint i = 0; i < img->layer_ids->len; i++)
    {
      RrunStoreBlob sb = { 0 };
      const RrunBlobInfo *info = i < blobs->layer_blobs->len ? blobs->layer_blobs->pdata[i] : NULL;
      if (info)
        sb.digest = info->digest, sb.media_type = info->media_type, sb.size = info->size;
      g_array_append_val (lb, sb);
      g_ptr_array_add (chains, img->layer_ids->pdata[i]);
    }
  g_ptr_array_add (chains, NULL);
  spec.config = g_bytes_get_data (blobs->config, &spec.config_len);
  spec.chain_ids = (const char *const *) chains->pdata;
  spec.name = name;
  spec.layer_blobs = (const RrunStoreBlob *) lb->data;
  return rrun_store_add_image_spec (store, &spec, &got, error);
}

gboolean
rrun_build_image (const RrunConfig *config, RrunStore *store, const RrunIdMap *map,
                  const RrunBuildOptions *o, char **out_id, int *out_status, GError **error)
{
  g_autofree char *text = NULL, *path = NULL;
  g_autoptr(RrunDockerfile) df = NULL;
  g_autoptr(GPtrArray) stages = g_ptr_array_new_with_free_func (stage_free);
  g_autoptr(GHashTable) build_args = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) global_args = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *cache_dir = NULL, *context = NULL, *mount_cache_root = NULL;
  g_autoptr(GHashTable) secrets = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                         (GDestroyNotify) rrun_build_secret_free);
  g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_image_free);
  g_autoptr(RrunStatCache) stat_cache = NULL;
  g_autofree char *stat_cache_dir = NULL;
  Build b = { 0 };
  Stage *target = NULL;
  gboolean ok = FALSE;

  *out_status = 125;
  context = g_canonicalize_filename (o->context, NULL);
  if (!g_file_test (context, G_FILE_TEST_IS_DIR))
    return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "the build context \"%s\" is not a directory",
                       o->context);
  b.config = config;
  b.store = store;
  b.map = map;
  b.o = o;
  b.context = context;
  b.stages = stages;
  b.build_args = build_args;
  b.global_args = global_args;
  b.secrets = secrets;
  b.held = held;
  b.mount_cache_root = mount_cache_root
      = g_build_filename (rrun_store_root (store), "build-cache-mounts", NULL);
  stat_cache_dir = g_build_filename (rrun_store_root (store), "build-stat-cache", NULL);
  b.stat_cache = stat_cache = rrun_stat_cache_open (stat_cache_dir, context);
  for (guint i = 0; o->secrets && o->secrets[i]; i++)
    {
      RrunBuildSecret *sec = NULL;
      if (!rrun_build_secret_parse (o->secrets[i], &sec, error))
        return FALSE;
      g_hash_table_replace (secrets, sec->id, sec);
    }
  cache_dir = g_build_filename (rrun_store_root (store), "build-cache", NULL);
  if (g_mkdir_with_parents (cache_dir, 0700) < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", cache_dir);
  b.cache_dir = cache_dir;
  for (guint i = 0; o->build_args && o->build_args[i]; i++)
    {
      const char *eq = strchr (o->build_args[i], '=');
      if (eq)
        g_hash_table_replace (build_args, g_strndup (o->build_args[i], eq - o->build_args[i]),
                              g_strdup (eq + 1));
      else if (g_getenv (o->build_args[i]))
        g_hash_table_replace (build_args, g_strdup (o->build_args[i]),
                              g_strdup (g_getenv (o->build_args[i])));
    }
  /* docker's automatic platform ARGs: in the global scope (FROM lines), and in a stage
     after "ARG TARGETARCH" and the like. Only this machine's platform is built. */
  {
    const char *arch = rrun_store_host_architecture ();
    g_autofree char *plat = g_strconcat ("linux/", arch, NULL);
    const char *names[] = { "TARGETPLATFORM", "BUILDPLATFORM", NULL };
    for (guint i = 0; names[i]; i++)
      g_hash_table_replace (global_args, g_strdup (names[i]), g_strdup (plat));
    g_hash_table_replace (global_args, g_strdup ("TARGETOS"), g_strdup ("linux"));
    g_hash_table_replace (global_args, g_strdup ("BUILDOS"), g_strdup ("linux"));
    g_hash_table_replace (global_args, g_strdup ("TARGETARCH"), g_strdup (arch));
    g_hash_table_replace (global_args, g_strdup ("BUILDARCH"), g_strdup (arch));
    g_hash_table_replace (global_args, g_strdup ("TARGETVARIANT"), g_strdup (""));
    g_hash_table_replace (global_args, g_strdup ("BUILDVARIANT"), g_strdup (""));
  }
  if (!read_dockerfile (&b, &text, &path, error)
      || !rrun_dockerfile_parse (text, path, &df, error) || !read_ignore (&b, error))
    goto out;
  b.df = df;
  /* Stages, and the global ARGs before the first FROM. */
  for (guint i = 0; i < df->instructions->len; i++)
    {
      const RrunInstruction *ins = df->instructions->pdata[i];
      if (strcmp (ins->keyword, "FROM") == 0)
        {
          Stage *s = g_new0 (Stage, 1);
          g_auto(GStrv) words = rrun_build_split_words (ins->args);
          s->index = stages->len;
          s->first = s->last = i;
          if (g_strv_length (words) == 3 && g_ascii_strcasecmp (words[1], "AS") == 0)
            s->name = g_ascii_strdown (words[2], -1);
          g_ptr_array_add (stages, s);
        }
      else if (stages->len > 0)
        ((Stage *) stages->pdata[stages->len - 1])->last = i;
      else if (!step_arg (&b, NULL, ins, global_args, error))
        goto out;
    }
  if (o->target)
    {
      target = find_stage (&b, o->target, stages->len);
      if (target == NULL)
        {
          rrun_throw (error, RRUN_ERROR_NOT_FOUND, "no stage \"%s\" in %s", o->target, path);
          goto out;
        }
    }
  else
    target = stages->pdata[stages->len - 1];
  mark_needed (&b, target->index);
  for (guint i = 0; i <= target->index; i++)
    {
      Stage *s = stages->pdata[i];
      if (s->needed)
        b.n_steps += s->last - s->first + 1;
    }
  for (guint i = 0; i <= target->index; i++)
    {
      Stage *s = stages->pdata[i];
      if (!s->needed)
        continue;
      for (guint k = s->first; k <= s->last; k++)
        if (!run_step (&b, s, df->instructions->pdata[k], out_status, error))
          goto out;
    }
  /* --label, then an image even for a scratch stage with no step. */
  for (guint i = 0; o->labels && o->labels[i]; i++)
    {
      g_autoptr(RrunJson) cfg = rrun_json_copy (target->config);
      g_autofree char *key = make_key (target->key, "--label", NULL, NULL, o->labels[i]);
      g_autofree char *cached = cache_lookup (&b, key);
      RrunJson *labels;
      const char *eq = strchr (o->labels[i], '=');
      g_autofree char *name = eq ? g_strndup (o->labels[i], eq - o->labels[i]) : g_strdup (o->labels[i]);

      if (cached)
        {
          if (!stage_set_image (&b, target, cached, key, error))
            goto out;
          continue;
        }
      labels = rrun_json_member (rrun_build_config_object (cfg), "Labels");
      if (labels == NULL || rrun_json_type (labels) != RRUN_JSON_OBJECT)
        {
          rrun_json_object_set (rrun_build_config_object (cfg), "Labels", rrun_json_new_object ());
          labels = rrun_json_member (rrun_build_config_object (cfg), "Labels");
        }
      rrun_json_object_set (labels, name, rrun_json_new_string (eq ? eq + 1 : ""));
      if (!commit_step (&b, target, key, cfg, NULL, NULL, NULL, error))
        goto out;
    }
  if (target->image_id == NULL)
    {
      g_autoptr(RrunJson) cfg = rrun_json_copy (target->config);
      g_autofree char *key = make_key (target->key, "empty", NULL, NULL, NULL);
      g_autofree char *cached = cache_lookup (&b, key);
      if (cached ? !stage_set_image (&b, target, cached, key, error)
                 : !commit_step (&b, target, key, cfg, NULL, NULL, NULL, error))
        goto out;
    }
  for (guint i = 0; o->tags && o->tags[i]; i++)
    {
      if (!tag_image (store, target->image_id, o->tags[i], error))
        goto out;
      say (&b, "Successfully tagged %s", o->tags[i]);
    }
  *out_id = g_strdup (target->image_id);
  *out_status = 0;
  ok = TRUE;
out:
  rrun_ignore_free (b.ignore);
  {
    g_autoptr(GError) local = NULL;
    if (!rrun_stat_cache_save (stat_cache, &local))
      rrun_warning ("cannot keep the build context's stat cache: %s", local->message);
  }
  rrun_info ("build context: %u files read to digest them (the others from the stat cache)",
          rrun_stat_cache_reads (stat_cache));
  return ok;
}

gboolean
rrun_build_prune_cache (RrunStore *store, const RrunIdMap *map, guint *out_entries,
                        guint *out_removed, GError **error)
{
  g_autofree char *dir = g_build_filename (rrun_store_root (store), "build-cache", NULL);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr(GHashTable) ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *name;
  guint entries = 0, removed = 0;
  GHashTableIter it;
  gpointer id;

  while (d && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *text = NULL;
      if (g_file_get_contents (path, &text, NULL, NULL))
        g_hash_table_add (ids, g_strdup (g_strstrip (text)));
      if (unlink (path) < 0 && errno != ENOENT)
        return rrun_throw_errno (error, errno, "cannot remove \"%s\"", path);
      entries++;
    }
  g_hash_table_iter_init (&it, ids);
  while (g_hash_table_iter_next (&it, &id, NULL))
    {
      g_autoptr(RrunImage) img = NULL;
      g_autoptr(GError) local = NULL;
      g_autofree char *gone = NULL;

      if (strlen (id) != 64 || !rrun_store_find_image (store, id, &img, NULL)
          || (img->names && img->names[0]) || img->read_only_store)
        continue;
      /* Refused while a container uses it: it stays, as a dangling image. */
      if (rrun_store_remove_image (store, map, id, FALSE, &gone, &local) && gone)
        removed++;
    }
  {
    g_autofree char *stat_dir = g_build_filename (rrun_store_root (store), "build-stat-cache", NULL);
    g_autoptr(GDir) sd = g_dir_open (stat_dir, 0, NULL);
    while (sd && (name = g_dir_read_name (sd)) != NULL)
      {
        g_autofree char *path = g_build_filename (stat_dir, name, NULL);
        if (unlink (path) < 0 && errno != ENOENT)
          return rrun_throw_errno (error, errno, "cannot remove \"%s\"", path);
      }
  }
  *out_entries = entries;
  *out_removed = removed;
  return TRUE;
}
