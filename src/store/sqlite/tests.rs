use super::*;
use crate::model::Records;
use crate::store::backend::Backend;
use crate::store::{GLOBAL_SCHEMA, Store};
use chrono::TimeZone;
use serde_json::json;

fn account_fields() -> Vec<StoreField> {
    vec![
        StoreField::new("Id", "id"),
        StoreField::new("Name", "string"),
        StoreField::new("IsActive__c", "boolean"),
        StoreField::new("NumberOfEmployees", "int"),
        StoreField::new("AnnualRevenue", "currency"),
        StoreField::new("SystemModstamp", "datetime"),
        StoreField::new("BillingAddress", "address"),
    ]
}

fn record(id: &str, name: &str) -> Map<String, Value> {
    let v = json!({
        "attributes": {"type": "Account", "url": format!("/services/data/v62.0/sobjects/Account/{id}")},
        "Id": id,
        "Name": name,
        "IsActive__c": true,
        "NumberOfEmployees": 12.0,
        "AnnualRevenue": 300.5,
        "SystemModstamp": "2024-05-01T10:00:00.000+0000",
        "BillingAddress": {"street": "1 Main St", "city": "Springfield", "state": null,
            "postalCode": "12345", "country": "US", "latitude": 40.5, "longitude": -73.25,
            "geocodeAccuracy": null, "stateCode": null, "countryCode": "US"},
        "Owner": {"attributes": {"type": "User"}, "Name": "ignored"}
    });
    v.as_object().unwrap().clone()
}

fn cursor(stamp: &str, id: &str) -> Cursor {
    Cursor {
        system_modstamp: stamp.into(),
        last_id: id.into(),
        field_set_hash: "h1".into(),
        full_sync_done: false,
    }
}

fn store() -> SqliteStore {
    let mut s = SqliteStore::open_in_memory().unwrap();
    s.ensure_object_table("Account", &account_fields()).unwrap();
    s
}

#[test]
fn new_stores_get_large_pages_and_old_ones_keep_theirs() {
    let dir = tempfile::tempdir().unwrap();
    let page_size = |path: &Path| -> i64 {
        Connection::open(path)
            .unwrap()
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap()
    };
    let new = dir.path().join("new.sqlite3");
    drop(SqliteStore::open(&new).unwrap());
    assert_eq!(page_size(&new), PAGE_SIZE);

    let old = dir.path().join("old.sqlite3");
    let conn = Connection::open(&old).unwrap();
    conn.execute_batch("CREATE TABLE t (x); PRAGMA journal_mode = WAL;")
        .unwrap();
    drop(conn);
    let mut s = SqliteStore::open(&old).unwrap();
    s.ensure_object_table("Account", &account_fields()).unwrap();
    drop(s);
    assert_eq!(page_size(&old), 4096);
}

#[test]
fn migrations_set_user_version_and_reopen_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sources/acme.sqlite3");
    {
        let mut s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), latest_schema_version());
        s.ensure_object_table("Account", &account_fields()).unwrap();
        s.apply_page(
            "Account",
            &PageWrite {
                upserts: &Records::from_maps(vec![record("001A", "Acme")]),
                ..Default::default()
            },
        )
        .unwrap();
    }
    let mut s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.row_count("Account").unwrap(), 1);
    let mode: String = s
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(s);
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    assert!(matches!(
        SqliteStore::open(&path),
        Err(StoreError::NewerSchema { found: 99, .. })
    ));
}

