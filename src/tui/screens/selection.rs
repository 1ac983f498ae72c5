//! Edit Data Sync while the org schema loads: the objects and fields selected now.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::App;
use crate::tui::format;
use crate::tui::screens::{modal, wrap};
use crate::tui::settings_form::SelectedObject;

pub fn render(
    app: &App,
    frame: &mut Frame,
    area: Rect,
    source: &str,
    objects: &[SelectedObject],
    scroll: usize,
) {
    let theme = &app.theme;
    let name = app
        .source(source)
        .map(|s| s.name.as_str())
        .unwrap_or(source);
    let title = Line::from(Span::styled(
        format!(" Edit Data Sync · {} ", format::truncate(name, 40)),
        theme.title,
    ));
    let width = area.width.min(76).saturating_sub(2) as usize;
    let mut lines = vec![
        Line::from(Span::styled(
            "Loading schema… the field editor opens when it arrives. Selected now:",
            theme.dim,
        )),
        Line::default(),
    ];
    if objects.is_empty() {
        lines.push(Line::from("No objects are selected for this source."));
    }
    for o in objects.iter().skip(scroll) {
        lines.push(Line::from(vec![
            Span::styled(o.object.clone(), theme.title),
            Span::styled(format!("  {} fields", o.fields.len()), theme.dim),
        ]));
        for l in wrap(&o.fields.join(", "), width.saturating_sub(2)) {
            lines.push(Line::from(format!("  {l}")));
        }
    }
    let inner = modal(frame, area, 76, lines.len() as u16 + 2, title, theme);
    frame.render_widget(Paragraph::new(lines), inner);
}
