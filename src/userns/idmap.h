/* Subordinate ID ranges (/etc/subuid, /etc/subgid, getsubids) and uid_map/gid_map text. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct
{
  guint32 start;
  guint32 count;
} RrunIdRange;

typedef struct
{
  guint32 container_id;
  guint32 host_id;
  guint32 count;
} RrunIdMapping;

typedef enum
{
  RRUN_USERNS_AUTO,    /* container 0 = user, 1..N = subordinate range */
  RRUN_USERNS_KEEP_ID, /* the user's own uid/gid inside equal the host's */
  RRUN_USERNS_NOMAP,   /* only the subordinate range; the user's id is not mapped */
  RRUN_USERNS_SINGLE,  /* just container 0 = user (no range, or forced) */
} RrunUsernsMode;

typedef struct
{
  RrunUsernsMode mode;
  uid_t host_uid;
  gid_t host_gid;
  guint32 container_uid; /* what the user's own uid is inside (0, or itself with keep-id) */
  guint32 container_gid;
  GArray *uid_map;       /* of RrunIdMapping */
  GArray *gid_map;
  GArray *uid_ranges;    /* RrunIdRange: the subordinate ranges used (empty if single) */
  GArray *gid_ranges;
  /* nomap: the command's own namespace, nested in the outer one (uid_map/gid_map above
     are then the outer, default maps): container 0..N-1 = the subordinate ranges, in
     host ids. NULL in other modes. */
  GArray *inner_uid_map;
  GArray *inner_gid_map;
  gboolean single;       /* written directly with setgroups deny, no newuidmap */
  char *single_reason;   /* why a range could not be used (for info and warnings) */
  char *newuidmap;       /* the helpers' paths as checked; NULL: search PATH */
  char *newgidmap;
} RrunIdMap;

void rrun_idmap_free (RrunIdMap *map);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunIdMap, rrun_idmap_free)

/* Parse subuid/subgid text: "name-or-uid:start:count" lines, '#' comments. Ranges for
   `user` (by name) or `uid` (by number) are appended in file order. Malformed lines for
   that user are an error naming the line; other users' lines are not inspected closely. */
gboolean rrun_idmap_parse_subid_text (const char *text, const char *user, uid_t uid,
                                      GArray *ranges, GError **error);

/* Read ranges for user from path; no range is RRUN_ERROR_NO_SUBID with a hint. */
gboolean rrun_idmap_read_ranges (const char *path, const char *user, uid_t uid,
                                 GArray **out_ranges, GError **error);

/* Ranges through `getsubids [-g] USER` (NSS, SSSD, FreeIPA). */
gboolean rrun_idmap_query_getsubids (const char *user, gboolean groups, GArray **out_ranges,
                                     GError **error);

/* Build the mappings for a mode; ranges may be empty for RRUN_USERNS_SINGLE. */
GArray *rrun_idmap_build (RrunUsernsMode mode, guint32 host_id, GArray *ranges,
                          guint32 *out_container_id);

/* "container host count\n" lines as /proc/PID/uid_map wants them. */
char *rrun_idmap_format (GArray *mappings);

/* Map a container id to the host id (for tests and messages); FALSE when unmapped. */
gboolean rrun_idmap_to_host (GArray *mappings, guint32 container_id, guint32 *out_host_id);

/* "auto", "keep-id", "nomap" or "single", as --userns takes it. */
const char *rrun_idmap_mode_name (RrunUsernsMode mode);

/* Decide the id map for this user: mode "auto", "keep-id", "nomap" or "single".
   keep-id and nomap need a subordinate range (no single-ID fallback).
   "auto" falls back to a single mapping when there is no range or newuidmap is unusable,
   and says so once through rrun_warning. */
gboolean rrun_idmap_resolve (const char *mode, RrunIdMap **out_map, GError **error);

/* The map image layers and writable layers are stored with (container 0 = the user, then
   the ranges), derived from map whatever its mode: removing or extracting files must use
   it, since keep-id or nomap may leave some stored owners unmapped. */
RrunIdMap *rrun_idmap_storage_map (const RrunIdMap *map);

/* Write the maps for pid: newuidmap/newgidmap, or uid_map/gid_map directly (single). */
gboolean rrun_idmap_write_maps (const RrunIdMap *map, pid_t pid, GError **error);

/* The same in two halves, so that the milliseconds newuidmap and newgidmap (setuid
   programs) take overlap other work: start returns once both run (single mode: once the
   maps are written, with *out_writer NULL); finish waits for them, frees the writer and
   turns a helper's failure into the error. finish must be called whatever happens. */
typedef struct _RrunIdMapWriter RrunIdMapWriter;
gboolean rrun_idmap_start_maps (const RrunIdMap *map, pid_t pid, RrunIdMapWriter **out_writer,
                                GError **error);
gboolean rrun_idmap_finish_maps (RrunIdMapWriter *writer, GError **error);

/* Ids as stored by one map seen through another: for each id I of `layout` (how layers
   are stored on disk), the id that the host's file owner h_layout(I) has under `view`.
   Yields the uidmapping= triples fuse-overlayfs needs to show stored layers with their
   intended owners in a --userns=keep-id container, without re-chowning anything. */
GArray *rrun_idmap_compose (GArray *layout, GArray *view);

/* uidmapping/gidmapping for fuse-overlayfs from compose()'s result: triples
   "SEEN:INTENDED:COUNT" (the id as fuse-overlayfs finds it on disk, the id it shows). */
char *rrun_idmap_format_fuse (GArray *mappings);

/* Number of container ids mapped (for messages about files owned outside the range). */
guint32 rrun_idmap_span (GArray *mappings);

G_END_DECLS
