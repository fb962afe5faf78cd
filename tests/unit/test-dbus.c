/* rrun's minimal D-Bus client (src/cgroup/dbus.c) checked against GLib's own D-Bus code:
   its message bodies byte for byte against GDBusMessage's, and a whole conversation on a
   private dbus-daemon (GTestDBus) with a fake systemd manager served by GDBus. The test
   links GIO; rrun does not. */
#include "cgroup/cgroup-private.h"
#include "cgroup/dbus.h"
#include "error.h"

#include <gio/gio.h>
#include <string.h>

/* The body GDBus would send for v (a tuple). */
static GBytes *
gdbus_body (GVariant *v)
{
  g_autoptr(GDBusMessage) m = g_dbus_message_new_method_call ("a.b", "/a", "a.b", "M");
  g_autoptr(GError) error = NULL;
  g_autofree guchar *blob = NULL;
  gsize size = 0;
  guint32 body_len, fields_len;
  gsize header;

  g_dbus_message_set_byte_order (m, G_DBUS_MESSAGE_BYTE_ORDER_LITTLE_ENDIAN);
  g_dbus_message_set_body (m, v);
  blob = g_dbus_message_to_blob (m, &size, G_DBUS_CAPABILITY_FLAGS_NONE, &error);
  g_assert_no_error (error);
  memcpy (&body_len, blob + 4, 4);
  memcpy (&fields_len, blob + 12, 4);
  header = (16 + fields_len + 7) / 8 * 8;
  g_assert_cmpuint (header + body_len, ==, size);
  return g_bytes_new (blob + header, body_len);
}

static void
check_same (GVariant *v, const char *signature)
{
  g_autoptr(GVariant) ref = g_variant_ref_sink (v);
  g_autoptr(GBytes) ours = rrun_dbus_marshal_body (g_variant_ref (ref));
  g_autoptr(GBytes) theirs = gdbus_body (ref);
  g_autoptr(GVariant) back = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_bytes_equal (ours, theirs));
  back = rrun_dbus_unmarshal_body (ours, signature, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_equal (back, ref));
}

static void
test_marshal (void)
{
  /* What rrun sends: StartTransientUnit's arguments (arrays of structs of variants, an
     empty array whose element needs 8-byte alignment). */
  check_same (rrun_cgroup_systemd_start_parameters ("abc123", 4242, NULL), "ssa(sv)a(sa(sv))");
  check_same (g_variant_new ("(ybnqiuxtdsog)", 7, TRUE, -2, 3, -4, 5, G_GINT64_CONSTANT (-6),
                             G_GUINT64_CONSTANT (7), 0.5, "é", "/o/p", "a(sv)"),
              "ybnqiuxtdsog");
  check_same (g_variant_new_parsed ("(@a{sv} {'k': <<[@ay [1, 2]]>>}, @ay [], 'x')"),
              "a{sv}ays");
  /* What rrun receives: JobRemoved, a method return with an object path. */
  check_same (g_variant_new ("(uoss)", 1, "/org/freedesktop/systemd1/job/1", "u.scope", "done"),
              "uoss");
}

static void
test_unmarshal_bad (void)
{
  static const guint8 truncated[] = { 5, 0, 0, 0, 'a', 'b' };
  static const guint8 padding[] = { 1, 9, 0, 0, 0, 0, 0, 0 }; /* y then garbage padding */
  static const guint8 boolean[] = { 2, 0, 0, 0 };
  struct
  {
    const guint8 *data;
    gsize len;
    const char *sig;
  } cases[] = {
    { truncated, sizeof truncated, "s" },
    { padding, sizeof padding, "yu" },
    { boolean, sizeof boolean, "b" },
    { boolean, sizeof boolean, "(" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) b = g_bytes_new_static (cases[i].data, cases[i].len);
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) v = rrun_dbus_unmarshal_body (b, cases[i].sig, &error);

      g_assert_null (v);
      g_assert_error (error, RRUN_ERROR, RRUN_ERROR_CORRUPT);
    }
}

/* ---- a fake systemd user manager on a private bus ---- */

