//! Builders shared by the unit tests of this module.

use std::sync::Arc;

use crate::model::{ObjectSchema, OrgSchema};
use crate::model::{Snapshot, SourceSnapshot, Status};

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
