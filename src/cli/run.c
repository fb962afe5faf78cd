/* rrun run [OPTIONS] IMAGE [COMMAND [ARG...]], and rrun create (the same options): */
#include "cli/cli.h"
#include "container/container.h"
#include "container/monitor.h"
#include "error.h"
#include "registry/manifest.h"
#include "util/text-file.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>


/* podman's boolean flags take an optional value (--sig-proxy=false, --rmi); GOption gives
   an optional argument only to callbacks. Each flag names its member and whether it is
   stored inverted (the default-true ones: --http-proxy, --passwd, ...). */
typedef struct
{
  const char *flag;
  gsize offset;
  gboolean inverted;
} BoolFlag;

static const BoolFlag bool_flags[] = {
  { "--no-hosts", G_STRUCT_OFFSET (RrunContainerSpec, no_hosts), FALSE },
  { "--env-host", G_STRUCT_OFFSET (RrunContainerSpec, env_host), FALSE },
  { "--unsetenv-all", G_STRUCT_OFFSET (RrunContainerSpec, unsetenv_all), FALSE },
  { "--http-proxy", G_STRUCT_OFFSET (RrunContainerSpec, no_http_proxy), TRUE },
  { "--passwd", G_STRUCT_OFFSET (RrunContainerSpec, no_passwd), TRUE },
  { "--replace", G_STRUCT_OFFSET (RrunContainerSpec, replace), FALSE },
  { "--read-only-tmpfs", G_STRUCT_OFFSET (RrunContainerSpec, no_read_only_tmpfs), TRUE },
  { "--rmi", G_STRUCT_OFFSET (RrunContainerSpec, rmi), FALSE },
  { "--sig-proxy", G_STRUCT_OFFSET (RrunContainerSpec, no_sig_proxy), TRUE },
};

static gboolean
bool_flag_cb (const char *name, const char *value, gpointer data, GError **error)
{
  RrunContainerSpec *o = data;
  gboolean on = !g_str_has_suffix (name, "--false");

  for (gsize i = 0; i < G_N_ELEMENTS (bool_flags); i++)
    if (g_str_has_prefix (name, bool_flags[i].flag)
        && (name[strlen (bool_flags[i].flag)] == '\0'
            || strcmp (name + strlen (bool_flags[i].flag), "--false") == 0))
      G_STRUCT_MEMBER (gboolean, o, bool_flags[i].offset) = bool_flags[i].inverted ? !on : on;
  return TRUE;
}

static const GOptionEntry *
find_entry (const GOptionEntry *entries, const char *long_name, char short_name)
{
  for (const GOptionEntry *e = entries; e->long_name; e++)
    if (long_name ? strcmp (e->long_name, long_name) == 0 : e->short_name == short_name)
      return e;
  return NULL;
}

/* GOption gives an optional value only to a callback, and then takes the next word as it
   (so `--rmi IMAGE` would lose the image). The boolean flags are plain switches instead,
   and their `--flag=true|false` forms are rewritten before parsing: true to the switch,
   false to a hidden "--flag--false". Only words up to the image are looked at: an option
   that takes a value skips the next word; unknown ones (the resource limits) all do. */
