//! Every key binding of the TUI: one binding type, one table per context. The same table
//! resolves keys to actions, writes the footer hints, fills the `?` help and names keys
//! in prompts and messages ([`keys`]), so what the screen says a key does is what it does.
//! No binding uses Ctrl-S or Ctrl-Q (flow control on many SSH terminals).

mod fields;
mod tables;
#[cfg(test)]
mod walk;

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
    /// Edit Data Sync: the All Data tree.
    FieldsTree,
    /// Edit Data Sync: typing the tree's search.
    FieldsSearch,
    /// Edit Data Sync: the Data Presets list.
    Presets,
    /// Edit Data Sync: what a preset would change.
    PresetDiff,
    /// Edit Data Sync: Review, with Sync Now and Customize.
    Review,
    /// Edit Data Sync: leaving with unsaved field changes.
    FieldsDiscard,
}

impl Context {
    pub const ALL: [Context; 21] = [
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
        Context::FieldsTree,
        Context::FieldsSearch,
        Context::Presets,
        Context::PresetDiff,
        Context::Review,
        Context::FieldsDiscard,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Context::Sources => "Data Sources",
            Context::Actions => "Actions menu",
            Context::Settings => "Settings",
            Context::Dropdown => "Update Frequency list",
            Context::TextInput => "Text input",
            Context::ConfirmDiscard | Context::FieldsDiscard => "Discard changes?",
            Context::Auth | Context::AuthDone => "Reauthorize",
            Context::Filter => "Filter",
            Context::Status => "Live status",
            Context::EventText => "Event",
            Context::Log => "Log",
            Context::History => "Run history",
            Context::Selection => "Data sync selection",
            Context::Help => "Help",
            Context::FieldsTree | Context::FieldsSearch => "Edit Data Sync",
            Context::Presets | Context::PresetDiff => "Data Presets",
            Context::Review => "Review",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Up,
    Down,
    Top,
    Bottom,
    HalfDown,
    HalfUp,
    PageDown,
    PageUp,
    /// Enter: open, choose, press the focused button.
    Confirm,
    /// Esc: close, cancel, back.
    Back,
    /// Leave the field screen (asking first when edits are unsaved).
    Leave,
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
    NextControl,
    PrevControl,
    Save,
    /// Send a test notification to the configured channels.
    TestNotification,
    Discard,
    KeepEditing,
    WebFlow,
    DeviceFlow,
    Retry,
    /// `/`: filter the table, search the field tree.
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
    /// Field tree: fold / unfold the object under the cursor, or every object.
    Collapse,
    Expand,
    ExpandAll,
    CollapseAll,
    /// Field tree: the next / previous search match.
    NextMatch,
    PrevMatch,
    /// Field tree: select every field the search shows.
    SelectMatches,
    OpenPresets,
    OpenReview,
    /// Review: move focus between Sync Now and Customize.
    SwitchButton,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    /// How hints write the key: "k", "↑", "enter", "S-tab", "ctrl-c".
    pub fn name(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::Enter => "enter".into(),
            KeyCode::Esc => "esc".into(),
            KeyCode::Tab => "tab".into(),
            KeyCode::BackTab => "S-tab".into(),
            KeyCode::Home => "home".into(),
            KeyCode::End => "end".into(),
            KeyCode::PageUp => "pgup".into(),
            KeyCode::PageDown => "pgdn".into(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}").to_lowercase(),
        };
        if self.mods.contains(KeyModifiers::CONTROL) {
            format!("ctrl-{base}")
        } else {
            base
        }
    }

    /// Whether `event` is this key. Shift is implied by the character itself ('G', '?')
    /// and terminals differ in reporting it, so only Ctrl and Alt are compared.
    pub fn matches(&self, event: &KeyEvent) -> bool {
        let relevant = KeyModifiers::CONTROL | KeyModifiers::ALT;
        self.code == event.code && self.mods & relevant == event.modifiers & relevant
    }

    pub fn event(&self) -> KeyEvent {
        KeyEvent::new(self.code, self.mods)
    }
}

/// How a binding appears in the one-line footer (everything appears in the help).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Footer {
    Hidden,
    Shown,
    /// One hint for this binding and the one of `with`: "j/k move".
    Paired {
        with: Action,
        desc: &'static str,
    },
}

#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// The keys hints name, in the order they are written ("k/↑").
    pub keys: &'static [Key],
    /// Keys that do the same and are not named, to keep hints short.
    pub aliases: &'static [Key],
    pub desc: &'static str,
    pub action: Action,
    pub footer: Footer,
}

impl Binding {
    /// The named keys as hints write them: "k/↑".
    pub fn label(&self) -> String {
        self.keys
            .iter()
            .map(Key::name)
            .collect::<Vec<_>>()
            .join("/")
    }

