//! What a selection costs: records per object, API calls for the backfill of added fields
//! and for each incremental run, and the backfill time at a measured throughput.
//!
//! Every query count comes from `salesforce::read_plan`, the module the run builds its queries
//! with: the same query text, field groups and pages.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Selection, SelectionDiff, is_locked};
use crate::fields::selection::find_object;
use crate::model::{ObjectSchema, OrgSchema};
pub use crate::salesforce::read_plan::ReadVia;
use crate::salesforce::read_plan::{
    ReadPlan, TYPICAL_QUERY_URL_PREFIX, backfill_via, bulk_calls, grouped_calls, read_select,
};

/// Records per second assumed until a run of the source measured its own: one page of
/// 2 000 records a second, the pace of a typical org.
pub const NOMINAL_RECORDS_PER_SECOND: f64 = 2_000.0;

/// Records per query page, as the run asks for them.
pub const RECORDS_PER_PAGE: u64 = crate::salesforce::read_plan::BATCH_SIZE as u64;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectCost {
    pub object: String,
    /// From `limits/recordCount` or COUNT(); None when not fetched yet.
    pub records: Option<u64>,
    /// Queries per page of records (1 unless the field list is too long for one URL).
    pub field_groups: u64,
    /// The query the backfill sends (its driver part when split into field groups).
    pub query: String,
    /// Fields were added, so the object is read in full once.
    pub backfill: bool,
    /// API calls for that backfill read alone; None when the record count is unknown.
    pub backfill_calls: Option<u64>,
    /// How that backfill reads the object (Bulk API above the default `bulk_threshold`).
    pub backfill_via: ReadVia,
    /// Calls per incremental run when few records changed, read alone (grouped with
    /// other objects, five first pages share a call: see the totals).
    pub incremental_calls: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostEstimate {
    pub objects: Vec<ObjectCost>,
    /// Calls for the backfill over the objects whose record count is known, their pages
    /// grouped five to a composite call as the run groups them.
    pub backfill_calls: u64,
    pub backfill_records: u64,
    /// Objects to backfill whose record count is unknown (their cost is not in the totals).
    pub unknown_counts: Vec<String>,
    /// Calls of an incremental run with few changes, first pages grouped.
    pub incremental_calls: u64,
    /// Backfill time at `records_per_second`.
    pub backfill_time: Duration,
    /// The source's measured throughput, or `NOMINAL_RECORDS_PER_SECOND` without one.
    pub records_per_second: f64,
    /// False when no run of this source measured its throughput yet: the time is an estimate.
    pub measured: bool,
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
            let described = find_object(schema, object);
            let records = described.and_then(|o| o.record_count);
            let full_read = read_plan(object, fields, described, None);
            let incremental = read_plan(object, fields, described, Some(DateTime::UNIX_EPOCH));
            let backfill = diff.object(object).is_some_and(|d| !d.added.is_empty());
            // Bulk needs SystemModstamp (the REST read by Id has none) and cannot read
            // base64 fields; Review prices the default threshold.
            let bulk_possible = described.is_some_and(|o| {
                o.fields.iter().any(|f| f.name == "SystemModstamp")
                    && !o.fields.iter().any(|f| {
                        f.field_type.eq_ignore_ascii_case("base64") && fields.contains(&f.name)
                    })
            });
            let via = backfill_via(
                records.unwrap_or(0),
                crate::config::defaults::BULK_THRESHOLD,
                bulk_possible,
            );
            let backfill_calls = records.filter(|_| backfill).map(|r| match via {
                ReadVia::Bulk => bulk_calls(r),
                ReadVia::Rest => full_read.calls(r),
            });
            ObjectCost {
                object: object.to_string(),
                records,
                field_groups: full_read.field_groups,
                query: full_read.query,
                backfill,
                backfill_calls,
                backfill_via: via,
                incremental_calls: incremental.calls(0),
            }
        })
        .collect();
    let to_backfill = || objects.iter().filter(|o| o.backfill);
    let backfill_records: u64 = to_backfill().filter_map(|o| o.records).sum();
    let measured = throughput.filter(|t| t.is_finite() && *t > 0.0);
    let records_per_second = measured.unwrap_or(NOMINAL_RECORDS_PER_SECOND);
    let backfill_time = Duration::from_secs_f64(backfill_records as f64 / records_per_second);
    let backfill_pages: Vec<(u64, u64)> = to_backfill()
        .filter(|o| o.backfill_via == ReadVia::Rest)
        .filter_map(|o| {
            let calls = o.backfill_calls?;
            Some((calls / o.field_groups.max(1), o.field_groups))
        })
        .collect();
    // A Bulk read shares no composite call: its calls add up as they are.
    let bulk: u64 = to_backfill()
        .filter(|o| o.backfill_via == ReadVia::Bulk)
        .filter_map(|o| o.backfill_calls)
        .fold(0, u64::saturating_add);
    let every_object: Vec<(u64, u64)> = objects.iter().map(|o| (1, o.field_groups)).collect();
    CostEstimate {
        backfill_calls: run_calls(&backfill_pages).saturating_add(bulk),
        backfill_records,
        unknown_counts: to_backfill()
            .filter(|o| o.records.is_none())
            .map(|o| o.object.clone())
            .collect(),
        incremental_calls: run_calls(&every_object),
        backfill_time,
        records_per_second,
        measured: measured.is_some(),
        objects,
    }
}

