/* An image as the runtime sees it: its config (docker/OCI semantics) and its layers. */
#pragma once

#include <glib.h>
#include "util/json-value.h"

G_BEGIN_DECLS

/* The "config" object of an OCI image config (also docker's). Every field optional. */
typedef struct
{
  char **env;          /* "K=V" */
  char **entrypoint;
  char **cmd;
  char *working_dir;
  char *user;
  char **exposed_ports; /* "80/tcp" */
  char *stop_signal;
  char **volumes;
  char *hostname;
  /* HEALTHCHECK: Test (["NONE"], ["CMD", ...], ["CMD-SHELL", "..."]) and its times in
     nanoseconds (0: docker's default); NULL when the image has none. */
  char **health_test;
  gint64 health_interval, health_timeout, health_start_period;
  gint64 health_retries;
} RrunImageConfig;

void rrun_image_config_free (RrunImageConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunImageConfig, rrun_image_config_free)

/* Parse the whole image config JSON (with "config", "rootfs", "architecture", ...);
   a mistyped field is RRUN_ERROR_CORRUPT naming the field and source. */
gboolean rrun_image_config_parse (const RrunJson *root, const char *source,
                                  RrunImageConfig **out_config, GError **error);

typedef struct
{
  char *id;            /* hex sha256 of the config blob (docker's image ID) */
  char **names;        /* "localhost/busybox:latest", ... (may be empty) */
  char *digest;        /* manifest digest "sha256:..." when pulled, else NULL */
  GPtrArray *layer_dirs; /* absolute paths of the extracted layers, bottom first */
  GPtrArray *layer_ids;  /* chain ids (hex), parallel to layer_dirs */
  RrunImageConfig *config;
  char *os;
  char *architecture;
  gint64 created;      /* unix seconds, 0 when unknown */
  guint64 size;        /* bytes of the extracted layers */
  guint64 unmapped_owners; /* files that lost their owner at extraction (no range then) */
  gboolean read_only_store; /* found in an additional (read-only) image store */
  GArray *layer_sizes;   /* guint64 bytes of each extracted layer, parallel to layer_ids */
  char *config_path;     /* the config blob's file (inspect and history read it whole) */
  char *damaged;         /* why its record cannot be read (listed, not usable), or NULL */
} RrunImage;

/* podman's --rootfs: an unpacked root file system as a one-layer image with an empty
   config; its ID is the directory's absolute path. */
RrunImage *rrun_image_new_rootfs (const char *dir, GError **error);

/* The outer fields of an image config (after the same checks as rrun_image_config_parse):
   os and architecture (NULL when absent), created as unix seconds (0 when absent; a
   malformed time is an error), rootfs.diff_ids ("sha256:..." each; empty when absent).
   Any out_ may be NULL. */
gboolean rrun_image_config_parse_meta (const RrunJson *root, const char *source, char **out_os,
                                       char **out_architecture, gint64 *out_created,
                                       GStrv *out_diff_ids, GError **error);

/* The rootfs.diff_ids of a config blob (parsed and checked as above), which must be one
   per layer of its manifest (n_layers): what pull and load need to name the layers.
   source names the config in messages. */
gboolean rrun_image_config_diff_ids (const char *config, gsize len, guint n_layers,
                                     const char *source, GStrv *out, GError **error);

void rrun_image_free (RrunImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunImage, rrun_image_free)

/* A file of the image's root file system (rel: "etc/passwd"), read from the topmost layer
   that has it; *out is NULL when absent, deleted by a whiteout, or a symlink. Bounded:
   a hostile image's /etc/passwd may be a device node, a gigabyte, or binary. */
gboolean rrun_image_read_file (RrunImage *image, const char *rel, char **out, GError **error);

G_END_DECLS
