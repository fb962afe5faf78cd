/* See dbus.h. The wire format: https://dbus.freedesktop.org/doc/dbus-specification.html
   (marshalling, message format, authentication). */
#include "cgroup/dbus.h"
#include "error.h"
#include "util/fd.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Replies and signals here are a few hundred bytes; anything near this is not for us. */
#define MAX_MESSAGE (1024 * 1024)
/* Signals nobody waits for (NameAcquired, other jobs' JobRemoved) are dropped beyond it. */
#define MAX_QUEUED_SIGNALS 64

enum
{
  METHOD_CALL = 1,
  METHOD_RETURN = 2,
  ERROR = 3,
  SIGNAL = 4,
};

enum
{
  FIELD_PATH = 1,
  FIELD_INTERFACE = 2,
  FIELD_MEMBER = 3,
  FIELD_ERROR_NAME = 4,
  FIELD_REPLY_SERIAL = 5,
  FIELD_DESTINATION = 6,
  FIELD_SIGNATURE = 8,
};

typedef struct
{
  guint8 type;
  guint32 reply_serial;
  char *interface;
  char *member;
  char *error_name;
  GVariant *body; /* a tuple; () when there is none */
} Message;

static void
message_free (Message *m)
{
  if (m == NULL)
    return;
  g_free (m->interface);
  g_free (m->member);
  g_free (m->error_name);
  if (m->body != NULL)
    g_variant_unref (m->body);
  g_free (m);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Message, message_free)

struct RrunDbus
{
  int fd;
  guint32 serial;
  GByteArray *in;  /* bytes read, not yet a whole message */
  GQueue signals;  /* Message * */
};

/* ---- marshalling ---- */

static gsize
alignment_of (char c)
{
  switch (c)
    {
    case 'n': case 'q':
      return 2;
    case 'b': case 'i': case 'u': case 's': case 'o': case 'a': case 'h':
      return 4;
    case 'x': case 't': case 'd': case '(': case '{':
      return 8;
    default:
      return 1;
    }
}

static void
pad (GByteArray *b, gsize align)
{
  static const guint8 zeros[8] = { 0 };

  g_byte_array_append (b, zeros, (guint) ((align - b->len % align) % align));
}

static void
put (GByteArray *b, gsize align, const void *data, gsize len)
{
  pad (b, align);
  g_byte_array_append (b, data, (guint) len);
}

static void
put_string (GByteArray *b, const char *s, gboolean signature)
{
  guint32 len = (guint32) strlen (s);
  guint8 len8 = (guint8) len;

  if (signature)
    put (b, 1, &len8, 1);
  else
    put (b, 4, &len, 4);
  g_byte_array_append (b, (const guint8 *) s, len + 1);
}

