//! What both backends promise about Bulk checkpoints: saved and cleared in the page's own
//! transaction, so a failed page leaves the previous checkpoint and rows as they were.

use serde_json::json;

use super::{BulkCheckpoint, BulkMark, Cursor, PageWrite, Store, StoreError, StoreField};
use crate::model::Records;

fn rows(ids: &[&str]) -> Records {
    let maps = ids
        .iter()
        .map(|id| {
            json!({"Id": id, "Name": format!("n{id}")})
                .as_object()
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    Records::from_maps(maps)
}

/// Run the contract on an empty store.
pub(crate) fn bulk_checkpoints_commit_with_their_page(s: &mut Store) {
    s.ensure_object_table("Account", &[StoreField::new("Name", "string")])
        .unwrap();
    assert_eq!(s.bulk_checkpoint("Account").unwrap(), None);
    let first = BulkCheckpoint {
        job_id: "750000000000001AAA".into(),
        locator: Some("MTAwMDA".into()),
        rows_done: 2000,
        job_started: "2026-01-01T00:00:00.000Z".into(),
        field_set: "fields-v1:Name".into(),
    };
    let page = rows(&["001A", "001B"]);
    let write = PageWrite {
        upserts: &page,
        ..PageWrite::default()
    };
    s.apply_bulk_page("Account", &write, BulkMark::Save(&first))
        .unwrap();
    assert_eq!(s.bulk_checkpoint("Account").unwrap(), Some(first.clone()));

    // A page that fails leaves the rows and the checkpoint of the page before.
    let next = BulkCheckpoint {
        rows_done: 4000,
        ..first.clone()
    };
    s.fail_page_after(Some(1));
    let more = rows(&["001C", "001D"]);
    let err = s
        .apply_bulk_page(
            "Account",
            &PageWrite {
                upserts: &more,
                ..PageWrite::default()
            },
            BulkMark::Save(&next),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::Injected), "{err}");
    s.fail_page_after(None);
    assert_eq!(s.bulk_checkpoint("Account").unwrap(), Some(first));
    assert_eq!(s.row_count("Account").unwrap(), 2);

    // The last page clears it together with the cursor it sets.
    let cursor = Cursor {
        system_modstamp: "2026-01-01T00:00:00.000Z".into(),
        last_id: String::new(),
        field_set_hash: "fields-v1:Name".into(),
        full_sync_done: true,
    };
    s.apply_bulk_page(
        "Account",
        &PageWrite {
            upserts: &more,
            cursor: Some(&cursor),
            ..PageWrite::default()
        },
        BulkMark::Clear,
    )
    .unwrap();
    assert_eq!(s.bulk_checkpoint("Account").unwrap(), None);
    assert_eq!(s.cursor("Account").unwrap(), Some(cursor));
    assert_eq!(s.row_count("Account").unwrap(), 4);

    s.apply_bulk_page("Account", &PageWrite::default(), BulkMark::Save(&next))
        .unwrap();
    s.clear_bulk_checkpoint("Account").unwrap();
    assert_eq!(s.bulk_checkpoint("Account").unwrap(), None);
}
