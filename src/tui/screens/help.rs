//! `?` overlay: every binding of the screen underneath, from the keymap table. When the
//! terminal is too short for one column, the bindings flow into two.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::App;
use crate::tui::keymap::{self, Context};
use crate::tui::screens::modal;
use crate::tui::widgets::key_list::key_lines;

const COLUMN_WIDTH: u16 = 54;

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
    let note = Line::from(Span::styled(
        " Ctrl-S/Ctrl-Q are never used (SSH flow control).",
        theme.dim,
    ));
    let one_column = bindings.len() as u16 + 4;
    let column_width = COLUMN_WIDTH.min(area.width.saturating_sub(3) / 2);
    let two_columns = one_column > area.height && column_width >= 30;
    if !two_columns {
        let inner = modal(frame, area, COLUMN_WIDTH + 2, one_column, title, theme);
        let mut lines = key_lines(bindings.iter().map(|b| (b.shown, b.desc)), theme.key);
        lines.push(Line::default());
        lines.push(note);
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    }
    let half = bindings.len().div_ceil(2);
    let height = half as u16 + 4;
    let inner = modal(frame, area, column_width * 2 + 3, height, title, theme);
    let [body, note_area] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(2)]).areas(inner);
    let [left, _, right] = Layout::horizontal([
        Constraint::Length(column_width),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(body);
    let (first, second) = bindings.split_at(half);
    for (column, rect) in [(first, left), (second, right)] {
        let lines = key_lines(column.iter().map(|b| (b.shown, b.desc)), theme.key);
        frame.render_widget(Paragraph::new(lines), rect);
    }
    frame.render_widget(Paragraph::new(vec![Line::default(), note]), note_area);
}
