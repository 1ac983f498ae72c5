//! The field tree as flat, pre-order data (no drawing): objects followed by their fields,
//! selection bits, expansion, an incremental fuzzy filter and the list of visible rows.
//! Only expansion or filter changes rebuild `visible`; drawing reads a viewport slice of it.

use std::sync::Arc;

use super::fuzzy::{fold, is_subsequence, push_folded};
use crate::fields::{Selection, is_locked};
use crate::model::{FieldSchema, ObjectSchema, OrgSchema};

/// Marks an object row in `Node::field`.
const OBJECT_ROW: u32 = u32::MAX;

struct Node {
    object: u32,
    field: u32,
    /// Case-folded API name and label in `FieldTree::folded`, computed once so filtering
    /// never allocates: name at `text..text+name_len`, label right after it.
    text: u32,
    name_len: u16,
    label_len: u16,
}

impl Node {
    /// A node whose folded name and label are appended to `folded`.
    fn new(object: usize, field: u32, folded: &mut Vec<char>, name: &str, label: &str) -> Self {
        let text = folded.len() as u32;
        let name_len = push_folded(folded, name);
        let label_len = push_folded(folded, label);
        Node {
            object: object as u32,
            field,
            text,
            name_len,
            label_len,
        }
    }

    fn name<'a>(&self, folded: &'a [char]) -> &'a [char] {
        let start = self.text as usize;
        &folded[start..start + self.name_len as usize]
    }

    fn label<'a>(&self, folded: &'a [char]) -> &'a [char] {
        let start = self.text as usize + self.name_len as usize;
        &folded[start..start + self.label_len as usize]
    }
}

struct Filter {
    query: Vec<char>,
    /// Node indices (ascending) whose own name or label matches.
    matches: Vec<u32>,
    is_match: Vec<bool>,
    /// Per object: how many of its fields match.
    matching_fields: Vec<u32>,
    /// Per object expansion while filtering, independent of the unfiltered state.
    expanded: Vec<bool>,
}

/// A visible row, as the renderer needs it.
#[derive(Clone, Copy)]
pub(crate) enum Row<'a> {
    Object {
        object: &'a ObjectSchema,
        expanded: bool,
        check: Check,
        /// `FieldTree::object_counts`: the same numbers the header adds up.
        chosen: u32,
        choosable: u32,
    },
    Field {
        field: &'a FieldSchema,
        check: Check,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    Off,
    Partial,
    On,
}

/// What a toggle did, so the screen can explain a refused one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Toggle {
    Changed,
    Locked(String),
    /// The object's fields are not loaded yet, so there is nothing to toggle.
    NotLoaded(String),
    Nothing,
}

/// Which objects are open and where the cursor is, by name, so a rebuilt tree (a newer
/// schema) looks the way the operator left it.
pub(crate) struct ViewState {
    expanded: Vec<String>,
    /// Open objects of the search view, which has its own expansion.
    filter_expanded: Option<Vec<String>>,
    /// Object and field (none on an object row) under the cursor.
    cursor: Option<(String, Option<String>)>,
}

pub(crate) struct FieldTree {
    schema: Arc<OrgSchema>,
    nodes: Vec<Node>,
    /// Every node's folded name and label, back to back (see `Node::text`).
    folded: Vec<char>,
    /// Node index of each object row; its fields follow it.
    object_rows: Vec<u32>,
    selected: Vec<bool>,
    saved: Vec<bool>,
    locked: Vec<bool>,
    /// Per object: selected fields, and selected fields that are not bookkeeping fields.
    selected_in: Vec<u32>,
    unlocked_selected_in: Vec<u32>,
    /// Per object: its bookkeeping fields, which are never counted as chosen or choosable.
    locked_in: Vec<u32>,
    selected_objects: usize,
    added: usize,
    removed: usize,
    /// Saved fields this org does not have: they count as removed.
    missing_saved: usize,
    /// Selected fields on objects whose fields are not loaded: carried through untouched.
    unloaded: Selection,
    expanded: Vec<bool>,
    filter: Option<Filter>,
    visible: Vec<u32>,
    cursor: usize,
}

