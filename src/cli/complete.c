/* Shell completion from the command table itself: `rrun __complete WORD... CUR` walks the
   same GOptionContexts the commands parse (each command, called in "describe" mode,
   hands its context to rrun_cli_parse or rrun_cli_parse_args and returns at once), so a
   new command or option completes with no edit here. `rrun completion bash|zsh|fish`
   prints the small script that calls it. */
#include "cli/cli.h"
#include "container/record.h"
#include "error.h"
#include "log.h"
#include "storage/image.h"
#include "storage/store.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct
{
  char short_name;
  char *long_name;
  gboolean takes_arg;
  char *arg; /* metavar: "FILE", "MODE" (NULL when none) */
  char *description;
} Option;

typedef struct
{
  GPtrArray *options;        /* Option */
  char **operands;           /* the usage line's operand words: "IMAGE", "[COMMAND", ... */
  gboolean strict;           /* options end at the first operand (run, exec) */
  const RrunCommand *subs;   /* a command group's table */
  gboolean seen;             /* the command reached its option parsing */
} Node;

static Node *describing;

static void
option_free (gpointer p)
{
  Option *o = p;

  g_free (o->long_name);
  g_free (o->arg);
  g_free (o->description);
  g_free (o);
}

static void
node_clear (Node *n)
{
  g_clear_pointer (&n->options, g_ptr_array_unref);
  g_clear_pointer (&n->operands, g_strfreev);
}

gboolean
rrun_cli_describing (void)
{
  return describing != NULL;
}

/* Whether --NAME of ctx takes a value when its help shows no metavar: parse "--NAME"
   alone, which fails with "missing argument" if it does. */
static gboolean
probe_takes_arg (GOptionContext *ctx, const char *long_name)
{
  g_autofree char *flag = g_strconcat ("--", long_name, NULL);
  char *args[] = { (char *) "rrun", flag, NULL };
  char **argv = args;
  int argc = 2;
  g_autoptr(GError) local = NULL;

  return !g_option_context_parse (ctx, &argc, &argv, &local);
}

void
rrun_cli_describe_context (GOptionContext *ctx, gboolean strict)
{
  g_autofree char *help = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GRegex) opt_re = NULL;
  Node *n = describing;

  if (n == NULL || n->seen)
    return;
  n->seen = TRUE;
  n->strict = strict;
  n->options = g_ptr_array_new_with_free_func (option_free);
  /* Every group's entries, hidden ones left out: the help text is the table as GOption
     holds it. */
  help = g_option_context_get_help (ctx, FALSE, NULL);
  lines = g_strsplit (help, "\n", -1);
  opt_re = g_regex_new ("^\\s+(?:-(.), )?--([A-Za-z0-9][A-Za-z0-9_-]*)(?:=(\\S+))?\\s*(.*)$", 0,
                        0, NULL);
  for (guint i = 0; lines[i]; i++)
    {
      g_autoptr(GMatchInfo) m = NULL;
      g_autofree char *s = NULL, *l = NULL, *a = NULL, *d = NULL;
      Option *o;

      if (i > 0 && g_str_has_prefix (lines[i - 1], "Usage:") && n->operands == NULL)
        {
          /* "  PROGRAM [OPTION…] IMAGE [COMMAND [ARG...]]" */
          const char *p = strstr (lines[i], "]");
          n->operands = g_strsplit_set (p ? p + 1 : "", " ", -1);
          continue;
        }
      if (!g_regex_match (opt_re, lines[i], 0, &m))
        continue;
      s = g_match_info_fetch (m, 1);
      l = g_match_info_fetch (m, 2);
      a = g_match_info_fetch (m, 3);
      d = g_match_info_fetch (m, 4);
      o = g_new0 (Option, 1);
      o->short_name = s && *s ? s[0] : 0;
      o->long_name = g_steal_pointer (&l);
      o->arg = a && *a ? g_steal_pointer (&a) : NULL;
      o->description = g_strdup (g_strstrip (d));
      /* GOption's own --help-* options print and exit: never probed. */
      o->takes_arg = o->arg != NULL
                     || (!g_str_has_prefix (o->long_name, "help")
                         && probe_takes_arg (ctx, o->long_name));
      g_ptr_array_add (n->options, o);
    }
  if (n->operands == NULL)
    n->operands = g_new0 (char *, 1);
}

