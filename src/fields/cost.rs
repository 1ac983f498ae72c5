//! What a selection costs: records per object, API calls for the backfill of added fields
//! and for each incremental run, and the backfill time at a measured throughput.
//!
//! Every query count comes from `salesforce::read_plan`, the module the run builds its queries
//! with: the same query text, field groups and pages, the same route (REST or Bulk, at the
//! source's own `bulk_threshold`) and the same slicing of a large REST read (under the
//! source's own `query_cursors`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Selection, SelectionDiff, is_locked};
use crate::fields::selection::find_object;
use crate::model::{ObjectSchema, OrgSchema};
use crate::salesforce::read_plan::{
    RECORD_COUNT_CALLS, ReadPlan, RestRead, TYPICAL_QUERY_URL_PREFIX, backfill_via, bulk_job_calls,
    bulk_supports, grouped_calls, read_select,
};
pub use crate::salesforce::read_plan::{ReadSettings, ReadVia};

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
    /// How that backfill reads the object (Bulk API above the source's `bulk_threshold`).
    pub backfill_via: ReadVia,
    /// Parallel slices a REST backfill's rest is read in (0: not sliced).
    pub backfill_slices: usize,
    /// Bulk can read this selection: the object is a candidate for the run's record count.
    #[serde(skip)]
    bulk_candidate: bool,
    /// Pages of a REST backfill read through the grouped line, and its calls outside it.
    #[serde(skip)]
    rest_read: Option<RestRead>,
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
    /// Of `backfill_calls`, the `limits/recordCount` call that chooses REST or Bulk (it
    /// belongs to no object, so no object's line shows it).
    pub route_calls: u64,
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
/// `throughput` is the measured records per second of this source, if any; `settings` are
/// the source's own (`ReadSettings::of`), as the run reads them.
pub fn estimate_cost(
    schema: &OrgSchema,
    before: &Selection,
    after: &Selection,
    throughput: Option<f64>,
    settings: ReadSettings,
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
            // The run's own verdict (SystemModstamp, base64, compounds by their components).
            let bulk_possible =
                described.is_some_and(|o| bulk_supports(o, fields.iter().map(String::as_str)));
            let via = backfill_via(records.unwrap_or(0), settings.bulk_threshold, bulk_possible);
            // Only a read by SystemModstamp is sliced; a read by Id goes page by page, as
            // under a single cursor.
            let cursors = if has_modstamp(described) {
                settings.cursors()
            } else {
                1
            };
            let rest_read = records
                .filter(|_| backfill)
                .map(|r| RestRead::of(r, cursors));
            let backfill_calls = records.filter(|_| backfill).map(|r| match via {
                ReadVia::Bulk => bulk_job_calls(r),
                ReadVia::Rest => rest_read.map_or(0, |read| read.calls(full_read.field_groups)),
            });
            let rest_read = rest_read.filter(|_| via == ReadVia::Rest);
            ObjectCost {
                object: object.to_string(),
                records,
                field_groups: full_read.field_groups,
                query: full_read.query,
                backfill,
                backfill_calls,
                backfill_via: via,
                backfill_slices: rest_read.map_or(0, |r| r.slices),
                bulk_candidate: backfill && bulk_possible,
                rest_read,
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
        .filter_map(|o| Some((o.rest_read?.line_pages, o.field_groups)))
        .collect();
    // Slices and Bulk jobs share no composite call: their calls add up as they are.
    let sliced: u64 = to_backfill()
        .filter_map(|o| Some(o.rest_read?.sliced_calls(o.field_groups)))
        .fold(0, u64::saturating_add);
    let bulk: u64 = to_backfill()
        .filter(|o| o.backfill_via == ReadVia::Bulk)
        .filter_map(|o| o.backfill_calls)
        .fold(0, u64::saturating_add);
    // One `limits/recordCount` call decides the routes of every object read from the start.
    let record_count = if settings.bulk_threshold > 0 && to_backfill().any(|o| o.bulk_candidate) {
        RECORD_COUNT_CALLS
    } else {
        0
    };
    let every_object: Vec<(u64, u64)> = objects.iter().map(|o| (1, o.field_groups)).collect();
    CostEstimate {
        backfill_calls: run_calls(&backfill_pages)
            .saturating_add(sliced)
            .saturating_add(bulk)
            .saturating_add(record_count),
        route_calls: record_count,
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

/// Whether the run reads the object by SystemModstamp: unknown until its fields are loaded,
/// and then assumed, as most objects have it.
fn has_modstamp(described: Option<&ObjectSchema>) -> bool {
    described
        .is_none_or(|o| o.fields.is_empty() || o.fields.iter().any(|f| f.name == "SystemModstamp"))
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
    let selected: Vec<&str> = fields
        .iter()
        .map(String::as_str)
        .filter(|f| !is_locked(f))
        .collect();
    let select = read_select(object, &selected, has_modstamp(described), since);
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

    /// Bulk off and sequential reads: what pages cost, nothing else.
    const PAGES_ONLY: ReadSettings = ReadSettings {
        bulk_threshold: 0,
        query_cursors: 1,
    };

    #[test]
    fn backfill_pages_of_two_thousand_records_for_objects_with_added_fields() {
        let before = sel(&[("Contact", "Email")]);
        let after = sel(&[("Contact", "Email"), ("Account", "Name")]);
        let est = estimate_cost(&schema(), &before, &after, Some(1_000.0), PAGES_ONLY);
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
        let est = estimate_cost(&s, &Selection::new(), &after, None, ReadSettings::default());
        let account = &est.objects[0];
        assert_eq!(account.backfill_via, ReadVia::Bulk);
        assert_eq!(account.backfill_calls, Some(bulk_job_calls(1_000_000)));
        assert_eq!(
            est.backfill_calls,
            RECORD_COUNT_CALLS + bulk_job_calls(1_000_000)
        );
        assert!(est.backfill_calls < 25, "REST pages would be 500");
    }

    #[test]
    fn the_sources_own_threshold_and_cursors_price_the_backfill() {
        let mut s = schema();
        let account = s.objects.iter_mut().find(|o| o.name == "Account").unwrap();
        account.record_count = Some(40_000);
        let after = sel(&[("Account", "Name")]);
        let settings = |bulk_threshold, query_cursors| ReadSettings {
            bulk_threshold,
            query_cursors,
        };
        // Under the default threshold: sliced REST, its first page, the counts and the
        // slices' pages, plus the record count that chose REST.
        let sliced = estimate_cost(&s, &Selection::new(), &after, None, settings(200_000, 8));
        assert_eq!(sliced.objects[0].backfill_via, ReadVia::Rest);
        assert_eq!(
            sliced.objects[0].backfill_slices, 8,
            "the first query is one of them"
        );
        assert_eq!(sliced.objects[0].backfill_calls, Some(1 + 4 + 21));
        assert_eq!(sliced.backfill_calls, RECORD_COUNT_CALLS + 1 + 4 + 21);
        assert_eq!(sliced.route_calls, RECORD_COUNT_CALLS);
        // Bulk off and one cursor: 20 pages, no record count.
        let plain = estimate_cost(&s, &Selection::new(), &after, None, settings(0, 1));
        assert_eq!(plain.objects[0].backfill_slices, 0);
        assert_eq!(plain.backfill_calls, 20);
        assert_eq!(plain.route_calls, 0);
        // A low threshold of this source sends it through Bulk.
        let bulk = estimate_cost(&s, &Selection::new(), &after, None, settings(1_000, 8));
        assert_eq!(bulk.objects[0].backfill_via, ReadVia::Bulk);
        assert_eq!(
            bulk.backfill_calls,
            RECORD_COUNT_CALLS + bulk_job_calls(40_000)
        );
    }

    #[test]
    fn a_sliced_object_leaves_the_line_after_its_first_page() {
        let mut s = schema();
        for o in s.objects.iter_mut() {
            o.record_count = Some(if o.name == "Account" { 40_000 } else { 4_500 });
        }
        let after = sel(&[("Account", "Name"), ("Contact", "Email")]);
        let est = estimate_cost(
            &s,
            &Selection::new(),
            &after,
            None,
            ReadSettings {
                bulk_threshold: 0,
                query_cursors: 8,
            },
        );
        // First pages of both share a call, Contact's two other pages follow; then the
        // slicing: four count calls and 21 slice pages.
        assert_eq!(est.backfill_calls, grouped_calls(&[1, 3]) + 4 + 21);
    }

    #[test]
    fn unknown_record_counts_are_reported_not_guessed() {
        let after = sel(&[("Opportunity", "Amount")]);
        let est = estimate_cost(&schema(), &Selection::new(), &after, None, PAGES_ONLY);
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
        let est = estimate_cost(&s, &Selection::new(), &after, None, PAGES_ONLY);
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
        let est = estimate_cost(&s, &Selection::new(), &after, None, PAGES_ONLY);
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
