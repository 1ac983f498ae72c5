//! The tables of the app's own screens and the globals every context adds.

use ratatui::crossterm::event::{KeyCode, KeyModifiers};

use super::{Action, Binding, Context, Footer, Key};

pub(super) const fn k(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::NONE,
    }
}

pub(super) const fn code(code: KeyCode) -> Key {
    Key {
        code,
        mods: KeyModifiers::NONE,
    }
}

pub(super) const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        mods: KeyModifiers::CONTROL,
    }
}

/// A binding hidden from the footer, without aliases; the builders below adjust it.
pub(super) const fn b(keys: &'static [Key], desc: &'static str, action: Action) -> Binding {
    Binding {
        keys,
        aliases: &[],
        desc,
        action,
        footer: Footer::Hidden,
    }
}

impl Binding {
    pub(super) const fn shown(mut self) -> Self {
        self.footer = Footer::Shown;
        self
    }

    pub(super) const fn also(mut self, aliases: &'static [Key]) -> Self {
        self.aliases = aliases;
        self
    }

    pub(super) const fn paired(mut self, with: Action, desc: &'static str) -> Self {
        self.footer = Footer::Paired { with, desc };
        self
    }
}

pub(super) const UP: &[Key] = &[k('k'), code(KeyCode::Up)];
pub(super) const DOWN: &[Key] = &[k('j'), code(KeyCode::Down)];
pub(super) const ENTER: &[Key] = &[code(KeyCode::Enter)];
pub(super) const ESC: &[Key] = &[code(KeyCode::Esc)];
pub(super) const HOME: &[Key] = &[code(KeyCode::Home)];
pub(super) const END: &[Key] = &[code(KeyCode::End)];

const SOURCES: &[Binding] = &[
    b(UP, "previous source", Action::Up),
    b(DOWN, "next source", Action::Down),
    b(&[k('g')], "first source", Action::Top).also(HOME),
    b(&[k('G')], "last source", Action::Bottom).also(END),
    b(
        &[k('.'), code(KeyCode::Enter)],
        "actions",
        Action::OpenActions,
    )
    .shown(),
    b(&[k('s')], "settings", Action::OpenSettings).shown(),
    b(&[k('n')], "sync now", Action::SyncNow).shown(),
    b(&[k('p')], "pause/resume", Action::PauseResume),
    b(&[k('a')], "reauthorize", Action::Reauthorize),
    b(&[k('e')], "edit data sync", Action::EditDataSync),
    b(&[k('l')], "live status", Action::OpenStatus),
    b(&[k('h')], "run history", Action::OpenHistory),
    b(&[k('L')], "log pane", Action::OpenLog),
    b(&[k('/')], "filter", Action::Filter).shown(),
    b(
        &[k('o')],
        "sort by name/status/last sync",
        Action::CycleSort,
    ),
    b(&[k('y')], "copy the error", Action::Copy),
    b(ESC, "clear the filter", Action::Back),
];

/// Typing the filter: printable keys go into it.
const FILTER: &[Binding] = &[
    b(&[code(KeyCode::Up)], "previous source", Action::Up),
    b(&[code(KeyCode::Down)], "next source", Action::Down),
    b(ENTER, "keep filter", Action::Confirm).shown(),
    b(ESC, "clear filter", Action::Back).shown(),
];

const ACTIONS: &[Binding] = &[
    b(UP, "previous item", Action::Up).shown(),
    b(DOWN, "next item", Action::Down).shown(),
    b(ENTER, "choose", Action::Confirm).shown(),
    b(&[k('s')], "settings", Action::OpenSettings),
    b(&[k('n')], "sync now", Action::SyncNow),
    b(&[k('p')], "pause/resume", Action::PauseResume),
    b(&[k('a')], "reauthorize", Action::Reauthorize),
    b(&[k('h')], "run history", Action::OpenHistory),
    b(&[k('l')], "live status", Action::OpenStatus),
    b(ESC, "close", Action::Back).shown(),
];

const SETTINGS: &[Binding] = &[
    b(
        &[code(KeyCode::Up), k('k'), code(KeyCode::BackTab)],
        "previous control",
        Action::PrevControl,
    ),
    b(
        &[code(KeyCode::Tab), code(KeyCode::Down), k('j')],
        "next",
        Action::NextControl,
    )
    .shown(),
    b(&[k(' ')], "toggle", Action::Toggle).shown(),
    b(ENTER, "open/press", Action::Confirm).shown(),
    b(&[k('w')], "save", Action::Save).shown(),
    b(
        &[k('t')],
        "send a test notification",
        Action::TestNotification,
    ),
    b(ESC, "revert field/close", Action::Back).shown(),
];

const DROPDOWN: &[Binding] = &[
    b(UP, "previous choice", Action::Up).shown(),
    b(DOWN, "next choice", Action::Down).shown(),
    b(ENTER, "choose", Action::Confirm).also(&[k(' ')]).shown(),
    b(ESC, "close list", Action::Back).shown(),
];