void
rrun_cli_describe_group (const RrunCommand *table)
{
  if (describing != NULL && !describing->seen)
    {
      describing->seen = TRUE;
      describing->subs = table;
    }
}

/* Call a command (or the global option parser, cmd NULL) in describe mode: it stops at
   its option parsing, which records into n. A command must parse with rrun_cli_parse or
   rrun_cli_parse_args before it does anything (tests/completion.sh checks that each one
   is read); one that parses nothing (help) runs, with stdin and stdout on /dev/null. */
static void
describe (RrunGlobal *g, const RrunCommand *cmd, Node *n)
{
  char *argv_buf[] = { cmd ? (char *) cmd->name : (char *) "rrun", NULL };
  char **argv = argv_buf;
  int argc = 1, status = 0, saved_in, saved_out, saved_err, null_fd, null_in;
  g_autoptr(GError) local = NULL;

  fflush (stdout);
  fflush (stderr);
  saved_in = dup (STDIN_FILENO);
  saved_out = dup (STDOUT_FILENO);
  saved_err = dup (STDERR_FILENO);
  /* and nothing to read: a question (rrun_cli_confirm) is answered no */
  null_in = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_in >= 0)
    {
      dup2 (null_in, STDIN_FILENO);
      close (null_in);
    }
  null_fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null_fd >= 0)
    {
      dup2 (null_fd, STDOUT_FILENO);
      dup2 (null_fd, STDERR_FILENO);
      close (null_fd);
    }
  describing = n;
  if (cmd == NULL)
    {
      RrunGlobal dummy = { 0 };
      rrun_cli_parse_global (&dummy, &argc, &argv, &local);
    }
  else
    cmd->func (g, argc, argv, &status, &local);
  describing = NULL;
  fflush (stdout);
  fflush (stderr);
  if (saved_in >= 0)
    {
      dup2 (saved_in, STDIN_FILENO);
      close (saved_in);
    }
  if (saved_out >= 0)
    {
      dup2 (saved_out, STDOUT_FILENO);
      close (saved_out);
    }
  if (saved_err >= 0)
    {
      dup2 (saved_err, STDERR_FILENO);
      close (saved_err);
    }
  if (n->options == NULL)
    n->options = g_ptr_array_new_with_free_func (option_free);
  if (n->operands == NULL)
    n->operands = g_new0 (char *, 1);
}

/* ---- values ------------------------------------------------------------------------- */

typedef struct
{
  GString *out;
  const char *cur;
} Out;

static void
add (Out *o, const char *word, const char *description)
{
  if (!g_str_has_prefix (word, o->cur))
    return;
  g_string_append (o->out, word);
  if (description && *description)
    {
      g_autofree char *d = g_strdelimit (g_strdup (description), "\t\n", ' ');
      g_string_append_printf (o->out, "\t%s", d);
    }
  g_string_append_c (o->out, '\n');
}

static void
add_containers (RrunGlobal *g, Out *o, const char *prefix)
{
  g_autoptr(GPtrArray) states = NULL;

  if (g->config == NULL || !rrun_state_list_all (g->config, TRUE, &states, NULL))
    return;
  for (guint i = 0; i < states->len; i++)
    {
      RrunState *s = states->pdata[i];
      g_autofree char *id = g_strndup (s->id, 12);
      g_autofree char *w1 = g_strconcat (prefix, id, NULL);

      if (s->name)
        {
          g_autofree char *w2 = g_strconcat (prefix, s->name, NULL);
          add (o, w2, id);
        }
      add (o, w1, s->name);
    }
}

