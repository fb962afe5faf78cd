/* The container spec: validation before any image lookup, and the stored JSON form. */
#include "container/spec.h"
#include "container/spec-flags.h"
#include "container/signal-name.h"
#include "container/health.h"
#include "container/policy.h"
#include "device/device.h"
#include "error.h"
#include "network/netconf.h"
#include "process/caps.h"
#include "process/command.h"
#include "rootfs/mount-args.h"
#include "util/text-file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

RrunContainerSpec *
rrun_container_spec_new (void)
{
  RrunContainerSpec *spec = g_new0 (RrunContainerSpec, 1);

  spec->root_emulation = -1;
  return spec;
}

void
rrun_container_spec_clear (RrunContainerSpec *o)
{
  g_free (o->image);
  g_strfreev (o->args);
  g_free (o->entrypoint);
  g_strfreev (o->env);
  g_strfreev (o->env_files);
  g_free (o->workdir);
  g_free (o->user);
  g_free (o->hostname);
  g_free (o->name);
  g_free (o->stop_signal);
  g_free (o->stop_timeout);
  g_free (o->cidfile);
  g_free (o->restart);
  g_free (o->health_cmd);
  g_free (o->health_interval);
  g_free (o->health_timeout);
  g_free (o->health_retries);
  g_free (o->health_start_period);
  g_free (o->log_driver);
  g_strfreev (o->log_opts);
  g_strfreev (o->devices);
  g_strfreev (o->device_cgroup_rules);
  g_free (o->gpus);
  g_free (o->rootfs);
  g_strfreev (o->labels);
  g_strfreev (o->cap_add);
  g_strfreev (o->cap_drop);
  g_free (o->network);
  g_strfreev (o->network_aliases);
  g_free (o->ip);
  g_free (o->ip6);
  g_free (o->mac_address);
  g_free (o->userns);
  g_strfreev (o->volumes);
  g_strfreev (o->mounts);
  g_strfreev (o->tmpfs);
  g_strfreev (o->volumes_from);
  g_free (o->ipc);
  g_strfreev (o->publish);
  g_strfreev (o->dns);
  g_strfreev (o->dns_search);
  g_strfreev (o->dns_option);
  g_strfreev (o->add_host);
  g_free (o->cgroups);
  g_clear_pointer (&o->limits, rrun_cgroup_limits_free);
  g_free (o->pull);
  g_clear_pointer (&o->net, rrun_network_options_free);
  g_strfreev (o->security_opt);
  g_free (o->seccomp_profile);
  g_clear_pointer (&o->seccomp, rrun_seccomp_profile_free);
  g_strfreev (o->mask_paths);
  g_strfreev (o->unmask_paths);
  g_free (o->shm_size);
  g_free (o->pid);
  g_free (o->uts);
  g_free (o->cgroupns);
  g_free (o->tz);
  g_free (o->umask);
  g_free (o->passwd_entry);
  g_free (o->oom_score_adj);
  g_free (o->personality);
  g_free (o->preserve_fds);
  g_free (o->pidfile);
  g_free (o->timeout);
  g_free (o->sdnotify);
  g_free (o->image_volume);
  g_free (o->authfile);
  g_free (o->detach_keys);
  g_free (o->init_path);
  g_free (o->platform);
  g_strfreev (o->ulimits);
  g_strfreev (o->uidmaps);
  g_strfreev (o->gidmaps);
  g_free (o->subuidname);
  g_free (o->subgidname);
  g_strfreev (o->secrets);
  g_strfreev (o->sysctls);
  g_strfreev (o->group_add);
  g_strfreev (o->expose);
  g_strfreev (o->env_merge);
  g_strfreev (o->unsetenv);
  g_strfreev (o->hostuser);
  g_strfreev (o->annotations);
  g_strfreev (o->chrootdirs);
  g_strfreev (o->requires);
  memset (o, 0, sizeof *o);
  o->root_emulation = -1;
}

