/* docker's and podman's remaining run flags: checks before any image lookup, and the
   values create derives from them. */
#include "container/spec-flags.h"
#include "error.h"
#include "container/secret.h"
#include "registry/manifest.h"
#include "util/size.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static gboolean
bad (GError **error, const char *flag, const char *value, const char *why, const char *hint)
{
  rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s \"%s\": %s", flag, value, why);
  if (hint != NULL)
    rrun_add_hint (error, "%s", hint);
  return FALSE;
}

/* One of choices, or "container:NAME" when container_ok. */
static gboolean
check_mode (const char *flag, const char *value, const char *const *choices, GError **error)
{
  g_autofree char *list = NULL;

  if (value == NULL || g_strv_contains (choices, value))
    return TRUE;
  if (g_str_has_prefix (value, "container:") && value[strlen ("container:")] != '\0'
      && g_strv_contains (choices, "container:NAME"))
    return TRUE;
  list = g_strjoinv (", ", (char **) choices);
  rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s \"%s\": expected %s", flag, value, list);
  return FALSE;
}

/* The container of a "container:NAME" value, or NULL. */
static const char *
join_target (const char *value)
{
  return value != NULL && g_str_has_prefix (value, "container:") ? value + strlen ("container:")
                                                                  : NULL;
}

/* --pid, --ipc and --network container: enter the target's user namespace, of which a
   process has one: every container: form must name the same container. */
static gboolean
check_join_targets (const RrunContainerSpec *o, GError **error)
{
  const char *flags[] = { "--pid", "--ipc", "--network" };
  const char *values[] = { o->pid, o->ipc, o->network };
  const char *first = NULL, *first_flag = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (values); i++)
    {
      const char *t = join_target (values[i]);

      if (t == NULL)
        continue;
      if (first != NULL && strcmp (first, t) != 0)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "%s container:%s and %s container:%s: a container joins the namespaces "
                      "of one other container only", first_flag, first, flags[i], t);
          rrun_add_hint (error, "both are entered through the target's user namespace, and a "
                                "process has one");
          return FALSE;
        }
      first = t, first_flag = flags[i];
    }
  if (first != NULL && strcmp (first_flag, "--network") != 0 && o->network != NULL
      && g_str_has_prefix (o->network, "ns:"))
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "%s container:%s cannot go with --network %s", first_flag, first, o->network);
      rrun_add_hint (error, "use --network container:%s to share its network too", first);
      return FALSE;
    }
  return TRUE;
}

static const struct
{
  const char *name;
  int resource;
} ulimit_names[] = {
  { "as", RLIMIT_AS },           { "core", RLIMIT_CORE },         { "cpu", RLIMIT_CPU },
  { "data", RLIMIT_DATA },       { "fsize", RLIMIT_FSIZE },       { "locks", RLIMIT_LOCKS },
  { "memlock", RLIMIT_MEMLOCK }, { "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },
  { "nofile", RLIMIT_NOFILE },   { "nproc", RLIMIT_NPROC },       { "rss", RLIMIT_RSS },
  { "rtprio", RLIMIT_RTPRIO },   { "rttime", RLIMIT_RTTIME },
  { "sigpending", RLIMIT_SIGPENDING }, { "stack", RLIMIT_STACK },
};

static gboolean
parse_rlim (const char *text, rlim_t *out)
{
  guint64 n;

  if (strcmp (text, "unlimited") == 0 || strcmp (text, "-1") == 0)
    {
      *out = RLIM_INFINITY;
      return TRUE;
    }
  if (!g_ascii_isdigit (text[0]) || !g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT64, &n, NULL))
    return FALSE;
  *out = (rlim_t) n;
  return TRUE;
}

