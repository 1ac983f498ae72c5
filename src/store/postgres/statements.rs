//! Statements prepared once per connection. A page's Id lookup, COPY and cursor write
//! repeat with the same text page after page; prepared, each is parsed and planned once
//! and then costs one round trip instead of two. They live and die with their connection.

use std::collections::HashMap;

use tokio_postgres::{Error, GenericClient, Statement};

/// More distinct statements than any sync uses (a few per object and row shape); past it
/// the cache starts over rather than grow with a pathological run.
const MAX_STATEMENTS: usize = 256;

#[derive(Default)]
pub(super) struct Statements {
    by_sql: HashMap<String, Statement>,
}

impl Statements {
    /// `sql` prepared on `client`'s connection, preparing it on first use.
    pub(super) async fn get(
        &mut self,
        client: &impl GenericClient,
        sql: &str,
    ) -> Result<Statement, Error> {
        if let Some(s) = self.by_sql.get(sql) {
            return Ok(s.clone());
        }
        let statement = client.prepare(sql).await?;
        if self.by_sql.len() >= MAX_STATEMENTS {
            self.by_sql.clear();
        }
        self.by_sql.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }
}
