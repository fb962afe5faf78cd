/* The docker-compatible limit flags: units, validation, and the conversions runc and
   crun make for cgroup v2. */
#include "cgroup/cgroup.h"
#include "cgroup/cgroup-private.h"
#include "error.h"
#include "log.h"
#include "util/json-value.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/* docker's linuxMinMemory: the kernel needs some room for the page cache of the runtime. */
#define MIN_MEMORY (6 * 1024 * 1024)
#define CPU_PERIOD_US 100000
/* Highest CPU or memory node number a cpuset list may name (the kernel's NR_CPUS). */
#define MAX_CPUSET_INDEX 8191

/* A member of RrunCgroupLimits by offset (the flag table below). */
#define AT(l, type, offset) G_STRUCT_MEMBER (type, (l), (offset))

static void
device_limit_clear (gpointer p)
{
  RrunCgroupDeviceLimit *d = p;

  g_free (d->path);
}

RrunCgroupLimits *
rrun_cgroup_limits_new (void)
{
  RrunCgroupLimits *l = g_new0 (RrunCgroupLimits, 1);

  l->devices = g_array_new (FALSE, TRUE, sizeof (RrunCgroupDeviceLimit));
  g_array_set_clear_func (l->devices, device_limit_clear);
  return l;
}


/* --cgroup-parent's syntax: a systemd slice name, or a path of plain names (absolute:
   from the top of the hierarchy; relative: below the delegated cgroup). Where it may go
   is decided by the backend (cgroup.c). names: also refuse rrun's and the kernel's names
   (an absolute path is checked for them once the delegated part is taken off). */
gboolean
rrun_cgroup_parent_check (const char *value, gboolean names, GError **error)
{
  g_auto(GStrv) parts = g_strsplit (value[0] == '/' ? value + 1 : value, "/", -1);
  const char *why = NULL;

  if (*value == '\0' || strcmp (value, "/") == 0)
    why = "it is empty";
  for (guint i = 0; why == NULL && parts[i] != NULL; i++)
    {
      if (*parts[i] == '\0' || strcmp (parts[i], ".") == 0 || strcmp (parts[i], "..") == 0)
        why = "each part of the path must be a name (no empty, \".\" or \"..\" parts)";
      else if (strpbrk (parts[i], "\n\\") != NULL || strlen (parts[i]) > 255)
        why = "a part of the path is not a valid cgroup name";
      else if (names
               && (g_str_has_prefix (parts[i], "rrun-") || g_str_has_prefix (parts[i], "cgroup.")
               || g_str_has_prefix (parts[i], "memory.") || g_str_has_prefix (parts[i], "cpu.")
               || g_str_has_prefix (parts[i], "io.") || g_str_has_prefix (parts[i], "pids.")))
        why = "names starting with rrun- are rrun's own, and cgroup.*, cpu.*, memory.*, io.* "
              "and pids.* are the kernel's";
    }
  if (why != NULL)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "invalid value \"%s\" for --cgroup-parent: %s", value, why);
  return TRUE;
}

static gboolean
bad_value (GError **error, const char *flag, const char *value, const char *why)
{
  return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid value \"%s\" for --%s: %s",
                     value, flag, why);
}

/* go-units RAMInBytes, which docker uses for every size: ^(\d+(\.\d+)*) ?([kmgtp])?i?b?$
   case-insensitive, powers of 1024, a fraction allowed ("1.5g"). */
static gboolean
parse_size (const char *text, guint64 *out)
{
  const char *p = text;
  const char *units = "kmgtp";
  const char *u;
  double number, mult = 1;
  char *end;

  if (!g_ascii_isdigit (*p))
    return FALSE;
  while (g_ascii_isdigit (*p))
    p++;
  while (*p == '.' && g_ascii_isdigit (p[1]))
    for (p++; g_ascii_isdigit (*p); p++)
      ;
  number = g_ascii_strtod (text, &end);
  if (end != p)
    return FALSE;
  if (*p == ' ')
    p++;
  if (*p != '\0' && (u = strchr (units, g_ascii_tolower (*p))) != NULL)
    {
      for (long i = 0; i <= u - units; i++)
        mult *= 1024;
      p++;
    }
  if (*p == 'i' || *p == 'I')
    p++;
  if (*p == 'b' || *p == 'B')
    p++;
  if (*p != '\0' || number * mult >= 9.2e18)
    return FALSE;
  *out = (guint64) (number * mult);
  return TRUE;
}

