//! The last verification in the table's details panel and on Live status.

mod tui_common;

use chrono::Duration;
use syncdeck::model::VerifySummary;
use syncdeck::tui::Theme;
use syncdeck::tui::fake;
use tui_common::harness_with;

fn with_verify(outcome: &str, rows: u64, hours_ago: i64) -> syncdeck::model::Snapshot {
    let mut snap = fake::snapshot();
    snap.sources[0].verify = Some(VerifySummary {
        finished: fake::now() - Duration::hours(hours_ago),
        outcome: outcome.into(),
        rows_differing: rows,
        unfilled_fields: 0,
        api_calls: 65,
    });
    snap
}

#[test]
fn details_panel_and_live_status_show_an_exact_verification() {
    let mut h = harness_with(with_verify("exact", 0, 3), Theme::color());
    assert!(h.screen_text(120, 40).contains("verified exact 3h ago"));
    h.keys("l");
    assert!(h.screen_text(120, 40).contains("verified exact 3h ago"));
}

#[test]
fn details_panel_and_live_status_show_differences_and_the_fix() {
    let mut h = harness_with(with_verify("differs", 12, 1), Theme::color());
    let fix = "12 rows differ · run syncdeck verify --repair";
    assert!(h.screen_text(120, 40).contains(fix));
    h.keys("l");
    assert!(h.screen_text(120, 40).contains(fix));
}
