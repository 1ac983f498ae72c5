//! What both backends promise about the checkpoints a page commits with: Bulk checkpoints
//! and slice positions are saved in the page's own transaction, so a failed page leaves the
//! previous checkpoint and rows as they were.

use serde_json::json;

use super::{
    BulkCheckpoint, BulkMark, Cursor, PageWrite, SliceCursor, Store, StoreError, StoreField,
};
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

fn slice(n: u32, position: Option<&str>, done: bool) -> SliceCursor {
    SliceCursor {
        slice: n,
        from: format!("2024-0{}-01T00:00:00.000Z", n + 1),
        until: (n < 1).then(|| "2024-02-01T00:00:00.000Z".to_string()),
        position: position.map(str::to_string),
        done,
        field_set_hash: "h1".into(),
        from_start: true,
    }
}

/// Run the slice contract on an empty store: a slice's page and its new position commit
/// together, a failed page moves neither, and finishing hands over to the cursor.
pub(crate) fn slice_pages_commit_with_their_position(s: &mut Store) {
    s.ensure_object_table("Account", &[StoreField::new("Name", "string")])
        .unwrap();
    s.put_slice_cursors("Account", &[slice(0, None, false), slice(1, None, false)])
        .unwrap();
    let moved = slice(1, Some("2024-05-01T10:00:00.000+0000"), false);
    fn page(upserts: &Records) -> PageWrite<'_> {
        PageWrite {
            upserts,
            deletes: &[],
            cursor: None,
        }
    }
    s.apply_slice_page("Account", &page(&rows(&["001A"])), &moved)
        .unwrap();
    assert_eq!(
        s.slice_cursors("Account").unwrap(),
        vec![slice(0, None, false), moved.clone()]
    );
    assert_eq!(
        s.cursor("Account").unwrap(),
        None,
        "slices leave the cursor alone"
    );

    s.fail_page_after(Some(1));
    let failed = s.apply_slice_page(
        "Account",
        &page(&rows(&["001B", "001C"])),
        &slice(0, Some("2024-05-02T00:00:00.000+0000"), true),
    );
    assert!(matches!(failed, Err(StoreError::Injected)), "{failed:?}");
    s.fail_page_after(None);
    assert_eq!(s.all_ids("Account").unwrap(), ["001A"]);
    assert_eq!(
        s.slice_cursors("Account").unwrap()[0],
        slice(0, None, false)
    );

    let done = Cursor {
        system_modstamp: "2024-05-01T10:00:00.000+0000".into(),
        last_id: String::new(),
        field_set_hash: "h1".into(),
        full_sync_done: false,
    };
    s.finish_slices("Account", &done).unwrap();
    assert!(s.slice_cursors("Account").unwrap().is_empty());
    assert_eq!(s.cursor("Account").unwrap(), Some(done));
}
