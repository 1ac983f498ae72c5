//! The Update Frequency dropdown: each choice with its projected API cost.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use crate::config::Frequency;
use crate::sync::FrequencyProjection;
use crate::tui::format;
use crate::tui::theme::Theme;

/// "≈ 2,400 calls/day · 16.0% of quota", or why there is no estimate yet.
pub fn projection_text(frequency: Frequency, projections: &[FrequencyProjection]) -> String {
    if frequency == Frequency::Manual {
        return "only when you sync now".into();
    }
    match projections.iter().find(|p| p.frequency == frequency) {
        Some(p) => match p.percent_of_quota {
            Some(pct) => format!(
                "≈ {} calls/day · {pct:.1}% of quota",
                format::grouped(p.calls_per_day)
            ),
            None => format!("≈ {} calls/day", format::grouped(p.calls_per_day)),
        },
        None => "cost known after the first run".into(),
    }
}

pub struct Dropdown<'a> {
    pub choices: &'a [Frequency],
    pub highlighted: usize,
    pub current: Frequency,
    pub projections: &'a [FrequencyProjection],
    pub theme: &'a Theme,
}

impl Dropdown<'_> {
    /// Rows needed including borders.
    pub fn height(&self) -> u16 {
        self.choices.len() as u16 + 2
    }
}

impl Widget for Dropdown<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        Clear.render(area, buf);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(self.theme.border_focus)
            .title(" Update Frequency ");
        let inner = block.inner(area);
        block.render(area, buf);
        let width = inner.width as usize;
        let lines: Vec<Line> = self
            .choices
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let mark = if *f == self.current { "✓ " } else { "  " };
                let name = format!("{mark}{:<17}", f.label());
                let cost = projection_text(*f, self.projections);
                let pad = width
                    .saturating_sub(format::display_width(&name) + format::display_width(&cost));
                let text = format!("{name}{}{cost}", " ".repeat(pad.max(1)));
                let text = format::truncate(&text, width);
                let style = if i == self.highlighted {
                    self.theme.selected
                } else {
                    self.theme.label
                };
                Line::from(Span::styled(format!("{text:<width$}"), style))
            })
            .collect();
        Paragraph::new(lines).render(inner, buf);
    }
}