/* A whole decimal number in [min, max]; leading '+' and spaces refused, as strconv does. */
static gboolean
parse_int (const char *text, gint64 min, gint64 max, gint64 *out)
{
  gint64 v;

  if (!g_ascii_string_to_signed (text, 10, min, max, &v, NULL))
    return FALSE;
  if (text[0] == '+' || g_ascii_isspace (text[0]))
    return FALSE;
  *out = v;
  return TRUE;
}

/* The kernel's list syntax for cpuset.cpus and cpuset.mems ("0-3,5,7-8"), as docker's
   parsers.ParseUintList accepts it: no empty element, ranges low to high. */
static gboolean
valid_cpuset_list (const char *text)
{
  g_auto(GStrv) parts = NULL;

  if (*text == '\0')
    return FALSE;
  parts = g_strsplit (text, ",", -1);
  for (char **p = parts; *p; p++)
    {
      g_auto(GStrv) range = g_strsplit (*p, "-", -1);
      guint64 lo, hi;

      if (range[0] == NULL || g_strv_length (range) > 2 || range[0][0] == '\0'
          || !g_ascii_string_to_unsigned (range[0], 10, 0, MAX_CPUSET_INDEX, &lo, NULL))
        return FALSE;
      hi = lo;
      if (range[1] != NULL
          && (range[1][0] == '\0'
              || !g_ascii_string_to_unsigned (range[1], 10, 0, MAX_CPUSET_INDEX, &hi, NULL)))
        return FALSE;
      if (hi < lo || !g_ascii_isdigit (range[0][0])
          || (range[1] != NULL && !g_ascii_isdigit (range[1][0])))
        return FALSE;
    }
  return TRUE;
}

guint64
rrun_cgroup_shares_to_weight (guint64 shares)
{
  /* runc's ConvertCPUSharesToCgroupV2Value and crun's linear mapping: 2 -> 1,
     262144 -> 10000 (1024, docker's default, -> 39). */
  if (shares == 0)
    return 0;
  return 1 + ((shares - 2) * 9999) / 262142;
}

guint64
rrun_cgroup_blkio_to_io_weight (guint64 weight)
{
  /* runc's ConvertBlkIOToIOWeightValue: 10 -> 1, 1000 -> 10000. */
  if (weight == 0)
    return 0;
  return 1 + ((weight - 10) * 9999) / 990;
}

gboolean
rrun_cgroup_limits_swap_max (const RrunCgroupLimits *l, guint64 *out_swap)
{
  if (l->memory_swap == -1)
    {
      *out_swap = G_MAXUINT64;
      return TRUE;
    }
  if (l->updating)
    {
      /* rrun update changes swap only when asked, against the memory limit it sets or
         the one in place (swap_base). */
      guint64 memory = l->memory ? l->memory : l->swap_base;

      if (l->memory_swap <= 0 || memory == 0)
        return FALSE;
      *out_swap = (guint64) l->memory_swap - memory;
      return TRUE;
    }
  if (l->memory == 0)
    return FALSE;
  /* docker: --memory-swap is memory plus swap; unset with --memory set means as much
     swap as memory. */
  *out_swap = l->memory_swap > 0 ? (guint64) l->memory_swap - l->memory : l->memory;
  return TRUE;
}

static RrunCgroupDeviceLimit *
device_entry (RrunCgroupLimits *l, const char *path, guint32 major, guint32 minor)
{
  RrunCgroupDeviceLimit d = { 0 };

  for (guint i = 0; i < l->devices->len; i++)
    {
      RrunCgroupDeviceLimit *e = &g_array_index (l->devices, RrunCgroupDeviceLimit, i);

      if (e->major == major && e->minor == minor)
        return e;
    }
  d.path = g_strdup (path);
  d.major = major;
  d.minor = minor;
  g_array_append_val (l->devices, d);
  return &g_array_index (l->devices, RrunCgroupDeviceLimit, l->devices->len - 1);
}