typedef struct
{
  GDBusConnection *conn;
  gboolean refuse;
} Fake;

static void
fake_call (GDBusConnection *conn, const char *sender, const char *path, const char *iface,
           const char *method, GVariant *params, GDBusMethodInvocation *inv, gpointer data)
{
  Fake *f = data;
  const char *unit = NULL;
  const char *job = "/org/freedesktop/systemd1/job/42";

  g_variant_get_child (params, 0, "&s", &unit);
  if (f->refuse)
    {
      g_dbus_method_invocation_return_dbus_error (inv, "org.freedesktop.systemd1.UnitExists",
                                                  "Unit rrun-x.scope already exists.");
      return;
    }
  /* As systemd does: the job may end before the reply goes out; the client must cope. */
  g_dbus_connection_emit_signal (conn, NULL, path, iface, "JobRemoved",
                                 g_variant_new ("(uoss)", 41, "/org/freedesktop/systemd1/job/41",
                                                "other.scope", "failed"),
                                 NULL);
  g_dbus_connection_emit_signal (conn, NULL, path, iface, "JobRemoved",
                                 g_variant_new ("(uoss)", 42, job, unit, "done"), NULL);
  g_dbus_method_invocation_return_value (inv, g_variant_new ("(o)", job));
}

static const char fake_xml[] =
  "<node><interface name='org.freedesktop.systemd1.Manager'>"
  "<method name='StartTransientUnit'><arg type='s' direction='in'/>"
  "<arg type='s' direction='in'/><arg type='a(sv)' direction='in'/>"
  "<arg type='a(sa(sv))' direction='in'/><arg type='o' direction='out'/></method>"
  "<signal name='JobRemoved'><arg type='u'/><arg type='o'/><arg type='s'/><arg type='s'/>"
  "</signal></interface></node>";

typedef struct
{
  GMainContext *ctx;
  GMainLoop *loop;
  Fake fake;
  const char *address;
  GMutex lock;
  GCond ready;
  gboolean up;
} Server;

static gpointer
serve (gpointer data)
{
  Server *s = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (fake_xml, &error);
  static const GDBusInterfaceVTable vtable = { fake_call, NULL, NULL, { 0 } };
  g_autoptr(GVariant) owned = NULL;

  g_main_context_push_thread_default (s->ctx);
  s->fake.conn = g_dbus_connection_new_for_address_sync (
      s->address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);
  g_dbus_connection_register_object (s->fake.conn, "/org/freedesktop/systemd1",
                                     info->interfaces[0], &vtable, &s->fake, NULL, &error);
  g_assert_no_error (error);
  owned = g_dbus_connection_call_sync (s->fake.conn, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "RequestName",
                                       g_variant_new ("(su)", "org.freedesktop.systemd1", 0),
                                       NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);
  g_assert_no_error (error);
  g_mutex_lock (&s->lock);
  s->up = TRUE;
  g_cond_signal (&s->ready);
  g_mutex_unlock (&s->lock);
  g_main_loop_run (s->loop);
  g_object_unref (s->fake.conn);
  g_main_context_pop_thread_default (s->ctx);
  return NULL;
}