static void
marshal (GByteArray *b, GVariant *v)
{
  const char *t = g_variant_get_type_string (v);

  switch (t[0])
    {
    case 'y': { guint8 x = g_variant_get_byte (v); put (b, 1, &x, 1); break; }
    case 'b': { guint32 x = g_variant_get_boolean (v) ? 1 : 0; put (b, 4, &x, 4); break; }
    case 'n': { gint16 x = g_variant_get_int16 (v); put (b, 2, &x, 2); break; }
    case 'q': { guint16 x = g_variant_get_uint16 (v); put (b, 2, &x, 2); break; }
    case 'i': { gint32 x = g_variant_get_int32 (v); put (b, 4, &x, 4); break; }
    case 'u': { guint32 x = g_variant_get_uint32 (v); put (b, 4, &x, 4); break; }
    case 'x': { gint64 x = g_variant_get_int64 (v); put (b, 8, &x, 8); break; }
    case 't': { guint64 x = g_variant_get_uint64 (v); put (b, 8, &x, 8); break; }
    case 'd': { double x = g_variant_get_double (v); put (b, 8, &x, 8); break; }
    case 's': case 'o':
      put_string (b, g_variant_get_string (v, NULL), FALSE);
      break;
    case 'g':
      put_string (b, g_variant_get_string (v, NULL), TRUE);
      break;
    case 'v':
      {
        g_autoptr(GVariant) inner = g_variant_get_variant (v);

        put_string (b, g_variant_get_type_string (inner), TRUE);
        marshal (b, inner);
        break;
      }
    case 'a':
      {
        guint32 len = 0;
        guint lenpos, start;

        put (b, 4, &len, 4);
        lenpos = b->len - 4;
        /* The padding to the first element is not counted in the length, even when the
           array is empty. */
        pad (b, alignment_of (t[1]));
        start = b->len;
        for (gsize i = 0; i < g_variant_n_children (v); i++)
          {
            g_autoptr(GVariant) child = g_variant_get_child_value (v, i);
            marshal (b, child);
          }
        len = b->len - start;
        memcpy (b->data + lenpos, &len, 4);
        break;
      }
    case '(': case '{':
      pad (b, 8);
      for (gsize i = 0; i < g_variant_n_children (v); i++)
        {
          g_autoptr(GVariant) child = g_variant_get_child_value (v, i);
          marshal (b, child);
        }
      break;
    default:
      g_assert_not_reached (); /* 'h' and maybe types: never sent by rrun */
    }
}

GBytes *
rrun_dbus_marshal_body (GVariant *body)
{
  GByteArray *b = g_byte_array_new ();
  g_autoptr(GVariant) ref = g_variant_ref_sink (body);

  /* A body is the tuple's members one after another: aligned as a struct at offset 0. */
  marshal (b, ref);
  return g_byte_array_free_to_bytes (b);
}

/* ---- unmarshalling ---- */

typedef struct
{
  const guint8 *data;
  gsize len, pos; /* pos counts from the message's (or body's) start, for alignment */
  int depth;
  GError **error;
} Reader;

static gboolean
bad (Reader *r, const char *what)
{
  if (r->error != NULL && *r->error == NULL)
    rrun_throw (r->error, RRUN_ERROR_CORRUPT, "bad D-Bus message: %s", what);
  return FALSE;
}

static gboolean
take (Reader *r, gsize align, gsize n, const guint8 **out)
{
  gsize at = (r->pos + align - 1) / align * align;

  if (at > r->len || r->len - at < n)
    return bad (r, "truncated");
  for (gsize i = r->pos; i < at; i++)
    if (r->data[i] != 0)
      return bad (r, "non-zero padding");
  *out = r->data + at;
  r->pos = at + n;
  return TRUE;
}

static char *
take_string (Reader *r, gboolean signature)
{
  const guint8 *p;
  guint32 len;

  if (signature)
    {
      if (!take (r, 1, 1, &p))
        return NULL;
      len = p[0];
    }
  else
    {
      if (!take (r, 4, 4, &p))
        return NULL;
      memcpy (&len, p, 4);
    }
  if (!take (r, 1, (gsize) len + 1, &p))
    return NULL;
  if (p[len] != '\0' || memchr (p, '\0', len) != NULL)
    return bad (r, "string not NUL-terminated"), NULL;
  return g_strndup ((const char *) p, len);
}

static GVariant *read_value (Reader *r, const char *type, const char *type_end);

/* One complete type starting at *sig (within end); *sig moves past it. */
static GVariant *
read_next (Reader *r, const char **sig, const char *end)
{
  const char *next;

  if (!g_variant_type_string_scan (*sig, end, &next))
    return bad (r, "bad signature"), NULL;
  {
    const char *start = *sig;
    *sig = next;
    return read_value (r, start, next);
  }
}

