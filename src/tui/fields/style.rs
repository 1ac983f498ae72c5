//! The field screens' styles, derived from the app theme (so NO_COLOR and user choices
//! apply here too), plus the app's text hygiene and number formats.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use ratatui::style::{Modifier, Style};

use crate::tui::format;
use crate::tui::theme::Theme as AppTheme;

/// Every string from Salesforce or a file passes through this before it is drawn.
pub(crate) use crate::sanitize::clean;
pub(crate) use crate::tui::format::{display_width, grouped as thousands};

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
    pub(crate) border: Style,
}

impl Theme {
    pub(crate) fn from_app(app: &AppTheme) -> Self {
        Theme {
            cursor: app.selected,
            matched: app.warn.add_modifier(Modifier::BOLD),
            dim: app.dim,
            warn: app.warn,
            added: app.ok,
            removed: app.err,
            title: app.title,
            tab_active: app.key.add_modifier(Modifier::UNDERLINED),
            button: Style::new(),
            button_focused: app.focused,
            key: app.key,
            border: app.border_focus,
        }
    }
}

/// A duration as the rest of the app writes it ("45s", "3m 05s", "1h 02m").
pub(crate) fn duration(d: Duration) -> String {
    // Capped far beyond any backfill so the arithmetic below cannot overflow.
    const CAP_SECS: i64 = 100 * 365 * 86_400;
    let secs = i64::try_from(d.as_secs()).unwrap_or(CAP_SECS).min(CAP_SECS);
    let start = DateTime::<Utc>::UNIX_EPOCH;
    format::duration(start, start + TimeDelta::seconds(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_match_the_app() {
        assert_eq!(duration(Duration::from_secs(45)), "45s");
        assert_eq!(duration(Duration::from_secs(601)), "10m 01s");
        assert_eq!(duration(Duration::from_secs(12_000)), "3h 20m");
        assert!(!duration(Duration::MAX).is_empty());
    }

    #[test]
    fn matches_stay_visible_without_colour() {
        let mono = Theme::from_app(&AppTheme::mono());
        assert!(mono.matched.add_modifier.contains(Modifier::BOLD));
        assert_ne!(mono.cursor, Style::new());
    }
}