impl FieldTree {
    pub(crate) fn new(schema: Arc<OrgSchema>, saved: &Selection) -> Self {
        let total: usize = schema.objects.iter().map(|o| o.fields.len() + 1).sum();
        let mut nodes = Vec::with_capacity(total);
        let mut object_rows = Vec::with_capacity(schema.objects.len());
        let mut locked = Vec::with_capacity(total);
        let mut folded = Vec::with_capacity(total * 24);
        for (o, object) in schema.objects.iter().enumerate() {
            object_rows.push(nodes.len() as u32);
            nodes.push(Node::new(
                o,
                OBJECT_ROW,
                &mut folded,
                &object.name,
                &object.label,
            ));
            locked.push(false);
            for (f, field) in object.fields.iter().enumerate() {
                nodes.push(Node::new(
                    o,
                    f as u32,
                    &mut folded,
                    &field.name,
                    &field.label,
                ));
                locked.push(is_locked(&field.name));
            }
        }
        let objects = schema.objects.len();
        let locked_in = schema
            .objects
            .iter()
            .map(|o| o.fields.iter().filter(|f| is_locked(&f.name)).count() as u32)
            .collect();
        let mut tree = FieldTree {
            schema,
            folded,
            selected: vec![false; nodes.len()],
            saved: vec![false; nodes.len()],
            locked,
            nodes,
            object_rows,
            selected_in: vec![0; objects],
            unlocked_selected_in: vec![0; objects],
            locked_in,
            selected_objects: 0,
            added: 0,
            removed: 0,
            missing_saved: 0,
            unloaded: Selection::new(),
            expanded: vec![false; objects],
            filter: None,
            visible: Vec::new(),
            cursor: 0,
        };
        let (bits, missing, unloaded) = tree.bits_of(saved);
        tree.missing_saved = missing;
        tree.unloaded = unloaded;
        tree.load(&bits);
        // The loaded state is the saved state: nothing added or removed yet.
        tree.saved = bits;
        tree.added = 0;
        tree.removed = 0;
        tree.rebuild_visible();
        tree
    }

    pub(crate) fn schema(&self) -> &Arc<OrgSchema> {
        &self.schema
    }

    /// Node bits for a selection, how many of its fields this org lacks, and the part of
    /// it on objects whose fields are not loaded yet (kept as it is).
    fn bits_of(&self, selection: &Selection) -> (Vec<bool>, usize, Selection) {
        let mut bits = vec![false; self.nodes.len()];
        let mut missing = 0;
        let mut unloaded = Selection::new();
        for (object, fields) in selection.iter() {
            let Some(o) = self.object_index(object) else {
                missing += fields.len();
                continue;
            };
            let described = &self.schema.objects[o];
            if described.fields.is_empty() {
                for field in fields {
                    unloaded.insert(object, field);
                }
                continue;
            }
            for field in fields {
                match described.fields.iter().position(|f| f.name == *field) {
                    Some(f) => bits[self.object_rows[o] as usize + 1 + f] = true,
                    None => missing += 1,
                }
            }
        }
        (bits, missing, unloaded)
    }

    fn object_index(&self, name: &str) -> Option<usize> {
        let objects = &self.schema.objects;
        objects
            .binary_search_by(|o| o.name.as_str().cmp(name))
            .ok()
            .or_else(|| objects.iter().position(|o| o.name == name))
    }

    /// Replace the whole selection (a preset was applied).
    pub(crate) fn set_selection(&mut self, selection: &Selection) {
        let (bits, _, unloaded) = self.bits_of(selection);
        self.unloaded = unloaded;
        self.load(&bits);
    }

    fn load(&mut self, bits: &[bool]) {
        for (node, &on) in bits.iter().enumerate() {
            if self.nodes[node].field != OBJECT_ROW {
                self.set(node, on);
            }
        }
    }

