//! Field selection shared by the Edit Data Sync screen and `syncdeck fields`: which fields
//! of which objects to sync, Meltano-style patterns over them, data presets, diffs between
//! selections, and what a selection costs in API calls and time.

mod badges;
mod cost;
mod diff;
mod distance;
mod error;
mod glob;
mod presets;
mod save;
mod selection;
pub mod synthetic;

pub use badges::badges;
pub use cost::{CostEstimate, ObjectCost, RECORDS_PER_PAGE, ReadSettings, ReadVia, estimate_cost};
pub use diff::{FieldRef, ObjectDiff, SelectionDiff};
pub use distance::closest;
pub use error::FieldsError;
pub use glob::{Pattern, PatternSet};
pub use presets::{Preset, PresetField, PresetOutcome, presets};
pub use save::stage_selection;
pub use selection::{LOCKED_FIELDS, Selection, is_locked};

#[cfg(test)]
pub(crate) mod test_schema;
