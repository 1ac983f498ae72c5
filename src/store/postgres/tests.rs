//! The PostgreSQL store against a real server (see [`super::testing`]).

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

use super::testing::TestSchema;
use crate::model::Records;
use crate::store::{
    Cursor, PageWrite, RunId, RunRecord, Store, StoreError, StoreField, VerifyRecord,
};

pub(super) fn records(values: Vec<Value>) -> Records {
    Records::from_maps(
        values
            .into_iter()
            .map(|v| v.as_object().unwrap().clone())
            .collect(),
    )
}

pub(super) fn every_type() -> Vec<StoreField> {
    vec![
        StoreField::new("Name", "string"),
        StoreField::new("Active__c", "boolean"),
        StoreField::new("Employees", "int"),
        StoreField::new("Big__c", "long"),
        StoreField::new("Ratio__c", "double"),
        StoreField::new("Revenue", "currency").with_digits(Some(18), Some(2)),
        StoreField::new("Share__c", "percent").with_digits(Some(5), Some(2)),
        StoreField::new("Loose__c", "currency"),
        StoreField::new("Founded__c", "date"),
        StoreField::new("Opens__c", "time"),
        StoreField::new("SystemModstamp", "datetime"),
        StoreField::new("BillingAddress", "address"),
        StoreField::new("Where__c", "location"),
        StoreField::new("OwnerId", "reference"),
        StoreField::new("Kind__c", "picklist"),
        StoreField::new("Tags__c", "multipicklist"),
        StoreField::new("Notes__c", "textarea"),
        StoreField::new("Email__c", "email"),
        StoreField::new("Site__c", "url"),
        StoreField::new("Phone", "phone"),
        StoreField::new("Blob__c", "base64"),
        StoreField::new("Any__c", "anyType"),
        StoreField::new("Code__c", "combobox"),
        StoreField::new("Secret__c", "encryptedstring"),
    ]
}

pub(super) fn full_record(id: &str, notes: &str) -> Value {
    json!({
        "attributes": {"type": "Account"},
        "Id": id,
        "Name": "Zoë «Ωmega» 株式会社 🚀",
        "Active__c": true,
        "Employees": 12.0,
        "Big__c": 9_007_199_254_740_993_i64,
        "Ratio__c": 0.1,
        "Revenue": 1234567.89,
        "Share__c": 12.5,
        "Loose__c": 3.25,
        "Founded__c": "1999-12-31",
        "Opens__c": "08:30:00.250Z",
        "SystemModstamp": "2024-05-01T10:00:00.000+0000",
        "BillingAddress": {"street": "1 Main St\nSuite 2", "city": "Springfield", "state": null,
            "postalCode": "12345", "country": "US", "latitude": 40.5, "longitude": -73.25,
            "geocodeAccuracy": null, "stateCode": null, "countryCode": "US"},
        "Where__c": {"latitude": -33.9, "longitude": 151.2},
        "OwnerId": "005000000000001AAA",
        "Kind__c": "Customer",
        "Tags__c": "a;b;c",
        "Notes__c": notes,
        "Email__c": "a@example.com",
        "Site__c": "https://example.com/?q=1&r=2",
        "Phone": "+1 (555) 010-0000",
        "Blob__c": "/services/data/v62.0/sobjects/Account/001/Blob__c",
        "Any__c": {"nested": [1, 2]},
        "Code__c": "X",
        "Secret__c": "****"
    })
}

fn null_record(id: &str) -> Value {
    let mut v = full_record(id, "");
    for (k, val) in v.as_object_mut().unwrap().iter_mut() {
        if k != "Id" && k != "attributes" {
            *val = Value::Null;
        }
    }
    v
}

/// One page of upserts into Account, committed.
fn upsert(s: &mut Store, rows: Vec<Value>) {
    let page = records(rows);
    s.apply_page(
        "Account",
        &PageWrite {
            upserts: &page,
            ..PageWrite::default()
        },
    )
    .unwrap();
}

fn pg_store(ts: &TestSchema) -> Store {
    Store::connect_postgres(&ts.target).unwrap()
}

pub(super) fn cursor(stamp: &str, id: &str) -> Cursor {
    Cursor {
        system_modstamp: stamp.into(),
        last_id: id.into(),
        field_set_hash: "h1".into(),
        full_sync_done: false,
    }
}

