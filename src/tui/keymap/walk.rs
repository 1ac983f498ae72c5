//! Walks every context of the keymap through the real app: each key of each binding is
//! pressed in a fresh app brought to that context by keys, and the effect seen on the app
//! (screen, focus, commands sent, settings written, what is drawn) must be what the
//! binding's description says. Also: no key is bound twice in a context, Ctrl-S/Ctrl-Q do
//! nothing anywhere, Esc and Ctrl-C are bound everywhere, and the help lists exactly the
//! table.

use std::sync::Arc;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc::{self, UnboundedReceiver};

use super::{Action, Context, Key, all, bindings};
use crate::config::ObjectSelection;
use crate::model::{AuthFlow, AuthPrompt, Command, Event, EventLevel, Snapshot};
use crate::model::{FieldSchema, ObjectSchema, OrgSchema};
use crate::tui::app::{App, Screen, ScreenKind};
use crate::tui::fake::{self, FakeHistory, FakeSettings};
use crate::tui::ports::{LogError, LogTail};
use crate::tui::settings_form::Control;
use crate::tui::table_view::SortKey;
use crate::tui::theme::Theme;
use crate::tui::widgets::key_help::{self, HelpStyles};

/// Small enough that the field screen's lists and the preset diff scroll.
const WIDTH: u16 = 80;
const HEIGHT: u16 = 16;

/// A log whose every read returns new lines, so a re-read shows.
struct CountingLog(usize);

impl LogTail for CountingLog {
    fn tail(&mut self, _max_lines: usize) -> Result<Vec<String>, LogError> {
        self.0 += 1;
        Ok((0..60)
            .map(|i| format!("read {} line {i}", self.0))
            .collect())
    }

    fn location(&self) -> String {
        "counting.log".into()
    }
}

fn field(name: &str) -> FieldSchema {
    FieldSchema {
        name: name.into(),
        label: name.into(),
        field_type: "string".into(),
        filterable: true,
        ..Default::default()
    }
}

fn object(name: &str, fields: &[&str]) -> ObjectSchema {
    ObjectSchema {
        name: name.into(),
        label: name.into(),
        fields: fields.iter().map(|f| field(f)).collect(),
        ..Default::default()
    }
}

fn schema() -> Arc<OrgSchema> {
    let account = [
        "Id",
        "Name",
        "Industry",
        "AnnualRevenue",
        "SystemModstamp",
        "Phone",
        "Website",
    ];
    let contact = [
        "Id",
        "Email",
        "AccountId",
        "SystemModstamp",
        "FirstName",
        "LastName",
    ];
    Arc::new(OrgSchema {
        objects: vec![
            object("Account", &account),
            object("Contact", &contact),
            object("Opportunity", &["Id", "Name", "Amount", "SystemModstamp"]),
        ],
    })
}

struct Harness {
    app: App,
    commands: UnboundedReceiver<Command>,
    settings: FakeSettings,
    snapshot: Snapshot,
}

/// The fake sources with an org schema each, except `hooli` (the last), whose Edit Data
/// Sync shows the saved selection while the schema loads; that selection has four objects
/// so it scrolls.
fn harness() -> Harness {
    let mut snapshot = fake::snapshot();
    for source in &mut snapshot.sources {
        source.schema = (source.id != "hooli").then(schema);
    }
    // An event longer than the screen, so its full text scrolls.
    if let Some(umbrella) = snapshot.sources.iter_mut().find(|s| s.id == "umbrella") {
        umbrella.events.push(Event {
            at: fake::now(),
            level: EventLevel::Warn,
            message: (1..=60)
                .map(|i| format!("word{i} of a long event text"))
                .collect::<Vec<_>>()
                .join(" "),
        });
    }
    let mut config = fake::config();
    if let Some(hooli) = config.sources.iter_mut().find(|s| s.id == "hooli") {
        for name in ["Lead", "Opportunity"] {
            let fields = vec!["Id".to_string(), "Name".to_string()];
            hooli
                .objects
                .insert(name.to_string(), ObjectSelection { fields });
        }
    }
    let settings = FakeSettings::new(config);
    let (tx, commands) = mpsc::unbounded_channel();
    let app = App::new(
        snapshot.clone(),
        tx,
        Box::new(settings.clone()),
        Box::new(FakeHistory::default()),
        Theme::mono(),
        fake::now(),
    )
    .with_log(Box::new(CountingLog(0)));
    Harness {
        app,
        commands,
        settings,
        snapshot,
    }
}