gboolean
rrun_spec_parse_ulimit (const char *text, int *out_resource, struct rlimit *out_limit,
                        GError **error)
{
  const char *eq = strchr (text, '=');
  g_autofree char *name = eq ? g_strndup (text, (gsize) (eq - text)) : NULL;
  g_auto(GStrv) values = NULL;
  struct rlimit lim, now;
  int resource = -1;

  if (eq == NULL)
    return bad (error, "invalid --ulimit", text, "expected NAME=SOFT[:HARD]",
                "for example --ulimit nofile=1024:4096");
  for (gsize i = 0; i < G_N_ELEMENTS (ulimit_names); i++)
    if (strcmp (ulimit_names[i].name, name) == 0)
      resource = ulimit_names[i].resource;
  if (resource < 0)
    return bad (error, "invalid --ulimit", text, "unknown limit",
                "limits: as, core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, "
                "nproc, rss, rtprio, rttime, sigpending, stack");
  values = g_strsplit (eq + 1, ":", -1);
  if (g_strv_length (values) < 1 || g_strv_length (values) > 2
      || !parse_rlim (values[0], &lim.rlim_cur)
      || !parse_rlim (values[1] ? values[1] : values[0], &lim.rlim_max))
    return bad (error, "invalid --ulimit", text,
                "expected numbers (or unlimited) as SOFT[:HARD]", NULL);
  if (lim.rlim_cur > lim.rlim_max)
    return bad (error, "invalid --ulimit", text, "the soft limit is above the hard limit", NULL);
  /* Raising a hard limit takes CAP_SYS_RESOURCE in the host's user namespace, which a
     rootless container never has: say so now rather than from the child. */
  if (getrlimit (resource, &now) == 0 && lim.rlim_max > now.rlim_max)
    {
      g_autofree char *hint = NULL;

      if (now.rlim_max == RLIM_INFINITY)
        hint = g_strdup ("");
      else
        hint = g_strdup_printf ("this session's hard limit of %s is %" G_GUINT64_FORMAT
                                "; ask for that or less (ulimit -H shows it)",
                                name, (guint64) now.rlim_max);
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "--ulimit %s: cannot raise a hard limit without privileges", text);
      rrun_add_hint (error, "%s", hint);
      return FALSE;
    }
  *out_resource = resource;
  *out_limit = lim;
  return TRUE;
}

/* The keys docker and runc accept as namespaced: IPC ones, the UTS domain name, and net.*
   (with a network namespace of the container's own). */
static const char *const ipc_sysctls[] = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
                                           "kernel.sem", "kernel.shmall", "kernel.shmmax",
                                           "kernel.shmmni", "kernel.shm_rmid_forced", NULL };

gboolean
rrun_spec_parse_sysctl (const RrunContainerSpec *o, const char *text, char **out_path,
                        char **out_value, GError **error)
{
  const char *eq = strchr (text, '=');
  g_autofree char *key = eq ? g_strndup (text, (gsize) (eq - text)) : NULL;
  const char *network = o->network;
  gboolean ipc_host = g_strcmp0 (o->ipc, "host") == 0;

  if (eq == NULL || *key == '\0' || strpbrk (key, "/ \t\n") != NULL || strstr (key, "..")
      || key[0] == '.' || g_str_has_suffix (key, ".") || strchr (eq + 1, '\n') != NULL)
    return bad (error, "invalid --sysctl", text, "expected KEY=VALUE",
                "for example --sysctl net.ipv4.ping_group_range=\"0 0\"");
  if (g_strv_contains (ipc_sysctls, key) || g_str_has_prefix (key, "fs.mqueue."))
    {
      if (ipc_host)
        return bad (error, "--sysctl", text,
                    "the container shares the host's IPC namespace (--ipc host)", NULL);
      if (join_target (o->ipc) != NULL)
        return bad (error, "--sysctl", text,
                    "the container shares another container's IPC namespace (--ipc container:)",
                    NULL);
    }
  else if (g_str_has_prefix (key, "net."))
    {
      if (network != NULL
          && (strcmp (network, "host") == 0 || g_str_has_prefix (network, "container:")
              || g_str_has_prefix (network, "ns:")))
        return bad (error, "--sysctl", text,
                    "the container has no network namespace of its own", NULL);
    }
  else if (strcmp (key, "kernel.domainname") == 0)
    {
      if (g_strcmp0 (o->uts, "host") == 0)
        return bad (error, "--sysctl", text, "the container shares the host's UTS namespace",
                    NULL);
    }
  else if (strcmp (key, "kernel.hostname") == 0)
    return bad (error, "--sysctl", text, "set the host name with --hostname", NULL);
  else
    return bad (error, "--sysctl", text, "not a namespaced parameter: it would change the host",
                "rrun takes kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, "
                "kernel.domainname and net.* (as docker)");
  if (out_path != NULL)
    {
      g_autofree char *rel = g_strdup (key);

      g_strdelimit (rel, ".", '/');
      *out_path = g_strconcat ("/proc/sys/", rel, NULL);
      *out_value = g_strdup (eq + 1);
    }
  return TRUE;
}

