#include "util/text-file.h"
#include "error.h"
#include "util/fd.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *
escape (const char *s, gssize len, gboolean backslash)
{
  gsize n = len < 0 ? strlen (s) : (gsize) len;
  GString *out = g_string_sized_new (n + 8);
  const char *p = s, *end = s + n;

  while (p < end)
    {
      guchar c = (guchar) *p;

      if (c >= 0x80)
        {
          gunichar u = g_utf8_get_char_validated (p, end - p);

          if (u == (gunichar) -1 || u == (gunichar) -2)
            {
              g_string_append_printf (out, "\\x%02x", c);
              p++;
            }
          else
            {
              const char *next = g_utf8_next_char (p);

              if (u < 0xa0) /* a C1 control character */
                g_string_append_printf (out, "\\u%04x", u);
              else
                g_string_append_len (out, p, next - p);
              p = next;
            }
          continue;
        }
      switch (c)
        {
        case '\n': g_string_append (out, "\\n"); break;
        case '\t': g_string_append (out, "\\t"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\\': g_string_append (out, backslash ? "\\\\" : "\\"); break;
        default:
          if (c < 0x20 || c == 0x7f)
            g_string_append_printf (out, "\\x%02x", c);
          else
            g_string_append_c (out, (char) c);
        }
      p++;
    }
  return g_string_free (out, FALSE);
}

char *
rrun_text_escape (const char *s, gssize len)
{
  return escape (s, len, TRUE);
}

char *
rrun_text_escape_lines (const char *s)
{
  GString *out = g_string_new (NULL);

  for (const char *p = s;;)
    {
      const char *nl = strchr (p, '\n');
      /* a backslash stays: the message may hold text escaped already */
      g_autofree char *line = escape (p, nl ? nl - p : -1, FALSE);

      g_string_append (out, line);
      if (nl == NULL)
        break;
      g_string_append_c (out, '\n');
      p = nl + 1;
    }
  return g_string_free (out, FALSE);
}

static const char *
kind_of (mode_t mode)
{
  if (S_ISDIR (mode))
    return "a directory";
  if (S_ISCHR (mode))
    return "a character device";
  if (S_ISBLK (mode))
    return "a block device";
  if (S_ISFIFO (mode))
    return "a pipe";
  if (S_ISSOCK (mode))
    return "a socket";
  return "not a regular file";
}

gboolean
rrun_text_check (const char *text, gsize len, const char *what, const char *path,
                 RrunTextFileFlags flags, GError **error)
{
  const char *nul = memchr (text, '\0', len);
  const char *bad = NULL;
  const char *stop;
  guint line = 1;

  /* Valid UTF-8 never holds a NUL: g_utf8_validate_len stops at the first of either. */
  if (!(flags & RRUN_TEXT_FILE_ANY_BYTES))
    {
      if (!g_utf8_validate_len (text, len, &bad))
        stop = bad;
      else
        return TRUE;
    }
  else if (nul == NULL)
    return TRUE;
  else
    stop = nul;
  for (const char *p = text; (p = memchr (p, '\n', (gsize) (stop - p))) != NULL; p++)
    line++;
  {
    g_autofree char *epath = rrun_text_escape (path, -1);

    if (*stop == '\0')
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "cannot read %s \"%s\": line %u holds a NUL byte", what, epath, line);
    else
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "cannot read %s \"%s\": line %u is not valid UTF-8", what, epath, line);
    rrun_add_hint (error, "is it a text file? (a binary file was given, or a damaged one)");
  }
  return FALSE;
}

gboolean
rrun_text_file_read_at (int dirfd, const char *path, const char *what, gsize max_size,
                        RrunTextFileFlags flags, char **out_text, gsize *out_len,
                        GError **error)
{
  g_autofree char *epath = rrun_text_escape (path, -1);
  /* O_NONBLOCK: a FIFO opens at once, to be refused or read below, rather than waiting
     for a writer that may never come. */
  rrun_autofd int fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  g_autofree char *buf = NULL;
  struct stat st;
  gsize len = 0, cap;

  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot read %s \"%s\"", what, epath);
  if (fstat (fd, &st) < 0)
    return rrun_throw_errno (error, errno, "cannot read %s \"%s\"", what, epath);
  if (!S_ISREG (st.st_mode) && !(S_ISFIFO (st.st_mode) && (flags & RRUN_TEXT_FILE_ALLOW_PIPE)))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "cannot read %s \"%s\": %s, not a regular file", what, epath,
                       kind_of (st.st_mode));
  if (S_ISREG (st.st_mode) && (guint64) st.st_size > max_size)
    goto too_big;
  if (fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) & ~O_NONBLOCK) < 0)
    return rrun_throw_errno (error, errno, "cannot read %s \"%s\"", what, epath);
  /* One byte past the limit tells a file at the limit from a larger one (a file may grow
     after the fstat, a pipe has no size). */
  cap = S_ISREG (st.st_mode) ? (gsize) st.st_size + 1 : 8192;
  buf = g_malloc (cap + 1);
  for (;;)
    {
      ssize_t n;

      if (len == cap)
        {
          if (len > max_size)
            goto too_big;
          cap = MIN (cap * 2, max_size + 1);
          buf = g_realloc (buf, cap + 1);
        }
      n = read (fd, buf + len, cap - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return rrun_throw_errno (error, errno, "cannot read %s \"%s\"", what, epath);
      if (n == 0)
        break;
      len += (gsize) n;
      if (len > max_size)
        goto too_big;
    }
  buf[len] = '\0';
  if (!rrun_text_check (buf, len, what, path, flags, error))
    return FALSE;
  if (out_len)
    *out_len = len;
  *out_text = g_steal_pointer (&buf);
  return TRUE;

too_big:
  {
    g_autofree char *limit = g_format_size_full (max_size, G_FORMAT_SIZE_IEC_UNITS);

    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "cannot read %s \"%s\": larger than %s", what, epath, limit);
  }
}

gboolean
rrun_text_file_read (const char *path, const char *what, gsize max_size,
                     RrunTextFileFlags flags, char **out_text, gsize *out_len, GError **error)
{
  return rrun_text_file_read_at (AT_FDCWD, path, what, max_size, flags, out_text, out_len,
                                 error);
}