static void
add_images (RrunGlobal *g, Out *o)
{
  g_autoptr(RrunStore) store = NULL;
  g_autoptr(GPtrArray) images = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (g->config == NULL || !rrun_store_open (g->config, &store, NULL)
      || !rrun_store_list_images (store, &images, NULL))
    return;
  for (guint i = 0; i < images->len; i++)
    {
      RrunImage *img = images->pdata[i];
      g_autofree char *id = g_strndup (img->id, 12);

      for (guint k = 0; img->names[k]; k++)
        {
          const char *name = img->names[k];
          const char *shorter = NULL;

          if (g_str_has_prefix (name, "docker.io/library/"))
            shorter = name + strlen ("docker.io/library/");
          else if (g_str_has_prefix (name, "localhost/"))
            shorter = name + strlen ("localhost/");
          if (g_hash_table_add (seen, g_strdup (name)))
            add (o, name, id);
          if (shorter && g_hash_table_add (seen, g_strdup (shorter)))
            add (o, shorter, id);
        }
      if (img->names[0] == NULL)
        add (o, id, "<none>");
    }
}

/* Names a listing command prints with -q ("volume ls -q"), when the command exists. */
static void
add_listed (RrunGlobal *g, Out *o, const char *group)
{
  const RrunCommand *c = rrun_cli_find_command (group);
  g_autofree char *text = NULL;
  g_auto(GStrv) words = NULL;
  char *argv[] = { (char *) group, (char *) "ls", (char *) "-q", NULL };
  int status = 0, pipe_fd[2], saved_out;
  g_autoptr(GError) local = NULL;
  GString *buf = g_string_new (NULL);
  char chunk[4096];
  ssize_t r;

  if (c == NULL || c->hidden || pipe (pipe_fd) < 0)
    {
      g_string_free (buf, TRUE);
      return;
    }
  /* The listing is small: a pipe holds it (64 KiB) while the command writes. */
  fflush (stdout);
  saved_out = dup (STDOUT_FILENO);
  dup2 (pipe_fd[1], STDOUT_FILENO);
  close (pipe_fd[1]);
  c->func (g, 3, argv, &status, &local);
  fflush (stdout);
  dup2 (saved_out, STDOUT_FILENO);
  close (saved_out);
  while ((r = read (pipe_fd[0], chunk, sizeof chunk)) > 0)
    g_string_append_len (buf, chunk, r);
  close (pipe_fd[0]);
  text = g_string_free (buf, FALSE);
  words = g_strsplit (text, "\n", -1);
  for (guint i = 0; words[i]; i++)
    if (*g_strstrip (words[i]))
      add (o, words[i], NULL);
}

/* The values of one kind: a word of a usage line or an option's metavar ("CONTAINER",
   "IMAGE...", "[FILE]", "bash|zsh|fish"), or an option's long name for the options whose
   values are a fixed set. Returns the shell's fallback: "files", "dirs" or NULL. */