void
rrun_container_spec_free (RrunContainerSpec *spec)
{
  if (spec == NULL)
    return;
  rrun_container_spec_clear (spec);
  g_free (spec);
}

gboolean
rrun_container_name_valid (const char *name)
{
  return name != NULL && strlen (name) <= 128 && rrun_spec_check_name (name, NULL);
}

/* value must be one of the NULL-terminated choices (NULL value: not given). */
static gboolean
check_choice (const char *flag, const char *value, const char *const *choices, GError **error)
{
  guint n = g_strv_length ((char **) choices);
  g_autofree char *head = NULL;

  if (value == NULL || g_strv_contains (choices, value))
    return TRUE;
  if (g_str_has_prefix (value, "container:") && value[strlen ("container:")] != '\0'
      && g_strv_contains (choices, "container:NAME"))
    return TRUE;
  /* "a, b or c", as the other option errors say it */
  head = g_strjoinv (", ", (char **) choices);
  *strrchr (head, ',') = '\0';
  return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                     "invalid value \"%s\" for %s: expected %s or %s", value, flag, head,
                     choices[n - 1]);
}

/* -v, --mount and --tmpfs: syntax, host paths of binds, volume names and options (the
   volumes themselves are looked up or made when the container is created). */
static gboolean
check_mounts (const RrunContainerSpec *o, GError **error)
{
  g_autoptr(GPtrArray) mounts = NULL;

  for (guint i = 0; o->volumes_from && o->volumes_from[i]; i++)
    if (!rrun_mount_parse_volumes_from (o->volumes_from[i], NULL, NULL, error))
      return FALSE;
  return rrun_mount_parse_all (o->volumes, o->mounts, o->tmpfs, &mounts, error);
}

/* Absolute paths separated by ':' (mask=, unmask=), appended to *paths. */
static gboolean
add_paths (const char *opt, const char *value, gboolean all_ok, char ***paths,
           GError **error)
{
  g_auto(GStrv) parts = g_strsplit (value, ":", -1);
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; *paths && (*paths)[i]; i++)
    g_ptr_array_add (all, g_strdup ((*paths)[i]));
  for (guint i = 0; parts[i]; i++)
    {
      if (!(all_ok && strcmp (parts[i], "ALL") == 0)
          && (parts[i][0] != '/' || strstr (parts[i], "/../") || g_str_has_suffix (parts[i], "/..")))
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "invalid --security-opt %s=%s: \"%s\" is not an absolute path", opt,
                      value, parts[i]);
          rrun_add_hint (error, "%s", all_ok ? "unmask=ALL, or paths such as /proc/kcore:/proc/keys"
                                            : "paths such as /proc/cpuinfo:/sys/block");
          return FALSE;
        }
      g_ptr_array_add (all, g_strdup (parts[i]));
    }
  g_ptr_array_add (all, NULL);
  g_strfreev (*paths);
  *paths = (char **) g_ptr_array_free (g_steal_pointer (&all), FALSE);
  return TRUE;
}