/// Every Salesforce type, nulls, unicode and a 1 MB text round-trip, and read back as
/// exactly the JSON the SQLite store gives for the same page.
#[test]
fn every_type_round_trips_like_sqlite() {
    let Some(ts) = TestSchema::new("every_type_round_trips_like_sqlite") else {
        return;
    };
    let megabyte: String = "αβγ😀 line\n".repeat(1024 * 1024 / 16);
    assert!(megabyte.len() >= 1024 * 1024);
    let page = records(vec![
        full_record("001A", &megabyte),
        null_record("001B"),
        full_record("001C", "short"),
    ]);
    let write = PageWrite {
        upserts: &page,
        ..PageWrite::default()
    };
    let mut pg = pg_store(&ts);
    let mut lite = Store::open_in_memory().unwrap();
    for s in [&mut pg, &mut lite] {
        s.ensure_object_table("Account", &every_type()).unwrap();
        let applied = s.apply_page("Account", &write).unwrap();
        assert_eq!(applied.upserted, 3);
    }
    let pg_rows = pg.read_rows("Account", 10).unwrap();
    assert_eq!(pg_rows, lite.read_rows("Account", 10).unwrap());
    let a = &pg_rows[0];
    assert_eq!(a["Notes__c"], Value::String(megabyte));
    assert_eq!(a["Name"], json!("Zoë «Ωmega» 株式会社 🚀"));
    assert_eq!(a["Big__c"], json!(9_007_199_254_740_993_i64));
    assert_eq!(a["Revenue"], json!(1234567.89));
    assert_eq!(a["Founded__c"], json!("1999-12-31"));
    assert_eq!(a["Opens__c"], json!("08:30:00.250Z"));
    assert_eq!(a["SystemModstamp"], json!("2024-05-01T10:00:00.000Z"));
    assert_eq!(a["BillingAddress__latitude"], json!(40.5));
    assert_eq!(a["Any__c"], json!("{\"nested\":[1,2]}"));
    let b = &pg_rows[1];
    assert!(b.iter().all(|(k, v)| k == "Id" || v.is_null()), "{b:?}");
}

#[test]
fn columns_have_the_documented_postgres_types() {
    let Some(ts) = TestSchema::new("columns_have_the_documented_postgres_types") else {
        return;
    };
    let mut pg = pg_store(&ts);
    pg.ensure_object_table("Account", &every_type()).unwrap();
    let types = column_types(&ts, "sf_Account");
    let ty = |c: &str| {
        types
            .iter()
            .find(|(n, _)| n == c)
            .map(|(_, t)| t.as_str())
            .unwrap()
    };
    assert_eq!(ty("Id"), "text");
    assert_eq!(ty("Active__c"), "boolean");
    assert_eq!(ty("Employees"), "bigint");
    assert_eq!(ty("Ratio__c"), "double precision");
    assert_eq!(ty("Revenue"), "numeric(18,2)");
    assert_eq!(ty("Share__c"), "numeric(5,2)");
    assert_eq!(ty("Loose__c"), "double precision");
    assert_eq!(ty("Founded__c"), "date");
    assert_eq!(ty("Opens__c"), "time without time zone");
    assert_eq!(ty("SystemModstamp"), "timestamp with time zone");
    assert_eq!(ty("BillingAddress__city"), "text");
    assert_eq!(ty("Where__c__longitude"), "double precision");
    assert_eq!(ty("Notes__c"), "text");
}

/// `(column, formatted type)` of a table in the test schema, straight from the catalog.
fn column_types(ts: &TestSchema, table: &str) -> Vec<(String, String)> {
    admin_session(ts, |client| async move {
        client
            .query(
                "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod)
                 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped",
                &[&ts.schema(), &table],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    })
}

/// Run `f` with a session of its own on the test server (an administrator's).
fn admin_session<T, F, Fut>(ts: &TestSchema, f: F) -> T
where
    F: FnOnce(tokio_postgres::Client) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&ts.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        f(client).await
    })
}

