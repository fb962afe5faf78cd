/* rrun volume create|ls|inspect|rm|prune|exists: docker's volume commands over the
   volume store (volume/volume.h). */
#include "cli/cli.h"
#include "cli/common.h"
#include "container/record.h"
#include "error.h"
#include "log.h"
#include "volume/volume.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Containers whose records are gone must not hold volumes: collect stale records first
   (rrun_container_gc), then whatever record names a volume uses it. */
static gboolean
collect_stale (RrunGlobal *g, RrunIdMap **out_map, GError **error)
{
  g_autoptr(RrunStore) store = NULL;
  g_autoptr(RrunIdMap) map = NULL;

  if (!rrun_cli_storage_idmap (g, &map, error) || !rrun_store_open (g->config, &store, error)
      || !rrun_container_gc (g->config, store, map, error))
    return FALSE;
  *out_map = g_steal_pointer (&map);
  return TRUE;
}

static gboolean
cmd_create (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autofree char *driver = NULL;
  g_auto(GStrv) labels = NULL, opts = NULL;
  gboolean help, created;
  GOptionEntry entries[] = {
    { "driver", 'd', 0, G_OPTION_ARG_STRING, &driver, "Volume driver: local (the only one)",
      "DRIVER" },
    { "label", 'l', 0, G_OPTION_ARG_STRING_ARRAY, &labels, "Set a label: KEY=VALUE", "LABEL" },
    { "opt", 'o', 0, G_OPTION_ARG_STRING_ARRAY, &opts,
      "Driver option: type=tmpfs|bind, o=OPTIONS, device=PATH", "KEY=VALUE" },
    { NULL },
  };
  const RrunCliSpec spec = { "volume create", "[NAME]",
                             "Create a volume (a random name when none is given); an existing "
                             "one of that name is kept.",
                             0, 1, "rrun volume create [OPTIONS] [NAME]", NULL, FALSE };
  g_autoptr(RrunVolumeInfo) v = NULL;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    return *out_status = 0, TRUE;
  for (guint i = 0; labels && labels[i]; i++)
    if (labels[i][0] == '\0' || labels[i][0] == '=')
      return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid label \"%s\": expected "
                         "KEY=VALUE", labels[i]);
  if (!rrun_volume_create (g->config, argc > 1 ? argv[1] : NULL, driver ? driver : "local",
                           labels, opts, FALSE, &created, &v, error))
    {
      g_prefix_error (error, "cannot create volume: ");
      return FALSE;
    }
  printf ("%s\n", v->name);
  *out_status = 0;
  return TRUE;
}

typedef struct
{
  char **filters;
  int dangling;   /* -1: any */
} Filters;

static gboolean
parse_filters (const char *command, char **filters, Filters *f, GError **error)
{
  f->filters = filters;
  f->dangling = -1;
  for (guint i = 0; filters && filters[i]; i++)
    {
      const char *s = filters[i];
      if (g_str_has_prefix (s, "dangling="))
        {
          const char *v = s + 9;
          if (strcmp (v, "true") == 0 || strcmp (v, "1") == 0)
            f->dangling = 1;
          else if (strcmp (v, "false") == 0 || strcmp (v, "0") == 0)
            f->dangling = 0;
          else
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               "invalid filter \"%s\": expected dangling=true or false", s);
        }
      else if (!g_str_has_prefix (s, "name=") && !g_str_has_prefix (s, "label=")
               && !g_str_has_prefix (s, "driver="))
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid filter \"%s\"", s);
          rrun_add_hint (error, "%s filters: name=TEXT, label=KEY[=VALUE], dangling=true|false, "
                                "driver=local", command);
          return FALSE;
        }
    }
  return TRUE;
}

/* docker: name matches a substring; labels must all match; dangling = used by none. */
static gboolean
matches (RrunGlobal *g, const Filters *f, const RrunVolumeInfo *v)
{
  for (guint i = 0; f->filters && f->filters[i]; i++)
    {
      const char *s = f->filters[i];
      if (g_str_has_prefix (s, "name=") && strstr (v->name, s + 5) == NULL)
        return FALSE;
      if (g_str_has_prefix (s, "label=") && !rrun_cli_labels_match (v->labels, s + 6))
        return FALSE;
      if (g_str_has_prefix (s, "driver=") && strcmp (v->driver, s + 7) != 0)
        return FALSE;
    }
  if (f->dangling >= 0)
    {
      g_auto(GStrv) users = NULL;
      rrun_volume_users (g->config, v->name, &users, NULL);
      if ((users == NULL || users[0] == NULL) != (f->dangling == 1))
        return FALSE;
    }
  return TRUE;
}

