//! What the delete log and `verify` keep: how far each object's delete log has been
//! applied, the store's Ids in order (read in bounded chunks, never all at once), and the
//! results of past verifications.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, StoreError, VerifyRecord, parse_ts, quote_ident, table_name, ts};

impl SqliteStore {
    // Backend methods, called from `impl Backend for SqliteStore` in mod.rs.

    /// Up to the instant the object's delete log was applied (`latestDateCovered`).
    pub(super) fn delete_log_checked(
        &mut self,
        object: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let at: Option<String> = self
            .conn
            .query_row(
                "SELECT covered_until FROM delete_log_checks WHERE object = ?1",
                [object],
                |r| r.get(0),
            )
            .optional()?;
        Ok(at.as_deref().map(parse_ts))
    }

    /// Deletes `ids` and records how far the delete log is applied, in one transaction:
    /// a crash never loses deletions nor applies them twice with a wrong checkpoint.
    /// Returns how many rows were deleted.
    pub(super) fn apply_deletions(
        &mut self,
        object: &str,
        ids: &[String],
        covered_until: Option<DateTime<Utc>>,
    ) -> Result<u64, StoreError> {
        let has_table = self.has_table(object)?;
        let tx = self.conn.transaction()?;
        let mut deleted = 0;
        if has_table {
            let table = quote_ident(&table_name(object));
            let mut delete =
                tx.prepare_cached(&format!("DELETE FROM {table} WHERE \"Id\" = ?1"))?;
            for id in ids {
                deleted += delete.execute([id])? as u64;
            }
        }
        if let Some(at) = covered_until {
            tx.execute(
                "INSERT INTO delete_log_checks (object, covered_until) VALUES (?1, ?2)
                 ON CONFLICT (object) DO UPDATE SET covered_until = excluded.covered_until",
                params![object, ts(at)],
            )?;
        }
        tx.commit()?;
        Ok(deleted)
    }

    /// At most `limit` Ids greater than `after`, in order: a keyset cursor over the
    /// primary key whose memory does not grow with the table.
    pub(super) fn ids_after(
        &self,
        object: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        if !self.has_table(object)? {
            return Ok(Vec::new());
        }
        let table = quote_ident(&table_name(object));
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT \"Id\" FROM {table} WHERE \"Id\" > ?1 ORDER BY \"Id\" LIMIT ?2"
        ))?;
        let ids = stmt
            .query_map(
                params![
                    after.unwrap_or(""),
                    i64::try_from(limit).unwrap_or(i64::MAX)
                ],
                |r| r.get(0),
            )?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// Fields that have at least one column in the object's table.
    pub(super) fn stored_fields(&mut self, object: &str) -> Result<Vec<String>, StoreError> {
        let mut fields: Vec<String> = self.columns(object)?.into_iter().map(|c| c.field).collect();
        fields.dedup();
        Ok(fields)
    }

    /// When the first run started: scheduled verifications count from there until the
    /// first one is recorded.
    pub(super) fn first_run_started(&mut self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let at: Option<String> = self
            .conn
            .query_row("SELECT MIN(started) FROM runs", [], |r| r.get(0))?;
        Ok(at.as_deref().map(parse_ts))
    }

    pub(super) fn record_verify(&mut self, v: &VerifyRecord) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO verify_results (started, finished, outcome, extra, missing,
               unfilled_fields, repaired_deleted, repaired_fetched, api_calls, error)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                ts(v.started),
                ts(v.finished),
                v.outcome,
                v.extra as i64,
                v.missing as i64,
                v.unfilled_fields as i64,
                v.repaired_deleted as i64,
                v.repaired_fetched as i64,
                v.api_calls as i64,
                v.error
            ],
        )?;
        Ok(())
    }

    pub(super) fn last_verify(&mut self) -> Result<Option<VerifyRecord>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT started, finished, outcome, extra, missing, unfilled_fields,
                   repaired_deleted, repaired_fetched, api_calls, error
                 FROM verify_results ORDER BY id DESC LIMIT 1",
                [],
                |r| {
                    Ok(VerifyRecord {
                        started: parse_ts(&r.get::<_, String>(0)?),
                        finished: parse_ts(&r.get::<_, String>(1)?),
                        outcome: r.get(2)?,
                        extra: r.get::<_, i64>(3)?.max(0) as u64,
                        missing: r.get::<_, i64>(4)?.max(0) as u64,
                        unfilled_fields: r.get::<_, i64>(5)?.max(0) as u64,
                        repaired_deleted: r.get::<_, i64>(6)?.max(0) as u64,
                        repaired_fetched: r.get::<_, i64>(7)?.max(0) as u64,
                        api_calls: r.get::<_, i64>(8)?.max(0) as u64,
                        error: r.get(9)?,
                    })
                },
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreField;
    use crate::store::backend::Backend;
    use chrono::TimeZone;

    fn store_with(ids: &[&str]) -> SqliteStore {
        let mut s = SqliteStore::open_in_memory().unwrap();
        s.ensure_object_table("Account", &[StoreField::new("Name", "string")])
            .unwrap();
        let tx = s.conn.transaction().unwrap();
        for id in ids {
            tx.execute("INSERT INTO \"sf_Account\" (\"Id\") VALUES (?1)", [id])
                .unwrap();
        }
        tx.commit().unwrap();
        s
    }

    #[test]
    fn ids_come_in_order_chunk_by_chunk() {
        let s = store_with(&["001C", "001A", "001B", "001D"]);
        assert_eq!(s.ids_after("Account", None, 2).unwrap(), ["001A", "001B"]);
        assert_eq!(
            s.ids_after("Account", Some("001B"), 2).unwrap(),
            ["001C", "001D"]
        );
        assert!(s.ids_after("Account", Some("001D"), 2).unwrap().is_empty());
        assert!(s.ids_after("Contact", None, 2).unwrap().is_empty());
    }

    #[test]
    fn deletions_and_their_checkpoint_commit_together() {
        let mut s = store_with(&["001A", "001B"]);
        assert_eq!(s.delete_log_checked("Account").unwrap(), None);
        let at = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
        let n = s
            .apply_deletions("Account", &["001A".into(), "001X".into()], Some(at))
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(s.delete_log_checked("Account").unwrap(), Some(at));
        assert_eq!(s.row_count("Account").unwrap(), 1);
    }

    #[test]
    fn the_last_verification_is_read_back() {
        let mut s = SqliteStore::open_in_memory().unwrap();
        assert_eq!(s.last_verify().unwrap(), None);
        let at = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
        let mut v = VerifyRecord {
            started: at,
            finished: at,
            outcome: "exact".into(),
            extra: 0,
            missing: 0,
            unfilled_fields: 0,
            repaired_deleted: 0,
            repaired_fetched: 0,
            api_calls: 4,
            error: None,
        };
        s.record_verify(&v).unwrap();
        v.outcome = "differs".into();
        v.extra = 12;
        s.record_verify(&v).unwrap();
        assert_eq!(s.last_verify().unwrap(), Some(v));
    }
}