/* C:H:N, three numbers, N > 0, no overflow */
static gboolean
parse_triple (const char *text, guint32 *c, guint32 *h, guint32 *n)
{
  g_auto(GStrv) f = g_strsplit (text, ":", -1);
  guint64 v[3];

  if (g_strv_length (f) != 3)
    return FALSE;
  for (int i = 0; i < 3; i++)
    if (!g_ascii_isdigit (f[i][0])
        || !g_ascii_string_to_unsigned (f[i], 10, 0, G_MAXUINT32 - 1, &v[i], NULL))
      return FALSE;
  if (v[2] == 0 || v[0] + v[2] > G_MAXUINT32 || v[1] + v[2] > G_MAXUINT32)
    return FALSE;
  *c = (guint32) v[0], *h = (guint32) v[1], *n = (guint32) v[2];
  return TRUE;
}

/* The custom mappings in host ids: each C:H:N cut along the default map's segments. */
static GArray *
custom_mappings (GArray *def, char **maps, const char *flag, GError **error)
{
  g_autoptr(GArray) out = g_array_new (FALSE, FALSE, sizeof (RrunIdMapping));
  gboolean zero = FALSE;

  for (guint i = 0; maps[i]; i++)
    {
      guint32 c, h, n, done = 0;

      parse_triple (maps[i], &c, &h, &n);
      while (done < n)
        {
          guint32 want = h + done;
          gboolean found = FALSE;

          for (guint k = 0; k < def->len && !found; k++)
            {
              RrunIdMapping *d = &g_array_index (def, RrunIdMapping, k);

              if (want >= d->container_id && want - d->container_id < d->count)
                {
                  guint32 off = want - d->container_id;
                  guint32 len = MIN (d->count - off, n - done);
                  RrunIdMapping m = { c + done, d->host_id + off, len };

                  g_array_append_val (out, m);
                  done += len;
                  found = TRUE;
                }
            }
          if (!found)
            {
              rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                          "%s \"%s\": ID %u is outside your namespace's %u IDs", flag, maps[i],
                          want, rrun_idmap_span (def));
              rrun_add_hint (error, "the middle field counts your IDs: 0 is you, 1..%u your "
                                    "subordinate range", rrun_idmap_span (def) - 1);
              return NULL;
            }
        }
      if (c == 0)
        zero = TRUE;
    }
  if (!zero)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "%s: container ID 0 must be mapped: the container is set up as its root",
                  flag);
      return NULL;
    }
  return g_steal_pointer (&out);
}

gboolean
rrun_spec_flags_custom_map (RrunIdMap *map, char **uidmaps, char **gidmaps, GError **error)
{
  g_autoptr(GArray) u = NULL;
  g_autoptr(GArray) g = NULL;

  if (uidmaps == NULL && gidmaps == NULL)
    return TRUE;
  if (map->single || map->mode != RRUN_USERNS_AUTO)
    {
      rrun_throw (error, RRUN_ERROR_NO_SUBID,
                  "cannot use --uidmap or --gidmap: they need a subordinate ID range");
      rrun_add_hint (error, "ask an administrator to run: sudo subuid-setup.sh %s",
                     g_get_user_name ());
      return FALSE;
    }
  u = custom_mappings (map->uid_map, uidmaps ? uidmaps : gidmaps, "--uidmap", error);
  if (u == NULL)
    return FALSE;
  g = custom_mappings (map->gid_map, gidmaps ? gidmaps : uidmaps, "--gidmap", error);
  if (g == NULL)
    return FALSE;
  g_array_unref (map->uid_map);
  g_array_unref (map->gid_map);
  map->uid_map = g_steal_pointer (&u);
  map->gid_map = g_steal_pointer (&g);
  /* The user's own ids must be mapped somewhere: the setup (container root) reaches the
     user's run and store directories only through a mapped owner, as with keep-id. */
  for (int k = 0; k < 2; k++)
    {
      GArray *m = k ? map->gid_map : map->uid_map;
      guint32 own = k ? map->host_gid : map->host_uid;
      gboolean found = FALSE;

      for (guint i = 0; i < m->len && !found; i++)
        {
          RrunIdMapping *e = &g_array_index (m, RrunIdMapping, i);

          if (e->host_id <= own && own - e->host_id < e->count)
            {
              *(k ? &map->container_gid : &map->container_uid) = e->container_id
                                                                + (own - e->host_id);
              found = TRUE;
            }
        }
      if (!found)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "%s: your own %s (ID 0 of the middle field) must be mapped",
                      k ? "--gidmap" : "--uidmap", k ? "GID" : "UID");
          rrun_add_hint (error, "rrun sets the container up through your own directories; "
                                "map yourself to an ID the image does not use, e.g. %s "
                                "65535:0:1", k ? "--gidmap" : "--uidmap");
          return FALSE;
        }
    }
  return TRUE;
}