#[test]
fn page_is_typed_split_and_attributes_ignored() {
    let mut s = store();
    let applied = s
        .apply_page(
            "Account",
            &PageWrite {
                upserts: &Records::from_maps(vec![record("001A", "Acme")]),
                deletes: &[],
                cursor: None,
            },
        )
        .unwrap();
    assert_eq!(
        applied,
        PageApplied {
            upserted: 1,
            deleted: 0
        }
    );
    let rows = s.read_rows("Account", 10).unwrap();
    let row = &rows[0];
    assert_eq!(row["Id"], json!("001A"));
    assert_eq!(row["IsActive__c"], json!(true));
    assert_eq!(row["NumberOfEmployees"], json!(12));
    assert_eq!(row["AnnualRevenue"], json!(300.5));
    assert_eq!(row["SystemModstamp"], json!("2024-05-01T10:00:00.000Z"));
    assert_eq!(row["BillingAddress__city"], json!("Springfield"));
    assert_eq!(row["BillingAddress__latitude"], json!(40.5));
    assert_eq!(row["BillingAddress__state"], Value::Null);
    assert!(!row.contains_key("attributes") && !row.contains_key("Owner"));
    // Declared column types follow the mapping.
    let declared: Vec<(String, String)> = s
        .conn
        .prepare("SELECT name, type FROM pragma_table_info('sf_Account')")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let ty = |n: &str| declared.iter().find(|(c, _)| c == n).unwrap().1.clone();
    assert_eq!(ty("IsActive__c"), "INTEGER");
    assert_eq!(ty("AnnualRevenue"), "REAL");
    assert_eq!(ty("SystemModstamp"), "TEXT");
    assert_eq!(ty("BillingAddress__longitude"), "REAL");
    assert_eq!(ty("BillingAddress__street"), "TEXT");
    let raw: i64 = s
        .conn
        .query_row("SELECT \"IsActive__c\" FROM sf_Account", [], |r| r.get(0))
        .unwrap();
    assert_eq!(raw, 1);
}

#[test]
fn upsert_updates_deletes_remove_and_cursor_advances_together() {
    let mut s = store();
    let c1 = cursor("2024-05-01T10:00:00.000+0000", "001B");
    s.apply_page(
        "Account",
        &PageWrite {
            upserts: &Records::from_maps(vec![record("001A", "A"), record("001B", "B")]),
            deletes: &[],
            cursor: Some(&c1),
        },
    )
    .unwrap();
    assert_eq!(s.cursor("Account").unwrap(), Some(c1));
    let mut partial = Map::new();
    partial.insert("Id".into(), json!("001A"));
    partial.insert("Name".into(), json!("A2"));
    let c2 = cursor("2024-05-02T10:00:00.000+0000", "001A");
    let applied = s
        .apply_page(
            "Account",
            &PageWrite {
                upserts: &Records::from_maps(vec![partial]),
                deletes: &["001B".into(), "001Z".into()],
                cursor: Some(&c2),
            },
        )
        .unwrap();
    assert_eq!(
        applied,
        PageApplied {
            upserted: 1,
            deleted: 1
        }
    );
    assert_eq!(s.all_ids("Account").unwrap(), vec!["001A"]);
    let row = &s.read_rows("Account", 1).unwrap()[0];
    assert_eq!(row["Name"], json!("A2"));
    // Columns the partial record did not carry keep their values.
    assert_eq!(row["BillingAddress__city"], json!("Springfield"));
    assert_eq!(s.cursor("Account").unwrap(), Some(c2));
    s.reset_cursor("Account").unwrap();
    assert_eq!(s.cursor("Account").unwrap(), None);
}