static const char *
add_values (RrunGlobal *g, Out *o, const char *option, const char *word, int position)
{
  static const struct
  {
    const char *option;
    const char *values;
  } fixed[] = {
    { "pull", "missing always never" },
    { "userns", "auto keep-id nomap single" },
    { "storage-driver", "overlay fuse-overlayfs" },
    { "cgroups", "enabled disabled" },
    { "ipc", "private host shareable none container:" },
    { "pid", "private host container:" },
    { "uts", "private host" },
    { "cgroupns", "private host" },
    { "sdnotify", "container conmon ignore" },
    { "image-volume", "bind tmpfs ignore" },
    { "personality", "LINUX LINUX32" },
    { "type", "container image all" },
    { "tls-verify", "true false" },
    { "format", "table json" },
  };
  g_autofree char *w = g_strdup (word ? word : "");

  g_strdelimit (w, "[]", ' ');
  g_strstrip (w);
  if (g_str_has_suffix (w, "..."))
    w[strlen (w) - 3] = '\0';
  if (g_strcmp0 (option, "log-level") == 0)
    {
      for (const char *const *l = rrun_log_level_names (); *l; l++)
        add (o, *l, NULL);
      return NULL;
    }
  if ((g_strcmp0 (option, "pid") == 0 || g_strcmp0 (option, "ipc") == 0)
      && g_str_has_prefix (o->cur, "container:"))
    {
      add_containers (g, o, "container:");
      return NULL;
    }
  if (g_strcmp0 (option, "network") == 0 || g_strcmp0 (option, "net") == 0)
    {
      /* --network: docker's modes, the containers to share a namespace with, and named
         networks when `rrun network` exists. */
      static const char *modes[][2] = {
        { "slirp", "user-mode networking (default)" }, { "none", "loopback only" },
        { "host", "the host's network namespace" },
      };
      for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
        add (o, modes[i][0], modes[i][1]);
      if (g_str_has_prefix (o->cur, "container:"))
        add_containers (g, o, "container:");
      else
        {
          add (o, "container:", "share a container's network namespace");
          add (o, "ns:", "join the network namespace at PATH");
        }
      add_listed (g, o, "network");
      return NULL;
    }
  for (guint i = 0; option && i < G_N_ELEMENTS (fixed); i++)
    if (strcmp (option, fixed[i].option) == 0)
      {
        g_auto(GStrv) v = g_strsplit (fixed[i].values, " ", -1);
        for (guint k = 0; v[k]; k++)
          add (o, v[k], NULL);
        return NULL;
      }
  if (strchr (w, '|'))
    {
      g_auto(GStrv) v = g_strsplit (w, "|", -1);
      for (guint k = 0; v[k]; k++)
        add (o, v[k], NULL);
      return NULL;
    }
  if (strstr (w, "CONTAINER"))
    {
      add_containers (g, o, "");
      return NULL;
    }
  if (strstr (w, "IMAGE") || strcmp (w, "REF") == 0)
    {
      add_images (g, o);
      return NULL;
    }
  if (strcmp (w, "NAME") == 0 && position == 0 && option == NULL)
    {
      /* inspect NAME...: containers, then images */
      add_containers (g, o, "");
      add_images (g, o);
      return NULL;
    }
  if (strstr (w, "NETWORK"))
    {
      add_listed (g, o, "network");
      return NULL;
    }
  if (strstr (w, "VOLUME") || g_strcmp0 (option, "volume") == 0)
    {
      add_listed (g, o, "volume");
      return option ? "dirs" : NULL;
    }
  if (strstr (w, "DIR") || strstr (w, "CONTEXT"))
    return "dirs";
  if (strstr (w, "FILE") || strstr (w, "PATH") || strstr (w, "TAR") || strstr (w, "ARCHIVE"))
    return "files";
  if (strcmp (w, "COMMAND") == 0 && position < 0)
    {
      for (const RrunCommand *c = rrun_cli_commands (); c->name; c++)
        if (!c->hidden)
          add (o, c->name, c->summary);
      return NULL;
    }
  return NULL;
}

/* ---- the walk ------------------------------------------------------------------------ */

static const Option *
find_option (const Node *n, const char *word)
{
  for (guint i = 0; i < n->options->len; i++)
    {
      const Option *o = n->options->pdata[i];

      if (word[1] == '-')
        {
          size_t len = strcspn (word + 2, "=");
          if (strlen (o->long_name) == len && strncmp (o->long_name, word + 2, len) == 0)
            return o;
        }
      else if (o->short_name && o->short_name == word[strlen (word) - 1])
        return o; /* "-it": the last of a group may take a value */
    }
  return NULL;
}

/* The operand word of position (0 first) in the usage line, repeating a trailing "X...". */
static const char *
operand_word (const Node *n, int position)
{
  guint count = 0;
  const char *last = NULL;

  for (guint i = 0; n->operands[i]; i++)
    {
      if (*n->operands[i] == '\0')
        continue;
      if (strcmp (n->operands[i], "-") == 0)
        break; /* "REGISTRY - log in to a registry": a description follows */
      if ((int) count == position)
        return n->operands[i];
      last = n->operands[i];
      count++;
    }
  return last && strstr (last, "...") ? last : NULL;
}

