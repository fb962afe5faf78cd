/* The pull progress display: on a terminal, one line per layer on stderr (digest, bytes,
   rate), redrawn in place as the download threads report. */
#pragma once

#include <glib.h>

#include "image/pull.h"

G_BEGIN_DECLS

typedef struct RrunPullProgress RrunPullProgress;

/* NULL when stderr is not a terminal (pipes get no progress). */
RrunPullProgress *rrun_pull_progress_new_for_stderr (void);

/* An RrunPullProgressFunc; user_data is the RrunPullProgress. Thread-safe. */
void rrun_pull_progress_update (guint index, guint n_layers, const char *digest,
                                RrunPullLayerState state, guint64 done, guint64 total,
                                gpointer user_data);

/* Draw the final state once more. */
void rrun_pull_progress_finish (RrunPullProgress *progress);

void rrun_pull_progress_free (RrunPullProgress *progress);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RrunPullProgress, rrun_pull_progress_free)

G_END_DECLS