#[test]
fn upserts_deletes_and_cursor_commit_together_and_a_failed_page_leaves_nothing() {
    let Some(ts) = TestSchema::new("upserts_deletes_and_cursor_commit_together") else {
        return;
    };
    let mut s = pg_store(&ts);
    s.ensure_object_table("Account", &every_type()).unwrap();
    let first = records(vec![full_record("001A", "a"), full_record("001B", "b")]);
    let c1 = cursor("2024-05-01T10:00:00.000+0000", "001B");
    s.apply_page(
        "Account",
        &PageWrite {
            upserts: &first,
            deletes: &[],
            cursor: Some(&c1),
        },
    )
    .unwrap();
    let mut changed = full_record("001A", "changed");
    changed["Name"] = json!("Renamed");
    let second = records(vec![changed, full_record("001C", "c")]);
    let c2 = cursor("2024-05-02T10:00:00.000+0000", "001C");
    s.fail_page_after(Some(1));
    let failed = s.apply_page(
        "Account",
        &PageWrite {
            upserts: &second,
            deletes: &["001B".to_string()],
            cursor: Some(&c2),
        },
    );
    assert!(matches!(failed, Err(StoreError::Injected)), "{failed:?}");
    assert_eq!(s.all_ids("Account").unwrap(), ["001A", "001B"]);
    assert_eq!(s.cursor("Account").unwrap(), Some(c1));
    assert_eq!(
        s.read_rows("Account", 1).unwrap()[0]["Name"],
        json!(full_record("001A", "")["Name"])
    );

    s.fail_page_after(None);
    let applied = s
        .apply_page(
            "Account",
            &PageWrite {
                upserts: &second,
                deletes: &["001B".to_string(), "001X".to_string()],
                cursor: Some(&c2),
            },
        )
        .unwrap();
    assert_eq!((applied.upserted, applied.deleted), (2, 1));
    assert_eq!(s.all_ids("Account").unwrap(), ["001A", "001C"]);
    assert_eq!(s.cursor("Account").unwrap(), Some(c2));
    assert_eq!(
        s.read_rows("Account", 1).unwrap()[0]["Name"],
        json!("Renamed")
    );
    assert_eq!(s.row_count("Account").unwrap(), 2);
    assert_eq!(s.total_rows().unwrap(), 2);

    let at = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
    let n = s
        .apply_deletions("Account", &["001A".into(), "001Z".into()], Some(at))
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(s.delete_log_checked("Account").unwrap(), Some(at));
    assert_eq!(s.ids_after("Account", None, 5).unwrap(), ["001C"]);
    s.reset_cursor("Account").unwrap();
    assert_eq!(s.cursor("Account").unwrap(), None);
}

/// A page whose records carry different fields (a formula re-read selects only some)
/// leaves the fields a record lacks untouched, and duplicate Ids keep the last.
#[test]
fn partial_pages_leave_other_columns_and_the_last_duplicate_wins() {
    let Some(ts) = TestSchema::new("partial_pages_leave_other_columns") else {
        return;
    };
    let mut s = pg_store(&ts);
    s.ensure_object_table("Account", &every_type()).unwrap();
    let full = records(vec![full_record("001A", "kept")]);
    s.apply_page(
        "Account",
        &PageWrite {
            upserts: &full,
            ..PageWrite::default()
        },
    )
    .unwrap();
    let partial = records(vec![
        json!({"Id": "001A", "Revenue": 1.5}),
        json!({"Id": "001A", "Revenue": 2.5}),
    ]);
    s.apply_page(
        "Account",
        &PageWrite {
            upserts: &partial,
            ..PageWrite::default()
        },
    )
    .unwrap();
    let row = &s.read_rows("Account", 1).unwrap()[0];
    assert_eq!(row["Revenue"], json!(2.5));
    assert_eq!(row["Notes__c"], json!("kept"));
}

#[test]
fn added_fields_become_columns_and_deselected_fields_keep_theirs() {
    let Some(ts) = TestSchema::new("added_fields_become_columns") else {
        return;
    };
    let mut s = pg_store(&ts);
    let name_only = [StoreField::new("Name", "string")];
    s.ensure_object_table("Account", &name_only).unwrap();
    upsert(&mut s, vec![json!({"Id": "001A", "Name": "A"})]);
    let more = [
        StoreField::new("Name", "string"),
        StoreField::new("Founded__c", "date"),
    ];
    s.ensure_object_table("Account", &more).unwrap();
    upsert(
        &mut s,
        vec![json!({"Id": "001B", "Name": "B", "Founded__c": "2001-02-03"})],
    );
    // Name deselected: its column and values stay, new pages simply do not fill it.
    s.ensure_object_table("Account", &[StoreField::new("Founded__c", "date")])
        .unwrap();
    upsert(
        &mut s,
        vec![json!({"Id": "001C", "Founded__c": "2002-02-03"})],
    );
    let rows = s.read_rows("Account", 10).unwrap();
    assert_eq!(rows[0]["Name"], json!("A"));
    assert_eq!(rows[0]["Founded__c"], Value::Null);
    assert_eq!(rows[1]["Founded__c"], json!("2001-02-03"));
    assert_eq!(rows[2]["Name"], Value::Null);
    assert_eq!(s.stored_fields("Account").unwrap(), ["Name", "Founded__c"]);
    assert_eq!(s.objects().unwrap(), ["Account"]);
}

