//! `?` on the field screens: every binding of the current tab, from its key table.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::keys::{self, Context};
use super::style::Theme;
use crate::tui::widgets::centered;
use crate::tui::widgets::key_list::key_lines;

/// Each binding once: "j/k move" already covers the "k" entry that follows it.
fn shown(context: Context) -> Vec<&'static keys::Binding> {
    let all = keys::bindings(context);
    all.iter()
        .enumerate()
        .filter(|(i, b)| {
            let partner = i
                .checked_sub(1)
                .and_then(|p| all[p].label.split_once('/'))
                .map(|(_, second)| second);
            partner != Some(b.label)
        })
        .map(|(_, b)| b)
        .collect()
}

pub(super) fn render(frame: &mut Frame, area: Rect, context: Context, theme: &Theme) {
    let bindings = shown(context);
    let mut lines = key_lines(bindings.iter().map(|b| (b.label, b.desc)), theme.key);
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        " any key closes this help",
        theme.dim,
    )));
    let rect = centered(area, 48, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    let screen = match context {
        Context::Tree | Context::Search => "Edit Data Sync",
        Context::Presets | Context::PresetDiff => "Data Presets",
        Context::Review => "Review",
    };
    let title = format!(" Help · {screen} ");
    let block = Block::bordered().title(Span::styled(title, theme.title));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    frame.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_keys_are_listed_once() {
        let labels: Vec<&str> = shown(Context::Tree).iter().map(|b| b.label).collect();
        for single in ["k", "G", "^u", "pgup", "E", "l"] {
            assert!(
                !labels.contains(&single),
                "{single} is covered by its pair: {labels:?}"
            );
        }
        for pair in ["j/k", "g/G", "h/l", "e/E", "space", "?"] {
            assert!(labels.contains(&pair), "{pair} missing: {labels:?}");
        }
    }
}
