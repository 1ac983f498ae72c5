//! Run history of one source, newest first, with the selected run's error in full.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState};

use crate::model::{RunKind, RunOutcome};
use crate::tui::app::App;
use crate::tui::format;
use crate::tui::ports::HistoryRun;
use crate::tui::screens::wrap;
use crate::tui::theme::Theme;

pub fn render(
    app: &App,
    frame: &mut Frame,
    area: Rect,
    source: &str,
    rows: &Result<Vec<HistoryRun>, String>,
    scroll: usize,
) {
    let theme = &app.theme;
    let name = app
        .source(source)
        .map(|s| s.name.as_str())
        .unwrap_or(source);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(format!(" Run history · {name} "), theme.title));
    let runs = match rows {
        Err(e) => {
            frame.render_widget(
                Paragraph::new(Span::styled(e.clone(), theme.err)).block(block),
                area,
            );
            return;
        }
        Ok(runs) if runs.is_empty() => {
            frame.render_widget(Paragraph::new("No runs recorded yet.").block(block), area);
            return;
        }
        Ok(runs) => runs,
    };
    let [table_area, detail_area] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(6)]).areas(area);
    let table = runs_table(runs, theme).block(block);
    let mut state = TableState::default().with_selected(Some(scroll.min(runs.len() - 1)));
    frame.render_stateful_widget(table, table_area, &mut state);
    if let Some(run) = runs.get(scroll) {
        let width = detail_area.width.saturating_sub(2) as usize;
        let detail = Paragraph::new(detail_lines(run, width, theme)).block(
            Block::default()
                .borders(Borders::TOP)
                .border_style(theme.border),
        );
        frame.render_widget(detail, detail_area);
    }
}

/// One row per run: when, how long, what kind, the outcome and its counts.
fn runs_table<'a>(runs: &'a [HistoryRun], theme: &Theme) -> Table<'a> {
    let table_rows = runs.iter().map(|r| &r.summary).map(|r| {
        let (symbol, outcome, style) = match r.outcome {
            RunOutcome::Succeeded => ("✓", "Succeeded", theme.ok),
            RunOutcome::Failed => ("✗", "Failed", theme.err),
            RunOutcome::Interrupted => ("‖", "Interrupted", theme.warn),
        };
        let kind = match r.kind {
            RunKind::Initial => "initial",
            RunKind::Incremental => "incremental",
            RunKind::Full => "full",
        };
        Row::new(vec![
            Cell::from(r.started.format("%m-%d %H:%M").to_string()),
            Cell::from(format::duration(r.started, r.finished)),
            Cell::from(kind),
            Cell::from(Span::styled(format!("{symbol} {outcome}"), style)),
            Cell::from(format::compact(r.upserted)),
            Cell::from(format::compact(r.deleted)),
            Cell::from(format::grouped(r.api_calls)),
            Cell::from(r.error.clone().unwrap_or_default()),
        ])
    });
    Table::new(
        table_rows,
        [
            Constraint::Length(11),
            Constraint::Length(8),
            Constraint::Length(11),
            Constraint::Length(13),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(6),
            Constraint::Min(0),
        ],
    )
    .header(
        Row::new([
            "Started", "Took", "Kind", "Outcome", "Upsert", "Delete", "Calls", "Error",
        ])
        .style(theme.title),
    )
    .row_highlight_style(theme.selected)
}

/// The selected run: its exact times, per-object counts and its error, wrapped.
fn detail_lines(run: &HistoryRun, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let HistoryRun {
        summary: run,
        objects,
    } = run;
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "{} → {}",
            format::timestamp(run.started),
            format::timestamp(run.finished)
        ),
        theme.dim,
    ))];
    if !objects.is_empty() {
        let per_object: Vec<String> = objects
            .iter()
            .map(|o| {
                format!(
                    "{} +{} −{}",
                    o.object,
                    format::grouped(o.upserted),
                    format::grouped(o.deleted)
                )
            })
            .collect();
        lines.extend(
            wrap(&per_object.join(" · "), width)
                .into_iter()
                .take(2)
                .map(|l| Line::from(Span::styled(l, theme.label))),
        );
    }
    if let Some(e) = &run.error {
        lines.extend(
            wrap(e, width)
                .into_iter()
                .take(2)
                .map(|l| Line::from(Span::styled(l, theme.err))),
        );
    }
    lines
}
