#include "registry/client.h"
#include "registry/challenge.h"
#include "registry/reference.h"
#include "error.h"
#include "rrun-config.h"
#include "util/json-value.h"

#include <curl/curl.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#undef G_LOG_DOMAIN
#define G_LOG_DOMAIN "rrun-registry"

#define MAX_TRIES 4
#define ERROR_BODY_MAX (64 * 1024)
#define TOKEN_BODY_MAX (1024 * 1024)
#define CONNECT_TIMEOUT_S 30L
/* A transfer slower than 1 KiB/s for 60 s is stuck (counted as a reset and retried). */
#define LOW_SPEED_BYTES 1024L
#define LOW_SPEED_TIME_S 60L

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CURL, curl_easy_cleanup)

typedef struct
{
  char *value;
  gint64 expires; /* g_get_monotonic_time () microseconds */
} Token;

static void
token_free (Token *t)
{
  g_free (t->value);
  g_free (t);
}

struct RrunRegistryClient
{
  char *domain;         /* as the user names it */
  char *host;           /* the endpoint host[:port] */
  gboolean verify_tls;  /* verify certificates */
  gboolean allow_http;  /* insecure or --tls-verify=false: http:// after https:// */
  RrunCredentials *credentials; /* explicit; NULL: looked up */

  GMutex lock;          /* guards everything below */
  gboolean pinged;
  char *base_url;       /* "https://host" or "http://host" */
  RrunAuthChallenge *challenge; /* NULL: no authentication asked for */
  GHashTable *tokens;   /* scope -> Token* */
  GHashTable *creds_cache; /* repository -> RrunCredentials* (or a NULL marker entry) */

  CURLSH *share;
  GMutex share_locks[CURL_LOCK_DATA_LAST];
};

void
rrun_registry_response_clear (RrunRegistryResponse *r)
{
  g_clear_pointer (&r->content_type, g_free);
  g_clear_pointer (&r->docker_content_digest, g_free);
  g_clear_pointer (&r->location, g_free);
  r->status = 0;
  r->content_length = -1;
}

static void
share_lock (CURL *handle, curl_lock_data data, curl_lock_access access, void *userptr)
{
  RrunRegistryClient *c = userptr;
  g_mutex_lock (&c->share_locks[data]);
}

static void
share_unlock (CURL *handle, curl_lock_data data, void *userptr)
{
  RrunRegistryClient *c = userptr;
  g_mutex_unlock (&c->share_locks[data]);
}

static void
credentials_free0 (gpointer p)
{
  rrun_credentials_free (p);
}

static RrunCredentials *
credentials_copy (const RrunCredentials *c)
{
  RrunCredentials *n = g_new0 (RrunCredentials, 1);

  n->username = g_strdup (c->username);
  n->password = g_strdup (c->password);
  n->source = g_strdup (c->source);
  return n;
}

