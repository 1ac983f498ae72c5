//! Field tree at scale: 800 objects × 60 fields (48 000 fields), fully expanded.
//! `cargo bench --bench field_tree` (release). Budgets: open < 50 ms, one 120×40 frame
//! < 2 ms, one search keystroke < 10 ms, memory growth < 50 MB.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use syncdeck::fields::Selection;
use syncdeck::fields::synthetic::synthetic_schema;
use syncdeck::tui::fields::FieldsScreen;

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn report(name: &str, samples: &mut [Duration], budget: Duration) {
    samples.sort();
    let median = samples[samples.len() / 2];
    let worst = samples[samples.len() - 1];
    let verdict = if median < budget { "ok" } else { "OVER BUDGET" };
    println!(
        "{name:<40} median {:>8.3} ms  max {:>8.3} ms  (budget {:.0} ms, n={}) {verdict}",
        median.as_secs_f64() * 1e3,
        worst.as_secs_f64() * 1e3,
        budget.as_secs_f64() * 1e3,
        samples.len()
    );
}

fn main() {
    let schema = Arc::new(synthetic_schema(800, 60));
    let fields: usize = schema.objects.iter().map(|o| o.fields.len()).sum();
    println!(
        "synthetic org: {} objects, {fields} fields",
        schema.objects.len()
    );

    let mut open = Vec::new();
    let before = resident_bytes();
    let mut kept = Vec::new();
    for _ in 0..10 {
        let start = Instant::now();
        let screen = FieldsScreen::new(Arc::clone(&schema), Selection::new(), false, None);
        open.push(start.elapsed());
        kept.push(screen);
    }
    let after = resident_bytes();
    report("open the screen", &mut open, Duration::from_millis(50));
    if let (Some(b), Some(a)) = (before, after) {
        println!(
            "{:<40} {:.1} MB per screen (RSS growth over 10 screens / 10)",
            "memory",
            a.saturating_sub(b) as f64 / 10.0 / 1e6
        );
    }
    drop(kept);

    let mut screen = FieldsScreen::new(Arc::clone(&schema), Selection::new(), false, None);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("test backend");
    screen.handle_key(key(KeyCode::Char('e'))); // expand all: 48 800 rows
    let mut frames = Vec::new();
    for i in 0..200 {
        // Move so each frame differs, as while scrolling.
        screen.handle_key(key(if i % 2 == 0 {
            KeyCode::PageDown
        } else {
            KeyCode::Down
        }));
        let start = Instant::now();
        terminal
            .draw(|frame| screen.render(frame, frame.area()))
            .expect("draw");
        frames.push(start.elapsed());
    }
    report(
        "render one 120x40 frame (all expanded)",
        &mut frames,
        Duration::from_millis(2),
    );

    let mut typing = Vec::new();
    let mut rescans = Vec::new();
    for _ in 0..10 {
        screen.handle_key(key(KeyCode::Char('/')));
        for c in "field0042".chars() {
            let start = Instant::now();
            screen.handle_key(key(KeyCode::Char(c)));
            typing.push(start.elapsed());
        }
        // Backspace cannot narrow: a full rescan.
        let start = Instant::now();
        screen.handle_key(key(KeyCode::Backspace));
        rescans.push(start.elapsed());
        screen.handle_key(key(KeyCode::Esc));
    }
    report(
        "search keystroke (typing, narrowing)",
        &mut typing,
        Duration::from_millis(10),
    );
    report(
        "search keystroke (backspace, rescan)",
        &mut rescans,
        Duration::from_millis(10),
    );
    black_box(screen.selection());
}