    /// The single place selection bits change, keeping every counter in step.
    fn set(&mut self, node: usize, on: bool) {
        if self.selected[node] == on {
            return;
        }
        self.selected[node] = on;
        let o = self.nodes[node].object as usize;
        let was_selected_object = self.selected_in[o] > 0;
        let locked = self.locked[node];
        if on {
            self.selected_in[o] += 1;
            if !locked {
                self.unlocked_selected_in[o] += 1;
            }
        } else {
            self.selected_in[o] -= 1;
            if !locked {
                self.unlocked_selected_in[o] -= 1;
            }
        }
        match (was_selected_object, self.selected_in[o] > 0) {
            (false, true) => self.selected_objects += 1,
            (true, false) => self.selected_objects -= 1,
            _ => {}
        }
        if locked {
            // Bookkeeping fields follow their object; they are not changes of their own.
            return;
        }
        let differs = on != self.saved[node];
        match (on, differs) {
            (true, true) => self.added += 1,
            (true, false) => self.removed -= 1,
            (false, true) => self.removed += 1,
            (false, false) => self.added -= 1,
        }
    }

    fn field_nodes(&self, o: usize) -> std::ops::Range<usize> {
        let start = self.object_rows[o] as usize + 1;
        start..start + self.schema.objects[o].fields.len()
    }

    fn set_locked_fields(&mut self, o: usize, on: bool) {
        for node in self.field_nodes(o) {
            if self.locked[node] {
                self.set(node, on);
            }
        }
    }

    /// Select or deselect one field, keeping the bookkeeping fields with their object.
    fn set_field(&mut self, node: usize, on: bool) -> bool {
        if self.locked[node] || self.selected[node] == on {
            return false;
        }
        let o = self.nodes[node].object as usize;
        self.set(node, on);
        if on {
            self.set_locked_fields(o, true);
        } else if self.unlocked_selected_in[o] == 0 {
            self.set_locked_fields(o, false);
        }
        true
    }

    pub(crate) fn toggle_at_cursor(&mut self) -> Toggle {
        let Some(node) = self.cursor_node() else {
            return Toggle::Nothing;
        };
        let o = self.nodes[node].object as usize;
        if self.nodes[node].field == OBJECT_ROW {
            if self.schema.objects[o].fields.is_empty() {
                return Toggle::NotLoaded(self.schema.objects[o].name.clone());
            }
            let all = self.field_nodes(o).all(|n| self.selected[n]);
            for n in self.field_nodes(o) {
                self.set(n, !all);
            }
            return Toggle::Changed;
        }
        if self.locked[node] {
            let field = &self.schema.objects[o].fields[self.nodes[node].field as usize];
            return Toggle::Locked(field.name.clone());
        }
        self.set_field(node, !self.selected[node]);
        Toggle::Changed
    }

    /// Select every matching field currently shown; returns how many changed.
    pub(crate) fn select_visible_matches(&mut self) -> usize {
        let Some(filter) = &self.filter else {
            return 0;
        };
        let targets: Vec<usize> = filter
            .matches
            .iter()
            .map(|&n| n as usize)
            .filter(|&n| {
                let node = &self.nodes[n];
                node.field != OBJECT_ROW && filter.expanded[node.object as usize]
            })
            .collect();
        targets
            .into_iter()
            .filter(|&n| self.set_field(n, true))
            .count()
    }

    pub(crate) fn selection(&self) -> Selection {
        let mut selection = self.unloaded.clone();
        for (o, object) in self.schema.objects.iter().enumerate() {
            if self.selected_in[o] == 0 {
                continue;
            }
            for (n, field) in self.field_nodes(o).zip(&object.fields) {
                if self.selected[n] {
                    selection.insert(&object.name, &field.name);
                }
            }
        }
        selection
    }

    /// Chosen fields, not counting the bookkeeping fields that come with each object: the
    /// sum of the tree's per-object counts, so the header and the rows always agree.
    pub(crate) fn selected_fields(&self) -> usize {
        (0..self.schema.objects.len())
            .map(|o| self.object_counts(o).0 as usize)
            .sum()
    }

