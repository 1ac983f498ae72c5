//! Fleet leases against a real PostgreSQL (`SYNCDECK_TEST_POSTGRES_URL`): one owner at a
//! time, a takeover only after expiry (by the database clock) or release, a refused
//! configuration hash, and fencing: a page committed under a lease another daemon took is
//! rolled back.

use std::time::{Duration, Instant};

use serde_json::json;
use syncdeck::config::FleetConfig;
use syncdeck::model::Records;
use syncdeck::store::postgres::lease::{Fence, Leases, Refusal};
use syncdeck::store::postgres::testing::TestSchema;
use syncdeck::store::{Cursor, PageWrite, Store, StoreError, StoreField};

/// Hang guard for condition waits; never an assertion about speed.
const PATIENCE: Duration = Duration::from_secs(120);

fn page(ids: &[&str]) -> Records {
    Records::from_maps(
        ids.iter()
            .map(|id| {
                json!({"Id": id, "Name": format!("n {id}")})
                    .as_object()
                    .unwrap()
                    .clone()
            })
            .collect(),
    )
}

fn write(store: &mut Store, ids: &[&str]) -> Result<(), StoreError> {
    let records = page(ids);
    store
        .apply_page(
            "Account",
            &PageWrite {
                upserts: &records,
                ..PageWrite::default()
            },
        )
        .map(|_| ())
}

/// Poll `acquire` until the lease is free for `who` (the holder's lease expired).
fn acquire_when_expired(who: &mut Leases, hash: &str) -> Fence {
    let started = Instant::now();
    loop {
        match who.acquire("acme", hash).unwrap() {
            Ok(fence) => return fence,
            Err(Refusal::Held { .. }) => {
                assert!(
                    started.elapsed() < PATIENCE,
                    "hang guard: lease never expired"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(other) => panic!("unexpected refusal: {other:?}"),
        }
    }
}

#[test]
fn one_owner_at_a_time_and_a_lost_lease_cannot_commit() {
    let Some(fleet) = TestSchema::new("fleet_leases_fleet") else {
        return;
    };
    let Some(rows) = TestSchema::new("fleet_leases_rows") else {
        return;
    };
    let cfg = FleetConfig {
        url: fleet.url.clone(),
        password_env: None,
        schema: Some(fleet.schema().to_string()),
        host: None,
        lease_seconds: 1,
    };
    let mut a = Leases::connect(&cfg, "daemon-a", "host-a").unwrap();
    let mut b = Leases::connect(&cfg, "daemon-b", "host-b").unwrap();
    a.register("acme", "h1").unwrap();
    b.register("acme", "h1").unwrap();
    assert_eq!(a.heartbeat().unwrap(), 1);
    // a's heartbeat may have expired already under a slow machine (1 s leases).
    assert!((1..=2).contains(&b.heartbeat().unwrap()));

    let fa = a.acquire("acme", "h1").unwrap().unwrap();
    assert_eq!(
        b.acquire("acme", "h1").unwrap(),
        Err(Refusal::Held {
            host: Some("host-a".into())
        })
    );
    assert_eq!(
        b.acquire("acme", "h2").unwrap(),
        Err(Refusal::ConfigDiffers {
            fleet_hash: "h1".into()
        })
    );
    let row = a.all().unwrap().into_iter().next().unwrap();
    assert_eq!(row.owner_host.as_deref(), Some("host-a"));
    assert!(row.live && row.heartbeat.is_some());

    let mut store = Store::connect_postgres(&rows.target).unwrap();
    store
        .ensure_object_table("Account", &[StoreField::new("Name", "string")])
        .unwrap();
    store.set_fence(Some(fa.clone()));
    write(&mut store, &["001A"]).unwrap();

    // a stops renewing (paused, cut off): after its lease expires b takes the source.
    let fb = acquire_when_expired(&mut b, "h1");
    assert!(
        fb.token() > fa.token(),
        "every acquisition increments the token"
    );
    assert!(
        !a.renew(&fa, "h1").unwrap(),
        "a cannot renew a lease b took"
    );
    let refused = write(&mut store, &["001B"]).unwrap_err();
    assert!(
        matches!(&refused, StoreError::LeaseLost { holder, .. } if holder == "host-b"),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("lost to host-b"), "{refused}");
    assert_eq!(
        store.all_ids("Account").unwrap(),
        vec!["001A".to_string()],
        "the fenced page was rolled back"
    );

    let cursor = Cursor {
        system_modstamp: "2026-01-01T00:00:00.000+0000".into(),
        last_id: "001B".into(),
        field_set_hash: "Name".into(),
        full_sync_done: true,
    };
    assert!(matches!(
        store.set_cursor("Account", &cursor),
        Err(StoreError::LeaseLost { .. })
    ));
    assert!(matches!(
        store.reset_cursor("Account"),
        Err(StoreError::LeaseLost { .. })
    ));
    assert_eq!(
        store.cursor("Account").unwrap(),
        None,
        "no cursor was written"
    );

    // The new owner's commits go through on the same store.
    store.set_fence(Some(fb.clone()));
    write(&mut store, &["001B"]).unwrap();
    assert_eq!(store.row_count("Account").unwrap(), 2);
    store.set_cursor("Account", &cursor).unwrap();
    assert_eq!(store.cursor("Account").unwrap(), Some(cursor));

    // A release hands over at once: no expiry to wait for.
    assert!(b.renew(&fb, "h1").unwrap());
    b.release(&fb).unwrap();
    let fa2 = a.acquire("acme", "h1").unwrap().unwrap();
    assert!(fa2.token() > fb.token());
    b.leave().unwrap();
    assert_eq!(a.heartbeat().unwrap(), 1, "b left the fleet");
}
