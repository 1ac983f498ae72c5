//! Edit Data Sync: the field customization screen (All Data tree, Data Presets, Review).
//!
//! Self-contained: built from the org schema and the saved selection, driven by
//! `handle_key`, drawn by `render`. It never touches files or the network; Sync Now hands
//! the new selection back to the caller, which saves it and tells the engine.

mod fuzzy;
mod presets_view;
mod review;
mod style;
mod tree;
mod tree_view;

use std::collections::BTreeSet;
use std::sync::Arc;

use ratatui::Frame;
use ratatui::crossterm::event::{Event, KeyEvent, KeyEventKind};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

use crate::fields::{Preset, PresetOutcome, ReadSettings, Selection, SelectionDiff, presets};
use crate::model::OrgSchema;
use crate::tui::keymap::{self, Action, Context};
use crate::tui::widgets::key_help::{self, HelpStyles};
use crate::tui::widgets::key_list::{self, KeyStyles};
use style::Theme;
use tree::{FieldTree, Toggle};

/// What the app should do after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldsOutcome {
    /// Handled (or ignored) here; nothing for the app to do.
    None,
    /// Leave the screen without saving.
    Cancel,
    /// Save this selection and start syncing it.
    SyncNow(Selection),
    /// Save this selection without starting a sync (`w`).
    Save(Selection),
    /// Ask the engine for the fields of these objects (`Command::DescribeObjects`); they
    /// arrive through `set_schema`.
    Describe(Vec<String>),
    /// Ctrl-C: quit the app; `unsaved` when the edits here would be lost.
    Quit { unsaved: bool },
}

pub(crate) const PAUSED_MESSAGE: &str = "Turn Sync Data on to edit fields";

enum View {
    Tree,
    Presets {
        cursor: usize,
    },
    PresetDiff {
        preset: &'static Preset,
        outcome: PresetOutcome,
        diff: SelectionDiff,
        scroll: u16,
    },
    Review {
        on_sync_now: bool,
        scroll: u16,
    },
}

pub struct FieldsScreen {
    saved: Selection,
    tree: FieldTree,
    search: Input,
    search_focused: bool,
    view: View,
    paused: bool,
    throughput: Option<f64>,
    /// The source's `bulk_threshold` and `query_cursors`, which Review prices with.
    read_settings: ReadSettings,
    flash: Option<String>,
    confirm_discard: bool,
    /// The `?` overlay is open.
    help: bool,
    /// Objects whose fields were asked for and have not arrived yet.
    loading: BTreeSet<String>,
    /// Objects toggled before their fields were loaded: selected whole when they arrive.
    toggle_when_loaded: BTreeSet<String>,
    /// The source being edited, named in the title.
    source_name: Option<String>,
    theme: Theme,
    /// Tree rows shown by the last render, for half-page moves and scrolling.
    page: usize,
    offset: usize,
}

impl FieldsScreen {
    /// `saved` is the selection from `SourceConfig::objects`; `throughput` the measured
    /// records per second of this source, if any run measured it.
    pub fn new(
        schema: Arc<OrgSchema>,
        saved: Selection,
        paused: bool,
        throughput: Option<f64>,
    ) -> Self {
        // Saved files usually omit the bookkeeping fields; they are implied.
        let saved = saved.normalized(&schema);
        FieldsScreen {
            tree: FieldTree::new(schema, &saved),
            saved,
            search: Input::default(),
            search_focused: false,
            view: View::Tree,
            paused,
            throughput,
            read_settings: ReadSettings::default(),
            flash: None,
            confirm_discard: false,
            help: false,
            loading: BTreeSet::new(),
            toggle_when_loaded: BTreeSet::new(),
            source_name: None,
            theme: Theme::from_app(&crate::tui::Theme::from_env()),
            page: 10,
            offset: 0,
        }
    }

    /// Price Review with the source's own read settings (`ReadSettings::of` its config).
    pub fn with_read_settings(mut self, settings: ReadSettings) -> Self {
        self.read_settings = settings;
        self
    }

    /// Name the source in the title.
    pub fn with_source_name(mut self, name: &str) -> Self {
        self.source_name = Some(name.to_string());
        self
    }

    /// Draw with the app's theme (the default follows NO_COLOR).
    pub fn with_theme(mut self, theme: &crate::tui::Theme) -> Self {
        self.theme = Theme::from_app(theme);
        self
    }

