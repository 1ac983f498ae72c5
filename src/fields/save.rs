//! Writing a selection into the configuration file through the comment-preserving Editor.

use std::collections::BTreeSet;

use super::{FieldRef, Selection, SelectionDiff};
use crate::config::{EditError, Editor};

/// Stage the change from `before` to `after` for `source` in `editor`: only objects whose
/// fields change are rewritten; an object with no fields left is removed. Fields in `keep`
/// (e.g. saved fields this org does not have) stay in their object's list.
/// Returns how many objects were staged; call `editor.save()` to write them.
pub fn stage_selection(
    editor: &mut Editor,
    source: &str,
    before: &Selection,
    after: &Selection,
    keep: &[FieldRef],
) -> Result<usize, EditError> {
    let diff = SelectionDiff::between(before, after);
    for change in &diff.objects {
        let mut fields: BTreeSet<String> =
            after.fields(&change.object).cloned().unwrap_or_default();
        fields.extend(
            keep.iter()
                .filter(|k| k.object == change.object)
                .map(|k| k.field.clone()),
        );
        editor.set_object_fields(source, &change.object, fields.into_iter().collect())?;
    }
    Ok(diff.objects.len())
}
