//! Checkpoints of a sliced read: an object's SystemModstamp range split into slices read
//! in parallel, each slice committing its position with its pages (see
//! `sync::sliced_read`). The ordinary cursor takes over when every slice is done.

/// One slice of an object's sliced read and how far it is committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliceCursor {
    /// The slice's place in the range, from 0 (oldest).
    pub slice: u32,
    /// Inclusive lower SystemModstamp bound (RFC 3339, UTC, milliseconds).
    pub from: String,
    /// Exclusive upper bound; `None` for the last slice, which is open-ended.
    pub until: Option<String>,
    /// SystemModstamp of the last committed row (never past its query's start minus the
    /// clock skew); `None` while nothing of the slice is committed.
    pub position: Option<String>,
    pub done: bool,
    /// The field set the slices read (`Cursor::field_set_hash`); another one discards them.
    pub field_set_hash: String,
    /// The read began at the object's start (first sync, backfill or full run).
    pub from_start: bool,
}