/* --security-opt, as docker and podman spell it (KEY=VALUE or KEY:VALUE). */
static gboolean
check_security_opts (RrunContainerSpec *o, GError **error)
{
  const char *profile_file = NULL;

  o->seccomp_unconfined = FALSE;
  g_clear_pointer (&o->mask_paths, g_strfreev);
  g_clear_pointer (&o->unmask_paths, g_strfreev);
  for (guint i = 0; o->security_opt && o->security_opt[i]; i++)
    {
      const char *opt = o->security_opt[i];
      gsize key_len = strcspn (opt, "=:");
      g_autofree char *key = g_strndup (opt, key_len);
      const char *value = opt[key_len] ? opt + key_len + 1 : NULL;

      if (strcmp (key, "seccomp") == 0 && value != NULL && *value != '\0')
        {
          o->seccomp_unconfined = strcmp (value, "unconfined") == 0;
          profile_file = o->seccomp_unconfined ? NULL : value;
        }
      else if (strcmp (key, "no-new-privileges") == 0
               && (value == NULL || strcmp (value, "true") == 0))
        ; /* rrun sets no_new_privs always (but with --privileged) */
      else if (strcmp (key, "no-new-privileges") == 0)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "--security-opt %s: rrun always sets no_new_privs", opt);
          rrun_add_hint (error, "--privileged runs without it (and without seccomp)");
          return FALSE;
        }
      else if (strcmp (key, "mask") == 0 && value != NULL)
        {
          if (!add_paths ("mask", value, FALSE, &o->mask_paths, error))
            return FALSE;
        }
      else if (strcmp (key, "unmask") == 0 && value != NULL)
        {
          if (!add_paths ("unmask", value, TRUE, &o->unmask_paths, error))
            return FALSE;
        }
      else if (strcmp (key, "label") == 0 && g_strcmp0 (value, "disable") == 0)
        ; /* rrun sets no SELinux label */
      else
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid --security-opt \"%s\"", opt);
          rrun_add_hint (error, "rrun takes seccomp=unconfined, seccomp=PROFILE.json, "
                                "no-new-privileges, mask=PATHS, unmask=ALL|PATHS and "
                                "label=disable");
          return FALSE;
        }
    }
  if (profile_file == NULL)
    g_clear_pointer (&o->seccomp_profile, g_free);
  else if (o->seccomp_profile == NULL)
    {
      char *text = NULL;

      /* The one bounded reader (docs/security.md); docker's default profile is 20 KB. */
      if (!rrun_text_file_read (profile_file, "seccomp profile", 1024 * 1024,
                                RRUN_TEXT_FILE_DEFAULT, &text, NULL, error))
        return FALSE;
      o->seccomp_profile = text;
    }
  g_clear_pointer (&o->seccomp, rrun_seccomp_profile_free);
  if (o->seccomp_profile != NULL)
    {
      o->seccomp = rrun_seccomp_profile_parse (o->seccomp_profile, strlen (o->seccomp_profile),
                                               error);
      if (o->seccomp == NULL)
        {
          g_prefix_error (error, "--security-opt seccomp=%s: ", profile_file);
          rrun_add_hint (error, "a profile is docker's or podman's seccomp JSON format");
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
build_network (const RrunConfig *config, RrunContainerSpec *o, GError **error)
{
  g_autoptr(RrunNetworkOptions) net = rrun_network_options_new (config, error);
  const char *mode = o->network ? o->network : config->network;

  if (net == NULL)
    return FALSE;
  /* User-defined networks: NAME[,NAME2...] (repeated --network joined with commas). */
  static const char *const modes[] = { "none", "host", "slirp", "slirp4netns", "bridge",
                                       "default", NULL };
  g_auto(GStrv) names = NULL;

  if (mode != NULL && !g_strv_contains (modes, mode) && !g_str_has_prefix (mode, "slirp:")
      && !g_str_has_prefix (mode, "slirp4netns:") && !g_str_has_prefix (mode, "ns:")
      && !g_str_has_prefix (mode, "container:"))
    names = g_strsplit (mode, ",", -1);
  if (names != NULL && o->from_record)
    rrun_network_options_set_user (net, names);
  else if (names != NULL && config->storage_root != NULL)
    {
      g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);

      for (guint i = 0; names[i] != NULL; i++)
        {
          g_autoptr(RrunNetConf) user_net = NULL;
          g_autoptr(GError) local = NULL;

          if (!rrun_netconf_name_valid (names[i]))
            {
              rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid --network \"%s\"",
                          mode);
              rrun_add_hint (error, "use a network's name (rrun network ls), slirp[:key=value,"
                                    "...] (or bridge), none, host, container:NAME or "
                                    "ns:/proc/PID/ns/net");
              return FALSE;
            }
          if (!rrun_netconf_lookup (config, names[i], &user_net, &local))
            {
              if (!g_error_matches (local, RRUN_ERROR, RRUN_ERROR_NOT_FOUND))
                {
                  g_propagate_error (error, g_steal_pointer (&local));
                  return FALSE;
                }
              rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                          "invalid --network \"%s\": no such network", names[i]);
              rrun_add_hint (error, "create it with: rrun network create %s", names[i]);
              rrun_add_hint (error, "or use slirp[:key=value,...] (or bridge), none, host, "
                                    "container:NAME or ns:/proc/PID/ns/net");
              return FALSE;
            }
          if (user_net->builtin)
            return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                               "cannot use --network \"%s\" with other networks: it is the "
                               "default per-container network", names[i]);
          for (guint j = 0; j < seen->len; j++)
            if (g_str_equal (seen->pdata[j], user_net->name))
              return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                                 "invalid --network \"%s\": network \"%s\" given twice", mode,
                                 user_net->name);
          if (i == 0 && o->ip != NULL)
            {
              guint32 subnet = 0, addr = 0;
              guint prefix = 0;

              if (rrun_netconf_parse_cidr (user_net->subnet, &subnet, &prefix, NULL)
                  && rrun_netconf_parse_ip (o->ip, &addr) && prefix > 0
                  && (addr & ~(G_MAXUINT32 >> prefix)) != subnet)
                return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                                   "invalid --ip %s: it is not in network \"%s\" (%s)", o->ip,
                                   user_net->name, user_net->subnet);
            }
          if (i == 0 && o->ip6 != NULL && !user_net->ipv6)
            {
              rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                          "cannot use --ip6 %s: network \"%s\" has no IPv6", o->ip6,
                          user_net->name);
              rrun_add_hint (error, "leave out --ip6, or use a network made with: rrun network "
                                    "create --ipv6 NAME");
              return FALSE;
            }
          if (i == 0 && o->ip6 != NULL)
            {
              guint8 subnet[16], addr[16];
              guint prefix = 0;

              if (rrun_netconf_parse_cidr6 (user_net->subnet6, subnet, &prefix, NULL)
                  && rrun_netconf_parse_ip6 (o->ip6, addr)
                  && !rrun_netconf_overlaps6 (addr, 128, subnet, prefix))
                return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                                   "invalid --ip6 %s: it is not in network \"%s\" (%s)", o->ip6,
                                   user_net->name, user_net->subnet6);
            }
          g_ptr_array_add (seen, g_strdup (user_net->name));
        }
      g_ptr_array_add (seen, NULL);
      rrun_network_options_set_user (net, (char **) seen->pdata);
    }
  else if (!rrun_network_options_set_mode (net, mode, error))
    return FALSE;
  for (guint i = 0; o->network_aliases && o->network_aliases[i]; i++)
    if (!rrun_network_options_add_alias (net, o->network_aliases[i], error))
      return FALSE;
  if (o->ip != NULL && !rrun_network_options_set_ip (net, o->ip, error))
    return FALSE;
  if (o->ip6 != NULL && !rrun_network_options_set_ip6 (net, o->ip6, error))
    return FALSE;
  for (guint i = 0; o->publish && o->publish[i]; i++)
    if (!rrun_network_options_add_publish (net, o->publish[i], error))
      return FALSE;
  for (guint i = 0; o->dns && o->dns[i]; i++)
    if (!rrun_network_options_add_dns (net, o->dns[i], error))
      return FALSE;
  for (guint i = 0; o->dns_search && o->dns_search[i]; i++)
    if (!rrun_network_options_add_dns_search (net, o->dns_search[i], error))
      return FALSE;
  for (guint i = 0; o->dns_option && o->dns_option[i]; i++)
    if (!rrun_network_options_add_dns_option (net, o->dns_option[i], error))
      return FALSE;
  for (guint i = 0; o->add_host && o->add_host[i]; i++)
    if (!rrun_network_options_add_host (net, o->add_host[i], error))
      return FALSE;
  if (o->mac_address != NULL && !rrun_network_options_set_mac (net, o->mac_address, error))
    return FALSE;
  if (!rrun_network_options_check (net, o->hostname != NULL, error))
    return FALSE;
  g_clear_pointer (&o->net, rrun_network_options_free);
  o->net = g_steal_pointer (&net);
  return TRUE;
}