static GVariant *
read_value (Reader *r, const char *type, const char *type_end)
{
  const guint8 *p;

  if (++r->depth > 64)
    return bad (r, "nested too deeply"), NULL;
  switch (type[0])
    {
#define BASIC(c, ctype, size, make)                                                        \
    case c:                                                                                 \
      {                                                                                     \
        ctype x;                                                                            \
        if (!take (r, size, size, &p))                                                      \
          return NULL;                                                                      \
        memcpy (&x, p, size);                                                               \
        r->depth--;                                                                         \
        return make (x);                                                                    \
      }
    BASIC ('y', guint8, 1, g_variant_new_byte)
    BASIC ('n', gint16, 2, g_variant_new_int16)
    BASIC ('q', guint16, 2, g_variant_new_uint16)
    BASIC ('i', gint32, 4, g_variant_new_int32)
    BASIC ('u', guint32, 4, g_variant_new_uint32)
    BASIC ('x', gint64, 8, g_variant_new_int64)
    BASIC ('t', guint64, 8, g_variant_new_uint64)
    BASIC ('d', double, 8, g_variant_new_double)
#undef BASIC
    case 'b':
      {
        guint32 x;
        if (!take (r, 4, 4, &p))
          return NULL;
        memcpy (&x, p, 4);
        if (x > 1)
          return bad (r, "boolean not 0 or 1"), NULL;
        r->depth--;
        return g_variant_new_boolean (x);
      }
    case 's': case 'o': case 'g':
      {
        g_autofree char *s = take_string (r, type[0] == 'g');

        if (s == NULL)
          return NULL;
        if (!g_utf8_validate (s, -1, NULL)
            || (type[0] == 'o' && !g_variant_is_object_path (s))
            || (type[0] == 'g' && !g_variant_is_signature (s)))
          return bad (r, "invalid string"), NULL;
        r->depth--;
        return type[0] == 's' ? g_variant_new_string (s)
               : type[0] == 'o' ? g_variant_new_object_path (s)
                                : g_variant_new_signature (s);
      }
    case 'v':
      {
        g_autofree char *sig = take_string (r, TRUE);
        const char *s = sig, *end;
        GVariant *inner;

        if (sig == NULL)
          return NULL;
        end = sig + strlen (sig);
        if ((inner = read_next (r, &s, end)) == NULL)
          return NULL;
        if (s != end)
          {
            g_variant_unref (g_variant_ref_sink (inner));
            return bad (r, "variant holds more than one value"), NULL;
          }
        r->depth--;
        return g_variant_new_variant (inner);
      }
    case 'a':
      {
        g_autofree char *array_type = g_strndup (type, (gsize) (type_end - type));
        GVariantBuilder b;
        guint32 len;
        gsize end;

        if (!take (r, 4, 4, &p))
          return NULL;
        memcpy (&len, p, 4);
        if (len > 64 * 1024 * 1024)
          return bad (r, "array too long"), NULL;
        if (!take (r, alignment_of (type[1]), 0, &p))
          return NULL;
        end = r->pos + len;
        if (end > r->len)
          return bad (r, "truncated"), NULL;
        g_variant_builder_init (&b, G_VARIANT_TYPE (array_type));
        while (r->pos < end)
          {
            const char *elem = type + 1;
            GVariant *child = read_next (r, &elem, type_end);

            if (child == NULL)
              {
                g_variant_builder_clear (&b);
                return NULL;
              }
            g_variant_builder_add_value (&b, child);
          }
        if (r->pos != end)
          {
            g_variant_builder_clear (&b);
            return bad (r, "array length"), NULL;
          }
        r->depth--;
        return g_variant_builder_end (&b);
      }
    case '(': case '{':
      {
        g_autoptr(GPtrArray) children = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
        const char *s = type + 1;
        GVariant *v;

        if (!take (r, 8, 0, &p))
          return NULL;
        while (s < type_end - 1)
          {
            GVariant *child = read_next (r, &s, type_end - 1);

            if (child == NULL)
              return NULL;
            g_ptr_array_add (children, g_variant_ref_sink (child));
          }
        if (type[0] == '{')
          v = g_variant_new_dict_entry (children->pdata[0], children->pdata[1]);
        else
          v = g_variant_new_tuple ((GVariant **) children->pdata, children->len);
        r->depth--;
        return v;
      }
    default:
      return bad (r, "unsupported type"), NULL;
    }
}

