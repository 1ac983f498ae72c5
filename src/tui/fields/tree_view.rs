//! Draws the visible slice of the field tree: only the rows in the viewport are built.

use std::collections::BTreeSet;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::fuzzy::match_positions;
use super::style::{Theme, clean, display_width};
use super::tree::{Check, FieldTree, Row};
use crate::fields::badges;
use crate::model::{FieldSchema, ObjectSchema};
use crate::tui::keymap::{self, Action, Context};

const FIELD_PREFIX: usize = 8; // "    [x] "
const OBJECT_PREFIX: usize = 6; // "▸ [x] "

struct Columns {
    name: usize,
    label: usize,
    kind: usize,
}

impl Columns {
    /// API names are what the config takes, so their column fits the longest one shown
    /// (up to 43, Salesforce's longest) before labels and types get room; those are cut
    /// first when the screen is narrow.
    fn for_width(width: usize, longest_name: usize) -> Self {
        let avail = width.saturating_sub(FIELD_PREFIX + 3);
        let kind = if avail > 50 { 10 } else { 8 };
        let name = longest_name
            .max(avail * 32 / 100)
            .clamp(8, 43)
            .min(avail.saturating_sub(kind + 6).max(8));
        let label = (avail.saturating_sub(name + kind) * 60 / 100).clamp(6, 32);
        Columns { name, label, kind }
    }
}

pub(super) fn render(
    frame: &mut Frame,
    area: Rect,
    tree: &FieldTree,
    loading: &BTreeSet<String>,
    offset: usize,
    theme: &Theme,
) {
    let width = area.width as usize;
    let longest_name = tree
        .rows(offset, area.height as usize)
        .filter_map(|(_, row)| match row {
            Row::Field { field, .. } => Some(display_width(&clean(&field.name))),
            Row::Object { .. } => None,
        })
        .max()
        .unwrap_or(0);
    let columns = Columns::for_width(width, longest_name);
    let query = tree.query();
    let cursor = tree.cursor();
    let lines: Vec<Line> = tree
        .rows(offset, area.height as usize)
        .enumerate()
        .map(|(i, (node, row))| {
            let query = query.filter(|_| tree.is_match(node));
            let line = match row {
                Row::Object {
                    object,
                    expanded,
                    check,
                    chosen,
                    choosable,
                } => {
                    let count = object_count(object, chosen, choosable, loading);
                    let head = ObjectHead {
                        object,
                        expanded,
                        check,
                    };
                    object_line(head, count, query, &columns, width, theme)
                }
                Row::Field { field, check } => {
                    field_line(field, check, query, &columns, width, theme)
                }
            };
            if offset + i == cursor {
                line.style(theme.cursor)
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}

/// What an object row says after its name: its chosen count out of the fields it offers
/// (bookkeeping fields in neither, as in the header's total), or, for an object whose fields
/// are not here, whether they are loading and which key loads them. Without fields the
/// total is unknown: the saved selection's count is shown, never a meaningless `5/0`.
fn object_count(
    object: &ObjectSchema,
    chosen: u32,
    choosable: u32,
    loading: &BTreeSet<String>,
) -> String {
    let saved = if chosen > 0 {
        format!(" {chosen} selected ·")
    } else {
        String::new()
    };
    let load = || keymap::keys(Context::FieldsTree, Action::Expand);
    let loaded = !object.fields.is_empty();
    if !loaded && loading.contains(&object.name) {
        format!("{saved} loading fields…")
    } else if !loaded && object.load_error.is_some() {
        format!("{saved} fields failed to load · {} retries", load())
    } else if !loaded {
        format!("{saved} fields not loaded · {} loads", load())
    } else {
        format!(" {chosen}/{choosable} selected")
    }
}

struct ObjectHead<'a> {
    object: &'a ObjectSchema,
    expanded: bool,
    check: Check,
}

fn object_line<'a>(
    head: ObjectHead<'a>,
    count: String,
    query: Option<&[char]>,
    columns: &Columns,
    width: usize,
    theme: &Theme,
) -> Line<'a> {
    let mut spans = vec![Span::raw(format!(
        "{} {} ",
        if head.expanded { "▾" } else { "▸" },
        checkbox(head.check)
    ))];
    let room = width.saturating_sub(OBJECT_PREFIX + count.chars().count());
    let name_width = (columns.name + 2).min(room);
    let object = head.object;
    cell(
        &object.name,
        name_width,
        query,
        theme.title,
        theme.matched,
        &mut spans,
    );
    spans.push(Span::raw(" "));
    let label_width = room.saturating_sub(name_width + 1);
    cell(
        &object.label,
        label_width,
        query,
        theme.dim,
        theme.matched,
        &mut spans,
    );
    spans.push(Span::styled(count, theme.dim));
    Line::from(spans)
}

