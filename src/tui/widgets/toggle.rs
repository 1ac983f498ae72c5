//! On/off switch: words and a box glyph carry the state, colour only reinforces it.

use ratatui::text::{Line, Span};

use crate::tui::theme::Theme;

pub fn toggle(on: bool, focused: bool, theme: &Theme) -> Line<'static> {
    let (text, style) = if on {
        ("[■ On ]", theme.toggle_on)
    } else {
        ("[ Off□]", theme.toggle_off)
    };
    let style = if focused {
        style.patch(theme.focused)
    } else {
        style
    };
    Line::from(Span::styled(text, style))
}
