//! Styles and text hygiene for the field screens. Kept local until the app-wide theme and
//! sanitizer from the `tui` branch are merged; then these delegate to them.

use std::borrow::Cow;

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Theme {
    pub(crate) cursor: Style,
    pub(crate) matched: Style,
    pub(crate) dim: Style,
    pub(crate) warn: Style,
    pub(crate) added: Style,
    pub(crate) removed: Style,
    pub(crate) title: Style,
    pub(crate) tab_active: Style,
    pub(crate) button: Style,
    pub(crate) button_focused: Style,
    pub(crate) key: Style,
}

impl Theme {
    /// Colours unless NO_COLOR is set (any value), per no-color.org.
    pub(crate) fn from_env() -> Self {
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            Self::mono()
        } else {
            Self::colour()
        }
    }

    fn colour() -> Self {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        Theme {
            cursor: Style::new().add_modifier(Modifier::REVERSED),
            matched: bold.fg(Color::Yellow),
            dim: Style::new().fg(Color::DarkGray),
            warn: bold.fg(Color::Yellow),
            added: Style::new().fg(Color::Green),
            removed: Style::new().fg(Color::Red),
            title: bold,
            tab_active: bold.add_modifier(Modifier::UNDERLINED).fg(Color::Cyan),
            button: Style::new(),
            button_focused: bold.add_modifier(Modifier::REVERSED),
            key: bold.fg(Color::Cyan),
        }
    }

    fn mono() -> Self {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        Theme {
            cursor: Style::new().add_modifier(Modifier::REVERSED),
            matched: bold.add_modifier(Modifier::UNDERLINED),
            dim: Style::new().add_modifier(Modifier::DIM),
            warn: bold,
            added: Style::new(),
            removed: Style::new(),
            title: bold,
            tab_active: bold.add_modifier(Modifier::UNDERLINED),
            button: Style::new(),
            button_focused: bold.add_modifier(Modifier::REVERSED),
            key: bold,
        }
    }
}

/// Strip control characters and escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL/ST`)
/// from text that came from Salesforce or a file, so it cannot drive the terminal.
pub(crate) fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            match chars.peek() {
                Some('[') => {
                    chars.next();
                    for c in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    chars.next();
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                            break;
                        }
                    }
                }
                _ => {
                    chars.next();
                }
            }
        } else if !c.is_control() {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Thousands separators for counts shown to people.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "45s", "12 min", "3 h 20 min".
pub(crate) fn duration(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{} min", s.div_ceil(60)),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_escape_sequences_and_controls() {
        assert_eq!(clean("plain"), "plain");
        assert_eq!(clean("a\u{1b}[31mred\u{1b}[0m b"), "ared b");
        assert_eq!(clean("x\u{1b}]0;title\u{7}y"), "xy");
        assert_eq!(clean("tab\there\r\n"), "tabhere");
    }

    #[test]
    fn formats_numbers_and_durations() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(duration(std::time::Duration::from_secs(45)), "45s");
        assert_eq!(duration(std::time::Duration::from_secs(601)), "11 min");
        assert_eq!(
            duration(std::time::Duration::from_secs(12_000)),
            "3 h 20 min"
        );
    }
}
