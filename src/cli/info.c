/* rrun info [--format table|json]: what rrun would use on this machine and why: version,
   kernel, ID mappings, storage driver and paths (with their file systems), cgroups,
   network helper, config files and registries. */
#include "cli/cli.h"
#include "network/netconf.h"
#include "network/usernet.h"
#include "cli/common.h"
#include "device/device.h"
#include "error.h"
#include "registry/registries-conf.h"
#include "userns/idmap.h"
#include "rrun-config.h"
#include "system/check.h"
#include "util/json-value.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static const char *
userns_mode_name (RrunUsernsMode mode)
{
  switch (mode)
    {
    case RRUN_USERNS_KEEP_ID:
      return "keep-id";
    case RRUN_USERNS_NOMAP:
      return "nomap";
    case RRUN_USERNS_SINGLE:
      return "single";
    case RRUN_USERNS_AUTO:
    default:
      return "auto";
    }
}

static char **
files_read (const RrunConfig *config)
{
  GPtrArray *a = g_ptr_array_new ();

  for (guint i = 0; config->files_read && i < config->files_read->len; i++)
    g_ptr_array_add (a, g_strdup (config->files_read->pdata[i]));
  g_ptr_array_add (a, NULL);
  return (char **) g_ptr_array_free (a, FALSE);
}

/* Everything info shows, gathered once for both formats. */
typedef struct
{
  struct utsname uts;
  RrunIdMap *map;
  char *map_error;
  char *uid_map, *gid_map;
  const char *auto_driver;
  char *auto_why;
  char *storage_fs, *run_fs, *volume_fs;
  RrunCgroupState *cg;
  char *net;
  char **networks;      /* "NAME SUBNET gateway GATEWAY[; IP ID NAME aliases A,B, ...]" */
  char **files;
  char **search;        /* the merged search list short names expand through */
  char *search_error;   /* registries.conf could not be read */
  GPtrArray *gpus;      /* RrunGpu: what --gpus finds without CDI */
  char **cdi_dirs;
  char **cdi;           /* "kind=name (file)" */
  char *cdi_error;      /* a spec that does not parse */
} Info;

static void
info_clear (Info *i)
{
  rrun_idmap_free (i->map);
  g_free (i->map_error);
  g_free (i->uid_map);
  g_free (i->gid_map);
  g_free (i->auto_why);
  g_free (i->storage_fs);
  g_free (i->run_fs);
  g_free (i->volume_fs);
  rrun_cgroup_state_free (i->cg);
  g_free (i->net);
  g_strfreev (i->networks);
  g_strfreev (i->files);
  g_strfreev (i->search);
  g_free (i->search_error);
  if (i->gpus)
    g_ptr_array_unref (i->gpus);
  g_strfreev (i->cdi_dirs);
  g_strfreev (i->cdi);
  g_free (i->cdi_error);
}