gboolean
rrun_container_spec_stop_timeout (const RrunContainerSpec *o, int *out_seconds, GError **error)
{
  guint64 n;

  if (o->stop_timeout == NULL)
    {
      *out_seconds = 10;
      return TRUE;
    }
  if (!g_ascii_string_to_unsigned (o->stop_timeout, 10, 0, G_MAXINT, &n, NULL))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --stop-timeout \"%s\": expected seconds", o->stop_timeout);
  *out_seconds = (int) n;
  return TRUE;
}

/* --device, --device-cgroup-rule, --gpus and --rootfs: their syntax here; the host's
   devices are looked at when the container is made (device/device.c). */
static gboolean
check_devices (const RrunContainerSpec *o, GError **error)
{
  for (guint i = 0; o->devices && o->devices[i]; i++)
    {
      g_autofree char *host = NULL, *container = NULL, *perms = NULL;

      if (!rrun_device_is_cdi_name (o->devices[i])
          && !rrun_device_parse (o->devices[i], &host, &container, &perms, error))
        return FALSE;
    }
  for (guint i = 0; o->device_cgroup_rules && o->device_cgroup_rules[i]; i++)
    if (!rrun_device_cgroup_rule_check (o->device_cgroup_rules[i], error))
      return FALSE;
  if (o->gpus != NULL)
    {
      RrunGpuRequest r = { 0 };

      if (!rrun_gpu_request_parse (o->gpus, &r, error))
        return FALSE;
      rrun_gpu_request_clear (&r);
    }
  if (o->rootfs != NULL && o->rootfs[0] != '/')
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid --rootfs \"%s\": the path must be absolute", o->rootfs);
  return TRUE;
}