/* DEVICE:RATE, as docker's ValidateThrottle{Bps,Iops}Device. */
static gboolean
add_device (RrunCgroupLimits *l, const char *flag, const char *value, gboolean iops,
            gboolean write, gboolean weight, GError **error)
{
  const char *colon = strrchr (value, ':');
  g_autofree char *path = NULL;
  RrunCgroupDeviceLimit *d;
  guint64 rate = 0;
  gint64 n;
  struct stat st;

  if (colon == NULL || colon == value || value[0] != '/')
    return bad_value (error, flag, value,
                      weight ? "expected DEVICE:WEIGHT such as /dev/sda:500"
                      : iops ? "expected DEVICE:RATE such as /dev/sda:1000"
                             : "expected DEVICE:RATE such as /dev/sda:10m");
  path = g_strndup (value, (gsize) (colon - value));
  if (weight && !parse_int (colon + 1, 10, 1000, &n))
    return bad_value (error, flag, value, "the weight's range is 10 to 1000");
  if (weight)
    rate = (guint64) n;
  else if (iops ? !parse_int (colon + 1, 1, G_MAXINT64, &n) : !parse_size (colon + 1, &rate))
    return bad_value (error, flag, value,
                      iops ? "expected a rate in operations per second such as 1000"
                           : "expected a rate in bytes per second such as 10m");
  if (iops && !weight)
    rate = (guint64) n;
  if (rate == 0)
    return bad_value (error, flag, value, "the rate must be above 0");
  if (stat (path, &st) < 0)
    {
      int errsv = errno;
      g_autofree char *why = g_strdup_printf ("cannot stat \"%s\": %s", path,
                                              g_strerror (errsv));
      return bad_value (error, flag, value, why);
    }
  if (!S_ISBLK (st.st_mode))
    {
      g_autofree char *why = g_strdup_printf ("\"%s\" is not a block device", path);
      return bad_value (error, flag, value, why);
    }
  d = device_entry (l, path, major (st.st_rdev), minor (st.st_rdev));
  if (weight)
    d->weight = rrun_cgroup_blkio_to_io_weight (rate);
  else if (iops)
    *(write ? &d->write_iops : &d->read_iops) = rate;
  else
    *(write ? &d->write_bps : &d->read_bps) = rate;
  return TRUE;
}

/* ---- the flags, each described once ----------------------------------------------------

   One row per docker flag: its option entry, where GOption stores its text, how the text
   is parsed and into which field. rrun_cgroup_limits_add_option, _finish, _free and
   _option_group all walk this table, so `run` and `update` take the same flags with the
   same messages. */

typedef enum
{
  KIND_SIZE,   /* a go-units size, at least MIN_MEMORY unless 0: guint64 field */
  KIND_SWAP,   /* a size or -1: gint64 field */
  KIND_CPUS,   /* a decimal number of CPUs: cpu_quota_us and cpu_period_us */
  KIND_INT,    /* a whole number in [min, max], or unset_min..0 for "not set" */
  KIND_CPUSET, /* a cpuset list: char * field */
  KIND_DEVICE, /* DEVICE:RATE added to devices */
  KIND_CONF,   /* --cgroup-conf KEY=VALUE */
  KIND_FLAG,   /* a switch: "true" once given */
  KIND_PATH,   /* a cgroup path: char * field */
} Kind;

enum
{
  DEVICE_IOPS = 1 << 0,
  DEVICE_WRITE = 1 << 1,
  DEVICE_WEIGHT = 1 << 2,
};

typedef struct
{
  const char *flag; /* without the dashes */
  char short_name;
  const char *help;
  const char *arg_help;
  gsize text;       /* offset of the char * (KIND_DEVICE: char **) GOption stores into */
  Kind kind;
  gsize field;      /* offset of the parsed value */
  gint64 min, max;  /* KIND_INT: the range of values that set something */
  gboolean can_unset; /* KIND_INT: unset_min..0 mean "not set" */
  gint64 unset_min;
  guint64 (*convert) (guint64 v); /* KIND_INT: docker's conversion, NULL to keep v */
  const char *why;  /* the reason given for a value that does not parse */
  guint device;     /* KIND_DEVICE: DEVICE_* */
} LimitFlag;

