//! Edit distance, to name the closest existing object or field when a name is mistyped.

/// The candidate nearest to `name` by case-insensitive Levenshtein distance (ties: first).
pub fn closest<'a, I>(name: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    let wanted = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&wanted, &c.to_lowercase()), c))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_nearest_candidate() {
        let names = ["Account", "Contact", "Opportunity"];
        assert_eq!(closest("Acount", names).as_deref(), Some("Account"));
        assert_eq!(closest("opportunty", names).as_deref(), Some("Opportunity"));
        assert_eq!(closest("x", std::iter::empty()), None);
        assert_eq!(
            closest("ACCOUNT", names).as_deref(),
            Some("Account"),
            "case is free"
        );
    }
}