/// A numeric field: navigation keys move focus, digits and editing keys edit, and any
/// other printable key is refused (never typed).
const TEXT_INPUT: &[Binding] = &[
    b(
        &[code(KeyCode::Tab), code(KeyCode::Down), k('j')],
        "next",
        Action::NextControl,
    )
    .shown(),
    b(
        &[code(KeyCode::BackTab), code(KeyCode::Up), k('k')],
        "previous",
        Action::PrevControl,
    )
    .shown(),
    b(ENTER, "save", Action::Save).shown(),
    b(ESC, "revert field/close", Action::Back).shown(),
    b(&[k('?')], "help", Action::Help),
];

const CONFIRM_DISCARD: &[Binding] = &[
    b(&[k('y')], "discard", Action::Discard)
        .also(&[k('d')])
        .shown(),
    b(
        &[k('n'), code(KeyCode::Esc)],
        "keep editing",
        Action::KeepEditing,
    )
    .shown(),
    b(&[k('w')], "save", Action::Save).shown(),
];

const AUTH: &[Binding] = &[
    b(&[k('w')], "use web flow", Action::WebFlow).shown(),
    b(&[k('d')], "use device code", Action::DeviceFlow).shown(),
    b(&[k('r')], "retry", Action::Retry).shown(),
    b(&[k('y')], "copy URL/code", Action::Copy).shown(),
    b(ENTER, "done", Action::Confirm),
    b(ESC, "cancel/close", Action::Back).shown(),
];

const AUTH_DONE: &[Binding] = &[
    b(ENTER, "close", Action::Confirm).shown(),
    b(ESC, "close", Action::Back),
];

const STATUS: &[Binding] = &[
    b(UP, "newer event", Action::Up),
    b(DOWN, "older event", Action::Down).shown(),
    b(&[k('g')], "newest event", Action::Top).also(HOME),
    b(&[k('G')], "oldest event", Action::Bottom).also(END),
    b(ENTER, "full text", Action::Confirm).shown(),
    b(&[k('y')], "copy", Action::Copy).shown(),
    b(&[code(KeyCode::Tab)], "source", Action::NextSource).shown(),
    b(
        &[code(KeyCode::BackTab)],
        "previous source",
        Action::PrevSource,
    ),
    b(&[k('n')], "sync now", Action::SyncNow),
    b(&[k('.')], "actions", Action::OpenActions),
    b(ESC, "back", Action::Back).shown(),
];

const EVENT_TEXT: &[Binding] = &[
    b(UP, "scroll up", Action::Up),
    b(DOWN, "scroll down", Action::Down),
    b(&[k('y')], "copy", Action::Copy).shown(),
    b(ESC, "close", Action::Back).also(ENTER).shown(),
];

const LOG: &[Binding] = &[
    b(UP, "older lines", Action::Up).shown(),
    b(DOWN, "newer lines", Action::Down).shown(),
    b(&[k('g')], "oldest", Action::Top).also(HOME),
    b(&[k('G')], "newest", Action::Bottom).also(END),
    b(&[k('r')], "re-read", Action::Refresh).shown(),
    b(ESC, "back", Action::Back).also(&[k('L')]).shown(),
];

const LIST: &[Binding] = &[
    b(UP, "scroll up", Action::Up).shown(),
    b(DOWN, "scroll down", Action::Down).shown(),
    b(&[k('g')], "top", Action::Top).also(HOME),
    b(&[k('G')], "bottom", Action::Bottom).also(END),
    b(ESC, "back", Action::Back).shown(),
];

const HELP: &[Binding] = &[b(&[code(KeyCode::Esc), k('?')], "close help", Action::Back)
    .also(&[k('q')])
    .shown()];

/// Available wherever no text input has focus.
const GLOBAL: &[Binding] = &[
    b(&[k('?')], "help", Action::Help)
        .also(&[code(KeyCode::F(1))])
        .shown(),
    b(&[k('q')], "quit", Action::Quit).shown(),
    b(&[ctrl('c')], "quit", Action::Quit),
];

/// Ctrl-C quits from everywhere, text inputs and the field screen included.
const CTRL_C_ONLY: &[Binding] = &[b(&[ctrl('c')], "quit", Action::Quit)];

/// The app's own contexts; `None` for the field screen's.
pub(super) fn bindings(ctx: Context) -> Option<&'static [Binding]> {
    Some(match ctx {
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
        Context::FieldsTree
        | Context::FieldsSearch
        | Context::Presets
        | Context::PresetDiff
        | Context::Review
        | Context::FieldsDiscard => return None,
    })
}

pub(super) fn globals(ctx: Context) -> &'static [Binding] {
    match ctx {
        Context::Sources
        | Context::Actions
        | Context::Settings
        | Context::Dropdown
        | Context::Auth
        | Context::AuthDone
        | Context::Status
        | Context::EventText
        | Context::Log
        | Context::History
        | Context::Selection => GLOBAL,
        // Typing contexts, prompts, the help and the field screen (whose `q` leaves the
        // screen rather than the app).
        Context::TextInput
        | Context::Filter
        | Context::ConfirmDiscard
        | Context::Help
        | Context::FieldsTree
        | Context::FieldsSearch
        | Context::Presets
        | Context::PresetDiff
        | Context::Review
        | Context::FieldsDiscard => CTRL_C_ONLY,
    }
}