gboolean
rrun_container_spec_validate (const RrunConfig *config, RrunContainerSpec *o, GError **error)
{
  static const char *const pull_policies[] = { "missing", "always", "never", NULL };
  static const char *const userns_modes[] = { "auto", "keep-id", "nomap", "single", NULL };
  static const char *const ipc_modes[] = { "private", "host", "shareable", "none",
                                            "container:NAME", NULL };
  static const char *const cgroups_modes[] = { "enabled", "disabled", NULL };
  g_autoptr(RrunCaps) caps = NULL;

  if ((o->image == NULL || *o->image == '\0') && o->rootfs == NULL)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "no image given");
  if (!check_devices (o, error))
    return FALSE;
  if (o->pull != NULL && !g_strv_contains (pull_policies, o->pull))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid pull policy \"%s\"", o->pull);
      rrun_add_hint (error, "use --pull=missing, --pull=always or --pull=never");
      return FALSE;
    }
  if (!check_choice ("--userns", o->userns && *o->userns ? o->userns : NULL, userns_modes,
                     error)
      || !check_choice ("--ipc", o->ipc, ipc_modes, error)
      || !check_choice ("--cgroups", o->cgroups, cgroups_modes, error))
    return FALSE;
  if ((o->name != NULL && !rrun_spec_check_name (o->name, error))
      || (o->hostname != NULL && !rrun_spec_check_hostname (o->hostname, error)))
    return FALSE;
  if (o->workdir != NULL && o->workdir[0] != '/')
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid working directory \"%s\": it must be absolute", o->workdir);
  if (!rrun_caps_compute (o->cap_add, o->cap_drop, o->privileged, &caps, error)
      || !check_mounts (o, error) || !check_security_opts (o, error))
    return FALSE;
  if (o->stop_signal != NULL && !rrun_signal_parse (o->stop_signal, &(int){ 0 }, error))
    {
      g_prefix_error (error, "--stop-signal: ");
      return FALSE;
    }
  if (o->stop_timeout != NULL && !rrun_container_spec_stop_timeout (o, &(int){ 0 }, error))
    return FALSE;
  for (guint i = 0; o->labels && o->labels[i]; i++)
    if (o->labels[i][0] == '\0' || o->labels[i][0] == '=')
      {
        rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid --label \"%s\": no key",
                    o->labels[i]);
        rrun_add_hint (error, "a label is KEY=VALUE, or KEY for an empty value");
        return FALSE;
      }
  if (o->cidfile != NULL && (*o->cidfile == '\0' || g_file_test (o->cidfile, G_FILE_TEST_EXISTS)))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "--cidfile \"%s\": %s", o->cidfile,
                  *o->cidfile ? "the file exists" : "empty path");
      rrun_add_hint (error, "make sure no other container writes it, remove it, and run again");
      return FALSE;
    }
  {
    RrunRestartPolicy restart;
    RrunLogOptions log;

    if (!rrun_restart_policy_parse (o->restart, &restart, error))
      return FALSE;
    if (restart.mode != RRUN_RESTART_NO && o->rm)
      {
        rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "--restart %s conflicts with --rm",
                    o->restart);
        rrun_add_hint (error, "a container removed when it exits cannot be restarted: give "
                              "one or the other");
        return FALSE;
      }
    if (!rrun_health_check_flags (o, error)
        || !rrun_log_options_parse (o->log_driver, o->log_opts, o->detach, &log, error))
      return FALSE;
  }
  if (!rrun_spec_flags_validate (o, error))
    return FALSE;
  if (o->limits == NULL)
    o->limits = rrun_cgroup_limits_new ();
  return build_network (config, o, error);
}

