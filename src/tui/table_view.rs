//! Which sources the Data Sources table shows, and in what order: the `/` filter and
//! the `o` sort. Pure functions over the snapshot; the app keeps the state.

use tui_input::Input;

use crate::model::{SourceSnapshot, Status};

/// The table's order; `o` cycles through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// As in config.toml.
    #[default]
    Config,
    Name,
    /// Problems first: Error, Not Connected, Setting Up, Not Syncing, Active.
    Status,
    /// Least recently synced first (never-synced sources lead).
    LastSync,
}

impl SortKey {
    pub fn next(self) -> Self {
        match self {
            SortKey::Config => SortKey::Name,
            SortKey::Name => SortKey::Status,
            SortKey::Status => SortKey::LastSync,
            SortKey::LastSync => SortKey::Config,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Config => "config order",
            SortKey::Name => "name",
            SortKey::Status => "status",
            SortKey::LastSync => "last sync",
        }
    }
}

/// The `/` filter: text typed so far and whether it still has the keyboard.
#[derive(Debug, Clone, Default)]
pub struct TableFilter {
    pub input: Input,
    pub editing: bool,
}

impl TableFilter {
    pub fn text(&self) -> &str {
        self.input.value()
    }
}

fn status_rank(status: &Status) -> u8 {
    match status {
        Status::Error(_) => 0,
        Status::NotConnected => 1,
        Status::SettingUp => 2,
        Status::NotSyncing => 3,
        Status::Active => 4,
    }
}

/// Whether `source` matches `filter`: every word of it, case-insensitively, in the
/// name, id, kind or status label.
pub fn matches(source: &SourceSnapshot, filter: &str) -> bool {
    let haystack = format!(
        "{} {} {} {}",
        source.name,
        source.id,
        source.kind,
        source.status.label()
    )
    .to_lowercase();
    filter
        .split_whitespace()
        .all(|word| haystack.contains(&word.to_lowercase()))
}

/// Indices into `sources` of the rows shown, in display order.
pub fn visible(sources: &[SourceSnapshot], filter: &str, sort: SortKey) -> Vec<usize> {
    let mut rows: Vec<usize> = (0..sources.len())
        .filter(|i| matches(&sources[*i], filter))
        .collect();
    match sort {
        SortKey::Config => {}
        SortKey::Name => rows.sort_by_key(|i| sources[*i].name.to_lowercase()),
        SortKey::Status => rows.sort_by_key(|i| status_rank(&sources[*i].status)),
        SortKey::LastSync => {
            rows.sort_by_key(|i| sources[*i].last_run.as_ref().map(|r| r.finished))
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::fake;

    fn names(rows: &[usize], sources: &[SourceSnapshot]) -> Vec<String> {
        rows.iter().map(|i| sources[*i].id.clone()).collect()
    }

    #[test]
    fn filter_matches_every_word_anywhere() {
        let sources = fake::sources();
        assert_eq!(
            names(&visible(&sources, "acme", SortKey::Config), &sources),
            ["acme"]
        );
        assert_eq!(
            names(&visible(&sources, "NOT syncing", SortKey::Config), &sources).len(),
            1
        );
        assert!(visible(&sources, "zzz", SortKey::Config).is_empty());
        assert_eq!(visible(&sources, "", SortKey::Config).len(), sources.len());
    }

    #[test]
    fn sorts_cycle_and_order_rows() {
        let sources = fake::sources();
        let by_status = visible(&sources, "", SortKey::Status);
        assert!(matches!(sources[by_status[0]].status, Status::Error(_)));
        let by_name = names(&visible(&sources, "", SortKey::Name), &sources);
        let mut sorted = by_name.clone();
        sorted.sort_by_key(|id| {
            sources
                .iter()
                .find(|s| &s.id == id)
                .map(|s| s.name.to_lowercase())
        });
        assert_eq!(by_name, sorted);
        let mut key = SortKey::Config;
        for _ in 0..4 {
            key = key.next();
        }
        assert_eq!(key, SortKey::Config);
    }
}