/* The members of signature one after another, as a tuple, from r's position. */
static GVariant *
read_tuple (Reader *r, const char *signature)
{
  g_autoptr(GPtrArray) members = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  const char *s = signature, *end = signature + strlen (signature);

  while (s < end)
    {
      GVariant *v = read_next (r, &s, end);

      if (v == NULL)
        return NULL;
      g_ptr_array_add (members, g_variant_ref_sink (v));
    }
  return g_variant_ref_sink (g_variant_new_tuple ((GVariant **) members->pdata, members->len));
}

GVariant *
rrun_dbus_unmarshal_body (GBytes *data, const char *signature, GError **error)
{
  gsize len;
  Reader r = { g_bytes_get_data (data, &len), 0, 0, 0, error };
  GVariant *v;

  r.len = len;
  if (!g_variant_is_signature (signature))
    return bad (&r, "bad signature"), NULL;
  v = read_tuple (&r, signature);
  if (v != NULL && r.pos != r.len)
    {
      g_variant_unref (v);
      return bad (&r, "bytes after the body"), NULL;
    }
  return v;
}

/* ---- messages ---- */

static GBytes *
build_message (guint8 type, guint32 serial, const char *destination, const char *path,
               const char *interface, const char *member, GVariant *args)
{
  g_autoptr(GVariant) body = args ? g_variant_ref_sink (args) : NULL;
  g_autoptr(GBytes) body_bytes = NULL;
  GVariantBuilder fields;
  GByteArray *msg = g_byte_array_new ();
  gsize body_len = 0;
  const char *sig = "";

  if (body != NULL)
    {
      body_bytes = rrun_dbus_marshal_body (g_variant_ref (body));
      body_len = g_bytes_get_size (body_bytes);
      sig = g_variant_get_type_string (body); /* "(...)": the tuple's */
    }
  g_variant_builder_init (&fields, G_VARIANT_TYPE ("a(yv)"));
  g_variant_builder_add (&fields, "(yv)", FIELD_PATH, g_variant_new_object_path (path));
  g_variant_builder_add (&fields, "(yv)", FIELD_INTERFACE, g_variant_new_string (interface));
  g_variant_builder_add (&fields, "(yv)", FIELD_MEMBER, g_variant_new_string (member));
  if (destination != NULL)
    g_variant_builder_add (&fields, "(yv)", FIELD_DESTINATION,
                           g_variant_new_string (destination));
  if (strlen (sig) > 2)
    {
      /* The signature field names the members, without the tuple's parentheses. */
      g_autofree char *inner = g_strndup (sig + 1, strlen (sig) - 2);
      g_variant_builder_add (&fields, "(yv)", FIELD_SIGNATURE, g_variant_new_signature (inner));
    }
  {
    g_autoptr(GVariant) header = g_variant_ref_sink (
        g_variant_new ("(yyyyuua(yv))", 'l', type, 0, 1, (guint32) body_len, serial, &fields));

    marshal (msg, header);
  }
  pad (msg, 8);
  if (body_len > 0)
    g_byte_array_append (msg, g_bytes_get_data (body_bytes, NULL), (guint) body_len);
  return g_byte_array_free_to_bytes (msg);
}

static int
remaining_ms (gint64 deadline)
{
  gint64 left = (deadline - g_get_monotonic_time ()) / 1000;

  return left < 0 ? 0 : (int) MIN (left, G_MAXINT);
}

