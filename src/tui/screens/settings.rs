//! The Settings panel (modal), its frequency dropdown and the discard prompt.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::model::Status;
use crate::tui::app::{App, frequency_choices};
use crate::tui::format;
use crate::tui::screens::{error_lines, modal, status_span};
use crate::tui::settings_form::{Field, NotifySetup, SettingsForm};
use crate::tui::theme::Theme;
use crate::tui::widgets::dropdown::{Dropdown, projection_text};
use crate::tui::widgets::toggle::toggle;

const LABEL_WIDTH: usize = 20;
const THRESHOLD_BOX: usize = 4;
const MODAL_WIDTH: u16 = 80;

pub fn render(app: &App, frame: &mut Frame, area: Rect, form: &SettingsForm) {
    let theme = &app.theme;
    let source = app.source(&form.source);
    let name = source.map(|s| s.name.as_str()).unwrap_or(&form.source);
    let mut title = vec![Span::styled(
        format!(" Settings · {} ", format::truncate(name, 40)),
        theme.title,
    )];
    if form.is_dirty() {
        title.push(Span::styled("● unsaved ", theme.unsaved));
    }
    let width = area.width.min(MODAL_WIDTH).saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    let mut rows: Vec<(Field, usize)> = Vec::new();
    // The focused row is marked with `›` as well as by style, so focus reads without colour.
    let marked = |text: &str, field: Field| {
        let marker = if form.focus == field { "› " } else { "  " };
        Span::styled(
            format!("{marker}{text:<w$}", w = LABEL_WIDTH - 2),
            theme.label,
        )
    };
    let label =
        |text: &str| Span::styled(format!("  {text:<w$}", w = LABEL_WIDTH - 2), theme.label);

    // Connection facts.
    match source.and_then(|s| s.connection.as_ref()) {
        Some(c) => {
            lines.push(Line::from(vec![label("Org"), Span::raw(c.org_id.clone())]));
            lines.push(Line::from(vec![
                label("Instance"),
                Span::raw(c.instance_url.clone()),
            ]));
            lines.push(Line::from(vec![
                label("Authorized user"),
                Span::raw(format!(
                    "{} · {}",
                    c.username,
                    format::ago(app.now, c.authorized_at)
                )),
            ]));
        }
        None => lines.push(Line::from(vec![
            label("Connection"),
            Span::styled("not authorized yet", theme.warn),
        ])),
    }
    rows.push((Field::Reauthorize, lines.len()));
    lines.push(Line::from(vec![
        marked("", Field::Reauthorize),
        button("Reauthorize", form.focus == Field::Reauthorize, theme),
    ]));

    rows.push((Field::SyncData, lines.len()));
    lines.push(Line::from(vec![
        marked("Sync Data", Field::SyncData),
        toggle(form.sync_enabled, form.focus == Field::SyncData, theme)
            .spans
            .into_iter()
            .next()
            .unwrap_or_default(),
    ]));

    // Status follows the toggle before it is saved, so the consequence is visible.
    let mut status = vec![label("Status")];
    if form.sync_enabled != form.saved.sync_enabled {
        let preview = if form.sync_enabled {
            Status::Active
        } else {
            Status::NotSyncing
        };
        status.push(status_span(&preview, theme));
        status.push(Span::styled(" once saved", theme.dim));
    } else if let Some(s) = source {
        status.push(status_span(&s.status, theme));
        if let Status::Error(e) = &s.status {
            status.push(Span::styled(format!(": {}", e.kind.label()), theme.err));
        }
    }
    lines.push(Line::from(status));
    if let Some(Status::Error(e)) = source.map(|s| &s.status) {
        if form.sync_enabled == form.saved.sync_enabled {
            for l in error_lines(e, app.now, width.saturating_sub(LABEL_WIDTH), theme)
                .into_iter()
                .take(4)
            {
                let mut spans = vec![Span::raw(" ".repeat(LABEL_WIDTH))];
                spans.extend(l.spans);
                lines.push(Line::from(spans));
            }
        }
    }

    let projections = source.map(|s| s.projections.as_slice()).unwrap_or(&[]);
    rows.push((Field::Frequency, lines.len()));
    lines.push(Line::from(vec![
        marked("Update Frequency", Field::Frequency),
        Span::styled(
            format!("▾ {:<17}", form.frequency.label()),
            focus_style(form.focus == Field::Frequency, theme),
        ),
        Span::styled(
            format!(
                " {}",
                projection_text(form.frequency, projections, form.threshold_value().ok())
            ),
            theme.dim,
        ),
    ]));

    rows.push((Field::Threshold, lines.len()));
    let value = form.threshold.value();
    let scroll = form.threshold.visual_scroll(THRESHOLD_BOX);
    let shown: String = value.chars().skip(scroll).take(THRESHOLD_BOX).collect();
    let invalid = form.threshold_value().is_err();
    let box_style = if invalid {
        theme.err
    } else {
        focus_style(form.focus == Field::Threshold, theme)
    };
    lines.push(Line::from(vec![
        marked("API quota thresh.", Field::Threshold),
        Span::raw("["),
        Span::styled(format!("{shown:<THRESHOLD_BOX$}"), box_style),
        Span::raw("]% "),
        Span::styled("of the daily quota; syncing pauses there", theme.dim),
    ]));

    rows.push((Field::EditDataSync, lines.len()));
    lines.push(Line::from(vec![
        marked("Edit Data Sync", Field::EditDataSync),
        Span::styled(
            format!(
                "▸ {} objects · {} fields",
                form.selection.len(),
                form.selected_field_count()
            ),
            focus_style(form.focus == Field::EditDataSync, theme),
        ),
    ]));

    if let Some(setup) = &form.notify {
        let text = notify_text(setup);
        let style = match setup {
            NotifySetup::Channels { .. } => theme.label,
            NotifySetup::NotSetUp => theme.dim,
            NotifySetup::Unreadable(_) => theme.err,
        };
        for (i, l) in super::wrap(&text, width.saturating_sub(LABEL_WIDTH))
            .into_iter()
            .take(2)
            .enumerate()
        {
            let head = if i == 0 {
                label("Notifications")
            } else {
                Span::raw(" ".repeat(LABEL_WIDTH))
            };
            lines.push(Line::from(vec![head, Span::styled(l, style)]));
        }
    }

    lines.push(Line::default());
    rows.push((Field::Save, lines.len()));
    let marker = if matches!(form.focus, Field::Save | Field::Cancel) {
        "› "
    } else {
        "  "
    };
    lines.push(Line::from(vec![
        Span::styled(marker, theme.label),
        button("Save Changes", form.focus == Field::Save, theme),
        Span::raw("  "),
        button("Cancel", form.focus == Field::Cancel, theme),
    ]));
    if let Some(m) = &form.message {
        let style = if m.is_error { theme.err } else { theme.ok };
        for l in super::wrap(&m.text, width) {
            lines.push(Line::from(Span::styled(l, style)));
        }
    }

    let inner = modal(
        frame,
        area,
        MODAL_WIDTH,
        lines.len() as u16 + 2,
        Line::from(title),
        theme,
    );
    // Keep the focused control visible when the panel is short.
    let focus_row = rows
        .iter()
        .find(|(f, _)| *f == form.focus || (form.focus == Field::Cancel && *f == Field::Save))
        .map(|(_, r)| *r)
        .unwrap_or(0);
    let height = inner.height as usize;
    let offset = (focus_row + 1).saturating_sub(height);
    frame.render_widget(Paragraph::new(lines).scroll((offset as u16, 0)), inner);

    let row_on_screen = |field: Field| -> Option<u16> {
        rows.iter()
            .find(|(f, _)| *f == field)
            .and_then(|(_, r)| r.checked_sub(offset))
            .filter(|r| *r < height)
            .map(|r| inner.y + r as u16)
    };
    if form.focus == Field::Threshold && form.dropdown.is_none() && !form.confirm_discard {
        if let Some(y) = row_on_screen(Field::Threshold) {
            let cursor = form.threshold.visual_cursor().saturating_sub(scroll);
            let x = inner.x + LABEL_WIDTH as u16 + 1 + cursor.min(THRESHOLD_BOX) as u16;
            if x < inner.x + inner.width {
                frame.set_cursor_position(Position::new(x, y));
            }
        }
    }
    if let Some(highlighted) = form.dropdown {
        let row = row_on_screen(Field::Frequency).unwrap_or(inner.y);
        let dropdown = Dropdown {
            choices: frequency_choices(),
            highlighted,
            current: form.frequency,
            projections,
            threshold: form.threshold_value().ok(),
            theme,
        };
        let x = inner.x + (LABEL_WIDTH as u16).min(inner.width / 3);
        let width = (inner.x + inner.width).saturating_sub(x);
        let rect = dropdown_rect(area, row, x, width, dropdown.height());
        if !rect.is_empty() {
            frame.render_widget(dropdown, rect);
        }
    }
    if form.confirm_discard {
        render_discard_prompt(frame, area, form, theme);
    }
}