/* ---- the stored form ------------------------------------------------------------------

   One row per stored option; the JSON names are the long flags'. */

typedef enum
{
  FIELD_STRING,
  FIELD_STRV,
  FIELD_BOOL,
} FieldKind;

typedef struct
{
  const char *name;
  FieldKind kind;
  gsize offset;
} SpecField;

#define F(name, kind, member) { name, kind, G_STRUCT_OFFSET (RrunContainerSpec, member) }

static const SpecField spec_fields[] = {
  F ("image", FIELD_STRING, image),
  F ("args", FIELD_STRV, args),
  F ("entrypoint", FIELD_STRING, entrypoint),
  F ("env", FIELD_STRV, env),
  F ("env-file", FIELD_STRV, env_files),
  F ("workdir", FIELD_STRING, workdir),
  F ("user", FIELD_STRING, user),
  F ("hostname", FIELD_STRING, hostname),
  F ("name", FIELD_STRING, name),
  F ("tty", FIELD_BOOL, tty),
  F ("interactive", FIELD_BOOL, interactive),
  F ("rm", FIELD_BOOL, rm),
  F ("init", FIELD_BOOL, init),
  F ("slurm-env", FIELD_BOOL, slurm_env),
  F ("privileged", FIELD_BOOL, privileged),
  F ("cap-add", FIELD_STRV, cap_add),
  F ("cap-drop", FIELD_STRV, cap_drop),
  F ("network", FIELD_STRING, network),
  F ("mac-address", FIELD_STRING, mac_address),
  F ("network-alias", FIELD_STRV, network_aliases),
  F ("ip", FIELD_STRING, ip),
  F ("ip6", FIELD_STRING, ip6),
  F ("userns", FIELD_STRING, userns),
  F ("volume", FIELD_STRV, volumes),
  F ("mount", FIELD_STRV, mounts),
  F ("tmpfs", FIELD_STRV, tmpfs),
  F ("volumes-from", FIELD_STRV, volumes_from),
  F ("read-only", FIELD_BOOL, read_only),
  F ("ipc", FIELD_STRING, ipc),
  F ("publish", FIELD_STRV, publish),
  F ("publish-all", FIELD_BOOL, publish_all),
  F ("dns", FIELD_STRV, dns),
  F ("dns-search", FIELD_STRV, dns_search),
  F ("dns-option", FIELD_STRV, dns_option),
  F ("add-host", FIELD_STRV, add_host),
  F ("cgroups", FIELD_STRING, cgroups),
  F ("pull", FIELD_STRING, pull),
  F ("no-tls-verify", FIELD_BOOL, no_tls_verify),
  F ("detach", FIELD_BOOL, detach),
  F ("stop-signal", FIELD_STRING, stop_signal),
  F ("stop-timeout", FIELD_STRING, stop_timeout),
  F ("label", FIELD_STRV, labels),
  F ("security-opt", FIELD_STRV, security_opt),
  F ("seccomp-profile", FIELD_STRING, seccomp_profile),
  F ("restart", FIELD_STRING, restart),
  F ("health-cmd", FIELD_STRING, health_cmd),
  F ("health-interval", FIELD_STRING, health_interval),
  F ("health-timeout", FIELD_STRING, health_timeout),
  F ("health-retries", FIELD_STRING, health_retries),
  F ("health-start-period", FIELD_STRING, health_start_period),
  F ("no-healthcheck", FIELD_BOOL, no_healthcheck),
  F ("log-driver", FIELD_STRING, log_driver),
  F ("log-opt", FIELD_STRV, log_opts),
  F ("device", FIELD_STRV, devices),
  F ("device-cgroup-rule", FIELD_STRV, device_cgroup_rules),
  F ("gpus", FIELD_STRING, gpus),
  F ("rootfs", FIELD_STRING, rootfs),
  F ("shm-size", FIELD_STRING, shm_size),
  F ("pid", FIELD_STRING, pid),
  F ("uts", FIELD_STRING, uts),
  F ("cgroupns", FIELD_STRING, cgroupns),
  F ("tz", FIELD_STRING, tz),
  F ("umask", FIELD_STRING, umask),
  F ("passwd-entry", FIELD_STRING, passwd_entry),
  F ("oom-score-adj", FIELD_STRING, oom_score_adj),
  F ("personality", FIELD_STRING, personality),
  F ("preserve-fds", FIELD_STRING, preserve_fds),
  F ("pidfile", FIELD_STRING, pidfile),
  F ("timeout", FIELD_STRING, timeout),
  F ("sdnotify", FIELD_STRING, sdnotify),
  F ("image-volume", FIELD_STRING, image_volume),
  F ("authfile", FIELD_STRING, authfile),
  F ("detach-keys", FIELD_STRING, detach_keys),
  F ("init-path", FIELD_STRING, init_path),
  F ("platform", FIELD_STRING, platform),
  F ("ulimit", FIELD_STRV, ulimits),
  F ("uidmap", FIELD_STRV, uidmaps),
  F ("gidmap", FIELD_STRV, gidmaps),
  F ("subuidname", FIELD_STRING, subuidname),
  F ("subgidname", FIELD_STRING, subgidname),
  F ("secret", FIELD_STRV, secrets),
  F ("sysctl", FIELD_STRV, sysctls),
  F ("group-add", FIELD_STRV, group_add),
  F ("expose", FIELD_STRV, expose),
  F ("env-merge", FIELD_STRV, env_merge),
  F ("unsetenv", FIELD_STRV, unsetenv),
  F ("hostuser", FIELD_STRV, hostuser),
  F ("annotation", FIELD_STRV, annotations),
  F ("chrootdirs", FIELD_STRV, chrootdirs),
  F ("requires", FIELD_STRV, requires),
  F ("no-hosts", FIELD_BOOL, no_hosts),
  F ("env-host", FIELD_BOOL, env_host),
  F ("unsetenv-all", FIELD_BOOL, unsetenv_all),
  F ("no-http-proxy", FIELD_BOOL, no_http_proxy),
  F ("no-passwd", FIELD_BOOL, no_passwd),
  F ("replace", FIELD_BOOL, replace),
  F ("no-read-only-tmpfs", FIELD_BOOL, no_read_only_tmpfs),
  F ("rmi", FIELD_BOOL, rmi),
  F ("no-sig-proxy", FIELD_BOOL, no_sig_proxy),
};