#[test]
fn failure_mid_page_leaves_previous_rows_and_cursor_intact() {
    let mut s = store();
    let committed = cursor("2024-05-01T10:00:00.000+0000", "001B");
    s.apply_page(
        "Account",
        &PageWrite {
            upserts: &Records::from_maps(vec![record("001A", "A"), record("001B", "B")]),
            deletes: &[],
            cursor: Some(&committed),
        },
    )
    .unwrap();
    let before = s.read_rows("Account", 100).unwrap();

    s.fail_page_after(Some(2));
    let next = cursor("2024-06-01T00:00:00.000+0000", "001D");
    let page = [
        record("001A", "changed"),
        record("001C", "C"),
        record("001D", "D"),
    ];
    let err = s
        .apply_page(
            "Account",
            &PageWrite {
                upserts: &Records::from_maps(page.to_vec()),
                deletes: &["001B".into()],
                cursor: Some(&next),
            },
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::Injected));
    assert_eq!(s.read_rows("Account", 100).unwrap(), before);
    assert_eq!(s.cursor("Account").unwrap(), Some(committed.clone()));

    // A bad record in the middle of a page is rejected the same way.
    s.fail_page_after(None);
    let mut bad = record("001E", "E");
    bad.insert("NumberOfEmployees".into(), json!("many"));
    let err = s
        .apply_page(
            "Account",
            &PageWrite {
                upserts: &Records::from_maps(vec![record("001C", "C"), bad]),
                deletes: &[],
                cursor: Some(&next),
            },
        )
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("NumberOfEmployees should be a whole number"),
        "{err}"
    );
    assert_eq!(s.read_rows("Account", 100).unwrap(), before);
    assert_eq!(s.cursor("Account").unwrap(), Some(committed));

    // The retry succeeds and commits everything.
    s.apply_page(
        "Account",
        &PageWrite {
            upserts: &Records::from_maps(page.to_vec()),
            deletes: &["001B".into()],
            cursor: Some(&next),
        },
    )
    .unwrap();
    assert_eq!(s.all_ids("Account").unwrap(), vec!["001A", "001C", "001D"]);
    assert_eq!(s.cursor("Account").unwrap(), Some(next));
}

#[test]
fn added_fields_become_columns_and_removed_fields_keep_theirs() {
    let mut s = store();
    s.apply_page(
        "Account",
        &PageWrite {
            upserts: &Records::from_maps(vec![record("001A", "A")]),
            ..Default::default()
        },
    )
    .unwrap();
    let fewer = vec![
        StoreField::new("Name", "string"),
        StoreField::new("Rating__c", "double"),
        StoreField::new("Where__c", "location"),
    ];
    s.ensure_object_table("Account", &fewer).unwrap();
    let mut r = Map::new();
    r.insert("Id".into(), json!("001A"));
    r.insert("Rating__c".into(), json!(4.5));
    r.insert(
        "Where__c".into(),
        json!({"latitude": 1.5, "longitude": 2.5}),
    );
    s.apply_page(
        "Account",
        &PageWrite {
            upserts: &Records::from_maps(vec![r]),
            ..Default::default()
        },
    )
    .unwrap();
    let row = &s.read_rows("Account", 1).unwrap()[0];
    assert_eq!(row["Rating__c"], json!(4.5));
    assert_eq!(row["Where__c__longitude"], json!(2.5));
    assert_eq!(
        row["AnnualRevenue"],
        json!(300.5),
        "removed field keeps its data"
    );
}

#[test]
fn names_are_validated_and_unknown_objects_refused() {
    let mut s = SqliteStore::open_in_memory().unwrap();
    assert!(matches!(
        s.ensure_object_table("Acc\"; DROP TABLE runs; --", &[]),
        Err(StoreError::BadName(..))
    ));
    assert!(matches!(
        s.ensure_object_table("Account", &[StoreField::new("Na me", "string")]),
        Err(StoreError::BadName(..))
    ));
    assert!(matches!(
        s.apply_page("Contact", &PageWrite::default()),
        Err(StoreError::UnknownObject(_))
    ));
    assert_eq!(s.row_count("Contact").unwrap(), 0);
    let mut no_id = Map::new();
    no_id.insert("Name".into(), json!("x"));
    s.ensure_object_table("Contact", &[StoreField::new("Name", "string")])
        .unwrap();
    assert!(matches!(
        s.apply_page(
            "Contact",
            &PageWrite {
                upserts: &Records::from_maps(vec![no_id]),
                ..Default::default()
            }
        ),
        Err(StoreError::BadRecord { .. })
    ));
}

