//! Engine tests on a PostgreSQL store: a source pointed at a test schema, its rows read back.

use serde_json::{Map, Value};
use syncdeck::config::{SourceConfig, StoreConfig};
use syncdeck::store::Store;
use syncdeck::store::postgres::testing::TestSchema;

use super::{Org, project};

/// `source` syncing into the test schema.
pub fn into_postgres(mut source: SourceConfig, ts: &TestSchema) -> SourceConfig {
    source.store = Some(StoreConfig {
        url: ts.url.clone(),
        password_env: None,
        schema: Some(ts.schema().to_string()),
    });
    source
}

pub fn stored(org: &Org, source: &SourceConfig, fields: &[&str]) -> Vec<Map<String, Value>> {
    let store = Store::open_for(&org.paths, source).unwrap();
    project(store.read_rows("Account", usize::MAX).unwrap(), fields)
}
