//! Writing a selection into the configuration file through the comment-preserving Editor.

use std::collections::BTreeSet;

use super::{FieldRef, Selection, SelectionDiff, is_locked};
use crate::config::{EditError, Editor};

/// Stage the change from `before` to `after` for `source` in `editor`: only objects whose
/// fields change are rewritten; an object with no fields left is removed. Fields in `keep`
/// (e.g. saved fields this org does not have) stay in their object's list. Bookkeeping
/// fields are not written: the engine always reads them, and the file stays as people
/// write it.
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
        let mut fields: BTreeSet<String> = after
            .fields(&change.object)
            .into_iter()
            .flatten()
            .filter(|f| !is_locked(f))
            .cloned()
            .collect();
        fields.extend(
            keep.iter()
                .filter(|k| k.object == change.object)
                .map(|k| k.field.clone()),
        );
        editor.set_object_fields(source, &change.object, fields.into_iter().collect())?;
    }
    Ok(diff.objects.len())
}
