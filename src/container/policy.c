#include "container/policy.h"
#include "error.h"
#include "util/size.h"

#include <string.h>

gboolean
rrun_restart_policy_parse (const char *text, RrunRestartPolicy *out_policy, GError **error)
{
  RrunRestartPolicy p = { RRUN_RESTART_NO, 0 };

  if (text == NULL || strcmp (text, "no") == 0 || *text == '\0')
    ;
  else if (strcmp (text, "always") == 0)
    p.mode = RRUN_RESTART_ALWAYS;
  else if (strcmp (text, "unless-stopped") == 0)
    p.mode = RRUN_RESTART_UNLESS_STOPPED;
  else if (strcmp (text, "on-failure") == 0)
    p.mode = RRUN_RESTART_ON_FAILURE;
  else if (g_str_has_prefix (text, "on-failure:"))
    {
      guint64 n;

      if (!g_ascii_string_to_unsigned (text + 11, 10, 0, G_MAXINT, &n, NULL))
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "invalid --restart \"%s\": the retry count must be a number", text);
          rrun_add_hint (error, "use on-failure:N with N the most restarts, e.g. on-failure:3");
          return FALSE;
        }
      p.mode = RRUN_RESTART_ON_FAILURE;
      p.max_retries = (guint) n;
    }
  else
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "invalid --restart \"%s\"", text);
      rrun_add_hint (error, "use no, on-failure[:N], always or unless-stopped");
      return FALSE;
    }
  *out_policy = p;
  return TRUE;
}

const char *
rrun_restart_mode_name (RrunRestartMode mode)
{
  switch (mode)
    {
    case RRUN_RESTART_ON_FAILURE:
      return "on-failure";
    case RRUN_RESTART_ALWAYS:
      return "always";
    case RRUN_RESTART_UNLESS_STOPPED:
      return "unless-stopped";
    case RRUN_RESTART_NO:
      break;
    }
  return "no";
}

gboolean
rrun_restart_wanted (const RrunRestartPolicy *p, int exit_code, guint restart_count,
                     gboolean manually_stopped)
{
  if (manually_stopped)
    return FALSE;
  switch (p->mode)
    {
    case RRUN_RESTART_NO:
      return FALSE;
    case RRUN_RESTART_ON_FAILURE:
      return exit_code != 0 && (p->max_retries == 0 || restart_count < p->max_retries);
    case RRUN_RESTART_ALWAYS:
    case RRUN_RESTART_UNLESS_STOPPED:
      return TRUE;
    }
  return FALSE;
}

guint
rrun_restart_next_delay (guint prev_ms, gint64 ran_ms)
{
  if (ran_ms >= RRUN_RESTART_RESET_AFTER_MS || prev_ms == 0)
    return RRUN_RESTART_FIRST_DELAY_MS;
  return MIN ((guint64) prev_ms * 2, RRUN_RESTART_MAX_DELAY_MS);
}

gboolean
rrun_log_options_parse (const char *driver, char *const *opts, gboolean detach,
                        RrunLogOptions *out, GError **error)
{
  RrunLogOptions o = { RRUN_LOG_DRIVER_K8S_FILE, 0, 1 };
  gboolean have_max_file = FALSE;

  if (driver == NULL || strcmp (driver, "k8s-file") == 0 || strcmp (driver, "json-file") == 0)
    ;
  else if (strcmp (driver, "none") == 0)
    o.driver = RRUN_LOG_DRIVER_NONE;
  else if (strcmp (driver, "passthrough") == 0)
    {
      if (detach)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "--log-driver passthrough: a detached container has no stdio to pass "
                      "through");
          rrun_add_hint (error, "run it in the foreground, or use --log-driver k8s-file");
          return FALSE;
        }
      o.driver = RRUN_LOG_DRIVER_PASSTHROUGH;
    }
  else
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "unsupported --log-driver \"%s\"", driver);
      rrun_add_hint (error, "use k8s-file (the default), none or passthrough");
      return FALSE;
    }
  for (guint i = 0; opts && opts[i]; i++)
    {
      const char *v = strchr (opts[i], '=');
      g_autofree char *key = v ? g_strndup (opts[i], (gsize) (v - opts[i])) : g_strdup (opts[i]);

      if (v != NULL)
        v++;
      if (o.driver != RRUN_LOG_DRIVER_K8S_FILE)
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                      "--log-opt \"%s\": the %s log driver takes no options", opts[i], driver);
          return FALSE;
        }
      if (strcmp (key, "max-size") == 0)
        {
          if (v == NULL || !rrun_size_parse (v, &o.max_size) || o.max_size == 0)
            {
              rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                          "invalid --log-opt \"%s\": expected a size", opts[i]);
              rrun_add_hint (error, "sizes are bytes or a number with k, m or g: max-size=10m");
              return FALSE;
            }
        }
      else if (strcmp (key, "max-file") == 0)
        {
          guint64 n;

          if (v == NULL || !g_ascii_string_to_unsigned (v, 10, 1, 1000, &n, NULL))
            {
              rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                          "invalid --log-opt \"%s\": expected a number of files from 1 to 1000",
                          opts[i]);
              return FALSE;
            }
          o.max_file = (guint) n;
          have_max_file = TRUE;
        }
      else
        {
          rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "unknown --log-opt \"%s\"", opts[i]);
          rrun_add_hint (error, "the k8s-file driver takes max-size=SIZE and max-file=N");
          return FALSE;
        }
    }
  if (have_max_file && o.max_size == 0)
    {
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "--log-opt max-file needs max-size: files are rotated when they reach it");
      rrun_add_hint (error, "add --log-opt max-size=SIZE");
      return FALSE;
    }
  *out = o;
  return TRUE;
}

gboolean
rrun_duration_parse (const char *text, gint64 *out_ns)
{
  const char *p = text;
  gint64 total = 0;

  if (text == NULL || *text == '\0')
    return FALSE;
  if (strcmp (text, "0") == 0)
    {
      *out_ns = 0;
      return TRUE;
    }
  while (*p)
    {
      char *end;
      double n = g_ascii_strtod (p, &end);
      double unit;

      if (end == p || n < 0 || *p == '-' || *p == '+')
        return FALSE;
      p = end;
      if (g_str_has_prefix (p, "ns"))
        unit = 1, p += 2;
      else if (g_str_has_prefix (p, "us") || g_str_has_prefix (p, "µs"))
        unit = 1e3, p += *p == 'u' ? 2 : strlen ("µs");
      else if (g_str_has_prefix (p, "ms"))
        unit = 1e6, p += 2;
      else if (*p == 's')
        unit = 1e9, p++;
      else if (*p == 'm')
        unit = 60e9, p++;
      else if (*p == 'h')
        unit = 3600e9, p++;
      else
        return FALSE;
      if (n * unit > (double) G_MAXINT64 - (double) total)
        return FALSE;
      total += (gint64) (n * unit);
    }
  *out_ns = total;
  return TRUE;
}