static gboolean
cmd_ls (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autofree char *format = NULL;
  g_auto(GStrv) filters = NULL;
  gboolean help, quiet = FALSE;
  GOptionEntry entries[] = {
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print volume names only", NULL },
    { "filter", 'f', 0, G_OPTION_ARG_STRING_ARRAY, &filters,
      "name=TEXT, label=KEY[=VALUE], dangling=true|false, driver=local", "FILTER" },
    { NULL },
  };
  const RrunCliSpec spec = { "volume ls", "", "List volumes.", 0, 0, "rrun volume ls [OPTIONS]",
                             &format, FALSE };
  g_autoptr(GPtrArray) vols = NULL;
  g_autoptr(RrunIdMap) map = NULL;
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();
  Filters f;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    return *out_status = 0, TRUE;
  if (!parse_filters ("volume ls", filters, &f, error))
    return FALSE;
  if (f.dangling >= 0 && !collect_stale (g, &map, error))
    return FALSE;
  if (!rrun_volume_list (g->config, &vols, error))
    return FALSE;
  if (rrun_cli_format_is_json (format))
    rrun_json_builder_begin_array (b);
  else if (!quiet)
    printf ("%-10s%s\n", "DRIVER", "VOLUME NAME");
  for (guint i = 0; i < vols->len; i++)
    {
      const RrunVolumeInfo *v = vols->pdata[i];
      if (!matches (g, &f, v))
        continue;
      if (rrun_cli_format_is_json (format))
        rrun_volume_info_to_json (v, b);
      else if (quiet)
        printf ("%s\n", v->name);
      else
        printf ("%-10s%s\n", v->driver, v->name);
    }
  if (rrun_cli_format_is_json (format))
    {
      rrun_json_builder_end_array (b);
      rrun_cli_print_json_builder (b);
    }
  *out_status = 0;
  return TRUE;
}

static gboolean
inspect_one (RrunGlobal *g, const char *name, RrunJsonBuilder *b, GError **error)
{
  g_autoptr(RrunVolumeInfo) v = NULL;

  if (!rrun_volume_lookup (g->config, name, &v, error))
    return FALSE;
  rrun_volume_info_to_json (v, b);
  return TRUE;
}

static gboolean
cmd_inspect (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autofree char *format = NULL;
  gboolean help;
  const RrunCliSpec spec = { "volume inspect", "VOLUME...", "Show volumes as JSON.", 1, -1,
                             "rrun volume inspect [--format F] VOLUME...", &format, TRUE };

  if (!rrun_cli_parse_args (&spec, NULL, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    return *out_status = 0, TRUE;
  return rrun_cli_inspect_each (g, format, argv + 1, argc - 1, inspect_one, out_status, error);
}

/* Refused while any container uses the volume, running or stopped (as docker): the
   message names them, the hint says how to let go of the volume. */
static gboolean
check_unused (const RrunConfig *config, const char *name, GError **error)
{
  g_auto(GStrv) users = NULL;
  g_autoptr(GString) names = g_string_new (NULL);
  g_autoptr(GString) running = g_string_new (NULL), stopped = g_string_new (NULL);

  if (!rrun_volume_users (config, name, &users, error))
    return FALSE;
  if (users[0] == NULL)
    return TRUE;
  for (guint i = 0; users[i] != NULL; i++)
    {
      g_autoptr(RrunState) s = NULL;
      g_autofree char *shown = NULL;
      gboolean live = TRUE; /* a record still being made is about to run */

      if (rrun_state_find_any (config, users[i], &s, NULL))
        {
          shown = g_strdup (s->name && *s->name ? s->name : s->id);
          live = s->live;
          if (s->name == NULL || *s->name == '\0')
            shown[MIN (strlen (shown), 12)] = '\0';
        }
      else
        shown = g_strndup (users[i], 12);
      g_string_append_printf (names, "%s\"%s\"", names->len ? ", " : "", shown);
      g_string_append_printf (live ? running : stopped, " %s", shown);
    }
  rrun_throw (error, RRUN_ERROR_BUSY, "cannot remove volume \"%s\": it is in use by %s %s",
              name, users[1] ? "containers" : "container", names->str);
  if (stopped->len)
    rrun_add_hint (error, "remove the stopped container first: rrun rm%s", stopped->str);
  if (running->len)
    rrun_add_hint (error, "stop and remove the running container first: rrun rm -f%s",
                   running->str);
  return FALSE;
}

static gboolean
cmd_rm (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help, force = FALSE;
  GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "No error for volumes that do not exist",
      NULL },
    { NULL },
  };
  const RrunCliSpec spec = { "volume rm", "VOLUME...",
                             "Remove volumes and their data. A volume a container uses is "
                             "refused.",
                             1, -1, "rrun volume rm [-f] VOLUME...", NULL, FALSE };
  g_autoptr(RrunIdMap) map = NULL;
  int failed = 0;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    return *out_status = 0, TRUE;
  if (!collect_stale (g, &map, error))
    return FALSE;
  for (int i = 1; i < argc; i++)
    {
      GError *local = NULL;

      if (check_unused (g->config, argv[i], &local))
        rrun_volume_remove (g->config, map, argv[i], &local);
      rrun_cli_report_removal (argv[i], force, local, &failed);
    }
  *out_status = failed ? RRUN_EXIT_FAILED : 0;
  return TRUE;
}

