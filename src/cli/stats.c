/* rrun stats [--no-stream] [--format json] [CONTAINER...]: CPU, memory, pids and block IO
   of running containers, from their cgroup v2 files. */
#include "cgroup/cgroup.h"
#include "cli/cli.h"
#include "container/record.h"
#include "util/json-value.h"

#include <stdio.h>
#include <unistd.h>

typedef struct
{
  RrunState *state;
  RrunCgroupStats stats;
  double cpu_percent;
  gboolean ok;
} Row;

static char *
human (guint64 bytes)
{
  return g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
}

static void
add_measured (RrunJsonBuilder *b, const char *name, gboolean measured, guint64 value)
{
  rrun_json_builder_set_member_name (b, name);
  if (measured && value <= (guint64) G_MAXINT64)
    rrun_json_builder_add_int_value (b, (gint64) value);
  else
    rrun_json_builder_add_null_value (b);
}

/* One sample of every container; CPU % from two readings 500 ms apart, as docker. */
static gboolean
sample (const RrunConfig *config, char **names, GArray *rows, GError **error)
{
  g_autoptr(GPtrArray) states = NULL;
  gint64 t0, t1;

  if (names == NULL || names[0] == NULL)
    {
      if (!rrun_state_list (config, &states, error))
        return FALSE;
    }
  else
    {
      /* Named ones as every command finds them (name, id, unique prefix): an unknown
         name is an error, as in docker. */
      states = g_ptr_array_new_with_free_func ((GDestroyNotify) rrun_state_free);
      for (guint j = 0; names[j]; j++)
        {
          RrunState *found = NULL;

          if (!rrun_state_find (config, names[j], &found, error))
            return FALSE;
          g_ptr_array_add (states, found);
        }
    }
  for (guint i = 0; i < states->len; i++)
    {
      Row r = { 0 };

      r.state = g_steal_pointer (&states->pdata[i]);
      r.ok = r.state->cgroup && rrun_cgroup_read_stats (r.state->cgroup, &r.stats, NULL);
      g_array_append_val (rows, r);
    }
  t0 = g_get_monotonic_time ();
  g_usleep (500 * 1000);
  t1 = g_get_monotonic_time ();
  for (guint i = 0; i < rows->len; i++)
    {
      Row *r = &g_array_index (rows, Row, i);
      RrunCgroupStats later = { 0 };

      if (r->ok && r->stats.has_cpu && rrun_cgroup_read_stats (r->state->cgroup, &later, NULL))
        r->cpu_percent = 100.0 * (double) (later.cpu_usage_usec - r->stats.cpu_usage_usec)
                         / (double) (t1 - t0);
      if (r->ok)
        r->stats = later.has_cpu || later.has_memory ? later : r->stats;
    }
  return TRUE;
}

static void
clear_rows (GArray *rows)
{
  for (guint i = 0; i < rows->len; i++)
    rrun_state_free (g_array_index (rows, Row, i).state);
  g_array_set_size (rows, 0);
}