static void
info_gather (const RrunConfig *config, Info *i)
{
  g_autoptr(GError) local = NULL;

  uname (&i->uts);
  if (rrun_idmap_resolve (config->userns ? config->userns : "auto", &i->map, &local))
    {
      i->uid_map = rrun_idmap_format (i->map->uid_map);
      i->gid_map = rrun_idmap_format (i->map->gid_map);
    }
  else
    i->map_error = g_strdup (local->message);
  i->auto_driver = rrun_check_auto_driver (&i->auto_why);
  i->storage_fs = rrun_check_fs_type (config->storage_root);
  i->run_fs = rrun_check_fs_type (config->run_root);
  i->volume_fs = rrun_check_fs_type (config->volume_path);
  i->cg = rrun_check_cgroup_state ();
  i->net = rrun_check_find_net_helper ();
  {
    g_autoptr(GPtrArray) nets = NULL;
    GPtrArray *lines = g_ptr_array_new ();

    if (rrun_netconf_list (config, &nets, NULL))
      for (guint k = 0; k < nets->len; k++)
        {
          const RrunNetConf *c = nets->pdata[k];
          g_autoptr(GPtrArray) links = NULL;
          GString *line = g_string_new (NULL);

          g_string_printf (line, "%s %s gateway %s%s%s", c->name, c->subnet, c->gateway,
                           c->internal ? " internal" : "",
                           c->builtin ? " (built in: the default)" : "");
          if (c->ipv6)
            g_string_append_printf (line, " ipv6 %s gateway %s", c->subnet6, c->gateway6);
          /* Its containers' addresses and aliases, as the DNS server answers them. */
          if (!c->builtin && rrun_usernet_list (config, NULL, c->name, &links, NULL))
            for (guint l = 0; l < links->len; l++)
              {
                const RrunUserNetLink *u = links->pdata[l];
                g_autofree char *aliases = u->aliases != NULL && u->aliases[0] != NULL
                                               ? g_strjoinv (",", u->aliases)
                                               : NULL;

                g_string_append_printf (line, "%s %s %.12s%s%s%s", l == 0 ? ";" : ",",
                                        u->ip, u->cid, u->name ? " " : "",
                                        u->name ? u->name : "", aliases ? " aliases " : "");
                if (aliases)
                  g_string_append (line, aliases);
                if (u->ip6 != NULL)
                  g_string_append_printf (line, " ip6 %s", u->ip6);
              }
          g_ptr_array_add (lines, g_string_free (line, FALSE));
        }
    g_ptr_array_add (lines, NULL);
    i->networks = (char **) g_ptr_array_free (lines, FALSE);
  }
  i->files = files_read (config);
  i->gpus = rrun_gpu_list ();
  i->cdi_dirs = rrun_device_cdi_dirs (config);
  {
    g_autoptr(RrunCdiRegistry) reg = NULL;
    g_autoptr(GError) cdi_error = NULL;

    if (rrun_cdi_registry_load (i->cdi_dirs, &reg, &cdi_error))
      i->cdi = rrun_cdi_list (reg);
    else
      i->cdi_error = g_strdup (cdi_error->message);
  }
  {
    g_autoptr(RrunRegistriesConf) conf = NULL;
    g_autoptr(GError) conf_error = NULL;

    /* What pull and every lookup by short name use: registries.conf with rrun.conf's
       [registries] on top, not rrun.conf's list alone. */
    if (rrun_registries_conf_load (config, &conf, &conf_error))
      i->search = g_strdupv (conf->search);
    else
      {
        i->search = g_new0 (char *, 1);
        i->search_error = g_strdup (conf_error->message);
      }
  }
}

static const char *
cgroup_manager (const RrunCgroupState *cg)
{
  if (cg->systemd_user)
    return "systemd";
  if (cg->own_writable)
    return "cgroupfs (delegated directory)";
  return "none";
}

