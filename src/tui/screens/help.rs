//! `?` overlay: every binding of the screen underneath, from the keymap table.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::App;
use crate::tui::keymap::{self, Context};
use crate::tui::screens::modal;
use crate::tui::widgets::key_list::key_lines;

pub fn render(app: &App, frame: &mut Frame, area: Rect, under: Context) {
    let theme = &app.theme;
    let bindings: Vec<_> = keymap::bindings(under)
        .iter()
        .chain(keymap::globals(under))
        .collect();
    let title = Line::from(Span::styled(
        format!(" Help · {} ", under.title()),
        theme.title,
    ));
    let inner = modal(frame, area, 56, bindings.len() as u16 + 4, title, theme);
    let mut lines = key_lines(bindings.iter().map(|b| (b.shown, b.desc)), theme.key);
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        " Ctrl-S/Ctrl-Q are never used (SSH flow control).",
        theme.dim,
    )));
    frame.render_widget(Paragraph::new(lines), inner);
}