#[test]
fn runs_usage_and_schema_cache_round_trip() {
    // Through the facade: `last_run` and `total_rows` are built on the backend's methods.
    let mut s = Store::open_in_memory().unwrap();
    s.ensure_object_table("Account", &account_fields()).unwrap();
    let t = |h| Utc.with_ymd_and_hms(2026, 1, 1, h, 0, 0).unwrap();
    assert_eq!(s.last_run().unwrap(), None);
    let first = s.begin_run("incremental", t(1)).unwrap();
    s.finish_run(
        first,
        &RunRecord {
            finished: t(2),
            outcome: "ok".into(),
            upserted: 10,
            deleted: 1,
            api_calls: 3,
            error: None,
        },
    )
    .unwrap();
    let second = s.begin_run("full", t(3)).unwrap();
    let runs = s.recent_runs(10).unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].id, second);
    assert_eq!(runs[0].finished, None);
    assert_eq!(runs[1].upserted, 10);
    assert_eq!(runs[1].api_calls, 3);
    assert_eq!(runs[1].finished, Some(t(2)));
    assert_eq!(s.last_run().unwrap().unwrap().kind, "full");

    for h in 0..5 {
        s.record_usage(t(h), 100 * u64::from(h), 15000).unwrap();
    }
    let since = s.usage_since(t(3)).unwrap();
    assert_eq!(
        since,
        vec![
            UsageSample {
                at: t(3),
                used: 300,
                max: 15000
            },
            UsageSample {
                at: t(4),
                used: 400,
                max: 15000
            },
        ]
    );
    assert_eq!(s.prune_usage(t(2)).unwrap(), 2);
    assert_eq!(s.usage_since(t(0)).unwrap().len(), 3);

    assert_eq!(s.get_schema(GLOBAL_SCHEMA).unwrap(), None);
    s.put_schema(
        GLOBAL_SCHEMA,
        "{\"sobjects\":[]}",
        t(1),
        Some("\"baf7\""),
        None,
    )
    .unwrap();
    s.put_schema(
        GLOBAL_SCHEMA,
        "{\"sobjects\":[1]}",
        t(2),
        None,
        Some("Fri, 14 Aug 2020 20:53:02 GMT"),
    )
    .unwrap();
    let cached = s.get_schema(GLOBAL_SCHEMA).unwrap().unwrap();
    assert_eq!(cached.json, "{\"sobjects\":[1]}");
    assert_eq!(cached.fetched_at, t(2));
    assert_eq!(cached.etag, None);
    assert_eq!(
        cached.last_modified.as_deref(),
        Some("Fri, 14 Aug 2020 20:53:02 GMT")
    );
    assert_eq!(s.objects().unwrap(), vec!["Account"]);
    assert_eq!(s.total_rows().unwrap(), 0);
}

#[test]
fn per_object_counts_of_a_run_round_trip() {
    let mut s = store();
    let t = Utc.with_ymd_and_hms(2026, 1, 1, 1, 0, 0).unwrap();
    let run = s.begin_run("incremental", t).unwrap();
    let other = s.begin_run("incremental", t).unwrap();
    s.record_run_object(run, "Contact", 7, 1).unwrap();
    s.record_run_object(run, "Account", 3, 0).unwrap();
    s.record_run_object(other, "Account", 99, 0).unwrap();
    let rows = s.run_objects(run).unwrap();
    assert_eq!(
        rows,
        vec![
            RunObjectRow {
                object: "Account".into(),
                upserted: 3,
                deleted: 0
            },
            RunObjectRow {
                object: "Contact".into(),
                upserted: 7,
                deleted: 1
            },
        ]
    );
    assert!(s.run_objects(RunId(12345)).unwrap().is_empty());
}

#[test]
fn a_slice_page_and_its_position_commit_together_and_finishing_hands_over_to_the_cursor() {
    let mut s = Store::open_in_memory().unwrap();
    crate::store::checkpoint_contract::slice_pages_commit_with_their_position(&mut s);
}

#[test]
fn bulk_checkpoints_commit_with_their_page() {
    let mut s = Store::open_in_memory().unwrap();
    crate::store::checkpoint_contract::bulk_checkpoints_commit_with_their_page(&mut s);
}