/* "ctrl-p,ctrl-q": docker's detach keys, each a letter or ctrl-<letter|@|[|\|]|^|_>. */
static gboolean
valid_detach_keys (const char *keys)
{
  g_auto(GStrv) parts = NULL;

  if (*keys == '\0')
    return TRUE; /* podman: detaching turned off */
  parts = g_strsplit (keys, ",", -1);
  for (char **p = parts; *p; p++)
    {
      const char *k = *p;

      if (g_str_has_prefix (k, "ctrl-"))
        {
          k += 5;
          if (strlen (k) != 1 || !(g_ascii_isalpha (*k) || strchr ("@[\\]^_", *k)))
            return FALSE;
        }
      else if (strlen (k) != 1 || !g_ascii_isgraph (*k))
        return FALSE;
    }
  return TRUE;
}

/* PORT[-PORT][/tcp|udp|sctp] */
static gboolean
valid_expose (const char *text)
{
  const char *slash = strchr (text, '/');
  g_autofree char *ports = slash ? g_strndup (text, (gsize) (slash - text)) : g_strdup (text);
  g_auto(GStrv) range = g_strsplit (ports, "-", -1);
  guint64 lo, hi;

  if (slash && strcmp (slash + 1, "tcp") != 0 && strcmp (slash + 1, "udp") != 0
      && strcmp (slash + 1, "sctp") != 0)
    return FALSE;
  if (g_strv_length (range) < 1 || g_strv_length (range) > 2 || !g_ascii_isdigit (range[0][0])
      || !g_ascii_string_to_unsigned (range[0], 10, 1, 65535, &lo, NULL))
    return FALSE;
  hi = lo;
  if (range[1] != NULL
      && (!g_ascii_isdigit (range[1][0])
          || !g_ascii_string_to_unsigned (range[1], 10, 1, 65535, &hi, NULL)))
    return FALSE;
  return hi >= lo;
}

static gboolean
valid_env_key (const char *s, gsize len)
{
  if (len == 0)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (s[i] == '\0' || s[i] == '=' || g_ascii_isspace (s[i]))
      return FALSE;
  return TRUE;
}

gboolean
rrun_spec_flags_tz_file (const char *tz, char **out_path, GError **error)
{
  g_autofree char *path = NULL;

  if (strcmp (tz, "local") == 0)
    path = g_strdup ("/etc/localtime");
  else if (tz[0] == '\0' || tz[0] == '/' || strstr (tz, "..") != NULL
           || strspn (tz, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-")
                  != strlen (tz))
    return bad (error, "invalid --tz", tz, "expected local or a zone such as Europe/Berlin",
                NULL);
  else
    path = g_build_filename ("/usr/share/zoneinfo", tz, NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return bad (error, "invalid --tz", tz,
                strcmp (tz, "local") == 0 ? "this machine has no /etc/localtime"
                                          : "no such time zone in /usr/share/zoneinfo",
                "zones are named Area/City (Europe/Berlin, America/New_York) or UTC");
  *out_path = g_steal_pointer (&path);
  return TRUE;
}

gboolean
rrun_spec_flags_platform_foreign (const char *text, char **out_host, GError **error)
{
  g_autoptr(RrunPlatform) want = NULL;
  g_autoptr(RrunPlatform) host = rrun_platform_host ();

  if (!rrun_platform_parse (text, &want, error))
    {
      g_prefix_error (error, "invalid --platform \"%s\": ", text);
      return FALSE;
    }
  if (strcmp (want->os, "linux") != 0)
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                  "--platform %s: rrun runs Linux images only", text);
      return FALSE;
    }
  *out_host = strcmp (want->architecture, host->architecture) != 0
                  ? rrun_platform_to_string (host) : NULL;
  return TRUE;
}