/* Bytes of regular files below path (best effort: what the user may read). */
static guint64
tree_size (int dirfd, const char *name)
{
  int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  struct dirent *de;
  guint64 total = 0;

  if (d == NULL)
    {
      if (fd >= 0)
        close (fd);
      return 0;
    }
  while ((de = readdir (d)) != NULL)
    {
      struct stat st;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0
          || fstatat (fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        continue;
      if (S_ISDIR (st.st_mode))
        total += tree_size (fd, de->d_name);
      else if (S_ISREG (st.st_mode))
        total += (guint64) st.st_size;
    }
  closedir (d);
  return total;
}

static gboolean
cmd_prune (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help, force = FALSE, all = FALSE;
  g_auto(GStrv) filters = NULL;
  GOptionEntry entries[] = {
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, "Do not ask for confirmation", NULL },
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "Named volumes too, not only anonymous ones",
      NULL },
    { "filter", 0, 0, G_OPTION_ARG_STRING_ARRAY, &filters, "label=KEY[=VALUE], name=TEXT",
      "FILTER" },
    { NULL },
  };
  const RrunCliSpec spec = { "volume prune", "",
                             "Remove anonymous volumes no container uses (with --all, named "
                             "ones too).",
                             0, 0, "rrun volume prune [-f] [-a]", NULL, FALSE };
  g_autoptr(RrunIdMap) map = NULL;
  g_autoptr(GPtrArray) vols = NULL;
  guint64 reclaimed = 0;
  gboolean first = TRUE;
  g_autofree char *human = NULL;
  Filters f;

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    return *out_status = 0, TRUE;
  if (!parse_filters ("volume prune", filters, &f, error))
    return FALSE;
  if (!force && !rrun_cli_confirm (all ? "all local volumes not used by at least one container"
                                       : "all anonymous local volumes not used by at least one "
                                         "container"))
    return *out_status = 0, TRUE;
  if (!collect_stale (g, &map, error) || !rrun_volume_list (g->config, &vols, error))
    return FALSE;
  for (guint i = 0; i < vols->len; i++)
    {
      const RrunVolumeInfo *v = vols->pdata[i];
      g_autoptr(GError) local = NULL;
      g_auto(GStrv) users = NULL;
      guint64 size;

      if ((!all && !v->anonymous) || !matches (g, &f, v)
          || !rrun_volume_users (g->config, v->name, &users, NULL) || users[0] != NULL)
        continue;
      size = tree_size (AT_FDCWD, v->mountpoint);
      if (!rrun_volume_remove (g->config, map, v->name, &local))
        {
          rrun_log_print_error (local);
          continue;
        }
      if (first)
        printf ("Deleted Volumes:\n"), first = FALSE;
      printf ("%s\n", v->name);
      reclaimed += size;
    }
  human = rrun_cli_human_size (reclaimed);
  printf ("%sTotal reclaimed space: %s\n", first ? "" : "\n", human);
  *out_status = 0;
  return TRUE;
}

static gboolean
cmd_exists (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  gboolean help;
  const RrunCliSpec spec = { "volume exists", "VOLUME",
                             "Exit 0 when the volume exists, 1 when it does not.", 1, 1,
                             "rrun volume exists VOLUME", NULL, FALSE };
  g_autoptr(RrunVolumeInfo) v = NULL;
  GError *local = NULL;

  if (!rrun_cli_parse_args (&spec, NULL, &argc, &argv, &help, error))
    return FALSE;
  if (help)
    return *out_status = 0, TRUE;
  rrun_volume_lookup (g->config, argv[1], &v, &local);
  return rrun_cli_exists_status (local, out_status, error);
}

static const RrunCommand volume_commands[] = {
  { "create", cmd_create, "create a volume", FALSE },
  { "ls", cmd_ls, "list volumes", FALSE },
  { "list", cmd_ls, "list volumes (same as ls)", TRUE },
  { "inspect", cmd_inspect, "show volumes as JSON", FALSE },
  { "rm", cmd_rm, "remove volumes", FALSE },
  { "remove", cmd_rm, "remove volumes (same as rm)", TRUE },
  { "prune", cmd_prune, "remove volumes no container uses", FALSE },
  { "exists", cmd_exists, "tell whether a volume exists (exit status)", FALSE },
  { NULL, NULL, NULL, FALSE },
};

gboolean
rrun_cmd_volume (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return rrun_cli_run_group ("volume", volume_commands, "ls", g, argc, argv, out_status, error);
}
