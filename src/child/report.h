/* Child side of the report channel, and small string helpers for code between clone and
   exec: async-signal-safe only (no malloc, no stdio, no GLib). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "child/report-record.h"

void rrun_child_send (int report_fd, int32_t step, int32_t errsv, const char *subject);
__attribute__ ((noreturn)) void rrun_child_fail (int report_fd, int32_t step,
                                                 const char *subject);
__attribute__ ((noreturn)) void rrun_child_fail_errno (int report_fd, int32_t step, int errsv,
                                                       const char *subject);
/* Send one fd with SCM_RIGHTS (one message). Returns 0 or -1 with errno. */
int rrun_child_send_fd (int sock, int fd);
/* Block until the host sends one byte; 0 on success, -1 on EOF or error. */
int rrun_child_wait_byte (int fd);

/* Concatenate up to three strings into buf (size n); -1 (ENAMETOOLONG) when too long. */
int rrun_child_concat (char *buf, size_t n, const char *a, const char *b, const char *c);
/* v in decimal into buf (size n, NUL-terminated, cut to fit); returns its length. */
size_t rrun_child_format_uint (char *buf, size_t n, unsigned long v);
/* "/proc/self/fd/N" for fd into buf. */
void rrun_child_fd_path (char *buf, size_t n, int fd);