/* binfmt_misc's qemu handler for arch (as qemu-user-static registers them). */
static gboolean
can_emulate (const char *platform)
{
  static const struct { const char *arch, *qemu; } names[] = {
    { "arm64", "aarch64" }, { "arm", "arm" },         { "386", "i386" },
    { "amd64", "x86_64" },  { "ppc64le", "ppc64le" }, { "s390x", "s390x" },
    { "riscv64", "riscv64" }, { "mips64le", "mips64el" },
  };
  g_autoptr(RrunPlatform) want = NULL;

  if (!rrun_platform_parse (platform, &want, NULL))
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (strcmp (names[i].arch, want->architecture) == 0)
      {
        g_autofree char *path = g_strconcat ("/proc/sys/fs/binfmt_misc/qemu-", names[i].qemu,
                                             NULL);
        return g_file_test (path, G_FILE_TEST_EXISTS);
      }
  return FALSE;
}

static gboolean
own_uid_text (const char *text)
{
  g_autofree char *uid = g_strdup_printf ("%u", (unsigned) getuid ());

  return strcmp (text, uid) == 0;
}

gboolean
rrun_spec_flags_validate (RrunContainerSpec *o, GError **error)
{
  static const char *const ns_modes[] = { "private", "host", NULL };
  static const char *const pid_modes[] = { "private", "host", "container:NAME", NULL };
  static const char *const sdnotify_modes[] = { "container", "conmon", "ignore", NULL };
  static const char *const image_volume_modes[] = { "bind", "tmpfs", "ignore", NULL };
  guint64 n;

  for (guint i = 0; o->ulimits && o->ulimits[i]; i++)
    {
      struct rlimit lim;
      int resource;

      if (!rrun_spec_parse_ulimit (o->ulimits[i], &resource, &lim, error))
        return FALSE;
    }
  if (o->shm_size != NULL && (!rrun_size_parse (o->shm_size, &n) || n == 0))
    return bad (error, "invalid --shm-size", o->shm_size, "expected a size such as 64m or 1g",
                NULL);
  for (guint i = 0; o->sysctls && o->sysctls[i]; i++)
    if (!rrun_spec_parse_sysctl (o, o->sysctls[i], NULL, NULL, error))
      return FALSE;
  for (guint i = 0; o->group_add && o->group_add[i]; i++)
    {
      const char *gr = o->group_add[i];

      if (strcmp (gr, "keep-groups") == 0)
        {
          if (g_strv_length (o->group_add) > 1)
            return bad (error, "--group-add", gr, "it cannot go with other groups",
                        "keep-groups keeps exactly the groups you have on the host: rrun "
                        "does not call setgroups at all");
          if (g_strcmp0 (o->userns, "nomap") == 0)
            return bad (error, "--group-add", gr, "--userns=nomap drops every host id", NULL);
        }
      else if (*gr == '\0' || strpbrk (gr, ":\n ") != NULL)
        return bad (error, "invalid --group-add", gr, "expected a group name or GID", NULL);
    }
  if (!check_mode ("invalid --pid", o->pid, pid_modes, error)
      || !check_mode ("invalid --uts", o->uts, ns_modes, error)
      || !check_mode ("invalid --cgroupns", o->cgroupns, ns_modes, error)
      || !check_mode ("invalid --sdnotify", o->sdnotify, sdnotify_modes, error)
      || !check_mode ("invalid --image-volume", o->image_volume, image_volume_modes, error))
    return FALSE;
  if (!check_join_targets (o, error))
    return FALSE;
  if (g_strcmp0 (o->uts, "host") == 0 && o->hostname != NULL)
    return bad (error, "--hostname", o->hostname,
                "the container shares the host's UTS namespace (--uts host)", NULL);
  if (o->tz != NULL)
    {
      g_autofree char *path = NULL;
      if (!rrun_spec_flags_tz_file (o->tz, &path, error))
        return FALSE;
    }
  if (o->umask != NULL
      && (o->umask[0] == '\0' || strspn (o->umask, "01234567") != strlen (o->umask)
          || !g_ascii_string_to_unsigned (o->umask, 8, 0, 0777, &n, NULL)))
    return bad (error, "invalid --umask", o->umask, "expected an octal mask from 0000 to 0777",
                NULL);
  for (guint i = 0; o->expose && o->expose[i]; i++)
    if (!valid_expose (o->expose[i]))
      return bad (error, "invalid --expose", o->expose[i],
                  "expected PORT[-PORT][/tcp|udp|sctp] such as 8080 or 5000-5010/udp", NULL);
  for (guint i = 0; o->env_merge && o->env_merge[i]; i++)
    {
      const char *eq = strchr (o->env_merge[i], '=');
      if (eq == NULL || !valid_env_key (o->env_merge[i], (gsize) (eq - o->env_merge[i])))
        return bad (error, "invalid --env-merge", o->env_merge[i],
                    "expected KEY=VALUE such as PATH=${PATH}:/opt/bin", NULL);
    }
  for (guint i = 0; o->unsetenv && o->unsetenv[i]; i++)
    if (!valid_env_key (o->unsetenv[i], strlen (o->unsetenv[i])))
      return bad (error, "invalid --unsetenv", o->unsetenv[i], "expected a variable name",
                  NULL);
  if (o->passwd_entry != NULL && (strchr (o->passwd_entry, '\n') || *o->passwd_entry == '\0'))
    return bad (error, "invalid --passwd-entry", o->passwd_entry, "expected one line",
                "for example --passwd-entry '$USERNAME:x:$UID:$GID::$HOME:/bin/sh'");
  for (guint i = 0; o->hostuser && o->hostuser[i]; i++)
    {
      guint64 uid;
      struct passwd *pw = g_ascii_string_to_unsigned (o->hostuser[i], 10, 0, G_MAXUINT32, &uid,
                                                      NULL)
                              ? getpwuid ((uid_t) uid)
                              : getpwnam (o->hostuser[i]);
      if (pw == NULL)
        return bad (error, "--hostuser", o->hostuser[i], "no such user on this machine", NULL);
    }
  for (guint i = 0; o->annotations && o->annotations[i]; i++)
    if (o->annotations[i][0] == '\0' || o->annotations[i][0] == '=')
      return bad (error, "invalid --annotation", o->annotations[i], "no key",
                  "an annotation is KEY=VALUE");
  if (o->oom_score_adj != NULL
      && (!g_ascii_string_to_signed (o->oom_score_adj, 10, -1000, 1000, (gint64 *) &n, NULL)
          || o->oom_score_adj[0] == '+'))
    return bad (error, "invalid --oom-score-adj", o->oom_score_adj,
                "expected a number from -1000 to 1000", NULL);
  if (o->personality != NULL && strcmp (o->personality, "LINUX") != 0
      && strcmp (o->personality, "LINUX32") != 0)
    return bad (error, "invalid --personality", o->personality, "expected LINUX or LINUX32",
                NULL);
  if (o->preserve_fds != NULL)
    {
      if (!g_ascii_isdigit (o->preserve_fds[0])
          || !g_ascii_string_to_unsigned (o->preserve_fds, 10, 0, 1000, &n, NULL))
        return bad (error, "invalid --preserve-fds", o->preserve_fds,
                    "expected a number of fds", NULL);
      if (n > 0 && o->detach)
        return bad (error, "--preserve-fds", o->preserve_fds,
                    "a detached container's command does not inherit rrun's fds",
                    "run it in the foreground");
      for (guint64 fd = 3; fd < 3 + n; fd++)
        if (fcntl ((int) fd, F_GETFD) < 0)
          {
            g_autofree char *why = g_strdup_printf ("fd %" G_GUINT64_FORMAT " is not open",
                                                    fd);
            return bad (error, "--preserve-fds", o->preserve_fds, why,
                        "open fds 3 .. N+2 for the command, as in 3<FILE");
          }
    }
  if (o->pidfile != NULL && *o->pidfile == '\0')
    return bad (error, "invalid --pidfile", o->pidfile, "empty path", NULL);
  if (o->timeout != NULL
      && (!g_ascii_isdigit (o->timeout[0])
          || !g_ascii_string_to_unsigned (o->timeout, 10, 0, G_MAXINT32, &n, NULL)))
    return bad (error, "invalid --timeout", o->timeout, "expected seconds", NULL);
  if (o->replace && o->name == NULL)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "--replace needs --name");
      rrun_add_hint (error, "it replaces the container that holds the name");
      return FALSE;
    }
  if (o->rmi && !o->rm)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "--rmi needs --rm");
      rrun_add_hint (error, "the image can go only once the container has");
      return FALSE;
    }
  if (o->authfile != NULL && access (o->authfile, R_OK) < 0)
    {
      int errsv = errno;
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "--authfile \"%s\": %s", o->authfile,
                  g_strerror (errsv));
      return FALSE;
    }
  if (o->detach_keys != NULL && !valid_detach_keys (o->detach_keys))
    return bad (error, "invalid --detach-keys", o->detach_keys,
                "expected keys such as ctrl-p,ctrl-q (a letter, or ctrl- and one of a-z @ [ \\ ] ^ _)",
                NULL);
  if (o->init_path != NULL)
    {
      if (!g_path_is_absolute (o->init_path) || !g_file_test (o->init_path, G_FILE_TEST_IS_REGULAR)
          || access (o->init_path, X_OK) < 0)
        return bad (error, "--init-path", o->init_path, "not an executable file", NULL);
      o->init = TRUE; /* podman: the path implies --init */
    }
  for (guint i = 0; o->secrets && o->secrets[i]; i++)
    {
      g_autofree char *name = NULL, *target = NULL;
      gboolean env;
      guint mode;

      if (!rrun_secret_parse_arg (o->secrets[i], &name, &env, &target, &mode, error))
        return FALSE;
    }
  for (int k = 0; k < 2; k++)
    {
      char **maps = k ? o->gidmaps : o->uidmaps;
      const char *flag = k ? "--gidmap" : "--uidmap";
      const char *subname = k ? o->subgidname : o->subuidname;

      for (guint i = 0; maps && maps[i]; i++)
        {
          guint32 c, h, count;
          if (!parse_triple (maps[i], &c, &h, &count))
            return bad (error, k ? "invalid --gidmap" : "invalid --uidmap", maps[i],
                        "expected CONTAINER:ID:COUNT such as 0:1:65536", NULL);
        }
      if (maps != NULL && o->userns != NULL && *o->userns && strcmp (o->userns, "auto") != 0)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "%s cannot go with --userns=%s",
                      flag, o->userns);
          return FALSE;
        }
      /* newuidmap and newgidmap accept the caller's entries, named by user name or uid */
      if (subname != NULL && strcmp (subname, g_get_user_name ()) != 0
          && !own_uid_text (subname))
        {
          rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                      "--%s \"%s\": newuidmap and newgidmap map only your own ranges (\"%s\")",
                      k ? "subgidname" : "subuidname", subname, g_get_user_name ());
          rrun_add_hint (error, "leave it out, or use --uidmap/--gidmap within your ranges");
          return FALSE;
        }
    }
  for (guint i = 0; o->chrootdirs && o->chrootdirs[i]; i++)
    if (o->chrootdirs[i][0] != '/' || strstr (o->chrootdirs[i], "..") != NULL
        || strcmp (o->chrootdirs[i], "/") == 0)
      return bad (error, "invalid --chrootdirs", o->chrootdirs[i],
                  "expected an absolute path inside the container", NULL);
  for (guint i = 0; o->requires && o->requires[i]; i++)
    if (o->requires[i][0] == '\0')
      return bad (error, "invalid --requires", o->requires[i], "expected container names",
                  NULL);
  if (o->platform != NULL)
    {
      g_autofree char *host = NULL;

      if (!rrun_spec_flags_platform_foreign (o->platform, &host, error))
        return FALSE;
      if (host != NULL && !can_emulate (o->platform))
        {
          rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                      "--platform %s: cannot run on this %s machine without emulation",
                      o->platform, host);
          rrun_add_hint (error, "install qemu-user-static (binfmt_misc handlers), or fetch "
                                "the image only: rrun pull --platform %s IMAGE", o->platform);
          return FALSE;
        }
    }
  return TRUE;
}

