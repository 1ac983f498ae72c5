//! Salesforce API-name rules, shared by config validation and the SOQL builder (which must
//! never splice an unchecked name into a query).
//!
//! A name is `[namespace__]Base[__suffix]`: every part starts with a letter, holds only
//! ASCII letters, digits and single underscores, does not end with an underscore and is at
//! most 40 characters (namespace: 15). Double underscores appear only around the optional
//! namespace prefix and before one known suffix (`__c`, `__r`, `__mdt`, `__Latitude__s`...).

const MAX_PART: usize = 40;
const MAX_NAMESPACE: usize = 15;

/// Suffixes an object API name may carry (custom object, platform event, metadata type, ...).
const OBJECT_SUFFIXES: &[&str] = &[
    "c",
    "e",
    "mdt",
    "x",
    "b",
    "share",
    "history",
    "feed",
    "changeevent",
    "kav",
    "ka",
];
/// Suffixes a field API name may carry (custom field, relationship, person-account field).
const FIELD_SUFFIXES: &[&str] = &["c", "r", "pc"];
/// Components of a custom geolocation field: `Where__Latitude__s`.
const GEO_COMPONENTS: &[&str] = &["latitude", "longitude"];

/// Is `name` a syntactically valid Salesforce object API name (`Account`, `Invoice__c`,
/// `acme__Invoice__c`)?
pub fn is_valid_object_name(name: &str) -> bool {
    check_object_name(name).is_ok()
}

/// Is `name` a syntactically valid Salesforce field API name (`Name`, `Score__c`,
/// `acme__Score__c`, `Where__Latitude__s`)?
pub fn is_valid_field_name(name: &str) -> bool {
    check_field_name(name).is_ok()
}

/// Like [`is_valid_object_name`], saying what is wrong.
pub fn check_object_name(name: &str) -> Result<(), String> {
    check(name, OBJECT_SUFFIXES, false)
}

/// Like [`is_valid_field_name`], saying what is wrong.
pub fn check_field_name(name: &str) -> Result<(), String> {
    check(name, FIELD_SUFFIXES, true)
}

fn check(name: &str, suffixes: &[&str], geo: bool) -> Result<(), String> {
    if name.is_empty() {
        return Err("is empty".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(format!(
            "contains {c:?}; only letters, digits and underscores are allowed"
        ));
    }
    if name.ends_with('_') {
        return Err("ends with an underscore".into());
    }
    if name.contains("___") {
        return Err("contains three underscores in a row".into());
    }
    let parts: Vec<&str> = name.split("__").collect();
    let is_suffix = |p: &str| suffixes.iter().any(|s| s.eq_ignore_ascii_case(p));
    let is_geo = |p: &str| GEO_COMPONENTS.iter().any(|s| s.eq_ignore_ascii_case(p));
    // Split into (namespace, base) by the shape after the suffix is peeled off.
    let body: &[&str] = match parts.as_slice() {
        [base] => std::slice::from_ref(base),
        [rest @ .., s] if is_suffix(s) => rest,
        [rest @ .., g, s] if geo && s.eq_ignore_ascii_case("s") && is_geo(g) => rest,
        [.., s] => {
            return Err(format!(
                "has an unknown suffix \"__{s}\"; allowed: {}",
                suffixes
                    .iter()
                    .map(|s| format!("__{s}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        [] => return Err("is empty".into()),
    };
    let (namespace, base) = match body {
        [base] => (None, *base),
        [ns, base] => (Some(*ns), *base),
        _ => return Err("has too many double underscores".into()),
    };
    if let Some(ns) = namespace {
        check_part(ns, MAX_NAMESPACE, "namespace prefix")?;
    }
    check_part(base, MAX_PART, "name")
}

fn check_part(part: &str, max: usize, what: &str) -> Result<(), String> {
    if !part.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(format!("{what} must start with a letter"));
    }
    if part.len() > max {
        return Err(format!(
            "{what} is {} characters long; at most {max} are allowed",
            part.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_standard_custom_and_namespaced_names() {
        for ok in [
            "Account",
            "Invoice__c",
            "acme__Invoice__c",
            "Order_Event__e",
            "Setting__mdt",
            "AccountHistory",
        ] {
            assert!(is_valid_object_name(ok), "{ok}");
        }
        for ok in [
            "Id",
            "Name",
            "Score__c",
            "ns__Score__c",
            "Parent__r",
            "Where__Latitude__s",
            "Birth_Date__pc",
            "A2",
        ] {
            assert!(is_valid_field_name(ok), "{ok}");
        }
    }

    #[test]
    fn rejects_malformed_names_with_a_reason() {
        for bad in [
            "",
            "1Account",
            "Acc ount",
            "Account;DROP",
            "Foo_",
            "Foo__",
            "Foo___c",
            "a__b__c__c",
            "Foo__zz",
            "_Foo",
            "Foo__Latitude__s",
        ] {
            assert!(check_object_name(bad).is_err(), "{bad}");
        }
        let long = "A".repeat(41);
        assert!(check_field_name(&long).unwrap_err().contains("at most 40"));
        assert!(is_valid_field_name(&"A".repeat(40)));
        assert!(is_valid_field_name(&format!("{}__c", "A".repeat(40))));
        assert!(!is_valid_field_name("Where__Altitude__s"));
        assert!(
            check_field_name("Foo__zz")
                .unwrap_err()
                .contains("unknown suffix")
        );
    }
}
