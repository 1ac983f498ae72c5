//! Review's number is the run's: for a small object, a large one read in parallel REST
//! slices and one read through Bulk, the backfill `fields::estimate_cost` prices (with the
//! source's own settings, the schema and record counts as `syncdeck fields` loads them) is
//! what the sandbox counts for the first sync of the same selection, run by the real
//! engine. Exact for REST and slices; Bulk job polls are the one estimate (see
//! `bulk_object_costs_what_review_says_but_its_polls`).

mod common;

use common::*;
use syncdeck::config::SourceConfig;
use syncdeck::fields::{CostEstimate, ReadSettings, ReadVia, Selection, estimate_cost};
use syncdeck::model::{RunKind, RunOutcome};
use syncdeck::salesforce::read_plan::BULK_POLLS_ESTIMATE;
use syncdeck::sandbox::{BulkModel, SandboxConfig};
use syncdeck::sync::{
    LocalSource, ObjectOutcome, RunObserver, RunReport, RunSpec, StopSignal, SystemClock,
};

const SMALL: u64 = 4_500;
/// Enough rows after the first page to be sliced under the default cursor bound.
const LARGE: u64 = 40_000;

struct Quiet;

impl RunObserver for Quiet {
    fn started(&self, _: RunKind, _: &[String]) {}
    fn object_progress(&self, _: &str, _: u64, _: Option<u64>) {}
    fn object_finished(&self, _: &str, _: &ObjectOutcome) {}
    fn backfill(&self, _: &str, _: &[String]) {}
    fn warning(&self, message: String) {
        panic!("unexpected warning: {message}");
    }
}

/// What Review shows for `source`'s saved selection on a source never synced, the
/// schema and record counts loaded as `syncdeck fields` loads them.
async fn review(local: &LocalSource, source: &SourceConfig) -> CostEstimate {
    let mut schema = local.schema(|_| Vec::new()).await.unwrap();
    local.record_counts(&mut schema).await.unwrap();
    let selection = Selection::from_config(&source.objects).normalized(&schema);
    estimate_cost(
        &schema,
        &Selection::new(),
        &selection,
        None,
        ReadSettings::of(source),
    )
}

/// The first sync of `source` after Review priced it: the estimate, the run's report and
/// the calls the sandbox counted during the run (`METHOD path`).
async fn review_then_sync(
    org: &Org,
    source: &SourceConfig,
) -> (CostEstimate, RunReport, Vec<String>) {
    org.connect(source).await;
    let local = LocalSource::open(&org.paths, source, SystemClock::shared())
        .await
        .unwrap();
    let estimate = review(&local, source).await;
    let before = org.sandbox.calls().len();
    let report = patiently(
        "the first sync",
        local.run(&RunSpec::default(), &StopSignal::new(), &Quiet),
    )
    .await;
    assert!(report.error.is_none(), "{:?}", report.error);
    assert_eq!(report.summary.outcome, RunOutcome::Succeeded);
    assert_eq!(report.summary.kind, RunKind::Initial);
    let counted: Vec<String> = org.sandbox.calls()[before..]
        .iter()
        .filter(|c| c.counted)
        .map(|c| format!("{} {}", c.method, c.path))
        .collect();
    // The run's own count, shown in its history, is the sandbox's.
    assert_eq!(
        report.summary.api_calls,
        counted.len() as u64,
        "{counted:?}"
    );
    eprintln!(
        "{}: Review {} calls, the run {}: {counted:?}",
        source.id,
        estimate.backfill_calls,
        counted.len()
    );
    (estimate, report, counted)
}

