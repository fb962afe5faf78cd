/* rrun inspect [--type container|image] [--format F] NAME...  and  rrun image inspect:
   JSON like podman's (an array), or a template per object (util/template.h). Running
   containers are looked up first, then images, as podman does. */
#include "cli/cli.h"
#include "error.h"
#include "log.h"
#include "network/network.h"
#include "network/usernet.h"
#include "container/health.h"
#include "container/policy.h"
#include "container/record.h"
#include "device/device.h"
#include "storage/image-info.h"
#include "storage/store.h"
#include "util/json-value.h"
#include "util/template.h"
#include "volume/volume.h"

#include <stdio.h>
#include <string.h>

static char *
rfc3339 (gint64 unix_seconds)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (unix_seconds);

  return dt ? g_date_time_format_iso8601 (dt) : g_strdup ("");
}

/* docker's time: RFC 3339 with nanoseconds, UTC; 0 is Go's zero time, as docker writes a
   FinishedAt that has not happened. */
static char *
rfc3339_ns (gint64 unix_ns)
{
  g_autoptr (GDateTime) dt = NULL;
  g_autofree char *base = NULL;

  if (unix_ns <= 0)
    return g_strdup ("0001-01-01T00:00:00Z");
  dt = g_date_time_new_from_unix_utc (unix_ns / 1000000000);
  base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf ("%s.%09" G_GINT64_FORMAT "Z", base, unix_ns % 1000000000);
}

/* {"80/tcp": [{"HostIp": "", "HostPort": "8080"}], ...}: podman's Ports and PortBindings. */
static void
add_ports (RrunJsonBuilder *b, const char *name, GArray *ports)
{
  rrun_json_builder_set_member_name (b, name);
  rrun_json_builder_begin_object (b);
  for (guint i = 0; ports && i < ports->len; i++)
    {
      const RrunPortMapping *m = &g_array_index (ports, RrunPortMapping, i);
      g_autofree char *key = g_strdup_printf ("%u/%s", m->container_port, m->udp ? "udp" : "tcp");
      g_autofree char *port = g_strdup_printf ("%u", m->host_port);

      rrun_json_builder_set_member_name (b, key);
      rrun_json_builder_begin_array (b);
      rrun_json_builder_begin_object (b);
      rrun_json_builder_member_string (b, "HostIp", m->host_ip ? m->host_ip : "");
      rrun_json_builder_member_string (b, "HostPort", port);
      rrun_json_builder_end_object (b);
      rrun_json_builder_end_array (b);
    }
  rrun_json_builder_end_object (b);
}

/* docker's Mounts: the record's mounts.json (rootfs/volumes.h), written when the
   container was made, with volumes resolved; for a record without one, -v and --tmpfs as
   given. */
static void
add_mounts (RrunJsonBuilder *b, const RrunConfig *config, const RrunState *s)
{
  g_autofree char *dir = rrun_record_dir (config, s->id);
  g_autofree char *path = g_build_filename (dir, RRUN_MOUNTS_FILE, NULL);
  g_autofree char *text = NULL;
  gsize len;

  rrun_json_builder_set_member_name (b, "Mounts");
  if (g_file_get_contents (path, &text, &len, NULL))
    {
      RrunJson *mounts = rrun_json_parse (text, len, RRUN_JSON_DEFAULT, NULL);
      if (mounts != NULL && rrun_json_type (mounts) == RRUN_JSON_ARRAY)
        {
          rrun_json_builder_add_value (b, mounts);
          return;
        }
      rrun_json_free (mounts);
    }
  rrun_json_builder_begin_array (b);
  for (guint i = 0; s->volumes && s->volumes[i]; i++)
    {
      g_auto (GStrv) part = g_strsplit (s->volumes[i], ":", 3);
      gboolean ro
          = part[1] && part[2] && strstr (part[2], "ro") != NULL && strstr (part[2], "rw") == NULL;

      rrun_json_builder_begin_object (b);
      rrun_json_builder_member_string (b, "Type", "bind");
      rrun_json_builder_member_string (b, "Source", part[0]);
      rrun_json_builder_member_string (b, "Destination", part[1] ? part[1] : part[0]);
      rrun_json_builder_member_bool (b, "RW", !ro);
      rrun_json_builder_end_object (b);
    }
  for (guint i = 0; s->tmpfs && s->tmpfs[i]; i++)
    {
      g_auto (GStrv) part = g_strsplit (s->tmpfs[i], ":", 2);

      rrun_json_builder_begin_object (b);
      rrun_json_builder_member_string (b, "Type", "tmpfs");
      rrun_json_builder_member_string (b, "Source", "tmpfs");
      rrun_json_builder_member_string (b, "Destination", part[0]);
      rrun_json_builder_member_string (b, "Options", part[1] ? part[1] : "");
      rrun_json_builder_member_bool (b, "RW", !(part[1] && strstr (part[1], "ro") != NULL));
      rrun_json_builder_end_object (b);
    }
  rrun_json_builder_end_array (b);
}