static void
print_json (const RrunConfig *config, Info *i)
{
  g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();
  g_autofree char *user = g_strdup (g_get_user_name ());

  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "version", RRUN_VERSION);
  rrun_json_builder_member_string (b, "kernel", i->uts.release);
  rrun_json_builder_member_string (b, "arch", i->uts.machine);

  rrun_json_builder_set_member_name (b, "user");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "name", user);
  rrun_json_builder_member_int (b, "uid", getuid ());
  rrun_json_builder_member_int (b, "gid", getgid ());
  rrun_json_builder_end_object (b);

  rrun_json_builder_set_member_name (b, "idmap");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "mode",
                                   i->map ? userns_mode_name (i->map->mode) : config->userns);
  rrun_json_builder_member_string (b, "uid_map", i->uid_map);
  rrun_json_builder_member_string (b, "gid_map", i->gid_map);
  rrun_json_builder_member_bool (b, "single", i->map ? i->map->single : FALSE);
  rrun_json_builder_member_string (b, "single_reason", i->map ? i->map->single_reason : NULL);
  rrun_json_builder_member_string (b, "error", i->map_error);
  rrun_json_builder_end_object (b);

  rrun_json_builder_set_member_name (b, "storage");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "driver", config->storage_driver);
  rrun_json_builder_member_string (b, "auto_driver", i->auto_driver);
  rrun_json_builder_member_string (b, "auto_reason", i->auto_why);
  rrun_json_builder_member_string (b, "root", config->storage_root);
  rrun_json_builder_member_string (b, "root_fs", i->storage_fs);
  rrun_json_builder_member_string (b, "relocated_from", config->storage_relocated_from);
  rrun_json_builder_member_string (b, "relocated_from_fs", config->storage_relocated_fs);
  rrun_json_builder_member_strv (b, "additional_image_stores",
                                 (const char *const *) config->additional_image_stores);
  rrun_json_builder_member_string (b, "volume_path", config->volume_path);
  rrun_json_builder_member_string (b, "volume_path_fs", i->volume_fs);
  rrun_json_builder_member_string (b, "volumes_relocated_from", config->volume_relocated_from);
  rrun_json_builder_member_string (b, "volumes_relocated_from_fs", config->volume_relocated_fs);
  rrun_json_builder_end_object (b);

  rrun_json_builder_set_member_name (b, "runtime");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "run_root", config->run_root);
  rrun_json_builder_member_string (b, "run_root_fs", i->run_fs);
  rrun_json_builder_member_string (b, "xdg_runtime_dir", g_getenv ("XDG_RUNTIME_DIR"));
  rrun_json_builder_end_object (b);

  rrun_json_builder_set_member_name (b, "cgroups");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "version", rrun_check_cgroup_mount_name (i->cg->mount));
  rrun_json_builder_member_string (b, "v2_mount", i->cg->v2_mount);
  rrun_json_builder_member_string (b, "manager", cgroup_manager (i->cg));
  rrun_json_builder_member_string (b, "own_cgroup", i->cg->own_dir);
  rrun_json_builder_member_bool (b, "delegated", i->cg->own_writable);
  rrun_json_builder_member_bool (b, "systemd_user", i->cg->systemd_user);
  rrun_json_builder_member_string (b, "setting", config->cgroups);
  rrun_json_builder_end_object (b);

  rrun_json_builder_set_member_name (b, "network");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "helper", i->net);
  rrun_json_builder_member_string (b, "default", config->network);
  rrun_json_builder_member_strv (b, "networks", (const char *const *) i->networks);
  rrun_json_builder_end_object (b);

  rrun_json_builder_member_strv (b, "config_files", (const char *const *) i->files);
  rrun_json_builder_member_strv (b, "registries", (const char *const *) i->search);

  rrun_json_builder_set_member_name (b, "gpus");
  rrun_json_builder_begin_array (b);
  for (guint k = 0; k < i->gpus->len; k++)
    {
      const RrunGpu *gpu = i->gpus->pdata[k];

      rrun_json_builder_begin_object (b);
      rrun_json_builder_member_string (b, "vendor", gpu->vendor);
      rrun_json_builder_member_int (b, "index", gpu->index);
      rrun_json_builder_member_string (b, "node", gpu->node);
      rrun_json_builder_member_string (b, "uuid", gpu->uuid);
      rrun_json_builder_end_object (b);
    }
  rrun_json_builder_end_array (b);
  rrun_json_builder_set_member_name (b, "cdi");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_strv (b, "spec_dirs", (const char *const *) i->cdi_dirs);
  if (i->cdi)
    rrun_json_builder_member_strv (b, "devices", (const char *const *) i->cdi);
  rrun_json_builder_member_string (b, "error", i->cdi_error);
  rrun_json_builder_end_object (b);
  rrun_json_builder_end_object (b);

  rrun_cli_print_json_builder (b);
}

static void
print_list (const char *label, char **values)
{
  if (values == NULL || values[0] == NULL)
    {
      printf ("  %-24s (none)\n", label);
      return;
    }
  for (guint k = 0; values[k]; k++)
    printf ("  %-24s %s\n", k == 0 ? label : "", values[k]);
}

static void
print_map (const char *label, const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text ? text : "", "\n", -1);
  gboolean first = TRUE;

  for (guint k = 0; lines[k]; k++)
    if (*lines[k])
      {
        printf ("  %-24s %s\n", first ? label : "", lines[k]);
        first = FALSE;
      }
}

