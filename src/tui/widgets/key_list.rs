//! The lines of a key-help overlay: each key, padded to one column, then what it does.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::tui::format::display_width;

pub fn key_lines<'a>(
    bindings: impl IntoIterator<Item = (&'a str, &'a str)>,
    key_style: Style,
) -> Vec<Line<'a>> {
    let bindings: Vec<(&str, &str)> = bindings.into_iter().collect();
    let key_width = bindings
        .iter()
        .map(|(key, _)| display_width(key))
        .max()
        .unwrap_or(0)
        + 2;
    bindings
        .into_iter()
        .map(|(key, desc)| {
            let pad = key_width.saturating_sub(display_width(key));
            Line::from(vec![
                Span::styled(format!(" {key}{}", " ".repeat(pad)), key_style),
                Span::raw(desc),
            ])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_line_up_after_the_longest_key() {
        let lines = key_lines([("j", "down"), ("ctrl-d", "half page")], Style::new());
        let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(text, [" j       down", " ctrl-d  half page"]);
    }
}
