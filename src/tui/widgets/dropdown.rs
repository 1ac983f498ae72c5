//! The Update Frequency dropdown: each choice with its projected API cost. When the
//! terminal is too short for every choice, the list scrolls so the highlighted choice is
//! always on screen, and its border says how many choices are above and below.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use crate::config::Frequency;
use crate::model::FrequencyProjection;
use crate::tui::format;
use crate::tui::theme::Theme;

/// "≈ 2,400 calls/day · 16.0% of quota", or why there is no estimate yet. When the
/// share reaches `threshold` percent, the text says the choice crosses the threshold.
pub fn projection_text(
    frequency: Frequency,
    projections: &[FrequencyProjection],
    threshold: Option<u8>,
) -> String {
    if frequency == Frequency::Manual {
        return "only when you sync now".into();
    }
    match projections.iter().find(|p| p.frequency == frequency) {
        Some(p) => match p.percent_of_quota {
            Some(pct) => match threshold.filter(|t| pct >= f64::from(*t)) {
                Some(t) => format!(
                    "≈ {}/day · over {t} % threshold",
                    format::grouped(p.calls_per_day)
                ),
                None => format!(
                    "≈ {} calls/day · {pct:.1}% of quota",
                    format::grouped(p.calls_per_day)
                ),
            },
            None => format!("≈ {} calls/day", format::grouped(p.calls_per_day)),
        },
        None => "cost known after the first run".into(),
    }
}

/// Whether `frequency` is projected to reach `threshold` percent of the daily quota.
pub fn crosses_threshold(
    frequency: Frequency,
    projections: &[FrequencyProjection],
    threshold: Option<u8>,
) -> bool {
    let Some(t) = threshold else { return false };
    projections
        .iter()
        .find(|p| p.frequency == frequency)
        .and_then(|p| p.percent_of_quota)
        .is_some_and(|pct| pct >= f64::from(t))
}

pub struct Dropdown<'a> {
    pub choices: &'a [Frequency],
    pub highlighted: usize,
    pub current: Frequency,
    pub projections: &'a [FrequencyProjection],
    /// The threshold being edited, when valid: choices that reach it are marked.
    pub threshold: Option<u8>,
    pub theme: &'a Theme,
}

impl Dropdown<'_> {
    /// Rows needed to show every choice, including borders.
    pub fn height(&self) -> u16 {
        self.choices.len() as u16 + 2
    }

    /// The first choice shown when `rows` choices fit: the highlighted one is always
    /// inside the window, and the window never runs past the last choice.
    pub fn first_visible(&self, rows: usize) -> usize {
        let rows = rows.max(1);
        let highlighted = self.highlighted.min(self.choices.len().saturating_sub(1));
        let max_first = self.choices.len().saturating_sub(rows);
        highlighted.saturating_sub(rows - 1).min(max_first)
    }
}

impl Widget for Dropdown<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        Clear.render(area, buf);
        let rows = area.height.saturating_sub(2) as usize;
        let first = self.first_visible(rows);
        let below = self.choices.len().saturating_sub(first + rows);
        let mut block = Block::default()
            .borders(Borders::ALL)
            .border_style(self.theme.border_focus)
            .title(" Update Frequency ");
        if first > 0 {
            block = block.title_top(Line::from(format!(" ↑ {first} more ")).right_aligned());
        }
        if below > 0 {
            block = block.title_bottom(Line::from(format!(" ↓ {below} more ")).right_aligned());
        }
        let inner = block.inner(area);
        block.render(area, buf);
        let width = inner.width as usize;
        let lines: Vec<Line> = self
            .choices
            .iter()
            .enumerate()
            .skip(first)
            .take(rows)
            .map(|(i, f)| {
                // `›` marks the highlighted choice without colour, `✓` the current one.
                let cursor = if i == self.highlighted { "›" } else { " " };
                let mark = if *f == self.current { "✓ " } else { "  " };
                let name = format!("{cursor}{mark}{:<17}", f.label());
                let cost = projection_text(*f, self.projections, self.threshold);
                let pad = width
                    .saturating_sub(format::display_width(&name) + format::display_width(&cost));
                let text = format!("{name}{}{cost}", " ".repeat(pad.max(1)));
                let text = format::truncate(&text, width);
                let style = if i == self.highlighted {
                    self.theme.selected
                } else if crosses_threshold(*f, self.projections, self.threshold) {
                    self.theme.warn
                } else {
                    self.theme.label
                };
                Line::from(Span::styled(format!("{text:<width$}"), style))
            })
            .collect();
        Paragraph::new(lines).render(inner, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dropdown(highlighted: usize, theme: &Theme) -> Dropdown<'_> {
        Dropdown {
            choices: &Frequency::ALL,
            highlighted,
            current: Frequency::H1,
            projections: &[],
            threshold: None,
            theme,
        }
    }

    #[test]
    fn the_window_always_holds_the_highlighted_choice() {
        let theme = Theme::mono();
        for rows in 1..=Frequency::ALL.len() + 2 {
            for h in 0..Frequency::ALL.len() {
                let d = dropdown(h, &theme);
                let first = d.first_visible(rows);
                assert!(
                    first <= h && h < first + rows,
                    "rows={rows} h={h} first={first}"
                );
                assert!(first + rows.min(Frequency::ALL.len()) <= Frequency::ALL.len());
            }
        }
    }

    #[test]
    fn a_short_list_shows_the_last_choice_when_it_is_highlighted() {
        let theme = Theme::mono();
        let last = Frequency::ALL.len() - 1;
        let area = Rect::new(0, 0, 60, 5);
        let mut buf = Buffer::empty(area);
        dropdown(last, &theme).render(area, &mut buf);
        let text: String = (0..area.height)
            .map(|y| {
                (0..area.width)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n");
        assert!(text.contains(Frequency::ALL[last].label()), "{text}");
        assert!(text.contains("↑ 5 more"), "{text}");
    }

    #[test]
    fn a_share_at_or_over_the_threshold_is_marked() {
        let p = [FrequencyProjection {
            frequency: Frequency::M15,
            calls_per_day: 12_000,
            percent_of_quota: Some(80.0),
        }];
        let text = projection_text(Frequency::M15, &p, Some(80));
        assert!(text.contains("over 80 % threshold"), "{text}");
        assert!(!projection_text(Frequency::M15, &p, Some(81)).contains("over"));
        assert!(crosses_threshold(Frequency::M15, &p, Some(80)));
        assert!(!crosses_threshold(Frequency::M15, &p, None));
    }
}