#define TEXT(member) G_STRUCT_OFFSET (RrunCgroupLimits, text.member)
#define FIELD(member) G_STRUCT_OFFSET (RrunCgroupLimits, member)

static const LimitFlag limit_flags[] = {
  { "memory", 'm', "Memory limit (b, k, m, g; at least 6m): memory.max", "BYTES",
    TEXT (memory), KIND_SIZE, FIELD (memory), .why = "expected a size such as 512m or 2g" },
  { "memory-reservation", 0, "Memory soft limit: memory.low", "BYTES",
    TEXT (memory_reservation), KIND_SIZE, FIELD (memory_reservation),
    .why = "expected a size such as 512m or 2g" },
  { "memory-swap", 0, "Memory plus swap limit, -1 for unlimited swap", "BYTES",
    TEXT (memory_swap), KIND_SWAP, FIELD (memory_swap),
    .why = "expected a size such as 1g (memory plus swap), or -1 for no limit" },
  { "cpus", 0, "Number of CPUs: cpu.max", "N", TEXT (cpus), KIND_CPUS, 0,
    .why = "expected a number of CPUs such as 0.5 or 2" },
  { "cpu-shares", 'c', "CPU shares (2..262144, relative weight)", "N", TEXT (cpu_shares),
    KIND_INT, FIELD (cpu_weight), 2, 262144, .convert = rrun_cgroup_shares_to_weight,
    .why = "the range is 2 to 262144" },
  { "cpu-weight", 0, "CPU weight (1..10000): cpu.weight", "N", TEXT (cpu_weight), KIND_INT,
    FIELD (cpu_weight), 1, 10000, .why = "the range is 1 to 10000" },
  { "cpuset-cpus", 0, "CPUs to run on (0-3,5)", "LIST", TEXT (cpuset_cpus), KIND_CPUSET,
    FIELD (cpuset_cpus), .why = "expected a list of CPUs such as 0-3,5" },
  { "cpuset-mems", 0, "Memory nodes to use (0-1)", "LIST", TEXT (cpuset_mems), KIND_CPUSET,
    FIELD (cpuset_mems), .why = "expected a list of memory nodes such as 0-1,3" },
  { "pids-limit", 0, "Process limit, -1 for unlimited: pids.max", "N", TEXT (pids_limit),
    KIND_INT, FIELD (pids_limit), 1, G_MAXINT64, TRUE, -1,
    .why = "expected a number of tasks, or -1 for no limit" },
  { "blkio-weight", 0, "Block IO weight (10..1000): io.weight", "N", TEXT (blkio_weight),
    KIND_INT, FIELD (io_weight), 10, 1000, TRUE, 0, rrun_cgroup_blkio_to_io_weight,
    "the range is 10 to 1000" },
  { "device-read-bps", 0, "Read rate limit for a device: io.max", "DEVICE:RATE",
    TEXT (device_read_bps), KIND_DEVICE, .device = 0 },
  { "device-write-bps", 0, "Write rate limit for a device: io.max", "DEVICE:RATE",
    TEXT (device_write_bps), KIND_DEVICE, .device = DEVICE_WRITE },
  { "device-read-iops", 0, "Read operations per second for a device: io.max", "DEVICE:N",
    TEXT (device_read_iops), KIND_DEVICE, .device = DEVICE_IOPS },
  { "device-write-iops", 0, "Write operations per second for a device: io.max", "DEVICE:N",
    TEXT (device_write_iops), KIND_DEVICE, .device = DEVICE_IOPS | DEVICE_WRITE },
  { "blkio-weight-device", 0, "Block IO weight for a device (10..1000): io.weight",
    "DEVICE:WEIGHT", TEXT (blkio_weight_device), KIND_DEVICE, .device = DEVICE_WEIGHT },
  { "cpu-period", 0, "CPU period in microseconds (1000..1000000): cpu.max", "US",
    TEXT (cpu_period), KIND_INT, FIELD (period_flag), 1000, 1000000, TRUE, 0,
    .why = "the range is 1000 to 1000000 microseconds" },
  { "cpu-quota", 0, "CPU time per period in microseconds (at least 1000): cpu.max", "US",
    TEXT (cpu_quota), KIND_INT, FIELD (quota_flag), 1000, G_MAXINT64, TRUE, -1,
    .why = "expected at least 1000 microseconds, or -1 for no limit" },
  { "cpu-rt-period", 0, "Realtime CPU period (cgroup v1 only)", "US", TEXT (cpu_rt_period),
    KIND_INT, FIELD (rt_flag), 1, G_MAXINT64, TRUE, 0, .why = "expected microseconds" },
  { "cpu-rt-runtime", 0, "Realtime CPU runtime (cgroup v1 only)", "US", TEXT (cpu_rt_runtime),
    KIND_INT, FIELD (rt_flag), 1, G_MAXINT64, TRUE, -1, .why = "expected microseconds" },
  { "memory-swappiness", 0, "Swappiness 0..100 (cgroup v1 only; ignored on v2)", "N",
    TEXT (memory_swappiness), KIND_INT, FIELD (swappiness_flag), 0, 100, TRUE, -1,
    .why = "the range is 0 to 100, or -1 for the default" },
  { "oom-kill-disable", 0, "Disable the OOM killer (cgroup v1 only; ignored on v2)", NULL,
    TEXT (oom_kill_disable), KIND_FLAG, 0 },
  { "cgroup-parent", 0, "Parent cgroup: a path below your delegated cgroup (made if "
    "missing), or NAME.slice under systemd", "PATH", TEXT (cgroup_parent), KIND_PATH, 0 },
  { "cgroup-conf", 0, "Write a cgroup v2 file: KEY=VALUE such as memory.high=1g", "K=V",
    TEXT (cgroup_conf), KIND_CONF, 0 },
};

