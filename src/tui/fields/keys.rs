//! The field screens' key bindings, as one table per context: the same table resolves keys
//! and writes the footer and help, so hints cannot drift from behaviour.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Context {
    Tree,
    Search,
    Presets,
    PresetDiff,
    Review,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Act {
    Down,
    Up,
    HalfDown,
    HalfUp,
    PageDown,
    PageUp,
    Collapse,
    Expand,
    Top,
    Bottom,
    ExpandAll,
    CollapseAll,
    Search,
    NextMatch,
    PrevMatch,
    Toggle,
    SelectMatches,
    Presets,
    Review,
    /// Enter: keep the search, preview or apply a preset, press the focused button.
    Confirm,
    /// Esc: clear the search, go back, or leave.
    Back,
    Quit,
    SwitchButton,
    SyncNow,
    /// Save the selection without starting a sync.
    Save,
    /// Show every binding of the current context.
    Help,
}

pub(crate) struct Binding {
    keys: &'static [(KeyCode, KeyModifiers)],
    /// How the keys are written in hints.
    pub(crate) label: &'static str,
    pub(crate) act: Act,
    pub(crate) desc: &'static str,
    /// Shown in the one-line footer (everything is in the help).
    pub(crate) footer: bool,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;

const fn c(ch: char) -> (KeyCode, KeyModifiers) {
    (KeyCode::Char(ch), NONE)
}

const fn b(
    keys: &'static [(KeyCode, KeyModifiers)],
    label: &'static str,
    act: Act,
    desc: &'static str,
    footer: bool,
) -> Binding {
    Binding {
        keys,
        label,
        act,
        desc,
        footer,
    }
}

const TREE: &[Binding] = &[
    b(&[c(' ')], "space", Act::Toggle, "toggle", true),
    b(&[c('/')], "/", Act::Search, "search", true),
    b(&[c('n')], "n", Act::NextMatch, "next match", false),
    b(&[c('N')], "N", Act::PrevMatch, "previous match", false),
    b(
        &[c('a')],
        "a",
        Act::SelectMatches,
        "select all matches",
        false,
    ),
    b(
        &[(KeyCode::Tab, NONE)],
        "tab",
        Act::Presets,
        "presets",
        true,
    ),
    b(&[c('r')], "r", Act::Review, "review", true),
    b(&[c('w')], "w", Act::Save, "save only (no sync)", false),
    b(&[(KeyCode::Esc, NONE)], "esc", Act::Back, "back", true),
    b(&[c('?')], "?", Act::Help, "help", true),
    b(
        &[c('h'), (KeyCode::Left, NONE)],
        "h/l",
        Act::Collapse,
        "fold",
        true,
    ),
    b(
        &[c('l'), (KeyCode::Right, NONE), (KeyCode::Enter, NONE)],
        "l",
        Act::Expand,
        "expand",
        false,
    ),
    b(
        &[c('j'), (KeyCode::Down, NONE)],
        "j/k",
        Act::Down,
        "move",
        true,
    ),
    b(&[c('k'), (KeyCode::Up, NONE)], "k", Act::Up, "up", false),
    b(
        &[c('g'), (KeyCode::Home, NONE)],
        "g/G",
        Act::Top,
        "top / bottom",
        false,
    ),
    b(
        &[c('G'), (KeyCode::End, NONE)],
        "G",
        Act::Bottom,
        "bottom",
        false,
    ),
    b(
        &[(KeyCode::Char('d'), CTRL)],
        "^d/^u",
        Act::HalfDown,
        "half page",
        false,
    ),
    b(
        &[(KeyCode::Char('u'), CTRL)],
        "^u",
        Act::HalfUp,
        "half page up",
        false,
    ),
    b(
        &[(KeyCode::PageDown, NONE)],
        "pgdn/pgup",
        Act::PageDown,
        "page",
        false,
    ),
    b(
        &[(KeyCode::PageUp, NONE)],
        "pgup",
        Act::PageUp,
        "page up",
        false,
    ),
    b(
        &[c('e')],
        "e/E",
        Act::ExpandAll,
        "expand / collapse all",
        false,
    ),
    b(&[c('E')], "E", Act::CollapseAll, "collapse all", false),
    b(&[c('q')], "q", Act::Quit, "leave", false),
];

/// While typing a search every other key is text.
const SEARCH: &[Binding] = &[
    b(
        &[(KeyCode::Enter, NONE)],
        "enter",
        Act::Confirm,
        "keep filter",
        true,
    ),
    b(
        &[(KeyCode::Esc, NONE)],
        "esc",
        Act::Back,
        "clear search",
        true,
    ),
    b(&[(KeyCode::Down, NONE)], "↑/↓", Act::Down, "move", true),
    b(&[(KeyCode::Up, NONE)], "↑", Act::Up, "up", false),
];

const PRESETS: &[Binding] = &[
    b(
        &[(KeyCode::Enter, NONE), c(' ')],
        "enter",
        Act::Confirm,
        "preview diff",
        true,
    ),
    b(
        &[c('j'), (KeyCode::Down, NONE)],
        "j/k",
        Act::Down,
        "choose",
        true,
    ),
    b(&[c('k'), (KeyCode::Up, NONE)], "k", Act::Up, "up", false),
    b(
        &[c('g'), (KeyCode::Home, NONE)],
        "g/G",
        Act::Top,
        "first / last",
        false,
    ),
    b(
        &[c('G'), (KeyCode::End, NONE)],
        "G",
        Act::Bottom,
        "last",
        false,
    ),
    b(
        &[(KeyCode::Tab, NONE), (KeyCode::Esc, NONE)],
        "tab",
        Act::Back,
        "all data",
        true,
    ),
    b(&[c('r')], "r", Act::Review, "review", true),
    b(&[c('?')], "?", Act::Help, "help", true),
    b(&[c('q')], "q", Act::Quit, "leave", false),
];

const PRESET_DIFF: &[Binding] = &[
    b(
        &[(KeyCode::Enter, NONE), c('y')],
        "enter",
        Act::Confirm,
        "apply preset",
        true,
    ),
    b(
        &[(KeyCode::Esc, NONE), c('n')],
        "esc",
        Act::Back,
        "back to presets",
        true,
    ),
    b(
        &[c('j'), (KeyCode::Down, NONE)],
        "j/k",
        Act::Down,
        "scroll",
        true,
    ),
    b(
        &[c('k'), (KeyCode::Up, NONE)],
        "k",
        Act::Up,
        "scroll up",
        false,
    ),
    b(&[c('?')], "?", Act::Help, "help", true),
];

const REVIEW: &[Binding] = &[
    b(
        &[
            (KeyCode::Tab, NONE),
            (KeyCode::BackTab, NONE),
            (KeyCode::Left, NONE),
            (KeyCode::Right, NONE),
            c('h'),
            c('l'),
        ],
        "tab",
        Act::SwitchButton,
        "switch button",
        true,
    ),
    b(
        &[(KeyCode::Enter, NONE)],
        "enter",
        Act::Confirm,
        "press button",
        true,
    ),
    b(&[c('s')], "s", Act::SyncNow, "sync now", false),
    b(&[c('w')], "w", Act::Save, "save only", true),
    b(
        &[(KeyCode::Esc, NONE), c('c')],
        "esc",
        Act::Back,
        "customize",
        true,
    ),
    b(&[c('?')], "?", Act::Help, "help", true),
    b(
        &[c('j'), (KeyCode::Down, NONE)],
        "j/k",
        Act::Down,
        "scroll",
        true,
    ),
    b(
        &[c('k'), (KeyCode::Up, NONE)],
        "k",
        Act::Up,
        "scroll up",
        false,
    ),
];

pub(crate) fn bindings(context: Context) -> &'static [Binding] {
    match context {
        Context::Tree => TREE,
        Context::Search => SEARCH,
        Context::Presets => PRESETS,
        Context::PresetDiff => PRESET_DIFF,
        Context::Review => REVIEW,
    }
}

