/* The caller's terminal: raw mode while a container has a pty, always restored. */
#pragma once

#include <glib.h>
#include <termios.h>

G_BEGIN_DECLS

typedef struct
{
  int fd;
  gboolean saved;
  struct termios original;
} RrunTty;

/* Put fd in raw mode, remembering the settings; a non-terminal is left alone. */
gboolean rrun_tty_make_raw (RrunTty *tty, int fd, GError **error);
/* Restore what make_raw changed; safe to call more than once. */
void rrun_tty_restore (RrunTty *tty);
/* Copy the window size of from (a terminal) to to (a pty master). */
void rrun_tty_copy_winsize (int from, int to);

G_END_DECLS
