/* ADD of a URL: see fetch-url.h. */
#include "build/fetch-url.h"

#include "error.h"
#include "rrun-config.h"
#include "util/fd.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CURL, curl_easy_cleanup)

typedef struct
{
  int fd;
  GChecksum *sum;
  GError *write_error;
} Sink;

static size_t
sink_write (char *data, size_t size, size_t n, void *user_data)
{
  Sink *s = user_data;
  size_t len = size * n;

  if (!rrun_fd_write_all (s->fd, data, len, &s->write_error))
    return 0; /* stops the transfer */
  g_checksum_update (s->sum, (const guchar *) data, len);
  return len;
}

char *
rrun_build_url_file_name (const char *url)
{
  g_autofree char *path = g_strdup (url);
  char *cut = path + strcspn (path, "?#");
  const char *base, *scheme_end = strstr (path, "://");

  *cut = '\0';
  while (cut > path && cut[-1] == '/')
    *--cut = '\0';
  base = strrchr (path, '/');
  base = base ? base + 1 : path;
  /* "https://host" alone, or a name the file system cannot hold. */
  if (*base == '\0' || (scheme_end && base <= scheme_end + 3) || strcmp (base, ".") == 0
      || strcmp (base, "..") == 0)
    return g_strdup ("__unnamed__");
  return g_strdup (base);
}

gboolean
rrun_build_fetch_url (const char *url, const char *path, const char *checksum,
                      gint64 *out_mtime, GError **error)
{
  g_autoptr(CURL) easy = curl_easy_init ();
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  rrun_autofd int fd = -1;
  char errbuf[CURL_ERROR_SIZE] = "";
  Sink sink = { -1, sum, NULL };
  long status = 0, filetime = -1;
  CURLcode code;

  if (checksum && !g_str_has_prefix (checksum, "sha256:"))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "--checksum \"%s\": only sha256:HEX digests are supported", checksum);
  if (checksum && (strlen (checksum) != 7 + 64
                   || strspn (checksum + 7, "0123456789abcdef") != 64))
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "--checksum \"%s\": expected sha256: and 64 lower-case hex digits",
                       checksum);
  if (easy == NULL)
    return rrun_throw (error, RRUN_ERROR_FAILED, "cannot start a download");
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return rrun_throw_errno (error, errno, "cannot create \"%s\"", path);
  sink.fd = fd;
  curl_easy_setopt (easy, CURLOPT_URL, url);
  curl_easy_setopt (easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt (easy, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt (easy, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt (easy, CURLOPT_FILETIME, 1L);
  curl_easy_setopt (easy, CURLOPT_CONNECTTIMEOUT, 30L);
  /* A stalled server: under 1 byte/s for 60 s ends the download. */
  curl_easy_setopt (easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (easy, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt (easy, CURLOPT_USERAGENT, "rrun/" RRUN_VERSION);
  curl_easy_setopt (easy, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, sink_write);
  curl_easy_setopt (easy, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
  code = curl_easy_perform (easy);
  curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &status);
  if (code != CURLE_OK)
    {
      (void) unlink (path);
      if (sink.write_error)
        {
          g_propagate_prefixed_error (error, sink.write_error, "cannot write \"%s\": ", path);
          return FALSE;
        }
      if (code == CURLE_HTTP_RETURNED_ERROR)
        return rrun_throw (error, RRUN_ERROR_NOT_FOUND, "cannot download %s: HTTP status %ld",
                           url, status);
      return rrun_throw (error, RRUN_ERROR_FAILED, "cannot download %s: %s", url,
                         *errbuf ? errbuf : curl_easy_strerror (code));
    }
  if (checksum && strcmp (checksum + 7, g_checksum_get_string (sum)) != 0)
    {
      (void) unlink (path);
      rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                  "%s: the download's digest is sha256:%s, not %s", url,
                  g_checksum_get_string (sum), checksum);
      rrun_add_hint (error, "the file on the server changed, or the --checksum is wrong");
      return FALSE;
    }
  curl_easy_getinfo (easy, CURLINFO_FILETIME, &filetime);
  *out_mtime = filetime > 0 ? filetime : 0;
  return TRUE;
}
