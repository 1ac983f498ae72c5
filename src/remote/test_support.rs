//! Builders shared by the unit tests of this module.

use std::sync::Arc;

use chrono::DateTime;

use crate::model::{HistoryRun, ObjectCount, ObjectSchema, OrgSchema};
use crate::model::{RunKind, RunOutcome, RunSummary, Snapshot, SourceSnapshot, Status};

pub(crate) fn source(id: &str) -> SourceSnapshot {
    SourceSnapshot::new(id, id, Status::Active)
}

pub(crate) fn snapshot(version: u64, ids: &[&str]) -> Snapshot {
    Snapshot {
        version,
        at: None,
        sources: ids.iter().map(|id| source(id)).collect(),
    }
}

pub(crate) fn schema(object: &str) -> Option<Arc<OrgSchema>> {
    Some(Arc::new(OrgSchema {
        objects: vec![ObjectSchema {
            name: object.into(),
            ..Default::default()
        }],
    }))
}

/// A history of one finished run that upserted `upserted` Accounts.
pub(crate) fn history(upserted: u64) -> Arc<Vec<HistoryRun>> {
    let at = DateTime::UNIX_EPOCH;
    Arc::new(vec![HistoryRun {
        summary: RunSummary {
            started: at,
            finished: at,
            kind: RunKind::Incremental,
            outcome: RunOutcome::Succeeded,
            upserted,
            deleted: 0,
            api_calls: 1,
            error: None,
        },
        objects: vec![ObjectCount {
            object: "Account".into(),
            upserted,
            deleted: 0,
        }],
    }])
}
