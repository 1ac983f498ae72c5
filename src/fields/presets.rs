//! Data presets by business focus, embedded from `assets/presets.toml`.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::{FieldRef, FieldsError, Selection, closest};
use crate::model::OrgSchema;

const PRESETS_TOML: &str = include_str!("../../assets/presets.toml");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preset {
    pub name: String,
    pub description: String,
    pub fields: Vec<PresetField>,
}

/// One suggested field, `Object.Field`, with why it is suggested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresetField {
    pub field: String,
    pub reason: String,
}

impl PresetField {
    pub fn object(&self) -> &str {
        self.split().0
    }

    pub fn field_name(&self) -> &str {
        self.split().1
    }

    fn split(&self) -> (&str, &str) {
        self.field.split_once('.').unwrap_or((&self.field, ""))
    }
}

/// What applying a preset to an org gives: the new selection and the suggested fields the
/// org does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresetOutcome {
    pub selection: Selection,
    pub missing: Vec<FieldRef>,
}

#[derive(Deserialize)]
struct PresetsFile {
    preset: Vec<Preset>,
}

/// The embedded presets, parsed once.
pub fn presets() -> Result<&'static [Preset], FieldsError> {
    static PARSED: OnceLock<Result<Vec<Preset>, String>> = OnceLock::new();
    PARSED
        .get_or_init(|| parse(PRESETS_TOML))
        .as_deref()
        .map_err(|e| FieldsError::BadPresets(e.clone()))
}

fn parse(text: &str) -> Result<Vec<Preset>, String> {
    let file: PresetsFile = toml::from_str(text).map_err(|e| e.to_string())?;
    for preset in &file.preset {
        for f in &preset.fields {
            let (object, field) = f.split();
            if object.is_empty() || field.is_empty() {
                return Err(format!(
                    "preset {}: \"{}\" is not Object.Field",
                    preset.name, f.field
                ));
            }
        }
    }
    Ok(file.preset)
}

impl Preset {
    /// Find a preset by name, ignoring case; an unknown name is an error naming the closest.
    pub fn find(name: &str) -> Result<&'static Preset, FieldsError> {
        let all = presets()?;
        all.iter()
            .find(|p| p.name.eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| FieldsError::UnknownPreset {
                name: name.to_string(),
                closest: closest(name, all.iter().map(|p| p.name.as_str())),
                available: all
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The preset's fields that exist in this org (with their bookkeeping fields), replacing
    /// any previous selection; fields the org lacks are listed in `missing`.
    pub fn apply(&self, schema: &OrgSchema) -> PresetOutcome {
        let mut wanted = Selection::new();
        for f in &self.fields {
            wanted.insert(f.object(), f.field_name());
        }
        let (present, missing) = wanted.split_missing(schema);
        PresetOutcome {
            selection: present.normalized(schema),
            missing,
        }
    }

    pub fn reason(&self, object: &str, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.object() == object && f.field_name() == field)
            .map(|f| f.reason.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::test_schema::schema;

    #[test]
    fn embedded_presets_are_complete() {
        let all = presets().unwrap();
        let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
        for wanted in [
            "Sales",
            "Marketing",
            "Customer Success",
            "Partnerships",
            "Minimal",
        ] {
            assert!(names.contains(&wanted), "missing preset {wanted}");
        }
        for p in all {
            assert!(
                !p.description.trim().is_empty(),
                "{} has no description",
                p.name
            );
            assert!(!p.fields.is_empty());
            for f in &p.fields {
                assert!(
                    !f.reason.trim().is_empty(),
                    "{}: {} has no reason",
                    p.name,
                    f.field
                );
            }
        }
    }

    #[test]
    fn find_ignores_case_and_suggests_on_typos() {
        assert_eq!(Preset::find("sales").unwrap().name, "Sales");
        let err = Preset::find("Marketting").unwrap_err();
        assert!(
            err.to_string().contains("did you mean \"Marketing\""),
            "{err}"
        );
    }

    #[test]
    fn applying_lists_missing_fields_instead_of_dropping_them() {
        let minimal = Preset::find("Minimal").unwrap();
        let outcome = minimal.apply(&schema());
        assert!(outcome.selection.contains("Account", "Website"));
        assert!(outcome.selection.contains("Account", "Id"));
        assert!(outcome.selection.contains("Opportunity", "StageName"));
        let missing: Vec<String> = outcome.missing.iter().map(ToString::to_string).collect();
        assert!(
            missing.contains(&"Account.OwnerId".to_string()),
            "{missing:?}"
        );
        assert!(missing.contains(&"Opportunity.CloseDate".to_string()));
        assert!(!outcome.selection.contains("Account", "OwnerId"));
    }

    #[test]
    fn malformed_preset_files_are_rejected() {
        let bad = "[[preset]]\nname='X'\ndescription='d'\nfields=[{field='NoDot', reason='r'}]";
        assert!(parse(bad).unwrap_err().contains("NoDot"));
    }
}