/* ${K} and $K of the image's value (empty when unset), as podman's --env-merge. */
static char *
expand (const char *text, char **env)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p;)
    {
      if (p[0] == '$' && (p[1] == '{' || g_ascii_isalpha (p[1]) || p[1] == '_'))
        {
          gboolean brace = p[1] == '{';
          const char *start = p + (brace ? 2 : 1), *end = start;
          g_autofree char *key = NULL;
          const char *v;

          while (*end && (g_ascii_isalnum (*end) || *end == '_'))
            end++;
          if (brace && *end != '}')
            {
              g_string_append_c (out, *p++);
              continue;
            }
          key = g_strndup (start, (gsize) (end - start));
          v = g_environ_getenv (env, key);
          if (v != NULL)
            g_string_append (out, v);
          p = end + (brace ? 1 : 0);
        }
      else
        g_string_append_c (out, *p++);
    }
  return g_string_free (out, FALSE);
}

char **
rrun_spec_flags_image_env (const RrunContainerSpec *o, char **image_env, char **host_env)
{
  static const char *const proxies[] = { "http_proxy", "HTTP_PROXY", "https_proxy",
                                         "HTTPS_PROXY", "ftp_proxy", "FTP_PROXY",
                                         "no_proxy", "NO_PROXY", NULL };
  GPtrArray *env = g_ptr_array_new ();

  for (guint i = 0; !o->unsetenv_all && image_env && image_env[i]; i++)
    g_ptr_array_add (env, g_strdup (image_env[i]));
  for (guint i = 0; o->env_host && host_env && host_env[i]; i++)
    if (strchr (host_env[i], '=') != NULL && host_env[i][0] != '=')
      g_ptr_array_add (env, g_strdup (host_env[i]));
  for (guint i = 0; !o->no_http_proxy && !o->env_host && proxies[i]; i++)
    {
      const char *v = g_environ_getenv (host_env, proxies[i]);
      if (v != NULL)
        g_ptr_array_add (env, g_strconcat (proxies[i], "=", v, NULL));
    }
  for (guint i = 0; o->env_merge && o->env_merge[i]; i++)
    {
      g_ptr_array_add (env, NULL);
      {
        char *value = expand (o->env_merge[i], (char **) env->pdata);

        g_ptr_array_remove_index (env, env->len - 1);
        g_ptr_array_add (env, value);
      }
    }
  g_ptr_array_add (env, NULL);
  return (char **) g_ptr_array_free (env, FALSE);
}

