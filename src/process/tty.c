#include "process/tty.h"
#include "error.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <unistd.h>

gboolean
rrun_tty_make_raw (RrunTty *tty, int fd, GError **error)
{
  struct termios raw;

  tty->fd = fd;
  tty->saved = FALSE;
  if (!isatty (fd))
    return TRUE;
  if (tcgetattr (fd, &tty->original) < 0)
    return rrun_throw_errno (error, errno, "cannot read the terminal settings");
  raw = tty->original;
  cfmakeraw (&raw);
  /* Keep output post-processing off as well: the container's pty does it. */
  if (tcsetattr (fd, TCSADRAIN, &raw) < 0)
    return rrun_throw_errno (error, errno, "cannot set the terminal to raw mode");
  tty->saved = TRUE;
  return TRUE;
}

void
rrun_tty_restore (RrunTty *tty)
{
  if (!tty->saved)
    return;
  while (tcsetattr (tty->fd, TCSADRAIN, &tty->original) < 0 && errno == EINTR)
    ;
  tty->saved = FALSE;
}

void
rrun_tty_copy_winsize (int from, int to)
{
  struct winsize ws;

  if (ioctl (from, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
    ioctl (to, TIOCSWINSZ, &ws);
}
