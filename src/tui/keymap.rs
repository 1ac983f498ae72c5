//! One table of key bindings per context. The same table resolves keys to actions, draws
//! the footer hints and fills the `?` help overlay, so hints cannot drift from behaviour.
//! No binding uses Ctrl-S or Ctrl-Q (flow control on many SSH terminals).

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where the keyboard focus is; each has its own bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Sources,
    Actions,
    Settings,
    /// The frequency dropdown is open.
    Dropdown,
    /// The quota threshold text input has focus: it gets keys before anything else.
    TextInput,
    ConfirmDiscard,
    Auth,
    /// Reauthorize after success: only closing applies.
    AuthDone,
    /// Typing the table's filter.
    Filter,
    Status,
    /// The full text of one event.
    EventText,
    /// The log pane: syncdeck.log and the selected source's events.
    Log,
    History,
    Selection,
    Help,
}

impl Context {
    pub fn title(self) -> &'static str {
        match self {
            Context::Sources => "Data Sources",
            Context::Actions => "Actions menu",
            Context::Settings => "Settings",
            Context::Dropdown => "Update Frequency list",
            Context::TextInput => "Text input",
            Context::ConfirmDiscard => "Discard changes?",
            Context::Auth | Context::AuthDone => "Reauthorize",
            Context::Filter => "Filter",
            Context::Status => "Live status",
            Context::EventText => "Event",
            Context::Log => "Log",
            Context::History => "Run history",
            Context::Selection => "Data sync selection",
            Context::Help => "Help",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Up,
    Down,
    Top,
    Bottom,
    /// Enter: open, choose, press the focused button.
    Confirm,
    /// Esc: close, cancel, back.
    Back,
    Quit,
    Help,
    OpenActions,
    OpenSettings,
    SyncNow,
    PauseResume,
    Reauthorize,
    OpenHistory,
    OpenStatus,
    /// Space: toggle the focused control.
    Toggle,
    NextField,
    PrevField,
    Save,
    /// Send a test notification to the configured channels.
    TestNotification,
    Discard,
    KeepEditing,
    WebFlow,
    DeviceFlow,
    Retry,
    /// `/`: filter the table.
    Filter,
    /// `o`: next sort order of the table.
    CycleSort,
    /// `e`: Edit Data Sync of the selected source.
    EditDataSync,
    /// `L`: the log pane.
    OpenLog,
    /// `y`: copy the selected error, URL or user code (OSC 52).
    Copy,
    /// Live status: the next / previous source (j/k move among events there).
    NextSource,
    PrevSource,
    /// Re-read (the log pane).
    Refresh,
}

#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

const fn k(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::NONE,
    }
}
const fn code(code: KeyCode) -> Key {
    Key {
        code,
        mods: KeyModifiers::NONE,
    }
}
const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::CONTROL,
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub keys: &'static [Key],
    /// How the keys are written in hints ("j/k", "enter").
    pub shown: &'static str,
    pub desc: &'static str,
    pub action: Action,
    /// Shown in the footer (everything is shown in help).
    pub footer: bool,
}

const fn b(
    keys: &'static [Key],
    shown: &'static str,
    desc: &'static str,
    action: Action,
    footer: bool,
) -> Binding {
    Binding {
        keys,
        shown,
        desc,
        action,
        footer,
    }
}

const UP: &[Key] = &[k('k'), code(KeyCode::Up)];
const DOWN: &[Key] = &[k('j'), code(KeyCode::Down)];
const ENTER: &[Key] = &[code(KeyCode::Enter)];
const ESC: &[Key] = &[code(KeyCode::Esc)];

