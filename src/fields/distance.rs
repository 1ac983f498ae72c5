//! Edit distance, to name the closest existing object or field when a name is mistyped.

/// The candidate nearest to `name` by case-insensitive Levenshtein distance (ties: first).
pub fn closest<'a, I>(name: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    let wanted: Vec<char> = name.to_lowercase().chars().collect();
    candidates
        .into_iter()
        .map(|c| {
            (
                levenshtein(&wanted, &c.to_lowercase().chars().collect::<Vec<_>>()),
                c,
            )
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitution.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
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
    }

    #[test]
    fn distance_counts_edits() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(levenshtein(&c("kitten"), &c("sitting")), 3);
        assert_eq!(levenshtein(&c(""), &c("abc")), 3);
        assert_eq!(levenshtein(&c("same"), &c("same")), 0);
    }
}
