//! The two ways keys are listed on screen, both fed from the keymap: the one-line footer
//! of hints and the lines of the `?` help.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::tui::format::display_width;
use crate::tui::keymap::Hint;

/// Key and description styles of both lists.
#[derive(Debug, Clone, Copy)]
pub struct KeyStyles {
    pub key: Style,
    pub desc: Style,
}

/// Footer hints after `indent` spaces, cut at a whole hint so none is half shown.
pub fn hints_line(
    hints: Vec<Hint>,
    width: usize,
    indent: usize,
    styles: KeyStyles,
) -> Line<'static> {
    let mut spans = Vec::new();
    if indent > 0 {
        spans.push(Span::raw(" ".repeat(indent)));
    }
    let mut used = indent;
    for hint in hints {
        let w = display_width(&hint.keys) + display_width(hint.desc) + 3;
        if used + w > width {
            break;
        }
        spans.push(Span::styled(hint.keys, styles.key));
        spans.push(Span::styled(format!(" {}  ", hint.desc), styles.desc));
        used += w;
    }
    Line::from(spans)
}

/// Help lines: each key, padded to one column, then what it does.
pub fn key_lines(bindings: &[(String, &'static str)], key_style: Style) -> Vec<Line<'static>> {
    let key_width = bindings
        .iter()
        .map(|(key, _)| display_width(key))
        .max()
        .unwrap_or(0)
        + 2;
    bindings
        .iter()
        .map(|(key, desc)| {
            let pad = key_width.saturating_sub(display_width(key));
            Line::from(vec![
                Span::styled(format!(" {key}{}", " ".repeat(pad)), key_style),
                Span::raw(*desc),
            ])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keymap::Action;

    #[test]
    fn descriptions_line_up_after_the_longest_key() {
        let lines = key_lines(
            &[("j".into(), "down"), ("ctrl-d".into(), "half page")],
            Style::new(),
        );
        let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(text, [" j       down", " ctrl-d  half page"]);
    }

    #[test]
    fn hints_stop_before_the_first_that_does_not_fit() {
        let hint = |keys: &str, desc| Hint {
            keys: keys.into(),
            desc,
            action: Action::Back,
        };
        let styles = KeyStyles {
            key: Style::new(),
            desc: Style::new(),
        };
        let hints = vec![hint("esc", "back"), hint("?", "help")];
        assert_eq!(
            hints_line(hints.clone(), 11, 1, styles).to_string(),
            " esc back  "
        );
        assert_eq!(
            hints_line(hints, 18, 0, styles).to_string(),
            "esc back  ? help  "
        );
    }
}