static void
print_table (const RrunConfig *config, Info *i)
{
  printf ("rrun:\n");
  printf ("  %-24s %s\n", "version", RRUN_VERSION);
  printf ("  %-24s Linux %s %s\n", "kernel", i->uts.release, i->uts.machine);
  printf ("  %-24s %s (uid %u, gid %u)\n", "user", g_get_user_name (), (unsigned) getuid (),
          (unsigned) getgid ());
  printf ("ID mappings:\n");
  if (i->map != NULL)
    {
      printf ("  %-24s %s%s\n", "mode", userns_mode_name (i->map->mode),
              i->map->single ? " (single ID: no subordinate range)" : "");
      if (i->map->single_reason)
        printf ("  %-24s %s\n", "why single", i->map->single_reason);
      print_map ("uid_map", i->uid_map);
      print_map ("gid_map", i->gid_map);
    }
  else
    printf ("  %-24s %s\n", "error", i->map_error);
  printf ("storage:\n");
  printf ("  %-24s %s\n", "driver (configured)", config->storage_driver);
  printf ("  %-24s %s: %s\n", "driver (auto picks)", i->auto_driver, i->auto_why);
  printf ("  %-24s %s (%s)\n", "root", config->storage_root, i->storage_fs);
  if (config->storage_relocated_from)
    printf ("  %-24s %s is on %s\n", "relocated from", config->storage_relocated_from,
            config->storage_relocated_fs);
  print_list ("additional stores", config->additional_image_stores);
  printf ("  %-24s %s (%s)\n", "volumes", config->volume_path, i->volume_fs);
  if (config->volume_relocated_from)
    printf ("  %-24s %s is on %s, which cannot hold files of subordinate IDs\n",
            "volumes relocated from", config->volume_relocated_from,
            config->volume_relocated_fs);
  printf ("runtime:\n");
  printf ("  %-24s %s (%s)\n", "run root", config->run_root, i->run_fs);
  printf ("  %-24s %s\n", "XDG_RUNTIME_DIR",
          g_getenv ("XDG_RUNTIME_DIR") ? g_getenv ("XDG_RUNTIME_DIR")
                                       : "(not set: /tmp fallback)");
  printf ("cgroups:\n");
  printf ("  %-24s %s%s%s\n", "version", rrun_check_cgroup_mount_name (i->cg->mount),
          i->cg->v2_mount ? ", cgroup2 at " : "", i->cg->v2_mount ? i->cg->v2_mount : "");
  printf ("  %-24s %s\n", "manager", cgroup_manager (i->cg));
  printf ("  %-24s %s%s\n", "own cgroup", i->cg->own_dir ? i->cg->own_dir : "(none)",
          i->cg->own_writable ? " (writable: delegated)" : " (not writable)");
  printf ("  %-24s %s\n", "setting", config->cgroups);
  printf ("network:\n");
  printf ("  %-24s %s\n", "helper", i->net ? i->net : "(not found)");
  printf ("  %-24s %s\n", "default", config->network ? config->network : "(built-in)");
  print_list ("networks", i->networks);
  printf ("configuration:\n");
  print_list ("files read", i->files);
  if (i->search_error)
    printf ("  %-24s cannot read registries.conf: %s\n", "search registries", i->search_error);
  else
    print_list ("search registries", i->search);
  printf ("devices:\n");
  {
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);

    for (guint k = 0; k < i->gpus->len; k++)
      {
        const RrunGpu *gpu = i->gpus->pdata[k];
        g_ptr_array_add (lines, g_strdup_printf ("%s %d: %s%s%s", gpu->vendor, gpu->index,
                                                 gpu->node, gpu->uuid ? " " : "",
                                                 gpu->uuid ? gpu->uuid : ""));
      }
    g_ptr_array_add (lines, NULL);
    print_list ("GPUs (--gpus)", (char **) lines->pdata);
  }
  {
    g_autofree char *dirs = g_strjoinv (":", i->cdi_dirs);
    printf ("  %-24s %s\n", "CDI spec dirs", dirs);
  }
  if (i->cdi_error)
    printf ("  %-24s %s\n", "CDI devices", i->cdi_error);
  else
    print_list ("CDI devices", i->cdi);
}

gboolean
rrun_cmd_info (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autofree char *format = NULL;
  const RrunCliSpec spec = { "info", "", "Show what rrun uses on this machine and why.", 0, 0,
                             NULL, &format, FALSE };
  gboolean help;
  Info info = { 0 };

  if (!rrun_cli_parse_args (&spec, NULL, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  info_gather (g->config, &info);
  if (rrun_cli_format_is_json (format))
    print_json (g->config, &info);
  else
    print_table (g->config, &info);
  info_clear (&info);
  return TRUE;
}