static gboolean
rewrite_bool_values (const char *command, const GOptionEntry *entries, int argc, char **argv,
                     GError **error)
{
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      const char *eq = strchr (a, '=');

      if (strcmp (a, "--") == 0 || a[0] != '-' || a[1] == '\0')
        return TRUE; /* the image: the command's own words follow */
      if (a[1] == '-')
        {
          g_autofree char *name = eq ? g_strndup (a + 2, (gsize) (eq - a - 2)) : g_strdup (a + 2);
          const GOptionEntry *e = find_entry (entries, name, 0);

          if (eq != NULL && e != NULL && e->arg == G_OPTION_ARG_CALLBACK)
            {
              if (g_ascii_strcasecmp (eq + 1, "true") == 0)
                argv[i] = g_strdup_printf ("--%s", name);
              else if (g_ascii_strcasecmp (eq + 1, "false") == 0)
                argv[i] = g_strdup_printf ("--%s--false", name);
              else
                return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                                   "%s: invalid value \"%s\" for --%s: expected true or false",
                                   command, eq + 1, name);
              /* argv's words are the caller's: this one lives as long as the process */
            }
          else if (eq == NULL && (e == NULL || (e->arg != G_OPTION_ARG_NONE
                                                && e->arg != G_OPTION_ARG_CALLBACK)))
            i++;
        }
      else
        {
          /* -it, -e K=V, -eK=V: a short option with a value ends the cluster */
          for (const char *c = a + 1; *c; c++)
            {
              const GOptionEntry *e = find_entry (entries, NULL, *c);

              if (e == NULL || e->arg != G_OPTION_ARG_NONE)
                {
                  if (c[1] == '\0')
                    i++;
                  break;
                }
            }
        }
    }
  return TRUE;
}

/* --platform, or its parts --os, --arch and --variant (podman's). */
static gboolean
platform_of (char *platform, char *os, char *arch, char *variant, char **out, GError **error)
{
  if (platform != NULL && (os != NULL || arch != NULL || variant != NULL))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "--platform cannot go with --os, --arch or --variant");
  if (platform != NULL)
    *out = g_strdup (platform);
  else if (os != NULL || arch != NULL || variant != NULL)
    {
      g_autoptr(RrunPlatform) host = rrun_platform_host ();

      *out = g_strdup_printf ("%s/%s%s%s", os ? os : "linux", arch ? arch : host->architecture,
                              variant ? "/" : "", variant ? variant : "");
    }
  return TRUE;
}

