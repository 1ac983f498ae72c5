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
    // On a narrow screen the box takes the whole width (the right column gets the odd
    // cell): a box one cell short would leave the screen's last column showing through.
    let width = if column_width < COLUMN_WIDTH {
        area.width
    } else {
        column_width * 2 + 3
    };
    let inner = boxed(frame, area, width, height, title, styles);
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

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::buffer::Buffer;

    use super::*;

    /// The help of `under` drawn over a screen full of `X`.
    fn draw(under: Context, width: u16, height: u16) -> Buffer {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        let styles = HelpStyles {
            title: Style::new(),
            key: Style::new(),
            note: Style::new(),
            border: Style::new(),
        };
        terminal
            .draw(|f| {
                let area = f.area();
                let fill = "X".repeat(area.width as usize);
                let lines: Vec<Line> = (0..area.height).map(|_| Line::from(fill.clone())).collect();
                f.render_widget(Paragraph::new(lines), area);
                render(f, area, under, "any key closes this help", &styles);
            })
            .unwrap();
        terminal.backend().buffer().clone()
    }

    fn row(buf: &Buffer, y: u16) -> String {
        (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect()
    }

    #[test]
    fn every_help_is_whole_and_leaves_no_sliver_of_the_screen_at_80x24_and_120x40() {
        let mut two_columns = 0;
        for (width, height) in [(80, 24), (120, 40)] {
            for under in Context::ALL {
                let buf = draw(under, width, height);
                let rows: Vec<String> = (0..height).map(|y| row(&buf, y)).collect();
                let top = rows.iter().position(|r| r.contains('┌')).unwrap();
                let bottom = rows.iter().rposition(|r| r.contains('┘')).unwrap();
                let chars: Vec<char> = rows[top].chars().collect();
                let left = chars.iter().position(|&c| c == '┌').unwrap();
                let right = chars.iter().position(|&c| c == '┐').unwrap();
                let margin_right = width as usize - 1 - right;
                let at = format!("{under:?} at {width}x{height}");
                assert!(
                    (left == 0) == (margin_right == 0),
                    "{at}: the box reaches one edge only ({left} | {margin_right})\n{}",
                    rows.join("\n")
                );
                for r in &rows[top..=bottom] {
                    let inside: String = r.chars().skip(left).take(right + 1 - left).collect();
                    assert!(
                        !inside.contains('X'),
                        "{at}: screen shows inside the box: {r}"
                    );
                }
                let text = rows[top..=bottom].join("\n");
                for (keys, desc) in entries(under) {
                    let shown = rows[top..=bottom]
                        .iter()
                        .any(|r| r.contains(&format!(" {keys} ")) && r.contains(desc));
                    assert!(shown, "{at}: `{keys} {desc}` not shown whole\n{text}");
                }
                assert!(text.contains("any key closes this help"), "{at}\n{text}");
                if entries(under).len() + 4 > height as usize {
                    two_columns += 1;
                }
            }
        }
        assert!(two_columns > 0, "the two-column layout is covered");
    }
}
