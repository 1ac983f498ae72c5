//! The `slice_cursors` table (migration 4): checkpoints of sliced reads.

use rusqlite::{Connection, params};

use super::StoreError;
use crate::store::SliceCursor;

pub(super) fn read(conn: &Connection, object: &str) -> Result<Vec<SliceCursor>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT slice, range_from, range_until, position, done, field_set_hash, from_start
         FROM slice_cursors WHERE object = ?1 ORDER BY slice",
    )?;
    let rows = stmt.query_map([object], |r| {
        Ok(SliceCursor {
            slice: r.get(0)?,
            from: r.get(1)?,
            until: r.get(2)?,
            position: r.get(3)?,
            done: r.get(4)?,
            field_set_hash: r.get(5)?,
            from_start: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub(super) fn replace(
    conn: &Connection,
    object: &str,
    slices: &[SliceCursor],
) -> Result<(), StoreError> {
    conn.execute("DELETE FROM slice_cursors WHERE object = ?1", [object])?;
    for slice in slices {
        write(conn, object, slice)?;
    }
    Ok(())
}

pub(super) fn write(conn: &Connection, object: &str, s: &SliceCursor) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO slice_cursors
           (object, slice, range_from, range_until, position, done, field_set_hash, from_start)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (object, slice) DO UPDATE SET range_from = excluded.range_from,
           range_until = excluded.range_until, position = excluded.position,
           done = excluded.done, field_set_hash = excluded.field_set_hash,
           from_start = excluded.from_start",
        params![
            object,
            s.slice,
            s.from,
            s.until,
            s.position,
            s.done,
            s.field_set_hash,
            s.from_start
        ],
    )?;
    Ok(())
}