static gboolean
run_or_create (const char *command, gboolean create, RrunGlobal *g, int argc, char **argv,
               int *out_status, GError **error)
{
  RrunContainerSpec o = { .root_emulation = -1 };
  gboolean detach = FALSE, ok, emulate = FALSE, no_emulate = FALSE, rootfs = FALSE;
  char *entrypoint = NULL, *tls = NULL;
  g_auto(GStrv) label_files = NULL;
  g_auto(GStrv) attach = NULL;
  g_auto(GStrv) networks = NULL;
  gboolean attach_out = TRUE, attach_err = TRUE;
  int saved_out = -1, saved_err = -1;
  g_autofree char *image_file = NULL, *image_file_abs = NULL;
  g_autofree char **image_file_argv = NULL;
  char *os = NULL, *arch = NULL, *variant = NULL, *platform = NULL;
  gboolean quiet = FALSE;
  GOptionEntry entries[] = {
    { "attach", 'a', 0, G_OPTION_ARG_STRING_ARRAY, &attach,
      "Attach only these streams: STDIN, STDOUT, STDERR (foreground only)", "STREAM" },
    { "pull", 0, 0, G_OPTION_ARG_STRING, &o.pull,
      "Pull the image: missing (default), always or never", "POLICY" },
    { "tls-verify", 0, 0, G_OPTION_ARG_STRING, &tls,
      "Verify the registry's TLS certificate when pulling (default true)", "BOOL" },
    { "interactive", 'i', 0, G_OPTION_ARG_NONE, &o.interactive, "Keep stdin open", NULL },
    { "tty", 't', 0, G_OPTION_ARG_NONE, &o.tty, "Allocate a terminal", NULL },
    { "rm", 0, 0, G_OPTION_ARG_NONE, &o.rm, "Remove the container when it exits", NULL },
    { "detach", 'd', 0, G_OPTION_ARG_NONE, &detach,
      "Run in the background under a monitor; print the container's ID", NULL },
    { "stop-signal", 0, 0, G_OPTION_ARG_STRING, &o.stop_signal,
      "Signal rrun stop sends first (default: the image's STOPSIGNAL, else SIGTERM)", "SIG" },
    { "label", 'l', 0, G_OPTION_ARG_STRING_ARRAY, &o.labels, "Set a label: KEY=VALUE",
      "K=V" },
    { "label-file", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &label_files,
      "Read labels from a file (KEY=VALUE lines)", "FILE" },
    { "cidfile", 0, 0, G_OPTION_ARG_FILENAME, &o.cidfile,
      "Write the container's full ID to FILE (which must not exist)", "FILE" },
    { "restart", 0, 0, G_OPTION_ARG_STRING, &o.restart,
      "Restart policy: no (default), on-failure[:N], always or unless-stopped", "POLICY" },
    { "health-cmd", 0, 0, G_OPTION_ARG_STRING, &o.health_cmd,
      "Command that checks the container's health (shell, or a JSON array)", "CMD" },
    { "health-interval", 0, 0, G_OPTION_ARG_STRING, &o.health_interval,
      "Time between health checks (default 30s)", "DURATION" },
    { "health-timeout", 0, 0, G_OPTION_ARG_STRING, &o.health_timeout,
      "Time a health check may take (default 30s)", "DURATION" },
    { "health-retries", 0, 0, G_OPTION_ARG_STRING, &o.health_retries,
      "Failures in a row that make it unhealthy (default 3)", "N" },
    { "health-start-period", 0, 0, G_OPTION_ARG_STRING, &o.health_start_period,
      "Time after start when failures do not count (default 0s)", "DURATION" },
    { "no-healthcheck", 0, 0, G_OPTION_ARG_NONE, &o.no_healthcheck,
      "Run no health check, not even the image's", NULL },
    { "log-driver", 0, 0, G_OPTION_ARG_STRING, &o.log_driver,
      "k8s-file (default), none, or passthrough (foreground only)", "DRIVER" },
    { "log-opt", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.log_opts,
      "Log option: max-size=SIZE, max-file=N", "OPT" },
    { "stop-timeout", 0, 0, G_OPTION_ARG_STRING, &o.stop_timeout,
      "Seconds rrun stop waits before SIGKILL (default 10)", "N" },
    { "env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &o.env, "Set K=V, or pass K from here", "K=V" },
    { "env-file", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o.env_files, "Read variables from a file",
      "FILE" },
    { "workdir", 'w', 0, G_OPTION_ARG_STRING, &o.workdir, "Working directory inside", "DIR" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &o.user, "User: name|uid[:group|gid]", "USER" },
    { "hostname", 'h', 0, G_OPTION_ARG_STRING, &o.hostname, "Container host name", "NAME" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &o.name, "Container name", "NAME" },
    { "entrypoint", 0, 0, G_OPTION_ARG_STRING, &entrypoint, "Override the image's entrypoint",
      "CMD" },
    { "slurm-env", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &o.slurm_env,
      "Pass the caller's variables the image does not set (the Slurm plugin)", NULL },
    { "init", 0, 0, G_OPTION_ARG_NONE, &o.init, "Run rrun's init as PID 1 (reaps zombies)",
      NULL },
    { "privileged", 0, 0, G_OPTION_ARG_NONE, &o.privileged,
      "All capabilities of the user namespace, no masked paths", NULL },
    { "cap-add", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.cap_add, "Add a capability", "CAP" },
    { "cap-drop", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.cap_drop, "Drop a capability", "CAP" },
    { "security-opt", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.security_opt,
      "seccomp=unconfined|PROFILE.json, no-new-privileges, mask=PATHS, unmask=ALL|PATHS, "
      "label=disable", "OPT" },
    { "network", 0, 0, G_OPTION_ARG_STRING_ARRAY, &networks,
      "NET[,NET2] (user-defined networks), slirp[:k=v,...], none, host, container:NAME or "
      "ns:PATH", "MODE" },
    { "network-alias", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.network_aliases,
      "Another name of the container on its user-defined networks", "NAME" },
    { "ip", 0, 0, G_OPTION_ARG_STRING, &o.ip, "The container's address on its network",
      "IPV4" },
    { "ip6", 0, 0, G_OPTION_ARG_STRING, &o.ip6,
      "The container's IPv6 address on its network (made with --ipv6)", "IPV6" },
    { "mac-address", 0, 0, G_OPTION_ARG_STRING, &o.mac_address,
      "MAC address of the container's tap0 (slirp)", "MAC" },
    { "net", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING_ARRAY, &networks, NULL, NULL },
    { "userns", 0, 0, G_OPTION_ARG_STRING, &o.userns, "auto, keep-id, nomap or single", "MODE" },
    { "volume", 'v', 0, G_OPTION_ARG_STRING_ARRAY, &o.volumes,
      "A volume or bind: NAME:/ctr, /host:/ctr or /ctr (anonymous), [:ro|rw|nocopy|U]", "SPEC" },
    { "mount", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.mounts,
      "Mount a volume, bind or tmpfs: type=volume|bind|tmpfs,source=,target=[,readonly]...",
      "SPEC" },
    { "volumes-from", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.volumes_from,
      "Mount another container's volumes and binds at the same paths", "CONTAINER[:ro|rw]" },
    { "tmpfs", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.tmpfs, "Mount a tmpfs: /path[:size=,mode=]",
      "SPEC" },
    { "read-only", 0, 0, G_OPTION_ARG_NONE, &o.read_only, "Mount the root file system read-only",
      NULL },
    { "ipc", 0, 0, G_OPTION_ARG_STRING, &o.ipc,
      "private (default), host, shareable, none or container:NAME", "MODE" },
    { "root-emulation", 0, 0, G_OPTION_ARG_NONE, &emulate,
      "Make chown and setuid succeed without effect (single-ID mode: they fail with EINVAL)",
      NULL },
    { "no-root-emulation", 0, 0, G_OPTION_ARG_NONE, &no_emulate,
      "Single-ID mode: no setgroups no-op, no apt file", NULL },
    { "publish", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &o.publish,
      "Publish a port: [hostIP:]hostPort:containerPort[/tcp|udp]", "SPEC" },
    { "publish-all", 'P', 0, G_OPTION_ARG_NONE, &o.publish_all,
      "Publish every exposed port on a random host port", NULL },
    { "dns", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.dns, "A DNS server for resolv.conf", "IP" },
    { "dns-search", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.dns_search, "A DNS search domain",
      "DOMAIN" },
    { "dns-option", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.dns_option, "A resolv.conf option",
      "OPT" },
    { "add-host", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.add_host, "Add NAME:IP to /etc/hosts",
      "NAME:IP" },
    { "cgroups", 0, 0, G_OPTION_ARG_STRING, &o.cgroups, "enabled (default) or disabled",
      "MODE" },
    { "image-file", 0, 0, G_OPTION_ARG_FILENAME, &image_file,
      "Run a squashfs image file (rrun image export); the operands are the command", "FILE" },
    { "device", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.devices,
      "Bind a host device node (HOST[:CONTAINER][:rwm]) or add a CDI device "
      "(vendor.com/class=NAME|all)", "DEV" },
    { "device-cgroup-rule", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.device_cgroup_rules,
      "A device cgroup rule (\"c 195:* rwm\"): checked, not applied rootless", "RULE" },
    { "gpus", 0, 0, G_OPTION_ARG_STRING, &o.gpus,
      "GPUs: all, N, device=0,1 or device=UUID (CDI nvidia.com/gpu, else the driver found "
      "on the host)", "GPUS" },
    { "rootfs", 0, 0, G_OPTION_ARG_NONE, &rootfs,
      "The first argument is a root file system directory to run, not an image "
      "(an overlay keeps it unchanged)", NULL },
    { "ulimit", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.ulimits,
      "A resource limit: NAME=SOFT[:HARD] (nofile, nproc, core, stack, ...)", "NAME=N[:N]" },
    { "shm-size", 0, 0, G_OPTION_ARG_STRING, &o.shm_size, "Size of /dev/shm (default 64m)",
      "SIZE" },
    { "sysctl", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.sysctls,
      "A namespaced kernel parameter: kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*",
      "KEY=VALUE" },
    { "group-add", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.group_add,
      "A supplementary group (name or GID), or keep-groups for the user's own", "GROUP" },
    { "pid", 0, 0, G_OPTION_ARG_STRING, &o.pid,
      "PID namespace: private (default), host or container:NAME", "MODE" },
    { "uts", 0, 0, G_OPTION_ARG_STRING, &o.uts, "UTS namespace: private (default) or host",
      "MODE" },
    { "cgroupns", 0, 0, G_OPTION_ARG_STRING, &o.cgroupns,
      "cgroup namespace: private (default) or host", "MODE" },
    { "tz", 0, 0, G_OPTION_ARG_STRING, &o.tz, "Time zone: local (the host's) or Area/City",
      "ZONE" },
    { "umask", 0, 0, G_OPTION_ARG_STRING, &o.umask, "The command's umask (default 0022)",
      "MASK" },
    { "no-hosts", 0, G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, (gpointer) bool_flag_cb,
      "Keep the image's /etc/hosts (no generated one)", NULL },
    { "expose", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.expose,
      "Expose a port or range for -P: PORT[-PORT][/tcp|udp]", "PORT" },
    { "env-host", 0, G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, (gpointer) bool_flag_cb,
      "Pass this environment into the container", NULL },
    { "env-merge", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.env_merge,
      "Set K from the image's value: K=${K}:more", "K=TEXT" },
    { "unsetenv", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.unsetenv,
      "Remove K from the default environment (image's, PATH, HOME, ...)", "K" },
    { "unsetenv-all", 0, G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, (gpointer) bool_flag_cb,
      "Start from an empty environment: only -e, --env-file and --env-host", NULL },
    { "http-proxy", 0, G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, (gpointer) bool_flag_cb,
      "Pass the host's proxy variables (default true; =false: not)", NULL },
    { "passwd-entry", 0, 0, G_OPTION_ARG_STRING, &o.passwd_entry,
      "The /etc/passwd line for -u: $USERNAME, $UID, $GID, $NAME, $HOME", "TEMPLATE" },
    { "passwd", 0, G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, (gpointer) bool_flag_cb,
      "Add an /etc/passwd line for a -u UID the image lacks (default true)", NULL },
    { "hostuser", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.hostuser,
      "Copy a host user's /etc/passwd line into the container", "NAME" },
    { "annotation", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.annotations,
      "Add an annotation: KEY=VALUE (shown by inspect)", "K=V" },
    { "oom-score-adj", 0, 0, G_OPTION_ARG_STRING, &o.oom_score_adj,
      "The command's OOM score adjustment (-1000..1000; rootless may only raise it)", "N" },
    { "personality", 0, 0, G_OPTION_ARG_STRING, &o.personality,
      "Execution domain: LINUX or LINUX32", "DOMAIN" },
    { "preserve-fds", 0, 0, G_OPTION_ARG_STRING, &o.preserve_fds,
      "Pass N more open fds (3 .. N+2) to the command", "N" },
    { "pidfile", 0, 0, G_OPTION_ARG_FILENAME, &o.pidfile,
      "Write the container's PID 1 (host pid) to FILE", "FILE" },
    { "timeout", 0, 0, G_OPTION_ARG_STRING, &o.timeout,
      "Kill the container after N seconds (exit 255)", "N" },
    { "replace", 0, G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, (gpointer) bool_flag_cb,
      "Remove the container holding --name first", NULL },
    { "sdnotify", 0, 0, G_OPTION_ARG_STRING, &o.sdnotify,
      "container (the command notifies), conmon (rrun, when started) or ignore", "MODE" },
    { "read-only-tmpfs", 0, G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, (gpointer) bool_flag_cb,
      "With --read-only: tmpfs on /tmp, /var/tmp and /run (default true)", NULL },
    { "image-volume", 0, 0, G_OPTION_ARG_STRING, &o.image_volume,
      "The image's VOLUMEs: bind (default), tmpfs or ignore", "MODE" },
    { "rmi", 0, G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, (gpointer) bool_flag_cb,
      "Remove the image once the container is removed (with --rm)", NULL },
    { "authfile", 0, 0, G_OPTION_ARG_FILENAME, &o.authfile,
      "Registry credentials for the pull (auth.json)", "FILE" },
    { "sig-proxy", 0, G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, (gpointer) bool_flag_cb,
      "Forward signals to the container (default true)", NULL },
    { "detach-keys", 0, 0, G_OPTION_ARG_STRING, &o.detach_keys,
      "Keys that detach: ctrl-<x> and letters, comma-separated", "KEYS" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No pull progress", NULL },
    { "init-path", 0, 0, G_OPTION_ARG_FILENAME, &o.init_path,
      "With --init: run this init program instead of rrun's", "PATH" },
    { "secret", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.secrets,
      "A secret (rrun secret create) at /run/secrets/NAME, or type=env",
      "NAME[,type=mount|env][,target=T][,mode=M]" },
    { "uidmap", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.uidmaps,
      "Map container UIDs: CONTAINER:ID:COUNT, ID counted in your namespace (0 you, "
      "1.. your subordinate range)", "C:ID:N" },
    { "gidmap", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.gidmaps,
      "Map container GIDs (default: as --uidmap)", "C:ID:N" },
    { "subuidname", 0, 0, G_OPTION_ARG_STRING, &o.subuidname,
      "Use NAME's /etc/subuid ranges (only your own can be used rootless)", "NAME" },
    { "subgidname", 0, 0, G_OPTION_ARG_STRING, &o.subgidname,
      "Use NAME's /etc/subgid ranges (only your own can be used rootless)", "NAME" },
    { "chrootdirs", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.chrootdirs,
      "A path inside the container that is a chroot (its /etc files are not replaced)", "PATH" },
    { "requires", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.requires,
      "Containers to start first (comma-separated)", "NAMES" },
    { "platform", 0, 0, G_OPTION_ARG_STRING, &platform,
      "Pull this platform's image: OS/ARCH[/VARIANT]", "PLATFORM" },
    { "os", 0, 0, G_OPTION_ARG_STRING, &os, "Pull this OS's image (linux)", "OS" },
    { "arch", 0, 0, G_OPTION_ARG_STRING, &arch, "Pull this architecture's image", "ARCH" },
    { "variant", 0, 0, G_OPTION_ARG_STRING, &variant, "Pull this CPU variant's image",
      "VARIANT" },
    { "no-hosts--false", 0, G_OPTION_FLAG_NO_ARG | G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_CALLBACK,
      (gpointer) bool_flag_cb, NULL, NULL },
    { "env-host--false", 0, G_OPTION_FLAG_NO_ARG | G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_CALLBACK,
      (gpointer) bool_flag_cb, NULL, NULL },
    { "unsetenv-all--false", 0, G_OPTION_FLAG_NO_ARG | G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_CALLBACK,
      (gpointer) bool_flag_cb, NULL, NULL },
    { "http-proxy--false", 0, G_OPTION_FLAG_NO_ARG | G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_CALLBACK,
      (gpointer) bool_flag_cb, NULL, NULL },
    { "passwd--false", 0, G_OPTION_FLAG_NO_ARG | G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_CALLBACK,
      (gpointer) bool_flag_cb, NULL, NULL },
    { "replace--false", 0, G_OPTION_FLAG_NO_ARG | G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_CALLBACK,
      (gpointer) bool_flag_cb, NULL, NULL },
    { "read-only-tmpfs--false", 0, G_OPTION_FLAG_NO_ARG | G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_CALLBACK,
      (gpointer) bool_flag_cb, NULL, NULL },
    { "rmi--false", 0, G_OPTION_FLAG_NO_ARG | G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_CALLBACK,
      (gpointer) bool_flag_cb, NULL, NULL },
    { "sig-proxy--false", 0, G_OPTION_FLAG_NO_ARG | G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_CALLBACK,
      (gpointer) bool_flag_cb, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("IMAGE [COMMAND [ARG...]]");

  g_option_context_set_summary (ctx, create ? "Create a container to run with rrun start."
                                            : "Run a command in a new container.");
  {
    GOptionGroup *main_group = g_option_group_new (NULL, NULL, NULL, &o, NULL);

    g_option_group_add_entries (main_group, entries);
    g_option_context_set_main_group (ctx, main_group);
  }
  o.limits = rrun_cgroup_limits_new ();
  if (!rewrite_bool_values (command, entries, argc, argv, error))
    goto fail;
  g_option_context_add_group (ctx, rrun_cgroup_limits_option_group (o.limits));
  if (!rrun_cli_parse (ctx, command, &argc, &argv, error))
    goto fail;
  if (!rrun_cgroup_limits_finish (o.limits, error))
    goto fail;
  if (image_file != NULL)
    {
      /* The file stands where the image would: a path, which the run takes as a file. */
      char **with = g_new0 (char *, argc + 2);

      image_file_abs = g_canonicalize_filename (image_file, NULL);
      with[0] = argv[0];
      with[1] = image_file_abs;
      for (int i = 1; i < argc; i++)
        with[i + 1] = argv[i];
      image_file_argv = with;
      argv = with;
      argc++;
    }
  if (argc < 2)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s: no image given", command);
      rrun_add_hint (error, "usage: rrun %s [OPTIONS] IMAGE [COMMAND [ARG...]]%s", command,
                     rootfs ? ", with --rootfs a directory for IMAGE" : "");
      goto fail;
    }
  /* Label files are read here, as docker's client does: the spec stores the labels. */
  for (guint i = 0; label_files && label_files[i]; i++)
    {
      g_autofree char *text = NULL;
      GPtrArray *all = g_ptr_array_new ();
      gsize len;
      char *next;

      if (!rrun_text_file_read (label_files[i], "label file", RRUN_TEXT_FILE_MAX_ENV,
                                RRUN_TEXT_FILE_ALLOW_PIPE, &text, &len, error))
        {
          g_ptr_array_free (all, TRUE);
          goto fail;
        }
      /* memchr, not g_strsplit: linear under ASan too (see rrun_spec_parse_env_file) */
      for (char *line = text; line != NULL; line = next)
        {
          char *nl = memchr (line, '\n', len - (gsize) (line - text));

          next = nl ? nl + 1 : NULL;
          if (nl)
            *nl = '\0';
          g_strstrip (line);
          if (*line != '\0' && *line != '#')
            g_ptr_array_add (all, g_strdup (line));
        }
      for (guint k = 0; o.labels && o.labels[k]; k++)
        g_ptr_array_add (all, g_strdup (o.labels[k]));
      g_ptr_array_add (all, NULL);
      g_strfreev (o.labels);
      o.labels = (char **) g_ptr_array_free (all, FALSE);
    }
  if (rootfs)
    {
      /* podman's --rootfs: the "image" is a directory (":O", its overlay flag, is how
         rrun always runs it). */
      g_autofree char *dir = g_str_has_suffix (argv[1], ":O")
                                 ? g_strndup (argv[1], strlen (argv[1]) - 2)
                                 : g_strdup (argv[1]);

      o.rootfs = g_canonicalize_filename (dir, NULL);
      o.image = g_strdup (o.rootfs); /* what ps and inspect show, as podman */
    }
  else
    o.image = g_strdup (argv[1]);
  o.args = g_strdupv (argv + 2);
  o.entrypoint = g_steal_pointer (&entrypoint);
  /* Repeated --network: user-defined networks, joined as NET,NET2 (the spec's form). */
  if (networks != NULL && networks[0] != NULL)
    o.network = g_strjoinv (",", networks);
  o.root_emulation = emulate ? 1 : no_emulate ? 0 : -1;
  {
    gboolean verify = TRUE;
    if (!rrun_cli_parse_tls_verify (tls, &verify, error))
      goto fail;
    o.no_tls_verify = !verify;
  }
  o.quiet_pull = g->quiet || quiet;
  if (!platform_of (platform, os, arch, variant, &o.platform, error))
    goto fail;
  /* -a: the streams a foreground run keeps (docker's); the others go to /dev/null. */
  if (attach != NULL)
    {
      if (detach)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s: -a and -d cannot go together",
                      command);
          rrun_add_hint (error, "a detached container's output is in its log: rrun logs");
          goto fail;
        }
      attach_out = attach_err = FALSE;
      for (guint i = 0; attach[i]; i++)
        {
          if (g_ascii_strcasecmp (attach[i], "stdout") == 0)
            attach_out = TRUE;
          else if (g_ascii_strcasecmp (attach[i], "stderr") == 0)
            attach_err = TRUE;
          else if (g_ascii_strcasecmp (attach[i], "stdin") == 0)
            o.interactive = TRUE;
          else
            {
              rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                          "%s: invalid -a \"%s\": expected STDIN, STDOUT or STDERR", command,
                          attach[i]);
              goto fail;
            }
        }
    }
  /* A created container runs detached when started. */
  o.detach = detach || create;
  if (o.tty && !o.detach && !isatty (STDIN_FILENO))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s: -t needs a terminal on stdin", command);
      rrun_add_hint (error, "leave out -t when stdin is a pipe or file");
      goto fail;
    }
  /* Every option is checked here, before the image is looked up or pulled. */
  if (!rrun_container_spec_validate (g->config, &o, error))
    goto fail;
  if (o.detach)
    {
      g_autofree char *id = NULL;

      ok = create ? rrun_container_create_stopped (g->config, &o, &id, error)
                  : rrun_container_run_detached (g->config, &o, NULL, &id, error);
      if (ok)
        {
          printf ("%s\n", id);
          *out_status = 0;
        }
    }
  else
    {
      /* Streams not attached: the container's goes to /dev/null; rrun's own comes back
         for its messages once the container has run. */
      if (!attach_out || !attach_err)
        {
          int devnull = open ("/dev/null", O_WRONLY | O_CLOEXEC);

          fflush (stdout);
          fflush (stderr);
          if (devnull >= 0 && !attach_out)
            {
              saved_out = fcntl (STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
              dup2 (devnull, STDOUT_FILENO);
            }
          if (devnull >= 0 && !attach_err)
            {
              saved_err = fcntl (STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
              dup2 (devnull, STDERR_FILENO);
            }
          if (devnull >= 0)
            close (devnull);
        }
      ok = rrun_container_run (g->config, &o, out_status, error);
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
    }
  g_free (tls);
  g_free (platform), g_free (os), g_free (arch), g_free (variant);
  rrun_container_spec_clear (&o);
  return ok;

fail:
  g_free (platform), g_free (os), g_free (arch), g_free (variant);
  g_free (entrypoint);
  g_free (tls);
  rrun_container_spec_clear (&o);
  return FALSE;
}

gboolean
rrun_cmd_run (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return run_or_create ("run", FALSE, g, argc, argv, out_status, error);
}

gboolean
rrun_cmd_create (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  return run_or_create ("create", TRUE, g, argc, argv, out_status, error);
}