    /// Object `o`'s chosen fields and the fields it offers to choose, both without the
    /// bookkeeping fields. Fields not loaded yet: the saved choice, out of an unknown 0.
    pub(crate) fn object_counts(&self, o: usize) -> (u32, u32) {
        let object = &self.schema.objects[o];
        match self.unloaded.fields(&object.name) {
            Some(fields) => (fields.iter().filter(|f| !is_locked(f)).count() as u32, 0),
            None => (
                self.unlocked_selected_in[o],
                object.fields.len() as u32 - self.locked_in[o],
            ),
        }
    }

    pub(crate) fn selected_objects(&self) -> usize {
        self.selected_objects + self.unloaded.object_count()
    }

    /// (+added, −removed) since the saved selection.
    #[cfg(test)]
    pub(crate) fn changes(&self) -> (usize, usize) {
        (self.added, self.removed + self.missing_saved)
    }

    // ---- filter ----

    /// Filter by a fuzzy query over API names and labels. A query extending the previous
    /// one only re-tests the previous matches; anything else rescans every node.
    pub(crate) fn set_query(&mut self, query: &str) {
        let query: Vec<char> = fold(query.trim()).into_vec();
        if query.is_empty() {
            if self.filter.take().is_some() {
                self.rebuild_visible();
            }
            return;
        }
        if self.filter.as_ref().is_some_and(|f| f.query == query) {
            return;
        }
        let nodes = &self.nodes;
        let folded = &self.folded;
        let hit = |n: u32| {
            let node = &nodes[n as usize];
            is_subsequence(&query, node.name(folded)) || is_subsequence(&query, node.label(folded))
        };
        let mut filter = match self.filter.take() {
            Some(mut previous) if query.starts_with(&previous.query) => {
                previous.matches.retain(|&n| hit(n));
                previous
            }
            _ => Filter {
                query: Vec::new(),
                matches: (0..nodes.len() as u32).filter(|&n| hit(n)).collect(),
                is_match: Vec::new(),
                matching_fields: Vec::new(),
                expanded: Vec::new(),
            },
        };
        filter.query = query;
        filter.is_match.clear();
        filter.is_match.resize(nodes.len(), false);
        filter.matching_fields.clear();
        filter.matching_fields.resize(self.object_rows.len(), 0);
        for &n in &filter.matches {
            filter.is_match[n as usize] = true;
            let node = &nodes[n as usize];
            if node.field != OBJECT_ROW {
                filter.matching_fields[node.object as usize] += 1;
            }
        }
        filter.expanded = filter.matching_fields.iter().map(|&m| m > 0).collect();
        self.filter = Some(filter);
        self.rebuild_visible();
    }

    pub(crate) fn is_filtering(&self) -> bool {
        self.filter.is_some()
    }

    /// (matching rows, objects with a match) for the search bar.
    pub(crate) fn match_counts(&self) -> (usize, usize) {
        let Some(filter) = &self.filter else {
            return (0, 0);
        };
        let objects = (0..self.object_rows.len())
            .filter(|&o| {
                filter.matching_fields[o] > 0 || filter.is_match[self.object_rows[o] as usize]
            })
            .count();
        (filter.matches.len(), objects)
    }

    /// Folded query characters, for highlighting.
    pub(crate) fn query(&self) -> Option<&[char]> {
        self.filter.as_ref().map(|f| f.query.as_slice())
    }

    pub(crate) fn is_match(&self, node: usize) -> bool {
        self.filter.as_ref().is_some_and(|f| f.is_match[node])
    }

    /// Move to the next (or previous) match after the cursor, wrapping, expanding its object.
    /// Put the cursor on the first matching field (the first match when only objects
    /// match), opening its object.
    pub(crate) fn jump_to_first_field_match(&mut self) -> bool {
        let Some(filter) = &mut self.filter else {
            return false;
        };
        let nodes = &self.nodes;
        let Some(&target) = filter
            .matches
            .iter()
            .find(|&&n| nodes[n as usize].field != OBJECT_ROW)
            .or_else(|| filter.matches.first())
        else {
            return false;
        };
        let object = self.nodes[target as usize].object as usize;
        filter.expanded[object] = true;
        self.rebuild_visible();
        self.select_node(target as usize);
        true
    }