/// Where the dropdown opens for the Frequency row at `row`: below it when every choice
/// fits there, else above it when they fit there, else on the roomier side (the list then
/// scrolls to keep the highlighted choice visible). The row itself stays uncovered.
fn dropdown_rect(area: Rect, row: u16, x: u16, width: u16, want: u16) -> Rect {
    let below = (area.y + area.height).saturating_sub(row + 1);
    let above = row.saturating_sub(area.y);
    let (y, height) = if below >= want || below >= above {
        (row + 1, want.min(below))
    } else {
        let height = want.min(above);
        (row - height, height)
    };
    Rect {
        x,
        y,
        width,
        height,
    }
    .intersection(area)
}

fn notify_text(setup: &NotifySetup) -> String {
    match setup {
        NotifySetup::Channels {
            email_to,
            webhook_host,
        } => {
            let mut parts = Vec::new();
            if let Some(to) = email_to {
                parts.push(format!("email → {}", to.join(", ")));
            }
            if let Some(host) = webhook_host {
                parts.push(format!("webhook → {host}"));
            }
            parts.push("t sends a test".into());
            parts.join(" · ")
        }
        NotifySetup::NotSetUp => {
            "not set up: add [notify.email] or [notify.webhook] to config.toml".into()
        }
        NotifySetup::Unreadable(e) => e.clone(),
    }
}

