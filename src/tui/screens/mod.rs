//! Pure renderers: each screen draws the `App` model; none of them mutates it.

mod actions;
mod auth;
mod event_text;
mod help;
mod history;
mod log;
mod selection;
mod settings;
mod sources;
mod status;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::model::{ErrorInfo, ErrorKind, SourceSnapshot, Status};
use crate::tui::app::{App, Screen};
use crate::tui::format;
use crate::tui::keymap::{self, Action, Context, Hint};
use crate::tui::theme::{Theme, status_symbol};
use crate::tui::widgets::key_list::{self, KeyStyles};

/// Below this the app shows only a "too small" notice instead of squeezed screens.
pub const MIN_WIDTH: u16 = 30;
pub const MIN_HEIGHT: u16 = 8;

pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "syncdeck needs at least {MIN_WIDTH}×{MIN_HEIGHT}; this terminal is {}×{}. Enlarge it, or press {} to quit.",
            area.width,
            area.height,
            keymap::keys(app.context(), Action::Quit)
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);

    // The topmost full screen is the backdrop; everything above it draws as a modal.
    let base = app.stack.iter().rposition(|s| {
        matches!(
            s,
            Screen::Status { .. } | Screen::History { .. } | Screen::Log { .. }
        )
    });
    let title = render_backdrop(app, frame, body, base.map(|i| &app.stack[i]));
    render_header(app, frame, header, title);
    let modals = base.map(|i| i + 1).unwrap_or(0);
    for screen in &app.stack[modals..] {
        render_modal(app, frame, body, screen);
    }
    render_footer(app, frame, footer);
}

/// The full screen under the modals; returns its title for the header.
fn render_backdrop(
    app: &App,
    frame: &mut Frame,
    body: Rect,
    base: Option<&Screen>,
) -> &'static str {
    match base {
        Some(Screen::Status { source, event }) => {
            status::render(app, frame, body, source, *event);
            "Live status"
        }
        Some(Screen::Log {
            source,
            lines,
            scroll,
        }) => {
            log::render(app, frame, body, source, lines, *scroll);
            "Log"
        }
        Some(Screen::History {
            source,
            rows,
            scroll,
        }) => {
            history::render(app, frame, body, source, rows, *scroll);
            "Run history"
        }
        _ => {
            sources::render(app, frame, body);
            "Data Sources"
        }
    }
}

fn render_modal(app: &App, frame: &mut Frame, body: Rect, screen: &Screen) {
    match screen {
        Screen::Actions { source, cursor } => actions::render(app, frame, body, source, *cursor),
        Screen::Settings(form) => settings::render(app, frame, body, form),
        Screen::Selection {
            source,
            objects,
            scroll,
        } => selection::render(app, frame, body, source, objects, *scroll),
        Screen::Fields(edit) => {
            if let Ok(mut screen) = edit.screen.try_borrow_mut() {
                frame.render_widget(Clear, body);
                screen.render(frame, body);
            }
        }
        Screen::Auth { source, flow } => auth::render(app, frame, body, source, *flow),
        Screen::Help { under } => help::render(app, frame, body, *under),
        Screen::EventText {
            title,
            text,
            scroll,
            scroll_max,
        } => scroll_max.set(event_text::render(app, frame, body, title, text, *scroll)),
        // Full screens: drawn as the backdrop.
        Screen::Status { .. } | Screen::History { .. } | Screen::Log { .. } => {}
    }
}

