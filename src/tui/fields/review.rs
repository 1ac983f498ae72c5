//! Review fields: what changes per object, with required and formula notes, and the cost.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::PAUSED_MESSAGE;
use super::presets_view::max_scroll;
use super::style::{Theme, clean, duration, thousands};
use crate::fields::{
    CostEstimate, ObjectCost, ReadSettings, ReadVia, Selection, SelectionDiff, estimate_cost,
};
use crate::model::OrgSchema;

pub(super) struct Context<'a> {
    pub(super) schema: &'a OrgSchema,
    pub(super) saved: &'a Selection,
    pub(super) selection: &'a Selection,
    pub(super) throughput: Option<f64>,
    /// The source's settings that shape its reads, as the run takes them.
    pub(super) read_settings: ReadSettings,
    pub(super) paused: bool,
    pub(super) on_sync_now: bool,
    pub(super) scroll: u16,
    pub(super) theme: &'a Theme,
}

/// Draws the review; returns the scroll offset actually used (clamped to the content).
pub(super) fn render(frame: &mut Frame, area: Rect, cx: &Context) -> u16 {
    let [body, buttons] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(area);
    let lines = lines(cx);
    let scroll = cx.scroll.min(max_scroll(lines.len(), body));
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), body);
    let theme = cx.theme;
    let button = |label: &'static str, focused: bool| {
        Span::styled(
            label,
            if focused {
                theme.button_focused
            } else {
                theme.button
            },
        )
    };
    let mut spans = vec![
        button("[ Sync Now ]", cx.on_sync_now),
        Span::raw("  "),
        button("[ Customize ]", !cx.on_sync_now),
    ];
    if cx.paused {
        spans[0].style = theme.dim;
        spans.push(Span::styled(format!("  {PAUSED_MESSAGE}"), theme.warn));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), buttons);
    scroll
}

fn lines<'a>(cx: &Context<'a>) -> Vec<Line<'a>> {
    let theme = cx.theme;
    let (current, missing) = cx.saved.split_missing(cx.schema);
    let diff = SelectionDiff::between(cx.saved, cx.selection).with_missing(missing);
    let cost = estimate_cost(
        cx.schema,
        &current,
        cx.selection,
        cx.throughput,
        cx.read_settings,
    );
    // The totals come first so they show without scrolling at any size.
    let mut lines = totals_lines(cx, &cost);
    if cx.selection.is_empty() {
        lines.push(Line::from(Span::styled(
            "Nothing is selected: Sync Now would stop syncing every object.",
            theme.warn,
        )));
    }
    let mut names: Vec<&str> = cx
        .selection
        .iter()
        .map(|(o, _)| o)
        .chain(diff.objects.iter().map(|o| o.object.as_str()))
        .collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        object_lines(cx, &cost, &diff, name, &mut lines);
    }
    if !diff.missing.is_empty() {
        let names: Vec<String> = diff.missing.iter().map(|m| clean(&m.to_string())).collect();
        lines.push(Line::from(Span::styled(
            format!(
                "Saved but not in this org (dropped on save): {}",
                names.join(", ")
            ),
            theme.warn,
        )));
    }
    lines
}

