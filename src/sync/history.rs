//! The run history a snapshot carries: finished runs, newest first, with what each did per
//! object. Front ends read it from the snapshot, never from the store, so a TUI attached to
//! a daemon and one running the engine in process show the same history.

use crate::model::{HistoryRun, ObjectCount};
use crate::store::{Store, StoreError};
use crate::sync::run::summary_of;

/// Up to `limit` finished runs of `store`, newest first (a run still going has no finish
/// yet: live status shows it).
pub(crate) fn recent(store: &Store, limit: usize) -> Result<Vec<HistoryRun>, StoreError> {
    let rows = store.recent_runs(limit)?;
    let mut runs = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(summary) = summary_of(&row) else {
            continue;
        };
        let objects = store
            .run_objects(row.id)?
            .into_iter()
            .map(|o| ObjectCount {
                object: o.object,
                upserted: o.upserted,
                deleted: o.deleted,
            })
            .collect();
        runs.push(HistoryRun { summary, objects });
    }
    Ok(runs)
}