void
rrun_spec_flags_unset_env (const RrunContainerSpec *o, char ***env)
{
  GPtrArray *kept;

  if (o->unsetenv == NULL && !o->unsetenv_all)
    return;
  kept = g_ptr_array_new ();
  for (guint i = 0; (*env)[i]; i++)
    {
      const char *e = (*env)[i];
      gsize klen = strcspn (e, "=");
      g_autofree char *key = g_strndup (e, klen);
      gboolean drop = o->unsetenv && g_strv_contains ((const char *const *) o->unsetenv, key);

      /* --unsetenv-all: rrun's own defaults go too, but not what -e set */
      if (o->unsetenv_all && !drop)
        {
          static const char *const defaults[] = { "PATH", "HOSTNAME", "HOME", "TERM", NULL };
          gboolean given = FALSE;

          for (guint j = 0; o->env && o->env[j]; j++)
            if (strncmp (o->env[j], key, klen) == 0
                && (o->env[j][klen] == '=' || o->env[j][klen] == '\0'))
              given = TRUE;
          drop = g_strv_contains (defaults, key) && !given;
        }
      if (drop)
        g_free ((*env)[i]);
      else
        g_ptr_array_add (kept, (*env)[i]);
    }
  g_ptr_array_add (kept, NULL);
  g_free (*env);
  *env = (char **) g_ptr_array_free (kept, FALSE);
}

char *
rrun_spec_flags_passwd_line (const char *t, const char *name, guint32 uid, guint32 gid,
                             const char *home)
{
  GString *out = g_string_new (NULL);
  g_autofree char *uid_text = g_strdup_printf ("%u", uid);
  g_autofree char *gid_text = g_strdup_printf ("%u", gid);
  const struct { const char *var, *value; } vars[] = {
    { "$USERNAME", name }, { "$UID", uid_text }, { "$GID", gid_text },
    { "$NAME", name },     { "$HOME", home },
  };

  while (*t)
    {
      gboolean done = FALSE;

      for (gsize i = 0; i < G_N_ELEMENTS (vars) && !done; i++)
        if (g_str_has_prefix (t, vars[i].var))
          {
            g_string_append (out, vars[i].value);
            t += strlen (vars[i].var);
            done = TRUE;
          }
      if (!done)
        g_string_append_c (out, *t++);
    }
  g_string_append_c (out, '\n');
  return g_string_free (out, FALSE);
}
