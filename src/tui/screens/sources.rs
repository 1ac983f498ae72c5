//! The Data Sources table with the selected source's details below it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, HighlightSpacing, Paragraph, Row, Table, TableState};

use crate::model::{SourceSnapshot, Status};
use crate::tui::app::App;
use crate::tui::format;
use crate::tui::keymap::{self, Action, Context};
use crate::tui::screens::{error_lines, status_line, status_span};
use crate::tui::table_view::SortKey;
use crate::tui::widgets::gauge::usage_gauge;

const DETAILS_HEIGHT: u16 = 6;

pub fn render(app: &App, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    if app.snapshot.sources.is_empty() {
        let text = vec![
            Line::from(Span::styled("No data sources configured yet.", theme.title)),
            Line::from(
                "Add a [[source]] to config.toml (see `syncdeck config path`), then restart.",
            ),
        ];
        frame.render_widget(
            Paragraph::new(text).block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.border),
            ),
            area,
        );
        return;
    }
    let details_height = if area.height >= 14 { DETAILS_HEIGHT } else { 0 };
    let [table_area, details_area] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(details_height)]).areas(area);
    render_table(app, frame, table_area);
    if details_height > 0 {
        if let Some(source) = app.selected_source() {
            render_details(app, frame, details_area, source);
        }
    }
}

fn render_table(app: &App, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let wide = area.width >= 100;
    let gauge_width: u16 = if area.width >= 110 { 18 } else { 12 };
    let (header, widths) = columns(wide, gauge_width);
    let shown = app.visible_sources();
    let rows = shown.iter().map(|i| &app.snapshot.sources[*i]).map(|s| {
        let mut cells = vec![Cell::from(s.name.clone())];
        if wide {
            cells.push(Cell::from(s.kind.to_string()));
        }
        cells.extend([
            Cell::from(Line::from(status_span(&s.status, theme))),
            Cell::from(last_sync(app, s)),
            Cell::from(next_sync(app, s)),
            Cell::from(format::compact(s.records)),
            Cell::from(usage_gauge(
                s.api.percent(),
                s.quota_threshold_percent,
                gauge_width,
                theme,
            )),
            Cell::from(s.frequency.as_str()),
        ]);
        Row::new(cells)
    });
    let title = table_title(app, shown.len());
    let block = Block::default()
        .borders(Borders::TOP | Borders::BOTTOM)
        .border_style(theme.border)
        .title(title);
    if shown.is_empty() {
        let text = Paragraph::new(Span::styled(
            format!(
                "  No source matches the filter; {} clears it.",
                keymap::keys(Context::Sources, Action::Back)
            ),
            theme.warn,
        ))
        .block(block);
        frame.render_widget(text, area);
        return;
    }
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.title))
        .row_highlight_style(theme.selected)
        .highlight_symbol("› ")
        .highlight_spacing(HighlightSpacing::Always)
        .column_spacing(1)
        .block(block);
    let position = shown.iter().position(|i| *i == app.selected);
    let mut state = TableState::default().with_selected(position);
    frame.render_stateful_widget(table, area, &mut state);
}

/// Headers and widths; Kind only on wide terminals.
fn columns(wide: bool, gauge_width: u16) -> (Vec<&'static str>, Vec<Constraint>) {
    let mut header = vec!["Name"];
    let mut widths = vec![Constraint::Min(10)];
    if wide {
        header.push("Kind");
        widths.push(Constraint::Length(10));
    }
    header.extend([
        "Status",
        "Last sync",
        "Next sync",
        "Records",
        "API usage",
        "Freq",
    ]);
    widths.extend([
        Constraint::Length(15),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(7),
        Constraint::Length(gauge_width),
        Constraint::Length(6),
    ]);
    (header, widths)
}

/// "Data Sources", then the filter with its count and the sort order when not the
/// config's.
fn table_title(app: &App, shown: usize) -> Line<'static> {
    let theme = &app.theme;
    let mut title = vec![Span::styled(" Data Sources ", theme.title)];
    if let Some(filter) = &app.filter {
        let cursor = if filter.editing { "▏" } else { "" };
        title.push(Span::styled(
            format!(
                "/{}{cursor} ({} of {}) ",
                format::truncate(filter.text(), 30),
                shown,
                app.snapshot.sources.len()
            ),
            theme.key,
        ));
    }
    if app.sort != SortKey::Config {
        title.push(Span::styled(
            format!("sorted by {} ", app.sort.label()),
            theme.dim,
        ));
    }
    Line::from(title)
}

fn last_sync(app: &App, s: &SourceSnapshot) -> String {
    match &s.last_run {
        Some(run) => format::ago(app.now, run.finished),
        None => "never".into(),
    }
}

fn next_sync(app: &App, s: &SourceSnapshot) -> String {
    if let Some(run) = &s.running {
        return match run.percent_done() {
            Some(percent) => format!("sync {percent}%"),
            None => "running".into(),
        };
    }
    match &s.status {
        Status::NotConnected => "—".into(),
        Status::NotSyncing => "paused".into(),
        Status::Error(e) => match e.retry_at {
            Some(at) => format!(
                "retry {}",
                format::until(app.now, at).trim_start_matches("in ")
            ),
            None => "—".into(),
        },
        Status::Active | Status::SettingUp => match s.next_run {
            Some(at) => format::until(app.now, at),
            None if s.frequency == crate::config::Frequency::Manual => "manual".into(),
            None => "—".into(),
        },
    }
}

fn render_details(app: &App, frame: &mut Frame, area: Rect, s: &SourceSnapshot) {
    let theme = &app.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(format!(" {} ", s.name), theme.title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let mut lines = vec![status_line(s, app.now, theme)];
    match &s.status {
        Status::Error(e) => lines.extend(error_lines(e, app.now, width, Context::Sources, theme)),
        Status::NotConnected => lines.push(Line::from(Span::styled(
            format!(
                "No credentials yet: press {} to authorize this connection.",
                keymap::keys(Context::Sources, Action::Reauthorize)
            ),
            theme.warn,
        ))),
        Status::NotSyncing => lines.push(Line::from(Span::styled(
            format!(
                "Paused: press {} to resume (or Settings → Sync Data on, then {}).",
                keymap::keys(Context::Sources, Action::PauseResume),
                keymap::keys(Context::Settings, Action::Save)
            ),
            theme.warn,
        ))),
        _ => {}
    }
    let usage = match (s.api.used, s.api.max) {
        (Some(used), Some(max)) => format!(
            "API {} / {} today ({:.1}%) · pauses at {}%",
            format::grouped(used),
            format::grouped(max),
            s.api.percent().unwrap_or(0.0),
            s.quota_threshold_percent
        ),
        _ => format!(
            "API usage not measured yet · pauses at {}%",
            s.quota_threshold_percent
        ),
    };
    lines.push(Line::from(Span::styled(usage, theme.label)));
    // In a fleet, who syncs the source matters more than the verify and login lines below,
    // which the fixed-height box may cut.
    if let Some(f) = &s.fleet {
        lines.push(Line::from(Span::styled(
            super::status::fleet_line(f, app.now),
            theme.dim,
        )));
    }
    if let Some(v) = &s.verify {
        let style = if v.outcome == "exact" {
            theme.dim
        } else {
            theme.warn
        };
        lines.push(Line::from(Span::styled(
            v.line(&format::ago(app.now, v.finished)),
            style,
        )));
    }
    if let Some(c) = &s.connection {
        lines.push(Line::from(Span::styled(
            format!("{} · {}", c.username, c.instance_url),
            theme.dim,
        )));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