#[test]
fn bookkeeping_round_trips_and_the_schema_is_versioned() {
    let Some(ts) = TestSchema::new("bookkeeping_round_trips") else {
        return;
    };
    let at = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
    {
        let mut s = pg_store(&ts);
        assert_eq!(s.schema_version().unwrap(), super::migrations::latest());
        assert_eq!(s.first_run_started().unwrap(), None);
        let id = s.begin_run("incremental", at).unwrap();
        s.record_run_object(id, "Contact", 5, 1).unwrap();
        s.record_run_object(id, "Account", 7, 0).unwrap();
        let done = RunRecord {
            finished: at + chrono::Duration::seconds(3),
            outcome: "ok".into(),
            upserted: 12,
            deleted: 1,
            api_calls: 4,
            error: None,
        };
        s.finish_run(id, &done).unwrap();
        s.record_usage(at, 10, 100).unwrap();
        s.record_usage(at + chrono::Duration::hours(1), 20, 100)
            .unwrap();
        s.put_schema("Account", "{}", at, Some("\"e1\""), None)
            .unwrap();
        s.record_verify(&VerifyRecord {
            started: at,
            finished: at,
            outcome: "exact".into(),
            extra: 0,
            missing: 0,
            unfilled_fields: 0,
            repaired_deleted: 0,
            repaired_fetched: 0,
            api_calls: 2,
            error: None,
        })
        .unwrap();
    }
    // A second connection (a restarted process) sees it all and migrates nothing.
    let mut s = pg_store(&ts);
    let last = s.last_run().unwrap().unwrap();
    assert_eq!(
        (last.kind.as_str(), last.upserted, last.api_calls),
        ("incremental", 12, 4)
    );
    assert_eq!(last.started, at);
    assert_eq!(last.outcome.as_deref(), Some("ok"));
    let objects: Vec<String> = s
        .run_objects(RunId(last.id.0))
        .unwrap()
        .into_iter()
        .map(|o| o.object)
        .collect();
    assert_eq!(objects, ["Account", "Contact"]);
    assert_eq!(s.first_run_started().unwrap(), Some(at));
    let usage = s.usage_since(at + chrono::Duration::minutes(1)).unwrap();
    assert_eq!(usage.len(), 1);
    assert_eq!(usage[0].used, 20);
    assert_eq!(s.prune_usage(at + chrono::Duration::minutes(1)).unwrap(), 1);
    let cached = s.get_schema("Account").unwrap().unwrap();
    assert_eq!(
        (cached.json.as_str(), cached.etag.as_deref()),
        ("{}", Some("\"e1\""))
    );
    assert_eq!(s.last_verify().unwrap().unwrap().outcome, "exact");
}

/// The server ends the session (an administrator, a failover): the call in progress
/// fails with a connection error naming what to do, and the next call reconnects.
#[test]
fn a_terminated_session_fails_clearly_and_the_next_call_reconnects() {
    let Some(ts) = TestSchema::new("a_terminated_session_reconnects") else {
        return;
    };
    let mut s = pg_store(&ts);
    s.ensure_object_table("Account", &[StoreField::new("Name", "string")])
        .unwrap();
    upsert(&mut s, vec![json!({"Id": "001A", "Name": "A"})]);
    terminate_sessions(&ts);
    let err = s.row_count("Account").unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(
            err,
            StoreError::Postgres(super::PgError::ConnectionLost { .. })
        ),
        "{message}"
    );
    assert!(
        message.contains("resumes from the last committed page"),
        "{message}"
    );
    assert_eq!(s.row_count("Account").unwrap(), 1);
    assert_eq!(s.all_ids("Account").unwrap(), ["001A"]);
}

/// Ends the test schema's store sessions and waits until the server has closed them.
fn terminate_sessions(ts: &TestSchema) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(super::testing::terminate_sessions(&ts.url, ts.schema()));
}

