//! The Settings panel (modal), its frequency dropdown and the discard prompt.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::model::{FrequencyProjection, SourceSnapshot, Status};
use crate::tui::app::{App, frequency_choices};
use crate::tui::format;
use crate::tui::keymap::{self, Action, Context};
use crate::tui::screens::{error_lines, modal, status_span};
use crate::tui::settings_form::{Control, NotifySetup, SettingsForm};
use crate::tui::theme::Theme;
use crate::tui::widgets::dropdown::{Dropdown, projection_text};
use crate::tui::widgets::toggle::toggle;

const LABEL_WIDTH: usize = 20;
const THRESHOLD_BOX: usize = 4;
const MODAL_WIDTH: u16 = 80;

/// The panel's lines as they are built, and the line each focusable control is on.
struct Panel<'a> {
    form: &'a SettingsForm,
    theme: &'a Theme,
    /// Text width inside the modal.
    width: usize,
    lines: Vec<Line<'static>>,
    rows: Vec<(Control, usize)>,
}

impl<'a> Panel<'a> {
    fn label(&self, text: &str) -> Span<'static> {
        Span::styled(
            format!("  {text:<w$}", w = LABEL_WIDTH - 2),
            self.theme.label,
        )
    }

    /// The focused row is marked with `›` as well as by style, so focus reads without
    /// colour.
    fn marked(&self, text: &str, control: Control) -> Span<'static> {
        let marker = if self.form.focus == control {
            "› "
        } else {
            "  "
        };
        Span::styled(
            format!("{marker}{text:<w$}", w = LABEL_WIDTH - 2),
            self.theme.label,
        )
    }

    fn focused(&self, control: Control) -> bool {
        self.form.focus == control
    }

    fn push(&mut self, spans: Vec<Span<'static>>) {
        self.lines.push(Line::from(spans));
    }

    fn push_control(&mut self, control: Control, spans: Vec<Span<'static>>) {
        self.rows.push((control, self.lines.len()));
        self.push(spans);
    }

    /// Lines indented under the value column.
    fn push_indented(&mut self, line: Line<'static>) {
        let mut spans = vec![Span::raw(" ".repeat(LABEL_WIDTH))];
        spans.extend(line.spans);
        self.push(spans);
    }
}