/* How many operands the usage line names before the command line of the container
   ("IMAGE [COMMAND [ARG...]]": 1), or -1 when it names no COMMAND. */
static int
operands_before_command (const Node *n)
{
  int count = 0;

  for (guint i = 0; n->operands[i]; i++)
    {
      g_autofree char *w = g_strdup (n->operands[i]);

      g_strdelimit (w, "[]", ' ');
      g_strstrip (w);
      if (*w == '\0')
        continue;
      if (strcmp (w, "COMMAND") == 0)
        return count;
      count++;
    }
  return -1;
}

static void
complete_options (const Node *n, Out *o)
{
  for (guint i = 0; i < n->options->len; i++)
    {
      const Option *opt = n->options->pdata[i];
      g_autofree char *l = g_strconcat ("--", opt->long_name, NULL);

      add (o, l, opt->description);
      if (opt->short_name && !g_str_has_prefix (o->cur, "--"))
        {
          char s[3] = { '-', opt->short_name, '\0' };
          add (o, s, opt->description);
        }
    }
}

/* The first line of stdout is the candidates' directive for the shell ("files", "dirs",
   "nospace" or "none"), then "WORD\tDESCRIPTION" lines. */
static void
complete (RrunGlobal *g, int nwords, char **words, GString *out)
{
  Node nodes[8] = { { 0 } };
  guint depth = 0;
  Node *n = &nodes[0];
  const RrunCommand *table = rrun_cli_commands ();
  const char *cur = nwords > 0 ? words[nwords - 1] : "";
  const RrunCommand *top = NULL;
  const char *root = NULL, *runroot = NULL;
  RrunConfig *own_config = NULL, *saved_config = g->config;
  const Option *pending = NULL; /* the option the current word is the value of */
  const char *fallback = NULL;
  gboolean options_done = FALSE, in_command = FALSE;
  int position = 0;
  Out o = { g_string_new (NULL), cur };

  describe (g, NULL, n);
  for (int i = 0; i < nwords - 1; i++)
    {
      const char *w = words[i];
      const Option *opt;

      if (pending)
        {
          /* --root and --runroot before the command: the names listed are theirs */
          if (depth == 0 && strcmp (pending->long_name, "root") == 0)
            root = w;
          else if (depth == 0 && strcmp (pending->long_name, "runroot") == 0)
            runroot = w;
          pending = NULL;
          continue;
        }
      if (!options_done && strcmp (w, "--") == 0)
        {
          options_done = TRUE;
          continue;
        }
      if (!options_done && w[0] == '-' && w[1] != '\0')
        {
          opt = find_option (n, w);
          if (depth == 0 && opt && strchr (w, '=') && strcmp (opt->long_name, "root") == 0)
            root = strchr (w, '=') + 1;
          else if (depth == 0 && opt && strchr (w, '=')
                   && strcmp (opt->long_name, "runroot") == 0)
            runroot = strchr (w, '=') + 1;
          if (opt && opt->takes_arg && !strchr (w, '=')
              && (w[1] == '-' || w[strlen (w) - 1] == opt->short_name))
            pending = opt;
          continue;
        }
      /* An operand. */
      if (position == 0 && (depth == 0 || n->subs))
        {
          const RrunCommand *c = NULL;

          for (const RrunCommand *t = depth == 0 ? table : n->subs; t && t->name; t++)
            if (strcmp (t->name, w) == 0)
              c = t;
          if (c == NULL && depth == 0)
            {
              in_command = TRUE; /* `rrun IMAGE COMMAND...`: the container's command */
              break;
            }
          if (c != NULL && depth + 1 < G_N_ELEMENTS (nodes))
            {
              n = &nodes[++depth];
              if (depth == 1)
                top = c;
              describe (g, c, n);
              continue;
            }
        }
      if (n->strict)
        options_done = TRUE;
      position++;
      if (operands_before_command (n) >= 0 && position >= operands_before_command (n))
        {
          in_command = TRUE;
          break;
        }
    }

  if ((root || runroot) && rrun_config_load (root, runroot, &own_config, NULL))
    g->config = own_config;
  if (in_command)
    fallback = "files";
  else if (pending)
    fallback = add_values (g, &o, pending->long_name, pending->arg, 0);
  else if (!options_done && g_str_has_prefix (cur, "--") && strchr (cur, '='))
    {
      const Option *opt = find_option (n, cur);
      g_autofree char *prefix = g_strndup (cur, strchr (cur, '=') + 1 - cur);
      Out inner = { g_string_new (NULL), strchr (cur, '=') + 1 };

      if (opt && opt->takes_arg)
        fallback = add_values (g, &inner, opt->long_name, opt->arg, 0);
      /* Values come back as "--opt=value", as the word the shell completes. */
      {
        g_auto(GStrv) lines = g_strsplit (inner.out->str, "\n", -1);
        for (guint i = 0; lines[i]; i++)
          if (*lines[i])
            g_string_append_printf (o.out, "%s%s\n", prefix, lines[i]);
      }
      g_string_free (inner.out, TRUE);
    }
  else if (!options_done && cur[0] == '-')
    complete_options (n, &o);
  else if (position == 0 && (depth == 0 || n->subs))
    {
      for (const RrunCommand *t = depth == 0 ? table : n->subs; t && t->name; t++)
        if (!t->hidden)
          add (&o, t->name, t->summary);
    }
  else if (depth == 1 && top != NULL && strcmp (top->name, "help") == 0)
    add_values (g, &o, NULL, "COMMAND", -1);
  else
    fallback = add_values (g, &o, NULL, operand_word (n, position), position);

  /* A value the user goes on typing ("container:") takes no space after it. */
  if (fallback == NULL && g_str_has_suffix (o.out->str, ":\n"))
    fallback = "nospace";
  g_string_append_printf (out, "%s\n%s", fallback ? fallback : "none", o.out->str);
  g_string_free (o.out, TRUE);
  g->config = saved_config;
  rrun_config_free (own_config);
  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++)
    node_clear (&nodes[i]);
}