    /// Select every field of `object` (fields loaded); returns how many were added.
    pub(crate) fn select_object(&mut self, object: &str) -> usize {
        let Some(o) = self.schema.objects.iter().position(|x| x.name == object) else {
            return 0;
        };
        let targets: Vec<usize> = self.field_nodes(o).filter(|&n| !self.selected[n]).collect();
        for &n in &targets {
            self.set(n, true);
        }
        targets.len()
    }

    pub(crate) fn jump_to_match(&mut self, forward: bool) -> bool {
        let Some(current) = self.cursor_node() else {
            return false;
        };
        let Some(filter) = &mut self.filter else {
            return false;
        };
        let matches = &filter.matches;
        if matches.is_empty() {
            return false;
        }
        let current = current as u32;
        let target = if forward {
            let i = matches.partition_point(|&n| n <= current);
            matches[i % matches.len()]
        } else {
            let i = matches.partition_point(|&n| n < current);
            matches[(i + matches.len() - 1) % matches.len()]
        };
        let object = self.nodes[target as usize].object as usize;
        filter.expanded[object] = true;
        self.rebuild_visible();
        self.select_node(target as usize);
        true
    }

    // ---- visibility and cursor ----

    /// The object under the cursor when it is an object row whose fields are not loaded.
    pub(crate) fn unloaded_object_at_cursor(&self) -> Option<&str> {
        let node = self.cursor_node()?;
        let object = &self.schema.objects[self.nodes[node].object as usize];
        (self.nodes[node].field == OBJECT_ROW && object.fields.is_empty())
            .then_some(object.name.as_str())
    }

    pub(crate) fn view_state(&self) -> ViewState {
        let names = |open: &[bool]| -> Vec<String> {
            open.iter()
                .zip(&self.schema.objects)
                .filter(|(open, _)| **open)
                .map(|(_, o)| o.name.clone())
                .collect()
        };
        let cursor = self.cursor_node().map(|n| {
            let object = &self.schema.objects[self.nodes[n].object as usize];
            let field = (self.nodes[n].field != OBJECT_ROW)
                .then(|| object.fields[self.nodes[n].field as usize].name.clone());
            (object.name.clone(), field)
        });
        ViewState {
            expanded: names(&self.expanded),
            filter_expanded: self.filter.as_ref().map(|f| names(&f.expanded)),
            cursor,
        }
    }

    /// Reopen the objects of `state` and put the cursor back; call after `set_query`.
    pub(crate) fn restore_view(&mut self, state: &ViewState) {
        for name in &state.expanded {
            if let Some(o) = self.object_index(name) {
                self.expanded[o] = true;
            }
        }
        if let Some(names) = &state.filter_expanded {
            let opened: Vec<usize> = names.iter().filter_map(|n| self.object_index(n)).collect();
            if let Some(filter) = &mut self.filter {
                for o in opened {
                    filter.expanded[o] = true;
                }
            }
        }
        self.rebuild_visible();
        let Some((object, field)) = &state.cursor else {
            return;
        };
        let Some(o) = self.object_index(object) else {
            return;
        };
        let row = self.object_rows[o] as usize;
        let node = field
            .as_ref()
            .and_then(|f| {
                self.schema.objects[o]
                    .fields
                    .iter()
                    .position(|x| x.name == *f)
            })
            .map_or(row, |f| row + 1 + f);
        self.select_node(node);
    }

    fn is_expanded(&self, o: usize) -> bool {
        match &self.filter {
            Some(filter) => filter.expanded[o],
            None => self.expanded[o],
        }
    }

    fn set_expanded(&mut self, o: usize, open: bool) {
        match &mut self.filter {
            Some(filter) => filter.expanded[o] = open,
            None => self.expanded[o] = open,
        }
        self.rebuild_visible();
    }

