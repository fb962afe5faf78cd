#include "storage/fsmagic.h"
#include "error.h"

#include <errno.h>
#include <string.h>
#include <sys/vfs.h>

/* Magic numbers from linux/magic.h and the vendors' sources; several are not in the
   kernel headers because the file systems live out of tree. */
static const struct
{
  long magic;
  const char *name;
} network_fs[] = {
  { 0x6969, "nfs" },
  { 0x0BD00BD0, "lustre" },
  { 0x47504653, "gpfs" },
  { 0x19830326, "beegfs" },
  { (long) 0xFF534D42, "cifs" },
  { 0xFE534D42, "smb2" },
  { 0x517B, "smb" },
  { 0x00C36400, "ceph" },
  { 0x5346414F, "afs" },
  { 0x6B414653, "afs" },
  { 0x01021997, "9p" },
  { 0x013111A8, "ibrix" },
  { 0xAAD7AAEA, "panfs" },
};

const char *
rrun_fsmagic_network_name (long f_type)
{
  for (guint i = 0; i < G_N_ELEMENTS (network_fs); i++)
    if ((unsigned int) network_fs[i].magic == (unsigned int) f_type)
      return network_fs[i].name;
  return NULL;
}

gboolean
rrun_fsmagic_network_fs (const char *path, const char **out_name, GError **error)
{
  const char *forced = g_getenv ("RRUN_TEST_FSTYPE");
  g_autofree char *probe = g_strdup (path);
  struct statfs sfs;

  if (forced != NULL)
    {
      static char name[64];

      const char *colon = strchr (forced, ':');

      /* "TYPE:PREFIX" applies to paths at or below PREFIX only, so a test can put the
         home directory on "nfs" and keep /var/tmp local. */
      if (colon != NULL && !g_str_has_prefix (path, colon + 1))
        forced = "";
      else if (colon != NULL && path[strlen (colon + 1)] != '\0'
               && path[strlen (colon + 1)] != '/')
        forced = "";
      if (*forced == '\0' || g_str_has_prefix (forced, "local"))
        *out_name = NULL;
      else
        {
          gsize len = colon ? (gsize) (colon - forced) + 1 : sizeof name;

          g_strlcpy (name, forced, MIN (sizeof name, len));
          *out_name = name;
        }
      return TRUE;
    }
  /* Walk up to the nearest existing directory: the store may not exist yet. */
  while (statfs (probe, &sfs) < 0)
    {
      char *slash;

      if (errno != ENOENT || (slash = strrchr (probe, '/')) == NULL || slash == probe)
        {
          if (errno == ENOENT && probe[0] == '/')
            {
              if (statfs ("/", &sfs) == 0)
                break;
            }
          return rrun_throw_errno (error, errno, "cannot inspect the file system of \"%s\"",
                                   path);
        }
      *slash = '\0';
    }
  *out_name = rrun_fsmagic_network_name ((long) sfs.f_type);
  return TRUE;
}