void
rrun_cgroup_limits_free (RrunCgroupLimits *l)
{
  if (l == NULL)
    return;
  g_free (l->cpuset_cpus);
  g_free (l->cpuset_mems);
  g_array_unref (l->devices);
  g_strfreev (l->conf);
  for (gsize i = 0; i < G_N_ELEMENTS (limit_flags); i++)
    if (limit_flags[i].kind == KIND_DEVICE || limit_flags[i].kind == KIND_CONF)
      g_strfreev (AT (l, char **, limit_flags[i].text));
    else
      g_free (AT (l, char *, limit_flags[i].text));
  g_free (l);
}

static gboolean
parse_cpus (RrunCgroupLimits *l, const LimitFlag *f, const char *value, GError **error)
{
  guint ncpu = g_get_num_processors ();
  char *end = NULL;
  double cpus = g_ascii_strtod (value, &end);
  double nano;

  if (end == value || *end != '\0' || !g_ascii_isdigit (value[0]) || !isfinite (cpus))
    return bad_value (error, f->flag, value, f->why);
  nano = cpus < 1e12 ? (double) (gint64) (cpus * 1e9 + 0.5) : cpus * 1e9;
  if (nano == 0)
    {
      l->cpu_quota_us = l->cpu_period_us = 0; /* docker: 0 is no limit */
      return TRUE;
    }
  if (nano < 1e7 || nano > (double) ncpu * 1e9)
    {
      g_autofree char *why = g_strdup_printf ("the range is 0.01 to %u (the CPUs available)",
                                              ncpu);
      return bad_value (error, f->flag, value, why);
    }
  /* docker: quota = NanoCPUs * period / 1e9 with a period of 100 ms. */
  l->cpu_quota_us = (guint64) (nano * CPU_PERIOD_US / 1e9);
  l->cpu_period_us = CPU_PERIOD_US;
  return TRUE;
}