pub fn render(app: &App, frame: &mut Frame, area: Rect, form: &SettingsForm) {
    let theme = &app.theme;
    let source = app.source(&form.source);
    let mut panel = Panel {
        form,
        theme,
        width: area.width.min(MODAL_WIDTH).saturating_sub(2) as usize,
        lines: Vec::new(),
        rows: Vec::new(),
    };
    connection_rows(&mut panel, app, source);
    panel.push_control(
        Control::Reauthorize,
        vec![
            panel.marked("", Control::Reauthorize),
            button("Reauthorize", panel.focused(Control::Reauthorize), theme),
        ],
    );
    let sync = toggle(form.sync_enabled, panel.focused(Control::SyncData), theme);
    panel.push_control(
        Control::SyncData,
        vec![
            panel.marked("Sync Data", Control::SyncData),
            sync.spans.into_iter().next().unwrap_or_default(),
        ],
    );
    status_rows(&mut panel, app, source);
    let projections = source.map(|s| s.projections.as_slice()).unwrap_or(&[]);
    frequency_row(&mut panel, projections);
    threshold_row(&mut panel);
    edit_data_sync_row(&mut panel);
    notify_rows(&mut panel);
    button_rows(&mut panel);
    let title = title_line(app, form);
    let height = panel.lines.len() as u16 + 2;
    let inner = modal(frame, area, MODAL_WIDTH, height, title, theme);
    let rows = place_lines(frame, inner, panel);
    if form.focus == Control::Threshold && form.dropdown.is_none() && !form.confirm_discard {
        place_threshold_cursor(frame, inner, form, &rows);
    }
    if let Some(highlighted) = form.dropdown {
        let row = rows.on_screen(Control::Frequency).unwrap_or(inner.y);
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

fn title_line(app: &App, form: &SettingsForm) -> Line<'static> {
    let theme = &app.theme;
    let name = app
        .source(&form.source)
        .map(|s| s.name.as_str())
        .unwrap_or(&form.source);
    let mut title = vec![Span::styled(
        format!(" Settings · {} ", format::truncate(name, 40)),
        theme.title,
    )];
    if form.is_dirty() {
        title.push(Span::styled("● unsaved ", theme.unsaved));
    }
    Line::from(title)
}

/// Org, instance and user, or that the source is not authorized yet.
fn connection_rows(panel: &mut Panel, app: &App, source: Option<&SourceSnapshot>) {
    match source.and_then(|s| s.connection.as_ref()) {
        Some(c) => {
            panel.push(vec![panel.label("Org"), Span::raw(c.org_id.clone())]);
            panel.push(vec![
                panel.label("Instance"),
                Span::raw(c.instance_url.clone()),
            ]);
            let user = format!("{} · {}", c.username, format::ago(app.now, c.authorized_at));
            panel.push(vec![panel.label("Authorized user"), Span::raw(user)]);
        }
        None => panel.push(vec![
            panel.label("Connection"),
            Span::styled("not authorized yet", panel.theme.warn),
        ]),
    }
}

/// Status follows the toggle before it is saved, so the consequence is visible; the
/// source's error, if any, is explained under it.
fn status_rows(panel: &mut Panel, app: &App, source: Option<&SourceSnapshot>) {
    let (form, theme) = (panel.form, panel.theme);
    let mut status = vec![panel.label("Status")];
    let toggled = form.sync_enabled != form.saved.sync_enabled;
    if toggled {
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
    panel.push(status);
    if let (false, Some(Status::Error(e))) = (toggled, source.map(|s| &s.status)) {
        let width = panel.width.saturating_sub(LABEL_WIDTH);
        for l in error_lines(e, app.now, width, form.context(), theme)
            .into_iter()
            .take(4)
        {
            panel.push_indented(l);
        }
    }
}

fn frequency_row(panel: &mut Panel, projections: &[FrequencyProjection]) {
    let form = panel.form;
    let threshold = form.threshold_value().ok();
    let projection = projection_text(form.frequency, projections, threshold);
    panel.push_control(
        Control::Frequency,
        vec![
            panel.marked("Update Frequency", Control::Frequency),
            Span::styled(
                format!("▾ {:<17}", form.frequency.label()),
                focus_style(panel.focused(Control::Frequency), panel.theme),
            ),
            Span::styled(format!(" {projection}"), panel.theme.dim),
        ],
    );
}

fn threshold_row(panel: &mut Panel) {
    let form = panel.form;
    let scroll = form.threshold.visual_scroll(THRESHOLD_BOX);
    let shown: String = form
        .threshold
        .value()
        .chars()
        .skip(scroll)
        .take(THRESHOLD_BOX)
        .collect();
    let box_style = if form.threshold_value().is_err() {
        panel.theme.err
    } else {
        focus_style(panel.focused(Control::Threshold), panel.theme)
    };
    panel.push_control(
        Control::Threshold,
        vec![
            panel.marked("API quota thresh.", Control::Threshold),
            Span::raw("["),
            Span::styled(format!("{shown:<THRESHOLD_BOX$}"), box_style),
            Span::raw("]% "),
            Span::styled("of the daily quota; syncing pauses there", panel.theme.dim),
        ],
    );
}

fn edit_data_sync_row(panel: &mut Panel) {
    let form = panel.form;
    let summary = format!(
        "▸ {} objects · {} fields",
        form.selection.len(),
        form.selected_field_count()
    );
    panel.push_control(
        Control::EditDataSync,
        vec![
            panel.marked("Edit Data Sync", Control::EditDataSync),
            Span::styled(
                summary,
                focus_style(panel.focused(Control::EditDataSync), panel.theme),
            ),
        ],
    );
}

fn notify_rows(panel: &mut Panel) {
    let Some(setup) = &panel.form.notify else {
        return;
    };
    let theme = panel.theme;
    let style = match setup {
        NotifySetup::Channels { .. } => theme.label,
        NotifySetup::NotSetUp => theme.dim,
        NotifySetup::Unreadable(_) => theme.err,
    };
    let width = panel.width.saturating_sub(LABEL_WIDTH);
    for (i, l) in super::wrap(&notify_text(setup), width)
        .into_iter()
        .take(2)
        .enumerate()
    {
        let head = if i == 0 {
            panel.label("Notifications")
        } else {
            Span::raw(" ".repeat(LABEL_WIDTH))
        };
        panel.push(vec![head, Span::styled(l, style)]);
    }
}

/// Save Changes and Cancel on one row, then the form's message under them.
fn button_rows(panel: &mut Panel) {
    let (form, theme) = (panel.form, panel.theme);
    panel.push(Vec::new());
    let marker = if matches!(form.focus, Control::Save | Control::Cancel) {
        "› "
    } else {
        "  "
    };
    panel.push_control(
        Control::Save,
        vec![
            Span::styled(marker, theme.label),
            button("Save Changes", panel.focused(Control::Save), theme),
            Span::raw("  "),
            button("Cancel", panel.focused(Control::Cancel), theme),
        ],
    );
    if let Some(m) = &form.message {
        let style = if m.is_error { theme.err } else { theme.ok };
        for l in super::wrap(&m.text, panel.width) {
            panel.push(vec![Span::styled(l, style)]);
        }
    }
}

/// Where the panel's rows landed in `inner` after scrolling.
struct PlacedRows {
    rows: Vec<(Control, usize)>,
    offset: usize,
    inner: Rect,
}

impl PlacedRows {
    /// The screen row of `control`'s line, if it is visible.
    fn on_screen(&self, control: Control) -> Option<u16> {
        self.rows
            .iter()
            .find(|(c, _)| *c == control)
            .and_then(|(_, r)| r.checked_sub(self.offset))
            .filter(|r| *r < self.inner.height as usize)
            .map(|r| self.inner.y + r as u16)
    }
}

/// Draws the lines, scrolled to keep the focused control visible when the panel is short.
fn place_lines(frame: &mut Frame, inner: Rect, panel: Panel) -> PlacedRows {
    let focus = panel.form.focus;
    let focus_row = panel
        .rows
        .iter()
        .find(|(c, _)| *c == focus || (focus == Control::Cancel && *c == Control::Save))
        .map(|(_, r)| *r)
        .unwrap_or(0);
    let offset = (focus_row + 1).saturating_sub(inner.height as usize);
    frame.render_widget(
        Paragraph::new(panel.lines).scroll((offset as u16, 0)),
        inner,
    );
    PlacedRows {
        rows: panel.rows,
        offset,
        inner,
    }
}

fn place_threshold_cursor(frame: &mut Frame, inner: Rect, form: &SettingsForm, rows: &PlacedRows) {
    let Some(y) = rows.on_screen(Control::Threshold) else {
        return;
    };
    let scroll = form.threshold.visual_scroll(THRESHOLD_BOX);
    let cursor = form.threshold.visual_cursor().saturating_sub(scroll);
    let x = inner.x + LABEL_WIDTH as u16 + 1 + cursor.min(THRESHOLD_BOX) as u16;
    if x < inner.x + inner.width {
        frame.set_cursor_position(Position::new(x, y));
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
            let test = keymap::keys(Context::Settings, Action::TestNotification);
            parts.push(format!("{test} sends a test"));
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
    let mut prompt = Vec::new();
    for (i, binding) in keymap::bindings(Context::ConfirmDiscard).iter().enumerate() {
        let gap = if i == 0 { "" } else { "   " };
        prompt.push(Span::raw(gap));
        prompt.push(Span::styled(binding.label(), theme.key));
        prompt.push(Span::raw(format!(" {}", binding.desc)));
    }
    let lines = vec![
        Line::from(format!("Edited: {}", changes.join(", "))),
        Line::default(),
        Line::from(prompt),
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