RrunRegistryClient *
rrun_registry_client_new (const char *domain, const RrunRegistryOptions *options)
{
  static gsize curl_ready = 0;
  RrunRegistryClient *c = g_new0 (RrunRegistryClient, 1);

  /* curl_global_init is not thread-safe: once, before any thread uses curl. */
  if (g_once_init_enter (&curl_ready))
    {
      curl_global_init (CURL_GLOBAL_DEFAULT);
      g_once_init_leave (&curl_ready, 1);
    }
  c->domain = g_strdup (domain);
  c->host = g_strdup (rrun_registry_domain_endpoint (domain));
  c->verify_tls = options->tls_verify && !options->insecure;
  c->allow_http = !c->verify_tls;
  if (options->credentials)
    c->credentials = credentials_copy (options->credentials);
  g_mutex_init (&c->lock);
  c->tokens = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) token_free);
  c->creds_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, credentials_free0);
  for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
    g_mutex_init (&c->share_locks[i]);
  c->share = curl_share_init ();
  curl_share_setopt (c->share, CURLSHOPT_LOCKFUNC, share_lock);
  curl_share_setopt (c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
  curl_share_setopt (c->share, CURLSHOPT_USERDATA, c);
  curl_share_setopt (c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt (c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_share_setopt (c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  return c;
}

void
rrun_registry_client_free (RrunRegistryClient *c)
{
  if (c == NULL)
    return;
  curl_share_cleanup (c->share);
  for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
    g_mutex_clear (&c->share_locks[i]);
  g_free (c->domain);
  g_free (c->host);
  rrun_credentials_free (c->credentials);
  g_mutex_clear (&c->lock);
  g_free (c->base_url);
  rrun_auth_challenge_free (c->challenge);
  g_hash_table_unref (c->tokens);
  g_hash_table_unref (c->creds_cache);
  g_free (c);
}

const char *
rrun_registry_client_domain (RrunRegistryClient *c)
{
  return c->domain;
}

/* One HTTP transfer. */
typedef struct
{
  CURL *easy;
  RrunRegistryWriteFunc write;
  gpointer user_data;
  GError *write_error;
  guint64 skip;      /* bytes of a 200 reply to drop: the server ignored our Range */
  guint64 delivered; /* bytes handed to write in this transfer */
  char *reason;      /* "Not Found" */
  char *content_type;
  char *digest;
  char *www_authenticate;
  char *location;
  gint64 content_length;
  long status;       /* the final response's */
  GString *err_body;
  char errbuf[CURL_ERROR_SIZE];
} Transfer;

static void
transfer_clear (Transfer *t)
{
  g_clear_error (&t->write_error);
  g_clear_pointer (&t->reason, g_free);
  g_clear_pointer (&t->content_type, g_free);
  g_clear_pointer (&t->digest, g_free);
  g_clear_pointer (&t->www_authenticate, g_free);
  g_clear_pointer (&t->location, g_free);
  if (t->err_body)
    g_string_free (t->err_body, TRUE);
  t->err_body = NULL;
}

/* A 2xx (or an expected 404) response: its headers move from the transfer to out. */
static void
take_response (Transfer *t, RrunRegistryResponse *out)
{
  rrun_registry_response_clear (out);
  out->status = t->status;
  out->content_type = g_steal_pointer (&t->content_type);
  out->docker_content_digest = g_steal_pointer (&t->digest);
  out->location = g_steal_pointer (&t->location);
  out->content_length = t->content_length;
}

/* The scope a 401 asks for in its bearer challenge (an expired token, or a registry that
   wants another scope), or NULL. */
static char *
challenged_scope (const Transfer *t)
{
  g_autoptr(RrunAuthChallenge) ch = NULL;

  if (t->www_authenticate && rrun_auth_challenge_parse (t->www_authenticate, &ch, NULL)
      && ch->scheme == RRUN_AUTH_BEARER && ch->scope)
    return g_strdup (ch->scope);
  return NULL;
}

static size_t
on_header (char *buf, size_t size, size_t n, void *userdata)
{
  Transfer *t = userdata;
  gsize len = size * n;
  g_autofree char *line = g_strstrip (g_strndup (buf, len));
  char *colon;

  if (g_str_has_prefix (line, "HTTP/"))
    {
      /* A new response (after a redirect or 100): forget the previous headers. */
      char *sp = strchr (line, ' ');
      g_clear_pointer (&t->content_type, g_free);
      g_clear_pointer (&t->digest, g_free);
      g_clear_pointer (&t->www_authenticate, g_free);
      g_clear_pointer (&t->reason, g_free);
      g_clear_pointer (&t->location, g_free);
      t->content_length = -1;
      if (sp && (sp = strchr (sp + 1, ' ')) != NULL)
        t->reason = g_strdup (sp + 1);
      return len;
    }
  colon = strchr (line, ':');
  if (colon == NULL)
    return len;
  *colon = '\0';
  colon = g_strstrip (colon + 1);
  if (g_ascii_strcasecmp (line, "content-type") == 0)
    g_free (t->content_type), t->content_type = g_strdup (colon);
  else if (g_ascii_strcasecmp (line, "docker-content-digest") == 0)
    g_free (t->digest), t->digest = g_strdup (colon);
  else if (g_ascii_strcasecmp (line, "location") == 0)
    g_free (t->location), t->location = g_strdup (colon);
  else if (g_ascii_strcasecmp (line, "content-length") == 0)
    t->content_length = g_ascii_strtoll (colon, NULL, 10);
  else if (g_ascii_strcasecmp (line, "www-authenticate") == 0)
    {
      /* Several challenges may come in several headers: keep Bearer if one is. */
      if (t->www_authenticate == NULL || g_ascii_strncasecmp (colon, "bearer", 6) == 0)
        g_free (t->www_authenticate), t->www_authenticate = g_strdup (colon);
    }
  return len;
}

static size_t
on_body (char *buf, size_t size, size_t n, void *userdata)
{
  Transfer *t = userdata;
  gsize len = size * n;
  long status = 0;
  const guint8 *p = (const guint8 *) buf;
  gsize todo = len;

  curl_easy_getinfo (t->easy, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300 || t->write == NULL)
    {
      if (t->err_body == NULL)
        t->err_body = g_string_new (NULL);
      if (t->err_body->len < ERROR_BODY_MAX)
        g_string_append_len (t->err_body, buf, MIN (len, ERROR_BODY_MAX - t->err_body->len));
      return len;
    }
  if (status == 206)
    t->skip = 0; /* the server honoured our Range */
  if (t->skip > 0)
    {
      gsize drop = MIN ((guint64) todo, t->skip);
      t->skip -= drop;
      p += drop;
      todo -= drop;
    }
  if (todo > 0 && !t->write (p, todo, t->user_data, &t->write_error))
    return 0; /* CURLE_WRITE_ERROR */
  t->delivered += todo;
  return len;
}

static gboolean
is_retryable_curl (CURLcode code)
{
  switch (code)
    {
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
is_retryable_status (long status)
{
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

static void
backoff (guint attempt)
{
  /* 0.5 s, 1 s, 2 s */
  g_usleep ((gulong) 500000 << attempt);
}

static gboolean
is_tls_error (CURLcode code)
{
  return code == CURLE_SSL_CONNECT_ERROR || code == CURLE_PEER_FAILED_VERIFICATION
         || code == CURLE_SSL_CERTPROBLEM || code == CURLE_SSL_CACERT_BADFILE
         || code == CURLE_SSL_ISSUER_ERROR;
}

/* The options every transfer shares. */
static void
setup_easy (RrunRegistryClient *c, CURL *easy, const char *url, struct curl_slist *headers,
            Transfer *t)
{
  curl_easy_setopt (easy, CURLOPT_URL, url);
  curl_easy_setopt (easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (easy, CURLOPT_SHARE, c->share);
  curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (easy, CURLOPT_USERAGENT, "rrun/" RRUN_VERSION);
  curl_easy_setopt (easy, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt (easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (easy, CURLOPT_HEADERDATA, t);
  curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (easy, CURLOPT_WRITEDATA, t);
  curl_easy_setopt (easy, CURLOPT_PROTOCOLS_STR, "http,https");
  /* A verified https registry never sends us to plain http. */
  curl_easy_setopt (easy, CURLOPT_REDIR_PROTOCOLS_STR, c->allow_http ? "http,https" : "https");
  curl_easy_setopt (easy, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
  curl_easy_setopt (easy, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
  curl_easy_setopt (easy, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_S);
  if (g_str_has_prefix (url, "https://") && !c->verify_tls)
    {
      curl_easy_setopt (easy, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt (easy, CURLOPT_SSL_VERIFYHOST, 0L);
    }
  t->easy = easy;
  t->content_length = -1;
  t->errbuf[0] = '\0';
  t->delivered = 0;
}

/* Run one GET. Returns the curl code; t holds the response. */
static CURLcode
perform (RrunRegistryClient *c, const char *url, const char *accept, const char *authorization,
         guint64 range_from, Transfer *t)
{
  g_autoptr(CURL) easy = curl_easy_init ();
  struct curl_slist *headers = NULL;
  g_autofree char *accept_h = NULL, *auth_h = NULL, *range = NULL;
  CURLcode code;

  if (easy == NULL)
    return CURLE_OUT_OF_MEMORY;
  if (accept)
    headers = curl_slist_append (headers, (accept_h = g_strconcat ("Accept: ", accept, NULL)));
  if (authorization)
    headers = curl_slist_append (headers,
                                 (auth_h = g_strconcat ("Authorization: ", authorization, NULL)));
  setup_easy (c, easy, url, headers, t);
  t->skip = range_from;
  /* Blob storage redirects. libcurl (>= 7.58) does not send our Authorization header to
     another host, and registries' storage rejects it anyway. */
  curl_easy_setopt (easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt (easy, CURLOPT_MAXREDIRS, 10L);
  if (range_from > 0)
    {
      range = g_strdup_printf ("%" G_GUINT64_FORMAT "-", range_from);
      curl_easy_setopt (easy, CURLOPT_RANGE, range);
    }
  code = curl_easy_perform (easy);
  curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &t->status);
  curl_slist_free_all (headers);
  t->easy = NULL;
  return code;
}

char *
rrun_registry_format_error_body (const char *body, gsize len)
{
  g_autoptr(RrunJson) root = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  const RrunJson *errors;

  if (body == NULL || len == 0
      || (root = rrun_json_parse (body, len, RRUN_JSON_DEFAULT, NULL)) == NULL)
    return NULL;
  errors = rrun_json_member (root, "errors");
  if (errors == NULL || rrun_json_type (errors) != RRUN_JSON_ARRAY)
    return NULL;
  for (guint i = 0; i < rrun_json_size (errors) && i < 4; i++)
    {
      const RrunJson *e = rrun_json_element (errors, i);
      /* NULL when absent, not an object or not a string. */
      const char *code_s = rrun_json_member_string (e, "code");
      const char *msg_s = rrun_json_member_string (e, "message");
      if (code_s == NULL && msg_s == NULL)
        continue;
      if (out->len)
        g_string_append (out, "; ");
      if (msg_s && code_s)
        g_string_append_printf (out, "%s (%s)", msg_s, code_s);
      else
        g_string_append (out, msg_s ? msg_s : code_s);
    }
  /* Never print control characters a registry sent. */
  for (gsize i = 0; i < out->len; i++)
    if ((guchar) out->str[i] < 0x20)
      out->str[i] = ' ';
  return out->len ? g_string_free (g_steal_pointer (&out), FALSE) : NULL;
}

/* A failed request: "cannot ACTION "WHAT" DIRECTION HOST: HTTP N: the registry's message"
   (ACTION DIRECTION: "fetch" "from", "push" "to"); pushing is the one of the two that
   needs write access, and its hint says so. */
static gboolean
http_error (RrunRegistryClient *c, gboolean push, const char *what, long status, Transfer *t,
            GError **error)
{
  g_autofree char *detail = t->err_body ? rrun_registry_format_error_body (t->err_body->str,
                                                                            t->err_body->len)
                                        : NULL;
  RrunError code = status == 404 ? RRUN_ERROR_NOT_FOUND : RRUN_ERROR_REGISTRY;
  const char *action = push ? "push" : "fetch", *direction = push ? "to" : "from";

  if (detail)
    rrun_throw (error, code, "cannot %s \"%s\" %s %s: HTTP %ld: %s", action, what, direction,
                c->host, status, detail);
  else
    rrun_throw (error, code, "cannot %s \"%s\" %s %s: HTTP %ld%s%s", action, what, direction,
                c->host, status, t->reason ? " " : "", t->reason ? t->reason : "");
  if ((status == 401 || status == 403) && push)
    rrun_add_hint (error, "pushing needs credentials with write access: rrun login %s, or "
                          "--creds USER:PASSWORD",
                   c->domain);
  else if (status == 401 || status == 403)
    rrun_add_hint (error, "the image may not exist, or it is private: log in with "
                          "rrun login %s",
                   c->domain);
  return FALSE;
}

static gboolean
curl_error (RrunRegistryClient *c, const char *what, CURLcode code, Transfer *t, GError **error)
{
  rrun_throw (error, RRUN_ERROR_REGISTRY, "cannot fetch \"%s\" from %s: %s", what, c->host,
              t->errbuf[0] ? t->errbuf : curl_easy_strerror (code));
  if (is_tls_error (code))
    rrun_add_hint (error, "if %s serves plain HTTP or a self-signed certificate, pass "
                          "--tls-verify=false or mark it insecure in registries.conf",
                   c->domain);
  return FALSE;
}


/* GET base/v2/ on each allowed scheme; sets base_url and challenge. Called with c->lock
   held, so only one thread pings. */
static gboolean
ping_locked (RrunRegistryClient *c, GError **error)
{
  const char *schemes[] = { "https", "http" };
  g_autoptr(GError) first_error = NULL;

  if (c->pinged)
    return TRUE;
  for (guint s = 0; s < (c->allow_http ? 2u : 1u); s++)
    {
      g_autofree char *base = g_strdup_printf ("%s://%s", schemes[s], c->host);
      g_autofree char *url = g_strconcat (base, "/v2/", NULL);
      g_autoptr(GError) local = NULL;

      for (guint attempt = 0; attempt < MAX_TRIES; attempt++)
        {
          Transfer t = { 0 };
          CURLcode code = perform (c, url, NULL, NULL, 0, &t);
          gboolean again = FALSE;

          g_clear_error (&local);
          if (code != CURLE_OK)
            {
              /* Refused or TLS-less: no use retrying the same scheme. */
              again = is_retryable_curl (code) && code != CURLE_COULDNT_CONNECT;
              rrun_throw (&local, RRUN_ERROR_REGISTRY, "cannot reach registry %s: %s", c->host,
                          t.errbuf[0] ? t.errbuf : curl_easy_strerror (code));
              if (is_tls_error (code) && !c->allow_http)
                rrun_add_hint (&local, "if %s serves plain HTTP or a self-signed certificate, "
                                       "pass --tls-verify=false or mark it insecure in "
                                       "registries.conf",
                               c->domain);
            }
          else if (t.status == 200)
            {
              c->base_url = g_steal_pointer (&base);
              c->pinged = TRUE;
              transfer_clear (&t);
              return TRUE;
            }
          else if (t.status == 401 && t.www_authenticate != NULL)
            {
              RrunAuthChallenge *ch = NULL;
              if (!rrun_auth_challenge_parse (t.www_authenticate, &ch, &local))
                g_prefix_error (&local, "%s: ", c->host);
              else
                {
                  c->challenge = ch;
                  c->base_url = g_steal_pointer (&base);
                  c->pinged = TRUE;
                  transfer_clear (&t);
                  return TRUE;
                }
            }
          else
            {
              again = is_retryable_status (t.status);
              rrun_throw (&local, RRUN_ERROR_REGISTRY,
                          "cannot reach registry %s: GET /v2/ answered HTTP %ld%s%s", c->host,
                          t.status, t.reason ? " " : "", t.reason ? t.reason : "");
              if (t.status == 404)
                rrun_add_hint (&local, "%s does not look like a container registry (no /v2/ API)",
                               c->host);
            }
          transfer_clear (&t);
          if (!again || attempt + 1 == MAX_TRIES)
            break;
          g_debug ("GET %s failed, retrying: %s", url, local->message);
          backoff (attempt);
        }
      if (first_error == NULL)
        first_error = g_steal_pointer (&local);
    }
  g_propagate_error (error, g_steal_pointer (&first_error));
  return FALSE;
}

gboolean
rrun_registry_client_ping (RrunRegistryClient *c, GError **error)
{
  gboolean ok;

  g_mutex_lock (&c->lock);
  ok = ping_locked (c, error);
  g_mutex_unlock (&c->lock);
  return ok;
}

/* Credentials for repository (NULL: the registry as a whole). Called with c->lock held.
   *out is borrowed; NULL when there are none. */
static gboolean
credentials_for (RrunRegistryClient *c, const char *repository, const RrunCredentials **out,
                 GError **error)
{
  const char *key = repository ? repository : "";
  gpointer found;
  RrunCredentials *creds = NULL;

  if (c->credentials)
    {
      *out = c->credentials;
      return TRUE;
    }
  if (g_hash_table_lookup_extended (c->creds_cache, key, NULL, &found))
    {
      *out = found;
      return TRUE;
    }
  if (!rrun_auth_lookup (c->domain, repository, &creds, error))
    return FALSE;
  g_hash_table_insert (c->creds_cache, g_strdup (key), creds);
  *out = creds;
  return TRUE;
}

static char *
basic_header (const RrunCredentials *creds)
{
  g_autofree char *pair = g_strconcat (creds->username, ":", creds->password, NULL);
  g_autofree char *b64 = g_base64_encode ((const guchar *) pair, strlen (pair));

  explicit_bzero (pair, strlen (pair));
  return g_strconcat ("Basic ", b64, NULL);
}

static gboolean
append_sink (const guint8 *data, gsize len, gpointer user_data, GError **error)
{
  GString *s = user_data;

  if (s->len + len > TOKEN_BODY_MAX)
    return rrun_throw (error, RRUN_ERROR_REGISTRY, "the token reply is larger than %d bytes",
                       TOKEN_BODY_MAX);
  g_string_append_len (s, (const char *) data, len);
  return TRUE;
}

/* Ask the realm for a token for scope (may be NULL: login check). Called with c->lock
   held. *out_token is NULL only when error is set. */
static gboolean
fetch_token_locked (RrunRegistryClient *c, const RrunAuthChallenge *ch, const char *scope,
                    const RrunCredentials *creds, char **out_token, gint64 *out_expires_in,
                    GError **error)
{
  g_autoptr(GString) url = g_string_new (ch->realm);
  g_autoptr(GString) body = g_string_new (NULL);
  g_autoptr(RrunJson) root = NULL;
  g_autofree char *auth = creds ? basic_header (creds) : NULL;
  gchar sep = strchr (ch->realm, '?') ? '&' : '?';
  const RrunJson *tok, *exp;
  const char *value = NULL;

  if (g_str_has_prefix (ch->realm, "http://") && !c->allow_http)
    return rrun_throw (error, RRUN_ERROR_REGISTRY,
                       "cannot get a token for %s: the token service \"%s\" is plain HTTP",
                       c->domain, ch->realm);
  if (ch->service)
    {
      g_autofree char *e = g_uri_escape_string (ch->service, NULL, FALSE);
      g_string_append_printf (url, "%cservice=%s", sep, e);
      sep = '&';
    }
  if (scope)
    {
      /* Several scopes (a push that mounts from another repository) are separated by
         spaces in our key and go as one scope parameter each, as docker sends them. */
      g_auto(GStrv) scopes = g_strsplit (scope, " ", -1);
      for (guint i = 0; scopes[i]; i++)
        {
          g_autofree char *e = g_uri_escape_string (scopes[i], NULL, FALSE);
          g_string_append_printf (url, "%cscope=%s", sep, e);
          sep = '&';
        }
    }
  for (guint attempt = 0;; attempt++)
    {
      Transfer t = { 0 };
      CURLcode code;

      g_string_truncate (body, 0);
      t.write = append_sink;
      t.user_data = body;
      code = perform (c, url->str, "application/json", auth, 0, &t);
      if (code == CURLE_OK && t.status == 200)
        {
          transfer_clear (&t);
          break;
        }
      if (attempt + 1 < MAX_TRIES
          && ((code != CURLE_OK && is_retryable_curl (code))
              || (code == CURLE_OK && is_retryable_status (t.status))))
        {
          transfer_clear (&t);
          backoff (attempt);
          continue;
        }
      if (t.write_error)
        g_propagate_error (error, g_steal_pointer (&t.write_error));
      else if (code != CURLE_OK)
        rrun_throw (error, RRUN_ERROR_REGISTRY, "cannot get a token for %s from %s: %s",
                    c->domain, ch->realm, t.errbuf[0] ? t.errbuf : curl_easy_strerror (code));
      else if ((t.status == 401 || t.status == 403) && creds != NULL)
        rrun_throw (error, RRUN_ERROR_REGISTRY,
                    "cannot log in to %s as \"%s\": the registry refused the user name or "
                    "password (HTTP %ld)",
                    c->domain, creds->username, t.status);
      else
        rrun_throw (error, RRUN_ERROR_REGISTRY,
                    "cannot get a token for %s from %s: HTTP %ld%s%s", c->domain, ch->realm,
                    t.status, t.reason ? " " : "", t.reason ? t.reason : "");
      transfer_clear (&t);
      return FALSE;
    }
  root = rrun_json_parse (body->str, body->len, RRUN_JSON_DEFAULT, NULL);
  if (root == NULL || rrun_json_type (root) != RRUN_JSON_OBJECT)
    return rrun_throw (error, RRUN_ERROR_REGISTRY,
                       "cannot get a token for %s: the reply from %s is not a JSON object",
                       c->domain, ch->realm);
  tok = rrun_json_member (root, "token");
  if (tok == NULL)
    tok = rrun_json_member (root, "access_token");
  if (tok != NULL)
    value = rrun_json_string (tok);
  if (value == NULL || *value == '\0' || strpbrk (value, "\r\n") != NULL)
    return rrun_throw (error, RRUN_ERROR_REGISTRY,
                       "cannot get a token for %s: the reply from %s has no \"token\" string",
                       c->domain, ch->realm);
  *out_expires_in = 60; /* the spec's default and minimum */
  exp = rrun_json_member (root, "expires_in");
  if (exp != NULL && rrun_json_type (exp) == RRUN_JSON_INT && rrun_json_int (exp) > 60)
    *out_expires_in = rrun_json_int (exp);
  *out_token = g_strdup (value);
  return TRUE;
}

/* The Authorization header value for a request to repository, or NULL for none. With
   refresh, a cached token is dropped and a new one fetched for challenge_scope (the
   scope a 401 asked for) or the repository's scope: pull, or with push "pull,push" and,
   when mount_from is set, pull on that repository too. */
static gboolean
authorization_for_scope (RrunRegistryClient *c, const char *repository, gboolean push,
                         const char *mount_from, gboolean refresh, const char *challenge_scope,
                         char **out_auth, GError **error)
{
  g_autofree char *scope
      = repository == NULL ? NULL
        : mount_from       ? g_strdup_printf ("repository:%s:pull,push repository:%s:pull",
                                              repository, mount_from)
                           : g_strdup_printf ("repository:%s:%s", repository,
                                              push ? "pull,push" : "pull");
  const RrunCredentials *creds = NULL;
  gboolean ok = TRUE;

  *out_auth = NULL;
  g_mutex_lock (&c->lock);
  if (c->challenge == NULL)
    goto out;
  if (!credentials_for (c, repository, &creds, error))
    {
      ok = FALSE;
      goto out;
    }
  if (c->challenge->scheme == RRUN_AUTH_BASIC)
    {
      if (creds)
        *out_auth = basic_header (creds);
      goto out;
    }
  {
    const char *key = challenge_scope ? challenge_scope : scope ? scope : "";
    Token *t = g_hash_table_lookup (c->tokens, key);
    g_autofree char *value = NULL;
    gint64 expires_in = 0;

    if (t != NULL && !refresh && t->expires > g_get_monotonic_time ())
      {
        *out_auth = g_strconcat ("Bearer ", t->value, NULL);
        goto out;
      }
    if (!fetch_token_locked (c, c->challenge, *key ? key : NULL, creds, &value, &expires_in,
                             error))
      {
        ok = FALSE;
        goto out;
      }
    t = g_new0 (Token, 1);
    t->value = g_strdup (value);
    /* Ten seconds early, so a token never expires between check and use. */
    t->expires = g_get_monotonic_time () + (expires_in - 10) * G_USEC_PER_SEC;
    g_hash_table_replace (c->tokens, g_strdup (key), t);
    *out_auth = g_strconcat ("Bearer ", value, NULL);
  }
out:
  g_mutex_unlock (&c->lock);
  return ok;
}

static gboolean
authorization_for (RrunRegistryClient *c, const char *repository, gboolean refresh,
                   const char *challenge_scope, char **out_auth, GError **error)
{
  return authorization_for_scope (c, repository, FALSE, NULL, refresh, challenge_scope,
                                  out_auth, error);
}

gboolean
rrun_registry_client_check_login (RrunRegistryClient *c, GError **error)
{
  const RrunCredentials *creds = NULL;
  gboolean ok = TRUE;

  g_mutex_lock (&c->lock);
  if (!ping_locked (c, error) || !credentials_for (c, NULL, &creds, error))
    {
      ok = FALSE;
      goto out;
    }
  if (creds == NULL)
    {
      ok = rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT, "cannot log in to %s: no user name",
                       c->domain);
      goto out;
    }
  if (c->challenge == NULL)
    goto out; /* the registry asks for nothing: any credentials do */
  if (c->challenge->scheme == RRUN_AUTH_BEARER)
    {
      g_autofree char *token = NULL;
      gint64 expires_in;
      ok = fetch_token_locked (c, c->challenge, NULL, creds, &token, &expires_in, error);
      goto out;
    }
  {
    g_autofree char *url = g_strconcat (c->base_url, "/v2/", NULL);
    g_autofree char *auth = basic_header (creds);
    Transfer t = { 0 };
    CURLcode code = perform (c, url, NULL, auth, 0, &t);

    if (code != CURLE_OK)
      ok = rrun_throw (error, RRUN_ERROR_REGISTRY, "cannot log in to %s: %s", c->domain,
                       t.errbuf[0] ? t.errbuf : curl_easy_strerror (code));
    else if (t.status == 401 || t.status == 403)
      ok = rrun_throw (error, RRUN_ERROR_REGISTRY,
                       "cannot log in to %s as \"%s\": the registry refused the user name or "
                       "password (HTTP %ld)",
                       c->domain, creds->username, t.status);
    else if (t.status != 200)
      ok = rrun_throw (error, RRUN_ERROR_REGISTRY, "cannot log in to %s: HTTP %ld%s%s",
                       c->domain, t.status, t.reason ? " " : "", t.reason ? t.reason : "");
    transfer_clear (&t);
  }
out:
  g_mutex_unlock (&c->lock);
  return ok;
}

gboolean
rrun_registry_client_get (RrunRegistryClient *c, const char *repository, const char *subpath,
                          const char *accept, const char *what, RrunRegistryWriteFunc write,
                          gpointer user_data, RrunRegistryResponse *out_response,
                          GError **error)
{
  g_autofree char *url = NULL;
  g_autofree char *auth = NULL;
  g_autofree char *challenge_scope = NULL;
  gboolean refreshed = FALSE;
  guint64 delivered = 0;
  guint attempt = 0;

  if (!rrun_registry_client_ping (c, error))
    return FALSE;
  url = g_strdup_printf ("%s/v2/%s/%s", c->base_url, repository, subpath);
  if (!authorization_for (c, repository, FALSE, NULL, &auth, error))
    return FALSE;
  for (;;)
    {
      Transfer t = { 0 };
      CURLcode code;
      gboolean retry;

      t.write = write;
      t.user_data = user_data;
      g_debug ("GET %s%s", url, delivered ? " (resuming)" : "");
      code = perform (c, url, accept, auth, delivered, &t);
      delivered += t.delivered;
      if (t.write_error)
        {
          g_propagate_error (error, g_steal_pointer (&t.write_error));
          transfer_clear (&t);
          return FALSE;
        }
      if (code == CURLE_OK && t.status >= 200 && t.status < 300)
        {
          if (out_response)
            take_response (&t, out_response);
          transfer_clear (&t);
          return TRUE;
        }
      if (code == CURLE_OK && t.status == 401 && !refreshed && c->challenge != NULL
          && c->challenge->scheme == RRUN_AUTH_BEARER)
        {
          /* The token expired or the registry wants another scope: ask once more. */
          refreshed = TRUE;
          g_free (challenge_scope);
          challenge_scope = challenged_scope (&t);
          transfer_clear (&t);
          g_clear_pointer (&auth, g_free);
          if (!authorization_for (c, repository, TRUE, challenge_scope, &auth, error))
            return FALSE;
          continue;
        }
      retry = attempt + 1 < MAX_TRIES
              && ((code != CURLE_OK && is_retryable_curl (code))
                  || (code == CURLE_OK && is_retryable_status (t.status)));
      if (!retry)
        {
          if (code != CURLE_OK)
            curl_error (c, what, code, &t, error);
          else
            http_error (c, FALSE, what, t.status, &t, error);
          transfer_clear (&t);
          return FALSE;
        }
      g_debug ("GET %s: %s, retrying", url,
               code != CURLE_OK ? curl_easy_strerror (code) : "server error");
      transfer_clear (&t);
      backoff (attempt);
      attempt++;
    }
}

/* ---- Requests that send (push) ------------------------------------------------------ */

typedef struct
{
  const RrunRegistryRequest *req;
  guint64 sent;
  GError *error;
} Body;

static size_t
on_read (char *buf, size_t size, size_t n, void *userdata)
{
  Body *b = userdata;
  const RrunRegistryRequest *r = b->req;
  gsize want = MIN ((guint64) (size * n), r->len - b->sent);

  if (want == 0)
    return 0;
  if (r->data)
    memcpy (buf, (const guint8 *) r->data + b->sent, want);
  else
    {
      ssize_t got;
      do
        got = pread (r->fd, buf, want, (off_t) (r->offset + b->sent));
      while (got < 0 && errno == EINTR);
      if (got <= 0)
        {
          if (b->error == NULL)
            rrun_throw_errno (&b->error, got < 0 ? errno : EIO, "cannot read the upload");
          return CURL_READFUNC_ABORT;
        }
      want = (gsize) got;
    }
  b->sent += want;
  if (r->progress)
    r->progress (b->sent, r->progress_data);
  return want;
}

char *
rrun_registry_client_resolve_url (RrunRegistryClient *c, const char *location)
{
  if (g_str_has_prefix (location, "http://") || g_str_has_prefix (location, "https://"))
    return g_strdup (location);
  if (location[0] == '/')
    return g_strconcat (c->base_url, location, NULL);
  return g_strconcat (c->base_url, "/", location, NULL);
}

static CURLcode
perform_send (RrunRegistryClient *c, const RrunRegistryRequest *r, const char *url,
              const char *authorization, Transfer *t, Body *body)
{
  g_autoptr(CURL) easy = curl_easy_init ();
  struct curl_slist *headers = NULL;
  g_autofree char *auth_h = NULL, *type_h = NULL, *range_h = NULL;
  gboolean has_body = r->data != NULL || r->fd >= 0;
  CURLcode code;

  if (easy == NULL)
    return CURLE_OUT_OF_MEMORY;
  if (authorization)
    headers = curl_slist_append (headers,
                                 (auth_h = g_strconcat ("Authorization: ", authorization, NULL)));
  if (r->content_type)
    headers = curl_slist_append (headers,
                                 (type_h = g_strconcat ("Content-Type: ", r->content_type, NULL)));
  if (r->content_range)
    headers = curl_slist_append (headers,
                                 (range_h = g_strconcat ("Content-Range: ", r->content_range,
                                                         NULL)));
  /* No "Expect: 100-continue" round trip before each blob. */
  headers = curl_slist_append (headers, "Expect:");
  setup_easy (c, easy, url, headers, t);
  t->skip = 0;
  if (strcmp (r->method, "HEAD") == 0)
    curl_easy_setopt (easy, CURLOPT_NOBODY, 1L);
  else if (strcmp (r->method, "POST") == 0 && !has_body)
    {
      curl_easy_setopt (easy, CURLOPT_POST, 1L);
      curl_easy_setopt (easy, CURLOPT_POSTFIELDSIZE, 0L);
      curl_easy_setopt (easy, CURLOPT_POSTFIELDS, "");
    }
  else
    {
      body->sent = 0;
      curl_easy_setopt (easy, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt (easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t) (has_body ? r->len : 0));
      curl_easy_setopt (easy, CURLOPT_READFUNCTION, on_read);
      curl_easy_setopt (easy, CURLOPT_READDATA, body);
      if (strcmp (r->method, "PUT") != 0)
        curl_easy_setopt (easy, CURLOPT_CUSTOMREQUEST, r->method);
    }
  code = curl_easy_perform (easy);
  curl_easy_getinfo (easy, CURLINFO_RESPONSE_CODE, &t->status);
  curl_slist_free_all (headers);
  t->easy = NULL;
  return code;
}

gboolean
rrun_registry_client_send (RrunRegistryClient *c, const char *repository,
                           const RrunRegistryRequest *r, const char *what,
                           RrunRegistryResponse *out_response, GError **error)
{
  g_autofree char *url = NULL;
  g_autofree char *auth = NULL;
  g_autofree char *challenge_scope = NULL;
  gboolean refreshed = FALSE;
  guint attempt = 0;

  if (!rrun_registry_client_ping (c, error))
    return FALSE;
  url = rrun_registry_client_resolve_url (c, r->url);
  if (!authorization_for_scope (c, repository, TRUE, r->mount_from, FALSE, NULL, &auth, error))
    return FALSE;
  for (;;)
    {
      Transfer t = { 0 };
      Body body = { r, 0, NULL };
      /* Credentials stay with the registry: never sent to storage a Location names. */
      gboolean own_host = g_str_has_prefix (url, c->base_url)
                          && (url[strlen (c->base_url)] == '/'
                              || url[strlen (c->base_url)] == '\0');
      CURLcode code;
      gboolean retry;

      g_debug ("%s %s", r->method, url);
      code = perform_send (c, r, url, own_host ? auth : NULL, &t, &body);
      if (body.error)
        {
          g_propagate_error (error, g_steal_pointer (&body.error));
          transfer_clear (&t);
          return FALSE;
        }
      if (code == CURLE_OK
          && ((t.status >= 200 && t.status < 300)
              || (t.status == 404 && strcmp (r->method, "HEAD") == 0)))
        {
          if (out_response)
            take_response (&t, out_response);
          transfer_clear (&t);
          return TRUE;
        }
      if (code == CURLE_OK && t.status == 401 && !refreshed && c->challenge != NULL
          && c->challenge->scheme == RRUN_AUTH_BEARER)
        {
          refreshed = TRUE;
          g_free (challenge_scope);
          challenge_scope = challenged_scope (&t);
          transfer_clear (&t);
          g_clear_pointer (&auth, g_free);
          if (!authorization_for_scope (c, repository, TRUE, r->mount_from, TRUE,
                                        challenge_scope, &auth, error))
            return FALSE;
          continue;
        }
      retry = attempt + 1 < MAX_TRIES
              && ((code != CURLE_OK && is_retryable_curl (code))
                  || (code == CURLE_OK && is_retryable_status (t.status)));
      if (!retry)
        {
          if (code != CURLE_OK)
            {
              rrun_throw (error, RRUN_ERROR_REGISTRY, "cannot push \"%s\" to %s: %s", what,
                          c->host, t.errbuf[0] ? t.errbuf : curl_easy_strerror (code));
              if (is_tls_error (code))
                rrun_add_hint (error, "if %s serves plain HTTP or a self-signed certificate, "
                                      "pass --tls-verify=false or mark it insecure in "
                                      "registries.conf",
                               c->domain);
            }
          else
            http_error (c, TRUE, what, t.status, &t, error);
          transfer_clear (&t);
          return FALSE;
        }
      g_debug ("%s %s: %s, retrying", r->method, url,
               code != CURLE_OK ? curl_easy_strerror (code) : "server error");
      transfer_clear (&t);
      backoff (attempt);
      attempt++;
    }
}
