/* Attaching to a detached container's stdin and terminal (docs/architecture.md,
   "Attaching"). The monitor of a container run with -i or -t listens on a unix
   SOCK_SEQPACKET socket, RUN_DIR/attach (mode 0600, in the user's 0700 run root; only
   the user's own uid is served). Each message is one packet: a type byte, then data.

     monitor → client   RRUN_ATTACH_HELLO (flags: RRUN_ATTACH_FLAG_*), once at accept;
                        RRUN_ATTACH_STDOUT / RRUN_ATTACH_STDERR: output (with -t, the
                        terminal's output, all as STDOUT)
     client → monitor   RRUN_ATTACH_SUBSCRIBE (one byte: 1 to get first the output this
                        run wrote before, up to RRUN_ATTACH_REPLAY_MAX; 0 from now on):
                        output starts flowing; RRUN_ATTACH_STDIN: bytes for the
                        container's stdin; RRUN_ATTACH_STDIN_EOF: close it (no -t);
                        RRUN_ATTACH_RESIZE: rows and columns (2 × uint16) for the pty

   The monitor never blocks on a client: output a client does not read is queued up to
   RRUN_ATTACH_QUEUE_MAX bytes, then that client is disconnected. The log stays the
   complete record. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RRUN_ATTACH_SOCKET "attach"

enum
{
  RRUN_ATTACH_HELLO = 'h',
  RRUN_ATTACH_STDOUT = '1',
  RRUN_ATTACH_STDERR = '2',
  RRUN_ATTACH_SUBSCRIBE = 's',
  RRUN_ATTACH_STDIN = 'i',
  RRUN_ATTACH_STDIN_EOF = 'e',
  RRUN_ATTACH_RESIZE = 'w',
};

#define RRUN_ATTACH_FLAG_TTY 1   /* the container has a terminal (-t) */
#define RRUN_ATTACH_FLAG_STDIN 2 /* its stdin is open for clients (-i) */

#define RRUN_ATTACH_PACKET_MAX (32 * 1024)
#define RRUN_ATTACH_QUEUE_MAX (4 * 1024 * 1024)
#define RRUN_ATTACH_REPLAY_MAX (64 * 1024)

/* The monitor's side. */
typedef struct _RrunAttachServer RrunAttachServer;

/* A server for a container with a terminal (tty) and/or an open stdin (interactive);
   stdin_fd: the write end of a -i container's stdin pipe (taken), or -1. Its thread
   starts at once, with no socket until rrun_attach_server_listen. */
gboolean rrun_attach_server_new (gboolean tty, gboolean interactive, int stdin_fd,
                                 RrunAttachServer **out_server, GError **error);
/* Listen on RUN_DIR/attach (each run of the container has a new run dir); replaces the
   previous run's socket, and starts this run's replay buffer. Before the run starts. */
gboolean rrun_attach_server_listen (RrunAttachServer *server, const char *run_dir,
                                    GError **error);
/* With -t: the pty master of this run (taken; -1 when the run is over). */
void rrun_attach_server_set_pty (RrunAttachServer *server, int pty_master);
/* Output of the container (from the log writer's thread): to every subscribed client. */
void rrun_attach_server_output (gpointer server, gboolean is_stderr, const char *data,
                                gsize len);
/* Stop the thread, disconnect every client (they read EOF), close everything. */
void rrun_attach_server_free (RrunAttachServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunAttachServer, rrun_attach_server_free)

/* The client's side (rrun attach, rrun start -a -i). */

/* docker's --detach-keys: "ctrl-X" (X a letter or one of @[\]^_) or a single character,
   separated by commas; "" disables. Writes the byte sequence (at most 16). */
gboolean rrun_attach_parse_detach_keys (const char *text, GByteArray **out_keys,
                                        GError **error);

/* Connect to RUN_DIR/attach; RRUN_ERROR_NOT_FOUND when the container has no socket (it
   was run without -i and -t, or it has exited). */
gboolean rrun_attach_connect (const char *run_dir, int *out_fd, GError **error);

typedef struct
{
  gboolean no_stdin;   /* do not forward stdin */
  gboolean replay;     /* first the output this run wrote before (start -a) */
  int sig_proxy_pidfd; /* without a terminal: forward signals to this PID 1; -1: no */
  GByteArray *detach_keys; /* with a terminal; NULL or empty: none */
} RrunAttachOptions;

/* docker's escape proxy: key bytes that may begin the detach sequence are held back
   (*matched of them, kept across calls); a byte that breaks the sequence appends what
   was held, then itself, to out. TRUE: the sequence is complete (detach). */
gboolean rrun_attach_filter_keys (const GByteArray *keys, guint *matched, const char *in,
                                  gsize len, GByteArray *out);

typedef enum
{
  RRUN_ATTACH_ENDED,     /* the container's output ended: it has exited */
  RRUN_ATTACH_DETACHED,  /* the user typed the detach keys */
  RRUN_ATTACH_SIGNALLED, /* with a terminal: SIGINT, SIGTERM or SIGHUP ended the attach */
} RrunAttachEnd;

/* Relay until one of RrunAttachEnd. */
gboolean rrun_attach_run (int fd, const RrunAttachOptions *o, RrunAttachEnd *out_end,
                          GError **error);

G_END_DECLS