/// Calls of a run reading objects of `(pages, field_groups)`: a query that fits one URL
/// has its pages grouped with the others' (`read_plan::grouped_calls`); a split one is
/// read alone, one call per page and field group.
fn run_calls(reads: &[(u64, u64)]) -> u64 {
    let grouped: Vec<u64> = reads
        .iter()
        .filter(|(_, groups)| *groups <= 1)
        .map(|(pages, _)| *pages)
        .collect();
    reads
        .iter()
        .filter(|(_, groups)| *groups > 1)
        .map(|(pages, groups)| pages.saturating_mul(*groups))
        .fold(grouped_calls(&grouped), u64::saturating_add)
}

/// The read the run would send for `fields` of `object`: without SystemModstamp in a
/// loaded describe it is a full read by Id. A selection whose query cannot be built at
/// all (a name too long for any URL) is priced as one query; the run reports that error.
fn read_plan(
    object: &str,
    fields: &std::collections::BTreeSet<String>,
    described: Option<&ObjectSchema>,
    since: Option<DateTime<Utc>>,
) -> ReadPlan {
    let has_modstamp = described
        .is_none_or(|o| o.fields.is_empty() || o.fields.iter().any(|f| f.name == "SystemModstamp"));
    let selected: Vec<&str> = fields
        .iter()
        .map(String::as_str)
        .filter(|f| !is_locked(f))
        .collect();
    let select = read_select(object, &selected, has_modstamp, since);
    ReadPlan::of(&select, TYPICAL_QUERY_URL_PREFIX.len()).unwrap_or_else(|_| ReadPlan {
        query: String::new(),
        field_groups: 1,
    })
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
        // Both objects' first pages share one composite call.
        assert_eq!(est.incremental_calls, 1);
        assert_eq!(est.backfill_time, Duration::from_millis(4_500));
        assert!(est.measured);
    }

    #[test]
    fn large_backfills_are_priced_as_bulk_reads() {
        let mut s = schema();
        let account = s.objects.iter_mut().find(|o| o.name == "Account").unwrap();
        account.record_count = Some(1_000_000);
        let after = sel(&[("Account", "Name")]);
        let est = estimate_cost(&s, &Selection::new(), &after, None);
        let account = &est.objects[0];
        assert_eq!(account.backfill_via, ReadVia::Bulk);
        assert_eq!(account.backfill_calls, Some(bulk_calls(1_000_000)));
        assert_eq!(est.backfill_calls, bulk_calls(1_000_000));
        assert!(est.backfill_calls < 25, "REST pages would be 500");
    }

    #[test]
    fn unknown_record_counts_are_reported_not_guessed() {
        let after = sel(&[("Opportunity", "Amount")]);
        let est = estimate_cost(&schema(), &Selection::new(), &after, None);
        assert_eq!(est.unknown_counts, ["Opportunity"]);
        assert_eq!(est.backfill_calls, 0);
        assert!(!est.measured, "no run measured it: the time is an estimate");
        assert_eq!(est.records_per_second, NOMINAL_RECORDS_PER_SECOND);
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
    fn wide_field_lists_cost_one_call_per_field_group_and_page() {
        let mut after = Selection::new();
        for i in 0..1_000 {
            after.insert("Account", &format!("F{i:0>36}__c"));
        }
        let mut s = schema();
        s.objects[0].fields.clear();
        s.objects[0].record_count = Some(4_001);
        let est = estimate_cost(&s, &Selection::new(), &after, None);
        let account = &est.objects[0];
        let fields: Vec<String> = (0..1_000).map(|i| format!("F{i:0>36}__c")).collect();
        let sent = read_select("Account", &fields, true, None)
            .plan(
                TYPICAL_QUERY_URL_PREFIX.len(),
                crate::salesforce::soql::MAX_URL_BYTES,
            )
            .unwrap();
        assert_eq!(account.field_groups, 1 + sent.lookups.len() as u64);
        assert!(account.field_groups > 1);
        assert_eq!(account.backfill_calls, Some(3 * account.field_groups));
        assert_eq!(account.query, sent.driver.build().unwrap().as_str());
    }
}