/// Fields added and removed, then the cost: backfill, its time, each incremental run.
fn totals_lines<'a>(cx: &Context<'a>, cost: &CostEstimate) -> Vec<Line<'a>> {
    let theme = cx.theme;
    let (added, removed) = super::change_counts(cx.saved, cx.selection, cx.schema);
    let mut lines = vec![
        Line::from(vec![
            Span::styled("Changes ", theme.title),
            Span::styled(format!("+{added}"), theme.added),
            Span::raw(" "),
            Span::styled(format!("−{removed}"), theme.removed),
            Span::raw(" fields · "),
            Span::styled("Cost", theme.title),
        ]),
        Line::from(format!(
            "  Backfill: {} API calls for {} records{}",
            thousands(cost.backfill_calls),
            thousands(cost.backfill_records),
            match cost.route_calls {
                0 => String::new(),
                n => format!(" ({n} counts rows to pick REST/Bulk)"),
            }
        )),
    ];
    if cost.backfill_records > 0 {
        let time = duration(cost.backfill_time);
        let rate = thousands(cost.records_per_second.round() as u64);
        lines.push(Line::from(if cost.measured {
            format!("  Time: about {time} at {rate} records/s (measured on this source)")
        } else {
            format!("  Time: about {time}, an estimate at {rate} records/s (no run measured yet)")
        }));
    }
    if !cost.unknown_counts.is_empty() {
        lines.push(Line::from(Span::styled(
            format!(
                "  Record counts unknown (not in the totals): {}",
                cost.unknown_counts.join(", ")
            ),
            theme.warn,
        )));
    }
    let calls = cost.incremental_calls;
    lines.push(Line::from(format!(
        "  Each incremental run: at least {} API call{} (five objects share a call)",
        thousands(calls),
        if calls == 1 { "" } else { "s" }
    )));
    lines.push(Line::default());
    lines
}

/// One object: its cost and change counts, then each field added or removed with its
/// label and what to know about it.
fn object_lines<'a>(
    cx: &Context<'a>,
    cost: &CostEstimate,
    diff: &SelectionDiff,
    name: &str,
    lines: &mut Vec<Line<'a>>,
) {
    let theme = cx.theme;
    let object_cost = cost.objects.iter().find(|c| c.object == name);
    let change = diff.object(name);
    let mut head = vec![Span::styled(clean(name), theme.title)];
    match object_cost {
        Some(c) => head.push(Span::styled(cost_summary(c), theme.dim)),
        None => head.push(Span::styled(" · no longer synced", theme.removed)),
    }
    if let Some(change) = change {
        head.push(Span::raw(format!(
            "  +{} −{}",
            change.added.len(),
            change.removed.len()
        )));
    }
    lines.push(Line::from(head));
    let Some(change) = change else { return };
    let described = cx.schema.objects.iter().find(|o| o.name == name);
    let field = |n: &str| described.and_then(|o| o.fields.iter().find(|f| f.name == n));
    for added in &change.added {
        let mut spans = vec![Span::styled(
            format!("  + {:<28}", clean(added)),
            theme.added,
        )];
        if let Some(f) = field(added) {
            spans.push(Span::styled(format!("{:<24}", clean(&f.label)), theme.dim));
            if f.required {
                spans.push(Span::styled(" required", theme.warn));
            }
            if f.formula {
                spans.push(Span::styled(" formula: may go stale", theme.warn));
            }
        }
        lines.push(Line::from(spans));
    }
    let loaded = described.is_some_and(|o| !o.fields.is_empty());
    for removed in &change.removed {
        let mut spans = vec![Span::styled(
            format!("  − {:<28}", clean(removed)),
            theme.removed,
        )];
        match field(removed) {
            Some(f) => spans.push(Span::styled(clean(&f.label), theme.dim)),
            // Unknown until the object is described: never claim it is missing.
            None if !loaded => {}
            None => spans.push(Span::styled("not in this org", theme.warn)),
        }
        lines.push(Line::from(spans));
    }
}

fn cost_summary(c: &ObjectCost) -> String {
    let records = match c.records {
        Some(r) => format!("{} records", thousands(r)),
        None => "records unknown".to_string(),
    };
    let backfill = match (c.backfill, c.backfill_calls) {
        (true, Some(calls)) if c.backfill_via == ReadVia::Bulk => {
            format!(" · backfill via Bulk API {}", plural_calls(calls))
        }
        (true, Some(calls)) => format!(" · backfill {}", plural_calls(calls)),
        (true, None) => " · backfill".to_string(),
        (false, _) => String::new(),
    };
    format!(
        " · {records}{backfill} · {}/run",
        plural_calls(c.incremental_calls)
    )
}

fn plural_calls(n: u64) -> String {
    if n == 1 {
        "1 call".into()
    } else {
        format!("{} calls", thousands(n))
    }
}
