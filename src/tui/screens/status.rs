//! Live status of one source: per-object progress, records/s, API-usage sparkline, events.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline};

use crate::model::{RunKind, SourceSnapshot, Status};
use crate::tui::app::App;
use crate::tui::format;
use crate::tui::keymap::{self, Action, Context};
use crate::tui::screens::{error_lines, status_line};
use crate::tui::theme::Theme;
use crate::tui::widgets::gauge::usage_gauge;

pub fn render(app: &App, frame: &mut Frame, area: Rect, source: &str, event: usize) {
    let theme = &app.theme;
    let Some(s) = app.source(source) else {
        frame.render_widget(
            Paragraph::new(format!(
                "Source \"{source}\" is no longer configured. Press {}.",
                keymap::keys(Context::Status, Action::Back)
            ))
            .block(bordered(" Live status ", theme)),
            area,
        );
        return;
    };
    let objects = s.running.as_ref().map(|r| r.objects.len()).unwrap_or(0) as u16;
    // Borders, the status line and the run line, the fleet line when there is one, then
    // one line per object.
    let fleet = u16::from(s.fleet.is_some());
    let run_height = (objects + 4 + fleet).max(5).min(area.height / 2);
    let [run_area, usage_area, events_area] = Layout::vertical([
        Constraint::Length(run_height),
        Constraint::Length(6),
        Constraint::Min(3),
    ])
    .areas(area);
    render_run(app, frame, run_area, s);
    render_usage(app, frame, usage_area, s);
    render_events(app, frame, events_area, s, event);
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
    if let Some(f) = &s.fleet {
        lines.push(Line::from(Span::styled(fleet_line(f, app.now), theme.dim)));
    }
    if let Status::Error(e) = &s.status {
        lines.extend(
            error_lines(e, app.now, width, Context::Status, theme)
                .into_iter()
                .take(2),
        );
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

/// Who syncs a fleet source: this daemon or another host, and its last heartbeat.
pub(super) fn fleet_line(f: &crate::model::FleetOwner, now: DateTime<Utc>) -> String {
    let owner = match (&f.host, f.here) {
        (Some(host), true) => format!("Fleet: synced here ({host})"),
        (Some(host), false) => format!("Fleet: synced by {host}"),
        (None, _) => "Fleet: no daemon holds it".to_string(),
    };
    let beat = f
        .heartbeat
        .map(|t| format!(" · heartbeat {}", format::ago(now, t)))
        .unwrap_or_default();
    let note = f
        .note
        .as_ref()
        .map(|n| format!(" · {n}"))
        .unwrap_or_default();
    format!("{owner}{beat}{note}")
}

fn object_counts(o: &crate::model::ObjectProgress) -> String {
    // Until its first rows arrive, a Bulk read shows what Salesforce is doing with its job.
    if !o.finished
        && o.done == 0
        && let Some(job) = &o.bulk_job
    {
        return crate::sanitize::clean(job);
    }
    match o.expected {
        Some(e) => format!("{}/{}", format::grouped(o.done), format::grouped(e)),
        None => format!("{} so far", format::grouped(o.done)),
    }
}

/// `Contact  ██████░░░░  40% 19,200/48,000`, bars aligned across objects.
fn object_line(
    o: &crate::model::ObjectProgress,
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

/// The usage panel: today's gauge, then a sparkline of the calls made between
/// consecutive samples (the increase, not the running total, so a quiet org still draws:
/// bars scale to the busiest interval shown, not to the daily allocation).
fn render_usage(app: &App, frame: &mut Frame, area: Rect, s: &SourceSnapshot) {
    let theme = &app.theme;
    let title = usage_title(&s.api.samples, app.now);
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
    let deltas = usage_deltas(&s.api.samples);
    if deltas.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled(
                "no samples yet: the chart starts after two usage readings",
                theme.dim,
            )),
            spark_area,
        );
        return;
    }
    let take = spark_area.width as usize;
    let recent = &deltas[deltas.len().saturating_sub(take)..];
    let peak = recent.iter().copied().max().unwrap_or(0);
    if peak == 0 {
        frame.render_widget(
            Paragraph::new(Span::styled(
                "no API calls between the readings shown",
                theme.dim,
            )),
            spark_area,
        );
        return;
    }
    frame.render_widget(
        Sparkline::default()
            .data(recent)
            .max(peak)
            .style(theme.gauge_fill),
        spark_area,
    );
}

