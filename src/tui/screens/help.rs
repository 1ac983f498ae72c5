//! `?` overlay: every binding of the screen underneath, from the keymap table.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::App;
use crate::tui::format;
use crate::tui::keymap::{self, Context};
use crate::tui::screens::modal;

pub fn render(app: &App, frame: &mut Frame, area: Rect, under: Context) {
    let theme = &app.theme;
    let bindings: Vec<_> = keymap::bindings(under)
        .iter()
        .chain(keymap::globals(under))
        .collect();
    let key_width = bindings
        .iter()
        .map(|b| format::display_width(b.shown))
        .max()
        .unwrap_or(0)
        + 2;
    let title = Line::from(Span::styled(
        format!(" Help · {} ", under.title()),
        theme.title,
    ));
    let inner = modal(frame, area, 56, bindings.len() as u16 + 4, title, theme);
    let mut lines: Vec<Line> = bindings
        .iter()
        .map(|b| {
            let pad = key_width.saturating_sub(format::display_width(b.shown));
            Line::from(vec![
                Span::styled(format!(" {}{}", b.shown, " ".repeat(pad)), theme.key),
                Span::raw(b.desc),
            ])
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        " Ctrl-S/Ctrl-Q are never used (SSH flow control).",
        theme.dim,
    )));
    frame.render_widget(Paragraph::new(lines), inner);
}