/* docker's HostConfig.Devices (--device HOST[:CONTAINER][:PERMS]) and DeviceRequests:
   one with Driver "cdi" for the CDI names given to --device, one for --gpus (docker's
   Count -1 for all, DeviceIDs for device=..., Capabilities [["gpu"]]). */
static void
add_devices (RrunJsonBuilder *b, const RrunState *s)
{
  g_autoptr(GPtrArray) cdi = g_ptr_array_new ();

  rrun_json_builder_set_member_name (b, "Devices");
  rrun_json_builder_begin_array (b);
  for (guint i = 0; s->devices && s->devices[i]; i++)
    {
      g_autofree char *host = NULL, *container = NULL, *perms = NULL;

      if (rrun_device_is_cdi_name (s->devices[i]))
        {
          g_ptr_array_add (cdi, s->devices[i]);
          continue;
        }
      if (!rrun_device_parse (s->devices[i], &host, &container, &perms, NULL))
        continue;
      rrun_json_builder_begin_object (b);
      rrun_json_builder_member_string (b, "PathOnHost", host);
      rrun_json_builder_member_string (b, "PathInContainer", container ? container : host);
      rrun_json_builder_member_string (b, "CgroupPermissions", perms ? perms : "rwm");
      rrun_json_builder_end_object (b);
    }
  rrun_json_builder_end_array (b);
  rrun_json_builder_set_member_name (b, "DeviceRequests");
  rrun_json_builder_begin_array (b);
  if (cdi->len > 0)
    {
      g_ptr_array_add (cdi, NULL);
      rrun_json_builder_begin_object (b);
      rrun_json_builder_member_string (b, "Driver", "cdi");
      rrun_json_builder_member_int (b, "Count", 0);
      rrun_json_builder_member_strv (b, "DeviceIDs", (const char *const *) cdi->pdata);
      rrun_json_builder_set_member_name (b, "Capabilities");
      rrun_json_builder_add_null_value (b);
      rrun_json_builder_end_object (b);
    }
  if (s->gpus != NULL)
    {
      RrunGpuRequest r = { 0 };

      if (rrun_gpu_request_parse (s->gpus, &r, NULL))
        {
          rrun_json_builder_begin_object (b);
          rrun_json_builder_member_string (b, "Driver", "");
          rrun_json_builder_member_int (b, "Count", r.all ? -1 : r.count);
          rrun_json_builder_member_strv (b, "DeviceIDs", (const char *const *) r.ids);
          rrun_json_builder_set_member_name (b, "Capabilities");
          rrun_json_builder_begin_array (b);
          rrun_json_builder_begin_array (b);
          rrun_json_builder_add_string_value (b, "gpu");
          rrun_json_builder_end_array (b);
          rrun_json_builder_end_array (b);
          rrun_json_builder_end_object (b);
        }
      rrun_gpu_request_clear (&r);
    }
  rrun_json_builder_end_array (b);
}

/* NetworkSettings.Networks: the container's addresses on user-defined networks (docker's
   fields), and IPAddress/Gateway/MacAddress of the first. */
