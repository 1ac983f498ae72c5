//! Data Presets: the list with descriptions and per-field reasons, and the diff to confirm.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::style::{Theme, clean};
use super::tree_view::cell;
use crate::fields::{Preset, Selection, SelectionDiff, presets};
use crate::model::OrgSchema;
use ratatui::style::Style;

pub(super) fn render_list(
    frame: &mut Frame,
    area: Rect,
    cursor: usize,
    selection: &Selection,
    schema: &OrgSchema,
    theme: &Theme,
) {
    let all = match presets() {
        Ok(all) => all,
        Err(e) => {
            frame.render_widget(Paragraph::new(e.to_string()).style(theme.warn), area);
            return;
        }
    };
    let [list, detail] =
        Layout::horizontal([Constraint::Length(20), Constraint::Min(0)]).areas(area);
    let names: Vec<Line> = all
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let line = Line::from(format!(" {:<18}", p.name));
            if i == cursor {
                line.style(theme.cursor)
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(names), list);
    let Some(preset) = all.get(cursor) else {
        return;
    };
    let [description, fields] =
        Layout::vertical([Constraint::Length(3), Constraint::Min(0)]).areas(detail);
    frame.render_widget(
        Paragraph::new(preset.description.as_str()).wrap(Wrap { trim: true }),
        description,
    );
    let lines = preset_field_lines(preset, selection, schema, fields.width as usize, theme);
    frame.render_widget(Paragraph::new(lines), fields);
}

/// A preset's fields with what applying it does to each (`✓` kept, `+` added, `?` not
/// in this org) and why the preset has it. The field column fits the longest name (cut
/// with `…` only when the screen is too narrow); the reason takes the rest, also cut
/// with `…`, never running into it.
fn preset_field_lines(
    preset: &Preset,
    selection: &Selection,
    schema: &OrgSchema,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let outcome = preset.apply(schema);
    let longest = preset
        .fields
        .iter()
        .map(|f| f.field.chars().count())
        .max()
        .unwrap_or(0);
    let field_width = longest.min(width.saturating_sub(2) * 60 / 100);
    let reason_width = width.saturating_sub(2 + field_width + 1);
    preset
        .fields
        .iter()
        .map(|f| {
            let (mark, style) = if outcome.missing.iter().any(|m| m.to_string() == f.field) {
                ("?", theme.warn)
            } else if selection.contains(f.object(), f.field_name()) {
                ("✓", theme.added)
            } else {
                ("+", theme.added)
            };
            let mut spans = vec![Span::styled(format!("{mark} "), style)];
            cell(
                &f.field,
                field_width,
                None,
                Style::new(),
                Style::new(),
                &mut spans,
            );
            spans.push(Span::raw(" "));
            cell(
                &f.reason,
                reason_width,
                None,
                theme.dim,
                theme.dim,
                &mut spans,
            );
            Line::from(spans)
        })
        .collect()
}

pub(super) fn render_diff(
    frame: &mut Frame,
    area: Rect,
    preset: &Preset,
    diff: &SelectionDiff,
    scroll: u16,
    theme: &Theme,
) -> u16 {
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("Apply {}? ", preset.name), theme.title),
            Span::styled(format!("+{}", diff.added_count()), theme.added),
            Span::raw(" "),
            Span::styled(format!("−{}", diff.removed_count()), theme.removed),
            Span::raw("  (replaces the current selection)"),
        ]),
        Line::default(),
    ];
    for o in &diff.objects {
        lines.push(Line::from(vec![
            Span::styled(clean(&o.object), theme.title),
            Span::raw(format!("  +{} −{}", o.added.len(), o.removed.len())),
        ]));
        for added in &o.added {
            let reason = preset
                .reason(&o.object, added)
                .unwrap_or("bookkeeping field");
            lines.push(Line::from(vec![
                Span::styled(format!("  + {:<30}", clean(added)), theme.added),
                Span::styled(reason.to_string(), theme.dim),
            ]));
        }
        for removed in &o.removed {
            lines.push(Line::from(Span::styled(
                format!("  − {}", clean(removed)),
                theme.removed,
            )));
        }
    }
    if diff.objects.is_empty() {
        lines.push(Line::from("The selection already matches this preset."));
    }
    if !diff.missing.is_empty() {
        lines.push(Line::default());
        lines.push(Line::from(Span::styled(
            format!("Not in this org, skipped ({}):", diff.missing.len()),
            theme.warn,
        )));
        for m in &diff.missing {
            lines.push(Line::from(format!("  ? {}", clean(&m.to_string()))));
        }
    }
    let scroll = scroll.min(max_scroll(lines.len(), area));
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), area);
    scroll
}

/// The largest useful scroll offset for `lines` lines in `area`.
pub(super) fn max_scroll(lines: usize, area: Rect) -> u16 {
    u16::try_from(lines.saturating_sub(area.height as usize)).unwrap_or(u16::MAX)
}
