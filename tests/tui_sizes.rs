//! Every screen renders at every size from 1×1 to 120×40 without panicking.

mod tui_common;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use tui_common::{Harness, harness};

type Setup = Box<dyn Fn(&mut Harness)>;

fn states() -> Vec<Harness> {
    let setups: Vec<Setup> = vec![
        Box::new(|_| {}),
        Box::new(|h| {
            h.keys("Gks")
                .key(KeyCode::Tab)
                .key(KeyCode::Enter)
                .keys("jjjjjjjj");
        }),
        Box::new(|h| {
            h.keys("/ini");
        }),
        Box::new(|h| {
            h.keys("/zzz").key(KeyCode::Enter);
        }),
        Box::new(|h| {
            h.app
                .set_log(Box::new(syncdeck::tui::fake::FakeLog::default()));
            h.keys("GkLk");
        }),
        Box::new(|h| {
            h.keys("Gklj").key(KeyCode::Enter);
        }),
        Box::new(|h| {
            h.keys(".jjjjj");
        }),
        Box::new(|h| {
            h.keys(".");
        }),
        Box::new(|h| {
            h.keys("Gks");
        }),
        Box::new(|h| {
            h.keys("s").key(KeyCode::Tab).key(KeyCode::Enter);
        }),
        Box::new(|h| {
            h.keys("s").key(KeyCode::Tab).key(KeyCode::Tab).keys("9");
        }),
        Box::new(|h| {
            h.keys("s ").key(KeyCode::Esc);
        }),
        Box::new(|h| {
            h.keys("s")
                .key(KeyCode::Tab)
                .key(KeyCode::Tab)
                .key(KeyCode::Tab)
                .key(KeyCode::Enter);
        }),
        Box::new(|h| {
            h.keys("Ga");
            let mut snap = syncdeck::tui::fake::snapshot();
            snap.version = 2;
            snap.sources[4].auth = Some(syncdeck::tui::fake::device_prompt());
            h.app.on_snapshot(snap);
        }),
        Box::new(|h| {
            h.keys("jl");
        }),
        Box::new(|h| {
            h.keys("h");
        }),
        Box::new(|h| {
            h.keys("?");
        }),
    ];
    setups
        .into_iter()
        .map(|f| {
            let mut h = harness();
            f(&mut h);
            h
        })
        .collect()
}

/// Every width up to 40 (where layouts break), then every 4th plus the common sizes.
fn widths() -> Vec<u16> {
    let mut w: Vec<u16> = (1..=40).chain((44..=120).step_by(4)).collect();
    w.extend([79, 81, 99, 101, 109, 111, 119]);
    w
}

#[test]
fn all_sizes_from_1x1_to_120x40_render() {
    for h in states() {
        let mut terminal = Terminal::new(TestBackend::new(1, 1)).unwrap();
        for width in widths() {
            for height in 1..=40u16 {
                terminal.backend_mut().resize(width, height);
                terminal
                    .resize(ratatui::layout::Rect::new(0, 0, width, height))
                    .unwrap();
                terminal.draw(|f| h.app.render(f)).unwrap();
            }
        }
    }
}

#[test]
fn empty_source_list_renders_at_all_sizes() {
    let mut h = harness();
    h.app.on_snapshot(syncdeck::model::Snapshot {
        version: 5,
        at: None,
        sources: Vec::new(),
    });
    h.keys("jks.?");
    let mut terminal = Terminal::new(TestBackend::new(1, 1)).unwrap();
    for width in [1u16, 2, 10, 30, 80, 120] {
        for height in 1..=40u16 {
            terminal.backend_mut().resize(width, height);
            terminal
                .resize(ratatui::layout::Rect::new(0, 0, width, height))
                .unwrap();
            terminal.draw(|f| h.app.render(f)).unwrap();
        }
    }
}