#undef F

#define AT(o, type, offset) G_STRUCT_MEMBER (type, (o), (offset))

void
rrun_container_spec_to_json (const RrunContainerSpec *o, RrunJsonBuilder *b)
{
  rrun_json_builder_begin_object (b);
  for (gsize i = 0; i < G_N_ELEMENTS (spec_fields); i++)
    {
      const SpecField *f = &spec_fields[i];

      switch (f->kind)
        {
        case FIELD_STRING:
          if (AT (o, char *, f->offset) != NULL)
            rrun_json_builder_member_string (b, f->name, AT (o, char *, f->offset));
          break;
        case FIELD_STRV:
          if (AT (o, char **, f->offset) != NULL)
            rrun_json_builder_member_strv (b, f->name,
                                           (const char *const *) AT (o, char **, f->offset));
          break;
        case FIELD_BOOL:
          if (AT (o, gboolean, f->offset))
            rrun_json_builder_member_bool (b, f->name, TRUE);
          break;
        }
    }
  if (o->root_emulation >= 0)
    rrun_json_builder_member_bool (b, "root-emulation", o->root_emulation > 0);
  if (o->limits != NULL && rrun_cgroup_limits_any (o->limits))
    {
      rrun_json_builder_set_member_name (b, "limits");
      rrun_cgroup_limits_to_json (o->limits, b);
    }
  rrun_json_builder_end_object (b);
}