static void
test_conversation (void)
{
  g_autoptr(GTestDBus) bus = NULL;
  g_autoptr(RrunDbus) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL, signal = NULL, refused = NULL;
  g_autofree char *address = NULL;
  Server s = { 0 };
  GThread *thread;
  const char *job = NULL, *result = NULL;
  g_autofree char *daemon = g_find_program_in_path ("dbus-daemon");
  guint32 id = 0;

  if (daemon == NULL)
    {
      g_test_skip ("no dbus-daemon (Debian package dbus-daemon)");
      return;
    }
  bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (bus);
  /* The client is handed a list with an unusable address first, as a session may be. */
  address = g_strconcat ("tcp:host=localhost,port=1;", g_test_dbus_get_bus_address (bus), NULL);
  s.address = g_test_dbus_get_bus_address (bus);
  s.ctx = g_main_context_new ();
  s.loop = g_main_loop_new (s.ctx, FALSE);
  g_mutex_init (&s.lock);
  g_cond_init (&s.ready);
  thread = g_thread_new ("fake-systemd", serve, &s);
  g_mutex_lock (&s.lock);
  while (!s.up)
    g_cond_wait (&s.ready, &s.lock);
  g_mutex_unlock (&s.lock);

  g_assert_true (rrun_dbus_connect (address, &client, &error));
  g_assert_no_error (error);
  g_assert_true (rrun_dbus_add_match (client, "type='signal',sender='org.freedesktop.systemd1',"
                                              "member='JobRemoved'", &error));
  g_assert_no_error (error);
  reply = rrun_dbus_call (client, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                          "org.freedesktop.systemd1.Manager", "StartTransientUnit",
                          rrun_cgroup_systemd_start_parameters ("x", getpid (), NULL), "(o)", 5000,
                          &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(&o)", &job);
  g_assert_cmpstr (job, ==, "/org/freedesktop/systemd1/job/42");
  /* Both signals came before the reply; the first is another job's. */
  signal = rrun_dbus_wait_signal (client, "org.freedesktop.systemd1.Manager", "JobRemoved",
                                  "(uoss)", 5000, &error);
  g_assert_no_error (error);
  g_variant_get (signal, "(u&o&s&s)", &id, NULL, NULL, &result);
  g_assert_cmpuint (id, ==, 41);
  g_clear_pointer (&signal, g_variant_unref);
  signal = rrun_dbus_wait_signal (client, "org.freedesktop.systemd1.Manager", "JobRemoved",
                                  "(uoss)", 5000, &error);
  g_assert_no_error (error);
  g_variant_get (signal, "(u&o&s&s)", &id, NULL, NULL, &result);
  g_assert_cmpuint (id, ==, 42);
  g_assert_cmpstr (result, ==, "done");

  /* The systemd backend's own use: match, call, wait for its job among others. */
  g_assert_true (rrun_cgroup_systemd_start (client, "x", getpid (), NULL, 5000, &error));
  g_assert_no_error (error);

  /* An error reply: its text, as GDBus' strip_remote_error gave. */
  s.fake.refuse = TRUE;
  g_assert_false (rrun_cgroup_systemd_start (client, "x", getpid (), NULL, 5000, &error));
  g_assert_cmpstr (error->message, ==,
                   "cannot start systemd scope \"rrun-x.scope\": Unit rrun-x.scope already exists.");
  g_clear_error (&error);
  refused = rrun_dbus_call (client, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                            "org.freedesktop.systemd1.Manager", "StartTransientUnit",
                            rrun_cgroup_systemd_start_parameters ("x", getpid (), NULL), "(o)",
                            5000, &error);
  g_assert_null (refused);
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "Unit rrun-x.scope already exists.");
  g_clear_error (&error);

  /* Nobody answers: bounded. */
  g_assert_null (rrun_dbus_wait_signal (client, "org.freedesktop.systemd1.Manager",
                                        "JobRemoved", "(uoss)", 200, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_FAILED);

  g_main_loop_quit (s.loop);
  g_thread_join (thread);
  g_main_loop_unref (s.loop);
  g_main_context_unref (s.ctx);
  g_clear_pointer (&client, rrun_dbus_free);
  g_test_dbus_down (bus);
}

static void
test_bad_address (void)
{
  g_autoptr(RrunDbus) client = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (rrun_dbus_connect ("unix:path=/nonexistent/bus", &client, &error));
  g_assert_error (error, RRUN_ERRNO_ERROR, ENOENT);
  g_clear_error (&error);
  g_assert_false (rrun_dbus_connect ("tcp:host=localhost,port=1", &client, &error));
  g_assert_error (error, RRUN_ERROR, RRUN_ERROR_UNSUPPORTED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dbus/marshal", test_marshal);
  g_test_add_func ("/dbus/unmarshal-bad", test_unmarshal_bad);
  g_test_add_func ("/dbus/bad-address", test_bad_address);
  g_test_add_func ("/dbus/conversation", test_conversation);
  return g_test_run ();
}
