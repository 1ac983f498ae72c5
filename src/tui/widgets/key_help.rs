//! The `?` overlay: every binding of one keymap context, exactly as the table has them.
//! When the area is too short for one column, the bindings flow into two.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::tui::keymap::{self, Context};
use crate::tui::widgets::centered;
use crate::tui::widgets::key_list::key_lines;

const COLUMN_WIDTH: u16 = 54;

#[derive(Debug, Clone, Copy)]
pub struct HelpStyles {
    pub title: Style,
    pub key: Style,
    pub note: Style,
    pub border: Style,
}

/// The help's entries for `under`: (keys as written, description), table order.
pub fn entries(under: Context) -> Vec<(String, &'static str)> {
    keymap::all(under).map(|b| (b.label(), b.desc)).collect()
}

/// Draws the overlay for the bindings of `under`, `note` on its last line.
pub fn render(frame: &mut Frame, area: Rect, under: Context, note: &str, styles: &HelpStyles) {
    let entries = entries(under);
    let title = Line::from(Span::styled(
        format!(" Help · {} ", under.title()),
        styles.title,
    ));
    let note = Line::from(Span::styled(format!(" {note}"), styles.note));
    let one_column = entries.len() as u16 + 4;
    let column_width = COLUMN_WIDTH.min(area.width.saturating_sub(3) / 2);
    let two_columns = one_column > area.height && column_width >= 30;
    if !two_columns {
        let inner = boxed(frame, area, COLUMN_WIDTH + 2, one_column, title, styles);
        let mut lines = key_lines(&entries, styles.key);
        lines.push(Line::default());
        lines.push(note);
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    }
    let half = entries.len().div_ceil(2);
    let height = half as u16 + 4;
    let inner = boxed(frame, area, column_width * 2 + 3, height, title, styles);
    let [body, note_area] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(2)]).areas(inner);
    let [left, _, right] = Layout::horizontal([
        Constraint::Length(column_width),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(body);
    let (first, second) = entries.split_at(half);
    for (column, rect) in [(first, left), (second, right)] {
        frame.render_widget(Paragraph::new(key_lines(column, styles.key)), rect);
    }
    frame.render_widget(Paragraph::new(vec![Line::default(), note]), note_area);
}

fn boxed(
    frame: &mut Frame,
    area: Rect,
    width: u16,
    height: u16,
    title: Line,
    styles: &HelpStyles,
) -> Rect {
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(styles.border)
        .title(title);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    inner
}
