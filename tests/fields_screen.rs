//! Snapshots of the Edit Data Sync screens at 80×24 and 120×40.

mod fields_support;

use fields_support::{draw, key, screen, type_keys};
use ratatui::crossterm::event::KeyCode;
use syncdeck::tui::fields::FieldsScreen;

fn snapshot_both(name: &str, mut setup: impl FnMut() -> FieldsScreen) {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut s = setup();
        let terminal = draw(&mut s, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), terminal.backend());
    }
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn tree_collapsed() {
    snapshot_both("tree_collapsed", || screen(false));
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn tree_expanded() {
    snapshot_both("tree_expanded", || {
        let mut s = screen(false);
        s.handle_key(key(KeyCode::Char('l'))); // open Account
        type_keys(&mut s, "jjjj");
        s
    });
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn tree_searching() {
    snapshot_both("tree_searching", || {
        let mut s = screen(false);
        type_keys(&mut s, "/bilcity");
        s
    });
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn preset_diff() {
    snapshot_both("preset_diff", || {
        let mut s = screen(false);
        s.handle_key(key(KeyCode::Tab));
        type_keys(&mut s, "j"); // Sales
        s.handle_key(key(KeyCode::Enter));
        s
    });
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn presets_list() {
    snapshot_both("presets_list", || {
        let mut s = screen(false);
        s.handle_key(key(KeyCode::Tab));
        type_keys(&mut s, "jjjj"); // Partnerships
        s
    });
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn review() {
    snapshot_both("review", || {
        let mut s = screen(false);
        // Subscription__c: select the whole object (required and formula fields included).
        s.handle_key(key(KeyCode::End));
        s.handle_key(key(KeyCode::Char(' ')));
        // Account.Website off, Account.AnnualRevenue on.
        s.handle_key(key(KeyCode::Home));
        type_keys(&mut s, "/webs");
        s.handle_key(key(KeyCode::Enter)); // lands on Account.Website
        type_keys(&mut s, " ");
        s.handle_key(key(KeyCode::Esc));
        type_keys(&mut s, "/annualrev");
        s.handle_key(key(KeyCode::Enter));
        type_keys(&mut s, "a");
        s.handle_key(key(KeyCode::Esc));
        type_keys(&mut s, "r");
        s
    });
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn paused() {
    let mut s = screen(true);
    s.handle_key(key(KeyCode::Char(' ')));
    let terminal = draw(&mut s, 80, 24);
    insta::assert_snapshot!("paused_80x24", terminal.backend());
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn never_panics_at_small_sizes() {
    let mut s = screen(false);
    type_keys(&mut s, "l/name");
    for (w, h) in [(0, 0), (1, 1), (10, 0), (0, 10), (5, 3), (20, 5), (40, 8)] {
        draw(&mut s, w, h);
    }
    s.handle_key(key(KeyCode::Enter));
    type_keys(&mut s, "r");
    for (w, h) in [(1, 1), (12, 4), (30, 6)] {
        draw(&mut s, w, h);
    }
}

#[test]
#[cfg_attr(
    not(syncdeck_fixtures),
    ignore = "recorded payloads: set SYNCDECK_FIXTURES=<dir>"
)]
fn search_matches_are_highlighted() {
    use ratatui::style::Modifier;
    let mut s = screen(false);
    type_keys(&mut s, "/bilcity");
    let terminal = draw(&mut s, 80, 24);
    let buffer = terminal.backend().buffer();
    let row = (0..buffer.area.height)
        .find(|&y| {
            (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
                .contains("BillingCity")
        })
        .expect("BillingCity row");
    let line: String = (0..buffer.area.width)
        .map(|x| buffer[(x, row)].symbol())
        .collect();
    let byte = line.find("BillingCity").unwrap();
    let x0 = line[..byte].chars().count() as u16; // one cell per char on this row
    let bold = |x: u16| {
        buffer[(x0 + x, row)]
            .style()
            .add_modifier
            .contains(Modifier::BOLD)
    };
    assert!(bold(0) && bold(1) && bold(2), "b, i, l of Billing");
    assert!(!bold(3), "the second l is not part of the match");
    assert!(bold(7) && bold(10), "C and y of City");
}