static void
add_networks (RrunJsonBuilder *b, const RrunConfig *config, const RrunState *s)
{
  g_autoptr(GPtrArray) links = NULL;
  const RrunUserNetLink *first = NULL;

  if (!s->live || !rrun_usernet_list (config, s->id, NULL, &links, NULL))
    links = g_ptr_array_new ();
  for (guint i = 0; i < links->len; i++)
    {
      const RrunUserNetLink *l = links->pdata[i];

      if (first == NULL || strcmp (l->ifname, first->ifname) < 0)
        first = l;
    }
  rrun_json_builder_member_string (b, "IPAddress", first ? first->ip : "");
  rrun_json_builder_member_int (b, "IPPrefixLen", first ? first->prefix : 0);
  rrun_json_builder_member_string (b, "Gateway", first ? first->gateway : "");
  rrun_json_builder_member_string (b, "MacAddress", first ? first->mac : "");
  rrun_json_builder_member_string (b, "GlobalIPv6Address",
                                   first && first->ip6 ? first->ip6 : "");
  rrun_json_builder_member_int (b, "GlobalIPv6PrefixLen",
                                first && first->ip6 ? first->prefix6 : 0);
  rrun_json_builder_member_string (b, "IPv6Gateway", first && first->ip6 ? first->gateway6 : "");
  rrun_json_builder_set_member_name (b, "Networks");
  rrun_json_builder_begin_object (b);
  for (guint i = 0; i < links->len; i++)
    {
      const RrunUserNetLink *l = links->pdata[i];
      g_autofree char *short_id = g_strndup (l->cid, 12);
      g_autoptr(GPtrArray) aliases = g_ptr_array_new ();

      g_ptr_array_add (aliases, short_id);
      for (guint j = 0; l->aliases[j] != NULL; j++)
        g_ptr_array_add (aliases, l->aliases[j]);
      g_ptr_array_add (aliases, NULL);
      rrun_json_builder_set_member_name (b, l->network);
      rrun_json_builder_begin_object (b);
      rrun_json_builder_member_string (b, "NetworkID", l->network_id);
      rrun_json_builder_member_string (b, "EndpointID", l->host_ifname);
      rrun_json_builder_member_string (b, "Gateway", l->gateway);
      rrun_json_builder_member_string (b, "IPAddress", l->ip);
      rrun_json_builder_member_int (b, "IPPrefixLen", l->prefix);
      rrun_json_builder_member_string (b, "MacAddress", l->mac);
      rrun_json_builder_member_string (b, "IPv6Gateway", l->ip6 ? l->gateway6 : "");
      rrun_json_builder_member_string (b, "GlobalIPv6Address", l->ip6 ? l->ip6 : "");
      rrun_json_builder_member_int (b, "GlobalIPv6PrefixLen", l->ip6 ? l->prefix6 : 0);
      rrun_json_builder_member_strv (b, "Aliases", (const char *const *) aliases->pdata);
      rrun_json_builder_member_string (b, "InterfaceName", l->ifname);
      rrun_json_builder_end_object (b);
    }
  rrun_json_builder_end_object (b);
}