/// Key presses written as text: characters, and `<enter>`, `<esc>`, `<tab>` in brackets.
fn presses(script: &str) -> Vec<KeyEvent> {
    let mut out = Vec::new();
    let mut rest = script;
    while let Some(c) = rest.chars().next() {
        if c == '<'
            && let Some(end) = rest.find('>')
        {
            let code = match &rest[1..end] {
                "enter" => KeyCode::Enter,
                "esc" => KeyCode::Esc,
                "tab" => KeyCode::Tab,
                other => panic!("unknown key <{other}>"),
            };
            out.push(KeyEvent::new(code, KeyModifiers::NONE));
            rest = &rest[end + 1..];
            continue;
        }
        out.push(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// How to reach a context from a fresh app: keys, then possibly an authorization
/// prompt published by the engine for the selected source (Umbrella).
#[derive(Clone, Copy)]
struct Setup {
    keys: &'static str,
    auth: Option<fn() -> AuthPrompt>,
}

const fn keys(keys: &'static str) -> Setup {
    Setup { keys, auth: None }
}

fn failed() -> AuthPrompt {
    AuthPrompt::Failed {
        message: "The code was denied.".into(),
        refused: true,
    }
}

fn succeeded() -> AuthPrompt {
    AuthPrompt::Succeeded {
        username: "admin@umbrella.example.com".into(),
    }
}

/// `jjj` selects Umbrella (in an error, syncing enabled); `/o` keeps it and three others
/// in the table. Each setup leaves room to move both ways.
fn setup(ctx: Context) -> Setup {
    match ctx {
        Context::Sources => keys("jjj/o<enter>"),
        Context::Filter => keys("jjj/o"),
        Context::Actions => keys("jjj.j"),
        Context::Settings => keys("jjjs"),
        Context::Dropdown => keys("jjjsj<enter>j"),
        Context::TextInput => keys("jjjsjj"),
        Context::ConfirmDiscard => keys("jjjs j<esc>"),
        Context::Auth => Setup {
            keys: "jjja",
            auth: Some(failed),
        },
        Context::AuthDone => Setup {
            keys: "jjja",
            auth: Some(succeeded),
        },
        Context::Status => keys("jjjlj"),
        Context::EventText => keys("jjjl<enter>j"),
        Context::Log => keys("jjjLkk"),
        Context::History => keys("jjjhj"),
        Context::Selection => keys("jjjjej"),
        Context::Help => keys("jjj?"),
        Context::FieldsTree => keys("jjjeej"),
        Context::FieldsSearch => keys("jjjeejj/"),
        Context::Presets => keys("jjje<tab>j"),
        Context::PresetDiff => keys("jjje<tab><enter>j"),
        Context::Review => keys("jjje j j rj"),
        Context::FieldsDiscard => keys("jjje <esc>"),
    }
}

/// Where a binding needs a different starting point than its context's usual one.
fn setup_for(ctx: Context, action: Action) -> Setup {
    match (ctx, action) {
        // A dirty panel, so saving writes.
        (Context::Settings, Action::Save) => keys("jjjs "),
        // An object folded, with the cursor on it.
        (Context::FieldsTree, Action::Expand | Action::ExpandAll) => keys("jjje"),
        // Matches of a search to move between.
        (Context::FieldsTree, Action::NextMatch | Action::PrevMatch) => keys("jjje/na<enter>"),
        _ => setup(ctx),
    }
}

impl Harness {
    fn reach(setup: Setup) -> Self {
        let mut h = harness();
        for key in presses(setup.keys) {
            h.app.handle_key(key);
        }
        if let Some(prompt) = setup.auth {
            h.snapshot.version += 1;
            if let Some(s) = h.snapshot.sources.iter_mut().find(|s| s.id == "umbrella") {
                s.auth = Some(prompt());
            }
            h.app.on_snapshot(h.snapshot.clone());
        }
        h.probe();
        h
    }

    fn probe(&mut self) -> Probe {
        let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
        terminal.draw(|f| self.app.render(f)).unwrap();
        let mut sent = Vec::new();
        while let Ok(c) = self.commands.try_recv() {
            sent.push(c);
        }
        Probe {
            ctx: self.app.context(),
            screen: self.app.screen(),
            depth: self.app.stack.len(),
            quit: self.app.should_quit(),
            sort: self.app.sort(),
            filter: self.app.filter_text().map(str::to_string),
            focus: self.app.settings_form().map(|f| f.focus),
            flash: self.app.flash().map(|f| f.text.clone()),
            clipboard: self.app.take_clipboard(),
            sent,
            applied: self.settings.applied().len(),
            help_under: match self.app.stack.last() {
                Some(Screen::Help { under }) => Some(*under),
                _ => None,
            },
            buffer: terminal.backend().buffer().clone(),
        }
    }
}

#[derive(Debug)]
struct Probe {
    ctx: Context,
    screen: ScreenKind,
    depth: usize,
    quit: bool,
    sort: SortKey,
    filter: Option<String>,
    focus: Option<Control>,
    flash: Option<String>,
    clipboard: Option<String>,
    sent: Vec<Command>,
    applied: usize,
    help_under: Option<Context>,
    buffer: Buffer,
}

/// What a binding's description promises, as seen from outside the app.
#[derive(Debug)]
enum Expect {
    Quit,
    Context(Context),
    Screen(ScreenKind),
    /// The top screen or prompt closed.
    Popped,
    FilterCleared,
    /// Settings were written.
    Applied,
    Sent(fn(&Command) -> bool),
    Sorted,
    Copied,
    FocusMoved,
    /// Same screen and context, something drawn differently (a cursor, a scroll, a mark).
    Moved,
}

/// One table from (context, action) to the promised effect, kept whole (no wildcard) so a
/// new action cannot be added without saying what it should do.
fn expect(ctx: Context, action: Action) -> Expect {
    use Action as A;
    use Context as C;
    match (ctx, action) {
        (_, A::Quit) => Expect::Quit,
        (_, A::Help) => Expect::Context(C::Help),
        (C::Sources | C::Filter, A::Back) => Expect::FilterCleared,
        (C::Dropdown, A::Back | A::Confirm) => Expect::Context(C::Settings),
        (C::Filter, A::Confirm) => Expect::Context(C::Sources),
        (C::FieldsSearch | C::PresetDiff | C::Review, A::Back) => match ctx {
            C::PresetDiff => Expect::Context(C::Presets),
            _ => Expect::Context(C::FieldsTree),
        },
        (C::FieldsSearch | C::PresetDiff, A::Confirm) => Expect::Context(C::FieldsTree),
        (C::Presets, A::Back) => Expect::Context(C::FieldsTree),
        (C::Presets, A::Confirm) => Expect::Context(C::PresetDiff),
        (C::Status, A::Confirm) => Expect::Screen(ScreenKind::EventText),
        // The Actions setup highlights its second item, Sync now.
        (C::Actions | C::Review, A::Confirm) | (_, A::SyncNow) => {
            Expect::Sent(|c| matches!(c, Command::SyncNow { .. }))
        }
        // Enter on the focused Sync Data toggle flips it.
        (C::Settings, A::Confirm) => Expect::Moved,
        (C::FieldsDiscard, A::KeepEditing) => Expect::Context(C::FieldsTree),
        (_, A::KeepEditing) => Expect::Context(C::Settings),
        (C::Settings | C::ConfirmDiscard, A::Save) | (_, A::PauseResume) => Expect::Applied,
        (C::FieldsTree | C::Review, A::Save) => Expect::Sent(|c| matches!(c, Command::Reload(_))),
        (_, A::Back | A::Leave | A::Discard | A::Confirm | A::Save) => Expect::Popped,
        (_, A::OpenActions) => Expect::Screen(ScreenKind::Actions),
        (_, A::OpenSettings) => Expect::Screen(ScreenKind::Settings),
        (_, A::OpenHistory) => Expect::Screen(ScreenKind::History),
        (_, A::OpenStatus) => Expect::Screen(ScreenKind::Status),
        (_, A::OpenLog) => Expect::Screen(ScreenKind::Log),
        (_, A::EditDataSync) => Expect::Screen(ScreenKind::Fields),
        (_, A::Reauthorize) => Expect::Screen(ScreenKind::Auth),
        (_, A::TestNotification) => Expect::Sent(|c| matches!(c, Command::TestNotification { .. })),
        (_, A::WebFlow) => Expect::Sent(|c| {
            matches!(
                c,
                Command::Reauthorize {
                    flow: AuthFlow::Web { .. },
                    ..
                }
            )
        }),
        (_, A::DeviceFlow | A::Retry) => Expect::Sent(|c| {
            matches!(
                c,
                Command::Reauthorize {
                    flow: AuthFlow::Device,
                    ..
                }
            )
        }),
        (C::FieldsTree, A::Filter) => Expect::Context(C::FieldsSearch),
        (_, A::Filter) => Expect::Context(C::Filter),
        (_, A::CycleSort) => Expect::Sorted,
        (_, A::Copy) => Expect::Copied,
        (_, A::OpenPresets) => Expect::Context(C::Presets),
        (_, A::OpenReview) => Expect::Context(C::Review),
        (_, A::NextControl | A::PrevControl) => Expect::FocusMoved,
        (
            _,
            A::Up
            | A::Down
            | A::Top
            | A::Bottom
            | A::HalfDown
            | A::HalfUp
            | A::PageDown
            | A::PageUp
            | A::Toggle
            | A::NextSource
            | A::PrevSource
            | A::Refresh
            | A::Collapse
            | A::Expand
            | A::ExpandAll
            | A::CollapseAll
            | A::NextMatch
            | A::PrevMatch
            | A::SelectMatches
            | A::SwitchButton,
        ) => Expect::Moved,
    }
}

fn holds(expect: &Expect, ctx: Context, before: &Probe, after: &Probe) -> bool {
    let unsaved_fields = after
        .flash
        .as_deref()
        .is_some_and(|f| f.starts_with("Unsaved field changes"));
    match expect {
        Expect::Quit => after.quit || unsaved_fields,
        Expect::Context(c) => {
            // The app's help records the context it was opened over.
            after.ctx == *c && (after.help_under.is_none() || after.help_under == Some(ctx))
        }
        Expect::Screen(s) => after.screen == *s,
        Expect::Popped => after.depth < before.depth || after.ctx != before.ctx,
        Expect::FilterCleared => before.filter.is_some() && after.filter.is_none(),
        Expect::Applied => after.applied > before.applied,
        Expect::Sent(is) => after.sent.iter().any(is),
        Expect::Sorted => after.sort != before.sort,
        Expect::Copied => after.clipboard.is_some(),
        Expect::FocusMoved => after.focus.is_some() && after.focus != before.focus,
        Expect::Moved => {
            after.depth == before.depth
                && after.ctx == before.ctx
                && !after.quit
                && after.buffer != before.buffer
        }
    }
}

/// Each context once, and the help a second time over the field screen (its own overlay).
fn walked() -> Vec<(Context, Setup)> {
    let mut out: Vec<(Context, Setup)> = Context::ALL.iter().map(|c| (*c, setup(*c))).collect();
    out.push((Context::Help, keys("jjje?")));
    out
}

#[test]
fn every_setup_reaches_its_context() {
    for (ctx, setup) in walked() {
        let mut h = Harness::reach(setup);
        assert_eq!(h.probe().ctx, ctx, "setup {:?}", setup.keys);
    }
}

#[test]
fn every_key_of_every_binding_does_what_it_says() {
    for (ctx, base) in walked() {
        for binding in all(ctx) {
            for key in binding.all_keys() {
                let start = if base.keys == setup(ctx).keys {
                    setup_for(ctx, binding.action)
                } else {
                    base
                };
                let mut h = Harness::reach(start);
                let before = h.probe();
                h.app.handle_key(key.event());
                let after = h.probe();
                let expected = expect(ctx, binding.action);
                assert!(
                    holds(&expected, ctx, &before, &after),
                    "{ctx:?} (after {:?}): {} ({:?}, \"{}\") should give {expected:?}; \
                     got context {:?}, screen {:?}, flash {:?}, sent {:?}",
                    start.keys,
                    key.name(),
                    binding.action,
                    binding.desc,
                    after.ctx,
                    after.screen,
                    after.flash,
                    after.sent,
                );
            }
        }
    }
}

/// Words one of which a description of `action` uses: the walk proves a key does what its
/// action does, this proves the description names that action and not another.
fn words(action: Action) -> &'static [&'static str] {
    use Action as A;
    match action {
        A::Up | A::Down => &["up", "down", "previous", "next", "newer", "older"],
        A::Top | A::Bottom => &["first", "last", "top", "bottom", "newest", "oldest"],
        A::HalfDown => &["half page down"],
        A::HalfUp => &["half page up"],
        A::PageDown => &["page down"],
        A::PageUp => &["page up"],
        A::Confirm => &[
            "choose",
            "open",
            "keep",
            "done",
            "close",
            "full text",
            "preview",
            "apply",
            "press",
        ],
        A::Back => &[
            "back",
            "close",
            "clear",
            "revert",
            "cancel",
            "all data",
            "customize",
        ],
        A::Leave => &["leave"],
        A::Quit => &["quit"],
        A::Help => &["help"],
        A::OpenActions => &["actions"],
        A::OpenSettings => &["settings"],
        A::SyncNow => &["sync now"],
        A::PauseResume => &["pause"],
        A::Reauthorize => &["reauthorize"],
        A::OpenHistory => &["history"],
        A::OpenStatus => &["live status"],
        A::Toggle => &["toggle"],
        A::NextControl => &["next"],
        A::PrevControl => &["previous"],
        A::Save => &["save"],
        A::TestNotification => &["test notification"],
        A::Discard => &["discard"],
        A::KeepEditing => &["keep editing"],
        A::WebFlow => &["web"],
        A::DeviceFlow => &["device"],
        A::Retry => &["retry"],
        A::Filter => &["filter", "search"],
        A::CycleSort => &["sort"],
        A::EditDataSync => &["edit data sync"],
        A::OpenLog => &["log"],
        A::Copy => &["copy"],
        A::NextSource => &["source"],
        A::PrevSource => &["previous source"],
        A::Refresh => &["re-read"],
        A::Collapse => &["fold"],
        A::Expand => &["expand"],
        A::ExpandAll => &["expand all"],
        A::CollapseAll => &["collapse all"],
        A::NextMatch => &["next match"],
        A::PrevMatch => &["previous match"],
        A::SelectMatches => &["matches"],
        A::OpenPresets => &["presets"],
        A::OpenReview => &["review"],
        A::SwitchButton => &["switch"],
    }
}

#[test]
fn every_description_names_its_action() {
    for ctx in Context::ALL {
        for b in all(ctx) {
            assert!(
                words(b.action).iter().any(|w| b.desc.contains(w)),
                "{ctx:?}: \"{}\" does not describe {:?}",
                b.desc,
                b.action
            );
        }
    }
}

#[test]
fn no_key_is_bound_twice_in_a_context() {
    for ctx in Context::ALL {
        let keys: Vec<&Key> = all(ctx).flat_map(|b| b.all_keys()).collect();
        for (i, key) in keys.iter().enumerate() {
            assert!(
                !keys[i + 1..].contains(key),
                "{ctx:?}: {} is bound twice",
                key.name()
            );
        }
    }
}

#[test]
fn esc_and_ctrl_c_are_bound_everywhere_and_ctrl_s_ctrl_q_nowhere() {
    let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
    let ctrl = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
    for ctx in Context::ALL {
        assert!(super::resolve(ctx, &esc).is_some(), "{ctx:?}: esc unbound");
        assert_eq!(
            super::resolve(ctx, &ctrl('c')),
            Some(Action::Quit),
            "{ctx:?}"
        );
        for c in ['s', 'q'] {
            assert_eq!(
                super::resolve(ctx, &ctrl(c)),
                None,
                "{ctx:?} binds ctrl-{c}"
            );
        }
        assert!(!bindings(ctx).is_empty(), "{ctx:?} has no bindings");
        assert!(
            !super::footer(ctx).is_empty(),
            "{ctx:?} has no footer hints"
        );
    }
}

/// Flow control reaches the app on terminals that pass it through: it must change nothing,
/// not even in a text input, where an unbound key would otherwise be typed or refused.
#[test]
fn ctrl_s_and_ctrl_q_change_nothing_in_any_context() {
    for (ctx, setup) in walked() {
        for c in ['s', 'q'] {
            let mut h = Harness::reach(setup);
            let before = h.probe();
            h.app
                .handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
            let after = h.probe();
            assert_eq!(after.ctx, before.ctx, "{ctx:?} ctrl-{c}");
            assert_eq!(after.depth, before.depth, "{ctx:?} ctrl-{c}");
            assert!(!after.quit, "{ctx:?} ctrl-{c} quit");
            assert!(
                after.sent.is_empty(),
                "{ctx:?} ctrl-{c} sent {:?}",
                after.sent
            );
            assert_eq!(after.applied, before.applied, "{ctx:?} ctrl-{c}");
            assert_eq!(after.flash, None, "{ctx:?} ctrl-{c}");
            assert!(after.buffer == before.buffer, "{ctx:?} ctrl-{c} redrew");
        }
    }
}

/// Ctrl-C never loses edits silently: with unsaved settings it asks first, with unsaved
/// fields it says how to save or discard them.
#[test]
fn ctrl_c_with_unsaved_edits_asks_first() {
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    let mut settings = Harness::reach(keys("jjjs "));
    settings.app.handle_key(ctrl_c);
    let after = settings.probe();
    assert!(!after.quit);
    assert_eq!(after.ctx, Context::ConfirmDiscard);
    let mut fields = Harness::reach(keys("jjje "));
    fields.app.handle_key(ctrl_c);
    let after = fields.probe();
    assert!(!after.quit);
    assert_eq!(after.ctx, Context::FieldsTree);
    let flash = after.flash.unwrap_or_default();
    assert!(flash.contains("w saves them, q then y discards"), "{flash}");
}

/// The overlay's rows, in order, are the table's bindings and then the note: nothing
/// more, nothing less.
#[test]
fn help_lists_exactly_the_table() {
    let styles = HelpStyles {
        title: Default::default(),
        key: Default::default(),
        note: Default::default(),
        border: Default::default(),
    };
    for ctx in Context::ALL {
        let mut terminal = Terminal::new(TestBackend::new(120, 60)).unwrap();
        terminal
            .draw(|f| key_help::render(f, f.area(), ctx, "the note", &styles))
            .unwrap();
        let buffer = terminal.backend().buffer();
        let rows: Vec<String> = (0..buffer.area.height)
            .map(|y| {
                (0..buffer.area.width)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect::<String>()
            })
            .filter(|row| !row.contains('─'))
            .map(|row| row.replace('│', "").trim().to_string())
            .filter(|row| !row.is_empty())
            .collect();
        let entries = key_help::entries(ctx);
        let width = entries
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0)
            + 2;
        let mut expected: Vec<String> = all(ctx)
            .map(|b| {
                let label = b.label();
                let pad = width - label.chars().count();
                format!("{label}{}{}", " ".repeat(pad), b.desc)
            })
            .collect();
        expected.push("the note".into());
        assert_eq!(rows, expected, "{ctx:?}");
    }
}

/// Every `keys(Context::…, Action::…)` in the TUI's source names a key its context binds
/// (an unbound one would read as the action's name on screen).
#[test]
fn every_key_named_in_a_text_is_bound_there() {
    let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tui")];
    let mut named = 0;
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (_, rest) in text
                .match_indices("keys(Context::")
                .map(|(i, _)| text.split_at(i))
            {
                let rest = &rest["keys(Context::".len()..];
                let Some((ctx, rest)) = rest.split_once(", Action::") else {
                    continue;
                };
                let action = rest.split(')').next().unwrap_or_default();
                let ident = |s: &str| !s.is_empty() && s.chars().all(char::is_alphanumeric);
                if !ident(ctx) || !ident(action) {
                    continue; // prose about the call, like this test's own comment
                }
                let ctx = Context::ALL
                    .into_iter()
                    .find(|c| format!("{c:?}") == ctx)
                    .unwrap_or_else(|| panic!("{}: unknown context {ctx}", path.display()));
                assert!(
                    all(ctx).any(|b| format!("{:?}", b.action) == action),
                    "{}: {ctx:?} does not bind {action}",
                    path.display()
                );
                named += 1;
            }
        }
    }
    assert!(
        named > 20,
        "only {named} keys named: the scan missed the calls"
    );
}