#[test]
fn the_check_reports_the_server_and_a_missing_privilege() {
    let Some(ts) = TestSchema::new("the_check_reports") else {
        return;
    };
    let report = super::check::check(&ts.target).unwrap();
    assert!(!report.schema_exists);
    assert!(!report.server_version.is_empty());
    drop(pg_store(&ts));
    let report = super::check::check(&ts.target).unwrap();
    assert!(report.schema_exists);
    assert_eq!(report.schema_version, Some(super::migrations::latest()));

    // A role without CREATE on the database is told exactly that.
    let role = format!("syncdeck_nocreate_{}", std::process::id());
    admin(
        &ts,
        &format!("DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN"),
    );
    let url = url::Url::parse(&ts.url).unwrap();
    let mut as_role = url.clone();
    as_role.set_username(&role).unwrap();
    let target = super::PgTarget::parse(as_role.as_str(), None, "syncdeck_never_created").unwrap();
    let err = super::check::check(&target).unwrap_err().to_string();
    admin(&ts, &format!("DROP ROLE IF EXISTS {role}"));
    assert!(err.contains("no CREATE privilege"), "{err}");

    let mut nobody = url;
    nobody.set_username("syncdeck_no_such_role").unwrap();
    let target = super::PgTarget::parse(nobody.as_str(), None, "x").unwrap();
    let err = super::check::check(&target).unwrap_err().to_string();
    assert!(err.contains("refused the login"), "{err}");

    let target =
        super::PgTarget::parse("postgres://u@127.0.0.1:1/test?sslmode=disable", None, "x").unwrap();
    let err = super::check::check(&target).unwrap_err().to_string();
    assert!(err.contains("cannot reach PostgreSQL"), "{err}");
}

fn admin(ts: &TestSchema, sql: &str) {
    admin_session(ts, |client| async move {
        client.batch_execute(sql).await.unwrap()
    });
}

/// Store calls work from inside an async task (the CLI's and workers' `with_blocking`),
/// and a store dropped there does not take the runtime down.
#[test]
fn calls_and_drops_inside_a_runtime_are_safe() {
    let Some(ts) = TestSchema::new("calls_inside_a_runtime") else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let n = rt.block_on(async {
        let s = pg_store(&ts);
        let n = s.total_rows().unwrap();
        drop(s);
        n
    });
    assert_eq!(n, 0);
}

#[test]
fn a_slice_page_and_its_position_commit_together_and_finishing_hands_over_to_the_cursor() {
    let Some(ts) = TestSchema::new("slice_page_and_position_commit_together") else {
        return;
    };
    let mut s = pg_store(&ts);
    crate::store::checkpoint_contract::slice_pages_commit_with_their_position(&mut s);
}

#[test]
fn bulk_checkpoints_commit_with_their_page() {
    let Some(ts) = TestSchema::new("bulk_checkpoints_commit_with_their_page") else {
        return;
    };
    let mut s = pg_store(&ts);
    crate::store::checkpoint_contract::bulk_checkpoints_commit_with_their_page(&mut s);
}

/// The binary `numeric` a page is COPYed with means what the server reads from the same
/// text: each value's canonical text, and into a `numeric(p, s)` column the same rounding
/// as the staging upsert's cast.
#[test]
fn binary_numerics_read_back_as_the_server_parses_their_text() {
    let Some(ts) = TestSchema::new("binary_numerics_read_back") else {
        return;
    };
    let texts = [
        "0",
        "-0",
        "1",
        "-1",
        "9999",
        "10000",
        "123456789012345678",
        "0.0001",
        "0.00001",
        "1234567.89",
        "-1234567.895",
        "12.50",
        "1.5e3",
        "2E-2",
        ".25",
        "-.5",
        "1e-20",
        "99999999999999999999.999999",
        "3.14159265358979",
        "1.0000000001e10",
    ];
    admin_session(&ts, |client| async move {
        for text in texts {
            let value = super::types::PgValue::Text(text.into());
            for cast in ["numeric", "numeric(18,2)", "numeric(38,10)"] {
                let binary = read_text(&client, &format!("SELECT $1::{cast}::text"), &value).await;
                let parsed =
                    read_text(&client, &format!("SELECT $1::text::{cast}::text"), &text).await;
                // Both the same value, or both refused alike (too many digits for p, s).
                assert_eq!(binary, parsed, "{text} as {cast}");
            }
        }
    });
}