gboolean
rrun_cmd_complete (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autoptr(GString) out = g_string_new (NULL);

  /* No option parsing of its own: every word after __complete is the command line being
     completed, its last the word under the cursor ("" for a new one). */
  complete (g, argc - 1, argv + 1, out);
  fputs (out->str, stdout);
  *out_status = 0;
  return TRUE;
}

/* ---- the scripts --------------------------------------------------------------------- */

static const char bash_script[] =
  "# bash completion for rrun. Generated by `rrun completion bash`: the candidates come\n"
  "# from `rrun __complete`, which reads rrun's own option tables.\n"
  "_rrun() {\n"
  "  local cur words cword\n"
  "  # Whole words: bash splits \"--network=host\" and \"container:NAME\" at = and :.\n"
  "  if declare -F _get_comp_words_by_ref >/dev/null; then\n"
  "    _get_comp_words_by_ref -n =: cur words cword\n"
  "  else\n"
  "    local line=${COMP_LINE:0:COMP_POINT}\n"
  "    read -ra words <<<\"$line\"\n"
  "    [[ -z $line || $line == *[[:space:]] ]] && words+=(\"\")\n"
  "    cword=$((${#words[@]} - 1)) cur=${words[cword]}\n"
  "  fi\n"
  "  local out directive lines line IFS=$'\\n'\n"
  "  out=$(\"${words[0]}\" __complete \"${words[@]:1:cword-1}\" \"$cur\" 2>/dev/null) || return\n"
  "  directive=${out%%$'\\n'*}\n"
  "  lines=\n"
  "  [[ $out == *$'\\n'* ]] && lines=${out#*$'\\n'}\n"
  "  COMPREPLY=()\n"
  "  for line in $lines; do\n"
  "    COMPREPLY+=(\"${line%%$'\\t'*}\")\n"
  "  done\n"
  "  # bash replaces only its own last word (\"host\" of \"--network=host\"): drop the rest\n"
  "  local raw=${COMP_WORDS[COMP_CWORD]}\n"
  "  if [[ $cur != \"$raw\" && $cur == *\"$raw\" ]]; then\n"
  "    local prefix=${cur:0:${#cur}-${#raw}}\n"
  "    COMPREPLY=(\"${COMPREPLY[@]#\"$prefix\"}\")\n"
  "  fi\n"
  "  case $directive in\n"
  "    files|dirs)\n"
  "      mapfile -t -O ${#COMPREPLY[@]} COMPREPLY < <(compgen \"-${directive:0:1}\" -- \"$raw\")\n"
  "      compopt -o filenames 2>/dev/null ;;\n"
  "    nospace) compopt -o nospace 2>/dev/null ;;\n"
  "  esac\n"
  "}\n"
  "complete -F _rrun rrun\n";

