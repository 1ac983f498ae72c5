//! What a selection costs: records per object, API calls for the backfill of added fields
//! and for each incremental run, and the backfill time at a measured throughput.

use std::time::Duration;

use serde::Serialize;

use super::{Selection, SelectionDiff};
use crate::fields::selection::find_object;
use crate::sync::schema::OrgSchema;

/// Records per REST query page (Salesforce's default and maximum batch size).
pub const RECORDS_PER_PAGE: u64 = 2_000;

/// Longest query URL we send. Past it the field list is split into groups that are queried
/// separately and joined on Id, so wide objects cost one call per group and page.
pub const MAX_QUERY_URL_BYTES: usize = 16_000;

/// The fixed parts of an incremental query, sized like the real one the engine sends.
const QUERY_PATH: &str = "/services/data/v62.0/queryAll/?q=";
const QUERY_HEAD: &str = "SELECT Id, SystemModstamp";
const QUERY_TAIL: &str =
    " WHERE SystemModstamp >= 2000-01-01T00:00:00.000+0000 ORDER BY SystemModstamp, Id";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectCost {
    pub object: String,
    /// From `limits/recordCount` or COUNT(); None when not fetched yet.
    pub records: Option<u64>,
    /// Queries per page of records (1 unless the field list is too long for one URL).
    pub field_groups: u64,
    /// Fields were added, so the object is read in full once.
    pub backfill: bool,
    /// API calls for that backfill; None when the record count is unknown.
    pub backfill_calls: Option<u64>,
    /// Calls per incremental run when few records changed (at least one per object).
    pub incremental_calls: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostEstimate {
    pub objects: Vec<ObjectCost>,
    /// Calls for the backfill over the objects whose record count is known.
    pub backfill_calls: u64,
    pub backfill_records: u64,
    /// Objects to backfill whose record count is unknown (their cost is not in the totals).
    pub unknown_counts: Vec<String>,
    pub incremental_calls: u64,
    /// Backfill time at the measured throughput; None without a measurement.
    pub backfill_time: Option<Duration>,
}

/// Estimate the cost of syncing `after`, given that `before` is already synced.
/// `throughput` is the measured records per second of this source, if any.
pub fn estimate_cost(
    schema: &OrgSchema,
    before: &Selection,
    after: &Selection,
    throughput: Option<f64>,
) -> CostEstimate {
    let diff = SelectionDiff::between(before, after);
    let objects: Vec<ObjectCost> = after
        .iter()
        .map(|(object, fields)| {
            let records = find_object(schema, object).and_then(|o| o.record_count);
            let field_groups = field_groups(object, fields.iter().map(String::as_str));
            let backfill = diff.object(object).is_some_and(|d| !d.added.is_empty());
            let backfill_calls = records
                .filter(|_| backfill)
                .map(|r| r.div_ceil(RECORDS_PER_PAGE).max(1) * field_groups);
            ObjectCost {
                object: object.to_string(),
                records,
                field_groups,
                backfill,
                backfill_calls,
                incremental_calls: field_groups,
            }
        })
        .collect();
    let to_backfill = || objects.iter().filter(|o| o.backfill);
    let backfill_records: u64 = to_backfill().filter_map(|o| o.records).sum();
    let backfill_time = throughput
        .filter(|t| t.is_finite() && *t > 0.0)
        .map(|t| Duration::from_secs_f64(backfill_records as f64 / t));
    CostEstimate {
        backfill_calls: to_backfill().filter_map(|o| o.backfill_calls).sum(),
        backfill_records,
        unknown_counts: to_backfill()
            .filter(|o| o.records.is_none())
            .map(|o| o.object.clone())
            .collect(),
        incremental_calls: objects.iter().map(|o| o.incremental_calls).sum(),
        backfill_time,
        objects,
    }
}

/// How many queries one page of this object needs so no query URL exceeds the limit.
fn field_groups<'a>(object: &str, fields: impl Iterator<Item = &'a str>) -> u64 {
    let fixed = QUERY_PATH.len()
        + encoded_len(QUERY_HEAD)
        + encoded_len(" FROM ")
        + encoded_len(object)
        + encoded_len(QUERY_TAIL);
    let budget = MAX_QUERY_URL_BYTES.saturating_sub(fixed);
    let separator = encoded_len(", ");
    let mut groups = 1;
    let mut used = 0;
    for field in fields.filter(|f| !matches!(*f, "Id" | "SystemModstamp")) {
        let cost = separator + encoded_len(field);
        if used > 0 && used + cost > budget {
            groups += 1;
            used = 0;
        }
        used += cost;
    }
    groups
}

/// Length once form-urlencoded: unreserved bytes stay, space becomes '+', others %XX.
fn encoded_len(s: &str) -> usize {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' | b' ' => 1,
            _ => 3,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::test_schema::{schema, selection};

    fn sel(pairs: &[(&str, &str)]) -> Selection {
        selection(pairs).normalized(&schema())
    }

    #[test]
    fn backfill_pages_of_two_thousand_records_for_objects_with_added_fields() {
        let before = sel(&[("Contact", "Email")]);
        let after = sel(&[("Contact", "Email"), ("Account", "Name")]);
        let est = estimate_cost(&schema(), &before, &after, Some(1_000.0));
        let account = est.objects.iter().find(|o| o.object == "Account").unwrap();
        assert_eq!(account.records, Some(4_500));
        assert!(account.backfill);
        assert_eq!(account.backfill_calls, Some(3));
        let contact = est.objects.iter().find(|o| o.object == "Contact").unwrap();
        assert!(!contact.backfill);
        assert_eq!(contact.backfill_calls, None);
        assert_eq!(est.backfill_calls, 3);
        assert_eq!(est.backfill_records, 4_500);
        assert_eq!(est.incremental_calls, 2);
        assert_eq!(est.backfill_time, Some(Duration::from_millis(4_500)));
    }

    #[test]
    fn unknown_record_counts_are_reported_not_guessed() {
        let after = sel(&[("Opportunity", "Amount")]);
        let est = estimate_cost(&schema(), &Selection::new(), &after, None);
        assert_eq!(est.unknown_counts, ["Opportunity"]);
        assert_eq!(est.backfill_calls, 0);
        assert_eq!(est.backfill_time, None);
        assert_eq!(est.incremental_calls, 1);
    }

    #[test]
    fn an_empty_object_still_costs_one_call() {
        let mut s = schema();
        s.objects[0].record_count = Some(0);
        let name = s.objects[0].name.clone();
        let after = sel(&[(&name, "Name")]);
        let est = estimate_cost(&s, &Selection::new(), &after, None);
        assert_eq!(est.objects[0].backfill_calls, Some(1));
    }

    #[test]
    fn wide_field_lists_split_into_groups_under_the_url_limit() {
        let short: Vec<String> = (0..10).map(|i| format!("Field{i}__c")).collect();
        assert_eq!(field_groups("Account", short.iter().map(String::as_str)), 1);
        // 40-character names cost 43 bytes each with the separator: ~370 fit in one URL.
        let long: Vec<String> = (0..1_000).map(|i| format!("{i:0>37}__c")).collect();
        let groups = field_groups("Account", long.iter().map(String::as_str));
        assert_eq!(groups, 3);
        assert_eq!(encoded_len("a, b>="), 1 + 3 + 1 + 1 + 3 + 3);
    }
}
