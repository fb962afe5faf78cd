/* The command line's mount and port specs (rootfs/mount-args.c, network/options.c):
   -v, --mount, --tmpfs, --volumes-from and -p, the first byte picking which. */
#include "config.h"
#include "fuzz.h"
#include "network/network.h"
#include "rootfs/mount-args.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = NULL;

  fuzz_init ();
  if (size < 1)
    return 0;
  text = fuzz_text (data + 1, size - 1);
  switch (data[0] % 5)
    {
    case 0:
      {
        g_autoptr(RrunMountSpec) m = NULL;
        (void) rrun_mount_parse_volume (text, &m, NULL);
        break;
      }
    case 1:
      {
        g_autoptr(RrunMountSpec) m = NULL;
        (void) rrun_mount_parse_tmpfs_arg (text, &m, NULL);
        break;
      }
    case 3:
      {
        g_autoptr(RrunMountSpec) m = NULL;
        (void) rrun_mount_parse_mount (text, &m, NULL);
        break;
      }
    case 4:
      {
        g_autofree char *container = NULL, *mode = NULL;
        (void) rrun_mount_parse_volumes_from (text, &container, &mode, NULL);
        break;
      }
    case 2:
      {
        static RrunConfig *config;
        g_autoptr(RrunNetworkOptions) net = NULL;

        if (config == NULL)
          config = rrun_config_new_defaults ();
        net = rrun_network_options_new (config, NULL);
        if (net != NULL && rrun_network_options_add_publish (net, text, NULL))
          (void) rrun_network_options_check (net, FALSE, NULL);
        break;
      }
    }
  return 0;
}
