/* Shared by the libFuzzer targets (tests/fuzz/README.md): each gets bytes, hands them to
   one parser as the outside world would, and checks only that nothing crashes, leaks or
   misbehaves under ASan and UBSan. Errors are the expected outcome of most inputs. */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (a parser of text never sees the NUL). */
static inline char *
fuzz_text (const uint8_t *data, size_t size)
{
  char *s = g_malloc (size + 1);
  memcpy (s, data, size);
  s[size] = '\0';
  return s;
}

/* GLib's criticals abort a fuzzer run as a crash would: a parser must not reach them. */
static inline void
fuzz_init (void)
{
  static gboolean done;
  if (!done)
    {
      g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
      done = TRUE;
    }
}