static void
print_rows (GArray *rows, gboolean json)
{
  if (json)
    {
      g_autoptr(RrunJsonBuilder) b = rrun_json_builder_new ();

      rrun_json_builder_begin_array (b);
      for (guint i = 0; i < rows->len; i++)
        {
          Row *r = &g_array_index (rows, Row, i);
          rrun_json_builder_begin_object (b);
          rrun_json_builder_member_string (b, "Id", r->state->id);
          rrun_json_builder_member_string (b, "Name", r->state->name);
          rrun_json_builder_member_bool (b, "CgroupAvailable", r->ok);
          rrun_json_builder_set_member_name (b, "CPUPercent");
          if (r->ok && r->stats.has_cpu)
            rrun_json_builder_add_double_value (b, r->cpu_percent);
          else
            rrun_json_builder_add_null_value (b);
          /* null: not measured (no cgroup, or its controller is not enabled) or, for
             the limit, no limit; never a made-up 0. */
          add_measured (b, "MemoryUsage", r->ok && r->stats.has_memory,
                        r->stats.memory_current);
          add_measured (b, "MemoryLimit",
                        r->ok && r->stats.has_memory && r->stats.memory_max != G_MAXUINT64,
                        r->stats.memory_max);
          add_measured (b, "Pids", r->ok && r->stats.has_pids, r->stats.pids_current);
          add_measured (b, "BlockRead", r->ok && r->stats.has_io, r->stats.io_read_bytes);
          add_measured (b, "BlockWrite", r->ok && r->stats.has_io, r->stats.io_write_bytes);
          rrun_json_builder_end_object (b);
        }
      rrun_json_builder_end_array (b);
      rrun_cli_print_json_builder (b);
      return;
    }
  printf ("%-12s  %-16s  %7s  %-22s  %5s  %s\n", "CONTAINER ID", "NAME", "CPU %",
          "MEM USAGE / LIMIT", "PIDS", "BLOCK I/O");
  for (guint i = 0; i < rows->len; i++)
    {
      Row *r = &g_array_index (rows, Row, i);
      g_autofree char *cpu = NULL, *mem = NULL, *lim = NULL, *pids = NULL, *rd = NULL,
                      *wr = NULL;

      if (!r->ok)
        {
          printf ("%-12.12s  %-16s  %s\n", r->state->id, r->state->name,
                  "(no cgroup of its own: see rrun system check)");
          continue;
        }
      /* "--" where a controller is not enabled, as docker prints what it cannot read. */
      cpu = r->stats.has_cpu ? g_strdup_printf ("%.2f%%", r->cpu_percent) : g_strdup ("--");
      mem = r->stats.has_memory ? human (r->stats.memory_current) : g_strdup ("--");
      lim = !r->stats.has_memory         ? g_strdup ("--")
            : r->stats.memory_max != G_MAXUINT64 ? human (r->stats.memory_max)
                                                 : g_strdup ("unlimited");
      pids = r->stats.has_pids ? g_strdup_printf ("%" G_GUINT64_FORMAT, r->stats.pids_current)
                               : g_strdup ("--");
      rd = r->stats.has_io ? human (r->stats.io_read_bytes) : g_strdup ("--");
      wr = r->stats.has_io ? human (r->stats.io_write_bytes) : g_strdup ("--");
      printf ("%-12.12s  %-16s  %7s  %9s / %-10s  %5s  %s / %s\n", r->state->id,
              r->state->name, cpu, mem, lim, pids, rd, wr);
    }
}

gboolean
rrun_cmd_stats (RrunGlobal *g, int argc, char **argv, int *out_status, GError **error)
{
  g_autofree char *format = NULL;
  gboolean no_stream = FALSE, json, help;
  const GOptionEntry entries[] = {
    { "no-stream", 0, 0, G_OPTION_ARG_NONE, &no_stream, "Print one sample and exit", NULL },
    { NULL }
  };
  const RrunCliSpec spec = { "stats", "[CONTAINER...]",
                             "Show CPU, memory, pids and block IO of running containers (from "
                             "their cgroups).",
                             0, -1, NULL, &format, FALSE };
  g_autoptr(GArray) rows = g_array_new (FALSE, TRUE, sizeof (Row));

  if (!rrun_cli_parse_args (&spec, entries, &argc, &argv, &help, error))
    return FALSE;
  *out_status = 0;
  if (help)
    return TRUE;
  json = rrun_cli_format_is_json (format);
  /* JSON and pipes get one sample; a terminal gets a refreshing view, bounded to an
     hour, until interrupted. */
  if (json || !isatty (STDOUT_FILENO))
    no_stream = TRUE;
  for (int i = 0; i < (no_stream ? 1 : 7200); i++)
    {
      if (!sample (g->config, argv + 1, rows, error))
        return FALSE;
      if (!no_stream)
        printf ("\033[H\033[2J");
      print_rows (rows, json);
      fflush (stdout);
      clear_rows (rows);
    }
  return TRUE;
}
