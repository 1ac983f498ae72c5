//! What changes between two selections, per object, and which wanted fields the org lacks.

use std::fmt;

use serde::Serialize;

use super::{Selection, is_locked};

/// One field, named as `Object.Field`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct FieldRef {
    pub object: String,
    pub field: String,
}

impl FieldRef {
    pub fn new(object: &str, field: &str) -> Self {
        FieldRef {
            object: object.to_string(),
            field: field.to_string(),
        }
    }
}

impl fmt::Display for FieldRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.object, self.field)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ObjectDiff {
    pub object: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// `+added −removed` per object (only objects that change), plus the fields that were asked
/// for but do not exist in this org, so they are shown rather than silently dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SelectionDiff {
    pub objects: Vec<ObjectDiff>,
    pub missing: Vec<FieldRef>,
}

impl SelectionDiff {
    pub fn between(before: &Selection, after: &Selection) -> Self {
        let mut names: Vec<&str> = before.iter().chain(after.iter()).map(|(o, _)| o).collect();
        names.sort_unstable();
        names.dedup();
        let empty = Default::default();
        let objects = names
            .into_iter()
            .filter_map(|object| {
                let old = before.fields(object).unwrap_or(&empty);
                let new = after.fields(object).unwrap_or(&empty);
                // Bookkeeping fields come and go with their object: not changes of their own.
                let changed = |a: &std::collections::BTreeSet<String>, b| {
                    a.difference(b)
                        .filter(|f| !is_locked(f))
                        .cloned()
                        .collect::<Vec<_>>()
                };
                let added = changed(new, old);
                let removed = changed(old, new);
                (!added.is_empty() || !removed.is_empty()).then(|| ObjectDiff {
                    object: object.to_string(),
                    added,
                    removed,
                })
            })
            .collect();
        SelectionDiff {
            objects,
            missing: Vec::new(),
        }
    }

    pub fn with_missing(mut self, missing: Vec<FieldRef>) -> Self {
        self.missing = missing;
        self
    }

    pub fn added_count(&self) -> usize {
        self.objects.iter().map(|o| o.added.len()).sum()
    }

    pub fn removed_count(&self) -> usize {
        self.objects.iter().map(|o| o.removed.len()).sum()
    }

    /// True when nothing changes and nothing is missing.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty() && self.missing.is_empty()
    }

    pub fn object(&self, name: &str) -> Option<&ObjectDiff> {
        self.objects.iter().find(|o| o.object == name)
    }
}

impl fmt::Display for SelectionDiff {
    /// The plain-text diff `syncdeck fields ... --dry-run` prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "+{} −{}", self.added_count(), self.removed_count())?;
        for o in &self.objects {
            writeln!(f, "{}  +{} −{}", o.object, o.added.len(), o.removed.len())?;
            for a in &o.added {
                writeln!(f, "  + {a}")?;
            }
            for r in &o.removed {
                writeln!(f, "  - {r}")?;
            }
        }
        if !self.missing.is_empty() {
            writeln!(f, "not in this org ({}), skipped:", self.missing.len())?;
            for m in &self.missing {
                writeln!(f, "  ? {m}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::test_schema::selection as sel;

    #[test]
    fn lists_added_and_removed_per_changed_object() {
        let before = sel(&[
            ("Account", "Name"),
            ("Account", "Website"),
            ("Lead", "Email"),
        ]);
        let after = sel(&[
            ("Account", "Name"),
            ("Account", "Industry"),
            ("Contact", "Email"),
        ]);
        let diff = SelectionDiff::between(&before, &after);
        assert_eq!(diff.added_count(), 2);
        assert_eq!(diff.removed_count(), 2);
        let names: Vec<&str> = diff.objects.iter().map(|o| o.object.as_str()).collect();
        assert_eq!(names, ["Account", "Contact", "Lead"]);
        assert_eq!(diff.object("Account").unwrap().added, ["Industry"]);
        assert_eq!(diff.object("Account").unwrap().removed, ["Website"]);
        assert_eq!(diff.object("Lead").unwrap().removed, ["Email"]);
    }

    #[test]
    fn bookkeeping_fields_are_not_changes() {
        let before = sel(&[("Account", "Name")]);
        let after = sel(&[("Account", "Name"), ("Account", "Id"), ("Contact", "Id")]);
        assert!(SelectionDiff::between(&before, &after).is_empty());
    }

    #[test]
    fn identical_selections_have_an_empty_diff_but_missing_fields_show() {
        let s = sel(&[("Account", "Name")]);
        let diff = SelectionDiff::between(&s, &s);
        assert!(diff.is_empty());
        let diff = diff.with_missing(vec![FieldRef::new("Account", "Gone__c")]);
        assert!(!diff.is_empty());
        assert!(diff.to_string().contains("? Account.Gone__c"));
    }
}