const SOURCES: &[Binding] = &[
    b(UP, "k/↑", "previous source", Action::Up, false),
    b(DOWN, "j/↓", "next source", Action::Down, false),
    b(
        &[k('g'), code(KeyCode::Home)],
        "g",
        "first source",
        Action::Top,
        false,
    ),
    b(
        &[k('G'), code(KeyCode::End)],
        "G",
        "last source",
        Action::Bottom,
        false,
    ),
    b(
        &[k('.'), code(KeyCode::Enter)],
        "./enter",
        "actions",
        Action::OpenActions,
        true,
    ),
    b(&[k('s')], "s", "settings", Action::OpenSettings, true),
    b(&[k('n')], "n", "sync now", Action::SyncNow, true),
    b(&[k('p')], "p", "pause/resume", Action::PauseResume, false),
    b(&[k('a')], "a", "reauthorize", Action::Reauthorize, false),
    b(
        &[k('e')],
        "e",
        "edit data sync",
        Action::EditDataSync,
        false,
    ),
    b(&[k('l')], "l", "live status", Action::OpenStatus, false),
    b(&[k('h')], "h", "run history", Action::OpenHistory, false),
    b(&[k('L')], "L", "log pane", Action::OpenLog, false),
    b(&[k('/')], "/", "filter", Action::Filter, true),
    b(
        &[k('o')],
        "o",
        "sort by name/status/last sync",
        Action::CycleSort,
        false,
    ),
    b(&[k('y')], "y", "copy the error", Action::Copy, false),
    b(ESC, "esc", "clear the filter", Action::Back, false),
];

/// Typing the filter: printable keys go into it.
const FILTER: &[Binding] = &[
    b(
        &[code(KeyCode::Up)],
        "↑",
        "previous source",
        Action::Up,
        false,
    ),
    b(
        &[code(KeyCode::Down)],
        "↓",
        "next source",
        Action::Down,
        false,
    ),
    b(ENTER, "enter", "keep filter", Action::Confirm, true),
    b(ESC, "esc", "clear filter", Action::Back, true),
];

const ACTIONS: &[Binding] = &[
    b(UP, "k/↑", "previous item", Action::Up, true),
    b(DOWN, "j/↓", "next item", Action::Down, true),
    b(ENTER, "enter", "choose", Action::Confirm, true),
    b(&[k('s')], "s", "settings", Action::OpenSettings, false),
    b(&[k('n')], "n", "sync now", Action::SyncNow, false),
    b(&[k('p')], "p", "pause/resume", Action::PauseResume, false),
    b(&[k('a')], "a", "reauthorize", Action::Reauthorize, false),
    b(&[k('h')], "h", "run history", Action::OpenHistory, false),
    b(&[k('l')], "l", "live status", Action::OpenStatus, false),
    b(ESC, "esc", "close", Action::Back, true),
];

const SETTINGS: &[Binding] = &[
    b(
        &[k('k'), code(KeyCode::Up), code(KeyCode::BackTab)],
        "↑/k/S-tab",
        "previous control",
        Action::PrevField,
        false,
    ),
    b(
        &[k('j'), code(KeyCode::Down), code(KeyCode::Tab)],
        "tab/↓/j",
        "next",
        Action::NextField,
        true,
    ),
    b(&[k(' ')], "space", "toggle", Action::Toggle, true),
    b(ENTER, "enter", "open/press", Action::Confirm, true),
    b(&[k('w')], "w", "save", Action::Save, true),
    b(
        &[k('t')],
        "t",
        "send a test notification",
        Action::TestNotification,
        false,
    ),
    b(ESC, "esc", "revert field/close", Action::Back, true),
];

const DROPDOWN: &[Binding] = &[
    b(UP, "k/↑", "previous choice", Action::Up, true),
    b(DOWN, "j/↓", "next choice", Action::Down, true),
    b(
        &[code(KeyCode::Enter), k(' ')],
        "enter",
        "choose",
        Action::Confirm,
        true,
    ),
    b(ESC, "esc", "close list", Action::Back, true),
];

/// A numeric field: navigation keys move focus, digits and editing keys edit, and any
/// other printable key is refused (never typed).
const TEXT_INPUT: &[Binding] = &[
    b(
        &[code(KeyCode::Tab), code(KeyCode::Down), k('j')],
        "tab/↓/j",
        "next",
        Action::NextField,
        true,
    ),
    b(
        &[code(KeyCode::BackTab), code(KeyCode::Up), k('k')],
        "S-tab/↑/k",
        "previous",
        Action::PrevField,
        true,
    ),
    b(ENTER, "enter", "save", Action::Save, true),
    b(ESC, "esc", "revert field/close", Action::Back, true),
    b(&[k('?')], "?", "help", Action::Help, false),
];

