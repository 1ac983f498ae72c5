//! The actions ("three dots") menu of one source.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::{App, MenuItem};
use crate::tui::format;
use crate::tui::screens::modal;

pub fn render(app: &App, frame: &mut Frame, area: Rect, source: &str, cursor: usize) {
    let theme = &app.theme;
    let snapshot = app.source(source);
    let name = snapshot.map(|s| s.name.as_str()).unwrap_or(source);
    let enabled = snapshot.map(|s| s.sync_enabled).unwrap_or(true);
    let title = Line::from(Span::styled(
        format!(" {} ", format::truncate(name, 30)),
        theme.title,
    ));
    let inner = modal(
        frame,
        area,
        34,
        MenuItem::ALL.len() as u16 + 2,
        title,
        theme,
    );
    let lines: Vec<Line> = MenuItem::ALL
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let (key, label) = match item {
                MenuItem::Settings => ("s", "Settings"),
                MenuItem::SyncNow => ("n", "Sync now"),
                MenuItem::PauseResume if enabled => ("p", "Pause syncing"),
                MenuItem::PauseResume => ("p", "Resume syncing"),
                MenuItem::Reauthorize => ("a", "Reauthorize"),
                MenuItem::RunHistory => ("h", "Run history"),
                MenuItem::LiveStatus => ("l", "Live status"),
            };
            let marker = if i == cursor { "›" } else { " " };
            let text = format!("{marker} {label:<24}{key}");
            let style = if i == cursor {
                theme.selected
            } else {
                theme.label
            };
            Line::from(Span::styled(
                format::truncate(&text, inner.width as usize),
                style,
            ))
        })
        .collect();
    // A short terminal shows a window of the menu that always holds the cursor.
    let rows = (inner.height as usize).max(1);
    let first = cursor.saturating_sub(rows - 1);
    frame.render_widget(Paragraph::new(lines).scroll((first as u16, 0)), inner);
}
