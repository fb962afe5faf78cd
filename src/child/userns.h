/* Child side of rrun_userns_exec: async-signal-safe only (docs/architecture.md, "Child
   code"). */
#pragma once

typedef struct
{
  int report_fd;         /* the report socket: one byte arrives once the maps are written;
                            a failure goes back as a report record; exec closes it */
  int stdin_fd;          /* becomes fd 0 */
  int stdout_fd;         /* becomes fd 1 */
  int stderr_fd;         /* becomes fd 2 */
  const char *exe;       /* path to exec */
  char *const *argv;
  char *const *envp;
} RrunUsernsChildPlan;

__attribute__ ((noreturn)) void rrun_userns_child_main (const RrunUsernsChildPlan *plan);