static gboolean
parse_flag (RrunCgroupLimits *l, const LimitFlag *f, const char *value, GError **error)
{
  guint64 size;
  gint64 n;

  switch (f->kind)
    {
    case KIND_SIZE:
      if (!parse_size (value, &size))
        return bad_value (error, f->flag, value, f->why);
      /* docker refuses memory and reservation limits below 6 MiB; 0 means none. */
      if (size != 0 && size < MIN_MEMORY)
        return bad_value (error, f->flag, value, "the minimum is 6m");
      AT (l, guint64, f->field) = size;
      return TRUE;
    case KIND_SWAP:
      if (strcmp (value, "-1") == 0)
        AT (l, gint64, f->field) = -1;
      else if (parse_size (value, &size))
        AT (l, gint64, f->field) = (gint64) size;
      else
        return bad_value (error, f->flag, value, f->why);
      return TRUE;
    case KIND_CPUS:
      return parse_cpus (l, f, value, error);
    case KIND_INT:
      if (!parse_int (value, G_MININT64, G_MAXINT64, &n))
        return bad_value (error, f->flag, value, f->why);
      if (f->can_unset && n >= f->unset_min && n <= 0)
        {
          /* rrun update: -1 lifts a limit in place ("max"); 0 leaves it alone. */
          AT (l, guint64, f->field) = l->updating && n < 0 ? G_MAXUINT64 : 0;
          return TRUE;
        }
      else if (n < f->min || n > f->max)
        return bad_value (error, f->flag, value, f->why);
      AT (l, guint64, f->field) = f->convert && n ? f->convert ((guint64) n) : (guint64) n;
      return TRUE;
    case KIND_CPUSET:
      if (!valid_cpuset_list (value))
        return bad_value (error, f->flag, value, f->why);
      g_free (AT (l, char *, f->field));
      AT (l, char *, f->field) = g_strdup (value);
      return TRUE;
    case KIND_DEVICE:
      return add_device (l, f->flag, value, (f->device & DEVICE_IOPS) != 0,
                         (f->device & DEVICE_WRITE) != 0, (f->device & DEVICE_WEIGHT) != 0,
                         error);
    case KIND_FLAG:
      l->oom_kill_disable = TRUE;
      return TRUE;
    case KIND_PATH:
      return rrun_cgroup_parent_check (value, value[0] != '/', error);
    case KIND_CONF:
      {
        const char *eq = strchr (value, '=');
        g_autofree char *key = eq ? g_strndup (value, (gsize) (eq - value)) : NULL;
        GPtrArray *all;

        /* controller.file, as in the cgroup v2 directory: no path, no cgroup.* core file */
        if (key == NULL || strchr (key, '.') == NULL || key[0] == '.'
            || strspn (key, "abcdefghijklmnopqrstuvwxyz0123456789_.") != strlen (key)
            || g_str_has_prefix (key, "cgroup.") || strchr (eq + 1, '\n') != NULL)
          return bad_value (error, f->flag, value,
                            "expected KEY=VALUE with a cgroup v2 file such as memory.high=1g");
        all = g_ptr_array_new ();
        for (char **c = l->conf; c && *c; c++)
          g_ptr_array_add (all, *c);
        g_ptr_array_add (all, g_strdup (value));
        g_ptr_array_add (all, NULL);
        g_free (l->conf);
        l->conf = (char **) g_ptr_array_free (all, FALSE);
        return TRUE;
      }
    default:
      g_assert_not_reached ();
    }
}

gboolean
rrun_cgroup_limits_add_option (RrunCgroupLimits *l, const char *flag, const char *value,
                               GError **error)
{
  while (*flag == '-')
    flag++;
  for (gsize i = 0; i < G_N_ELEMENTS (limit_flags); i++)
    if (strcmp (flag, limit_flags[i].flag) == 0)
      return parse_flag (l, &limit_flags[i], value, error);
  return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "unknown resource limit --%s", flag);
}

/* A size for a message: the user's own text where there is one, else bytes. */
static char *
format_size (const char *text, guint64 bytes)
{
  return text ? g_strdup (text) : g_strdup_printf ("%" G_GUINT64_FORMAT " bytes", bytes);
}