fn render_header(app: &App, frame: &mut Frame, area: Rect, title: &str) {
    let theme = &app.theme;
    let mut counts: Vec<(Status, usize)> = Vec::new();
    for s in &app.snapshot.sources {
        let key = match &s.status {
            Status::Error(_) => Status::Error(placeholder_error()),
            other => other.clone(),
        };
        match counts.iter_mut().find(|(st, _)| st.label() == key.label()) {
            Some((_, n)) => *n += 1,
            None => counts.push((key, 1)),
        }
    }
    // Full labels when they fit, symbols and counts ("✓1 ✗1") when they do not.
    let counts_line = |compact: bool| {
        let mut spans: Vec<Span> = Vec::new();
        for (status, n) in &counts {
            if !spans.is_empty() {
                spans.push(Span::styled(if compact { " " } else { " · " }, theme.dim));
            }
            let text = if compact {
                format!("{}{n}", status_symbol(status))
            } else {
                format!("{} {n} {}", status_symbol(status), status.label())
            };
            spans.push(Span::styled(text, theme.status(status)));
        }
        Line::from(spans)
    };
    let mut left = Line::from(vec![
        Span::styled(" syncdeck ", theme.title),
        Span::styled("│ ", theme.dim),
        Span::styled(title.to_string(), theme.title),
    ]);
    if let Some(mode) = app.mode {
        let style = if app.engine_gone.is_some() {
            theme.err
        } else {
            theme.dim
        };
        let label = if app.engine_gone.is_some() {
            "engine gone".to_string()
        } else {
            mode.label()
        };
        left.spans.push(Span::styled(" │ ", theme.dim));
        left.spans.push(Span::styled(label, style));
    }
    let left_width = left.width() as u16 + 2;
    frame.render_widget(Paragraph::new(left), area);
    let room = area.width.saturating_sub(left_width);
    let right = [counts_line(false), counts_line(true)]
        .into_iter()
        .find(|line| (line.width() as u16) < room);
    if let Some(right) = right {
        let right_width = right.width() as u16;
        let r = Rect {
            x: area.x + area.width - right_width - 1,
            width: right_width,
            ..area
        };
        frame.render_widget(Paragraph::new(right), r);
    }
}

fn placeholder_error() -> ErrorInfo {
    ErrorInfo {
        kind: ErrorKind::Api,
        message: String::new(),
        retry_at: None,
        used: None,
        max: None,
    }
}

fn render_footer(app: &App, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let width = area.width as usize;
    if let Some(flash) = &app.flash {
        let style = if flash.is_error { theme.err } else { theme.ok };
        let text = format::truncate(&format!(" {}", flash.text), width);
        frame.render_widget(Paragraph::new(Span::styled(text, style)), area);
        return;
    }
    if let Some(gone) = &app.engine_gone {
        let quit = keymap::keys(app.context(), Action::Quit);
        let next = match app.mode {
            Some(crate::tui::app::EngineMode::Attached { .. }) => {
                format!("Press {quit}; syncdeck then offers to start a local engine.")
            }
            _ => format!("Press {quit} to quit, then run syncdeck again."),
        };
        let text = format::truncate(&format!(" {next} {gone}"), width);
        frame.render_widget(Paragraph::new(Span::styled(text, theme.err)), area);
        return;
    }
    if matches!(app.stack.last(), Some(Screen::Fields(_))) {
        return; // the field screen draws its own key hints
    }
    let ctx = app.context();
    let line = if ctx == Context::Sources {
        key_list::hints_line(source_hints(app), width, 1, key_styles(theme))
    } else {
        hints_line(ctx, width, theme)
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The table's footer: what applies to the selected source first (`a` when it has no
/// credentials, `p` to resume when paused, instead of `n`), then the keymap's hints.
fn source_hints(app: &App) -> Vec<Hint> {
    let ctx = Context::Sources;
    let first = match app.selected_source().map(|s| &s.status) {
        Some(Status::NotConnected) => Some(keymap::hint(ctx, Action::Reauthorize, "authorize")),
        Some(Status::Error(e)) if e.kind == ErrorKind::AuthRequired => {
            Some(keymap::hint(ctx, Action::Reauthorize, "reauthorize"))
        }
        Some(Status::NotSyncing) => Some(keymap::hint(ctx, Action::PauseResume, "resume")),
        _ => None,
    };
    let lead = usize::from(first.is_some());
    let mut hints: Vec<Hint> = first.into_iter().collect();
    // Sync now does not apply where the first hint is what to do instead.
    hints.extend(
        keymap::footer(ctx)
            .into_iter()
            .filter(|hint| !(hint.action == Action::SyncNow && lead > 0)),
    );
    if app.filter.is_some() {
        let clear = keymap::hint(ctx, Action::Back, "clear filter");
        hints.insert(hints.len().min(lead + 1), clear);
    }
    hints
}

/// Footer hints from the keymap, cut at a whole hint so nothing is half shown.
pub fn hints_line(ctx: Context, width: usize, theme: &Theme) -> Line<'static> {
    key_list::hints_line(keymap::footer(ctx), width, 1, key_styles(theme))
}

fn key_styles(theme: &Theme) -> KeyStyles {
    KeyStyles {
        key: theme.key,
        desc: theme.dim,
    }
}

/// A bordered modal centred in `area`, cleared underneath; returns the inner area.
pub fn modal(
    frame: &mut Frame,
    area: Rect,
    width: u16,
    height: u16,
    title: Line,
    theme: &Theme,
) -> Rect {
    let rect = crate::tui::widgets::centered(area, width, height);
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border_focus)
        .title(title);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    inner
}

