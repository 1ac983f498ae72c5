//! The tables of the field screen (Edit Data Sync): the tree, its search, Data Presets,
//! a preset's diff, Review, and the discard prompt.

use ratatui::crossterm::event::KeyCode;

use super::tables::{END, ENTER, ESC, HOME, b, code, ctrl, k};
use super::{Action, Binding, Context, Key};

const HELP: &[Key] = &[k('?')];

const TREE: &[Binding] = &[
    b(&[k(' ')], "toggle", Action::Toggle).shown(),
    b(&[k('/')], "search", Action::Filter).shown(),
    b(&[k('n')], "next match", Action::NextMatch),
    b(&[k('N')], "previous match", Action::PrevMatch),
    b(&[k('a')], "select all matches", Action::SelectMatches),
    b(&[code(KeyCode::Tab)], "presets", Action::OpenPresets).shown(),
    b(&[k('r')], "review", Action::OpenReview).shown(),
    b(&[k('w')], "save only (no sync)", Action::Save),
    b(ESC, "back", Action::Back).shown(),
    b(HELP, "help", Action::Help).shown(),
    b(&[k('h')], "fold", Action::Collapse)
        .also(&[code(KeyCode::Left)])
        .paired(Action::Expand, "fold"),
    b(&[k('l')], "expand", Action::Expand).also(&[code(KeyCode::Right), code(KeyCode::Enter)]),
    b(&[k('j')], "down", Action::Down)
        .also(&[code(KeyCode::Down)])
        .paired(Action::Up, "move"),
    b(&[k('k')], "up", Action::Up).also(&[code(KeyCode::Up)]),
    b(&[k('g')], "top", Action::Top).also(HOME),
    b(&[k('G')], "bottom", Action::Bottom).also(END),
    b(&[ctrl('d')], "half page down", Action::HalfDown),
    b(&[ctrl('u')], "half page up", Action::HalfUp),
    b(&[code(KeyCode::PageDown)], "page down", Action::PageDown),
    b(&[code(KeyCode::PageUp)], "page up", Action::PageUp),
    b(&[k('e')], "expand all", Action::ExpandAll),
    b(&[k('E')], "collapse all", Action::CollapseAll),
    b(&[k('q')], "leave", Action::Leave),
];

/// While typing a search every other key is text.
const SEARCH: &[Binding] = &[
    b(ENTER, "keep filter", Action::Confirm).shown(),
    b(ESC, "clear search", Action::Back).shown(),
    b(&[code(KeyCode::Up)], "up", Action::Up).paired(Action::Down, "move"),
    b(&[code(KeyCode::Down)], "down", Action::Down),
];

const PRESETS: &[Binding] = &[
    b(ENTER, "preview diff", Action::Confirm)
        .also(&[k(' ')])
        .shown(),
    b(&[k('j')], "next preset", Action::Down)
        .also(&[code(KeyCode::Down)])
        .paired(Action::Up, "choose"),
    b(&[k('k')], "previous preset", Action::Up).also(&[code(KeyCode::Up)]),
    b(&[k('g')], "first", Action::Top).also(HOME),
    b(&[k('G')], "last", Action::Bottom).also(END),
    b(&[code(KeyCode::Tab)], "all data", Action::Back)
        .also(ESC)
        .shown(),
    b(&[k('r')], "review", Action::OpenReview).shown(),
    b(HELP, "help", Action::Help).shown(),
    b(&[k('q')], "leave", Action::Leave),
];

const PRESET_DIFF: &[Binding] = &[
    b(ENTER, "apply preset", Action::Confirm)
        .also(&[k('y')])
        .shown(),
    b(ESC, "back to presets", Action::Back)
        .also(&[k('n')])
        .shown(),
    b(&[k('j')], "scroll down", Action::Down)
        .also(&[code(KeyCode::Down)])
        .paired(Action::Up, "scroll"),
    b(&[k('k')], "scroll up", Action::Up).also(&[code(KeyCode::Up)]),
    b(HELP, "help", Action::Help).shown(),
];

const REVIEW: &[Binding] = &[
    b(&[code(KeyCode::Tab)], "switch button", Action::SwitchButton)
        .also(&[
            code(KeyCode::BackTab),
            code(KeyCode::Left),
            code(KeyCode::Right),
            k('h'),
            k('l'),
        ])
        .shown(),
    b(ENTER, "press button", Action::Confirm).shown(),
    b(&[k('s')], "sync now", Action::SyncNow),
    b(&[k('w')], "save only", Action::Save).shown(),
    b(ESC, "customize", Action::Back).also(&[k('c')]).shown(),
    b(HELP, "help", Action::Help).shown(),
    b(&[k('j')], "scroll down", Action::Down)
        .also(&[code(KeyCode::Down)])
        .paired(Action::Up, "scroll"),
    b(&[k('k')], "scroll up", Action::Up).also(&[code(KeyCode::Up)]),
];

/// Leaving with unsaved changes: any key other than these also keeps editing.
const DISCARD: &[Binding] = &[
    b(&[k('y')], "discard", Action::Discard).shown(),
    b(
        &[k('n'), code(KeyCode::Esc)],
        "keep editing",
        Action::KeepEditing,
    )
    .shown(),
];

pub(super) fn bindings(ctx: Context) -> &'static [Binding] {
    match ctx {
        Context::FieldsTree => TREE,
        Context::FieldsSearch => SEARCH,
        Context::Presets => PRESETS,
        Context::PresetDiff => PRESET_DIFF,
        Context::Review => REVIEW,
        Context::FieldsDiscard => DISCARD,
        // The app's contexts are answered by `tables`; nothing reaches here for them.
        _ => &[],
    }
}
