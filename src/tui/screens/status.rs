//! Live status of one source: per-object progress, records/s, API-usage sparkline, events.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline};

use crate::sync::{RunKind, SourceSnapshot, Status};
use crate::tui::app::App;
use crate::tui::format;
use crate::tui::screens::{error_lines, status_line};
use crate::tui::theme::Theme;
use crate::tui::widgets::gauge::usage_gauge;

pub fn render(app: &App, frame: &mut Frame, area: Rect, source: &str) {
    let theme = &app.theme;
    let Some(s) = app.source(source) else {
        frame.render_widget(
            Paragraph::new(format!(
                "Source \"{source}\" is no longer configured. Press esc."
            ))
            .block(bordered(" Live status ", theme)),
            area,
        );
        return;
    };
    let objects = s.running.as_ref().map(|r| r.objects.len()).unwrap_or(0) as u16;
    let run_height = (objects + 4).max(5).min(area.height / 2);
    let [run_area, usage_area, events_area] = Layout::vertical([
        Constraint::Length(run_height),
        Constraint::Length(6),
        Constraint::Min(3),
    ])
    .areas(area);
    render_run(app, frame, run_area, s);
    render_usage(app, frame, usage_area, s);
    render_events(app, frame, events_area, s);
}

fn bordered<'a>(title: &'a str, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(title, theme.title))
}

fn render_run(app: &App, frame: &mut Frame, area: Rect, s: &SourceSnapshot) {
    let theme = &app.theme;
    let title = format!(" {} ", s.name);
    let block = bordered(&title, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let mut lines = vec![status_line(s, app.now, theme)];
    if let Status::Error(e) = &s.status {
        lines.extend(error_lines(e, app.now, width, theme).into_iter().take(2));
    }
    match &s.running {
        None => {
            let last = match &s.last_run {
                Some(r) => format!(
                    "Idle · last run {} · {} upserted, {} deleted, {} API calls",
                    format::ago(app.now, r.finished),
                    format::grouped(r.upserted),
                    format::grouped(r.deleted),
                    format::grouped(r.api_calls)
                ),
                None => "Idle · no run yet".into(),
            };
            lines.push(Line::from(Span::styled(last, theme.dim)));
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
        }
        Some(run) => {
            let kind = match run.kind {
                RunKind::Initial => "Initial sync",
                RunKind::Incremental => "Incremental sync",
                RunKind::Full => "Full resync",
            };
            let started = run
                .started
                .map(|t| format!(" · started {}", format::ago(app.now, t)))
                .unwrap_or_default();
            lines.push(Line::from(Span::styled(
                format!(
                    "{kind}{started} · {:.0} records/s · {} API calls",
                    run.records_per_second,
                    format::grouped(run.api_calls)
                ),
                theme.label,
            )));
            let name_width = run
                .objects
                .iter()
                .map(|o| format::display_width(&o.object))
                .max()
                .unwrap_or(0)
                .min(24);
            let counts_width = run
                .objects
                .iter()
                .map(|o| format::display_width(&object_counts(o)))
                .max()
                .unwrap_or(0);
            for o in &run.objects {
                lines.push(object_line(o, name_width, counts_width, width, theme));
            }
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn object_counts(o: &crate::sync::ObjectProgress) -> String {
    match o.expected {
        Some(e) => format!("{}/{}", format::grouped(o.done), format::grouped(e)),
        None => format!("{} so far", format::grouped(o.done)),
    }
}

/// `Contact  ██████░░░░  40% 19,200/48,000`, bars aligned across objects.
fn object_line(
    o: &crate::sync::ObjectProgress,
    name_width: usize,
    counts_width: usize,
    width: usize,
    theme: &Theme,
) -> Line<'static> {
    let name = format::truncate(&o.object, name_width);
    let pad = name_width.saturating_sub(format::display_width(&name));
    let counts = object_counts(o);
    let mark = if o.finished { " ✓" } else { "  " };
    // name + space + bar + " 100%" + space + counts + mark
    let bar_width = width.saturating_sub(name_width + 1 + 5 + 1 + counts_width + 2);
    let ratio = match (o.finished, o.expected) {
        (true, _) => 1.0,
        (false, Some(e)) if e > 0 => (o.done as f64 / e as f64).min(1.0),
        _ => 0.0,
    };
    let filled = (ratio * bar_width as f64).round() as usize;
    Line::from(vec![
        Span::raw(format!("{name}{} ", " ".repeat(pad))),
        Span::styled("█".repeat(filled), theme.gauge_fill),
        Span::styled("░".repeat(bar_width - filled), theme.gauge_empty),
        Span::styled(format!(" {:>3.0}% ", ratio * 100.0), theme.label),
        Span::styled(format!("{counts:>counts_width$}"), theme.dim),
        Span::styled(mark.to_string(), theme.ok),
    ])
}

fn render_usage(app: &App, frame: &mut Frame, area: Rect, s: &SourceSnapshot) {
    let theme = &app.theme;
    let title = match (s.api.samples.first(), s.api.samples.last()) {
        (Some((first, _)), Some((last, _))) if last > first => {
            format!(" API usage · last {} ", format::duration(*first, *last))
        }
        _ => " API usage ".to_string(),
    };
    let block = bordered(&title, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    let [gauge_row, spark_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
    let mut spans = usage_gauge(
        s.api.percent(),
        s.quota_threshold_percent,
        gauge_row.width.saturating_sub(34).min(40),
        theme,
    )
    .spans;
    let summary = match (s.api.used, s.api.max) {
        (Some(u), Some(m)) => format!(
            "  {} / {} · pauses at {}%",
            format::grouped(u),
            format::grouped(m),
            s.quota_threshold_percent
        ),
        _ => "  not measured yet".into(),
    };
    spans.push(Span::styled(summary, theme.dim));
    frame.render_widget(Paragraph::new(Line::from(spans)), gauge_row);
    let data: Vec<u64> = s.api.samples.iter().map(|(_, used)| *used).collect();
    if data.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled("no samples yet", theme.dim)),
            spark_area,
        );
        return;
    }
    let take = spark_area.width as usize;
    let recent = &data[data.len().saturating_sub(take)..];
    let max = s
        .api
        .max
        .unwrap_or(0)
        .max(recent.iter().copied().max().unwrap_or(1));
    frame.render_widget(
        Sparkline::default()
            .data(recent)
            .max(max)
            .style(theme.gauge_fill),
        spark_area,
    );
}

fn render_events(app: &App, frame: &mut Frame, area: Rect, s: &SourceSnapshot) {
    let theme = &app.theme;
    let block = bordered(" Events ", theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let lines: Vec<Line> = s
        .events
        .iter()
        .rev()
        .take(inner.height as usize)
        .map(|e| {
            let symbol = match e.level {
                crate::sync::EventLevel::Info => "·",
                crate::sync::EventLevel::Warn => "!",
                crate::sync::EventLevel::Error => "✗",
            };
            let when = e.at.format("%H:%M:%S").to_string();
            let text = format::truncate(&e.message, width.saturating_sub(when.len() + 3));
            Line::from(vec![
                Span::styled(format!("{when} "), theme.dim),
                Span::styled(format!("{symbol} {text}"), theme.event(e.level)),
            ])
        })
        .collect();
    if lines.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled("no events yet", theme.dim)),
            inner,
        );
    } else {
        frame.render_widget(Paragraph::new(lines), inner);
    }
}