    /// Follow the source's Sync Data toggle; Sync Now gets the focus once editing is allowed.
    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
        if let View::Review { on_sync_now, .. } = &mut self.view {
            *on_sync_now = !paused;
        }
    }

    pub fn set_throughput(&mut self, throughput: Option<f64>) {
        self.throughput = throughput;
    }

    /// Take a newer schema from the engine (more objects described, record counts known),
    /// keeping the edits made so far, the search, the open objects and the cursor.
    pub fn set_schema(&mut self, schema: Arc<OrgSchema>) {
        if Arc::ptr_eq(&schema, self.tree.schema()) {
            return;
        }
        // Stop waiting for objects whose fields arrived or could not be loaded.
        self.loading.retain(|name| {
            schema
                .objects
                .iter()
                .any(|o| o.name == *name && o.fields.is_empty() && o.load_error.is_none())
        });
        let edited = self.tree.selection().normalized(&schema);
        let view = self.tree.view_state();
        self.saved = std::mem::take(&mut self.saved).normalized(&schema);
        self.tree = FieldTree::new(schema, &self.saved);
        self.tree.set_selection(&edited);
        self.tree.set_query(self.search.value());
        self.tree.restore_view(&view);
        // A space on an object before its fields were shown selects them now.
        let arrived: Vec<String> =
            self.toggle_when_loaded
                .iter()
                .filter(|name| {
                    self.tree.schema().objects.iter().any(|o| {
                        o.name == **name && (!o.fields.is_empty() || o.load_error.is_some())
                    })
                })
                .cloned()
                .collect();
        for name in arrived {
            self.toggle_when_loaded.remove(&name);
            let n = self.tree.select_object(&name);
            if n > 0 {
                self.flash = Some(format!("Selected the {n} fields of {name}"));
            }
        }
    }

    /// Objects whose fields were asked for and have not arrived yet.
    pub fn loading(&self) -> &BTreeSet<String> {
        &self.loading
    }

    /// The selection as edited so far.
    pub fn selection(&self) -> Selection {
        self.tree.selection()
    }

    /// True when the selection differs from the saved one.
    pub fn is_dirty(&self) -> bool {
        self.changes() != (0, 0)
    }

    /// Fields added and removed since saved, counted exactly as Review counts them
    /// (objects whose fields are not loaded included).
    fn changes(&self) -> (usize, usize) {
        let schema = self.tree.schema();
        change_counts(
            &self.saved,
            &self.tree.selection().normalized(schema),
            schema,
        )
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> FieldsOutcome {
        if key.kind != KeyEventKind::Press {
            return FieldsOutcome::None;
        }
        self.flash = None;
        let context = self.context();
        let action = keymap::resolve(context, &key);
        if action == Some(Action::Quit) {
            return FieldsOutcome::Quit {
                unsaved: self.is_dirty(),
            };
        }
        match context {
            _ if action.is_none() && keymap::is_chord(&key) => return FieldsOutcome::None,
            // Any key other than the ones named keeps editing, as does any key closing help.
            Context::FieldsDiscard => {
                self.confirm_discard = false;
                return match action {
                    Some(Action::Discard) => FieldsOutcome::Cancel,
                    _ => FieldsOutcome::None,
                };
            }
            Context::Help => {
                self.help = false;
                return FieldsOutcome::None;
            }
            _ => {}
        }
        let Some(action) = action else {
            if context == Context::FieldsSearch {
                self.type_in_search(key);
            }
            return FieldsOutcome::None;
        };
        if action == Action::Help {
            self.help = true;
            return FieldsOutcome::None;
        }
        match context {
            Context::FieldsSearch => self.search_act(action),
            Context::Presets => return self.presets_act(action),
            Context::PresetDiff => self.preset_diff_act(action),
            Context::Review => return self.review_act(action),
            _ => return self.tree_act(action),
        }
        FieldsOutcome::None
    }

    /// Where the keys go: the discard prompt, the help, or the tab shown.
    pub(crate) fn context(&self) -> Context {
        if self.confirm_discard {
            Context::FieldsDiscard
        } else if self.help {
            Context::Help
        } else {
            self.view_context()
        }
    }

    fn view_context(&self) -> Context {
        match &self.view {
            View::Tree if self.search_focused => Context::FieldsSearch,
            View::Tree => Context::FieldsTree,
            View::Presets { .. } => Context::Presets,
            View::PresetDiff { .. } => Context::PresetDiff,
            View::Review { .. } => Context::Review,
        }
    }

    fn refuse_if_paused(&mut self) -> bool {
        if self.paused {
            self.flash = Some(PAUSED_MESSAGE.to_string());
        }
        self.paused
    }

    fn type_in_search(&mut self, key: KeyEvent) {
        let changed = to_input_request(&Event::Key(key))
            .and_then(|request| self.search.handle(request))
            .is_some_and(|c| c.value);
        if changed {
            self.tree.set_query(self.search.value());
        }
    }

    fn clear_search(&mut self) {
        self.search.reset();
        self.search_focused = false;
        self.tree.set_query("");
    }

    fn search_act(&mut self, action: Action) {
        match action {
            Action::Back => self.clear_search(),
            Action::Confirm => {
                // Land on the first matching field, so space toggles that field and not
                // every field of its object.
                self.search_focused = false;
                self.tree.jump_to_first_field_match();
            }
            Action::Down => self.tree.move_by(1),
            Action::Up => self.tree.move_by(-1),
            _ => {}
        }
    }

    fn tree_act(&mut self, action: Action) -> FieldsOutcome {
        let half = (self.page / 2).max(1) as isize;
        let page = self.page.max(1) as isize;
        match action {
            Action::Down => self.tree.move_by(1),
            Action::Up => self.tree.move_by(-1),
            Action::HalfDown => self.tree.move_by(half),
            Action::HalfUp => self.tree.move_by(-half),
            Action::PageDown => self.tree.move_by(page),
            Action::PageUp => self.tree.move_by(-page),
            Action::Collapse => self.tree.collapse(),
            Action::Expand => {
                let unloaded = self.tree.unloaded_object_at_cursor().map(str::to_string);
                self.tree.expand();
                if let Some(object) = unloaded {
                    return self.request_fields(object);
                }
            }
            Action::Top => self.tree.top(),
            Action::Bottom => self.tree.bottom(),
            Action::ExpandAll => self.tree.expand_all(true),
            Action::CollapseAll => self.tree.expand_all(false),
            Action::Filter => self.search_focused = true,
            Action::NextMatch => {
                self.tree.jump_to_match(true);
            }
            Action::PrevMatch => {
                self.tree.jump_to_match(false);
            }
            Action::Toggle if !self.refuse_if_paused() => return self.toggle(),
            Action::SelectMatches if !self.refuse_if_paused() => {
                self.flash = Some(if self.tree.is_filtering() {
                    let n = self.tree.select_visible_matches();
                    format!("Selected {n} matching fields")
                } else {
                    format!(
                        "Search with {} first, then {} selects the matches",
                        keymap::keys(Context::FieldsTree, Action::Filter),
                        keymap::keys(Context::FieldsTree, Action::SelectMatches)
                    )
                });
            }
            Action::OpenPresets => self.view = View::Presets { cursor: 0 },
            Action::OpenReview => self.open_review(),
            Action::Save if !self.refuse_if_paused() => return self.save(),
            Action::Back if self.tree.is_filtering() => self.clear_search(),
            Action::Back | Action::Leave => return self.cancel(),
            _ => {}
        }
        FieldsOutcome::None
    }

    /// `w`: save the selection as it is, without a sync.
    fn save(&mut self) -> FieldsOutcome {
        let schema = Arc::clone(self.tree.schema());
        FieldsOutcome::Save(self.tree.selection().normalized(&schema))
    }

    /// A toggle on an object without fields asks for them and selects them all when they
    /// arrive (the flash says so); a second space before that cancels it.
    fn toggle(&mut self) -> FieldsOutcome {
        match self.tree.toggle_at_cursor() {
            Toggle::Locked(field) => {
                self.flash = Some(format!(
                    "{field} is always synced with its object (bookkeeping field)"
                ));
            }
            Toggle::NotLoaded(object) => {
                if self.toggle_when_loaded.remove(&object) {
                    self.flash = Some(format!(
                        "{object} will not be selected when its fields arrive"
                    ));
                    return FieldsOutcome::None;
                }
                self.flash = Some(format!(
                    "Loading the fields of {object}; they are selected when they arrive"
                ));
                self.toggle_when_loaded.insert(object.clone());
                return self.request_fields(object);
            }
            Toggle::Changed | Toggle::Nothing => {}
        }
        FieldsOutcome::None
    }

    /// Mark `object` as loading and ask the app to describe it. Asking again (the operator
    /// opens it again) is allowed: a failed describe is retried, a cached one costs nothing.
    fn request_fields(&mut self, object: String) -> FieldsOutcome {
        self.loading.insert(object.clone());
        FieldsOutcome::Describe(vec![object])
    }

    fn cancel(&mut self) -> FieldsOutcome {
        if self.is_dirty() {
            self.confirm_discard = true;
            FieldsOutcome::None
        } else {
            FieldsOutcome::Cancel
        }
    }

    fn presets_act(&mut self, action: Action) -> FieldsOutcome {
        let last = presets()
            .map(<[Preset]>::len)
            .unwrap_or(0)
            .saturating_sub(1);
        let View::Presets { cursor } = &mut self.view else {
            return FieldsOutcome::None;
        };
        match action {
            Action::Down => *cursor = (*cursor + 1).min(last),
            Action::Up => *cursor = cursor.saturating_sub(1),
            Action::Top => *cursor = 0,
            Action::Bottom => *cursor = last,
            Action::Back => self.view = View::Tree,
            Action::OpenReview => self.open_review(),
            Action::Confirm => {
                let cursor = *cursor;
                if !self.refuse_if_paused() {
                    self.open_preset_diff(cursor);
                }
            }
            Action::Leave => return self.cancel(),
            _ => {}
        }
        FieldsOutcome::None
    }

    fn open_preset_diff(&mut self, index: usize) {
        let preset = match presets() {
            Ok(all) => match all.get(index) {
                Some(p) => p,
                None => return,
            },
            Err(e) => {
                self.flash = Some(e.to_string());
                return;
            }
        };
        let outcome = preset.apply(self.tree.schema());
        let diff = SelectionDiff::between(&self.tree.selection(), &outcome.selection)
            .with_missing(outcome.missing.clone());
        self.view = View::PresetDiff {
            preset,
            outcome,
            diff,
            scroll: 0,
        };
    }

    fn preset_diff_act(&mut self, action: Action) {
        let View::PresetDiff {
            preset,
            outcome,
            diff,
            scroll,
        } = &mut self.view
        else {
            return;
        };
        match action {
            Action::Confirm => {
                let message = format!(
                    "Applied {}: +{} −{}",
                    preset.name,
                    diff.added_count(),
                    diff.removed_count()
                );
                let selection = outcome.selection.clone();
                self.tree.set_selection(&selection);
                self.flash = Some(message);
                self.view = View::Tree;
            }
            Action::Down => *scroll = scroll.saturating_add(1),
            Action::Up => *scroll = scroll.saturating_sub(1),
            Action::Back => {
                let cursor = presets()
                    .ok()
                    .and_then(|all| all.iter().position(|p| std::ptr::eq(p, *preset)))
                    .unwrap_or(0);
                self.view = View::Presets { cursor };
            }
            _ => {}
        }
    }

    fn open_review(&mut self) {
        self.search_focused = false;
        self.view = View::Review {
            on_sync_now: !self.paused,
            scroll: 0,
        };
    }

    fn review_act(&mut self, action: Action) -> FieldsOutcome {
        let View::Review {
            on_sync_now,
            scroll,
        } = &mut self.view
        else {
            return FieldsOutcome::None;
        };
        match action {
            Action::SwitchButton => *on_sync_now = !*on_sync_now,
            Action::Down => *scroll = scroll.saturating_add(1),
            Action::Up => *scroll = scroll.saturating_sub(1),
            Action::Back => self.view = View::Tree,
            Action::Confirm if !*on_sync_now => self.view = View::Tree,
            Action::Confirm | Action::SyncNow if !self.refuse_if_paused() => {
                let schema = Arc::clone(self.tree.schema());
                return FieldsOutcome::SyncNow(self.tree.selection().normalized(&schema));
            }
            Action::Save if !self.refuse_if_paused() => return self.save(),
            _ => {}
        }
        FieldsOutcome::None
    }

    pub fn render(&mut self, frame: &mut Frame, area: Rect) {
        let title = match &self.source_name {
            Some(name) => format!(" Edit Data Sync · {} ", crate::tui::sanitize::clean(name)),
            None => " Edit Data Sync ".to_string(),
        };
        let block = Block::bordered().title(Span::styled(title, self.theme.title));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let searching =
            matches!(self.view, View::Tree) && (self.search_focused || self.tree.is_filtering());
        let [tabs, header, banner, search, body, footer] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(u16::from(self.paused)),
            Constraint::Length(u16::from(searching)),
            Constraint::Min(0),
            Constraint::Length(1),
        ])
        .areas(inner);
        frame.render_widget(self.tabs_line(), tabs);
        frame.render_widget(self.header_line(), header);
        if self.paused {
            frame.render_widget(
                Paragraph::new(Span::styled(PAUSED_MESSAGE, self.theme.warn)),
                banner,
            );
        }
        if searching {
            self.render_search(frame, search);
        }
        self.render_view(frame, body);
        frame.render_widget(self.footer_line(footer.width as usize), footer);
        if self.help {
            let styles = HelpStyles {
                title: self.theme.title,
                key: self.theme.key,
                note: self.theme.dim,
                border: self.theme.border,
            };
            let under = self.view_context();
            key_help::render(frame, area, under, "any key closes this help", &styles);
        }
    }

    /// The tab's own content; views that scroll keep the scroll their renderer settled on.
    fn render_view(&mut self, frame: &mut Frame, body: Rect) {
        match &self.view {
            View::Tree => self.render_tree(frame, body),
            View::Presets { cursor } => presets_view::render_list(
                frame,
                body,
                *cursor,
                &self.tree.selection(),
                self.tree.schema(),
                &self.theme,
            ),
            View::PresetDiff {
                preset,
                diff,
                scroll,
                ..
            } => {
                let used =
                    presets_view::render_diff(frame, body, preset, diff, *scroll, &self.theme);
                if let View::PresetDiff { scroll, .. } = &mut self.view {
                    *scroll = used;
                }
            }
            View::Review {
                on_sync_now,
                scroll,
            } => {
                let selection = self.tree.selection().normalized(self.tree.schema());
                let context = review::Context {
                    schema: self.tree.schema(),
                    saved: &self.saved,
                    selection: &selection,
                    throughput: self.throughput,
                    read_settings: self.read_settings,
                    paused: self.paused,
                    on_sync_now: *on_sync_now,
                    scroll: *scroll,
                    theme: &self.theme,
                };
                let used = review::render(frame, body, &context);
                if let View::Review { scroll, .. } = &mut self.view {
                    *scroll = used;
                }
            }
        }
    }

    /// The tree, scrolled so the cursor stays in view.
    fn render_tree(&mut self, frame: &mut Frame, body: Rect) {
        self.page = body.height as usize;
        let cursor = self.tree.cursor();
        let height = self.page.max(1);
        if cursor < self.offset {
            self.offset = cursor;
        } else if cursor >= self.offset + height {
            self.offset = cursor + 1 - height;
        }
        self.offset = self
            .offset
            .min(self.tree.visible_len().saturating_sub(height));
        tree_view::render(
            frame,
            body,
            &self.tree,
            &self.loading,
            self.offset,
            &self.theme,
        );
    }

    fn tabs_line(&self) -> Line<'static> {
        let on_presets = matches!(self.view, View::Presets { .. } | View::PresetDiff { .. });
        let on_review = matches!(self.view, View::Review { .. });
        let tab = |name: &'static str, active: bool| {
            if active {
                Span::styled(name, self.theme.tab_active)
            } else {
                Span::styled(name, self.theme.dim)
            }
        };
        Line::from(vec![
            tab("All Data", !on_presets && !on_review),
            Span::raw("  "),
            tab("Data Presets", on_presets),
            Span::raw("  "),
            tab("Review", on_review),
        ])
    }

    fn header_line(&self) -> Line<'static> {
        let (added, removed) = self.changes();
        let fields = self.tree.selected_fields();
        let objects = self.tree.selected_objects();
        Line::from(vec![
            Span::styled(
                format!(
                    "{fields} field{} in {objects} object{} selected",
                    plural(fields),
                    plural(objects)
                ),
                self.theme.title,
            ),
            Span::raw(" · "),
            Span::styled(format!("+{added}"), self.theme.added),
            Span::raw(" "),
            Span::styled(format!("−{removed}"), self.theme.removed),
            Span::raw(" since saved"),
        ])
    }

    fn render_search(&self, frame: &mut Frame, area: Rect) {
        let (rows, objects) = self.tree.match_counts();
        // Object names are always searched; fields only where they are loaded, and the
        // line says how many objects that leaves out (l or space loads one).
        let unloaded = self
            .tree
            .schema()
            .objects
            .iter()
            .filter(|o| o.fields.is_empty())
            .count();
        let counts = if self.tree.is_filtering() {
            let mut counts = format!(
                "  {rows} match{} in {objects} object{}",
                if rows == 1 { "" } else { "es" },
                plural(objects)
            );
            if unloaded > 0 {
                counts.push_str(&format!(
                    " · fields of {unloaded} object{} not loaded, not searched",
                    plural(unloaded)
                ));
            }
            counts
        } else {
            String::new()
        };
        let prefix = "/ ";
        let room = (area.width as usize).saturating_sub(prefix.len() + counts.chars().count());
        let scroll = self.search.visual_scroll(room.max(1));
        let value: String = self
            .search
            .value()
            .chars()
            .skip(scroll)
            .take(room)
            .collect();
        let shown = value.chars().count();
        let line = Line::from(vec![
            Span::styled(prefix, self.theme.key),
            Span::raw(value),
            Span::raw(" ".repeat(room.saturating_sub(shown))),
            Span::styled(counts, self.theme.dim),
        ]);
        frame.render_widget(Paragraph::new(line), area);
        if self.search_focused {
            let x = self.search.visual_cursor().saturating_sub(scroll) + prefix.len();
            frame.set_cursor_position((
                area.x + (x as u16).min(area.width.saturating_sub(1)),
                area.y,
            ));
        }
    }

    fn footer_line(&self, width: usize) -> Line<'static> {
        let styles = KeyStyles {
            key: self.theme.key,
            desc: self.theme.dim,
        };
        if self.confirm_discard {
            let (added, removed) = self.changes();
            let question = format!("Discard +{added} −{removed} unsaved changes? ");
            let room = width.saturating_sub(style::display_width(&question));
            let hints = keymap::footer(Context::FieldsDiscard);
            let mut line = key_list::hints_line(hints, room, 0, styles);
            line.spans
                .insert(0, Span::styled(question, self.theme.warn));
            return line;
        }
        if let Some(flash) = &self.flash {
            // Flashes quote object and field names from the org: cleaned where drawn.
            return Line::from(Span::styled(style::clean(flash), self.theme.warn));
        }
        // Same look as the app's footer: whole hints only, as many as fit.
        key_list::hints_line(keymap::footer(self.view_context()), width, 0, styles)
    }
}

