/* OCI runtime bundles (runtime-spec's config.json) as rrun container specs, and the
   config.json `rrun bundle` writes for an image (docs/rrun-oci.1.md). */
#pragma once

#include <glib.h>

#include "container/spec.h"
#include "storage/image.h"

G_BEGIN_DECLS

#define RRUN_OCI_VERSION "1.0.2"
/* The label that remembers a container's bundle, for oci state. */
#define RRUN_OCI_BUNDLE_LABEL "io.rrun.oci.bundle"

/* Read bundle/config.json and make the spec that runs it as container id (its --name):
   root.path (relative to the bundle) as a read-only lower layer under a writable one
   (or --read-only with root.readonly), process.args/env/cwd/terminal/user, hostname,
   mounts (bind and tmpfs; proc, sysfs, devpts, mqueue, cgroup and /dev are rrun's own),
   linux.namespaces (no network namespace: the host's; one: none; a path: ns:PATH; no ipc
   namespace: the host's), a single-ID uidMappings as --userns=single. A missing or
   mistyped field is RRUN_ERROR_INVALID_ARGUMENT naming it and the file. */
gboolean rrun_oci_bundle_to_spec (const char *bundle, const char *id,
                                  RrunContainerSpec **out_spec, GError **error);

/* The config.json text for a bundle of image (its rootfs in "rootfs"): the image's
   command, environment, working directory and user (uid and gid from passwd and group,
   which may be NULL), rrun's default mounts, no network namespace. */
gboolean rrun_oci_bundle_config_text (const RrunImage *image, const char *passwd,
                                      const char *group, char **out_text, GError **error);

G_END_DECLS
