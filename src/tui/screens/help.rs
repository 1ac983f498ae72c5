//! `?` over the app's screens: the shared help overlay for the context underneath.

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::tui::app::App;
use crate::tui::keymap::Context;
use crate::tui::widgets::key_help::{self, HelpStyles};

pub fn render(app: &App, frame: &mut Frame, area: Rect, under: Context) {
    let theme = &app.theme;
    let styles = HelpStyles {
        title: theme.title,
        key: theme.key,
        note: theme.dim,
        border: theme.border_focus,
    };
    key_help::render(
        frame,
        area,
        under,
        "Ctrl-S/Ctrl-Q are never used (SSH flow control).",
        &styles,
    );
}