/* More bytes into bus->in, waiting until deadline. */
static gboolean
read_more (RrunDbus *bus, gint64 deadline, GError **error)
{
  guint8 buf[4096];
  struct pollfd pfd = { .fd = bus->fd, .events = POLLIN };
  ssize_t n;

  for (;;)
    {
      int rc = poll (&pfd, 1, remaining_ms (deadline));

      if (rc < 0 && errno == EINTR)
        continue;
      if (rc < 0)
        return rrun_throw_errno (error, errno, "D-Bus: poll");
      if (rc == 0)
        return rrun_throw (error, RRUN_ERROR_FAILED, "D-Bus: no answer in time");
      n = read (bus->fd, buf, sizeof buf);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n < 0)
        return rrun_throw_errno (error, errno, "D-Bus: read");
      if (n == 0)
        return rrun_throw (error, RRUN_ERROR_FAILED, "D-Bus: the bus closed the connection");
      g_byte_array_append (bus->in, buf, (guint) n);
      return TRUE;
    }
}

static gboolean
write_all (RrunDbus *bus, const void *data, gsize len, GError **error)
{
  return rrun_fd_write_all (bus->fd, data, len, error);
}

/* The next whole message from the bus. */
static Message *
read_message (RrunDbus *bus, gint64 deadline, GError **error)
{
  g_autoptr(Message) m = g_new0 (Message, 1);
  g_autoptr(GVariant) fields = NULL;
  g_autofree char *signature = NULL;
  guint32 body_len, fields_len;
  gsize header_len, total;
  GVariantIter iter;
  guint8 code;
  GVariant *value;

  while (bus->in->len < 16)
    if (!read_more (bus, deadline, error))
      return NULL;
  if (bus->in->data[0] != 'l' || bus->in->data[3] != 1)
    return rrun_throw (error, RRUN_ERROR_CORRUPT,
                       "D-Bus: a message that is not little-endian version 1"), NULL;
  memcpy (&body_len, bus->in->data + 4, 4);
  memcpy (&fields_len, bus->in->data + 12, 4);
  if (body_len > MAX_MESSAGE || fields_len > MAX_MESSAGE)
    return rrun_throw (error, RRUN_ERROR_CORRUPT, "D-Bus: a message too large"), NULL;
  header_len = (16 + (gsize) fields_len + 7) / 8 * 8;
  total = header_len + body_len;
  while (bus->in->len < total)
    if (!read_more (bus, deadline, error))
      return NULL;
  m->type = bus->in->data[1];
  {
    Reader r = { bus->in->data, 16 + (gsize) fields_len, 12, 0, error };
    const char *type = "a(yv)";

    if ((fields = read_next (&r, &type, type + strlen (type))) == NULL)
      return NULL;
    g_variant_ref_sink (fields);
  }
  g_variant_iter_init (&iter, fields);
  while (g_variant_iter_next (&iter, "(yv)", &code, &value))
    {
      if (code == FIELD_REPLY_SERIAL && g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
        m->reply_serial = g_variant_get_uint32 (value);
      else if (code == FIELD_INTERFACE && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
        m->interface = g_variant_dup_string (value, NULL);
      else if (code == FIELD_MEMBER && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
        m->member = g_variant_dup_string (value, NULL);
      else if (code == FIELD_ERROR_NAME && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
        m->error_name = g_variant_dup_string (value, NULL);
      else if (code == FIELD_SIGNATURE
               && g_variant_is_of_type (value, G_VARIANT_TYPE_SIGNATURE))
        signature = g_variant_dup_string (value, NULL);
      g_variant_unref (value);
    }
  {
    g_autoptr(GBytes) body = g_bytes_new (bus->in->data + header_len, body_len);

    m->body = rrun_dbus_unmarshal_body (body, signature ? signature : "", error);
  }
  g_byte_array_remove_range (bus->in, 0, (guint) total);
  if (m->body == NULL)
    return NULL;
  return g_steal_pointer (&m);
}

static void
queue_signal (RrunDbus *bus, Message *m)
{
  g_queue_push_tail (&bus->signals, m);
  while (g_queue_get_length (&bus->signals) > MAX_QUEUED_SIGNALS)
    message_free (g_queue_pop_head (&bus->signals));
}

GVariant *
rrun_dbus_call (RrunDbus *bus, const char *destination, const char *path,
                const char *interface, const char *method, GVariant *args,
                const char *reply_type, int timeout_ms, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  guint32 serial = ++bus->serial;
  g_autoptr(GBytes) msg = build_message (METHOD_CALL, serial, destination, path, interface,
                                         method, args);

  if (!write_all (bus, g_bytes_get_data (msg, NULL), g_bytes_get_size (msg), error))
    return NULL;
  for (;;)
    {
      Message *m = read_message (bus, deadline, error);

      if (m == NULL)
        return NULL;
      if (m->type == SIGNAL)
        {
          queue_signal (bus, m);
          continue;
        }
      if ((m->type != METHOD_RETURN && m->type != ERROR) || m->reply_serial != serial)
        {
          message_free (m);
          continue;
        }
      if (m->type == ERROR)
        {
          g_autoptr(GVariant) first = g_variant_n_children (m->body) > 0
                                          ? g_variant_get_child_value (m->body, 0)
                                          : NULL;
          const char *text = first != NULL && g_variant_is_of_type (first, G_VARIANT_TYPE_STRING)
                                 ? g_variant_get_string (first, NULL)
                                 : NULL;

          rrun_throw (error, RRUN_ERROR_FAILED, "%s",
                      text ? text : m->error_name ? m->error_name : "D-Bus error");
          message_free (m);
          return NULL;
        }
      if (reply_type != NULL && !g_variant_is_of_type (m->body, G_VARIANT_TYPE (reply_type)))
        {
          rrun_throw (error, RRUN_ERROR_CORRUPT, "D-Bus: %s answered %s, not %s", method,
                      g_variant_get_type_string (m->body), reply_type);
          message_free (m);
          return NULL;
        }
      {
        GVariant *body = g_variant_ref (m->body);
        message_free (m);
        return body;
      }
    }
}

gboolean
rrun_dbus_add_match (RrunDbus *bus, const char *rule, GError **error)
{
  g_autoptr(GVariant) reply = rrun_dbus_call (bus, "org.freedesktop.DBus",
                                              "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                              "AddMatch", g_variant_new ("(s)", rule), "()",
                                              2000, error);
  return reply != NULL;
}

GVariant *
rrun_dbus_wait_signal (RrunDbus *bus, const char *interface, const char *member,
                       const char *type, int timeout_ms, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;)
    {
      Message *m = g_queue_pop_head (&bus->signals);

      if (m == NULL && (m = read_message (bus, deadline, error)) == NULL)
        return NULL;
      if (m->type == SIGNAL && g_strcmp0 (m->interface, interface) == 0
          && g_strcmp0 (m->member, member) == 0
          && g_variant_is_of_type (m->body, G_VARIANT_TYPE (type)))
        {
          GVariant *body = g_variant_ref (m->body);
          message_free (m);
          return body;
        }
      message_free (m);
    }
}

/* ---- connecting ---- */

/* The value of key in one "unix:k=v,k=v" address, %-unescaped; NULL when absent. */
static char *
address_value (const char *address, const char *key)
{
  g_auto(GStrv) pairs = g_strsplit (address + strlen ("unix:"), ",", -1);
  gsize klen = strlen (key);

  for (guint i = 0; pairs[i]; i++)
    if (strncmp (pairs[i], key, klen) == 0 && pairs[i][klen] == '=')
      return g_uri_unescape_string (pairs[i] + klen + 1, NULL);
  return NULL;
}

static gboolean
connect_unix (const char *address, int *out_fd, GError **error)
{
  g_autofree char *path = address_value (address, "path");
  g_autofree char *abstract = address_value (address, "abstract");
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  const char *name = path ? path : abstract;
  socklen_t len;
  rrun_autofd int fd = -1;

  if (name == NULL || strlen (name) + 1 >= sizeof sa.sun_path)
    return rrun_throw (error, RRUN_ERROR_INVALID_ARGUMENT,
                       "D-Bus address \"%s\": no usable path", address);
  if (path != NULL)
    {
      strcpy (sa.sun_path, path);
      len = sizeof sa;
    }
  else
    {
      memcpy (sa.sun_path + 1, abstract, strlen (abstract));
      len = (socklen_t) (offsetof (struct sockaddr_un, sun_path) + 1 + strlen (abstract));
    }
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return rrun_throw_errno (error, errno, "D-Bus: socket");
  if (connect (fd, (struct sockaddr *) &sa, len) < 0)
    return rrun_throw_errno (error, errno, "cannot connect to the bus at %s", name);
  *out_fd = g_steal_fd (&fd);
  return TRUE;
}

/* SASL EXTERNAL: the bus checks our uid through the socket's credentials. */
static gboolean
authenticate (RrunDbus *bus, GError **error)
{
  g_autofree char *uid = g_strdup_printf ("%u", (unsigned) getuid ());
  g_autoptr(GString) line = g_string_new ("");
  gint64 deadline = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  char *end;

  g_string_append_c (line, '\0');
  g_string_append (line, "AUTH EXTERNAL ");
  for (const char *p = uid; *p; p++)
    g_string_append_printf (line, "%02x", (unsigned char) *p);
  g_string_append (line, "\r\n");
  if (!write_all (bus, line->str, line->len, error))
    return FALSE;
  while (bus->in->len == 0
         || (end = g_strstr_len ((const char *) bus->in->data, bus->in->len, "\r\n")) == NULL)
    {
      if (bus->in->len > 512)
        return rrun_throw (error, RRUN_ERROR_CORRUPT, "D-Bus: a garbled authentication reply");
      if (!read_more (bus, deadline, error))
        return FALSE;
    }
  if (strncmp ((const char *) bus->in->data, "OK ", 3) != 0)
    {
      g_autofree char *reply = g_strndup ((const char *) bus->in->data,
                                          (gsize) (end - (char *) bus->in->data));
      return rrun_throw (error, RRUN_ERROR_FAILED, "the bus refused authentication: %s",
                         reply);
    }
  g_byte_array_remove_range (bus->in, 0, (guint) (end + 2 - (char *) bus->in->data));
  return write_all (bus, "BEGIN\r\n", 7, error);
}

gboolean
rrun_dbus_connect (const char *address, RrunDbus **out, GError **error)
{
  g_autoptr(RrunDbus) bus = g_new0 (RrunDbus, 1);
  g_auto(GStrv) addresses = g_strsplit (address, ";", -1);
  g_autoptr(GVariant) hello = NULL;
  g_autoptr(GError) last = NULL;

  bus->fd = -1;
  bus->in = g_byte_array_new ();
  g_queue_init (&bus->signals);
  for (guint i = 0; addresses[i] != NULL && bus->fd < 0; i++)
    {
      g_clear_error (&last);
      if (g_str_has_prefix (addresses[i], "unix:"))
        connect_unix (addresses[i], &bus->fd, &last);
    }
  if (bus->fd < 0)
    {
      if (last != NULL)
        g_propagate_error (error, g_steal_pointer (&last));
      else
        rrun_throw (error, RRUN_ERROR_UNSUPPORTED, "D-Bus address \"%s\": no unix: address",
                    address);
      return FALSE;
    }
  if (!authenticate (bus, error))
    return FALSE;
  hello = rrun_dbus_call (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "Hello", NULL, "(s)", 2000, error);
  if (hello == NULL)
    return FALSE;
  *out = g_steal_pointer (&bus);
  return TRUE;
}

void
rrun_dbus_free (RrunDbus *bus)
{
  if (bus == NULL)
    return;
  if (bus->fd >= 0)
    close (bus->fd);
  g_byte_array_unref (bus->in);
  g_queue_clear_full (&bus->signals, (GDestroyNotify) message_free);
  g_free (bus);
}