fn field_line<'a>(
    field: &'a FieldSchema,
    check: Check,
    query: Option<&[char]>,
    columns: &Columns,
    width: usize,
    theme: &Theme,
) -> Line<'a> {
    let mut spans = vec![Span::raw(format!("    {} ", checkbox(check)))];
    cell(
        &field.name,
        columns.name,
        query,
        Style::new(),
        theme.matched,
        &mut spans,
    );
    spans.push(Span::raw(" "));
    cell(
        &field.label,
        columns.label,
        query,
        theme.dim,
        theme.matched,
        &mut spans,
    );
    spans.push(Span::raw(" "));
    cell(
        &field.field_type,
        columns.kind,
        None,
        theme.dim,
        theme.dim,
        &mut spans,
    );
    spans.push(Span::raw(" "));
    let used = FIELD_PREFIX + columns.name + columns.label + columns.kind + 3;
    let badges = badges(field).join(" · ");
    cell(
        &badges,
        width.saturating_sub(used),
        None,
        theme.warn,
        theme.warn,
        &mut spans,
    );
    Line::from(spans)
}

fn checkbox(check: Check) -> &'static str {
    match check {
        Check::Off => "[ ]",
        Check::Partial => "[-]",
        Check::On => "[x]",
    }
}

/// Push `text` cleaned, cut or padded to exactly `width` columns (wide characters count
/// double), with the chars of a fuzzy match on `query` highlighted.
pub(super) fn cell(
    text: &str,
    width: usize,
    query: Option<&[char]>,
    base: Style,
    highlight: Style,
    spans: &mut Vec<Span<'_>>,
) {
    if width == 0 {
        return;
    }
    let text = clean(text);
    let fits = display_width(&text) <= width;
    let budget = if fits { width } else { width - 1 };
    let positions = query
        .and_then(|q| match_positions(q, &text))
        .unwrap_or_default();
    let mut next_hit = positions.iter().peekable();
    let mut used = 0;
    let mut run = String::new();
    let mut run_hit = false;
    for (i, (byte, c)) in text.char_indices().enumerate() {
        let w = display_width(&text[byte..byte + c.len_utf8()]);
        if used + w > budget {
            break;
        }
        used += w;
        let hit = next_hit.next_if(|&&p| p == i).is_some();
        if hit != run_hit && !run.is_empty() {
            let style = if run_hit { highlight } else { base };
            spans.push(Span::styled(std::mem::take(&mut run), style));
        }
        run_hit = hit;
        run.push(c);
    }
    if !fits {
        if run_hit {
            spans.push(Span::styled(std::mem::take(&mut run), highlight));
            run_hit = false;
        }
        run.push('…');
        used += 1;
    }
    run.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    spans.push(Span::styled(run, if run_hit { highlight } else { base }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(text: &str, width: usize) -> (String, usize) {
        let mut spans = Vec::new();
        cell(text, width, None, Style::new(), Style::new(), &mut spans);
        let s: String = spans.iter().map(|s| s.content.as_ref()).collect();
        let w = display_width(&s);
        (s, w)
    }

    #[test]
    fn pads_and_cuts_to_exact_columns() {
        assert_eq!(rendered("Name", 6), ("Name  ".to_string(), 6));
        assert_eq!(rendered("AnnualRevenue", 6), ("Annua…".to_string(), 6));
        assert_eq!(rendered("日本語テキスト", 6), ("日本… ".to_string(), 6));
        assert_eq!(rendered("x\u{1b}[2Jy", 8), ("x␛[2Jy  ".to_string(), 8));
    }

    #[test]
    fn highlights_the_matched_chars() {
        let mut spans = Vec::new();
        let bold = Style::new().add_modifier(ratatui::style::Modifier::BOLD);
        let query: Vec<char> = "nr".chars().collect();
        cell(
            "AnnualRevenue",
            20,
            Some(&query),
            Style::new(),
            bold,
            &mut spans,
        );
        let hits: Vec<&str> = spans
            .iter()
            .filter(|s| s.style == bold)
            .map(|s| s.content.as_ref())
            .collect();
        assert_eq!(hits, ["n", "R"]);
    }
}