gboolean
rrun_cgroup_limits_finish (RrunCgroupLimits *l, GError **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS (limit_flags); i++)
    {
      const LimitFlag *f = &limit_flags[i];

      if (f->kind == KIND_DEVICE || f->kind == KIND_CONF)
        {
          for (char **t = AT (l, char **, f->text); t && *t; t++)
            if (!parse_flag (l, f, *t, error))
              return FALSE;
        }
      else if (AT (l, char *, f->text) != NULL
               && !parse_flag (l, f, AT (l, char *, f->text), error))
        return FALSE;
    }

  /* docker's --cpu-period and --cpu-quota: cpu.max as given (no quota: "max PERIOD") */
  if ((l->period_flag || l->quota_flag) && l->text.cpus != NULL)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "cannot use --cpus with --cpu-period or --cpu-quota: all set cpu.max");
  if (l->period_flag || l->quota_flag)
    {
      l->cpu_period_us = l->period_flag ? l->period_flag : CPU_PERIOD_US;
      l->cpu_quota_us = l->quota_flag ? l->quota_flag : G_MAXUINT64;
    }
  if (l->rt_flag)
    {
      rrun_throw (error, RRUN_ERROR_UNSUPPORTED,
                  "cannot use --%s: cgroup v2 has no realtime CPU controller",
                  l->text.cpu_rt_runtime ? "cpu-rt-runtime" : "cpu-rt-period");
      rrun_add_hint (error, "realtime CPU limits exist only under cgroup v1, which rootless "
                            "containers cannot use");
      return FALSE;
    }
  if ((l->swappiness_flag || l->oom_kill_disable) && !l->warned)
    {
      rrun_warning ("ignoring --%s: cgroup v2 has no such setting",
                    l->oom_kill_disable ? "oom-kill-disable" : "memory-swappiness");
      l->warned = TRUE;
    }
  if (l->text.cpu_shares != NULL && l->text.cpu_weight != NULL)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "cannot use --cpu-shares with --cpu-weight: both set cpu.weight");
  if (l->memory != 0 && l->memory_reservation > l->memory)
    {
      g_autofree char *m = format_size (l->text.memory, l->memory);
      g_autofree char *r = format_size (NULL, l->memory_reservation);
      return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                         "invalid value \"%s\" for --memory-reservation: it must not be "
                         "above --memory (%s)",
                         l->text.memory_reservation ? l->text.memory_reservation : r, m);
    }
  if (l->memory_swap > 0)
    {
      g_autofree char *s = format_size (NULL, (guint64) l->memory_swap);
      const char *text = l->text.memory_swap ? l->text.memory_swap : s;

      /* rrun update: the memory.max in place counts (rrun_cgroup_update checks it). */
      if (l->memory == 0 && l->updating)
        return TRUE;
      if (l->memory == 0)
        return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                           "invalid value \"%s\" for --memory-swap: it needs --memory as "
                           "well",
                           text);
      if ((guint64) l->memory_swap < l->memory)
        {
          g_autofree char *m = format_size (l->text.memory, l->memory);
          return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                             "invalid value \"%s\" for --memory-swap: it counts memory plus "
                             "swap and must not be below --memory (%s)",
                             text, m);
        }
    }
  return TRUE;
}

gboolean
rrun_cgroup_limits_any (const RrunCgroupLimits *l)
{
  return l != NULL
         && (l->memory || l->memory_reservation || l->memory_swap || l->cpu_quota_us
             || l->cpu_weight || l->cpuset_cpus || l->cpuset_mems || l->pids_limit
             || l->io_weight || l->devices->len > 0 || l->conf != NULL);
}

static gboolean
flag_given (const char *name, const char *value, gpointer data, GError **error)
{
  RrunCgroupLimits *l = data;

  if (strcmp (name, "--oom-kill-disable") == 0)
    {
      g_free (l->text.oom_kill_disable);
      l->text.oom_kill_disable = g_strdup ("true");
    }
  return TRUE;
}