static RrunJson *
container_json (const RrunConfig *config, const RrunState *s)
{
  g_autoptr (RrunJsonBuilder) b = rrun_json_builder_new ();
  g_autoptr (GArray) ports = NULL;
  g_autofree char *created = rfc3339 (s->created);
  g_autofree char *sock = g_build_filename (s->run_dir, "net.sock", NULL);
  g_autofree char *ports_text = NULL;
  const char *network = s->network ? s->network : "slirp";

  /* Only slirp mode has a helper to ask; a helper that cannot answer leaves the ports
     out with a warning rather than failing the whole inspect. */
  if (g_file_test (sock, G_FILE_TEST_EXISTS))
    {
      g_autoptr (GError) local = NULL;
      if (!rrun_network_query_ports (s->run_dir, &ports, &local))
        rrun_warning ("cannot list the ports of container %.12s: %s", s->id, local->message);
    }
  ports_text = rrun_network_ports_text (ports);
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "Id", s->id);
  rrun_json_builder_member_string (b, "Created", created);
  rrun_json_builder_member_string (b, "Path", s->args && s->args[0] ? s->args[0] : s->command);
  rrun_json_builder_member_strv (b, "Args",
                                 (const char *const *)(s->args && s->args[0] ? s->args + 1 : NULL));
  rrun_json_builder_set_member_name (b, "State");
  rrun_json_builder_begin_object (b);
  {
    gboolean running = s->live && s->status == RRUN_STATUS_RUNNING;
    g_autofree char *started = rfc3339_ns (s->started);
    g_autofree char *finished = rfc3339_ns (s->status == RRUN_STATUS_EXITED ? s->finished : 0);

    gboolean restarting = s->live && s->restarting && s->status == RRUN_STATUS_EXITED;
    g_autoptr(RrunHealth) health = NULL;
    g_autofree char *record_dir = rrun_record_dir (config, s->id);

    rrun_json_builder_member_string (b, "Status",
                                     s->paused     ? "paused"
                                     : restarting  ? "restarting"
                                                   : rrun_status_name (s->status));
    rrun_json_builder_member_bool (b, "Running", running);
    rrun_json_builder_member_bool (b, "Paused", s->paused);
    rrun_json_builder_member_bool (b, "Restarting", restarting);
    rrun_json_builder_member_bool (b, "OOMKilled", s->oom_killed);
    rrun_json_builder_member_bool (b, "Dead", FALSE);
    rrun_json_builder_member_int (b, "Pid", running ? s->pid : 0);
    rrun_json_builder_member_int (b, "ExitCode", s->status == RRUN_STATUS_EXITED ? s->exit_code : 0);
    rrun_json_builder_member_string (b, "StartedAt", started);
    rrun_json_builder_member_string (b, "FinishedAt", finished);
    /* docker's State.Health: the monitor's record of the checks (container/health.c). */
    if (rrun_health_read (record_dir, &health, NULL) && health != NULL)
      {
        g_autofree char *text = rrun_health_to_json (health);
        g_autoptr(RrunJson) v = rrun_json_parse (text, strlen (text), RRUN_JSON_DEFAULT, NULL);
        g_autoptr(RrunJson) h = rrun_json_new_object ();

        rrun_json_object_set (h, "Status", rrun_json_copy (rrun_json_member (v, "Status")));
        rrun_json_object_set (h, "FailingStreak",
                              rrun_json_copy (rrun_json_member (v, "FailingStreak")));
        rrun_json_object_set (h, "Log", rrun_json_copy (rrun_json_member (v, "Log")));
        rrun_json_builder_member_value (b, "Health", h);
      }
  }
  rrun_json_builder_end_object (b);
  rrun_json_builder_member_int (b, "RestartCount", s->restart_count);
  rrun_json_builder_member_string (b, "Image", s->image_id ? s->image_id : "");
  rrun_json_builder_member_string (b, "ImageName", s->image);
  rrun_json_builder_member_string (b, "Name", s->name ? s->name : "");
  /* docker's Driver: the storage driver of its writable layer ("" for an old record). */
  rrun_json_builder_member_string (b, "Driver", s->storage_driver ? s->storage_driver : "");
  rrun_json_builder_member_string (b, "Command", s->command);
  /* docker's Config.Labels: the container's --label (the image's are in its inspect). */
  rrun_json_builder_set_member_name (b, "Config");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_set_member_name (b, "Labels");
  rrun_json_builder_begin_object (b);
  for (guint i = 0; s->labels && s->labels[i]; i++)
    {
      const char *eq = strchr (s->labels[i], '=');
      g_autofree char *key = eq ? g_strndup (s->labels[i], (gsize) (eq - s->labels[i]))
                                : g_strdup (s->labels[i]);
      rrun_json_builder_member_string (b, key, eq ? eq + 1 : "");
    }
  rrun_json_builder_end_object (b);
  /* podman's Config.Annotations: --annotation */
  rrun_json_builder_set_member_name (b, "Annotations");
  rrun_json_builder_begin_object (b);
  for (guint i = 0; s->annotations && s->annotations[i]; i++)
    {
      const char *eq = strchr (s->annotations[i], '=');
      g_autofree char *key = eq ? g_strndup (s->annotations[i],
                                             (gsize) (eq - s->annotations[i]))
                                : g_strdup (s->annotations[i]);
      rrun_json_builder_member_string (b, key, eq ? eq + 1 : "");
    }
  rrun_json_builder_end_object (b);
  rrun_json_builder_end_object (b);
  rrun_json_builder_member_string (b, "CgroupPath", s->cgroup);
  rrun_json_builder_set_member_name (b, "HostConfig");
  rrun_json_builder_begin_object (b);
  rrun_json_builder_member_string (b, "NetworkMode", network);
  rrun_json_builder_member_bool (b, "AutoRemove", s->rm);
  {
    RrunRestartPolicy policy = { RRUN_RESTART_NO, 0 };

    rrun_restart_policy_parse (s->restart_policy, &policy, NULL);
    rrun_json_builder_set_member_name (b, "RestartPolicy");
    rrun_json_builder_begin_object (b);
    rrun_json_builder_member_string (b, "Name", rrun_restart_mode_name (policy.mode));
    rrun_json_builder_member_int (b, "MaximumRetryCount", policy.max_retries);
    rrun_json_builder_end_object (b);
  }
  add_ports (b, "PortBindings", ports);
  rrun_json_builder_member_strv (b, "Binds", (const char *const *)s->volumes);
  rrun_json_builder_member_strv (b, "VolumesFrom", (const char *const *)s->volumes_from);
  add_devices (b, s);
  rrun_json_builder_end_object (b);
  rrun_json_builder_set_member_name (b, "NetworkSettings");
  rrun_json_builder_begin_object (b);
  add_ports (b, "Ports", ports);
  add_networks (b, config, s);
  rrun_json_builder_end_object (b);
  /* The lines `rrun port` prints ("80/tcp -> 0.0.0.0:8080"). */
  {
    g_auto (GStrv) lines = g_strsplit (ports_text, "\n", -1);
    guint n = g_strv_length (lines);

    if (n > 0 && *lines[n - 1] == '\0')
      g_clear_pointer (&lines[n - 1], g_free);
    rrun_json_builder_member_strv (b, "Ports", (const char *const *)lines);
  }
  add_mounts (b, config, s);
  rrun_json_builder_end_object (b);
  return rrun_json_builder_get_root (b);
}