const CONFIRM_DISCARD: &[Binding] = &[
    b(
        &[k('y'), k('d')],
        "y",
        "discard changes",
        Action::Discard,
        true,
    ),
    b(
        &[k('n'), code(KeyCode::Esc)],
        "n/esc",
        "keep editing",
        Action::KeepEditing,
        true,
    ),
    b(&[k('w')], "w", "save changes", Action::Save, true),
];

const AUTH: &[Binding] = &[
    b(&[k('w')], "w", "use web flow", Action::WebFlow, true),
    b(&[k('d')], "d", "use device code", Action::DeviceFlow, true),
    b(&[k('r')], "r", "retry", Action::Retry, true),
    b(&[k('y')], "y", "copy URL/code", Action::Copy, true),
    b(ENTER, "enter", "done", Action::Confirm, false),
    b(ESC, "esc", "cancel/close", Action::Back, true),
];

const AUTH_DONE: &[Binding] = &[
    b(ENTER, "enter", "close", Action::Confirm, true),
    b(ESC, "esc", "close", Action::Back, false),
];

const STATUS: &[Binding] = &[
    b(UP, "k/↑", "newer event", Action::Up, false),
    b(DOWN, "j/↓", "older event", Action::Down, true),
    b(
        &[k('g'), code(KeyCode::Home)],
        "g",
        "newest event",
        Action::Top,
        false,
    ),
    b(
        &[k('G'), code(KeyCode::End)],
        "G",
        "oldest event",
        Action::Bottom,
        false,
    ),
    b(ENTER, "enter", "full text", Action::Confirm, true),
    b(&[k('y')], "y", "copy", Action::Copy, true),
    b(
        &[code(KeyCode::Tab)],
        "tab",
        "source",
        Action::NextSource,
        true,
    ),
    b(
        &[code(KeyCode::BackTab)],
        "S-tab",
        "previous source",
        Action::PrevSource,
        false,
    ),
    b(&[k('n')], "n", "sync now", Action::SyncNow, false),
    b(&[k('.')], ".", "actions", Action::OpenActions, false),
    b(ESC, "esc", "back", Action::Back, true),
];

const EVENT_TEXT: &[Binding] = &[
    b(UP, "k/↑", "scroll up", Action::Up, false),
    b(DOWN, "j/↓", "scroll down", Action::Down, false),
    b(&[k('y')], "y", "copy", Action::Copy, true),
    b(
        &[code(KeyCode::Esc), code(KeyCode::Enter)],
        "esc",
        "close",
        Action::Back,
        true,
    ),
];

const LOG: &[Binding] = &[
    b(UP, "k/↑", "older lines", Action::Up, true),
    b(DOWN, "j/↓", "newer lines", Action::Down, true),
    b(
        &[k('g'), code(KeyCode::Home)],
        "g",
        "oldest",
        Action::Top,
        false,
    ),
    b(
        &[k('G'), code(KeyCode::End)],
        "G",
        "newest",
        Action::Bottom,
        false,
    ),
    b(&[k('r')], "r", "re-read", Action::Refresh, true),
    b(
        &[code(KeyCode::Esc), k('L')],
        "esc",
        "back",
        Action::Back,
        true,
    ),
];

const LIST: &[Binding] = &[
    b(UP, "k/↑", "scroll up", Action::Up, true),
    b(DOWN, "j/↓", "scroll down", Action::Down, true),
    b(
        &[k('g'), code(KeyCode::Home)],
        "g",
        "top",
        Action::Top,
        false,
    ),
    b(
        &[k('G'), code(KeyCode::End)],
        "G",
        "bottom",
        Action::Bottom,
        false,
    ),
    b(ESC, "esc", "back", Action::Back, true),
];

const HELP: &[Binding] = &[b(
    &[code(KeyCode::Esc), k('?'), k('q')],
    "esc/?",
    "close help",
    Action::Back,
    true,
)];