async fn read_text(
    client: &tokio_postgres::Client,
    sql: &str,
    param: &(dyn tokio_postgres::types::ToSql + Sync),
) -> Result<String, Option<tokio_postgres::error::SqlState>> {
    client
        .query_one(sql, &[param])
        .await
        .map(|r| r.get(0))
        .map_err(|e| e.code().cloned())
}

/// A page of new Ids is COPYed straight into the table; pages with stored Ids or repeated
/// Ids take the upsert; both end as row-by-row upserts would, with the cursor.
#[test]
fn new_rows_copy_straight_in_and_stored_ones_upsert() {
    let Some(ts) = TestSchema::new("new_rows_copy_straight_in") else {
        return;
    };
    let mut s = pg_store(&ts);
    s.ensure_object_table("Account", &every_type()).unwrap();
    let fresh: Vec<Value> = (0..50)
        .map(|i| full_record(&format!("001{i:03}"), "first"))
        .collect();
    upsert(&mut s, fresh);
    assert_eq!(s.row_count("Account").unwrap(), 50);

    // Half stored, half new, one new Id twice: the later of the two wins.
    let mut mixed: Vec<Value> = (25..75)
        .map(|i| full_record(&format!("001{i:03}"), "second"))
        .collect();
    let mut twice = full_record("001074", "last");
    twice["Name"] = json!("Twice");
    mixed.push(twice);
    let c = cursor("2024-05-03T10:00:00.000+0000", "001074");
    let page = records(mixed);
    let applied = s
        .apply_page(
            "Account",
            &PageWrite {
                upserts: &page,
                deletes: &["001000".to_string()],
                cursor: Some(&c),
            },
        )
        .unwrap();
    assert_eq!((applied.upserted, applied.deleted), (51, 1));
    assert_eq!(s.row_count("Account").unwrap(), 74);
    assert_eq!(s.cursor("Account").unwrap(), Some(c));
    let rows = s.read_rows("Account", 100).unwrap();
    let notes = |id: &str| {
        rows.iter()
            .find(|r| r["Id"] == json!(id))
            .map(|r| r["Notes__c"].clone())
    };
    assert_eq!(notes("001001"), Some(json!("first")));
    assert_eq!(notes("001030"), Some(json!("second")));
    assert_eq!(notes("001074"), Some(json!("last")));
    assert_eq!(
        rows.iter().find(|r| r["Id"] == json!("001074")).unwrap()["Name"],
        json!("Twice")
    );
    assert_eq!(notes("001000"), None);

    // A failure inside a page of new rows leaves nothing of it either.
    s.fail_page_after(Some(3));
    let failed_page = records(
        (100..110)
            .map(|i| full_record(&format!("001{i:03}"), "x"))
            .collect(),
    );
    let failed = s.apply_page(
        "Account",
        &PageWrite {
            upserts: &failed_page,
            ..PageWrite::default()
        },
    );
    assert!(matches!(failed, Err(StoreError::Injected)), "{failed:?}");
    assert_eq!(s.row_count("Account").unwrap(), 74);
}

/// A database that does not exist is named, with what to do.
#[test]
fn a_missing_database_is_named_with_what_to_do() {
    let Some(url) = super::testing::url("a_missing_database_is_named") else {
        return;
    };
    let mut parsed = url::Url::parse(&url).unwrap();
    parsed.set_path("/syncdeck_no_such_database");
    let target = super::PgTarget::parse(parsed.as_str(), None, "s").unwrap();
    let error = Store::connect_postgres(&target).unwrap_err().to_string();
    assert!(
        error.contains("has no database \"syncdeck_no_such_database\"")
            && error.contains("CREATE DATABASE"),
        "{error}"
    );
    assert!(
        !super::PgError::NoDatabase {
            target: String::new(),
            database: String::new(),
            detail: String::new(),
        }
        .is_transient()
    );
}

/// A daemon joins its fleet from inside its runtime: a server that refuses the connection
/// is an error to report, not a panic from dropping the connection's own runtime there.
#[test]
fn a_refused_connect_inside_a_runtime_is_an_error() {
    let target = super::PgTarget::parse("postgres://postgres@127.0.0.1:1/test", None, "s").unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome = rt.block_on(async { Store::connect_postgres(&target).map(|_| ()) });
    let error = outcome.unwrap_err().to_string();
    assert!(error.contains("127.0.0.1:1"), "{error}");
}