static const char zsh_script[] =
  "#compdef rrun\n"
  "# zsh completion for rrun. Generated by `rrun completion zsh`: the candidates come\n"
  "# from `rrun __complete`, which reads rrun's own option tables.\n"
  "_rrun() {\n"
  "  local -a lines cands descs\n"
  "  local out directive line\n"
  "  out=$(${words[1]} __complete \"${(@)words[2,CURRENT-1]}\" \"${words[CURRENT]}\" "
  "2>/dev/null) || return 1\n"
  "  lines=(\"${(@f)out}\")\n"
  "  directive=$lines[1]\n"
  "  for line in \"${(@)lines[2,-1]}\"; do\n"
  "    [[ -z $line ]] && continue\n"
  "    cands+=(\"${line%%$'\\t'*}\")\n"
  "    if [[ $line == *$'\\t'* ]]; then descs+=(\"${line%%$'\\t'*} -- ${line#*$'\\t'}\")\n"
  "    else descs+=(\"$line\"); fi\n"
  "  done\n"
  "  local -a suf\n"
  "  [[ $directive == nospace ]] && suf=(-S '')\n"
  "  (( $#cands )) && compadd $suf -l -d descs -a cands\n"
  "  case $directive in\n"
  "    files) _files ;;\n"
  "    dirs) _files -/ ;;\n"
  "  esac\n"
  "}\n"
  "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n"
  "  _rrun \"$@\"\n"
  "else\n"
  "  compdef _rrun rrun\n"
  "fi\n";

static const char fish_script[] =
  "# fish completion for rrun. Generated by `rrun completion fish`: the candidates come\n"
  "# from `rrun __complete`, which reads rrun's own option tables.\n"
  "function __rrun_complete\n"
  "    set -l words (commandline -opc)\n"
  "    set -l out ($words[1] __complete $words[2..-1] (commandline -ct) 2>/dev/null)\n"
  "    or return\n"
  "    for line in $out[2..-1]\n"
  "        echo $line\n"
  "    end\n"
  "    switch $out[1]\n"
  "        case files\n"
  "            __fish_complete_path (commandline -ct)\n"
  "        case dirs\n"
  "            __fish_complete_directories (commandline -ct)\n"
  "    end\n"
  "end\n"
  "complete -c rrun -f -a '(__rrun_complete)'\n";

gboolean
rrun_cmd_completion (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help = FALSE;
  const RrunCliSpec spec = { "completion", "bash|zsh|fish",
                             "Print the shell's completion script (from rrun's option tables).",
                             1, 1, "rrun completion bash|zsh|fish", NULL, FALSE };

  if (!rrun_cli_parse_args (&spec, NULL, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  if (strcmp (argv[1], "bash") == 0)
    fputs (bash_script, stdout);
  else if (strcmp (argv[1], "zsh") == 0)
    fputs (zsh_script, stdout);
  else if (strcmp (argv[1], "fish") == 0)
    fputs (fish_script, stdout);
  else
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "completion: unknown shell \"%s\"",
                  argv[1]);
      rrun_add_hint (error, "usage: rrun completion bash|zsh|fish");
      return FALSE;
    }
  return TRUE;
}