/// Calls made between consecutive samples; a drop (the daily reset) counts from zero.
pub(crate) fn usage_deltas(samples: &[(DateTime<Utc>, u64)]) -> Vec<u64> {
    samples
        .windows(2)
        .map(|w| {
            let (before, after) = (w[0].1, w[1].1);
            if after >= before {
                after - before
            } else {
                after
            }
        })
        .collect()
}

/// " API usage · calls per reading since 11:35 " once there are readings; never a
/// zero-length span.
pub(crate) fn usage_title(samples: &[(DateTime<Utc>, u64)], now: DateTime<Utc>) -> String {
    match samples.first() {
        Some((first, _)) if samples.len() >= 2 => format!(
            " API usage · calls per reading since {} ({}) ",
            first.format("%H:%M"),
            format::ago(now, *first)
        ),
        _ => " API usage ".to_string(),
    }
}

/// The events, newest first, the selected one highlighted and kept in view; long lines
/// end in `…` and `enter` shows them in full.
fn render_events(app: &App, frame: &mut Frame, area: Rect, s: &SourceSnapshot, selected: usize) {
    let theme = &app.theme;
    let total = s.events.len();
    let selected = selected.min(total.saturating_sub(1));
    let title = if total == 0 {
        " Events ".to_string()
    } else {
        format!(
            " Events · {} of {total} · {} full text · {} copy ",
            selected + 1,
            keymap::keys(Context::Status, Action::Confirm),
            keymap::keys(Context::Status, Action::Copy)
        )
    };
    let block = bordered(&title, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let rows = (inner.height as usize).max(1);
    let first = selected.saturating_sub(rows - 1);
    let lines: Vec<Line> = s
        .events
        .iter()
        .rev()
        .enumerate()
        .skip(first)
        .take(rows)
        .map(|(i, e)| {
            let symbol = match e.level {
                crate::model::EventLevel::Info => "·",
                crate::model::EventLevel::Warn => "!",
                crate::model::EventLevel::Error => "✗",
            };
            let marker = if i == selected { "›" } else { " " };
            let when = e.at.format("%H:%M:%S").to_string();
            let text = format::truncate(&e.message, width.saturating_sub(when.len() + 5));
            let style = if i == selected {
                theme.selected
            } else {
                theme.event(e.level)
            };
            Line::from(vec![
                Span::styled(format!("{marker}{when} "), theme.dim),
                Span::styled(format!("{symbol} {text}"), style),
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn at(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap() + Duration::minutes(min)
    }

    #[test]
    fn a_bulk_read_shows_its_job_until_rows_arrive() {
        let mut o = crate::model::ObjectProgress {
            object: "Account".into(),
            expected: Some(120_000),
            bulk_job: Some("Bulk job InProgress, 35000 records\u{1b}[2J".into()),
            ..Default::default()
        };
        let shown = object_counts(&o);
        assert!(
            shown.starts_with("Bulk job InProgress, 35000 records"),
            "{shown}"
        );
        assert!(!shown.contains('\u{1b}'), "sanitized: {shown:?}");
        o.done = 2_000;
        assert_eq!(object_counts(&o), "2,000/120,000");
    }

    #[test]
    fn low_usage_still_draws_its_increases() {
        let samples = [
            (at(0), 30),
            (at(5), 31),
            (at(10), 31),
            (at(15), 35),
            (at(20), 2),
        ];
        assert_eq!(usage_deltas(&samples), [1, 0, 4, 2]);
    }

    #[test]
    fn the_fleet_line_names_the_owner_and_its_heartbeat() {
        let owner = crate::model::FleetOwner {
            host: Some("sync-2".into()),
            heartbeat: Some(at(0)),
            here: false,
            note: None,
        };
        let line = fleet_line(&owner, at(1));
        assert!(
            line.starts_with("Fleet: synced by sync-2 · heartbeat "),
            "{line}"
        );
        let here = crate::model::FleetOwner {
            here: true,
            ..owner
        };
        assert!(fleet_line(&here, at(1)).starts_with("Fleet: synced here (sync-2)"));
    }

    #[test]
    fn the_title_never_says_zero_seconds() {
        assert_eq!(usage_title(&[(at(0), 1)], at(0)), " API usage ");
        let t = usage_title(&[(at(0), 1), (at(0), 2)], at(0));
        assert!(!t.contains("0s"), "{t}");
        let t = usage_title(&[(at(0), 1), (at(5), 2)], at(25));
        assert!(t.contains("since 12:00") && t.contains("25m"), "{t}");
    }
}
