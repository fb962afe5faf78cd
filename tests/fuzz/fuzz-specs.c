/* The command line's mount and port specs (rootfs/mount-args.c, network/options.c):
   -v, --tmpfs and -p, the first byte picking which; --security-opt mask= paths too. */
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
  switch (data[0] % 3)
    {
    case 0:
      {
        g_autoptr(RrunVolume) v = NULL;
        (void) rrun_volume_parse (text, &v, NULL);
        break;
      }
    case 1:
      {
        g_autofree char *target = NULL, *opts = NULL;
        unsigned long flags = 0;
        (void) rrun_tmpfs_parse (text, &target, &opts, &flags, NULL);
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