GOptionGroup *
rrun_cgroup_limits_option_group (RrunCgroupLimits *l)
{
  GOptionEntry entries[G_N_ELEMENTS (limit_flags) + 1] = { { NULL } };
  GOptionGroup *group = g_option_group_new ("limits", "Resource limits (cgroup v2):",
                                            "Show the resource limit options", l, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (limit_flags); i++)
    {
      const LimitFlag *f = &limit_flags[i];

      if (f->kind == KIND_FLAG)
        {
          /* a switch: its text is "true" once given (see rrun_cgroup_limits_finish) */
          entries[i] = (GOptionEntry) { f->flag, f->short_name, G_OPTION_FLAG_NO_ARG,
                                        G_OPTION_ARG_CALLBACK, (gpointer) flag_given, f->help,
                                        NULL };
          continue;
        }
      entries[i] = (GOptionEntry) { f->flag, f->short_name, 0,
                                    f->kind == KIND_DEVICE || f->kind == KIND_CONF
                                        ? G_OPTION_ARG_STRING_ARRAY
                                        : G_OPTION_ARG_STRING,
                                    &AT (l, char *, f->text), f->help, f->arg_help };
    }
  /* g_option_group_add_entries copies the array; the pointers point into l. */
  g_option_group_add_entries (group, entries);
  return group;
}

/* ---- the JSON form (a container's stored spec) -----------------------------------------

   The flags' text as the user gave it, keyed by flag name: reading it back goes through
   the same parser as the command line, so a stored spec is checked like a new one. */

void
rrun_cgroup_limits_to_json (const RrunCgroupLimits *l, RrunJsonBuilder *b)
{
  rrun_json_builder_begin_object (b);
  for (gsize i = 0; i < G_N_ELEMENTS (limit_flags); i++)
    {
      const LimitFlag *f = &limit_flags[i];

      if (f->kind == KIND_DEVICE || f->kind == KIND_CONF)
        {
          char **t = AT (l, char **, f->text);
          if (t != NULL && *t != NULL)
            rrun_json_builder_member_strv (b, f->flag, (const char *const *) t);
        }
      else if (AT (l, char *, f->text) != NULL)
        rrun_json_builder_member_string (b, f->flag, AT (l, char *, f->text));
    }
  rrun_json_builder_end_object (b);
}

gboolean
rrun_cgroup_limits_from_json (const RrunJson *o, RrunCgroupLimits **out_limits, GError **error)
{
  g_autoptr(RrunCgroupLimits) l = rrun_cgroup_limits_new ();

  if (o != NULL && rrun_json_type (o) != RRUN_JSON_OBJECT)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "limits: expected an object");
  for (gsize i = 0; o != NULL && i < G_N_ELEMENTS (limit_flags); i++)
    {
      const LimitFlag *f = &limit_flags[i];
      RrunJson *v = rrun_json_member_value (o, f->flag);

      if (v == NULL)
        continue;
      if (f->kind == KIND_DEVICE || f->kind == KIND_CONF)
        {
          GPtrArray *texts;

          if (rrun_json_type (v) != RRUN_JSON_ARRAY)
            return rrun_throw (error, RRUN_ERROR_CORRUPT, "limits: %s: expected an array",
                               f->flag);
          texts = g_ptr_array_new ();
          for (guint j = 0; j < rrun_json_size (v); j++)
            {
              const char *s = rrun_json_string (rrun_json_element (v, j));
              if (s == NULL)
                {
                  g_ptr_array_free (texts, TRUE);
                  return rrun_throw (error, RRUN_ERROR_CORRUPT,
                                     "limits: %s: expected strings", f->flag);
                }
              g_ptr_array_add (texts, g_strdup (s));
            }
          g_ptr_array_add (texts, NULL);
          AT (l, char **, f->text) = (char **) g_ptr_array_free (texts, FALSE);
        }
      else
        {
          if (rrun_json_string (v) == NULL)
            return rrun_throw (error, RRUN_ERROR_CORRUPT, "limits: %s: expected a string",
                               f->flag);
          AT (l, char *, f->text) = g_strdup (rrun_json_string (v));
        }
    }
  if (!rrun_cgroup_limits_finish (l, error))
    return FALSE;
  *out_limits = g_steal_pointer (&l);
  return TRUE;
}