/// The `+N −M` of the header and of Review: fields added and removed between `saved` and
/// `selection`, saved fields this org does not have counting as removed.
pub(crate) fn change_counts(
    saved: &Selection,
    selection: &Selection,
    schema: &OrgSchema,
) -> (usize, usize) {
    let (_, missing) = saved.split_missing(schema);
    let diff = SelectionDiff::between(saved, selection);
    (diff.added_count(), diff.removed_count() + missing.len())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::fields::test_schema::{schema, selection};

    fn lines(screen: &mut FieldsScreen, width: u16, height: u16) -> Vec<String> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|f| screen.render(f, f.area())).unwrap();
        let buf = terminal.backend().buffer();
        (0..height)
            .map(|y| (0..width).map(|x| buf[(x, y)].symbol()).collect())
            .collect()
    }

    /// The header's "N fields in M objects" and every object row's "chosen/choosable".
    fn counts(lines: &[String]) -> (String, Vec<(u32, u32)>) {
        let header = lines
            .iter()
            .find_map(|l| {
                let (head, _) = l.split_once(" selected · ")?;
                Some(head.trim_start_matches(['│', ' ']).to_string())
            })
            .unwrap();
        let rows = lines
            .iter()
            .filter_map(|l| {
                let (head, _) = l.split_once(" selected")?;
                let (a, b) = head.rsplit(' ').next()?.split_once('/')?;
                Some((a.parse().ok()?, b.parse().ok()?))
            })
            .collect();
        (header, rows)
    }

    #[test]
    fn the_header_total_is_the_sum_of_the_tree_rows() {
        let saved = selection(&[
            ("Account", "Name"),
            ("Account", "Industry"),
            ("Contact", "Email"),
        ]);
        // Normalized on the way in: Id, IsDeleted and SystemModstamp come along, selected,
        // and are counted in neither place.
        let mut screen = FieldsScreen::new(Arc::new(schema()), saved, false, None);
        let (header, rows) = counts(&lines(&mut screen, 80, 24));
        assert_eq!(header, "3 fields in 2 objects");
        assert_eq!(rows, [(2, 6), (1, 3), (0, 4), (0, 1)]);

        screen.tree.move_by(2); // Opportunity: every field at once
        screen.tree.toggle_at_cursor();
        let (header, rows) = counts(&lines(&mut screen, 120, 40));
        assert_eq!(header, "7 fields in 3 objects");
        assert_eq!(rows, [(2, 6), (1, 3), (4, 4), (0, 1)]);
        let sum: u32 = rows.iter().map(|r| r.0).sum();
        assert_eq!(sum as usize, screen.tree.selected_fields());
    }
}