    fn rebuild_visible(&mut self) {
        let keep = self.cursor_node();
        self.visible.clear();
        for o in 0..self.object_rows.len() {
            let row = self.object_rows[o];
            let fields = self.field_nodes(o);
            match &self.filter {
                None => {
                    self.visible.push(row);
                    if self.expanded[o] {
                        self.visible.extend(fields.map(|n| n as u32));
                    }
                }
                Some(filter) => {
                    let fields_match = filter.matching_fields[o] > 0;
                    if !fields_match && !filter.is_match[row as usize] {
                        continue;
                    }
                    self.visible.push(row);
                    if filter.expanded[o] {
                        // Fields that match, or all of them when only the object matched.
                        self.visible.extend(
                            fields
                                .filter(|&n| !fields_match || filter.is_match[n])
                                .map(|n| n as u32),
                        );
                    }
                }
            }
        }
        match keep {
            Some(node) => self.select_node(node),
            None => self.cursor = 0,
        }
    }

    /// Put the cursor on `node`, or on its object when the node is hidden, or nearby.
    fn select_node(&mut self, node: usize) {
        let find = |n: usize| self.visible.binary_search(&(n as u32));
        let object_row = self.object_rows[self.nodes[node].object as usize] as usize;
        self.cursor = match find(node).or_else(|_| find(object_row)) {
            Ok(i) => i,
            Err(i) => i.min(self.visible.len().saturating_sub(1)),
        };
    }

    pub(crate) fn cursor_node(&self) -> Option<usize> {
        self.visible.get(self.cursor).map(|&n| n as usize)
    }

    pub(crate) fn cursor(&self) -> usize {
        self.cursor
    }

    pub(crate) fn visible_len(&self) -> usize {
        self.visible.len()
    }

    pub(crate) fn move_by(&mut self, delta: isize) {
        let last = self.visible.len().saturating_sub(1);
        self.cursor = self.cursor.saturating_add_signed(delta).min(last);
    }

    pub(crate) fn top(&mut self) {
        self.cursor = 0;
    }

    pub(crate) fn bottom(&mut self) {
        self.cursor = self.visible.len().saturating_sub(1);
    }

    /// `h`: collapse an open object, or go from a field up to its object.
    pub(crate) fn collapse(&mut self) {
        let Some(node) = self.cursor_node() else {
            return;
        };
        let o = self.nodes[node].object as usize;
        if self.nodes[node].field == OBJECT_ROW {
            if self.is_expanded(o) {
                self.set_expanded(o, false);
            }
        } else {
            self.select_node(self.object_rows[o] as usize);
        }
    }

    /// `l`: open a closed object, or step into an open one.
    pub(crate) fn expand(&mut self) {
        let Some(node) = self.cursor_node() else {
            return;
        };
        if self.nodes[node].field != OBJECT_ROW {
            return;
        }
        let o = self.nodes[node].object as usize;
        if self.is_expanded(o) {
            self.move_by(1);
        } else {
            self.set_expanded(o, true);
        }
    }

    pub(crate) fn expand_all(&mut self, open: bool) {
        match &mut self.filter {
            Some(filter) => filter.expanded.fill(open),
            None => self.expanded.fill(open),
        }
        self.rebuild_visible();
    }

    /// Visible rows `start..start+len` as node index and row data.
    pub(crate) fn rows(&self, start: usize, len: usize) -> impl Iterator<Item = (usize, Row<'_>)> {
        let end = (start + len).min(self.visible.len());
        self.visible[start.min(end)..end].iter().map(move |&n| {
            let n = n as usize;
            (n, self.row(n))
        })
    }

