/* A minimal D-Bus client for the one conversation rrun has with a bus (the systemd user
   manager's StartTransientUnit and its JobRemoved signal): a unix socket, EXTERNAL
   authentication, and messages marshalled from and to GVariant (GLib core) by the D-Bus
   wire rules. GDBus would do the same, but it lives in GIO, whose loading (with GObject,
   libmount, libselinux, ...) costs every `rrun run` ~3 ms of CPU on a small VM, systemd
   or not. Little-endian hosts only; no file descriptors; method calls wait, bounded. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct RrunDbus RrunDbus;

/* Connect to the first unix address of a D-Bus address list (unix:path=, unix:abstract=;
   %-escapes allowed), authenticate as this uid and say Hello. */
gboolean rrun_dbus_connect (const char *address, RrunDbus **out, GError **error);
void rrun_dbus_free (RrunDbus *bus);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunDbus, rrun_dbus_free)

/* Call method; args is a tuple (floating references are sunk) or NULL. Returns the reply's
   body (a tuple), which must have type reply_type when that is not NULL. A D-Bus error
   reply becomes an error whose message is the error's own text (its name when it has
   none). Signals that arrive meanwhile are kept for rrun_dbus_wait_signal. */
GVariant *rrun_dbus_call (RrunDbus *bus, const char *destination, const char *path,
                          const char *interface, const char *method, GVariant *args,
                          const char *reply_type, int timeout_ms, GError **error);

/* Ask the bus for the signals a match rule names (a bus delivers a broadcast signal only
   to connections that asked). */
gboolean rrun_dbus_add_match (RrunDbus *bus, const char *rule, GError **error);

/* The next signal interface.member with a body of type `type`, kept or still to come;
   NULL with an error after timeout_ms. */
GVariant *rrun_dbus_wait_signal (RrunDbus *bus, const char *interface, const char *member,
                                 const char *type, int timeout_ms, GError **error);

/* For tests: a GVariant tuple as a D-Bus message body, and back. */
GBytes *rrun_dbus_marshal_body (GVariant *body);
GVariant *rrun_dbus_unmarshal_body (GBytes *data, const char *signature, GError **error);

G_END_DECLS
