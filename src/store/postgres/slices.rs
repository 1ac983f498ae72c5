//! The `slice_cursors` table (migration 2): checkpoints of sliced reads.

use tokio_postgres::GenericClient;
use tokio_postgres::types::ToSql;

use super::PgStore;
use super::load::write_cursor;
use crate::store::types::quote_ident;
use crate::store::{Cursor, SliceCursor, StoreError};

impl PgStore {
    pub(super) fn read_slices(&mut self, object: &str) -> Result<Vec<SliceCursor>, StoreError> {
        let sql = format!(
            "SELECT slice, range_from, range_until, position, done, field_set_hash, from_start
             FROM {}.slice_cursors WHERE object = $1 ORDER BY slice",
            quote_ident(self.schema())
        );
        let err = self.err();
        let rows = self.run(|c| async move { c.query(&sql, &[&object]).await.map_err(&err) })?;
        let err = self.err();
        rows.iter()
            .map(|r| {
                let slice: i64 = r.try_get(0).map_err(&err)?;
                Ok(SliceCursor {
                    slice: u32::try_from(slice).unwrap_or(u32::MAX),
                    from: r.try_get(1).map_err(&err)?,
                    until: r.try_get(2).map_err(&err)?,
                    position: r.try_get(3).map_err(&err)?,
                    done: r.try_get(4).map_err(&err)?,
                    field_set_hash: r.try_get(5).map_err(&err)?,
                    from_start: r.try_get(6).map_err(&err)?,
                })
            })
            .collect()
    }

    /// Replace the object's slices and, when given, store its cursor: one transaction.
    pub(super) fn replace_slices(
        &mut self,
        object: &str,
        slices: &[SliceCursor],
        cursor: Option<&Cursor>,
    ) -> Result<(), StoreError> {
        let schema = self.schema().to_string();
        let err = self.err();
        let fence = self.fence.clone();
        self.run(|client| async move {
            let tx = client.transaction().await.map_err(&err)?;
            tx.execute(
                &format!(
                    "DELETE FROM {}.slice_cursors WHERE object = $1",
                    quote_ident(&schema)
                ),
                &[&object],
            )
            .await
            .map_err(&err)?;
            for slice in slices {
                write_slice(&tx, &schema, object, slice)
                    .await
                    .map_err(&err)?;
            }
            if let Some(cursor) = cursor {
                write_cursor(&tx, &schema, object, cursor)
                    .await
                    .map_err(&err)?;
            }
            if let Some(fence) = &fence {
                super::lease::check_fence(&tx, fence, &err).await?;
            }
            tx.commit().await.map_err(&err)
        })
    }
}

pub(super) async fn write_slice(
    client: &impl GenericClient,
    schema: &str,
    object: &str,
    s: &SliceCursor,
) -> Result<(), tokio_postgres::Error> {
    let slice = i64::from(s.slice);
    client
        .execute(&slice_sql(schema), &slice_params(&object, s, &slice))
        .await?;
    Ok(())
}

/// Insert or replace one slice's position (`$1` object, `$2` slice number, then the rest
/// of [`slice_params`]).
pub(super) fn slice_sql(schema: &str) -> String {
    format!(
        "INSERT INTO {}.slice_cursors
           (object, slice, range_from, range_until, position, done, field_set_hash, from_start)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (object, slice) DO UPDATE SET range_from = excluded.range_from,
           range_until = excluded.range_until, position = excluded.position,
           done = excluded.done, field_set_hash = excluded.field_set_hash,
           from_start = excluded.from_start",
        quote_ident(schema)
    )
}

pub(super) fn slice_params<'a>(
    object: &'a &'a str,
    s: &'a SliceCursor,
    slice: &'a i64,
) -> [&'a (dyn ToSql + Sync); 8] {
    [
        object,
        slice,
        &s.from,
        &s.until,
        &s.position,
        &s.done,
        &s.field_set_hash,
        &s.from_start,
    ]
}