    pub fn all_keys(&self) -> impl Iterator<Item = &'static Key> {
        self.keys.iter().chain(self.aliases)
    }

    fn matches(&self, event: &KeyEvent) -> bool {
        self.all_keys().any(|key| key.matches(event))
    }
}

/// One footer hint: the keys as written and what they do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub keys: String,
    pub desc: &'static str,
    pub action: Action,
}

/// The bindings of `ctx` itself, in table order.
pub fn bindings(ctx: Context) -> &'static [Binding] {
    tables::bindings(ctx).unwrap_or_else(|| fields::bindings(ctx))
}

/// The bindings that apply on top of `ctx`'s own (quit, help).
pub fn globals(ctx: Context) -> &'static [Binding] {
    tables::globals(ctx)
}

/// Everything `ctx` answers to: its own bindings first, then the globals. The help lists
/// exactly these.
pub fn all(ctx: Context) -> impl Iterator<Item = &'static Binding> {
    bindings(ctx).iter().chain(globals(ctx))
}

pub fn resolve(ctx: Context, event: &KeyEvent) -> Option<Action> {
    all(ctx)
        .find(|binding| binding.matches(event))
        .map(|binding| binding.action)
}

/// A Ctrl or Alt chord: never text, and where a context lets "any other key" do
/// something (close the help, keep editing), not one of those keys either, so flow control
/// (Ctrl-S/Ctrl-Q) passed through by a terminal changes nothing.
pub fn is_chord(event: &KeyEvent) -> bool {
    event
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
}

/// The keys of `action` in `ctx` as hints write them, for prompts and messages
/// ("press {} to resume"). An action the context does not bind reads as its name, which
/// the keymap tests rule out for every text that names a key.
pub fn keys(ctx: Context, action: Action) -> String {
    all(ctx)
        .find(|binding| binding.action == action)
        .map(Binding::label)
        .unwrap_or_else(|| format!("{action:?}"))
}

/// A hint for `action` in `ctx` worded for the situation ("a authorize" where the table
/// says "reauthorize"); the keys still come from the table.
pub fn hint(ctx: Context, action: Action, desc: &'static str) -> Hint {
    Hint {
        keys: keys(ctx, action),
        desc,
        action,
    }
}

/// Footer hints for a context, in table order.
pub fn footer(ctx: Context) -> Vec<Hint> {
    all(ctx)
        .filter_map(|binding| match binding.footer {
            Footer::Hidden => None,
            Footer::Shown => Some(Hint {
                keys: binding.label(),
                desc: binding.desc,
                action: binding.action,
            }),
            Footer::Paired { with, desc } => {
                let first = |b: &Binding| b.keys.first().map(Key::name).unwrap_or_default();
                let partner = all(ctx).find(|b| b.action == with).map(first);
                Some(Hint {
                    keys: format!("{}/{}", first(binding), partner.unwrap_or_default()),
                    desc,
                    action: binding.action,
                })
            }
        })
        .collect()
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
            Some(Action::NextControl)
        );
        assert_eq!(
            resolve(Context::TextInput, &key(KeyCode::Char('k'))),
            Some(Action::PrevControl)
        );
    }

    #[test]
    fn shifted_characters_resolve_and_context_wins_over_global() {
        let g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(resolve(Context::Sources, &g), Some(Action::Bottom));
        assert_eq!(resolve(Context::FieldsTree, &g), Some(Action::Bottom));
        assert_eq!(
            resolve(Context::Sources, &key(KeyCode::Char('q'))),
            Some(Action::Quit)
        );
        assert_eq!(
            resolve(Context::Help, &key(KeyCode::Char('q'))),
            Some(Action::Back)
        );
        let ctrl_d = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL);
        assert_eq!(
            resolve(Context::FieldsTree, &ctrl_d),
            Some(Action::HalfDown)
        );
        assert_eq!(resolve(Context::FieldsTree, &key(KeyCode::Char('d'))), None);
    }

    #[test]
    fn labels_and_paired_hints_are_written_from_the_keys() {
        let footer = footer(Context::FieldsTree);
        let shown: Vec<String> = footer
            .iter()
            .map(|h| format!("{} {}", h.keys, h.desc))
            .collect();
        assert!(shown.contains(&"j/k move".to_string()), "{shown:?}");
        assert!(shown.contains(&"h/l fold".to_string()), "{shown:?}");
        assert_eq!(keys(Context::Settings, Action::NextControl), "tab/↓/j");
        assert_eq!(keys(Context::Sources, Action::Quit), "q");
        assert_eq!(keys(Context::TextInput, Action::Quit), "ctrl-c");
    }
}
