//! The log pane: the newest lines of syncdeck.log above the selected source's events,
//! so the operator reads what happened without leaving the TUI.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::tui::app::App;
use crate::tui::format;
use crate::tui::screens::wrap;
use crate::tui::theme::Theme;

fn bordered(title: String, theme: &Theme) -> Block<'static> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(title, theme.title))
}

pub fn render(
    app: &App,
    frame: &mut Frame,
    area: Rect,
    source: &str,
    lines: &Result<Vec<String>, String>,
    scroll: usize,
) {
    let theme = &app.theme;
    let events_height = (area.height / 3).max(4);
    let [log_area, events_area] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(events_height)]).areas(area);

    let location = app.log_location().unwrap_or_else(|| "syncdeck.log".into());
    let title = match lines {
        Ok(l) if scroll > 0 => format!(
            " {} · {} lines up of {} ",
            format::truncate(&location, 50),
            scroll,
            l.len()
        ),
        _ => format!(" {} · newest last ", format::truncate(&location, 60)),
    };
    let block = bordered(title, theme);
    let inner = block.inner(log_area);
    frame.render_widget(block, log_area);
    let body = log_lines(lines, scroll, inner, theme);
    frame.render_widget(Paragraph::new(body), inner);
    render_events(app, frame, events_area, source);
}

/// Whole log lines wrap (a log line is read in full); the newest screen lines up to the
/// scroll position fill `inner`.
fn log_lines(
    lines: &Result<Vec<String>, String>,
    scroll: usize,
    inner: Rect,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let width = inner.width as usize;
    let rows = inner.height as usize;
    let l = match lines {
        Err(e) => return vec![Line::from(Span::styled(e.clone(), theme.err))],
        Ok(l) if l.is_empty() => {
            return vec![Line::from(Span::styled(
                "The log is empty (or not written yet).",
                theme.dim,
            ))];
        }
        Ok(l) => l,
    };
    let end = l
        .len()
        .saturating_sub(scroll.min(l.len().saturating_sub(1)));
    let mut shown: Vec<Line> = Vec::new();
    for line in l[..end].iter().rev() {
        let style = if line.contains(" ERROR ") {
            theme.err
        } else if line.contains(" WARN ") {
            theme.warn
        } else {
            theme.label
        };
        let mut wrapped: Vec<Line> = wrap(line, width)
            .into_iter()
            .map(|part| Line::from(Span::styled(part, style)))
            .collect();
        wrapped.reverse();
        shown.extend(wrapped);
        if shown.len() >= rows {
            break;
        }
    }
    shown.truncate(rows);
    shown.reverse();
    shown
}

/// The selected source's events, newest first, one line each.
fn render_events(app: &App, frame: &mut Frame, area: Rect, source: &str) {
    let theme = &app.theme;
    let snapshot = app.source(source);
    let name = snapshot.map(|s| s.name.as_str()).unwrap_or(source);
    let block = bordered(format!(" Events · {} ", format::truncate(name, 40)), theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let events: Vec<Line> = snapshot
        .map(|s| s.events.as_slice())
        .unwrap_or(&[])
        .iter()
        .rev()
        .take(inner.height as usize)
        .map(|e| {
            let when = e.at.format("%H:%M:%S").to_string();
            let text = format::truncate(&e.message, width.saturating_sub(when.len() + 1));
            Line::from(vec![
                Span::styled(format!("{when} "), theme.dim),
                Span::styled(text, theme.event(e.level)),
            ])
        })
        .collect();
    if events.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled("no events yet", theme.dim)),
            inner,
        );
    } else {
        frame.render_widget(Paragraph::new(events), inner);
    }
}
