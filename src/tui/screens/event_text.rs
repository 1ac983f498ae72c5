//! The full text of one event, wrapped to the screen, scrollable; `y` copies it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::App;
use crate::tui::format;
use crate::tui::screens::{modal, wrap};

/// Draws the text from line `scroll` (held to the last full view); returns that last
/// scroll, which the key handler clamps to.
pub fn render(
    app: &App,
    frame: &mut Frame,
    area: Rect,
    title: &str,
    text: &str,
    scroll: usize,
) -> usize {
    let theme = &app.theme;
    let width = area.width.saturating_sub(4).max(10);
    let lines: Vec<Line> = wrap(text, width as usize)
        .into_iter()
        .map(|l| Line::from(Span::raw(l)))
        .collect();
    let height = (lines.len() as u16 + 2).min(area.height);
    let title = Line::from(Span::styled(
        format!(" {} ", format::truncate(title, width as usize - 2)),
        theme.title,
    ));
    let inner = modal(frame, area, width + 2, height, title, theme);
    let max_scroll = lines.len().saturating_sub(inner.height as usize);
    let shown = u16::try_from(scroll.min(max_scroll)).unwrap_or(u16::MAX);
    frame.render_widget(Paragraph::new(lines).scroll((shown, 0)), inner);
    max_scroll
}
