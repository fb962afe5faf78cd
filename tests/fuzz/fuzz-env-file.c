/* --env-file (process/command.c), read from a memfd as from any file. */
#include "fuzz.h"
#include "process/command.h"

#include <sys/mman.h>
#include <unistd.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  int fd = memfd_create ("fuzz-env", MFD_CLOEXEC);
  g_autofree char *path = NULL;
  g_autoptr(GPtrArray) env = g_ptr_array_new_with_free_func (g_free);

  fuzz_init ();
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, data, size), ==, (gssize) size);
  path = g_strdup_printf ("/proc/self/fd/%d", fd);
  (void) rrun_spec_parse_env_file (path, env, NULL);
  close (fd);
  return 0;
}
