//! The notes shown beside a field in the tree, the review and `fields list`.

use super::is_locked;
use crate::model::FieldSchema;

/// Most important first: what the operator cannot change, then what may surprise them.
pub fn badges(field: &FieldSchema) -> Vec<&'static str> {
    [
        (is_locked(&field.name), "locked"),
        (field.required, "required"),
        (field.formula, "formula: may go stale"),
        (field.compound, "compound"),
        (field.custom, "custom"),
        (!field.filterable, "not filterable"),
    ]
    .into_iter()
    .filter_map(|(on, badge)| on.then_some(badge))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::test_schema::field;

    #[test]
    fn lists_what_applies_in_order() {
        let mut f = field("Score__c", "double");
        f.formula = true;
        f.filterable = false;
        assert_eq!(
            badges(&f),
            ["formula: may go stale", "custom", "not filterable"]
        );
        assert_eq!(badges(&field("Id", "id")), ["locked"]);
    }
}