    fn row(&self, n: usize) -> Row<'_> {
        let node = &self.nodes[n];
        let o = node.object as usize;
        let object = &self.schema.objects[o];
        if node.field == OBJECT_ROW {
            let (chosen, choosable) = self.object_counts(o);
            let any = chosen > 0 || self.selected_in[o] > 0;
            // Fields not loaded: whether all are chosen is unknown, so never "all".
            let check = match chosen {
                _ if !any => Check::Off,
                c if c == choosable && choosable > 0 => Check::On,
                _ => Check::Partial,
            };
            Row::Object {
                object,
                expanded: self.is_expanded(o),
                check,
                chosen,
                choosable,
            }
        } else {
            Row::Field {
                field: &object.fields[node.field as usize],
                check: if self.selected[n] {
                    Check::On
                } else {
                    Check::Off
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::test_schema::schema;

    fn tree(saved: &[(&str, &str)]) -> FieldTree {
        let mut s = Selection::new();
        for (o, f) in saved {
            s.insert(o, f);
        }
        FieldTree::new(Arc::new(schema()), &s)
    }

    fn cursor_name(t: &FieldTree) -> String {
        match t.row(t.cursor_node().unwrap()) {
            Row::Object { object, .. } => object.name.clone(),
            Row::Field { field, .. } => field.name.clone(),
        }
    }

    #[test]
    fn starts_collapsed_with_one_row_per_object() {
        let t = tree(&[]);
        assert_eq!(t.visible_len(), 4);
        assert_eq!(cursor_name(&t), "Account");
    }

    #[test]
    fn expand_collapse_and_step_back_to_the_object() {
        let mut t = tree(&[]);
        t.expand();
        assert_eq!(t.visible_len(), 4 + 9);
        t.expand();
        assert_eq!(cursor_name(&t), "Description");
        t.collapse();
        assert_eq!(cursor_name(&t), "Account");
        t.collapse();
        assert_eq!(t.visible_len(), 4);
    }

    #[test]
    fn toggling_a_field_brings_bookkeeping_fields_and_counts_changes() {
        let mut t = tree(&[("Account", "Id"), ("Account", "Name")]);
        assert_eq!(t.changes(), (0, 0));
        t.expand();
        t.expand(); // Description
        assert_eq!(t.toggle_at_cursor(), Toggle::Changed);
        assert_eq!(t.changes(), (1, 0), "bookkeeping fields are not changes");
        assert_eq!(t.toggle_at_cursor(), Toggle::Changed);
        assert_eq!(t.changes(), (0, 0));
        let sel = t.selection();
        assert!(sel.contains("Account", "Name") && sel.contains("Account", "IsDeleted"));
    }

    #[test]
    fn bookkeeping_fields_refuse_to_toggle_alone() {
        let mut t = tree(&[]);
        t.expand();
        t.move_by(2); // Id
        assert_eq!(t.toggle_at_cursor(), Toggle::Locked("Id".into()));
        assert!(t.selection().is_empty());
    }

    #[test]
    fn object_toggle_is_tri_state() {
        let mut t = tree(&[("Contact", "Email")]);
        t.move_by(1);
        assert!(matches!(
            t.row(t.cursor_node().unwrap()),
            Row::Object {
                check: Check::Partial,
                ..
            }
        ));
        t.toggle_at_cursor();
        assert_eq!(t.selection().fields("Contact").unwrap().len(), 6);
        t.toggle_at_cursor();
        assert!(t.selection().fields("Contact").is_none());
        assert_eq!(t.changes(), (0, 1));
    }

    #[test]
    fn deselecting_the_last_field_drops_the_bookkeeping_fields() {
        let mut t = tree(&[]);
        t.move_by(3); // Widget__c
        t.expand();
        t.move_by(2); // Widget__c.Name
        t.toggle_at_cursor();
        assert_eq!(t.selected_fields(), 1);
        assert_eq!(t.selected_objects(), 1);
        assert_eq!(t.selection().field_count(), 3, "with Id and SystemModstamp");
        t.toggle_at_cursor();
        assert_eq!(t.selected_fields(), 0);
        assert_eq!(t.selected_objects(), 0);
    }

    #[test]
    fn filter_shows_matches_under_expanded_ancestors() {
        let mut t = tree(&[]);
        t.set_query("mail");
        let (rows, objects) = t.match_counts();
        assert_eq!((rows, objects), (1, 1));
        assert_eq!(t.visible_len(), 2, "Contact and Contact.Email");
        t.set_query("");
        assert!(!t.is_filtering());
        assert_eq!(t.visible_len(), 4);
    }

    #[test]
    fn an_extending_query_narrows_and_matches_a_fresh_scan() {
        let mut narrowed = tree(&[]);
        for q in ["n", "na", "nam", "name"] {
            narrowed.set_query(q);
        }
        let mut fresh = tree(&[]);
        fresh.set_query("name");
        assert_eq!(narrowed.visible, fresh.visible);
        assert_eq!(
            narrowed.filter.as_ref().unwrap().matches,
            fresh.filter.as_ref().unwrap().matches
        );
        narrowed.set_query("nam");
        fresh.set_query("nam");
        assert_eq!(narrowed.visible, fresh.visible);
    }

    #[test]
    fn object_name_match_shows_all_fields_when_opened() {
        let mut t = tree(&[]);
        t.set_query("widget");
        assert_eq!(t.visible_len(), 1);
        t.expand();
        assert_eq!(t.visible_len(), 4);
    }

    #[test]
    fn jumps_between_matches_wrapping() {
        let mut t = tree(&[]);
        t.set_query("name");
        assert!(t.jump_to_match(true));
        assert_eq!(cursor_name(&t), "Name");
        let first = t.cursor_node();
        t.jump_to_match(false);
        t.jump_to_match(true);
        assert_eq!(t.cursor_node(), first);
        t.jump_to_match(false);
        assert_eq!(cursor_name(&t), "Name", "wraps to the last object's Name");
    }

    #[test]
    fn select_all_visible_matches() {
        let mut t = tree(&[]);
        t.set_query("__c");
        assert_eq!(t.select_visible_matches(), 3);
        let sel = t.selection();
        assert!(sel.contains("Account", "Region__c") && sel.contains("Opportunity", "Margin__c"));
        assert!(sel.contains("Opportunity", "Id"));
        assert!(!sel.contains("Widget__c", "Name"));
    }

    #[test]
    fn missing_saved_fields_count_as_removed() {
        let t = tree(&[("Account", "Name"), ("Account", "Gone__c")]);
        assert_eq!(t.changes(), (0, 1));
        assert_eq!(t.selected_fields(), 1);
    }

    #[test]
    fn a_rebuilt_tree_keeps_open_objects_and_the_cursor() {
        let mut t = tree(&[]);
        t.move_by(1);
        t.expand();
        t.move_by(2);
        let before = cursor_name(&t);
        let rows = t.visible_len();
        let state = t.view_state();
        let mut rebuilt = FieldTree::new(t.schema().clone(), &Selection::new());
        rebuilt.restore_view(&state);
        assert_eq!(cursor_name(&rebuilt), before);
        assert_eq!(rebuilt.visible_len(), rows);
    }

    #[test]
    fn an_empty_org_is_harmless() {
        let mut t = FieldTree::new(Arc::new(OrgSchema::default()), &Selection::new());
        t.move_by(3);
        t.expand();
        t.collapse();
        assert_eq!(t.toggle_at_cursor(), Toggle::Nothing);
        t.set_query("x");
        assert!(!t.jump_to_match(true));
        assert_eq!(t.select_visible_matches(), 0);
        assert!(t.selection().is_empty());
    }

    #[test]
    fn selections_on_objects_not_described_yet_survive() {
        let mut org = schema();
        let contact = org
            .objects
            .iter_mut()
            .find(|o| o.name == "Contact")
            .unwrap();
        contact.fields.clear();
        let mut saved = Selection::new();
        saved.insert("Contact", "Email");
        saved.insert("Account", "Name");
        let mut t = FieldTree::new(Arc::new(org), &saved);
        assert_eq!(t.changes(), (0, 0));
        assert_eq!(t.selected_fields(), 2);
        assert_eq!(t.selected_objects(), 2);
        t.move_by(1); // Contact
        assert_eq!(t.toggle_at_cursor(), Toggle::NotLoaded("Contact".into()));
        assert!(t.selection().contains("Contact", "Email"));
    }
}