/// The action bound to `key` in `context`. Shift is ignored for characters ('G' arrives
/// with or without it, depending on the terminal).
pub(crate) fn resolve(context: Context, key: &KeyEvent) -> Option<Act> {
    let mods = key.modifiers - KeyModifiers::SHIFT;
    bindings(context)
        .iter()
        .find(|b| {
            b.keys
                .iter()
                .any(|&(code, m)| code == key.code && m == mods)
        })
        .map(|b| b.act)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_is_bound_twice_in_a_context() {
        for context in [
            Context::Tree,
            Context::Search,
            Context::Presets,
            Context::PresetDiff,
            Context::Review,
        ] {
            let keys: Vec<_> = bindings(context).iter().flat_map(|b| b.keys).collect();
            for (i, k) in keys.iter().enumerate() {
                assert!(!keys[i + 1..].contains(k), "{context:?}: {k:?} bound twice");
            }
        }
    }

    #[test]
    fn resolves_with_and_without_shift() {
        let g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(resolve(Context::Tree, &g), Some(Act::Bottom));
        let ctrl_d = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL);
        assert_eq!(resolve(Context::Tree, &ctrl_d), Some(Act::HalfDown));
        let plain_d = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::NONE);
        assert_eq!(resolve(Context::Tree, &plain_d), None);
    }

    #[test]
    fn no_flow_control_keys() {
        for context in [Context::Tree, Context::Presets, Context::Review] {
            for b in bindings(context) {
                for (code, m) in b.keys {
                    let flow = matches!(code, KeyCode::Char('s' | 'q')) && *m == CTRL;
                    assert!(!flow, "Ctrl-S/Ctrl-Q are flow control over SSH");
                }
            }
        }
    }
}