typedef enum
{
  TYPE_ANY,
  TYPE_CONTAINER,
  TYPE_IMAGE,
} ObjectType;

/* The inspect object for name: a running container, else an image. */
static RrunJson *
find_object (RrunGlobal *g, RrunStore **store, const char *name, ObjectType type, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (RrunImage) image = NULL;

  if (type != TYPE_IMAGE)
    {
      g_autoptr (RrunState) state = NULL;

      if (rrun_state_find_any (g->config, name, &state, &local))
        return container_json (g->config, state);
      if (type == TYPE_CONTAINER || !g_error_matches (local, RRUN_ERROR, RRUN_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      g_clear_error (&local);
    }
  if (*store == NULL && !rrun_store_open (g->config, store, error))
    return NULL;
  if (rrun_store_find_image (*store, name, &image, &local))
    return rrun_image_info_inspect (image, error);
  if (type == TYPE_IMAGE || !g_error_matches (local, RRUN_ERROR, RRUN_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  rrun_throw (error, RRUN_ERROR_NOT_FOUND, "no such object \"%s\"", name);
  rrun_add_hint (error, "containers: rrun ps -a; images: rrun images");
  return NULL;
}

static gboolean
inspect (RrunGlobal *g, const char *command, ObjectType type, int argc, char **argv,
         int *out_status, GError **error)
{
  g_autofree char *format = NULL, *type_name = NULL;
  const GOptionEntry type_entries[] = { { "type", 't', 0, G_OPTION_ARG_STRING, &type_name,
                                          "container, image or all (default)", "TYPE" },
                                        { NULL } };
  const RrunCliSpec spec
      = { command,
          type == TYPE_IMAGE ? "IMAGE..." : "NAME...",
          type == TYPE_IMAGE ? "Show an image's configuration, layers and history as JSON."
                             : "Show containers (running or stopped) or images as JSON "
                               "(containers are looked up first).",
          1,
          -1,
          NULL,
          &format,
          TRUE };
  g_autoptr (RrunTemplate) tmpl = NULL;
  g_autoptr (RrunStore) store = NULL;
  g_autoptr (RrunJsonBuilder) all = rrun_json_builder_new ();
  g_autoptr (GError) last = NULL;
  gboolean help;

  if (!rrun_cli_parse_args (&spec, type == TYPE_IMAGE ? NULL : type_entries, &argc, &argv, &help,
                            error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  if (type_name && strcmp (type_name, "container") == 0)
    type = TYPE_CONTAINER;
  else if (type_name && strcmp (type_name, "image") == 0)
    type = TYPE_IMAGE;
  else if (type_name && strcmp (type_name, "all") != 0)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "invalid --type \"%s\": expected container, image or all", type_name);
      return FALSE;
    }
  /* A bad template fails before anything is looked up or printed. */
  if (format && strcmp (format, "json") != 0 && (tmpl = rrun_template_new (format, error)) == NULL)
    {
      g_prefix_error (error, "invalid --format \"%s\": ", format);
      return FALSE;
    }
  rrun_json_builder_begin_array (all);
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) local = NULL;
      g_autoptr (RrunJson) node = find_object (g, &store, argv[i], type, &local);

      if (node == NULL)
        {
          /* Like podman: report each missing one, go on, fail at the end. */
          if (last)
            rrun_log_print_error (last);
          g_clear_error (&last);
          last = g_steal_pointer (&local);
          continue;
        }
      if (tmpl == NULL)
        {
          rrun_json_builder_add_value (all, g_steal_pointer (&node));
          continue;
        }
      {
        g_autofree char *text = rrun_template_render (tmpl, node, error);

        if (text == NULL)
          {
            g_prefix_error (error, "cannot apply --format to \"%s\": ", argv[i]);
            return FALSE;
          }
        printf ("%s\n", text);
      }
    }
  rrun_json_builder_end_array (all);
  if (tmpl == NULL)
    rrun_cli_print_json_builder (all);
  if (last)
    {
      g_propagate_error (error, g_steal_pointer (&last));
      return FALSE;
    }
  return TRUE;
}

gboolean
rrun_cmd_inspect (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return inspect (g, "inspect", TYPE_ANY, argc, argv, out_status, error);
}

gboolean
rrun_cmd_image_inspect (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return inspect (g, "image inspect", TYPE_IMAGE, argc, argv, out_status, error);
}
