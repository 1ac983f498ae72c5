//! Pages of new rows COPYed straight into the object table, and every way such a page
//! turns out not to be one (see `load::expect_new`).

use serde_json::{Value, json};

use super::testing::TestSchema;
use super::tests::{cursor, every_type, full_record, records};
use super::{LoadCounts, PgStore};
use crate::store::backend::Backend;
use crate::store::{Cursor, PageApplied, PageWrite, StoreError};

fn page(
    s: &mut PgStore,
    rows: Vec<Value>,
    cursor: Option<&Cursor>,
) -> Result<PageApplied, StoreError> {
    let upserts = records(rows);
    s.apply_page(
        "Account",
        &PageWrite {
            upserts: &upserts,
            deletes: &[],
            cursor,
        },
    )
}

fn fresh(from: usize, to: usize, notes: &str) -> Vec<Value> {
    (from..to)
        .map(|i| full_record(&format!("001{i:04}"), notes))
        .collect()
}

fn counts(lookups: u64, direct: u64, declined: u64, staged: u64) -> LoadCounts {
    LoadCounts {
        lookups,
        direct,
        declined,
        staged,
    }
}

fn row(s: &mut PgStore, id: &str) -> Value {
    let rows = s.read_rows("Account", 1000).unwrap();
    rows.into_iter()
        .find(|r| r["Id"] == json!(id))
        .map_or(Value::Null, Value::Object)
}

/// After a page of new rows the next is COPYed without a lookup; a page that is not all
/// new after all (a stored Id, a repeated Id, a decimal only the cast takes) is declined
/// and upserted exactly as the upsert path would, and the guessing starts over.
#[test]
fn new_pages_skip_the_lookup_and_a_wrong_guess_upserts_the_page() {
    let Some(ts) = TestSchema::new("new_pages_skip_the_lookup") else {
        return;
    };
    let mut s = PgStore::connect(&ts.target).unwrap();
    s.ensure_object_table("Account", &every_type()).unwrap();
    page(&mut s, fresh(0, 50, "first"), None).unwrap();
    page(&mut s, fresh(50, 100, "first"), None).unwrap();
    assert_eq!(
        s.counts,
        counts(1, 2, 0, 0),
        "the second page needs no lookup"
    );

    // A stored Id carrying one field only, among new ones: the COPY is declined and the
    // upsert leaves the stored row's other columns alone.
    let mut mixed = fresh(100, 110, "second");
    mixed.push(json!({"Id": "0010003", "Revenue": 7.5}));
    let c = cursor("2024-05-03T10:00:00.000+0000", "0010003");
    let applied = page(&mut s, mixed, Some(&c)).unwrap();
    assert_eq!(applied.upserted, 11);
    assert_eq!(s.counts, counts(1, 2, 1, 1));
    assert_eq!(s.row_count("Account").unwrap(), 110);
    assert_eq!(s.cursor("Account").unwrap(), Some(c));
    let stored = row(&mut s, "0010003");
    assert_eq!(
        (&stored["Revenue"], &stored["Notes__c"]),
        (&json!(7.5), &json!("first"))
    );

    // Guessing starts over with a lookup, then skips it again.
    page(&mut s, fresh(110, 120, "third"), None).unwrap();
    assert_eq!(s.counts, counts(2, 3, 1, 1));

    // A new Id twice on a guessed page: declined, and the later one wins.
    let mut twice = fresh(120, 125, "fourth");
    let mut last = full_record("0010120", "last");
    last["Name"] = json!("Twice");
    twice.push(last);
    page(&mut s, twice, None).unwrap();
    assert_eq!(s.counts, counts(2, 3, 2, 2));
    assert_eq!(row(&mut s, "0010120")["Name"], json!("Twice"));
    assert_eq!(s.row_count("Account").unwrap(), 125);

    // A decimal too long for a binary numeric: the upsert's cast rounds it.
    page(&mut s, fresh(125, 130, "fifth"), None).unwrap();
    let mut long = full_record("0010130", "long");
    long["Revenue"] = json!(format!("1.{}1", "0".repeat(1200)));
    page(&mut s, vec![long], None).unwrap();
    assert_eq!(s.counts, counts(3, 4, 3, 3));
    assert_eq!(row(&mut s, "0010130")["Revenue"], json!(1.0));
}

/// A guessed page that fails part-way (a bad value, the injected failure) commits
/// nothing: not its rows, not its cursor.
#[test]
fn a_guessed_page_that_fails_part_way_leaves_nothing() {
    let Some(ts) = TestSchema::new("a_guessed_page_that_fails") else {
        return;
    };
    let mut s = PgStore::connect(&ts.target).unwrap();
    s.ensure_object_table("Account", &every_type()).unwrap();
    let c1 = cursor("2024-05-01T10:00:00.000+0000", "0010049");
    page(&mut s, fresh(0, 50, "first"), Some(&c1)).unwrap();

    let mut bad = fresh(50, 100, "bad");
    bad[30]["Employees"] = json!("many");
    let c2 = cursor("2024-05-02T10:00:00.000+0000", "0010099");
    let failed = page(&mut s, bad, Some(&c2));
    assert!(
        matches!(&failed, Err(StoreError::BadRecord { reason, .. }) if reason.contains("0010080")),
        "{failed:?}"
    );
    assert_eq!(s.row_count("Account").unwrap(), 50);
    assert_eq!(s.cursor("Account").unwrap(), Some(c1.clone()));

    s.fail_page_after(Some(20));
    let failed = page(&mut s, fresh(50, 100, "x"), Some(&c2));
    assert!(matches!(failed, Err(StoreError::Injected)), "{failed:?}");
    assert_eq!(s.row_count("Account").unwrap(), 50);
    assert_eq!(s.cursor("Account").unwrap(), Some(c1));
    assert_eq!(
        s.counts,
        counts(1, 1, 0, 0),
        "both failures were guessed pages"
    );

    s.fail_page_after(None);
    page(&mut s, fresh(50, 100, "second"), Some(&c2)).unwrap();
    assert_eq!(s.row_count("Account").unwrap(), 100);
    assert_eq!(s.cursor("Account").unwrap(), Some(c2));
    assert_eq!(row(&mut s, "0010099")["Notes__c"], json!("second"));
}