/// "✓ Active" with its style: symbol and words carry the status, colour reinforces it.
pub fn status_span(status: &Status, theme: &Theme) -> Span<'static> {
    Span::styled(
        format!("{} {}", status_symbol(status), status.label()),
        theme.status(status),
    )
}

/// Status with its age ("since 3h ago") for detail panes.
pub fn status_line(source: &SourceSnapshot, now: DateTime<Utc>, theme: &Theme) -> Line<'static> {
    let mut spans = vec![status_span(&source.status, theme)];
    if let Status::Error(e) = &source.status {
        spans.push(Span::styled(format!(": {}", e.kind.label()), theme.err));
    }
    if let Some(since) = source.since {
        spans.push(Span::styled(
            format!("  since {}", format::ago(now, since)),
            theme.dim,
        ));
    }
    Line::from(spans)
}

/// What went wrong, what happens next, wrapped to `width`.
/// `ctx` is where the lines are shown: it decides how they say to reauthorize.
pub fn error_lines(
    e: &ErrorInfo,
    now: DateTime<Utc>,
    width: usize,
    ctx: Context,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut lines: Vec<Line> = wrap(&e.message, width)
        .into_iter()
        .map(|l| Line::from(Span::styled(l, theme.err)))
        .collect();
    let mut next = Vec::new();
    if let (Some(used), Some(max)) = (e.used, e.max) {
        next.push(format!(
            "API usage {} of {} calls",
            format::grouped(used),
            format::grouped(max)
        ));
    }
    match e.retry_at {
        Some(at) if at <= now => next.push(format!(
            "resumes by itself {}",
            crate::sync::quota::resume_text(at, now)
        )),
        Some(at) => next.push(format!(
            "resumes by itself {} ({})",
            format::until(now, at),
            format::timestamp(at)
        )),
        None if e.kind == ErrorKind::AuthRequired => next.push(reauthorize_hint(ctx)),
        None => {}
    }
    if !next.is_empty() {
        for l in wrap(&next.join(" · "), width) {
            lines.push(Line::from(Span::styled(l, theme.warn)));
        }
    }
    lines
}

/// How to reauthorize from `ctx`: its own key, the actions menu's, or the panel's button.
fn reauthorize_hint(ctx: Context) -> String {
    let binds = |ctx: Context, action| keymap::all(ctx).any(|b| b.action == action);
    if binds(ctx, Action::Reauthorize) {
        format!(
            "press {} to reauthorize",
            keymap::keys(ctx, Action::Reauthorize)
        )
    } else if binds(ctx, Action::OpenActions) {
        format!(
            "press {} then {} to reauthorize",
            keymap::keys(ctx, Action::OpenActions),
            keymap::keys(Context::Actions, Action::Reauthorize)
        )
    } else {
        "reauthorize with the button above".into()
    }
}

/// Greedy word wrap by display width; words longer than a line are cut.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for word in text.split_whitespace() {
        let mut word = word.to_string();
        loop {
            let w = format::display_width(&word);
            let need = if used == 0 { w } else { used + 1 + w };
            if need <= width {
                if used > 0 {
                    line.push(' ');
                }
                line.push_str(&word);
                used = need;
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                used = 0;
                continue;
            }
            // A single word wider than the line: split it.
            let take = chars_fitting(&word, width);
            lines.push(word.chars().take(take).collect());
            word = word.chars().skip(take).collect();
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// How many leading chars of `s` fit in `width` columns (at least one).
fn chars_fitting(s: &str, width: usize) -> usize {
    let mut used = 0;
    let mut n = 0;
    for c in s.chars() {
        let mut buf = [0u8; 4];
        let w = format::display_width(c.encode_utf8(&mut buf));
        if used + w > width {
            break;
        }
        used += w;
        n += 1;
    }
    n.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_on_words_and_splits_long_ones() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("abcdefgh", 3), vec!["abc", "def", "gh"]);
        assert_eq!(wrap("", 3), Vec::<String>::new());
        for l in wrap("https://example.com/a/very/long/url and words", 7) {
            assert!(format::display_width(&l) <= 7, "{l}");
        }
    }
}
