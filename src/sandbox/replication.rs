//! Replication resources (SALESFORCE-API.md §3.5): the delete log behind
//! `sobjects/{Object}/deleted/` and the change window behind `sobjects/{Object}/updated/`,
//! plus the test controls that delete past the recycle bin and purge the log.
//!
//! Rules kept from Salesforce: `start` and `end` lose their seconds; `start` must be at
//! least a minute before `end`; `deleted/` reaches back 15 days at most and never before
//! the last purge of the log (`earliestDateAvailable`); `updated/` reaches back 30 days;
//! more than 600 000 ids is `EXCEEDED_ID_LIMIT`. `latestDateCovered` is minute-aligned
//! and never later than `end` nor than the org's clock.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};

use super::datagen::{Change, RowState, mix};
use super::error::ApiError;
use super::ids::write_id;
use super::state::{State, lock};
use super::wire::write_datetime;

/// Most ids either resource returns.
pub const MAX_IDS: usize = 600_000;
const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
/// How far back `deleted/` reaches.
pub const DELETED_REACH_MS: i64 = 15 * DAY_MS;
/// How far back `updated/` reaches.
pub const UPDATED_REACH_MS: i64 = 30 * DAY_MS;

/// Every deletion of each object, oldest first, since the last purge.
#[derive(Debug, Default)]
pub struct DeleteLog {
    /// Per object index: (row, deleted at ms).
    entries: Vec<Vec<(u64, i64)>>,
    /// When the log was last purged (ms); nothing before it is available.
    purged_at: Option<i64>,
}

impl DeleteLog {
    pub fn record(&mut self, obj: usize, row: u64, at_ms: i64) {
        if self.entries.len() <= obj {
            self.entries.resize_with(obj + 1, Vec::new);
        }
        self.entries[obj].push((row, at_ms));
    }

    /// `earliestDateAvailable` at `now_ms`: 15 days back, or the last purge if later.
    pub fn earliest_available(&self, now_ms: i64) -> i64 {
        let reach = floor_minute(now_ms - DELETED_REACH_MS);
        self.purged_at.map_or(reach, |p| p.max(reach))
    }

    fn purge(&mut self, now_ms: i64) {
        self.entries.clear();
        self.purged_at = Some(floor_minute(now_ms));
    }

    fn in_window(&self, obj: usize, start: i64, end: i64) -> impl Iterator<Item = &(u64, i64)> {
        self.entries
            .get(obj)
            .into_iter()
            .flatten()
            .filter(move |(_, at)| *at >= start && *at < end)
    }
}

fn floor_minute(ms: i64) -> i64 {
    ms.div_euclid(MINUTE_MS) * MINUTE_MS
}

/// `start`/`end` as Salesforce accepts them: `2013-05-06T00:00:00+00:00`, `...Z`, or its
/// own `...000+0000`.
fn parse_instant(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|d| d.with_timezone(&Utc).timestamp_millis())
}

fn replication_error(message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "INVALID_REPLICATION_DATE", message)
}

fn id_limit() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "EXCEEDED_ID_LIMIT",
        format!(
            "More than {MAX_IDS} ids fall between start and end; choose start and end dates that are closer together"
        ),
    )
}

/// The checked window: (start, latestDateCovered), both minute-aligned.
fn window(
    start: Option<&str>,
    end: Option<&str>,
    now_ms: i64,
    earliest_ms: i64,
) -> Result<(i64, i64), ApiError> {
    let (Some(start), Some(end)) = (start, end) else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_QUERY",
            "start and end are required, e.g. ?start=2013-05-06T00:00:00%2B00:00&end=2013-05-07T00:00:00%2B00:00",
        ));
    };
    let (Some(start), Some(end)) = (parse_instant(start), parse_instant(end)) else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_QUERY",
            "start and end must be dateTime values such as 2013-05-06T00:00:00+00:00",
        ));
    };
    let (start, end) = (floor_minute(start), floor_minute(end));
    if end - start < MINUTE_MS {
        // Salesforce's own wording (restforce issue #667), names swapped and all.
        return Err(replication_error(
            "startDate must be at least one minute greater than endDate",
        ));
    }
    if start < earliest_ms {
        return Err(replication_error(
            "startDate before org replication enabled date",
        ));
    }
    // Never before `start`, even when the org's clock is behind the caller's.
    Ok((start, end.min(floor_minute(now_ms)).max(start)))
}