fn with(mut source: SourceConfig, settings: ReadSettings) -> SourceConfig {
    source.bulk_threshold = settings.bulk_threshold;
    source.query_cursors = settings.query_cursors;
    source
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_object_costs_what_review_says() {
    let org = org(sandbox_config(&[("Account", SMALL)])).await;
    // The defaults: Bulk on, so the run asks for record counts, which Review counts too.
    let source = with(
        manual(org.source("small", &[("Account", ACCOUNT_FIELDS)])),
        ReadSettings::default(),
    );
    let (estimate, report, counted) = review_then_sync(&org, &source).await;
    assert_eq!(report.summary.upserted, SMALL);
    let account = &estimate.objects[0];
    assert_eq!(
        (account.backfill_via, account.backfill_slices),
        (ReadVia::Rest, 0)
    );
    assert!(
        counted.iter().any(|c| c.ends_with("/limits/recordCount")),
        "{counted:?}"
    );
    assert_eq!(estimate.backfill_calls, 1 + 3, "record count, three pages");
    assert_eq!(estimate.backfill_calls, counted.len() as u64, "{counted:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sliced_object_costs_what_review_says() {
    sliced_costs_what_review_says(LARGE).await;
}

/// The sync_slices bench's size: the slices' bounds must land within the margin Review
/// prices every slice's pages with (counting buckets up to now instead of up to the
/// newest row put every row in three buckets and cost four pages more).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sliced_object_of_100_000_records_costs_what_review_says() {
    sliced_costs_what_review_says(100_000).await;
}

/// A large object read in composite calls with a small one: its first page shares a call,
/// then it is sliced like an object read alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sliced_object_read_in_composite_calls_costs_what_review_says() {
    let org = org(sandbox_config(&[("Account", 100_000), ("Contact", SMALL)])).await;
    let source = with(
        manual(org.source(
            "grouped",
            &[("Account", ACCOUNT_FIELDS), ("Contact", CONTACT_FIELDS)],
        )),
        ReadSettings {
            bulk_threshold: 0,
            ..ReadSettings::default()
        },
    );
    let (estimate, report, counted) = review_then_sync(&org, &source).await;
    assert_eq!(report.summary.upserted, 100_000 + SMALL);
    assert!(
        estimate.objects.iter().any(|o| o.backfill_slices >= 2),
        "{estimate:?}"
    );
    assert_eq!(estimate.backfill_calls, counted.len() as u64, "{counted:?}");
}

async fn sliced_costs_what_review_says(records: u64) {
    let org = org(sandbox_config(&[("Account", records)])).await;
    let source = with(
        manual(org.source("sliced", &[("Account", ACCOUNT_FIELDS)])),
        ReadSettings {
            bulk_threshold: 0,
            ..ReadSettings::default()
        },
    );
    let (estimate, report, counted) = review_then_sync(&org, &source).await;
    assert_eq!(report.summary.upserted, records);
    let account = &estimate.objects[0];
    assert_eq!(account.backfill_via, ReadVia::Rest);
    assert!(account.backfill_slices >= 2, "{account:?}");
    let peak = org.sandbox.counters().open_query_cursors_peak;
    assert!(
        (3..=u64::from(source.query_cursors)).contains(&peak),
        "the run did slice, within the bound: {peak}"
    );
    // REST pages alone would be fewer: slicing costs its counts and part pages.
    assert!(estimate.backfill_calls > records / 2_000, "{estimate:?}");
    assert_eq!(estimate.backfill_calls, counted.len() as u64, "{counted:?}");
}

/// A job done the moment it exists: its first poll sees it complete, so the poll count is
/// deterministic (one) and the rest of the Bulk read is compared exactly.
fn instant_bulk(records: &[(&str, u64)]) -> SandboxConfig {
    SandboxConfig {
        bulk: BulkModel {
            queue_delay: std::time::Duration::ZERO,
            rows_per_sec: u64::MAX,
        },
        ..sandbox_config(records)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_object_costs_what_review_says_but_its_polls() {
    let org = org(instant_bulk(&[("Account", LARGE)])).await;
    let source = with(
        manual(org.source("bulk", &[("Account", ACCOUNT_FIELDS)])),
        ReadSettings {
            bulk_threshold: 1_000,
            ..ReadSettings::default()
        },
    );
    let (estimate, report, counted) = review_then_sync(&org, &source).await;
    assert_eq!(report.summary.upserted, LARGE);
    assert_eq!(estimate.objects[0].backfill_via, ReadVia::Bulk);
    assert_eq!(org.sandbox.counters().bulk_jobs, 1);
    // Job-info polls: GET …/jobs/query/<id> (its results end in /results).
    let polls = counted
        .iter()
        .filter(|c| c.starts_with("GET ") && c.contains("/jobs/query/") && !c.ends_with("/results"))
        .count() as u64;
    assert_eq!(
        polls, 1,
        "an instant job is complete at the first look: {counted:?}"
    );
    // Review assumes BULK_POLLS_ESTIMATE polls, since the org's queue decides them; every
    // other call (record count, job creation, result sets) is priced exactly.
    assert_eq!(
        estimate.backfill_calls - BULK_POLLS_ESTIMATE,
        counted.len() as u64 - polls,
        "{counted:?}"
    );
}