fn render_discard_prompt(frame: &mut Frame, area: Rect, form: &SettingsForm, theme: &Theme) {
    let title = Line::from(Span::styled(" Discard unsaved changes? ", theme.unsaved));
    let inner = modal(frame, area, 52, 6, title, theme);
    let mut changes = Vec::new();
    if form.sync_enabled != form.saved.sync_enabled {
        changes.push(format!(
            "Sync Data {}",
            if form.sync_enabled { "on" } else { "off" }
        ));
    }
    if form.frequency != form.saved.frequency {
        changes.push(format!("frequency {}", form.frequency.as_str()));
    }
    if form.threshold.value().trim() != form.saved.quota_threshold_percent.to_string() {
        changes.push(format!("threshold {}%", form.threshold.value().trim()));
    }
    let lines = vec![
        Line::from(format!("Edited: {}", changes.join(", "))),
        Line::default(),
        Line::from(vec![
            Span::styled("y", theme.key),
            Span::raw(" discard   "),
            Span::styled("n", theme.key),
            Span::raw(" keep editing   "),
            Span::styled("w", theme.key),
            Span::raw(" save"),
        ]),
    ];
    frame.render_widget(Paragraph::new(lines), inner);
}

fn button(text: &str, focused: bool, theme: &Theme) -> Span<'static> {
    let style = if focused { theme.focused } else { theme.title };
    Span::styled(format!("[ {text} ]"), style)
}

fn focus_style(focused: bool, theme: &Theme) -> Style {
    if focused { theme.focused } else { Style::new() }
}