impl State {
    /// The org's clock: real time plus whatever a test advanced it by.
    pub fn org_now_ms(&self) -> i64 {
        State::now_ms().saturating_add(
            self.clock_offset_ms
                .load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    pub fn advance_clock(&self, by_ms: i64) {
        self.clock_offset_ms
            .fetch_add(by_ms.max(0), std::sync::atomic::Ordering::Relaxed);
    }

    /// Deletes `n` live rows of `obj` past the recycle bin; they stay in the delete log.
    /// Returns how many were deleted (fewer when fewer are live).
    pub fn hard_delete(&self, obj: usize, n: u64) -> u64 {
        let count = self.data.count(obj);
        let now = self.org_now_ms();
        let mut done = 0;
        let mut log = lock(&self.delete_log);
        // Random rows first; a sequential sweep finishes when live rows get scarce.
        let mut tries = n;
        while done < n && tries > 0 && count > 0 {
            tries -= 1;
            let row = mix(self.data.seed ^ 0x6861_7264 ^ self.next_seq()) % count;
            if let Some(at) = self.data.change_row(obj, row, Change::HardDelete, now) {
                log.record(obj, row, at);
                done += 1;
            }
        }
        let mut row = 0;
        while done < n && row < count {
            if let Some(at) = self.data.change_row(obj, row, Change::HardDelete, now) {
                log.record(obj, row, at);
                done += 1;
            }
            row += 1;
        }
        done
    }

    /// Empties the recycle bin and the delete log: every recycled row vanishes from
    /// queryAll without a trace, and `earliestDateAvailable` moves to now.
    pub fn purge_delete_log(&self) -> u64 {
        let now = self.org_now_ms();
        let mut purged = 0;
        for obj in 0..self.data.schema.objects.len() {
            for row in self.data.recycled_rows(obj) {
                self.data.change_row(obj, row, Change::Purge, now);
                purged += 1;
            }
        }
        lock(&self.delete_log).purge(now);
        purged
    }

    /// `GET sobjects/{Object}/deleted/?start=&end=`.
    pub fn deleted(
        &self,
        obj: usize,
        start: Option<&str>,
        end: Option<&str>,
    ) -> Result<Vec<u8>, ApiError> {
        let now = self.org_now_ms();
        let log = lock(&self.delete_log);
        let earliest = log.earliest_available(now);
        let (start, latest) = window(start, end, now, earliest)?;
        if log.in_window(obj, start, latest).nth(MAX_IDS).is_some() {
            return Err(id_limit());
        }
        let prefix = &self.data.object(obj).key_prefix;
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(b"{\"deletedRecords\":[");
        for (i, (row, at)) in log.in_window(obj, start, latest).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"id\":\"");
            write_id(&mut out, prefix, *row);
            out.extend_from_slice(b"\",\"deletedDate\":");
            write_datetime(&mut out, *at);
            out.push(b'}');
        }
        out.extend_from_slice(b"],\"earliestDateAvailable\":");
        write_datetime(&mut out, earliest);
        out.extend_from_slice(b",\"latestDateCovered\":");
        write_datetime(&mut out, latest);
        out.push(b'}');
        Ok(out)
    }

    /// `GET sobjects/{Object}/updated/?start=&end=`: live rows whose SystemModstamp falls
    /// in the window (created ones included, as in Salesforce).
    pub fn updated(
        &self,
        obj: usize,
        start: Option<&str>,
        end: Option<&str>,
    ) -> Result<Vec<u8>, ApiError> {
        let now = self.org_now_ms();
        let earliest = floor_minute(now - UPDATED_REACH_MS);
        let (start, latest) = window(start, end, now, earliest)?;
        let overlay = self.data.overlay(obj);
        let prefix = &self.data.object(obj).key_prefix;
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(b"{\"ids\":[");
        let mut n = 0usize;
        for row in 0..self.data.count(obj) {
            let st = overlay.get(&row);
            if st.is_some_and(|s| s.deleted.is_some()) || RowState::is_purged(st) {
                continue;
            }
            let stamp = self.data.modstamp_ms(obj, row, st);
            if stamp < start || stamp >= latest {
                continue;
            }
            n += 1;
            if n > MAX_IDS {
                return Err(id_limit());
            }
            if n > 1 {
                out.push(b',');
            }
            out.push(b'"');
            write_id(&mut out, prefix, row);
            out.push(b'"');
        }
        out.extend_from_slice(b"],\"latestDateCovered\":");
        write_datetime(&mut out, latest);
        out.push(b'}');
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_780_000_000_000;

    #[test]
    fn seconds_are_ignored_and_the_window_needs_a_minute() {
        let (s, l) = window(
            Some("2026-05-28T20:26:40+00:00"),
            Some("2026-05-28T20:30:59Z"),
            T0 + DAY_MS,
            0,
        )
        .unwrap();
        assert_eq!(s % MINUTE_MS, 0);
        assert_eq!(l - s, 4 * MINUTE_MS);
        let e = window(
            Some("2026-05-28T20:26:00+00:00"),
            Some("2026-05-28T20:26:59+00:00"),
            T0 + DAY_MS,
            0,
        )
        .unwrap_err();
        assert_eq!(e.code, "INVALID_REPLICATION_DATE");
    }

    #[test]
    fn latest_date_covered_never_passes_now_and_start_never_precedes_the_log() {
        let now = T0 + 90_500;
        let (_, latest) = window(
            Some("2026-05-28T00:00:00Z"),
            Some("2030-01-01T00:00:00Z"),
            now,
            0,
        )
        .unwrap();
        assert_eq!(latest, floor_minute(now));
        let mut log = DeleteLog::default();
        assert_eq!(
            log.earliest_available(now),
            floor_minute(now - DELETED_REACH_MS)
        );
        log.purge(now);
        assert_eq!(log.earliest_available(now), floor_minute(now));
        let e = window(
            Some("2026-05-28T00:00:00Z"),
            Some("2030-01-01T00:00:00Z"),
            now,
            floor_minute(now),
        )
        .unwrap_err();
        assert_eq!(e.code, "INVALID_REPLICATION_DATE");
        assert!(window(None, Some("2030-01-01T00:00:00Z"), now, 0).is_err());
    }
}
