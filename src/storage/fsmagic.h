/* Which file system a path lives on (statfs f_type), for refusing network file systems
   that cannot hold overlay upper dirs or files owned by subordinate ids. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The name of a network or cluster file system ("nfs", "lustre", "gpfs", "beegfs", "cifs",
   "smb2", "ceph", "afs", "9p"...) holding path, or NULL for a local one. The environment
   variable RRUN_TEST_FSTYPE overrides the detected name for tests ("" or "local": local;
   "nfs:/home/u" only for paths at or below /home/u).
   A path that cannot be inspected is an error. The nearest existing parent is checked
   when path does not exist yet. */
gboolean rrun_fsmagic_network_fs (const char *path, const char **out_name, GError **error);

/* The name for a statfs f_type when it is a network file system, else NULL. */
const char *rrun_fsmagic_network_name (long f_type);

G_END_DECLS