static gboolean
read_field (const SpecField *f, RrunJson *v, RrunContainerSpec *o, GError **error)
{
  switch (f->kind)
    {
    case FIELD_STRING:
      if (rrun_json_string (v) == NULL)
        return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: expected a string", f->name);
      AT (o, char *, f->offset) = g_strdup (rrun_json_string (v));
      return TRUE;
    case FIELD_BOOL:
      if (rrun_json_type (v) != RRUN_JSON_BOOL)
        return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: expected true or false", f->name);
      AT (o, gboolean, f->offset) = rrun_json_int (v) != 0;
      return TRUE;
    case FIELD_STRV:
      {
        GPtrArray *items;

        if (rrun_json_type (v) != RRUN_JSON_ARRAY)
          return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: expected an array", f->name);
        items = g_ptr_array_new_with_free_func (g_free);
        for (guint i = 0; i < rrun_json_size (v); i++)
          {
            const char *s = rrun_json_string (rrun_json_element (v, i));
            if (s == NULL)
              {
                g_ptr_array_free (items, TRUE);
                return rrun_throw (error, RRUN_ERROR_CORRUPT, "%s: expected strings",
                                   f->name);
              }
            g_ptr_array_add (items, g_strdup (s));
          }
        g_ptr_array_set_free_func (items, NULL);
        g_ptr_array_add (items, NULL);
        AT (o, char **, f->offset) = (char **) g_ptr_array_free (items, FALSE);
        return TRUE;
      }
    }
  g_assert_not_reached ();
}

gboolean
rrun_container_spec_from_json (const RrunConfig *config, const RrunJson *object,
                               RrunContainerSpec **out_spec, GError **error)
{
  g_autoptr(RrunContainerSpec) o = rrun_container_spec_new ();
  RrunJson *v;

  if (object == NULL || rrun_json_type (object) != RRUN_JSON_OBJECT)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "expected an object");
  for (gsize i = 0; i < G_N_ELEMENTS (spec_fields); i++)
    if ((v = rrun_json_member_value (object, spec_fields[i].name)) != NULL
        && !read_field (&spec_fields[i], v, o, error))
      return FALSE;
  if ((v = rrun_json_member_value (object, "root-emulation")) != NULL)
    {
      if (rrun_json_type (v) != RRUN_JSON_BOOL)
        return rrun_throw (error, RRUN_ERROR_CORRUPT, "root-emulation: expected true or false");
      o->root_emulation = rrun_json_int (v) != 0;
    }
  if (!rrun_cgroup_limits_from_json (rrun_json_member_value (object, "limits"), &o->limits,
                                     error))
    return FALSE;
  o->from_record = TRUE;
  if (!rrun_container_spec_validate (config, o, error))
    return FALSE;
  *out_spec = g_steal_pointer (&o);
  return TRUE;
}
