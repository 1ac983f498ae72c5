//! Builders shared by the unit tests of this module.

use std::sync::Arc;

use crate::config::{Frequency, SourceKind};
use crate::sync::schema::{ObjectSchema, OrgSchema};
use crate::sync::{ApiUsage, Snapshot, SourceSnapshot, Status};

pub(crate) fn source(id: &str) -> SourceSnapshot {
    SourceSnapshot {
        id: id.into(),
        name: id.into(),
        kind: SourceKind::Salesforce,
        status: Status::Active,
        since: None,
        sync_enabled: true,
        frequency: Frequency::H1,
        quota_threshold_percent: 80,
        connection: None,
        running: None,
        last_run: None,
        next_run: None,
        records: 0,
        api: ApiUsage::default(),
        projections: Vec::new(),
        events: Vec::new(),
        auth: None,
        schema: None,
    }
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