/// Available wherever no text input has focus.
const GLOBAL: &[Binding] = &[
    b(
        &[k('?'), code(KeyCode::F(1))],
        "?",
        "help",
        Action::Help,
        true,
    ),
    b(&[k('q')], "q", "quit", Action::Quit, true),
    b(&[ctrl('c')], "ctrl-c", "quit", Action::Quit, false),
];

/// Ctrl-C quits even from a text input.
const INPUT_GLOBAL: &[Binding] = &[b(&[ctrl('c')], "ctrl-c", "quit", Action::Quit, false)];

pub fn bindings(ctx: Context) -> &'static [Binding] {
    match ctx {
        Context::Sources => SOURCES,
        Context::Actions => ACTIONS,
        Context::Settings => SETTINGS,
        Context::Dropdown => DROPDOWN,
        Context::TextInput => TEXT_INPUT,
        Context::ConfirmDiscard => CONFIRM_DISCARD,
        Context::Auth => AUTH,
        Context::AuthDone => AUTH_DONE,
        Context::Filter => FILTER,
        Context::Status => STATUS,
        Context::EventText => EVENT_TEXT,
        Context::Log => LOG,
        Context::History | Context::Selection => LIST,
        Context::Help => HELP,
    }
}

pub fn globals(ctx: Context) -> &'static [Binding] {
    match ctx {
        Context::TextInput | Context::Filter | Context::ConfirmDiscard | Context::Help => {
            INPUT_GLOBAL
        }
        _ => GLOBAL,
    }
}

fn matches(key: &Key, event: &KeyEvent) -> bool {
    if key.code != event.code {
        return false;
    }
    // Shift is implied by the character itself ('G', '?'), so only compare the others.
    let relevant = KeyModifiers::CONTROL | KeyModifiers::ALT;
    key.mods & relevant == event.modifiers & relevant
}

pub fn resolve(ctx: Context, event: &KeyEvent) -> Option<Action> {
    bindings(ctx)
        .iter()
        .chain(globals(ctx))
        .find(|binding| binding.keys.iter().any(|key| matches(key, event)))
        .map(|binding| binding.action)
}

/// Footer hints for a context: (keys, description), in table order.
pub fn footer(ctx: Context) -> impl Iterator<Item = &'static Binding> {
    bindings(ctx)
        .iter()
        .chain(globals(ctx))
        .filter(|binding| binding.footer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn text_input_claims_navigation_and_leaves_digits_to_the_field() {
        for c in ['q', ' ', 'w', '5', '0'] {
            assert_eq!(resolve(Context::TextInput, &key(KeyCode::Char(c))), None);
        }
        assert_eq!(
            resolve(Context::TextInput, &key(KeyCode::Char('j'))),
            Some(Action::NextField)
        );
        assert_eq!(
            resolve(Context::TextInput, &key(KeyCode::Char('k'))),
            Some(Action::PrevField)
        );
        assert_eq!(
            resolve(
                Context::TextInput,
                &KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Some(Action::Quit)
        );
    }

    #[test]
    fn shifted_characters_resolve_and_context_wins_over_global() {
        let g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(resolve(Context::Sources, &g), Some(Action::Bottom));
        assert_eq!(
            resolve(Context::Sources, &key(KeyCode::Char('q'))),
            Some(Action::Quit)
        );
        assert_eq!(
            resolve(Context::Help, &key(KeyCode::Char('q'))),
            Some(Action::Back)
        );
    }

    #[test]
    fn no_context_binds_flow_control_keys() {
        let all = [
            Context::Sources,
            Context::Actions,
            Context::Settings,
            Context::Dropdown,
            Context::TextInput,
            Context::ConfirmDiscard,
            Context::Auth,
            Context::AuthDone,
            Context::Filter,
            Context::Status,
            Context::EventText,
            Context::Log,
            Context::History,
            Context::Selection,
            Context::Help,
        ];
        for ctx in all {
            for c in ['s', 'q'] {
                let ev = KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
                assert_eq!(resolve(ctx, &ev), None, "{ctx:?} binds ctrl-{c}");
            }
            assert!(footer(ctx).count() > 0, "{ctx:?} has no footer hints");
        }
    }
}
