//! Semantic styles. Render code never names a colour; `NO_COLOR` yields a theme that keeps
//! only modifiers (bold, reversed, underline), so every state stays readable.

use ratatui::style::{Color, Modifier, Style};

use crate::model::{EventLevel, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub colored: bool,
    pub title: Style,
    pub border: Style,
    pub border_focus: Style,
    pub selected: Style,
    pub focused: Style,
    pub label: Style,
    pub dim: Style,
    pub key: Style,
    pub ok: Style,
    pub warn: Style,
    pub err: Style,
    pub info: Style,
    pub toggle_on: Style,
    pub toggle_off: Style,
    pub gauge_fill: Style,
    pub gauge_empty: Style,
    pub threshold: Style,
    pub unsaved: Style,
    pub big: Style,
    /// QR modules: light on dark, forced in colour so light terminals scan right too.
    pub qr: Style,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set to a non-empty value (<https://no-color.org>).
    pub fn from_env() -> Self {
        Theme::for_no_color(std::env::var_os("NO_COLOR").as_deref())
    }

    /// The theme for a given value of `NO_COLOR` (absent or empty means colour).
    pub fn for_no_color(value: Option<&std::ffi::OsStr>) -> Self {
        match value {
            Some(v) if !v.is_empty() => Theme::mono(),
            _ => Theme::color(),
        }
    }

    pub fn color() -> Self {
        let fg = |c: Color| Style::new().fg(c);
        Theme {
            colored: true,
            title: Style::new().add_modifier(Modifier::BOLD),
            border: fg(Color::DarkGray),
            border_focus: fg(Color::Cyan),
            selected: Style::new().add_modifier(Modifier::REVERSED),
            focused: Style::new()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
            label: fg(Color::Gray),
            dim: fg(Color::DarkGray),
            key: fg(Color::Cyan).add_modifier(Modifier::BOLD),
            ok: fg(Color::Green),
            warn: fg(Color::Yellow),
            err: fg(Color::Red).add_modifier(Modifier::BOLD),
            info: fg(Color::Blue),
            toggle_on: Style::new()
                .fg(Color::Black)
                .bg(Color::Green)
                .add_modifier(Modifier::BOLD),
            toggle_off: fg(Color::DarkGray),
            gauge_fill: fg(Color::Green),
            gauge_empty: fg(Color::DarkGray),
            threshold: fg(Color::Red).add_modifier(Modifier::BOLD),
            unsaved: fg(Color::Yellow).add_modifier(Modifier::BOLD),
            big: Style::new().add_modifier(Modifier::BOLD),
            qr: Style::new().fg(Color::White).bg(Color::Black),
        }
    }

    pub fn mono() -> Self {
        let plain = Style::new();
        let bold = Style::new().add_modifier(Modifier::BOLD);
        Theme {
            colored: false,
            title: bold,
            border: plain,
            border_focus: bold,
            selected: Style::new().add_modifier(Modifier::REVERSED),
            focused: Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            label: plain,
            dim: plain,
            key: bold,
            ok: plain,
            warn: bold,
            err: bold,
            info: plain,
            toggle_on: bold,
            toggle_off: plain,
            gauge_fill: plain,
            gauge_empty: plain,
            threshold: bold,
            unsaved: bold,
            big: bold,
            qr: plain,
        }
    }

    pub fn status(&self, status: &Status) -> Style {
        match status {
            Status::Active => self.ok,
            Status::SettingUp => self.info,
            Status::NotSyncing => self.dim,
            Status::NotConnected => self.warn,
            Status::Error(_) => self.err,
        }
    }

    pub fn event(&self, level: EventLevel) -> Style {
        match level {
            EventLevel::Info => self.label,
            EventLevel::Warn => self.warn,
            EventLevel::Error => self.err,
        }
    }

    /// Fill colour of a usage gauge: warn when close to the threshold, error at or past it.
    pub fn usage(&self, percent: f64, threshold: f64) -> Style {
        if !self.colored {
            return self.gauge_fill;
        }
        if percent >= threshold {
            self.err
        } else if percent >= threshold * 0.85 {
            self.warn
        } else {
            self.gauge_fill
        }
    }
}

/// Symbol shown before every status label, so status reads without colour.
pub fn status_symbol(status: &Status) -> &'static str {
    match status {
        Status::Active => "✓",
        Status::SettingUp => "↻",
        Status::NotSyncing => "‖",
        Status::NotConnected => "○",
        Status::Error(_) => "✗",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mono_theme_has_no_colours() {
        let t = Theme::mono();
        for s in [
            t.ok,
            t.err,
            t.warn,
            t.toggle_on,
            t.threshold,
            t.border,
            t.key,
        ] {
            assert_eq!(s.fg, None);
            assert_eq!(s.bg, None);
        }
        assert_eq!(t.usage(99.0, 80.0), t.gauge_fill);
    }

    #[test]
    fn no_color_variable_selects_mono() {
        use std::ffi::OsStr;
        assert!(!Theme::for_no_color(Some(OsStr::new("1"))).colored);
        assert!(Theme::for_no_color(Some(OsStr::new(""))).colored);
        assert!(Theme::for_no_color(None).colored);
    }

    #[test]
    fn usage_style_escalates_towards_the_threshold() {
        let t = Theme::color();
        assert_eq!(t.usage(10.0, 80.0), t.gauge_fill);
        assert_eq!(t.usage(70.0, 80.0), t.warn);
        assert_eq!(t.usage(80.0, 80.0), t.err);
    }
}
